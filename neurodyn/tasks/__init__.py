"""Cognitive tasks: periods in ms, named channels, overridable trial variables.

Any NeuroGym environment becomes a task through :func:`from_neurogym` (or
``make_task("neurogym:<id>")``); NeuroGym is imported only then.
"""

from .base import Batch, Task, Trial, TrialBuilder, sample_duration
from .decision import ContextDecisionMaking, PerceptualDecisionMaking
from .digits import SequentialDigits
from .flipflop import FlipFlop
from .head_direction import HeadDirection
from .integration import WhiteNoiseIntegration
from .neurogym_adapter import NeurogymTask, from_neurogym
from .parity import NDelayedMatch, NParity
from .registry import TASKS, check_task_name, make_task, task_options
from .sequence import Adding, Copy
from .sine_wave import SineWaveGenerator
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
    "HeadDirection",
    "NDelayedMatch",
    "NParity",
    "NeurogymTask",
    "ParametricWorkingMemory",
    "PerceptualDecisionMaking",
    "ProAntiSaccade",
    "ReadySetGo",
    "SequentialDigits",
    "SineWaveGenerator",
    "Task",
    "Trial",
    "TrialBuilder",
    "WhiteNoiseIntegration",
    "check_task_name",
    "from_neurogym",
    "make_task",
    "sample_duration",
    "task_options",
]
