"""Tasks by name."""

from __future__ import annotations

from .._validation import check_choice
from .base import Task
from .decision import ContextDecisionMaking, PerceptualDecisionMaking
from .digits import SequentialDigits
from .flipflop import FlipFlop
from .head_direction import HeadDirection
from .integration import WhiteNoiseIntegration
from .neurogym_adapter import PREFIX as NEUROGYM_PREFIX
from .neurogym_adapter import AdapterOptions, environment_arguments, task_from_name
from .parity import NDelayedMatch, NParity
from .sequence import Adding, Copy
from .sine_wave import SineWaveGenerator
from .timing import ReadySetGo
from .working_memory import DelayedMatchToSample, GoNoGo, ParametricWorkingMemory, ProAntiSaccade

__all__ = ["NEUROGYM_PREFIX", "TASKS", "check_task_name", "make_task", "task_options"]

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
        SineWaveGenerator,
        HeadDirection,
    )
}


def check_task_name(name, label: str = "task") -> str:
    """Return ``name`` if it names a task: a key of :data:`TASKS`, or a NeuroGym
    environment as ``"neurogym:<id>"`` (checked when the task is built, since that
    imports NeuroGym); otherwise a ValueError suggesting the closest name.

    Parameters
    ----------
    name : str
        The name to check.
    label : str
        What the error message calls it (an option's name).

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    ValueError
        If ``name`` is neither; the message lists the task names and suggests the
        closest.

    Examples
    --------
    >>> from neurodyn.tasks import check_task_name
    >>> check_task_name("flip_flop"), check_task_name("neurogym:GoNogo-v0")
    ('flip_flop', 'neurogym:GoNogo-v0')
    >>> check_task_name("flipflop", label="--task")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --task='flipflop' is not recognised; expected one of [...]. Did you mean 'flip_flop'?
    """
    if (
        isinstance(name, str)
        and name.startswith(NEUROGYM_PREFIX)
        and len(name) > len(NEUROGYM_PREFIX)
    ):
        return name
    return check_choice(label, name, TASKS)


def make_task(name: str, **kwargs) -> Task:
    """Build a task by name; unknown names get the closest suggestion.

    ``"neurogym:<id>"`` adapts a NeuroGym environment (``<id>`` a registered id, a
    collection such as ``yang19``, or ids joined by ``+``): ``kwargs`` are the
    environment's arguments and the adapter's options, as
    :func:`neurodyn.tasks.from_neurogym` takes them, or a saved task's
    :meth:`~neurodyn.tasks.Task.config`.

    Parameters
    ----------
    name : str
        A key of :data:`TASKS`, or ``"neurogym:<id>"``.

    Examples
    --------
    >>> make_task("flip_flop", n_bits=2).n_outputs
    2
    >>> make_task("neurogym:PerceptualDecisionMaking-v0", dt=20).input_names
    ('fixation', 'stimulus_0', 'stimulus_1')
    """
    name = check_task_name(name)
    if name.startswith(NEUROGYM_PREFIX):
        return task_from_name(name, **kwargs)
    return TASKS[name](**kwargs)


def task_options(name: str) -> frozenset[str]:
    """The keyword arguments ``make_task(name, ...)`` takes (``dt``, ``timing`` and the
    task's parameters; for a NeuroGym environment the adapter's options, ``env_kwargs``
    and the arguments of the environment's constructor).

    Parameters
    ----------
    name : str
        A task's name, as :func:`make_task` takes it.

    Returns
    -------
    frozenset of str

    Raises
    ------
    ValueError
        If ``name`` names no task (see :func:`check_task_name`).

    Examples
    --------
    >>> from neurodyn.tasks import task_options
    >>> sorted(task_options("flip_flop"))
    ['dt', 'n_bits', 'pulse_ms', 'pulse_rate', 'timing']
    >>> {"sigma", "cohs", "fixation_weight"} <= task_options("neurogym:PerceptualDecisionMaking-v0")
    True
    """
    name = check_task_name(name)
    if not name.startswith(NEUROGYM_PREFIX):
        return frozenset({"dt", "timing", *TASKS[name].default_params})
    adapter = {*AdapterOptions.__dataclass_fields__, "env_kwargs", "schedule", "rule_input"}
    return frozenset(adapter | environment_arguments(name[len(NEUROGYM_PREFIX) :]))
