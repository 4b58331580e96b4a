"""One NeuroGym trial as a neurodyn :class:`~neurodyn.tasks.Trial`, and the read-out of a batch.

Targets
-------
A discrete action space gives a classification: ``gt[t]`` is the index of the
correct action at step ``t`` (what NeuroGym's ``Dataset`` hands a
``CrossEntropyLoss``), and the target is its one-hot vector over the actions, the
form neurodyn's masked cross-entropy takes. A one-dimensional ``Box`` action space
gives a regression: the target is ``gt`` itself, with the mean squared error.

Decision steps and the loss mask
--------------------------------
The *decision steps* of a trial are the steps of its periods named in
``decision_periods`` (default ``("decision",)``) together with, for discrete
actions, every step whose ``gt`` is not the fixation action (so a response the
environment asks for in a period of another name, ``"test"``, ``"production"``, is
one too). A trial with no decision period and no response to make (a no-go trial
of an environment without a ``"decision"`` period, or any trial of a regression task
without one) is decision throughout. The mask is 1
on decision steps; on the others (fixation) it is ``fixation_weight`` when
``fixation`` is True and 0 otherwise, so that only the decision is scored.

The default ``fixation_weight = 0.05`` is the weighting of NeuroGym's own yang19
example (``docs/examples/yang19.ipynb``: ``CrossEntropyLoss(weight=[0.05, 1, ..., 1])``,
the fixation action weighted 0.05 against 1 for every other): a mean over
weighted steps, which is what :func:`neurodyn.train.masked_cross_entropy` takes
with this mask. There the weight goes with the *class*; here with the *step*, so
that holding fixation in a no-go decision period counts as fully as responding.
``fixation_weight=1`` gives the unweighted loss of NeuroGym's
``docs/examples/supervised_learning_pytorch.ipynb`` (every step alike).

Correct trials
--------------
NeuroGym's environments score a trial by the first response in the decision
period (for example ``PerceptualDecisionMaking._step``: the first action other than
fixation ends the trial, correct if it equals ``gt``; responding during fixation
aborts). :func:`read_decisions` does the same on the arg-max output of each step:
within each run of consecutive decision steps the response is the first step whose
arg-max is not the fixation action, and the run is correct if that response equals
``gt`` there, or, with no response, if ``gt`` asks for none (no-go). A trial is
correct when every run is, and fixation was not broken (an arg-max other than
``gt`` on a scored step outside the decision runs). A regression trial is correct
when the mean absolute error over its decision steps is at most ``tolerance``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..base import Batch, Trial

__all__ = ["Layout", "flatten_variables", "read_decisions", "read_errors", "to_trial"]

#: Sequences of at most this many numbers or strings become one trial variable per
#: element (``"locs_0"``, ``"locs_1"``, ...); longer ones, and anything else that is
#: not a number or a string, become one JSON string.
MAX_FLATTENED = 16

#: Names the adapter gives things of its own (scores, scheduler variables, the
#: coordinates of a labelled batch); an environment's trial variable of the same
#: name (or ``"rule<k>"``, ``"rule<k>_index"``) is stored as ``"env_<name>"``.
RESERVED = frozenset(
    {"rule", "rule_index", "correct", "choice", "target_choice", "broke_fixation", "error",
     "trial", "time", "input", "output", "length", "unit", "state"}
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """What turns an environment's ``ob``/``gt`` into inputs, targets and mask.

    Attributes
    ----------
    dt : float
        Time step of the environment in ms (period onsets in ms are divided by it).
    n_inputs, n_outputs : int
        Number of observation channels and of actions (or action dimensions).
    discrete : bool
        Classification (one-hot targets) rather than regression.
    fixation_action : int
        Index of the action meaning "no response" (``action_space.name["fixation"]``,
        else 0, the value NeuroGym's ``gt`` holds before it is set); -1 for
        continuous actions.
    decision_periods : tuple of str
        Periods whose steps are decision steps (:attr:`AdapterOptions.decision_periods`).
    fixation : bool
        Whether steps outside the decision are scored (:attr:`AdapterOptions.fixation`).
    fixation_weight : float
        Their loss weight when they are (:attr:`AdapterOptions.fixation_weight`).

    Examples
    --------
    A two-choice trial of 6 steps of 20 ms whose last two steps are the decision:

    >>> import numpy as np
    >>> from neurodyn.tasks.neurogym_adapter.trials import Layout, to_trial
    >>> layout = Layout(dt=20.0, n_inputs=3, n_outputs=3, discrete=True, fixation_action=0,
    ...                 decision_periods=("decision",), fixation=True, fixation_weight=0.05)
    >>> gt = np.array([0, 0, 0, 0, 2, 2])
    >>> periods = {"fixation": (0.0, 80.0), "decision": (80.0, 120.0)}
    >>> layout.decision_steps(6, periods, gt).astype(int).tolist()
    [0, 0, 0, 0, 1, 1]
    >>> trial = to_trial(layout, np.zeros((6, 3)), gt, periods, {"ground_truth": 2})
    >>> trial.targets.argmax(axis=1).tolist(), trial.mask[:, 0].astype(float).round(2).tolist()
    ([0, 0, 0, 0, 2, 2], [0.05, 0.05, 0.05, 0.05, 1.0, 1.0])
    """

    dt: float
    n_inputs: int
    n_outputs: int
    discrete: bool
    fixation_action: int
    decision_periods: tuple[str, ...]
    fixation: bool
    fixation_weight: float

    def decision_steps(self, n_steps: int, periods: Mapping, labels: np.ndarray | None):
        """Boolean (time,) of decision steps; ``periods`` maps name -> (onset_ms, offset_ms).

        Parameters
        ----------
        n_steps : int
            The trial's number of steps.
        periods : mapping of str to (float, float)
            The trial's periods, ``name -> (onset_ms, offset_ms)``.
        labels : ndarray of int, shape (n_steps,), or None
            The ground-truth action of each step (discrete actions): every step
            whose label is not :attr:`fixation_action` is a decision step too.
            ``None`` for continuous actions.

        Returns
        -------
        ndarray of bool, shape (n_steps,)
            The steps of the :attr:`decision_periods` present, and the response
            steps; every step if there are neither.
        """
        steps = np.zeros(n_steps, dtype=bool)
        named = [p for p in self.decision_periods if p in periods]
        for p in named:
            on, off = (int(np.rint(x / self.dt)) for x in periods[p])
            steps[max(on, 0) : max(off, 0)] = True
        if labels is not None:
            steps |= labels != self.fixation_action
        if not named and not steps.any():
            steps[:] = True  # no decision period and nothing to respond: the trial is the decision
        return steps


def _scalar(value):
    """``value`` as a Python bool, int, float, str or None; ``NotImplemented`` if not one."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, (int, float)):
        return value
    return NotImplemented


def _json_text(value) -> str:
    def default(o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return repr(o)

    return json.dumps(value, default=default)


def flatten_variables(trial: Mapping, reserved: Sequence[str] = ()) -> dict:
    """An environment's ``trial`` dictionary as neurodyn trial variables.

    Rule: numbers, booleans and strings are kept; a list, tuple or array of at most
    :data:`MAX_FLATTENED` numbers or strings becomes one variable per element,
    ``"<name>_<i>"`` in C order (an empty one none); anything else (longer arrays,
    dictionaries, objects) becomes its JSON text. A name in :data:`RESERVED` or in
    ``reserved`` is prefixed with ``"env_"``.

    Parameters
    ----------
    trial : mapping
        The environment's ``trial`` dictionary (what ``new_trial()`` returns).
    reserved : sequence of str, optional
        More names to prefix (the adapter passes the ``<period>_on`` and
        ``<period>_off`` coordinates of the trial's periods).

    Returns
    -------
    dict
        Variable name -> number, bool, string or None.

    Examples
    --------
    >>> flatten_variables({"coh": np.float64(12.8), "vpair": (18, 10), "rule": 1})
    {'coh': 12.8, 'vpair_0': 18, 'vpair_1': 10, 'env_rule': 1}
    """
    out: dict = {}
    for key, value in trial.items():
        name = str(key)
        if name in RESERVED or name in reserved or re.fullmatch(r"rule\d+(_index)?", name):
            name = f"env_{name}"
        v = _scalar(value)
        if v is not NotImplemented:
            out[name] = v
            continue
        if isinstance(value, (list, tuple, np.ndarray)) and np.size(value) == 0:
            continue  # an empty sequence: no element to record
        arr = _small_array(value)
        if arr is None:
            out[name] = _json_text(value)
        else:
            out.update({f"{name}_{i}": _scalar(x) for i, x in enumerate(arr.ravel())})
    return out


def _small_array(value) -> np.ndarray | None:
    if not isinstance(value, (list, tuple, np.ndarray)):
        return None
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged
        return None
    if arr.dtype.kind not in "biufU" or not 0 < arr.size <= MAX_FLATTENED:
        return None
    return arr


def to_trial(layout: Layout, ob, gt, periods: dict, variables: dict) -> Trial:
    """Build the :class:`Trial` of one NeuroGym trial (``ob``: (time, n_inputs)).

    Parameters
    ----------
    layout : Layout
        How targets and mask are made.
    ob : array_like, shape (time, n_inputs)
        The trial's observations (``env.ob``), the inputs.
    gt : array_like, shape (time,) or (time, n_outputs)
        The ground truth (``env.gt``): action indices for discrete actions (the
        targets are their one-hot vectors), the target actions for continuous ones.
    periods : dict
        ``name -> (onset_ms, offset_ms)``.
    variables : dict
        The trial variables (see :func:`flatten_variables`).

    Returns
    -------
    Trial
        Inputs and targets in float32; the mask, the same on every output, is 1 on
        decision steps (:meth:`Layout.decision_steps`) and ``fixation_weight`` (or 0
        with ``fixation=False``) elsewhere.

    Examples
    --------
    A regression trial (continuous actions), scored on its decision period only:

    >>> import numpy as np
    >>> from neurodyn.tasks.neurogym_adapter.trials import Layout, to_trial
    >>> layout = Layout(dt=20.0, n_inputs=2, n_outputs=1, discrete=False, fixation_action=-1,
    ...                 decision_periods=("decision",), fixation=False, fixation_weight=0.05)
    >>> gt = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.5])
    >>> trial = to_trial(layout, np.zeros((6, 2)), gt, {"decision": (80.0, 120.0)}, {})
    >>> trial.targets[:, 0].tolist(), trial.mask[:, 0].tolist()
    ([0.0, 0.0, 0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    """
    inputs = np.array(ob, dtype=np.float32, copy=True)
    n_steps = inputs.shape[0]
    gt = np.asarray(gt)
    if layout.discrete:
        labels = gt.astype(np.int64)
        targets = np.zeros((n_steps, layout.n_outputs), dtype=np.float32)
        targets[np.arange(n_steps), labels] = 1.0
    else:
        labels = None
        targets = np.array(gt, dtype=np.float32).reshape(n_steps, layout.n_outputs)
    decision = layout.decision_steps(n_steps, periods, labels)
    off = layout.fixation_weight if layout.fixation else 0.0
    weight = np.where(decision, 1.0, off).astype(np.float32)
    mask = np.repeat(weight[:, None], layout.n_outputs, axis=1)
    return Trial(inputs, targets, mask, variables, periods)


def _runs(steps: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of consecutive True entries."""
    edges = np.diff(np.concatenate(([0], steps.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _trial_decisions(layout: Layout, y, labels, weight, periods):
    decision = layout.decision_steps(len(labels), periods, labels)
    fix = layout.fixation_action
    choice = target = fix
    runs_ok = True
    for a, b in _runs(decision):
        seg_y, seg_t = y[a:b], labels[a:b]
        responded = np.flatnonzero(seg_y != fix)
        wanted = np.flatnonzero(seg_t != fix)
        target = int(seg_t[wanted[0]]) if wanted.size else fix
        if responded.size:
            r = responded[0]
            choice = int(seg_y[r])
            runs_ok &= bool(seg_y[r] == seg_t[r])
        else:
            choice = fix
            runs_ok &= not wanted.size
    broke = bool(np.any(~decision & (weight > 0) & (y != labels)))
    return runs_ok and not broke, choice, target, broke


def read_decisions(layout: Layout, outputs: np.ndarray, batch: Batch) -> dict[str, np.ndarray]:
    """Score a classification batch (see the module docstring): per trial ``correct``,
    ``choice`` and ``target_choice`` (action indices; the fixation action when there
    was no response) and ``broke_fixation``.

    Parameters
    ----------
    layout : Layout
        The layout the batch's trials were made with (``discrete=True``).
    outputs : ndarray, shape (trial, time, n_outputs)
        Scores over the actions (logits or probabilities); the response at each
        step is their arg-max.
    batch : Batch
        The trials; their targets give ``gt`` and their mask the scored steps.

    Returns
    -------
    dict of str to ndarray
        ``correct`` and ``broke_fixation`` (bool), ``choice`` and
        ``target_choice`` (int), each of shape (trial,); with several decision
        runs in a trial, ``choice`` and ``target_choice`` are those of the last.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks.base import collate
    >>> from neurodyn.tasks.neurogym_adapter.trials import Layout, read_decisions, to_trial
    >>> layout = Layout(dt=20.0, n_inputs=3, n_outputs=3, discrete=True, fixation_action=0,
    ...                 decision_periods=("decision",), fixation=True, fixation_weight=0.05)
    >>> gt = np.array([0, 0, 0, 0, 2, 2])
    >>> trial = to_trial(layout, np.zeros((6, 3)), gt, {"decision": (80.0, 120.0)}, {})
    >>> batch = collate([trial] * 3, dt=20.0, input_names=("fixation", "s0", "s1"),
    ...                 output_names=("fixation", "c0", "c1"))
    >>> y = batch.targets.copy()
    >>> y[1] = y[1][:, [0, 2, 1]]     # trial 1 chooses action 1
    >>> y[2, 2] = [0.0, 0.0, 1.0]     # trial 2 responds before the decision period
    >>> scores = read_decisions(layout, y, batch)
    >>> scores["correct"].tolist(), scores["choice"].tolist(), scores["broke_fixation"].tolist()
    ([True, False, False], [2, 1, 2], [False, False, True])
    """
    n = batch.n_trials
    y = np.asarray(outputs).argmax(axis=-1)
    labels = batch.targets.argmax(axis=-1)
    weight = batch.mask.max(axis=-1)
    out = {
        "correct": np.zeros(n, dtype=bool),
        "choice": np.zeros(n, dtype=np.int64),
        "target_choice": np.zeros(n, dtype=np.int64),
        "broke_fixation": np.zeros(n, dtype=bool),
    }
    for i in range(n):
        length = int(batch.lengths[i])
        periods = _trial_periods(batch, i)
        row = _trial_decisions(
            layout, y[i, :length], labels[i, :length], weight[i, :length], periods
        )
        for key, value in zip(out, row, strict=True):
            out[key][i] = value
    return out


def read_errors(
    layout: Layout, outputs: np.ndarray, batch: Batch, tolerance: float
) -> dict[str, np.ndarray]:
    """Score a regression batch: per trial ``error`` (mean absolute error over the
    decision steps) and ``correct`` (``error <= tolerance``).

    Parameters
    ----------
    layout : Layout
        The layout the batch's trials were made with (``discrete=False``).
    outputs : ndarray, shape (trial, time, n_outputs)
        The network's actions.
    batch : Batch
        The trials; their targets are the correct actions.
    tolerance : float
        The largest error of a correct trial (:attr:`AdapterOptions.tolerance`).

    Returns
    -------
    dict of str to ndarray
        ``error`` (float) and ``correct`` (bool), each of shape (trial,).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks.base import collate
    >>> from neurodyn.tasks.neurogym_adapter.trials import Layout, read_errors, to_trial
    >>> layout = Layout(dt=20.0, n_inputs=2, n_outputs=1, discrete=False, fixation_action=-1,
    ...                 decision_periods=("decision",), fixation=True, fixation_weight=0.05)
    >>> gt = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.5])
    >>> trial = to_trial(layout, np.zeros((6, 2)), gt, {"decision": (80.0, 120.0)}, {})
    >>> batch = collate([trial], dt=20.0, input_names=("a", "b"), output_names=("x",))
    >>> [read_errors(layout, batch.targets + off, batch, tolerance=0.1)["correct"].item()
    ...  for off in (0.05, 0.2)]
    [True, False]
    """
    n = batch.n_trials
    err = np.zeros(n)
    for i in range(n):
        length = int(batch.lengths[i])
        steps = layout.decision_steps(length, _trial_periods(batch, i), None)
        diff = np.abs(np.asarray(outputs)[i, :length] - batch.targets[i, :length])
        err[i] = float(diff[steps].mean()) if steps.any() else 0.0
    return {"correct": err <= tolerance, "error": err}


def _trial_periods(batch: Batch, i: int) -> dict:
    return {p: (on[i], off[i]) for p, (on, off) in batch.periods.items() if np.isfinite(on[i])}
