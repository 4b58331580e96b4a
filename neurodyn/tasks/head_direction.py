r"""Angular-velocity integration: the head-direction task, whose solution is a ring attractor."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_fraction, check_positive
from ._common import check_timing, draw_durations, lay_out
from .base import Batch, Task, TrialBuilder

__all__ = ["HeadDirection"]


def _wrap(angle):
    """Angles folded into (-π, π]."""
    return np.pi - np.mod(np.pi - np.asarray(angle, dtype=float), 2.0 * np.pi)


class HeadDirection(Task):
    r"""Integrate angular velocity into a heading, and hold it when still.

    A cue gives the initial heading :math:`\theta_0` as :math:`(\cos\theta_0,
    \sin\theta_0)` during the ``cue`` period. During ``move`` the input is the angular
    velocity :math:`\omega(t)` (radians per second), and the output must be the heading

    .. math:: \theta(t) = \theta_0 + \sum_{j \le t} \omega_j\, \frac{dt}{1000},

    as :math:`(\cos\theta, \sin\theta)` at every step (during the cue, the cued heading).
    The velocity comes in bouts: each step starts a new bout with probability
    :math:`dt / T_{\text{bout}}`; a bout is still (:math:`\omega = 0`) with probability
    ``p_still``, else turns at a velocity drawn from :math:`\mathcal N(0, \sigma_\omega^2)`.
    Holding the heading through still bouts, and moving it at the right speed otherwise,
    asks for a ring of states, one per heading, along which velocity moves the state and
    nothing else does: a ring attractor (Skaggs, Knierim, Kudrimoti & McNaughton 1995;
    Zhang 1996), which networks trained on this task find (Cueva, Wang, Chin & Wei
    2020).

    Channels
    --------
    inputs : ``cue_cos``, ``cue_sin``, ``velocity`` (rad/s)
    outputs : ``cos``, ``sin`` (MSE)

    Parameters
    ----------
    sigma_velocity : float
        Standard deviation of a turning bout's velocity, rad/s (default 1.5).
    bout_ms : float
        Mean duration of a bout (default 250 ms).
    p_still : float
        Probability that a bout is still (default 0.3).
    tolerance_deg : float
        Largest angular error (degrees) of the output at the end of a correct trial
        (default 15).
    timing : dict
        ``cue`` (100 ms), ``move`` (2000 ms).

    Trial variables
    ---------------
    theta0 : the cued heading (radians, uniform in [-π, π)).
    cue_ms, move_ms : period durations.
    final : derived, the heading at the end of the trial, in (-π, π].

    Evaluation
    ----------
    The output's heading is :math:`\operatorname{atan2}(\sin, \cos)`; ``error_deg`` is its
    mean absolute difference from the target heading over the scored steps,
    ``final_error_deg`` the same on the last step, and ``correct`` is
    ``final_error_deg <= tolerance_deg``. The oracle is the target.

    Examples
    --------
    Still throughout (``p_still=1``), the heading stays the cued one:

    >>> b = HeadDirection(p_still=1.0).batch(1, seed=0, theta0=0.5)
    >>> np.round(b.targets[0, -1].astype(float), 4).tolist(), float(b.variables["final"][0])
    ([0.8776, 0.4794], 0.5)
    """

    name = "head_direction"
    description = "Head direction: integrate angular velocity into a heading and hold it"
    metadata = {
        "paper": "Cueva, Wang, Chin & Wei (2020). Emergence of functional and structural "
        "properties of the head direction system by optimization of recurrent neural "
        "networks. ICLR 2020.",
        "link": "https://openreview.net/forum?id=HklSeREtPB",
        "tags": ("integration", "ring attractor", "navigation"),
    }
    default_dt = 20.0
    default_timing = {"cue": 100.0, "move": 2000.0}
    default_params = {
        "sigma_velocity": 1.5,
        "bout_ms": 250.0,
        "p_still": 0.3,
        "tolerance_deg": 15.0,
    }
    _periods = ("cue", "move")

    def _validate(self) -> None:
        check_positive("sigma_velocity", self.params["sigma_velocity"], allow_zero=True)
        check_positive("bout_ms", self.params["bout_ms"])
        check_fraction("p_still", self.params["p_still"], low_open=False)
        check_positive("tolerance_deg", self.params["tolerance_deg"])
        check_timing(self)

    @property
    def input_names(self):
        return ("cue_cos", "cue_sin", "velocity")

    @property
    def output_names(self):
        return ("cos", "sin")

    def sample_variables(self, rng):
        return {"theta0": float(rng.uniform(-math.pi, math.pi)),
                **draw_durations(self, rng, self._periods)}  # fmt: skip

    def build_trial(self, trial: TrialBuilder, v, rng):
        theta0 = float(v["theta0"])
        if not np.isfinite(theta0):
            raise ValueError(f"theta0 must be finite, got {v['theta0']!r}")
        lay_out(trial, v, self._periods)
        trial.set_input("cue_cos", math.cos(theta0), "cue")
        trial.set_input("cue_sin", math.sin(theta0), "cue")
        move = trial.steps("move")
        n = move.stop - move.start
        p_new = min(1.0, self.dt / self.params["bout_ms"])
        # One draw per step for the bout starts, then per bout one for stillness and one
        # for the velocity: a fixed number of draws per step keeps streams comparable.
        new = rng.random(n) < p_new
        if n:
            new[0] = True
        bout = np.cumsum(new) - 1
        n_bouts = int(bout[-1]) + 1 if n else 0
        still = rng.random(n_bouts) < self.params["p_still"]
        speed = np.where(still, 0.0, self.params["sigma_velocity"] * rng.standard_normal(n_bouts))
        trial.inputs[move, 2] = speed[bout].astype(np.float32)
        # The heading integrates the float32 velocity the network sees.
        theta = theta0 + np.cumsum(trial.inputs[:, 2].astype(np.float64)) * self.dt / 1000.0
        trial.targets[:, 0] = np.cos(theta)
        trial.targets[:, 1] = np.sin(theta)
        v["final"] = float(_wrap(theta[-1])) if trial.n_steps else float(_wrap(theta0))

    def oracle(self, batch: Batch) -> np.ndarray:
        return (batch.targets * batch.valid()[..., None]).astype(np.float32)

    def evaluate(self, outputs, batch: Batch):
        """``error_deg``, ``final_error_deg`` and ``correct``.

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, 2)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            One array of shape (trial,) per score (see *Evaluation* in the class
            description).
        """
        out = np.asarray(outputs, dtype=float)
        target = np.arctan2(batch.targets[..., 1], batch.targets[..., 0])
        error = np.degrees(np.abs(_wrap(np.arctan2(out[..., 1], out[..., 0]) - target)))
        scored = batch.mask[..., 0] > 0
        mean = np.where(scored, error, 0.0).sum(1) / np.maximum(scored.sum(1), 1)
        final = error[np.arange(batch.n_trials), np.asarray(batch.lengths) - 1]
        return {"error_deg": mean, "final_error_deg": final,
                "correct": final <= self.params["tolerance_deg"]}  # fmt: skip
