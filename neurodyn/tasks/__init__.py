"""Cognitive tasks: periods in ms, named channels, overridable trial variables."""

from .base import Batch, Task, Trial, TrialBuilder, sample_duration
from .flipflop import FlipFlop
from .registry import TASKS, make_task

__all__ = [
    "TASKS",
    "Batch",
    "FlipFlop",
    "Task",
    "Trial",
    "TrialBuilder",
    "make_task",
    "sample_duration",
]
