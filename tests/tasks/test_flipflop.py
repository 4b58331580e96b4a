"""Flip-flop targets against the definition: the sign of the last pulse on each channel."""

import numpy as np

from neurodyn.tasks import FlipFlop


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
