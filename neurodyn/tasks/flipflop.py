"""The N-bit flip-flop task (Sussillo & Barak, 2013)."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive
from .base import Batch, Task, TrialBuilder

__all__ = ["FlipFlop"]


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
        for k in range(n_bits):
            state = 0.0
            t = 0
            while t < n_steps:
                if rng.random() < p_onset:
                    sign = 1.0 if rng.random() < 0.5 else -1.0
                    end = min(t + pulse, n_steps)
                    trial.inputs[t:end, k] = sign
                    trial.mask[t:end, k] = 0.0
                    trial.targets[t:, k] = sign
                    state = sign
                    n_pulses += 1
                    t = end
                    continue
                if state == 0.0:
                    trial.mask[t, k] = 0.0
                t += 1
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
