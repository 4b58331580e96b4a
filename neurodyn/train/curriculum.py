"""Curricula: a sequence of training stages with criteria to advance."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from .._validation import check_choice, check_int
from .losses import LOSSES
from .objectives import OBJECTIVES
from .recorded import is_recording

__all__ = ["Criterion", "Curriculum", "Stage"]

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Criterion:
    """``metric op threshold``, checked on validation metrics, e.g. ``val_loss <= 0.01``.

    Parameters
    ----------
    metric : str
        A key of the validation metrics: ``val_loss``, ``val_accuracy`` or any
        key a stage's ``metrics`` function adds.
    op : {">=", ">", "<=", "<"}
        How the metric is compared with ``threshold``.
    threshold : float
        The value the metric is compared with.

    Raises
    ------
    ValueError
        For an unknown ``op``; when called, for a metric the validation did not report.

    Examples
    --------
    Called with the metrics of a validation, it says whether it holds:

    >>> good_enough = Criterion("val_accuracy", ">=", 0.95)
    >>> good_enough({"val_loss": 0.2, "val_accuracy": 0.97}), str(good_enough)
    (True, 'val_accuracy >= 0.95')
    >>> Criterion("val_loss", "<=", 0.01)({"val_loss": 0.2})
    False
    """

    metric: str
    op: str
    threshold: float

    def __post_init__(self):
        check_choice("op", self.op, _OPS)

    def __call__(self, metrics: dict[str, float]) -> bool:
        if self.metric not in metrics:
            raise ValueError(
                f"criterion metric {self.metric!r} is not among the validation metrics "
                f"{sorted(metrics)}"
            )
        return bool(_OPS[self.op](metrics[self.metric], self.threshold))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass
class Stage:
    """One stage of a curriculum: what to train on, and when to move on.

    A stage trains on one of three kinds of data, as :func:`~neurodyn.train.fit`
    does without a curriculum:

    - a **task**: fresh trials every step; validation on ``n_validation`` trials
      drawn once per stage;
    - an **inputs/targets Dataset** (``inputs``, ``targets``, optional ``mask``,
      ``attrs["dt"]``): seeded mini-batches of its training trials; validation on
      its held-out trials (``val_fraction`` of them);
    - a **recording** (a Dataset with ``activity``, :mod:`neurodyn.io.recordings`):
      as a Dataset, its activity being the targets, compared with the model through
      fit's ``observed`` with the stage's objective.

    Trials are held out by their ``trial`` label (their position when a Dataset has
    no ``trial`` coordinate): the curriculum ranks every label of its Dataset stages
    once, from the seed, and each Dataset stage holds out the lowest-ranked
    ``val_fraction`` of its own trials. Stages made of the same trials (the first
    bins of every trial, then whole trials; masked neurons; another objective)
    therefore hold out the same trials, and no such stage trains on a trial another
    validates on.

    Parameters
    ----------
    task : Task, xarray.Dataset or recording
        What the stage trains on (a task's settings, or a Dataset's trials, define the
        stage). Every stage must suit the model: its inputs, its outputs (a task's or a
        Dataset's targets; the recorded neurons, which must be the same in every
        recording stage) and its ``dt``.
    advance : Criterion or sequence of Criterion, optional
        All must hold on a validation for training to advance to the next stage
        (or, on the last stage, to stop). ``None``: train until ``max_steps``.
    max_steps : int, optional
        Give up on the stage after this many steps and advance anyway.
    name : str
        Label in the training log and in error messages (default: the task's name,
        ``"recording"`` or ``"data"``).
    loss : str, optional
        What the stage minimises. For a task or an inputs/targets Dataset a loss,
        ``"mse"`` or ``"cross_entropy"`` (default: fit's ``loss``, else the task's
        loss, MSE for a Dataset); for a recording an objective, ``"mse"`` or
        ``"poisson"`` (default: fit's ``objective``, else Poisson for spike counts
        and MSE for rates).
    on_end : callable, optional
        ``on_end(model) -> dict`` of floats, called (without gradients) when the stage
        ends; its result is kept in ``FitResult.stage_log``.

    Raises
    ------
    ValueError
        ``max_steps`` that is not a positive integer, or a ``loss`` that the stage's
        data cannot be fitted with.

    Examples
    --------
    The first 3 bins of every trial of a recording (:func:`~neurodyn.io.first_bins`) until the held-out Poisson loss is at most 1.2 nats per bin:

    >>> import numpy as np
    >>> from neurodyn.io import first_bins, recording
    >>> rec = recording(np.ones((4, 6, 2)), dt=10.0, kind="counts")
    >>> first = first_bins(rec, 3)
    >>> short = Stage(first, Criterion("val_loss", "<=", 1.2))
    >>> short.name, Stage(rec, loss="mse").loss
    ('recording', 'mse')
    """

    task: Any
    advance: Criterion | Sequence[Criterion] | None = None
    max_steps: int | None = None
    name: str = ""
    loss: str | None = None
    on_end: Any = None
    criteria: tuple[Criterion, ...] = field(init=False)

    def __post_init__(self):
        if self.advance is None:
            self.criteria = ()
        elif isinstance(self.advance, Criterion):
            self.criteria = (self.advance,)
        else:
            self.criteria = tuple(self.advance)
        if self.max_steps is not None:
            self.max_steps = check_int("max_steps", self.max_steps)
        if not self.name:
            self.name = _default_name(self.task)
        if self.loss is not None:
            check_choice("loss", self.loss, OBJECTIVES if is_recording(self.task) else LOSSES)

    def done(self, metrics: dict[str, float]) -> bool:
        """Whether every advance criterion holds (never, for a stage without criteria).

        Parameters
        ----------
        metrics : dict of str to float
            The validation metrics (``val_loss``, ``val_accuracy``, ...).
        """
        return bool(self.criteria) and all(c(metrics) for c in self.criteria)


def _default_name(data) -> str:
    # An xarray.Dataset answers attribute access with its variables and attrs, so a
    # Dataset is named by its kind, never by getattr.
    if is_recording(data):
        return "recording"
    if isinstance(data, xr.Dataset):
        return "data"
    return getattr(data, "name", "stage")


@dataclass
class Curriculum:
    """An ordered list of :class:`Stage`, trained one after the other by
    :func:`~neurodyn.train.fit`.

    Training stays in a stage until every criterion of its ``advance`` holds on a
    validation (every ``val_every`` steps) or it has taken ``max_steps`` steps, then
    moves to the next stage with the same weights and optimiser state; the run ends
    after the last stage, or after fit's ``n_steps`` in total. Stages may train on
    tasks, inputs/targets Datasets or recordings, and a curriculum may mix them (a
    task first, then a recording). The batches and noise of step :math:`k` depend
    only on ``(seed, k)`` and the stage, so a run resumed from a checkpoint in any
    stage ends with the weights of an uninterrupted run.

    Parameters
    ----------
    stages : sequence of Stage
        The stages, in training order (at least one).

    Examples
    --------
    >>> from neurodyn.tasks import FlipFlop
    >>> cur = Curriculum([
    ...     Stage(FlipFlop(n_bits=1), Criterion("val_loss", "<=", 0.05)),
    ...     Stage(FlipFlop(n_bits=1, pulse_rate=8.0), Criterion("val_loss", "<=", 0.01)),
    ... ])
    >>> len(cur.stages)
    2

    On a recording: the first 3 bins of every trial until the held-out Poisson loss
    is at most 1.2 nats per bin, then whole trials for 500 steps:

    >>> import numpy as np
    >>> from neurodyn.io import first_bins, recording
    >>> rec = recording(np.ones((4, 6, 2)), dt=10.0, kind="counts")
    >>> first = first_bins(rec, 3)
    >>> cur = Curriculum([
    ...     Stage(first, Criterion("val_loss", "<=", 1.2), name="short"),
    ...     Stage(rec, max_steps=500, name="whole"),
    ... ])
    >>> [st.name for st in cur.stages]
    ['short', 'whole']
    """

    stages: list[Stage]

    def __post_init__(self):
        if not self.stages:
            raise ValueError("a curriculum needs at least one stage")
        self.stages = list(self.stages)
