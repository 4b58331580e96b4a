"""Perceptual and context-dependent decision making (random-dot motion and Mante et al. 2013)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._validation import check_positive
from ._common import (
    check_timing,
    check_values,
    decision_oracle,
    draw_durations,
    lay_out,
    read_decision,
)
from .base import Batch, Task, TrialBuilder

__all__ = ["ContextDecisionMaking", "PerceptualDecisionMaking"]

_CHOICES = ("choice_left", "choice_right")


def _check_coherence(name: str, value, *, signed: bool) -> float:
    c = float(value)
    low = -100.0 if signed else 0.0
    if not np.isfinite(c) or not low <= c <= 100.0:
        raise ValueError(f"{name} must lie in [{low:g}, 100] (percent), got {value!r}")
    return c


def _mask_grace(trial: TrialBuilder, go: int, grace_ms: float) -> None:
    n = int(round(grace_ms / trial.dt))
    trial.mask[go : go + n] = 0.0


def _choice_sign(index: np.ndarray) -> np.ndarray:
    # choice channel 0 is left (-1), 1 is right (+1); no response (-1) becomes 0.
    return np.where(index < 0, 0, 2 * index - 1).astype(np.int64)


class PerceptualDecisionMaking(Task):
    r"""Random-dot motion discrimination: integrate noisy evidence, report the stronger side.

    Two stimulus channels carry the momentary motion evidence toward the left and
    right targets. With coherence :math:`c` (percent) and ground truth
    :math:`g \in \{-1, +1\}` (left, right) their means during the stimulus are

    .. math:: \bar u_{\text{right}} = \tfrac12 + g\,\frac{c}{200}, \qquad
              \bar u_{\text{left}} = \tfrac12 - g\,\frac{c}{200},

    plus independent white noise of standard deviation :math:`\sigma/\sqrt{dt}` per
    step, so the integral of the evidence over the stimulus has a mean and variance
    that do not depend on ``dt``. On 0 % coherence trials the ground truth is a fair
    coin and the evidence carries no information about it.

    **Fixed-duration mode** (default): periods ``fixation · stimulus · delay ·
    decision``. The fixation input is 1 until the decision period (the go cue),
    the fixation output's target is 1 until the go cue and 0 after it, and the
    choice output of the correct side has target 1 during the decision period.

    **Reaction-time mode** (``reaction_time=True``, Roitman & Shadlen 2002):
    periods ``fixation · stimulus``; the fixation input goes off at stimulus onset
    and the correct choice output has target 1 from stimulus onset to the end of the
    trial, so the subject may answer whenever it has seen enough.

    In both modes the loss mask is 0 on every channel for the first ``grace_ms``
    after the go cue, so the network is not penalised for the time it takes to turn
    around.

    Channels
    --------
    inputs : ``fixation``, ``stim_left``, ``stim_right``
    outputs : ``fixation``, ``choice_left``, ``choice_right`` (MSE targets 0/1)

    Parameters
    ----------
    coherences : sequence of float
        Unsigned coherences (percent) drawn uniformly (default 0, 6.4, 12.8, 25.6, 51.2).
    sigma : float
        Input noise in units per :math:`\sqrt{\text{ms}}` (default 1).
    reaction_time : bool
        Reaction-time rather than fixed-duration mode (default False).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (100), ``stimulus`` (2000), ``delay`` (0), ``decision`` (300) ms,
        NeuroGym's defaults except a decision period long enough to outlast the grace
        window. Reaction-time mode uses only ``fixation`` and ``stimulus``.

    Trial variables
    ---------------
    coherence : unsigned coherence (percent).
    ground_truth : -1 (left) or +1 (right).
    fixation_ms, stimulus_ms, delay_ms, decision_ms : period durations.

    Evaluation
    ----------
    ``choice`` is -1 (left), +1 (right) or 0 (no choice output above 0.5): in
    fixed-duration mode the larger mean choice output over the scored decision
    steps, in reaction-time mode the first choice output to cross 0.5 after stimulus
    onset. ``correct`` requires the right choice and unbroken fixation before the go
    cue; ``response_ms`` is the time from the go cue to the first crossing.

    Examples
    --------
    >>> task = PerceptualDecisionMaking()
    >>> b = task.batch(8, seed=0, coherence=51.2)
    >>> r = task.evaluate(task.oracle(b), b)
    >>> bool((r["choice"] == b.variables["ground_truth"]).all())
    True
    """

    name = "perceptual_dm"
    description = "Random-dot motion 2AFC: integrate noisy evidence, report the stronger side"
    metadata = {
        "paper": "Britten, Shadlen, Newsome & Movshon (1992). The analysis of visual motion: "
        "a comparison of neuronal and psychophysical performance. J. Neurosci. 12(12); "
        "reaction-time version: Roitman & Shadlen (2002). J. Neurosci. 22(21).",
        "link": "https://doi.org/10.1523/JNEUROSCI.12-12-04745.1992",
        "tags": ("perceptual", "two-alternative", "integration"),
    }
    default_dt = 20.0
    default_timing = {"fixation": 100.0, "stimulus": 2000.0, "delay": 0.0, "decision": 300.0}
    default_params = {
        "coherences": (0.0, 6.4, 12.8, 25.6, 51.2),
        "sigma": 1.0,
        "reaction_time": False,
        "grace_ms": 100.0,
    }

    def _validate(self) -> None:
        check_values("coherences", self.params["coherences"], low=0.0, high=100.0)
        check_positive("sigma", self.params["sigma"], allow_zero=True)
        check_positive("grace_ms", self.params["grace_ms"], allow_zero=True)
        if not isinstance(self.params["reaction_time"], bool):
            raise ValueError(
                f"reaction_time must be True or False, got {self.params['reaction_time']!r}"
            )
        check_timing(self)

    @property
    def _periods(self) -> tuple[str, ...]:
        if self.params["reaction_time"]:
            return ("fixation", "stimulus")
        return ("fixation", "stimulus", "delay", "decision")

    @property
    def _go(self) -> str:
        return "stimulus" if self.params["reaction_time"] else "decision"

    @property
    def input_names(self):
        return ("fixation", "stim_left", "stim_right")

    @property
    def output_names(self):
        return ("fixation", *_CHOICES)

    def sample_variables(self, rng):
        return {
            "coherence": float(rng.choice(np.asarray(self.params["coherences"], dtype=float))),
            "ground_truth": int(rng.choice([-1, 1])),
            **draw_durations(self, rng, self._periods),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        c = _check_coherence("coherence", v["coherence"], signed=False)
        gt = v["ground_truth"]
        if gt not in (-1, 1):
            raise ValueError(f"ground_truth must be -1 or +1, got {gt!r}")
        gt = int(gt)
        lay_out(trial, v, self._periods)
        go = trial.onset(self._go)
        trial.inputs[:go, 0] = 1.0
        trial.set_input("stim_right", 0.5 + gt * c / 200.0, "stimulus")
        trial.set_input("stim_left", 0.5 - gt * c / 200.0, "stimulus")
        trial.add_input_noise(self.params["sigma"], rng, ("stim_left", "stim_right"), "stimulus")
        trial.targets[:go, 0] = 1.0
        trial.targets[go:, 1 + (gt + 1) // 2] = 1.0
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        # The evidence is noisy (and absent at 0 %), so the side comes from the trial
        # variable; when to answer comes from the fixation input.
        choice = (np.asarray(batch.variables["ground_truth"]).astype(int) + 1) // 2
        return decision_oracle(batch, choice, _CHOICES)

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (-1 left, +1 right, 0 none), ``correct``, ``broke_fixation``, ``response_ms``.

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
        index, broke, response = read_decision(
            outputs, batch, self._go, _CHOICES, first_crossing=self.params["reaction_time"]
        )
        choice = _choice_sign(index)
        gt = np.asarray(batch.variables["ground_truth"]).astype(np.int64)
        return {
            "correct": (choice == gt) & ~broke,
            "choice": choice,
            "broke_fixation": broke,
            "response_ms": response,
        }


class ContextDecisionMaking(Task):
    r"""Context-dependent integration (Mante, Sussillo, Shenoy & Newsome 2013).

    Two noisy modalities, motion and colour, are shown together; each is coded by a
    pair of channels, evidence toward the left and toward the right target, with
    means :math:`\tfrac12 - c_m/200` (left) and :math:`\tfrac12 + c_m/200` (right) for
    the signed coherence :math:`c_m` of modality :math:`m` (positive = right). A context cue (``context_motion`` or
    ``context_color``, 1 for the whole trial) says which modality is relevant; the
    subject reports the sign of the relevant coherence and ignores the other:

    .. math:: g = \operatorname{sign}\bigl(c_{\text{context}}\bigr),

    with a fair coin when the relevant coherence is 0. Periods ``fixation ·
    stimulus · delay · decision``; the fixation input stays 1 through stimulus and
    delay and drops only at the decision period, so the go cue is unambiguous even
    with a variable delay (NeuroGym's version turns it off at stimulus onset,
    neurogym issue #279). Targets and mask as in :class:`PerceptualDecisionMaking`
    (fixed-duration mode), noise :math:`\sigma/\sqrt{dt}` on the four stimulus
    channels during the stimulus.

    Channels
    --------
    inputs : ``fixation``, ``motion_left``, ``motion_right``, ``color_left``,
        ``color_right``, ``context_motion``, ``context_color``
    outputs : ``fixation``, ``choice_left``, ``choice_right`` (MSE targets 0/1)

    Parameters
    ----------
    coherences : sequence of float
        Unsigned coherences (percent), each given a random sign per modality
        (default 5, 15, 50).
    sigma : float
        Input noise per :math:`\sqrt{\text{ms}}` (default 1).
    grace_ms : float
        Unscored time after the go cue (default 100 ms).
    timing : dict
        ``fixation`` (300), ``stimulus`` (750), ``delay`` (truncated exponential,
        mean 600, 300–3000), ``decision`` (300) ms.

    Trial variables
    ---------------
    context : 0 (motion relevant) or 1 (colour relevant).
    coherence_motion, coherence_color : signed coherences (percent, + = right).
    fixation_ms, stimulus_ms, delay_ms, decision_ms : period durations.
    ground_truth : derived, -1 (left) or +1 (right); fix it through the coherences.

    Evaluation
    ----------
    ``choice`` is -1 (left), +1 (right) or 0 (none), the larger mean choice output
    over the scored decision steps; ``correct`` requires the right choice and
    unbroken fixation before the go cue.

    Examples
    --------
    >>> task = ContextDecisionMaking()
    >>> b = task.batch(2, seed=0, context=1, coherence_motion=50.0, coherence_color=[-15.0, 5.0])
    >>> b.variables["ground_truth"].tolist()
    [-1, 1]
    """

    name = "context_dm"
    description = "Context-dependent integration: report the cued modality, ignore the other"
    metadata = {
        "paper": "Mante, Sussillo, Shenoy & Newsome (2013). Context-dependent computation by "
        "recurrent dynamics in prefrontal cortex. Nature 503, 78-84.",
        "link": "https://doi.org/10.1038/nature12742",
        "tags": ("perceptual", "context dependent", "two-alternative", "integration"),
    }
    default_dt = 20.0
    default_timing = {
        "fixation": 300.0,
        "stimulus": 750.0,
        "delay": ("truncexp", 600.0, 300.0, 3000.0),
        "decision": 300.0,
    }
    default_params = {"coherences": (5.0, 15.0, 50.0), "sigma": 1.0, "grace_ms": 100.0}
    _periods = ("fixation", "stimulus", "delay", "decision")

    def _validate(self) -> None:
        check_values("coherences", self.params["coherences"], low=0.0, high=100.0)
        check_positive("sigma", self.params["sigma"], allow_zero=True)
        check_positive("grace_ms", self.params["grace_ms"], allow_zero=True)
        check_timing(self)

    @property
    def input_names(self):
        return (
            "fixation",
            "motion_left",
            "motion_right",
            "color_left",
            "color_right",
            "context_motion",
            "context_color",
        )

    @property
    def output_names(self):
        return ("fixation", *_CHOICES)

    def sample_variables(self, rng):
        cohs = np.asarray(self.params["coherences"], dtype=float)
        return {
            "context": int(rng.integers(2)),
            "coherence_motion": float(rng.choice(cohs) * rng.choice([-1.0, 1.0])),
            "coherence_color": float(rng.choice(cohs) * rng.choice([-1.0, 1.0])),
            **draw_durations(self, rng, self._periods),
        }

    def build_trial(self, trial: TrialBuilder, v, rng):
        cm = _check_coherence("coherence_motion", v["coherence_motion"], signed=True)
        cc = _check_coherence("coherence_color", v["coherence_color"], signed=True)
        if v["context"] not in (0, 1):
            raise ValueError(f"context must be 0 (motion) or 1 (color), got {v['context']!r}")
        relevant = cm if v["context"] == 0 else cc
        coin = int(rng.choice([-1, 1]))  # drawn every trial so streams do not depend on c
        gt = int(np.sign(relevant)) if relevant != 0 else coin
        v["ground_truth"] = gt
        lay_out(trial, v, self._periods)
        go = trial.onset("decision")
        trial.inputs[:go, 0] = 1.0
        trial.set_input("context_motion" if v["context"] == 0 else "context_color", 1.0)
        for modality, c in (("motion", cm), ("color", cc)):
            trial.set_input(f"{modality}_right", 0.5 + c / 200.0, "stimulus")
            trial.set_input(f"{modality}_left", 0.5 - c / 200.0, "stimulus")
        trial.add_input_noise(
            self.params["sigma"],
            rng,
            ("motion_left", "motion_right", "color_left", "color_right"),
            "stimulus",
        )
        trial.targets[:go, 0] = 1.0
        trial.targets[go:, 1 + (gt + 1) // 2] = 1.0
        _mask_grace(trial, go, self.params["grace_ms"])

    def oracle(self, batch: Batch) -> np.ndarray:
        # The relevant evidence is noisy, so the side comes from the trial variable;
        # when to answer comes from the fixation input.
        choice = (np.asarray(batch.variables["ground_truth"]).astype(int) + 1) // 2
        return decision_oracle(batch, choice, _CHOICES)

    def ideal_accuracy(self) -> float:
        r"""Accuracy of the ideal observer of the relevant evidence.

        The observer integrates the relevant modality's right-minus-left evidence over
        the stimulus of duration :math:`T` and reports its sign. The integral has mean
        :math:`c\,T/100` and, from the two channels' independent noise, variance
        :math:`2\sigma^2 T`, so a trial of coherence :math:`c` is answered correctly
        with probability :math:`\Phi\bigl(c\sqrt{T}/(100\sqrt2\,\sigma)\bigr)`
        (:math:`\tfrac12` at :math:`c = 0`; 1 for :math:`c > 0` without noise),
        averaged over the coherences, which are drawn uniformly.
        No network does better; this is the ceiling of its validation accuracy.

        Raises
        ------
        ValueError
            When the stimulus duration is not fixed (a number in ``timing``).

        Examples
        --------
        >>> round(ContextDecisionMaking(coherences=(5.0, 15.0, 50.0)).ideal_accuracy(), 3)
        0.944
        """
        stim = self.timing["stimulus"]
        if isinstance(stim, bool) or not isinstance(stim, (int, float)):
            raise ValueError(
                f"timing['stimulus'] must be a fixed duration for the ideal accuracy, got {stim!r}"
            )
        c = np.abs(np.asarray(self.params["coherences"], dtype=float))
        sigma = float(self.params["sigma"])
        if sigma == 0.0:
            return float(np.mean(np.where(c > 0, 1.0, 0.5)))
        return float(np.mean(ndtr(c * np.sqrt(float(stim)) / (100.0 * np.sqrt(2.0) * sigma))))

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (-1 left, +1 right, 0 none), ``correct``, ``broke_fixation``.

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
        index, broke, _ = read_decision(outputs, batch, "decision", _CHOICES)
        choice = _choice_sign(index)
        gt = np.asarray(batch.variables["ground_truth"]).astype(np.int64)
        return {"correct": (choice == gt) & ~broke, "choice": choice, "broke_fixation": broke}
