"""Working-memory and rule tasks: match-to-sample, Romo comparison, go/no-go, pro/anti saccades."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive
from ._common import (
    THRESHOLD,
    check_timing,
    check_values,
    decision_oracle,
    draw_durations,
    lay_out,
    period_mean,
    period_steps,
    read_decision,
)
from .base import Batch, Task, TrialBuilder

__all__ = ["DelayedMatchToSample", "GoNoGo", "ParametricWorkingMemory", "ProAntiSaccade"]


def _check_common(task: Task) -> None:
    check_positive("sigma", task.params["sigma"], allow_zero=True)
    check_positive("grace_ms", task.params["grace_ms"], allow_zero=True)
    check_timing(task)


def _mask_grace(trial: TrialBuilder, go: int, grace_ms: float) -> None:
    trial.mask[go : go + int(round(grace_ms / trial.dt))] = 0.0


def _check_flag(name: str, value) -> int:
    if value not in (0, 1):
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    return int(value)


def _wrap_deg(a):
    """Angle difference wrapped to [-180, 180)."""
    return (np.asarray(a, dtype=float) + 180.0) % 360.0 - 180.0


class DelayedMatchToSample(Task):
    r"""Delayed match-to-sample: is the test direction the one shown before the delay?

    A sample direction :math:`\theta_s` is shown as :math:`(\cos\theta_s,
    \sin\theta_s)` on two input channels, removed for a delay, then a test
    direction :math:`\theta_t` is shown. The subject reports *match*
    (:math:`\theta_t = \theta_s`) or *non-match* once the fixation input drops.
    Sample directions are drawn from ``n_angles`` evenly spaced directions and a
    non-match test is the sample rotated by a non-zero multiple of
    :math:`360°/n_{\text{angles}}`, so match and non-match are equally likely and
    the test alone says nothing about the answer. Noise :math:`\sigma/\sqrt{dt}` is
    added to the stimulus channels while they are on.

    Periods ``fixation · sample · delay · test · decision``; the fixation input and
    the fixation output's target are 1 until the decision period; the target of the
    correct choice output is 1 during it; the first ``grace_ms`` of it are unscored.

    Channels
    --------
    inputs : ``fixation``, ``stim_cos``, ``stim_sin``
    outputs : ``fixation``, ``match``, ``non_match`` (MSE targets 0/1)

    Parameters
    ----------
    n_angles : int
        Number of sample directions (default 8, at least 2).
    sigma : float
        Input noise per :math:`\sqrt{\text{ms}}` (default 1).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (300), ``sample`` (500), ``delay`` (1000), ``test`` (500),
        ``decision`` (500) ms.

    Trial variables
    ---------------
    sample_angle : sample direction in degrees.
    match : 1 if the test repeats the sample, else 0.
    nonmatch_offset : rotation of a non-match test in degrees (unused on match trials).
    fixation_ms, sample_ms, delay_ms, test_ms, decision_ms : period durations.
    test_angle, ground_truth : derived; ground truth +1 (match) or -1 (non-match).

    Evaluation
    ----------
    ``choice`` is +1 (match), -1 (non-match) or 0 (none), from the larger mean
    choice output over the scored decision steps; ``correct`` requires the right
    choice and unbroken fixation. The oracle judges a match from the inputs: the
    mean sample and test vectors are closer than half the spacing of the directions.

    Examples
    --------
    >>> b = DelayedMatchToSample().batch(2, seed=0, match=[1, 0])
    >>> b.variables["ground_truth"].tolist()
    [1, -1]
    """

    name = "dms"
    description = "Delayed match-to-sample on a ring of directions"
    metadata = {
        "paper": "Miller, Erickson & Desimone (1996). Neural mechanisms of visual working "
        "memory in prefrontal cortex of the macaque. J. Neurosci. 16(16).",
        "link": "https://doi.org/10.1523/JNEUROSCI.16-16-05154.1996",
        "tags": ("working memory", "delayed response", "two-alternative"),
    }
    default_dt = 20.0
    default_timing = {
        "fixation": 300.0,
        "sample": 500.0,
        "delay": 1000.0,
        "test": 500.0,
        "decision": 500.0,
    }
    default_params = {"n_angles": 8, "sigma": 1.0, "grace_ms": 100.0}
    _periods = ("fixation", "sample", "delay", "test", "decision")
    _choices = ("match", "non_match")

    def _validate(self) -> None:
        check_int("n_angles", self.params["n_angles"], low=2)
        _check_common(self)

    @property
    def input_names(self):
        return ("fixation", "stim_cos", "stim_sin")

    @property
    def output_names(self):
        return ("fixation", *self._choices)

    def sample_variables(self, rng):
        n = self.params["n_angles"]
        step = 360.0 / n
        return {
            "sample_angle": float(rng.integers(n) * step),
            "match": int(rng.integers(2)),
            "nonmatch_offset": float(rng.integers(1, n) * step),
            **draw_durations(self, rng, self._periods),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        match = _check_flag("match", v["match"])
        test = v["sample_angle"] + (0.0 if match else v["nonmatch_offset"])
        v["test_angle"] = float(test % 360.0)
        v["ground_truth"] = 1 if match else -1
        lay_out(trial, v, self._periods)
        go = trial.onset("decision")
        trial.inputs[:go, 0] = 1.0
        for period, angle in (("sample", v["sample_angle"]), ("test", test)):
            trial.set_input("stim_cos", np.cos(np.deg2rad(angle)), period)
            trial.set_input("stim_sin", np.sin(np.deg2rad(angle)), period)
        trial.add_input_noise(
            self.params["sigma"], rng, ("stim_cos", "stim_sin"), ["sample", "test"]
        )
        trial.targets[:go, 0] = 1.0
        trial.set_target("match" if match else "non_match", 1.0, "decision")
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        s = period_mean(batch, "sample", ("stim_cos", "stim_sin"))
        t = period_mean(batch, "test", ("stim_cos", "stim_sin"))
        cos_sim = (s * t).sum(1) / np.maximum(
            np.linalg.norm(s, axis=1) * np.linalg.norm(t, axis=1), 1e-12
        )
        # Halfway (in angle) between a match and the nearest non-match direction.
        match = cos_sim > np.cos(np.pi / self.params["n_angles"])
        return decision_oracle(batch, np.where(match, 0, 1), self._choices)

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (+1 match, -1 non-match, 0 none), ``correct``, ``broke_fixation``.

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
        index, broke, _ = read_decision(outputs, batch, "decision", self._choices)
        choice = np.select([index == 0, index == 1], [1, -1], 0).astype(np.int64)
        gt = np.asarray(batch.variables["ground_truth"]).astype(np.int64)
        return {"correct": (choice == gt) & ~broke, "choice": choice, "broke_fixation": broke}


class ParametricWorkingMemory(Task):
    r"""Romo's delayed vibrotactile comparison: was the first frequency higher than the second?

    Two vibration frequencies :math:`f_1` and :math:`f_2 = f_1 + \Delta f` (Hz) are
    presented one after the other on a single input channel as the level
    :math:`f / f_{\text{scale}}` (:math:`f_{\text{scale}}` the largest of ``f1_values``),
    separated by a delay of variable length, with noise :math:`\sigma/\sqrt{dt}` while
    a stimulus is on. The subject holds :math:`f_1` through the delay — a continuous
    (line-attractor) memory — and reports whether :math:`f_1 > f_2` at the go cue.

    As in Romo et al. (1999), :math:`f_1` is drawn from ``f1_values`` and
    :math:`\Delta f = \pm` ``delta`` with a random sign, except that the sign is chosen
    to keep :math:`f_2` within the range of ``f1_values`` (so at the extremes of the
    range the answer follows from :math:`f_1` alone, as in the monkey experiments).

    Periods ``fixation · stimulus1 · delay · stimulus2 · decision``; fixation input
    and fixation target 1 until the decision period; the target of the correct
    choice output 1 during it; the first ``grace_ms`` of it unscored.

    Channels
    --------
    inputs : ``fixation``, ``stimulus``
    outputs : ``fixation``, ``f1_greater``, ``f2_greater`` (MSE targets 0/1)

    Parameters
    ----------
    f1_values : sequence of float
        Base frequencies in Hz (default 10, 14, ..., 34).
    delta : float
        Size of the frequency difference in Hz (default 8).
    sigma : float
        Input noise per :math:`\sqrt{\text{ms}}` (default 1).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (500), ``stimulus1`` (500), ``delay`` (uniform 1000–3000),
        ``stimulus2`` (500), ``decision`` (300) ms.

    Trial variables
    ---------------
    f1 : the first frequency (Hz).
    df : the signed difference :math:`f_2 - f_1` (Hz, non-zero); fix ``f1`` and ``df``
        per trial to build any stimulus set.
    fixation_ms, stimulus1_ms, delay_ms, stimulus2_ms, decision_ms : period durations.
    f2, ground_truth : derived; ground truth +1 if f1 > f2 else -1.

    Evaluation
    ----------
    ``choice`` is +1 (f1 greater), -1 (f2 greater) or 0 (none), from the larger mean
    choice output over the scored decision steps; ``correct`` requires the right
    choice and unbroken fixation. The oracle compares the mean input levels of the
    two stimulus periods.

    Examples
    --------
    >>> b = ParametricWorkingMemory().batch(2, seed=0, f1=18.0, df=[8.0, -8.0])
    >>> b.variables["f2"].tolist(), b.variables["ground_truth"].tolist()
    ([26.0, 10.0], [-1, 1])
    """

    name = "romo"
    description = "Parametric working memory: compare two vibration frequencies across a delay"
    metadata = {
        "paper": "Romo, Brody, Hernández & Lemus (1999). Neuronal correlates of parametric "
        "working memory in the prefrontal cortex. Nature 399, 470-473.",
        "link": "https://doi.org/10.1038/20939",
        "tags": ("working memory", "parametric", "delayed response", "two-alternative"),
    }
    default_dt = 20.0
    default_timing = {
        "fixation": 500.0,
        "stimulus1": 500.0,
        "delay": ("uniform", 1000.0, 3000.0),
        "stimulus2": 500.0,
        "decision": 300.0,
    }
    default_params = {
        "f1_values": (10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0),
        "delta": 8.0,
        "sigma": 1.0,
        "grace_ms": 100.0,
    }
    _periods = ("fixation", "stimulus1", "delay", "stimulus2", "decision")
    _choices = ("f1_greater", "f2_greater")

    def _validate(self) -> None:
        check_values("f1_values", self.params["f1_values"], positive=True)
        check_positive("delta", self.params["delta"])
        _check_common(self)

    @property
    def _f_scale(self) -> float:
        return float(np.max(self.params["f1_values"]))

    @property
    def input_names(self):
        return ("fixation", "stimulus")

    @property
    def output_names(self):
        return ("fixation", *self._choices)

    def sample_variables(self, rng):
        values = np.asarray(self.params["f1_values"], dtype=float)
        f1 = float(rng.choice(values))
        df = float(rng.choice([-1.0, 1.0]) * self.params["delta"])
        if not values.min() <= f1 + df <= values.max():
            df = -df
        return {"f1": f1, "df": df, **draw_durations(self, rng, self._periods)}

    def build_trial(self, trial: TrialBuilder, v, rng):
        f1 = check_positive("f1", v["f1"])
        df = float(v["df"])
        if df == 0 or not np.isfinite(df) or f1 + df <= 0:
            raise ValueError(f"df must be non-zero and give f2 = f1 + df > 0, got df={v['df']!r}")
        f2 = f1 + df
        v["f2"] = f2
        v["ground_truth"] = 1 if f1 > f2 else -1
        lay_out(trial, v, self._periods)
        go = trial.onset("decision")
        trial.inputs[:go, 0] = 1.0
        trial.set_input("stimulus", f1 / self._f_scale, "stimulus1")
        trial.set_input("stimulus", f2 / self._f_scale, "stimulus2")
        trial.add_input_noise(self.params["sigma"], rng, ("stimulus",), ["stimulus1", "stimulus2"])
        trial.targets[:go, 0] = 1.0
        trial.set_target("f1_greater" if f1 > f2 else "f2_greater", 1.0, "decision")
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        m1 = period_mean(batch, "stimulus1", ("stimulus",))[:, 0]
        m2 = period_mean(batch, "stimulus2", ("stimulus",))[:, 0]
        return decision_oracle(batch, np.where(m1 > m2, 0, 1), self._choices)

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (+1 f1 greater, -1 f2 greater, 0 none), ``correct``, ``broke_fixation``.

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
        index, broke, _ = read_decision(outputs, batch, "decision", self._choices)
        choice = np.select([index == 0, index == 1], [1, -1], 0).astype(np.int64)
        gt = np.asarray(batch.variables["ground_truth"]).astype(np.int64)
        return {"correct": (choice == gt) & ~broke, "choice": choice, "broke_fixation": broke}


class GoNoGo(Task):
    r"""Go / no-go: respond after the go stimulus, keep fixating after the no-go stimulus.

    One of two stimuli (``stim_go`` or ``stim_nogo``, level 1 plus noise
    :math:`\sigma/\sqrt{dt}`) is shown, followed by a delay; when the fixation input
    drops the subject must turn the ``go`` output on after a go stimulus and keep the
    ``fixation`` output on after a no-go stimulus — withholding is the response.

    Periods ``fixation · stimulus · delay · decision``. Targets: ``fixation`` 1 until
    the decision period and, on no-go trials, through it; ``go`` 1 during the decision
    period of go trials. The first ``grace_ms`` of the decision period are unscored.

    Channels
    --------
    inputs : ``fixation``, ``stim_go``, ``stim_nogo``
    outputs : ``fixation``, ``go`` (MSE targets 0/1)

    Parameters
    ----------
    sigma : float
        Input noise per :math:`\sqrt{\text{ms}}` (default 1).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (100), ``stimulus`` (500), ``delay`` (500), ``decision`` (500) ms.

    Trial variables
    ---------------
    go : 1 (go trial) or 0 (no-go trial).
    fixation_ms, stimulus_ms, delay_ms, decision_ms : period durations.

    Evaluation
    ----------
    ``choice`` is 1 (responded: mean ``go`` output over the scored decision steps
    above 0.5) or 0 (withheld); ``correct`` requires ``choice == go`` and no response
    or broken fixation before the go cue.

    Examples
    --------
    >>> task = GoNoGo()
    >>> b = task.batch(2, seed=0, go=[1, 0])
    >>> task.evaluate(task.oracle(b), b)["choice"].tolist()
    [1, 0]
    """

    name = "go_nogo"
    description = "Go / no-go: respond to one stimulus, withhold for the other"
    metadata = {
        "paper": "Zhang, Yan, Wang, Fan, Hou, Chen, Chen, Ge, Duan, Compte & Li (2019). "
        "Active information maintenance in working memory by a sensory cortex. eLife 8, e43191.",
        "link": "https://doi.org/10.7554/eLife.43191",
        "tags": ("go-no-go", "inhibition", "delayed response"),
    }
    default_dt = 20.0
    default_timing = {"fixation": 100.0, "stimulus": 500.0, "delay": 500.0, "decision": 500.0}
    default_params = {"sigma": 1.0, "grace_ms": 100.0}
    _periods = ("fixation", "stimulus", "delay", "decision")

    def _validate(self) -> None:
        _check_common(self)

    @property
    def input_names(self):
        return ("fixation", "stim_go", "stim_nogo")

    @property
    def output_names(self):
        return ("fixation", "go")

    def sample_variables(self, rng):
        return {"go": int(rng.integers(2)), **draw_durations(self, rng, self._periods)}

    def build_trial(self, trial: TrialBuilder, v, rng):
        go_trial = _check_flag("go", v["go"])
        lay_out(trial, v, self._periods)
        go = trial.onset("decision")
        trial.inputs[:go, 0] = 1.0
        trial.set_input("stim_go" if go_trial else "stim_nogo", 1.0, "stimulus")
        trial.add_input_noise(self.params["sigma"], rng, ("stim_go", "stim_nogo"), "stimulus")
        if go_trial:
            trial.targets[:go, 0] = 1.0
            trial.set_target("go", 1.0, "decision")
        else:
            trial.set_target("fixation", 1.0)
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        m = period_mean(batch, "stimulus", ("stim_go", "stim_nogo"))
        nogo = m[:, 1] > m[:, 0]
        return decision_oracle(batch, np.zeros(batch.n_trials, int), ("go",), hold=nogo)

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (1 responded, 0 withheld), ``correct``, ``broke_fixation``.

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
        index, broke, _ = read_decision(outputs, batch, "decision", ("go",))
        choice = (index == 0).astype(np.int64)
        gt = np.asarray(batch.variables["go"]).astype(np.int64)
        return {"correct": (choice == gt) & ~broke, "choice": choice, "broke_fixation": broke}


class ProAntiSaccade(Task):
    r"""Memory-guided pro- and anti-saccades with an explicit rule cue.

    A stimulus direction :math:`\theta` is flashed as :math:`(\cos\theta, \sin\theta)`
    (noise :math:`\sigma/\sqrt{dt}` while it is on); a rule cue (``rule_pro`` or
    ``rule_anti``, 1 for the whole trial) says whether to look toward it or away from
    it. After a memory delay, when the fixation input drops, the response outputs
    must point at

    .. math:: \theta^* = \theta + 180° \cdot \text{anti}.

    Periods ``fixation · stimulus · delay · decision`` (set ``delay`` to 0 for the
    non-memory version). Targets: ``fixation`` 1 until the decision period;
    ``(response_cos, response_sin) = (\cos\theta^*, \sin\theta^*)`` during it, 0
    before. The first ``grace_ms`` of the decision period are unscored.

    Channels
    --------
    inputs : ``fixation``, ``stim_cos``, ``stim_sin``, ``rule_pro``, ``rule_anti``
    outputs : ``fixation``, ``response_cos``, ``response_sin`` (MSE)

    Parameters
    ----------
    n_directions : int
        Stimulus directions are drawn from this many evenly spaced angles (default 8).
    tolerance_deg : float
        Largest angular error of a correct response (default 36°, i.e. 0.2π as in
        Yang et al. 2019).
    sigma : float
        Input noise per :math:`\sqrt{\text{ms}}` (default 1).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (300), ``stimulus`` (500), ``delay`` (500), ``decision`` (500) ms.

    Trial variables
    ---------------
    stimulus_angle : stimulus direction in degrees.
    anti : 1 for an anti trial, 0 for a pro trial.
    fixation_ms, stimulus_ms, delay_ms, decision_ms : period durations.
    target_angle : derived, the correct response direction in degrees.

    Evaluation
    ----------
    The response is the mean of ``(response_cos, response_sin)`` over the scored
    decision steps; ``choice`` is its direction in degrees (NaN when its length is
    below 0.5, i.e. no response), ``error_deg`` the absolute angular error. ``correct``
    requires a response within ``tolerance_deg`` and, before the go cue, a fixation
    output above 0.5 and a response vector shorter than 0.5.

    Examples
    --------
    >>> b = ProAntiSaccade().batch(1, seed=0, stimulus_angle=90.0, anti=1)
    >>> float(b.variables["target_angle"][0])
    270.0
    """

    name = "pro_anti"
    description = "Memory-guided pro/anti saccade with an explicit rule cue"
    metadata = {
        "paper": "Hallett (1978). Primary and secondary saccades to goals defined by "
        "instructions. Vision Res. 18(10); network version: Yang, Joglekar, Song, Newsome "
        "& Wang (2019). Nat. Neurosci. 22, 297-306.",
        "link": "https://doi.org/10.1038/s41593-018-0310-2",
        "tags": ("rule", "inhibition", "working memory", "motor"),
    }
    default_dt = 20.0
    default_timing = {"fixation": 300.0, "stimulus": 500.0, "delay": 500.0, "decision": 500.0}
    default_params = {"n_directions": 8, "tolerance_deg": 36.0, "sigma": 1.0, "grace_ms": 100.0}
    _periods = ("fixation", "stimulus", "delay", "decision")

    def _validate(self) -> None:
        check_int("n_directions", self.params["n_directions"], low=1)
        tol = check_positive("tolerance_deg", self.params["tolerance_deg"])
        if tol >= 180:
            raise ValueError(f"tolerance_deg must be < 180, got {tol!r}")
        _check_common(self)

    @property
    def input_names(self):
        return ("fixation", "stim_cos", "stim_sin", "rule_pro", "rule_anti")

    @property
    def output_names(self):
        return ("fixation", "response_cos", "response_sin")

    def sample_variables(self, rng):
        n = self.params["n_directions"]
        return {
            "stimulus_angle": float(rng.integers(n) * 360.0 / n),
            "anti": int(rng.integers(2)),
            **draw_durations(self, rng, self._periods),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        anti = _check_flag("anti", v["anti"])
        target = float((v["stimulus_angle"] + 180.0 * anti) % 360.0)
        v["target_angle"] = target
        lay_out(trial, v, self._periods)
        go = trial.onset("decision")
        trial.inputs[:go, 0] = 1.0
        trial.set_input("rule_anti" if anti else "rule_pro", 1.0)
        theta = np.deg2rad(v["stimulus_angle"])
        trial.set_input("stim_cos", np.cos(theta), "stimulus")
        trial.set_input("stim_sin", np.sin(theta), "stimulus")
        trial.add_input_noise(self.params["sigma"], rng, ("stim_cos", "stim_sin"), "stimulus")
        trial.targets[:go, 0] = 1.0
        trial.set_target("response_cos", np.cos(np.deg2rad(target)), "decision")
        trial.set_target("response_sin", np.sin(np.deg2rad(target)), "decision")
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        s = period_mean(batch, "stimulus", ("stim_cos", "stim_sin"))
        rule = batch.inputs[:, 0, [batch.input_names.index(c) for c in ("rule_pro", "rule_anti")]]
        theta = np.arctan2(s[:, 1], s[:, 0]) + np.pi * (rule[:, 1] > rule[:, 0])
        out = decision_oracle(batch, np.full(batch.n_trials, -1), ())
        go = (batch.inputs[:, :, 0] < THRESHOLD) & batch.valid()
        out[:, :, 1] = go * np.cos(theta)[:, None]
        out[:, :, 2] = go * np.sin(theta)[:, None]
        return out

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (response direction, degrees), ``error_deg``, ``correct``, ``broke_fixation``.

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
        go, _ = period_steps(batch, "decision")
        n = batch.n_trials
        vec = np.zeros((n, 2))
        broke = np.zeros(n, dtype=bool)
        for i in range(n):
            length = int(batch.lengths[i])
            pre = outputs[i, : min(go[i], length)]
            scored = batch.mask[i, : min(go[i], length), 0] > 0
            bad = (pre[:, 0] < THRESHOLD) | (np.hypot(pre[:, 1], pre[:, 2]) > THRESHOLD)
            broke[i] = bool(np.any(bad & scored))
            post = np.arange(go[i], length)
            post = post[batch.mask[i, post, 1] > 0]
            if post.size:
                vec[i] = outputs[i, post][:, 1:3].mean(axis=0)
        responded = np.hypot(vec[:, 0], vec[:, 1]) > THRESHOLD
        choice = np.where(responded, np.rad2deg(np.arctan2(vec[:, 1], vec[:, 0])) % 360.0, np.nan)
        target = np.asarray(batch.variables["target_angle"], dtype=float)
        error = np.abs(_wrap_deg(choice - target))
        correct = responded & (error < self.params["tolerance_deg"]) & ~broke
        return {"correct": correct, "choice": choice, "error_deg": error, "broke_fixation": broke}
