"""The sine-wave generator (Sussillo & Barak, 2013): a static input sets the frequency."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int, check_positive
from ._common import check_timing, draw_durations, lay_out
from .base import Batch, Task, TrialBuilder

__all__ = ["SineWaveGenerator"]

_PERIODS = ("transient", "generate")


class SineWaveGenerator(Task):
    r"""Sine-wave generator: a static input level selects the frequency of the output.

    On a trial of level :math:`j \in \{1, \dots, n\}` (``n_levels``) the input is the
    constant :math:`u_j = j/n + 0.25` and the output must be

    .. math::

        y^*(t) = \sin(\omega_j t), \qquad
        \omega_j = \omega_{min} + (\omega_{max} - \omega_{min})\,\frac{j - 1}{n - 1},

    with :math:`t` the end of a time step (:attr:`~neurodyn.tasks.Batch.time`) and
    :math:`\omega` in radians per ``time_unit_ms`` (the time constant of the network
    that generates it, in the reproduction). Sussillo & Barak used n = 51 and
    :math:`\omega` from 0.1 to 0.6. The frequency is an affine function of the input,

    .. math:: \omega(u) = \omega_{min} + (\omega_{max} - \omega_{min})\,\frac{n(u - 0.25) - 1}{n - 1},

    and :meth:`oracle` reads the level back from the input, :math:`j = n(u - 0.25)`
    rounded (the input holds it to float32 precision). Periods ``transient · generate``: the target
    runs through both, but only ``generate`` is scored (the first ``transient`` ms let
    the network start its oscillation from rest).

    Channels
    --------
    inputs : ``level`` (:math:`u_j` on every step)
    outputs : ``sine`` (MSE)

    Parameters
    ----------
    n_levels : int
        Number of input levels n (default 51); one level gives :math:`\omega_{min}`.
    omega_min, omega_max : float
        Frequencies of the first and last level, radians per ``time_unit_ms``
        (default 0.1 and 0.6).
    time_unit_ms : float
        The time unit of the frequencies, in ms (default 100).
    tolerance : float
        Largest normalised error :math:`\overline{(y - y^*)^2} / \overline{y^{*2}}` over
        the scored steps of a correct trial (default 0.2).
    timing : dict
        ``transient`` (default 0 ms) and ``generate`` (default 10 000 ms).

    Trial variables
    ---------------
    level : the level j (1 ... n).
    level_input : :math:`u_j`.
    omega : :math:`\omega_j` (radians per ``time_unit_ms``).
    transient_ms, generate_ms : period durations.

    Evaluation
    ----------
    ``nmse`` (the normalised error above), ``omega_out`` (the output's frequency from
    the mean interval between its upward zero crossings on the scored steps, NaN with
    fewer than two), ``relative_error`` (:math:`|\omega_{out} - \omega|/\omega`) and
    ``correct`` (``nmse`` within ``tolerance``).

    Examples
    --------
    >>> task = SineWaveGenerator(n_levels=51)
    >>> b = task.batch(1, seed=0, level=26)
    >>> float(b.inputs[0, 0, 0]), round(float(b.variables["omega"][0]), 6)  # doctest: +ELLIPSIS
    (0.7598039..., 0.35)
    >>> round(float(task.evaluate(task.oracle(b), b)["omega_out"][0]), 3)
    0.35
    """

    name = "sine_wave_generator"
    description = "Sine-wave generator: a static input level sets the output's frequency"
    metadata = {
        "paper": "Sussillo & Barak (2013). Opening the black box: low-dimensional dynamics "
        "in high-dimensional recurrent neural networks. Neural Computation 25(3), 626-649.",
        "link": "https://doi.org/10.1162/NECO_a_00409",
        "tags": ("oscillation", "pattern generation", "limit cycles"),
    }
    default_dt = 20.0
    default_timing = {"transient": 0.0, "generate": 10_000.0}
    default_params = {
        "n_levels": 51,
        "omega_min": 0.1,
        "omega_max": 0.6,
        "time_unit_ms": 100.0,
        "tolerance": 0.2,
    }
    #: The input of level j is j / n_levels + OFFSET (Sussillo & Barak's 0.25).
    OFFSET = 0.25

    def _validate(self) -> None:
        check_int("n_levels", self.params["n_levels"])
        lo = check_positive("omega_min", self.params["omega_min"])
        hi = check_positive("omega_max", self.params["omega_max"])
        if hi < lo:
            raise ValueError(f"omega_max={hi!r} must be >= omega_min={lo!r}")
        check_positive("time_unit_ms", self.params["time_unit_ms"])
        check_positive("tolerance", self.params["tolerance"])
        check_timing(self)

    @property
    def input_names(self):
        return ("level",)

    @property
    def output_names(self):
        return ("sine",)

    # -- levels ---------------------------------------------------------------------------
    def level_input(self, level) -> np.ndarray:
        """The input :math:`u_j = j/n + 0.25` of level(s) j.

        Parameters
        ----------
        level : int or array_like of int
            Level(s) :math:`j`, from 1 to ``n_levels``.

        Returns
        -------
        ndarray of float
            The input level(s), of the shape of ``level``.
        """
        return np.asarray(level, dtype=float) / self.params["n_levels"] + self.OFFSET

    def level_omega(self, level) -> np.ndarray:
        """The frequency :math:`\\omega_j` of level(s) j, radians per ``time_unit_ms``.

        Parameters
        ----------
        level : int, float or array_like
            Level(s) :math:`j` (1 gives ``omega_min``, ``n_levels`` gives
            ``omega_max``, and levels in between are spaced evenly).

        Returns
        -------
        ndarray of float
            The frequencies, of the shape of ``level``.
        """
        n, lo, hi = self.params["n_levels"], self.params["omega_min"], self.params["omega_max"]
        frac = (np.asarray(level, dtype=float) - 1.0) / max(n - 1, 1)
        return lo + (hi - lo) * frac

    def input_omega(self, u) -> np.ndarray:
        """The frequency selected by input(s) u: :math:`\\omega_j` at :math:`u = u_j`.

        Linear in :math:`u`, so an input between two levels gives the frequency
        in between (what a network interpolating between trained levels would ideally
        produce).

        Parameters
        ----------
        u : float or array_like
            Input level(s) on the ``level`` channel.

        Returns
        -------
        ndarray of float
            Frequencies in radians per ``time_unit_ms``, of the shape of ``u``.
        """
        n = self.params["n_levels"]
        return self.level_omega(n * (np.asarray(u, dtype=float) - self.OFFSET))

    @property
    def levels(self) -> np.ndarray:
        """Every level, 1 ... n."""
        return np.arange(1, self.params["n_levels"] + 1)

    # -- trials ---------------------------------------------------------------------------
    def sample_variables(self, rng):
        return {
            "level": int(rng.integers(1, self.params["n_levels"] + 1)),
            **draw_durations(self, rng, _PERIODS),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        level = v["level"]
        n = self.params["n_levels"]
        if not (isinstance(level, (int, np.integer)) and 1 <= level <= n):
            raise ValueError(f"level must be an integer in 1..{n}, got {level!r}")
        lay_out(trial, v, _PERIODS)
        v["level_input"] = float(self.level_input(level))
        v["omega"] = float(self.level_omega(level))
        trial.set_input("level", v["level_input"])
        trial.targets[:, 0] = self._sine(v["omega"], trial.n_steps)
        trial.set_mask(0.0, "transient")

    def _sine(self, omega, n_steps: int) -> np.ndarray:
        t = (np.arange(n_steps) + 1.0) * self.dt / self.params["time_unit_ms"]
        return np.sin(omega * t)

    def oracle(self, batch: Batch) -> np.ndarray:
        out = np.zeros_like(batch.targets)
        u = batch.inputs[:, 0, batch.input_names.index("level")].astype(float)
        omega = self.level_omega(np.rint(self.params["n_levels"] * (u - self.OFFSET)))
        for i in range(batch.n_trials):
            out[i, : batch.lengths[i], 0] = self._sine(omega[i], int(batch.lengths[i]))
        return out

    def evaluate(self, outputs, batch: Batch):
        """``nmse``, ``omega_out``, ``relative_error`` and ``correct`` per trial.

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
        y = np.asarray(outputs, dtype=float)[:, :, 0]
        target = batch.targets[:, :, 0].astype(float)
        scored = (batch.mask[:, :, 0] > 0) & batch.valid()
        power = np.maximum((target**2 * scored).sum(1), 1e-12)
        nmse = ((y - target) ** 2 * scored).sum(1) / power
        unit = batch.dt / self.params["time_unit_ms"]
        omega_out = np.array([_crossing_omega(y[i, scored[i]], unit) for i in range(len(y))])
        omega = np.asarray(batch.variables["omega"], dtype=float)
        return {
            "correct": nmse <= self.params["tolerance"],
            "nmse": nmse,
            "omega_out": omega_out,
            "relative_error": np.abs(omega_out - omega) / omega,
        }


def _crossing_omega(y: np.ndarray, step: float) -> float:
    """Angular frequency of ``y`` (one value every ``step`` time units) from the mean
    interval between its upward zero crossings (linearly interpolated); NaN with
    fewer than two."""
    up = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    if len(up) < 2:
        return math.nan
    t = up + (-y[up]) / (y[up + 1] - y[up])
    return float(2.0 * math.pi / (np.mean(np.diff(t)) * step))
