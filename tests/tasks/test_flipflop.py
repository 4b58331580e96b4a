"""Flip-flop targets against the definition: the sign of the last pulse on each channel."""

import numpy as np
import pytest

from neurodyn.tasks import FlipFlop
from neurodyn.tasks.flipflop import _draw_pulses, _draw_pulses_stepwise


def test_target_is_the_sign_of_the_last_pulse():
    task = FlipFlop(n_bits=3)
    b = task.batch(16, seed=0)
    assert np.all(np.isin(b.inputs, [-1.0, 0.0, 1.0]))
    assert b.variables["n_pulses"].sum() > 0
    for i in range(16):
        for k in range(3):
            last = 0.0
            for t in range(b.lengths[i]):
                u = b.inputs[i, t, k]
                pulse_step = u != 0
                if pulse_step:
                    last = u
                    # The mask is off while the network switches.
                    assert b.mask[i, t, k] == 0
                if last == 0:
                    assert b.mask[i, t, k] == 0  # nothing to remember yet
                elif not pulse_step:
                    assert b.mask[i, t, k] == 1
                    assert b.targets[i, t, k] == last


@pytest.mark.parametrize("seed", range(6))
def test_the_pulses_drawn_at_once_are_the_step_by_step_draws(seed):
    # The same pulses, and the generator left where one draw per step leaves it (the
    # next trial's draws depend on that), over pulse lengths and rates from none to a
    # pulse at every free step.
    params = np.random.default_rng(100 + seed)
    for _ in range(40):
        n_bits, n_steps = int(params.integers(1, 5)), int(params.integers(1, 120))
        pulse, p = int(params.integers(1, 6)), float(params.choice([0.0, 0.01, 0.2, 0.7, 1.0]))
        fast_rng, slow_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        fast = _draw_pulses(fast_rng, n_bits, n_steps, pulse, p)
        slow = _draw_pulses_stepwise(slow_rng, n_bits, n_steps, pulse, p)
        assert fast == slow
        assert fast_rng.bit_generator.state == slow_rng.bit_generator.state


def test_a_generator_that_cannot_be_advanced_draws_step_by_step():
    a = np.random.Generator(np.random.MT19937(3))
    b = np.random.Generator(np.random.MT19937(3))
    assert _draw_pulses(a, 3, 50, 3, 0.1) == _draw_pulses_stepwise(b, 3, 50, 3, 0.1)
    assert a.random() == b.random()
