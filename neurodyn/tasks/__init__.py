"""Cognitive tasks: periods in ms, named channels, overridable trial variables."""

from .base import Batch, Task, Trial, TrialBuilder, sample_duration
from .decision import ContextDecisionMaking, PerceptualDecisionMaking
from .digits import SequentialDigits
from .flipflop import FlipFlop
from .integration import WhiteNoiseIntegration
from .parity import NDelayedMatch, NParity
from .registry import TASKS, make_task
from .sequence import Adding, Copy
from .timing import ReadySetGo
from .working_memory import DelayedMatchToSample, GoNoGo, ParametricWorkingMemory, ProAntiSaccade

__all__ = [
    "TASKS",
    "Adding",
    "Batch",
    "ContextDecisionMaking",
    "Copy",
    "DelayedMatchToSample",
    "FlipFlop",
    "GoNoGo",
    "NDelayedMatch",
    "NParity",
    "ParametricWorkingMemory",
    "PerceptualDecisionMaking",
    "ProAntiSaccade",
    "ReadySetGo",
    "SequentialDigits",
    "Task",
    "Trial",
    "TrialBuilder",
    "WhiteNoiseIntegration",
    "make_task",
    "sample_duration",
]
