"""Tasks by name."""

from __future__ import annotations

from .._validation import check_choice
from .base import Task
from .decision import ContextDecisionMaking, PerceptualDecisionMaking
from .digits import SequentialDigits
from .flipflop import FlipFlop
from .integration import WhiteNoiseIntegration
from .parity import NDelayedMatch, NParity
from .sequence import Adding, Copy
from .timing import ReadySetGo
from .working_memory import DelayedMatchToSample, GoNoGo, ParametricWorkingMemory, ProAntiSaccade

__all__ = ["TASKS", "make_task"]

#: Every shipped task, by its ``name``.
TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        FlipFlop,
        NParity,
        NDelayedMatch,
        WhiteNoiseIntegration,
        Copy,
        Adding,
        PerceptualDecisionMaking,
        ContextDecisionMaking,
        DelayedMatchToSample,
        ParametricWorkingMemory,
        GoNoGo,
        ProAntiSaccade,
        ReadySetGo,
        SequentialDigits,
    )
}


def make_task(name: str, **kwargs) -> Task:
    """Build a task by name; unknown names get the closest suggestion."""
    return TASKS[check_choice("task", name, TASKS)](**kwargs)
