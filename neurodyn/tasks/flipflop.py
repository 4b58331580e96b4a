"""The N-bit flip-flop task (Sussillo & Barak, 2013)."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive
from .base import Batch, Task, TrialBuilder

__all__ = ["FlipFlop"]


def _draw_pulses(rng, n_bits, n_steps, pulse, p_onset) -> list[list[tuple[int, float]]]:
    r"""The pulses of one flip-flop trial: ``(onset step, sign)`` per channel.

    Channel by channel, at every step :math:`t` not covered by a pulse, one uniform
    draw :math:`U < p` starts a pulse there, a second draw gives its sign (+1 when
    below 1/2), and the next ``pulse`` steps are covered (no draws); otherwise the next
    step is free. The draws come from ``rng`` in exactly that order.

    With a PCG64 generator (numpy's default), which can be advanced by a number of
    draws, the draws of the whole trial are made at once and the generator is then put
    where the step-by-step process leaves it: the same pulses and the same state
    afterwards, for one array of draws instead of one Python call per step. Other
    generators draw step by step.

    Parameters
    ----------
    rng : numpy.random.Generator
        The trial's generator.
    n_bits : int
        Channels.
    n_steps : int
        Steps of the trial.
    pulse : int
        Steps of one pulse (at least 1).
    p_onset : float
        Probability that a pulse starts at a free step, in [0, 1].

    Returns
    -------
    list of list of (int, float)
        For each channel, its pulses in time order.
    """
    bits = rng.bit_generator
    if not isinstance(bits, (np.random.PCG64, np.random.PCG64DXSM)):
        return _draw_pulses_stepwise(rng, n_bits, n_steps, pulse, p_onset)
    # At most one draw per step plus one per pulse (a pulse covers >= 1 step).
    start = bits.state
    draws = rng.random(n_bits * (2 * n_steps + 1))
    onsets = np.flatnonzero(draws < p_onset)
    out, i = [], 0  # i: the next draw the step-by-step process would make
    for _ in range(n_bits):
        pulses, t = [], 0
        while t < n_steps:
            n = np.searchsorted(onsets, i)
            if n == len(onsets) or t + (onsets[n] - i) >= n_steps:  # no more pulses
                i += n_steps - t
                break
            j = int(onsets[n])
            t += j - i
            pulses.append((t, 1.0 if draws[j + 1] < 0.5 else -1.0))
            i, t = j + 2, min(t + pulse, n_steps)
        out.append(pulses)
    bits.state = start
    bits.advance(i)  # one 64-bit output per double drawn
    return out


def _draw_pulses_stepwise(rng, n_bits, n_steps, pulse, p_onset):
    """:func:`_draw_pulses` one draw at a time: its reference, and its path for a
    generator that cannot be advanced."""
    out = []
    for _ in range(n_bits):
        pulses, t = [], 0
        while t < n_steps:
            if rng.random() < p_onset:
                pulses.append((t, 1.0 if rng.random() < 0.5 else -1.0))
                t = min(t + pulse, n_steps)
            else:
                t += 1
        out.append(pulses)
    return out


class FlipFlop(Task):
    r"""N-bit flip-flop: each output holds the sign of the last pulse on its input.

    Each of the ``n_bits`` input channels receives brief pulses of amplitude +1 or
    -1 at random times (a Poisson process of rate ``pulse_rate`` per second, pulses
    ``pulse_ms`` long and never overlapping on one channel). Output channel *k* must
    hold the sign of the most recent pulse on input *k*:

    .. math:: y^*_k(t) = \operatorname{sign} u_k(t_k^{\text{last}}),

    the canonical memory task for fixed-point analysis: a trained network has
    :math:`2^N` stable fixed points, one per stored pattern.

    The loss mask is zero for channel *k* before its first pulse (nothing to
    remember yet) and during each of its pulses (the network is switching), so a
    network is scored on what it holds, not on how instantly it flips.

    Parameters
    ----------
    n_bits : int
        Number of independent bits (default 3).
    pulse_rate : float
        Expected pulses per second on each channel (default 4).
    pulse_ms : float
        Duration of one pulse in ms (default 30).
    timing : dict
        ``{"trial": duration}``: trial length in ms (default 1000).

    Trial variables
    ---------------
    n_pulses : total number of pulses over all channels.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks import FlipFlop
    >>> task = FlipFlop(n_bits=3, timing={"trial": 500})
    >>> batch = task.batch(8, seed=0)
    >>> batch.inputs.shape, sorted(np.unique(batch.inputs).tolist())
    ((8, 50, 3), [-1.0, 0.0, 1.0])

    The oracle carries each channel's last pulse forward; it matches the targets
    wherever they are scored, and outputs of the opposite sign fail every trial:

    >>> y = task.oracle(batch)
    >>> bool(np.all((y == batch.targets) | (batch.mask == 0)))
    True
    >>> same, flipped = task.evaluate(y, batch), task.evaluate(-y, batch)
    >>> bool(same["correct"].all()), bool(flipped["correct"].any())
    (True, False)
    """

    name = "flip_flop"
    description = "N-bit flip-flop: hold the sign of the last pulse on each channel"
    metadata = {
        "paper": "Sussillo & Barak (2013). Opening the black box: low-dimensional dynamics "
        "in high-dimensional recurrent neural networks. Neural Computation 25(3).",
        "link": "https://doi.org/10.1162/NECO_a_00409",
        "tags": ("working memory", "fixed points"),
    }
    default_dt = 10.0
    default_timing = {"trial": 1000.0}
    default_params = {"n_bits": 3, "pulse_rate": 4.0, "pulse_ms": 30.0}

    def _validate(self) -> None:
        check_int("n_bits", self.params["n_bits"])
        check_positive("pulse_rate", self.params["pulse_rate"], allow_zero=True)
        check_positive("pulse_ms", self.params["pulse_ms"])

    @property
    def input_names(self):
        return tuple(f"bit{k}" for k in range(self.params["n_bits"]))

    @property
    def output_names(self):
        return tuple(f"bit{k}" for k in range(self.params["n_bits"]))

    def sample_variables(self, rng):
        return {"trial_ms": self.duration("trial", rng)}

    def build_trial(self, trial: TrialBuilder, v, rng):
        trial.add_period("trial", v["trial_ms"])
        n_steps, n_bits = trial.n_steps, self.params["n_bits"]
        pulse = max(int(round(self.params["pulse_ms"] / self.dt)), 1)
        p_onset = min(self.params["pulse_rate"] * self.dt / 1000.0, 1.0)
        n_pulses = 0
        for k, pulses in enumerate(_draw_pulses(rng, n_bits, n_steps, pulse, p_onset)):
            trial.mask[: pulses[0][0] if pulses else n_steps, k] = 0.0  # nothing held yet
            for t, sign in pulses:
                end = min(t + pulse, n_steps)
                trial.inputs[t:end, k] = sign
                trial.mask[t:end, k] = 0.0
                trial.targets[t:, k] = sign
            n_pulses += len(pulses)
        v["n_pulses"] = n_pulses

    def oracle(self, batch: Batch) -> np.ndarray:
        # Carry the last non-zero input sign forward in time, channel by channel.
        u = batch.inputs
        out = np.zeros_like(batch.targets)
        state = np.zeros((u.shape[0], u.shape[2]), dtype=u.dtype)
        for t in range(u.shape[1]):
            nz = u[:, t] != 0
            state = np.where(nz, np.sign(u[:, t]), state)
            out[:, t] = state
        return out

    def evaluate(self, outputs, batch: Batch):
        """A trial is correct when every scored output has the target's sign.

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            ``correct`` (bool, shape (trial,)): every scored output has the sign of
            its target; ``mse`` (shape (trial,)): the masked mean squared error.
        """
        scored = batch.mask > 0
        agree = np.sign(outputs) == np.sign(batch.targets)
        correct = np.all(agree | ~scored, axis=(1, 2))
        err = ((outputs - batch.targets) ** 2 * batch.mask).sum(axis=(1, 2))
        mse = err / np.maximum(batch.mask.sum(axis=(1, 2)), 1)
        return {"correct": correct, "mse": mse}
