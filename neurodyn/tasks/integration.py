"""White-noise integration: report the running integral of a noisy input."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_positive
from ._common import check_timing, draw_durations, lay_out
from .base import Batch, Task, TrialBuilder

__all__ = ["WhiteNoiseIntegration"]


class WhiteNoiseIntegration(Task):
    r"""Integrate a noisy scalar input and hold the result.

    During the ``stimulus`` period the input is white noise around a per-trial mean
    :math:`\mu`,

    .. math:: u_k = \mu + \frac{\sigma}{\sqrt{dt}}\,\xi_k, \qquad \xi_k \sim \mathcal N(0, 1),

    and the target is the running integral of the input actually shown, normalised
    by ``norm_ms``,

    .. math:: y^*_k = \frac{1}{T_{\text{norm}}} \sum_{j \le k} u_j\, dt,

    which in the ``post`` period (input 0) is held at its final value. With the
    default ``norm_ms`` equal to the default stimulus duration the final value is
    :math:`\mu` plus a noise term of standard deviation :math:`\sigma/\sqrt{T}`
    (about 0.06 with the defaults), whatever ``dt`` is. A perfect integrator — a line
    attractor — solves it exactly; every step is scored.

    Channels
    --------
    inputs : ``stimulus``
    outputs : ``integral`` (MSE)

    Parameters
    ----------
    mu_range : (float, float)
        :math:`\mu` is drawn uniformly from this interval (default (-1, 1)).
    sigma : float
        Noise per :math:`\sqrt{\text{ms}}` (default 2).
    norm_ms : float
        Normalising time :math:`T_{\text{norm}}` (default 1000 ms).
    tolerance : float
        Largest root-mean-square error over the scored steps of a correct trial
        (default 0.1).
    timing : dict
        ``stimulus`` (1000 ms), ``post`` (500 ms).

    Trial variables
    ---------------
    mu : the input mean.
    stimulus_ms, post_ms : period durations.
    final : derived, the target at the end of the trial (the normalised integral).

    Evaluation
    ----------
    ``rmse`` over the scored steps, ``final_error`` (output minus target on the last
    step) and ``correct`` (``rmse <= tolerance``). The oracle integrates the inputs.

    Examples
    --------
    >>> b = WhiteNoiseIntegration(sigma=0.0).batch(1, seed=0, mu=0.5)
    >>> round(float(b.targets[0, -1, 0]), 6)
    0.5
    """

    name = "integration"
    description = "White-noise integration: output the running integral of a noisy input"
    metadata = {
        "paper": "Seung (1996). How the brain keeps the eyes still. PNAS 93(23), 13339-13344.",
        "link": "https://doi.org/10.1073/pnas.93.23.13339",
        "tags": ("integration", "line attractor"),
    }
    default_dt = 10.0
    default_timing = {"stimulus": 1000.0, "post": 500.0}
    default_params = {"mu_range": (-1.0, 1.0), "sigma": 2.0, "norm_ms": 1000.0, "tolerance": 0.1}
    _periods = ("stimulus", "post")

    def _validate(self) -> None:
        r = self.params["mu_range"]
        try:
            low, high = (float(x) for x in r)
        except (TypeError, ValueError):
            low, high = math.nan, math.nan
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(f"mu_range must be a pair (low, high) with low <= high, got {r!r}")
        check_positive("sigma", self.params["sigma"], allow_zero=True)
        check_positive("norm_ms", self.params["norm_ms"])
        check_positive("tolerance", self.params["tolerance"])
        check_timing(self)

    @property
    def input_names(self):
        return ("stimulus",)

    @property
    def output_names(self):
        return ("integral",)

    def sample_variables(self, rng):
        low, high = self.params["mu_range"]
        return {"mu": float(rng.uniform(low, high)), **draw_durations(self, rng, self._periods)}

    def build_trial(self, trial: TrialBuilder, v, rng):
        mu = float(v["mu"])
        if not np.isfinite(mu):
            raise ValueError(f"mu must be finite, got {v['mu']!r}")
        lay_out(trial, v, self._periods)
        stim = trial.steps("stimulus")
        n = stim.stop - stim.start
        noise = self.params["sigma"] / math.sqrt(self.dt) * rng.standard_normal(n)
        trial.inputs[stim, 0] = (mu + noise).astype(np.float32)
        # Integrate the float32 input the network sees, so the oracle can be exact.
        integral = np.cumsum(trial.inputs[:, 0].astype(np.float64)) * self.dt
        trial.targets[:, 0] = integral / self.params["norm_ms"]
        v["final"] = float(trial.targets[-1, 0]) if trial.n_steps else 0.0

    def oracle(self, batch: Batch) -> np.ndarray:
        integral = np.cumsum(batch.inputs[:, :, 0].astype(np.float64), axis=1) * batch.dt
        out = (integral / self.params["norm_ms"]) * batch.valid()
        return out[:, :, None].astype(np.float32)

    def evaluate(self, outputs, batch: Batch):
        """``rmse``, ``final_error`` and ``correct`` (``rmse <= tolerance``).

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            One array of shape (trial,) per score (see *Evaluation* in the class
            description).
        """
        outputs = np.asarray(outputs)
        err = (outputs - batch.targets) ** 2 * batch.mask
        rmse = np.sqrt(err.sum(axis=(1, 2)) / np.maximum(batch.mask.sum(axis=(1, 2)), 1))
        last = np.maximum(batch.lengths - 1, 0)
        rows = np.arange(batch.n_trials)
        final_error = outputs[rows, last, 0] - batch.targets[rows, last, 0]
        return {
            "correct": rmse <= self.params["tolerance"],
            "rmse": rmse,
            "final_error": final_error,
        }
