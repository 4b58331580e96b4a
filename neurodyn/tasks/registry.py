"""Tasks by name."""

from __future__ import annotations

from .._validation import check_choice
from .base import Task
from .flipflop import FlipFlop

__all__ = ["TASKS", "make_task"]

#: Every shipped task, by its ``name``.
TASKS: dict[str, type[Task]] = {cls.name: cls for cls in (FlipFlop,)}


def make_task(name: str, **kwargs) -> Task:
    """Build a task by name; unknown names get the closest suggestion."""
    return TASKS[check_choice("task", name, TASKS)](**kwargs)
