"""NeuroGym environments as neurodyn tasks: :func:`from_neurogym` and :class:`NeurogymTask`."""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..._validation import check_choice, check_int, check_positive
from ...seeding import make_rng, resolve_seed
from ..base import Batch, Task, Trial, TrialBuilder, collate
from .environment import (
    EnvParts,
    channel_names,
    import_gymnasium,
    import_neurogym,
    quiet_gymnasium,
    rule_variable,
)
from .seeding import seeded
from .trials import Layout, flatten_variables, read_decisions, read_errors, to_trial

__all__ = ["AdapterOptions", "NeurogymTask", "Source", "json_values"]

logger = logging.getLogger(__name__)

#: Trials generated at construction to check that an environment adapts (one more
#: per sub-environment of a scheduled one).
N_PROBE = 3


@dataclass(frozen=True)
class AdapterOptions:
    """How an environment's trials become targets, mask and scores.

    Parameters
    ----------
    fixation : bool
        Score the steps outside the decision (default True): the mask there is
        ``fixation_weight``; with False it is 0 and only the decision counts.
    fixation_weight : float
        Loss weight of a fixation step against 1 for a decision step (default 0.05,
        the weighting of NeuroGym's yang19 example; see
        :mod:`neurodyn.tasks.neurogym_adapter.trials`).
    decision_periods : tuple of str
        Periods whose steps are decision steps (default ``("decision",)``); for
        discrete actions every step whose ground truth is not the fixation action is
        one as well.
    tolerance : float
        For continuous actions: the largest mean absolute error over the decision
        steps of a correct trial (default 0.1).

    Raises
    ------
    ValueError
        If ``fixation`` is not a bool, ``fixation_weight`` is not positive,
        ``tolerance`` is negative or ``decision_periods`` is not a sequence of names.

    Examples
    --------
    :func:`~neurodyn.tasks.from_neurogym` takes the options as keyword arguments;
    ``fixation=False`` leaves only the decision steps in the loss:

    >>> import numpy as np
    >>> from neurodyn.tasks import from_neurogym
    >>> from neurodyn.tasks.neurogym_adapter import AdapterOptions
    >>> AdapterOptions(decision_periods=["test", "decision"]).decision_periods
    ('test', 'decision')
    >>> weighted = from_neurogym("GoNogo-v0", dt=20).batch(2, seed=0)
    >>> decision_only = from_neurogym("GoNogo-v0", dt=20, fixation=False).batch(2, seed=0)
    >>> [np.unique(b.mask).astype(float).round(2).tolist() for b in (weighted, decision_only)]
    [[0.05, 1.0], [0.0, 1.0]]
    """

    fixation: bool = True
    fixation_weight: float = 0.05
    decision_periods: tuple[str, ...] = ("decision",)
    tolerance: float = 0.1

    def __post_init__(self):
        if not isinstance(self.fixation, bool):
            raise ValueError(f"fixation must be True or False, got {self.fixation!r}")
        check_positive("fixation_weight", self.fixation_weight)
        check_positive("tolerance", self.tolerance, allow_zero=True)
        periods = self.decision_periods
        if isinstance(periods, str) or not isinstance(periods, (list, tuple)):
            raise ValueError(
                f"decision_periods must be a sequence of period names, got {periods!r}"
            )
        if not all(isinstance(p, str) for p in periods):
            raise ValueError(
                f"decision_periods must be a sequence of period names, got {periods!r}"
            )
        object.__setattr__(self, "decision_periods", tuple(periods))


@dataclass(frozen=True)
class Source:
    """Where the environment came from: what :meth:`NeurogymTask.config` records.

    Parameters
    ----------
    name : str
        The task's registry name, ``"neurogym:<id>"`` (also :attr:`NeurogymTask.name`).
    env_id : str, list of str or None
        The id or collection name the environment was built from, the list of ids
        of a scheduled environment, or None for an environment object (which
        cannot be rebuilt by name).
    env_kwargs : dict
        The environment's constructor arguments (JSON values).
    multi : dict, optional
        For several environments: ``{"schedule": ..., "rule_input": ...}`` as
        :func:`~neurodyn.tasks.from_neurogym` took them.
    env_class : str, optional
        ``"module:QualifiedName"`` of an environment object's class, recorded in
        the configuration for the reader's information.

    Examples
    --------
    An environment built by hand becomes a task under a name of one's choosing:

    >>> import neurogym
    >>> from neurodyn.tasks import NeurogymTask
    >>> from neurodyn.tasks.neurogym_adapter import AdapterOptions
    >>> from neurodyn.tasks.neurogym_adapter.environment import quiet_gymnasium
    >>> from neurodyn.tasks.neurogym_adapter.task import Source
    >>> with quiet_gymnasium():
    ...     env = neurogym.make("GoNogo-v0", dt=20)
    >>> source = Source(name="neurogym:my_gonogo", env_id=None, env_kwargs={},
    ...                 env_class="neurogym.envs.native.gonogo:GoNogo")
    >>> task = NeurogymTask(env, source=source, options=AdapterOptions())
    >>> task.name, task.config()["env_id"], task.config()["env_class"]
    ('neurogym:my_gonogo', None, 'neurogym.envs.native.gonogo:GoNogo')
    """

    name: str
    env_id: Any  # str (an id or a collection), list of ids, or None (an object)
    env_kwargs: dict
    multi: dict | None = None  # schedule and rule_input of several environments
    env_class: str | None = None


class NeurogymTask(Task):
    """A NeuroGym environment as a neurodyn :class:`~neurodyn.tasks.Task`.

    Build it with :func:`from_neurogym` (or ``make_task("neurogym:<env id>")``).
    Each trial is one ``new_trial()`` of the environment: inputs are its ``ob``,
    targets its ``gt`` (one-hot over the actions for a discrete action space, with
    ``loss = "cross_entropy"``; ``gt`` itself for a continuous one, with
    ``loss = "mse"``), periods its ``start_ind``/``end_ind`` (in ms: step × ``dt``),
    and trial variables its ``trial`` dictionary (flattened, see
    :func:`~neurodyn.tasks.neurogym_adapter.trials.flatten_variables`), plus ``rule``
    and ``rule_index`` for a scheduled environment. Trials are kept whole and
    aligned; shorter ones are padded with zero mask.

    Every batch is drawn from a fresh copy of the environment whose random streams,
    and NumPy's and Python's global ones, are seeded from the batch's seed (see
    :mod:`neurodyn.tasks.neurogym_adapter.seeding`), so the same seed gives the same
    batch, bit for bit. Any entry of the environment's trial dictionary that its
    ``new_trial`` takes can be fixed (``task.batch(8, ground_truth=1)``), and
    ``rule`` (a name or an index) picks the sub-environment of a scheduled one.

    The oracle is the environment's ground truth (the targets), and
    :meth:`evaluate` scores the first response of each decision as NeuroGym's
    environments do (see :mod:`neurodyn.tasks.neurogym_adapter.trials`).

    Parameters
    ----------
    env : gymnasium.Env
        A NeuroGym environment (a ``TrialEnv``, possibly under gymnasium's
        bookkeeping wrappers, NeuroGym's ``TrialWrapper`` s or a scheduler such as
        ``ScheduleEnvs``). Its ``dt`` becomes the task's; the task keeps it and
        draws every batch from a copy.
    source : Source
        Where ``env`` came from; gives the task's :attr:`name` and what
        :meth:`config` records.
    options : AdapterOptions
        How targets are weighted and trials scored.

    Raises
    ------
    ValueError
        Naming why the environment cannot be adapted (see
        :func:`~neurodyn.tasks.from_neurogym`).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks import from_neurogym
    >>> task = from_neurogym("PerceptualDecisionMaking-v0", dt=20)
    >>> task.loss, task.output_names, sorted(task.settable)
    ('cross_entropy', ('fixation', 'choice_0', 'choice_1'), ['coh', 'ground_truth'])
    >>> batch = task.batch(3, seed=0, coh=25.6, ground_truth=[0, 1, 1])
    >>> batch.inputs.shape, list(batch.periods)
    ((3, 110, 3), ['fixation', 'stimulus', 'delay', 'decision'])
    >>> scores = task.evaluate(task.oracle(batch), batch)
    >>> scores["correct"].tolist(), scores["choice"].tolist()
    ([True, True, True], [1, 2, 2])
    >>> bool(np.array_equal(task.batch(3, seed=0).inputs, task.batch(3, seed=0).inputs))
    True
    """

    default_params = asdict(AdapterOptions())

    def __init__(self, env, *, source: Source, options: AdapterOptions):
        self._source = source
        self._options = options
        what = source.name
        self._parts = EnvParts.of(env, what)
        dt = self._check_parts()
        super().__init__(dt=dt, **asdict(options))
        self.name = source.name
        self._describe()
        self._layout = self._make_layout()
        # Trials are probed before reset(), which makes one itself, so that a failing
        # new_trial() is reported as such.
        self._settable = self._probe()
        self._reset()

    # -- construction ----------------------------------------------------------------
    def _refuse(self, why: str) -> ValueError:
        return ValueError(f"{self._source.name} cannot be adapted: {why}")

    def _check_parts(self) -> float:
        gymnasium = import_gymnasium()
        units = self._parts.units
        dts = {float(u.dt) for u in units}
        if len(dts) != 1:
            raise self._refuse(f"its sub-environments run at different dt {sorted(dts)}")
        obs = self._parts.top.observation_space
        if not isinstance(obs, gymnasium.spaces.Box) or len(obs.shape) != 1:
            raise self._refuse(f"its observation space {obs} is not a vector (a 1-D Box)")
        spaces = [u.action_space for u in units]
        first = spaces[0]
        if isinstance(first, gymnasium.spaces.Discrete):
            same = all(isinstance(s, gymnasium.spaces.Discrete) and s.n == first.n for s in spaces)
            if int(first.start) != 0:
                raise self._refuse(f"its actions start at {first.start}, not 0")
        elif isinstance(first, gymnasium.spaces.Box) and len(first.shape) == 1:
            same = all(getattr(s, "shape", None) == first.shape for s in spaces)
        else:
            raise self._refuse(
                f"its action space {first} is neither discrete nor a vector of continuous actions"
            )
        if not same:
            raise self._refuse("its sub-environments have different action spaces")
        return dts.pop()

    def _describe(self) -> None:
        unit = self._parts.units[0]
        meta = dict(getattr(type(unit), "metadata", {}) or {})
        doc = (type(unit).__doc__ or "").strip().splitlines()
        self.description = f"NeuroGym {type(unit).__name__}: {doc[0] if doc else ''}".rstrip(": ")
        self.metadata = {
            "paper": " ".join(str(meta.get("paper_name") or "").split()),
            "link": meta.get("paper_link") or "",
            "tags": tuple(meta.get("tags", ())),
        }

    def _make_layout(self) -> Layout:
        gymnasium = import_gymnasium()
        parts = self._parts
        action = parts.units[0].action_space
        discrete = isinstance(action, gymnasium.spaces.Discrete)
        n_in = int(parts.top.observation_space.shape[0])
        n_out = int(action.n) if discrete else int(action.shape[0])
        self._input_names = channel_names(parts, "observation_space", n_in, "input")
        self._output_names = channel_names(parts, "action_space", n_out, "action")
        self.loss = "cross_entropy" if discrete else "mse"
        fix = self._output_names.index("fixation") if "fixation" in self._output_names else 0
        opts = self._options
        return Layout(
            dt=self.dt, n_inputs=n_in, n_outputs=n_out, discrete=discrete,
            fixation_action=fix if discrete else -1,
            decision_periods=opts.decision_periods, fixation=opts.fixation,
            fixation_weight=opts.fixation_weight,
        )  # fmt: skip

    def _reset(self) -> None:
        """``reset()`` the environment once, as NeuroGym's Dataset does, under a fixed seed
        so that two tasks built from the same configuration start alike."""
        with quiet_gymnasium(), seeded([self._parts.outer], np.random.SeedSequence(0)):
            try:
                self._parts.outer.reset()
            except Exception as err:  # an environment's own code: report what it raised
                raise self._refuse(f"reset() failed: {type(err).__name__}: {err}") from err

    def _probe(self) -> frozenset:
        """Generate a few trials (one per sub-environment of a scheduled environment);
        returns the names of the variables a batch may fix."""
        per_trial: list[dict] = [{} for _ in range(N_PROBE)]
        if self._parts.levels:
            per_trial += [{"rule": i} for i in range(len(self._parts.levels[0].names))]
        settable = {"rule"} if self._parts.levels else set()
        self._generate(np.random.default_rng(0), per_trial, keys=settable)
        for unit in self._parts.units:
            params = inspect.signature(unit._new_trial).parameters.values()
            settable |= {p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD}
            settable |= {p.name for p in params if p.kind is p.KEYWORD_ONLY}
        return frozenset(settable - {"self"})

    # -- generation ------------------------------------------------------------------
    def _generate(
        self, rng: np.random.Generator, per_trial: Sequence[dict], keys: set | None = None
    ) -> list[Trial]:
        """Trials from a fresh copy of the environment seeded from ``rng``; the keys of
        the environment's trial dictionaries are added to ``keys`` when given."""
        with self._fresh(rng) as parts:
            return [self._one_trial(parts, fixed, keys) for fixed in per_trial]

    @contextlib.contextmanager
    def _fresh(self, rng: np.random.Generator) -> Iterator[EnvParts]:
        """A copy of the environment, every random stream seeded from ``rng``."""
        seq = np.random.SeedSequence(rng.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
        parts = copy.deepcopy(self._parts)
        with quiet_gymnasium(), seeded([parts.outer], seq):
            for level in parts.levels:
                schedule = getattr(level.scheduler, "schedule", None)
                if schedule is not None:
                    # The first trial's sub-environment is drawn like every later one.
                    level.select(int(schedule()))
            yield parts

    @contextlib.contextmanager
    def environment(self, seed=None) -> Iterator[Any]:
        """The environment as :meth:`batch` uses it for ``seed``.

        Yields a fresh copy of the environment (with its wrappers) seeded as
        ``batch(n, seed=seed)`` seeds it, so that its next ``n`` calls of
        ``new_trial()`` (on the trial-level object, ``env.unwrapped._top``) make that
        batch's trials, in order, when no variable is fixed. NumPy's and Python's
        global random states are seeded inside the block and restored after it. For
        comparing with NeuroGym itself (its ``env.ob``, ``env.gt`` and ``step()``).

        Parameters
        ----------
        seed : int, numpy Generator or None
            The seed, as :meth:`batch` takes it.

        Examples
        --------
        >>> import numpy as np
        >>> from neurodyn.tasks import from_neurogym
        >>> task = from_neurogym("PerceptualDecisionMaking-v0", dt=20)
        >>> batch = task.batch(2, seed=3)
        >>> with task.environment(seed=3) as env:
        ...     for i in range(2):
        ...         _ = env.unwrapped.new_trial()
        ...         unit, gt = env.unwrapped, batch.variables["ground_truth"]
        ...         same_inputs = np.array_equal(unit.ob, batch.inputs[i, : batch.lengths[i]])
        ...         print(same_inputs, unit.trial["ground_truth"] == gt[i])
        True True
        True True
        """
        seed_int = None if isinstance(seed, np.random.Generator) else resolve_seed(seed)
        with self._fresh(make_rng(seed if seed_int is None else seed_int)) as parts:
            yield parts.outer

    def _one_trial(self, parts: EnvParts, fixed: Mapping, keys: set | None) -> Trial:
        kwargs = dict(fixed)
        if "rule" in kwargs and parts.levels:
            parts.levels[0].select(self._rule_index(kwargs.pop("rule")))
        parts.clear_periods()
        try:
            made = parts.top.new_trial(**kwargs)
        except Exception as err:  # an environment's own code: report what it raised
            raise self._refuse(f"new_trial() failed: {type(err).__name__}: {err}") from err
        unit = parts.unit
        info = made if isinstance(made, Mapping) else (unit.trial or {})
        if keys is not None:
            keys |= {str(k) for k in info}
        ob, gt = self._check_trial(unit)
        dt = self.dt
        periods = {p: (unit.start_ind[p] * dt, unit.end_ind[p] * dt) for p in unit.start_ind}
        reserved = [f"{p}_{edge}" for p in periods for edge in ("on", "off")]
        variables = flatten_variables(info, reserved)
        for level, index in parts.current_levels():
            key = rule_variable(level.depth)
            variables[key] = level.names[index]
            variables[f"{key}_index"] = index
        return to_trial(self._layout, ob, gt, periods, variables)

    def _check_trial(self, unit) -> tuple[np.ndarray, np.ndarray]:
        """The trial's ``ob`` and ``gt``, or the reason they are no supervised trial."""
        if not getattr(unit, "_gt_built", False) or getattr(unit, "gt", None) is None:
            raise self._refuse(
                "its trials define no ground truth (env.gt): a reinforcement-learning "
                "task, scored by rewards only, has no targets to train on"
            )
        ob = getattr(unit, "ob", None)
        if ob is None or not getattr(unit, "_ob_built", True):
            raise self._refuse("its trials build no observations (env.ob)")
        ob, gt = np.asarray(ob), np.asarray(unit.gt)
        lay = self._layout
        if ob.ndim != 2 or ob.shape[0] == 0 or ob.shape[1] != lay.n_inputs:
            raise self._refuse(
                f"a trial's observations have shape {ob.shape}; expected (time, {lay.n_inputs})"
            )
        want = (ob.shape[0],) if lay.discrete else (ob.shape[0], lay.n_outputs)
        if gt.shape != want:
            raise self._refuse(f"a trial's ground truth has shape {gt.shape}; expected {want}")
        if lay.discrete and not _are_labels(gt, lay.n_outputs):
            raise self._refuse(
                f"its ground truth holds values {np.unique(gt)[:8].tolist()} that are not "
                f"actions 0..{lay.n_outputs - 1} (not a supervised target, e.g. an angle "
                "that a steps action space moves toward)"
            )
        return ob, gt

    def _rule_index(self, rule) -> int:
        names = self._parts.levels[0].names
        if isinstance(rule, str):
            return names.index(check_choice("rule", rule, names))
        index = check_int("rule", rule, low=0)
        if index >= len(names):
            raise ValueError(f"rule must be below {len(names)} (the sub-environments), got {rule}")
        return index

    # -- the Task interface -----------------------------------------------------------
    @property
    def input_names(self) -> tuple[str, ...]:
        return self._input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._output_names

    @property
    def rules(self) -> tuple[str, ...]:
        """Names of the sub-environments of a scheduled environment (empty otherwise)."""
        return self._parts.levels[0].names if self._parts.levels else ()

    @property
    def env_timing(self) -> dict:
        """The timing of the (first) environment, as NeuroGym holds it."""
        return dict(self._parts.units[0].timing)

    @property
    def settable(self) -> frozenset:
        """Variables :meth:`batch` can fix: ``new_trial``'s arguments and trial keys."""
        return self._settable

    def config(self) -> dict[str, Any]:
        """JSON-compatible arguments that rebuild this task with ``make_task(self.name, **config)``.

        ``env_id`` is None for a task adapted from an environment object: it cannot
        be rebuilt by name (``env_class`` says what it was), only in Python.
        """
        src = self._source
        out = {
            "env_id": src.env_id,
            "env_kwargs": json_values(src.env_kwargs),
            "neurogym_version": import_neurogym().__version__,
            **json_values(asdict(self._options)),
        }
        if src.multi is not None:
            out.update(src.multi)
        if src.env_class is not None:
            out["env_class"] = src.env_class
        return out

    def _fixed(self, fixed: Mapping, n_trials: int) -> list[dict]:
        for key in fixed:
            check_choice(f"trial variable of {self.name}", key, sorted(self._settable))
        per = []
        for i in range(n_trials):
            row = {}
            for key, value in fixed.items():
                if np.ndim(value) == 0:
                    row[key] = _item(value)
                elif len(value) == n_trials:
                    row[key] = _item(value[i])
                else:
                    raise ValueError(
                        f"fixed variable {key!r} has {len(value)} values; expected one value "
                        f"or n_trials={n_trials} values"
                    )
            per.append(row)
        return per

    def batch(self, n_trials: int, *, seed=None, **fixed) -> Batch:
        """Generate ``n_trials`` trial-aligned trials (see :meth:`Task.batch`).

        Parameters
        ----------
        n_trials : int
            Number of trials.
        seed : int, numpy Generator or None
            Random seed; the same seed gives the same batch, bit for bit.
        **fixed
            Variables to fix, among :attr:`settable` (the arguments of the
            environment's ``new_trial`` and ``rule``): a scalar applies to every
            trial, a sequence of length ``n_trials`` gives one value per trial.

        Returns
        -------
        Batch

        Raises
        ------
        ValueError
            If a fixed name is not settable or has the wrong number of values, or
            the environment's trials are not finite.
        """
        n_trials = check_int("n_trials", n_trials)
        seed_int = None if isinstance(seed, np.random.Generator) else resolve_seed(seed)
        rng = make_rng(seed if seed_int is None else seed_int)
        trials = self._generate(rng, self._fixed(fixed, n_trials))
        _fill_missing(trials)
        batch = collate(
            trials,
            dt=self.dt,
            input_names=self.input_names,
            output_names=self.output_names,
            task={"name": self.name, "config": self.config()},
            seed=seed_int,
        )
        # Checked once for the whole batch (the padding is zeros).
        if not (np.isfinite(batch.inputs).all() and np.isfinite(batch.targets).all()):
            raise self._refuse("its trials' observations or ground truth are not finite")
        return batch

    def trial(self, seed=None, **fixed) -> Trial:
        """One trial; ``fixed`` fixes variables as in :meth:`batch`.

        Parameters
        ----------
        seed : int, numpy Generator or None
            Random seed.
        **fixed
            Variables to fix (one value each), among :attr:`settable`.

        Returns
        -------
        Trial
        """
        return self._make_trial(make_rng(seed), fixed)

    def _make_trial(self, rng: np.random.Generator, fixed: Mapping[str, Any]) -> Trial:
        return self._generate(rng, self._fixed(fixed, 1))[0]

    def sample_variables(self, rng: np.random.Generator) -> dict[str, Any]:
        """The variables of one trial drawn with ``rng``.

        The environment makes a whole trial; its variables are returned.

        Parameters
        ----------
        rng : numpy.random.Generator
            Seeds a fresh copy of the environment.

        Returns
        -------
        dict
            The trial's flattened ``trial`` dictionary (and ``rule``,
            ``rule_index`` for a scheduled environment).
        """
        return dict(self._make_trial(rng, {}).variables)

    def build_trial(self, trial: TrialBuilder, v: dict[str, Any], rng: np.random.Generator):
        """Write one trial, with the entries of ``v`` the environment accepts fixed, into ``trial``.

        A :class:`TrialBuilder` lays periods end to end, while NeuroGym periods may
        overlap (``PostDecisionWager``'s ``pre_sure`` lies inside its ``delay``): each
        period here starts where the ones before end. :meth:`batch` and
        :meth:`trial` keep NeuroGym's periods exactly.

        Parameters
        ----------
        trial : TrialBuilder
            An empty builder with this task's ``dt`` and channel names.
        v : dict
            Variables to fix; those among :attr:`settable` are passed to the
            environment, and ``v`` is updated with the trial's own variables.
        rng : numpy.random.Generator
            Seeds a fresh copy of the environment.
        """
        made = self._make_trial(rng, {k: x for k, x in v.items() if k in self._settable})
        end = 0.0
        for name, (on, off) in sorted(made.periods.items(), key=lambda item: item[1]):
            trial.add_period(name, max(off - max(on, end), 0.0))
            end = max(end, off)
        rest = made.inputs.shape[0] - trial.n_steps
        if rest > 0:
            trial.add_period("after_periods", rest * self.dt)
        trial.inputs[:] = made.inputs
        trial.targets[:] = made.targets
        trial.mask[:] = made.mask
        v.update(made.variables)

    def oracle(self, batch: Batch) -> np.ndarray:
        """The environment's ground truth: one-hot ``gt`` (discrete actions, read as
        logits) or ``gt`` itself (continuous actions), i.e. the batch's targets.

        Parameters
        ----------
        batch : Batch
            Trials made by this task.

        Returns
        -------
        ndarray, shape (trial, time, n_outputs), float32
            A copy of ``batch.targets``.
        """
        return np.array(batch.targets, dtype=np.float32, copy=True)

    def evaluate(self, outputs: np.ndarray, batch: Batch) -> dict[str, np.ndarray]:
        """``correct`` per trial, with ``choice``, ``target_choice`` and ``broke_fixation``
        (discrete actions) or ``error`` (continuous actions); see
        :mod:`neurodyn.tasks.neurogym_adapter.trials`.

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch``: logits (or probabilities) over the
            actions for discrete actions, whose arg-max is the response; the
            actions themselves for continuous ones.
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            Arrays of shape (trial,): :func:`~.trials.read_decisions`' or
            :func:`~.trials.read_errors`' scores.

        Raises
        ------
        ValueError
            If ``outputs`` does not have the shape of ``batch.targets``.
        """
        outputs = np.asarray(outputs)
        if outputs.shape != batch.targets.shape:
            raise ValueError(
                f"outputs have shape {outputs.shape}; expected the targets' {batch.targets.shape}"
            )
        if self._layout.discrete:
            return read_decisions(self._layout, outputs, batch)
        return read_errors(self._layout, outputs, batch, self._options.tolerance)


def json_values(obj):
    """``obj`` as JSON values (tuples become lists, NumPy scalars and arrays numbers and
    lists); ValueError for anything else, which a configuration could not store.

    Parameters
    ----------
    obj : object
        Environment arguments (usually a dict).

    Returns
    -------
    object
        ``obj`` after a round trip through JSON.

    Raises
    ------
    ValueError
        If ``obj`` holds anything JSON cannot encode (a function, an object); the
        message says to pass a built environment to ``from_neurogym`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks.neurogym_adapter.task import json_values
    >>> json_values({"timing": {"fixation": ("constant", 500)}, "sigma": np.float32(0.5)})
    {'timing': {'fixation': ['constant', 500]}, 'sigma': 0.5}
    """

    def default(o):
        if isinstance(o, (np.generic, np.ndarray)):
            return o.tolist()
        raise TypeError(f"{type(o).__name__} {o!r} is not a JSON value")

    try:
        return json.loads(json.dumps(obj, default=default))
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"environment arguments must be JSON values (numbers, strings, lists, dicts) "
            f"so that the task can be saved and rebuilt by name: {err}; build the "
            "environment yourself and pass the object to from_neurogym"
        ) from None


def _item(v):
    return v.item() if isinstance(v, np.generic) else v


def _are_labels(gt: np.ndarray, n: int) -> bool:
    if gt.dtype.kind in "iu":
        return bool(gt.min() >= 0 and gt.max() < n)
    values = gt.astype(float)
    whole = np.all(np.isfinite(values)) and np.all(values == np.round(values))
    return bool(whole and values.min() >= 0 and values.max() < n)


def _fill_missing(trials: Sequence[Trial]) -> None:
    """Give every trial every variable: a variable some trials lack (sub-environments
    with different variables) is ``""`` where it is text, else None (NaN); a variable
    that is text in some trials is text in all."""
    first = trials[0].variables.keys() if trials else set()
    if all(t.variables.keys() == first for t in trials) and not any(
        isinstance(v, str) for t in trials for v in t.variables.values()
    ):
        return  # the usual case: the same numeric variables in every trial
    names: dict[str, bool] = {}
    for t in trials:
        for k, v in t.variables.items():
            names[k] = names.get(k, False) or isinstance(v, str)
    for t in trials:
        for k, is_text in names.items():
            v = t.variables.get(k)
            if is_text:
                t.variables[k] = "" if v is None else str(v)
            elif k not in t.variables:
                t.variables[k] = None
