"""Interval timing: Ready-Set-Go (Jazayeri & Shadlen 2010; Remington et al. 2018)."""

from __future__ import annotations

import numpy as np

from .._validation import check_fraction, check_positive
from ._common import check_timing, check_values, period_steps
from .base import Batch, Task, TrialBuilder

__all__ = ["ReadySetGo"]


class ReadySetGo(Task):
    r"""Ready-Set-Go: measure an interval between two flashes, reproduce it scaled by a gain.

    Two brief pulses, *Ready* and *Set*, are separated by the sample interval
    :math:`t_s`; a tonic input carries the gain :math:`g`. After Set the output must
    rise linearly and reach the threshold 1 exactly :math:`g\,t_s` later:

    .. math:: y^*(t) = \frac{t - t_{\text{set}}}{g\,t_s} \quad (t \ge t_{\text{set}}),
              \qquad y^*(t) = 0 \quad (t < t_{\text{set}}),

    with :math:`t` the start of a time step. The ramp continues past 1 for ``post``
    ms so that the threshold is crossed, not just approached, and every step is
    scored (before Set the output must stay at 0). The produced interval is the
    time from Set to the output's first crossing of 1 (linearly interpolated between
    steps).

    Periods ``fixation · ready · measure · set · production · post``: ``ready`` and
    ``set`` are the pulses (``pulse_ms``), ``ready`` onset to ``set`` onset is
    :math:`t_s` rounded to a whole number of steps, and ``production`` ends at
    :math:`t_{\text{set}} + g\,t_s` (rounded), the moment the threshold is due.

    Channels
    --------
    inputs : ``ready``, ``set`` (pulses of 1), ``gain`` (g on every step)
    outputs : ``ramp`` (MSE)

    Parameters
    ----------
    gains : sequence of float
        Gains drawn uniformly per trial (default 1 and 1.5, as in Remington et al.).
    pulse_ms : float
        Duration of the Ready and Set pulses (default 20 ms).
    tolerance : float
        Largest relative error :math:`|t_p - g t_s| / (g t_s)` of a correct trial
        (default 0.15).
    timing : dict
        ``fixation`` (200 ms), ``interval`` (the sample interval :math:`t_s`, default
        one of 480, 560, 640, 720, 800 ms), ``post`` (300 ms).

    Trial variables
    ---------------
    interval_ms : sample interval :math:`t_s` (ms, at least ``pulse_ms``).
    gain : the gain :math:`g`.
    fixation_ms, post_ms : period durations.

    Evaluation
    ----------
    ``produced_ms`` (NaN if the output never reaches 1 after Set), ``target_ms``
    (:math:`g t_s`), ``relative_error``, ``early`` (the output reached 1 before Set)
    and ``correct`` (not early and relative error within ``tolerance``).

    Examples
    --------
    >>> task = ReadySetGo()
    >>> b = task.batch(1, seed=0, interval_ms=600.0, gain=1.5)
    >>> round(float(task.evaluate(task.oracle(b), b)["produced_ms"][0]), 3)
    900.0
    """

    name = "ready_set_go"
    description = "Ready-Set-Go: reproduce a measured interval, scaled by a gain"
    metadata = {
        "paper": "Jazayeri & Shadlen (2010). Temporal context calibrates interval timing. "
        "Nat. Neurosci. 13, 1020-1026; gain version: Remington, Narain, Hosseini & Jazayeri "
        "(2018). Flexible sensorimotor computations through rapid reconfiguration of "
        "cortical dynamics. Neuron 98(5), 1005-1019.",
        "link": "https://doi.org/10.1016/j.neuron.2018.05.020",
        "tags": ("timing", "interval reproduction"),
    }
    default_dt = 10.0
    default_timing = {
        "fixation": 200.0,
        "interval": ("choice", [480.0, 560.0, 640.0, 720.0, 800.0]),
        "post": 300.0,
    }
    default_params = {"gains": (1.0, 1.5), "pulse_ms": 20.0, "tolerance": 0.15}

    def _validate(self) -> None:
        check_values("gains", self.params["gains"], positive=True)
        check_positive("pulse_ms", self.params["pulse_ms"])
        if int(round(self.params["pulse_ms"] / self.dt)) < 1:
            raise ValueError(
                f"pulse_ms must last at least one step (dt={self.dt}), "
                f"got {self.params['pulse_ms']!r}"
            )
        check_fraction("tolerance", self.params["tolerance"])
        check_timing(self)

    @property
    def input_names(self):
        return ("ready", "set", "gain")

    @property
    def output_names(self):
        return ("ramp",)

    def sample_variables(self, rng):
        return {
            "interval_ms": self.duration("interval", rng),
            "gain": float(rng.choice(np.asarray(self.params["gains"], dtype=float))),
            "fixation_ms": self.duration("fixation", rng),
            "post_ms": self.duration("post", rng),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        dt = self.dt
        gain = check_positive("gain", v["gain"])
        pulse = int(round(self.params["pulse_ms"] / dt))
        n_interval = int(round(v["interval_ms"] / dt))
        if n_interval < pulse:
            raise ValueError(
                f"interval_ms must be at least pulse_ms={self.params['pulse_ms']}, "
                f"got {v['interval_ms']!r}"
            )
        n_produce = int(round(gain * n_interval))
        if n_produce < pulse:
            raise ValueError(
                f"gain * interval_ms must be at least pulse_ms={self.params['pulse_ms']}, "
                f"got gain={gain!r}, interval_ms={v['interval_ms']!r}"
            )
        trial.add_period("fixation", v["fixation_ms"])
        trial.add_period("ready", pulse * dt)
        trial.add_period("measure", (n_interval - pulse) * dt)
        trial.add_period("set", pulse * dt)
        trial.add_period("production", (n_produce - pulse) * dt)
        trial.add_period("post", v["post_ms"])
        trial.set_input("ready", 1.0, "ready")
        trial.set_input("set", 1.0, "set")
        trial.set_input("gain", gain)
        t_set = trial.onset("set")
        j = np.arange(trial.n_steps - t_set)
        trial.targets[t_set:, 0] = j / (gain * n_interval)

    def oracle(self, batch: Batch) -> np.ndarray:
        out = np.zeros_like(batch.targets)
        ready = batch.inputs[:, :, batch.input_names.index("ready")] > 0.5
        set_ = batch.inputs[:, :, batch.input_names.index("set")] > 0.5
        gain = batch.inputs[:, 0, batch.input_names.index("gain")].astype(float)
        for i in range(batch.n_trials):
            t_ready = int(np.argmax(ready[i]))
            t_set = int(np.argmax(set_[i]))
            j = np.arange(int(batch.lengths[i]) - t_set)
            out[i, t_set : batch.lengths[i], 0] = j / (gain[i] * (t_set - t_ready))
        return out

    def evaluate(self, outputs, batch: Batch):
        """``produced_ms``, ``target_ms``, ``relative_error``, ``early`` and ``correct``.

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
        y = np.asarray(outputs)[:, :, 0]
        ready_on, _ = period_steps(batch, "ready")
        set_on, _ = period_steps(batch, "set")
        gain = np.asarray(batch.variables["gain"], dtype=float)
        target = gain * (set_on - ready_on) * batch.dt
        produced = np.full(batch.n_trials, np.nan)
        early = np.zeros(batch.n_trials, dtype=bool)
        for i in range(batch.n_trials):
            early[i] = bool(np.any(y[i, : set_on[i]] >= 1.0))
            after = y[i, set_on[i] : batch.lengths[i]]
            hit = np.flatnonzero(after >= 1.0)
            if hit.size == 0:
                continue
            k = int(hit[0])
            if k == 0:
                produced[i] = 0.0
                continue
            # Interpolate between the last step below threshold and the first at or above it.
            frac = (1.0 - after[k - 1]) / (after[k] - after[k - 1])
            produced[i] = (k - 1 + frac) * batch.dt
        rel = np.abs(produced - target) / target
        correct = ~early & (rel <= self.params["tolerance"])
        return {
            "correct": correct,
            "produced_ms": produced,
            "target_ms": target,
            "relative_error": rel,
            "early": early,
        }
