"""A NeuroGym environment's parts as the adapter sees them.

NeuroGym builds a trial in ``new_trial()`` on the object at the top of its *trial*
chain (a ``TrialEnv``, or the outermost ``TrialWrapper`` around one) and leaves the
trial's observations and ground truth in ``env.unwrapped.ob`` and ``env.unwrapped.gt``,
its periods in ``start_ind``/``end_ind`` and its variables in ``env.unwrapped.trial``.
That is what NeuroGym's own supervised ``Dataset`` reads (``neurogym/utils/data.py``),
and what this module finds: the top of the trial chain under gymnasium's bookkeeping
wrappers, the schedulers (``ScheduleEnvs``, ``MultiEnvs``) that pick a sub-environment
per trial, every ``TrialEnv`` below them, and the names of the input and output
channels from the spaces' ``name`` dictionaries.

NeuroGym is imported on first use (:func:`import_neurogym`): it is an optional
dependency and takes seconds to import, so ``import neurodyn`` never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BOOKKEEPING_WRAPPERS",
    "EnvParts",
    "channel_names",
    "import_gymnasium",
    "import_neurogym",
    "quiet_gymnasium",
    "rule_variable",
    "short_env_name",
]

logger = logging.getLogger(__name__)

#: gymnasium wrappers that only check the order of calls or the spaces; they do not
#: change a trial, so the adapter looks through them (``neurogym.make`` adds them).
BOOKKEEPING_WRAPPERS = ("OrderEnforcing", "PassiveEnvChecker")

#: Warnings gymnasium 0.29 emits for NeuroGym's own use of it: environments without
#: ``render_modes`` metadata, and NeuroGym wrappers reading attributes through
#: gymnasium wrappers (``self.env.new_trial``), which gymnasium deprecates.
_GYMNASIUM_NOISE = (
    r".*environment creator metadata doesn't include `render_modes`.*",
    r".*to get variables from other wrappers is deprecated.*",
)

INSTALL_HINT = 'pip install "neurodyn[neurogym]"'


def import_neurogym():
    """The ``neurogym`` module, or an ImportError saying how to install it.

    Returns
    -------
    module
        ``neurogym``, imported on the first call.

    Raises
    ------
    ImportError
        If NeuroGym is not installed; the message gives the ``pip`` command.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter.environment import import_neurogym
    >>> neurogym = import_neurogym()
    >>> neurogym.__name__, callable(neurogym.make)
    ('neurogym', True)
    """
    # Imported here, not at module top: NeuroGym is optional and its import takes
    # seconds (it loads its logging and configuration stack), so ``import neurodyn``
    # must not pay for it.
    try:
        import neurogym
    except ImportError as err:
        raise ImportError(
            f"NeuroGym environments need the neurogym package ({err}); install it with "
            f"{INSTALL_HINT}"
        ) from err
    return neurogym


@contextlib.contextmanager
def quiet_gymnasium() -> Iterator[None]:
    """Silence the warnings gymnasium raises about NeuroGym's own code (see ``_GYMNASIUM_NOISE``).

    Only those warnings are silenced, and only inside the block; every other
    warning is shown as usual.

    Examples
    --------
    >>> import warnings
    >>> from neurodyn.tasks.neurogym_adapter.environment import quiet_gymnasium
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with quiet_gymnasium():
    ...         warnings.warn("env.foo to get variables from other wrappers is deprecated")
    ...         warnings.warn("something else")
    >>> [str(w.message) for w in caught]
    ['something else']
    """
    with warnings.catch_warnings():
        for pattern in _GYMNASIUM_NOISE:
            warnings.filterwarnings("ignore", message=pattern, category=UserWarning)
        yield


def short_env_name(env_id: str) -> str:
    """``"yang19.go-v0"`` -> ``"go"``, ``"GoNogo-v0"`` -> ``"GoNogo"``.

    Parameters
    ----------
    env_id : str
        A NeuroGym environment id; its version suffix ``-v<n>`` and any collection
        prefix up to the last ``.`` are removed.

    Returns
    -------
    str

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter.environment import short_env_name
    >>> short_env_name("yang19.go-v0"), short_env_name("GoNogo-v0")
    ('go', 'GoNogo')
    """
    return re.sub(r"-v\d+$", "", env_id).rsplit(".", 1)[-1]


def _is_trial_level(obj) -> bool:
    # TrialEnv and TrialWrapper define new_trial in the class; gymnasium wrappers only
    # forward it through __getattr__ (with a deprecation warning), so ask the type.
    return hasattr(type(obj), "new_trial")


def peel(obj, what: str):
    """The first trial-level object under ``obj``'s gymnasium bookkeeping wrappers.

    Raises
    ------
    ValueError
        If a wrapper that acts only in ``step()`` (NeuroGym's ``Noise``, ``PassReward``,
        ``PassAction``, ``ReactionTime``, ``Monitor``, ...) sits above the trial chain:
        its effect is not in ``env.ob``/``env.gt``, which are the trials the adapter
        (and NeuroGym's ``Dataset``) read; or if there is no NeuroGym trial below.
    """
    gymnasium = import_gymnasium()
    while not _is_trial_level(obj):
        name = type(obj).__name__
        if not isinstance(obj, gymnasium.Wrapper):
            raise ValueError(
                f"{what} cannot be adapted: it is a {name}, not a NeuroGym trial "
                "environment (a TrialEnv with new_trial()), so it has no trials"
            )
        if name not in BOOKKEEPING_WRAPPERS:
            raise ValueError(
                f"{what} cannot be adapted: it is wrapped in {name}, which acts only in "
                "step(); its effect is not in env.ob and env.gt, the trials NeuroGym's "
                f"Dataset and this adapter read (adapt the environment inside {name})"
            )
        obj = obj.env
    return obj


def import_gymnasium():
    """The ``gymnasium`` module (NeuroGym's dependency; an ImportError says how to install).

    Returns
    -------
    module
        ``gymnasium``.

    Raises
    ------
    ImportError
        If NeuroGym (which brings gymnasium) is not installed.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter.environment import import_gymnasium
    >>> gymnasium = import_gymnasium()
    >>> int(gymnasium.spaces.Discrete(3).n)
    3
    """
    import_neurogym()  # gymnasium comes with NeuroGym; say how to install that
    import gymnasium

    return gymnasium


def _schedulers():
    from neurogym.wrappers.block import MultiEnvs, ScheduleEnvs

    return ScheduleEnvs, MultiEnvs


def _space_names(space) -> dict:
    names = getattr(space, "name", None)
    return dict(names) if isinstance(names, Mapping) else {}


@dataclass
class Level:
    """A scheduler in the trial chain, its nesting depth (0: outermost) and the names
    of its sub-environments."""

    scheduler: Any
    names: tuple[str, ...]
    depth: int

    @property
    def rule_input(self) -> bool:
        return bool(getattr(self.scheduler, "env_input", False))

    def current(self) -> int:
        """Index of the sub-environment of the last trial."""
        return int(self.scheduler.i_env)

    def select(self, index: int) -> None:
        """Make the next trial come from sub-environment ``index``."""
        schedule_envs, _ = _schedulers()
        if isinstance(self.scheduler, schedule_envs):
            # ScheduleEnvs draws the next index after each trial into next_i_env.
            self.scheduler.next_i_env = index
        else:
            self.scheduler.set_i(index)


@dataclass
class EnvParts:
    """The pieces of one environment that trial generation touches.

    Deep-copied together (one ``copy.deepcopy`` of the whole object), so the copy's
    ``top``, ``levels`` and ``units`` refer to each other as the originals do.

    Attributes
    ----------
    outer : object
        The environment as given (with its gymnasium wrappers).
    top : object
        The trial-level object whose ``new_trial`` makes a trial.
    levels : list of Level
        Schedulers from the outermost in.
    units : list
        Every ``TrialEnv`` below ``top`` (one per sub-environment).

    Examples
    --------
    Two of Yang et al.'s tasks interleaved by NeuroGym's scheduler, each made of
    two modality sub-environments:

    >>> import neurogym
    >>> from neurogym.utils.scheduler import RandomSchedule
    >>> from neurogym.wrappers.block import ScheduleEnvs
    >>> from neurodyn.tasks.neurogym_adapter.environment import EnvParts, quiet_gymnasium
    >>> with quiet_gymnasium():
    ...     envs = [neurogym.make(i, dt=20) for i in ("yang19.go-v0", "yang19.anti-v0")]
    ...     parts = EnvParts.of(ScheduleEnvs(envs, RandomSchedule(2), env_input=True), "go+anti")
    >>> [(level.names, level.depth) for level in parts.levels]
    [(('go', 'anti'), 0), (('modality1', 'modality2'), 1), (('modality1', 'modality2'), 1)]
    >>> len(parts.units)
    4
    """

    outer: Any
    top: Any
    levels: list[Level] = field(default_factory=list)
    units: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, env, what: str) -> EnvParts:
        """Find the parts of ``env``.

        Parameters
        ----------
        env : gymnasium.Env
            A NeuroGym environment, possibly wrapped or scheduled.
        what : str
            How error messages name the environment (its task name).

        Raises
        ------
        ValueError
            If no NeuroGym trial environment lies below ``env``'s bookkeeping
            wrappers, or a wrapper acting only in ``step()`` sits above it.
        """
        from neurogym.core import TrialEnv

        top = peel(env, what)
        parts = cls(outer=env, top=top)
        schedulers = _schedulers()
        queue = [(top, 0)]
        while queue:
            obj, depth = queue.pop(0)
            if isinstance(obj, TrialEnv):
                parts.units.append(obj)
            elif isinstance(obj, schedulers):
                parts.levels.append(Level(obj, _sub_names(obj.envs), depth))
                queue.extend((peel(e, what), depth + 1) for e in obj.envs)
            else:
                queue.append((peel(obj.env, what), depth))
        return parts

    def current_levels(self) -> list[tuple[Level, int]]:
        """The schedulers the last trial went through, outermost first, each with the
        index of the sub-environment it chose."""
        from neurogym.core import TrialEnv

        by_id = {id(lv.scheduler): lv for lv in self.levels}
        out, obj = [], self.top
        while not isinstance(obj, TrialEnv):
            level = by_id.get(id(obj))
            if level is not None:
                out.append((level, level.current()))
            obj = peel(obj.env, "the environment")
        return out

    @property
    def unit(self):
        """The ``TrialEnv`` that made the last trial."""
        return self.top.unwrapped

    def clear_periods(self) -> None:
        """Forget the periods of earlier trials.

        ``TrialEnv`` keeps ``start_ind``/``end_ind`` entries across trials, so a period
        an environment adds only on some trials would otherwise linger.
        """
        for u in self.units:
            for attr in ("start_t", "end_t", "start_ind", "end_ind", "_duration"):
                getattr(u, attr).clear()


def _sub_names(envs: Sequence) -> tuple[str, ...]:
    """Names of a scheduler's sub-environments: their ids (``"go"`` for
    ``"yang19.go-v0"``, the full id where short ones clash); else ``"modality1"``,
    ``"modality2"`` for NeuroGym's modality wrappers (the two modalities of each
    ``yang19`` task); else ``"env0"``, ``"env1"``, ..."""
    ids = [getattr(getattr(e, "spec", None), "id", None) for e in envs]
    if all(ids) and len(set(ids)) == len(ids):
        short = [short_env_name(i) for i in ids]
        return tuple(short if len(set(short)) == len(short) else ids)
    modality = [vars(e).get("modality") for e in envs]
    if all(isinstance(m, int) for m in modality) and len(set(modality)) == len(modality):
        return tuple(f"modality{m + 1}" for m in modality)
    return tuple(f"env{i}" for i in range(len(envs)))


def _name_dicts(parts: EnvParts, which: str) -> list[dict]:
    """Every ``name`` dictionary of the ``which`` space along the trial chain."""
    seen, out = set(), []
    objects = [parts.top, *(lv.scheduler for lv in parts.levels)]
    for lv in parts.levels:
        objects.extend(lv.scheduler.envs)
    objects.extend(parts.units)
    for obj in objects:
        d = _space_names(getattr(obj, which))
        key = repr(sorted((k, repr(v)) for k, v in d.items()))
        if d and key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _indices(value) -> list[int]:
    if isinstance(value, (int, np.integer)):
        return [int(value)]
    return [int(i) for i in np.asarray(list(value)).ravel()]


def channel_names(parts: EnvParts, which: str, n: int, fallback: str) -> tuple[str, ...]:
    """Names of the ``n`` channels of ``which`` (``"observation_space"`` or ``"action_space"``).

    Rule: a name the space gives to one channel is used as it is (``"fixation"``); a
    name given to several channels (a range or list) numbers them from 0 in channel
    order (``"stimulus_0"``, ``"stimulus_1"``, ...), the union taken over every
    sub-environment of a scheduled environment (so the two modalities of a ``yang19``
    task are ``stimulus_0`` ... ``stimulus_31``). A scheduler with a rule input appends
    one channel per sub-environment, ``"rule_<name>"`` (``"rule<k>_<name>"`` at the
    k-th nested scheduler). Channels no space names are ``"<fallback>_<index>"``.
    A name that would repeat gets a suffix ``_1``, ``_2``, ...

    Parameters
    ----------
    parts : EnvParts
        The environment's parts.
    which : {"observation_space", "action_space"}
        Which space's channels to name (inputs or outputs).
    n : int
        Number of channels.
    fallback : str
        Prefix of a channel no space names (``"input"``, ``"action"``).

    Returns
    -------
    tuple of str
        ``n`` distinct names, in channel order.

    Examples
    --------
    >>> import neurogym
    >>> from neurodyn.tasks.neurogym_adapter.environment import (
    ...     EnvParts, channel_names, quiet_gymnasium)
    >>> with quiet_gymnasium():
    ...     parts = EnvParts.of(neurogym.make("PerceptualDecisionMaking-v0"), "pdm")
    >>> parts.units[0].observation_space.name
    {'fixation': 0, 'stimulus': [1, 2]}
    >>> channel_names(parts, "observation_space", 3, "input")
    ('fixation', 'stimulus_0', 'stimulus_1')
    >>> channel_names(parts, "action_space", 4, "action")
    ('fixation', 'choice_0', 'choice_1', 'action_3')
    """
    groups: dict[str, list[int]] = {}
    for d in _name_dicts(parts, which):
        for key, value in d.items():
            groups.setdefault(str(key), [])
            groups[str(key)].extend(_indices(value))
    names: list[str | None] = [None] * n
    for key, idx in groups.items():
        idx = sorted(set(i for i in idx if 0 <= i < n))
        for k, i in enumerate(idx):
            label = key if len(idx) == 1 else f"{key}_{k}"
            if names[i] is None:
                names[i] = label
            else:
                logger.debug(
                    "channel %d is named both %r and %r; keeping the first", i, names[i], label
                )
    if which == "observation_space":
        # Each scheduler with a rule input appends its channels after those of the
        # schedulers inside it, so the outermost one's come last.
        end, named_depths = n, set()
        for lv in parts.levels:
            if lv.rule_input and lv.depth not in named_depths:
                named_depths.add(lv.depth)
                start = end - len(lv.names)
                for j, sub in enumerate(lv.names):
                    names[start + j] = f"{rule_variable(lv.depth)}_{sub}"
                end = start
    out = [name if name is not None else f"{fallback}_{i}" for i, name in enumerate(names)]
    return _unique(out)


def rule_variable(depth: int) -> str:
    """The trial variable naming the sub-environment chosen at a scheduler of nesting
    ``depth``: ``"rule"`` for the outermost, ``"rule1"``, ``"rule2"``, ... inside it.

    Parameters
    ----------
    depth : int
        The scheduler's nesting depth (0: outermost).

    Returns
    -------
    str
        Also the prefix of that scheduler's rule-input channels and, with
        ``"_index"``, the name of the variable holding the sub-environment's index.

    Examples
    --------
    >>> from neurodyn.tasks.neurogym_adapter.environment import rule_variable
    >>> [rule_variable(d) for d in range(3)]
    ['rule', 'rule1', 'rule2']
    """
    return "rule" if depth == 0 else f"rule{depth}"


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return tuple(out)
