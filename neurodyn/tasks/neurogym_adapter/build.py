"""Building adapted tasks from NeuroGym ids, collections, lists of ids or environment objects."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..._validation import check_choice
from .environment import EnvParts, import_gymnasium, import_neurogym, peel, quiet_gymnasium
from .task import AdapterOptions, NeurogymTask, Source, json_values

__all__ = [
    "PREFIX",
    "SCHEDULES",
    "collections",
    "environment_arguments",
    "from_neurogym",
    "registered_ids",
    "task_from_name",
]

logger = logging.getLogger(__name__)

#: Registry names of adapted environments start with this: ``"neurogym:GoNogo-v0"``.
PREFIX = "neurogym:"

#: How a list of environments is interleaved: NeuroGym's RandomSchedule (a
#: different environment from the one before, uniformly) or SequentialSchedule.
SCHEDULES = ("random", "sequential")


def registered_ids() -> list[str]:
    """Every environment id the installed NeuroGym registers (native, collections,
    and the contributed and PsychoPy ones it registers when available), sorted.

    Returns
    -------
    list of str
        The ids, as :func:`from_neurogym` and ``make_task("neurogym:<id>")`` take them.

    Raises
    ------
    ImportError
        If NeuroGym is not installed.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import registered_ids
    >>> ids = registered_ids()
    >>> "PerceptualDecisionMaking-v0" in ids, "yang19.go-v0" in ids, ids == sorted(ids)
    (True, True, True)
    """
    from neurogym.envs.registration import all_envs

    import_neurogym()
    return all_envs(psychopy=True, contrib=True, collections=True)


def collections() -> dict[str, list[str]]:
    """NeuroGym's collections (``"yang19"``, ...) and their environment ids.

    Returns
    -------
    dict of str to list of str
        Collection name -> the ids of its environments, in NeuroGym's order (the
        order of the rule inputs when the collection is adapted).

    Raises
    ------
    ImportError
        If NeuroGym is not installed.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import collections
    >>> groups = collections()
    >>> "yang19" in groups, groups["yang19"][0]
    (True, 'yang19.go-v0')
    """
    import_neurogym()
    from neurogym.envs.collections import get_collection

    names = sorted({i.split(".", 1)[0] for i in registered_ids() if "." in i})
    return {name: get_collection(name) for name in names}


def _merge_kwargs(env_kwargs: Mapping | None, more: Mapping) -> dict:
    if env_kwargs is not None and not isinstance(env_kwargs, Mapping):
        raise ValueError(
            f"env_kwargs must be a dict of the environment's arguments, got {env_kwargs!r}"
        )
    out = dict(env_kwargs or {})
    for key, value in more.items():
        if key in out and out[key] != value:
            raise ValueError(
                f"environment argument {key!r} is given twice, as {out[key]!r} in env_kwargs "
                f"and as {value!r}"
            )
        out[key] = value
    return out


def _make(env_id: str, env_kwargs: dict):
    neurogym = import_neurogym()
    with quiet_gymnasium():
        try:
            return neurogym.make(env_id, **env_kwargs)
        except Exception as err:  # the environment's constructor: report what it raised
            raise ValueError(
                f"{PREFIX}{env_id} cannot be adapted: NeuroGym could not build it with "
                f"arguments {env_kwargs}: {type(err).__name__}: {err}"
            ) from err


def _schedule_envs(ids: Sequence[str], env_kwargs: dict, schedule: str, rule_input: bool):
    """NeuroGym's ScheduleEnvs over ``ids``, each built with ``env_kwargs``."""
    from neurogym.utils.scheduler import RandomSchedule, SequentialSchedule
    from neurogym.wrappers.block import ScheduleEnvs

    envs = [_make(i, env_kwargs) for i in ids]
    kind = RandomSchedule if schedule == "random" else SequentialSchedule
    with quiet_gymnasium():
        try:
            return ScheduleEnvs(envs, kind(len(envs)), env_input=rule_input)
        except ValueError as err:
            raise ValueError(
                f"the environments {list(ids)} cannot be scheduled together: {err}"
            ) from None


def _resolve(env_or_id) -> tuple[str, Any]:
    """``(kind, what)``: ``("id", id)``, ``("ids", [ids])`` or ``("object", env)``."""
    gymnasium = import_gymnasium()
    if isinstance(env_or_id, str):
        groups = collections()
        if env_or_id in groups:
            return "collection", env_or_id
        ids = registered_ids()
        return "id", check_choice("NeuroGym environment", env_or_id, [*ids, *groups])
    if (
        isinstance(env_or_id, (list, tuple))
        and env_or_id
        and all(isinstance(e, str) for e in env_or_id)
    ):
        ids = registered_ids()
        return "ids", [check_choice("NeuroGym environment", e, ids) for e in env_or_id]
    if isinstance(env_or_id, (gymnasium.Env, gymnasium.Wrapper)):
        return "object", env_or_id
    raise ValueError(
        "env_or_id must be a NeuroGym environment id, a collection name, a list of ids "
        f"or an environment object, got {env_or_id!r}"
    )


def from_neurogym(
    env_or_id,
    *,
    env_kwargs: Mapping | None = None,
    fixation: bool = True,
    fixation_weight: float = 0.05,
    decision_periods: Sequence[str] = ("decision",),
    tolerance: float = 0.1,
    schedule: str = "random",
    rule_input: bool = True,
    neurogym_version: str | None = None,
    **kwargs,
) -> NeurogymTask:
    """A NeuroGym environment as a neurodyn :class:`~neurodyn.tasks.Task`.

    Parameters
    ----------
    env_or_id : str, list of str or environment
        A registered id (``"PerceptualDecisionMaking-v0"``, ``"yang19.dm1-v0"``), a
        collection (``"yang19"``: its environments interleaved, as for a list), a list
        of ids (interleaved trial by trial by NeuroGym's ``ScheduleEnvs``, with a rule
        input naming the current one), or an environment object (any
        ``TrialEnv``, wrapped or scheduled; it cannot be rebuilt by name).
    env_kwargs : dict, optional
        Arguments of the environment (``dt``, ``timing``, ``sigma``, ...), for each
        environment of a list. Further keyword arguments are added to them.
    fixation, fixation_weight, decision_periods, tolerance
        How targets are weighted and trials scored: see :class:`AdapterOptions`.
    schedule : {"random", "sequential"}
        For several environments: NeuroGym's RandomSchedule (each trial from a
        different environment than the one before) or SequentialSchedule.
    rule_input : bool
        For several environments: append one input per environment, 1 on the trials
        of that environment (NeuroGym's ``env_input``; the rule input of Yang et al.
        2019).
    neurogym_version : str, optional
        The NeuroGym version a saved configuration was made with; a different
        installed version is logged, since its trials may differ.

    Returns
    -------
    NeurogymTask

    Raises
    ------
    ValueError
        Naming why an environment cannot be adapted: it has no ground truth (a
        reinforcement-learning task), actions that are neither discrete nor a vector,
        a ground truth that is no action, a wrapper acting only in ``step()``, or its
        constructor, ``reset()`` or ``new_trial()`` fails.
    ImportError
        If NeuroGym is not installed (``pip install "neurodyn[neurogym]"``).

    Examples
    --------
    >>> task = from_neurogym("PerceptualDecisionMaking-v0", dt=20)
    >>> task.input_names
    ('fixation', 'stimulus_0', 'stimulus_1')
    """
    options = AdapterOptions(
        fixation=fixation, fixation_weight=fixation_weight,
        decision_periods=decision_periods, tolerance=tolerance,
    )  # fmt: skip
    merged = _merge_kwargs(env_kwargs, kwargs)
    _check_version(neurogym_version)
    json_values(merged)  # saved with the task: refuse what a configuration cannot hold
    kind, what = _resolve(env_or_id)
    if kind == "object":
        if merged:
            raise ValueError(
                f"environment arguments {sorted(merged)} apply to an environment id, not to "
                "an environment object (build the object with them)"
            )
        return _from_object(what, options)
    if kind == "id":
        source = Source(name=PREFIX + what, env_id=what, env_kwargs=merged)
        return NeurogymTask(_make(what, merged), source=source, options=options)
    check_choice("schedule", schedule, SCHEDULES)
    if not isinstance(rule_input, bool):
        raise ValueError(f"rule_input must be True or False, got {rule_input!r}")
    ids = collections()[what] if kind == "collection" else list(what)
    name = PREFIX + (what if kind == "collection" else "+".join(ids))
    multi = {"schedule": schedule, "rule_input": rule_input}
    source = Source(name=name, env_id=what, env_kwargs=merged, multi=multi)
    env = _schedule_envs(ids, merged, schedule, rule_input)
    return NeurogymTask(env, source=source, options=options)


def _from_object(env, options: AdapterOptions) -> NeurogymTask:
    unit = peel(env, "the environment").unwrapped
    cls = type(unit)
    source = Source(
        name=PREFIX + cls.__name__,
        env_id=None,
        env_kwargs={},
        env_class=f"{cls.__module__}:{cls.__qualname__}",
    )
    return NeurogymTask(env, source=source, options=options)


def _check_version(version: str | None) -> None:
    installed = import_neurogym().__version__
    if version is not None and str(version) != installed:
        logger.warning(
            "this task was configured with NeuroGym %s; NeuroGym %s is installed, whose "
            "trials may differ",
            version,
            installed,
        )


def task_from_name(name: str, **config) -> NeurogymTask:
    """Rebuild a task from its registry name and :meth:`NeurogymTask.config`.

    ``name`` is ``"neurogym:<id>"``, ``"neurogym:<collection>"`` or
    ``"neurogym:<id>+<id>+..."``; ``config`` may repeat the id as ``env_id``.

    Parameters
    ----------
    name : str
        The task's registry name (:attr:`NeurogymTask.name`), starting with
        ``"neurogym:"``.
    **config
        Keyword arguments of :func:`from_neurogym` (environment arguments and adapter
        options), or a saved :meth:`NeurogymTask.config`, whose ``env_id`` must
        match ``name`` and whose ``env_class`` is ignored.

    Returns
    -------
    NeurogymTask

    Raises
    ------
    ValueError
        If ``config``'s ``env_id`` differs from ``name``, or is None (a task adapted
        from an environment object, which cannot be rebuilt by name), or as
        :func:`from_neurogym` raises.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter import from_neurogym, task_from_name
    >>> task = from_neurogym("GoNogo-v0", dt=20, fixation_weight=0.1)
    >>> task.name
    'neurogym:GoNogo-v0'
    >>> rebuilt = task_from_name(task.name, **task.config())
    >>> rebuilt.config() == task.config(), rebuilt.dt
    (True, 20.0)
    """
    source = name[len(PREFIX) :]
    target: Any = source.split("+") if "+" in source else source
    if "env_id" in config:
        env_id = config.pop("env_id")
        if env_id is None:
            raise ValueError(
                f"{name} was adapted from an environment object "
                f"({config.get('env_class', 'unknown class')}), not from a NeuroGym id: it "
                "cannot be rebuilt by name; pass the object to neurodyn.tasks.from_neurogym"
            )
        if env_id != target:
            raise ValueError(f"env_id={env_id!r} does not match the task name {name!r}")
    config.pop("env_class", None)
    return from_neurogym(target, **config)


def _named_parameters(function) -> set[str]:
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(function).parameters.values()
    return {p.name for p in params if p.kind in kinds} - {"self"}


@functools.lru_cache(maxsize=64)
def environment_arguments(source: str) -> frozenset[str]:
    """Names of the constructor arguments of the environment(s) ``source`` names (an
    id, a collection or ids joined by ``+``); a collection's environments are
    factory functions, so they are built once to read their classes' arguments
    (cached: sweep specifications ask once per swept name).

    Parameters
    ----------
    source : str
        What follows ``"neurogym:"`` in a task name: an id, a collection, or ids
        joined by ``+``.

    Returns
    -------
    frozenset of str
        The union of the constructors' named arguments over the environments.
    """
    gymnasium = import_gymnasium()
    kind, what = _resolve(source.split("+") if "+" in source else source)
    ids = [what] if kind == "id" else (collections()[what] if kind == "collection" else what)
    out: set[str] = set()
    for env_id in ids:
        module, attr = str(gymnasium.spec(env_id).entry_point).split(":")
        creator = getattr(importlib.import_module(module), attr)
        if isinstance(creator, type):
            out |= _named_parameters(creator.__init__)
            continue
        for unit in EnvParts.of(_make(env_id, {}), env_id).units:
            out |= _named_parameters(type(unit).__init__)
    return frozenset(out)
