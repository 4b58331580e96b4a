"""Curricula: a sequence of training stages with criteria to advance."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._validation import check_choice, check_int

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
    threshold : float
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
    """One stage of a curriculum.

    Parameters
    ----------
    task : Task
        The task trained on during this stage (its settings define the stage).
    advance : Criterion or sequence of Criterion, optional
        All must hold on a validation for training to advance to the next stage
        (or, on the last stage, to stop). ``None``: train until ``max_steps``.
    max_steps : int, optional
        Give up on the stage after this many steps and advance anyway.
    name : str
        Label in the training log.
    loss : str, optional
        Overrides the task's loss.
    on_end : callable, optional
        ``on_end(model) -> dict`` of floats, called (without gradients) when the stage
        ends; its result is kept in ``FitResult.stage_log``.
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
            self.name = getattr(self.task, "name", "stage")

    def done(self, metrics: dict[str, float]) -> bool:
        """Whether every advance criterion holds."""
        return bool(self.criteria) and all(c(metrics) for c in self.criteria)


@dataclass
class Curriculum:
    """An ordered list of :class:`Stage`.

    Examples
    --------
    >>> from neurodyn.tasks import FlipFlop
    >>> cur = Curriculum([
    ...     Stage(FlipFlop(n_bits=1), Criterion("val_loss", "<=", 0.05)),
    ...     Stage(FlipFlop(n_bits=1, pulse_rate=8.0), Criterion("val_loss", "<=", 0.01)),
    ... ])
    >>> len(cur.stages)
    2
    """

    stages: list[Stage]

    def __post_init__(self):
        if not self.stages:
            raise ValueError("a curriculum needs at least one stage")
        self.stages = list(self.stages)
