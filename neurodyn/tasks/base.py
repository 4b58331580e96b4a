"""The task base class, the per-trial builder and the padded batch.

A task describes one trial as a sequence of named *periods* whose durations are in
milliseconds, fills named input and output channels period by period, and records
every *trial variable* (coherence, context, ground truth, ...). Any variable can be
fixed by the caller, either to one value for every trial or to one value per trial,
which is how psychometric sweeps and condition grids are built::

    task = PerceptualDecisionMaking(dt=20)
    batch = task.batch(64, seed=0, coherence=12.8)

Batches are *trial-aligned*: trial ``i`` starts at time step 0 of row ``i``. Trials
of different lengths are padded at the end; the padding has zero loss mask.
"""

from __future__ import annotations

import abc
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..seeding import make_rng, resolve_seed

__all__ = ["Batch", "Task", "Trial", "TrialBuilder", "sample_duration"]


def sample_duration(spec: Any, rng: np.random.Generator) -> float:
    """Draw one period duration in ms from a timing specification.

    Parameters
    ----------
    spec
        A number (fixed duration); ``("uniform", low, high)``; ``("choice", [d1, d2, ...])``;
        ``("truncexp", mean, low, high)`` (an exponential with the given mean, redrawn
        until it falls in ``[low, high]``); or a callable ``f(rng) -> float``.
    rng : numpy.random.Generator
        The generator to draw from (unused for a fixed number).

    Returns
    -------
    float
        The duration in ms.

    Raises
    ------
    ValueError
        If ``spec`` is none of the forms above.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks import sample_duration
    >>> rng = np.random.default_rng(0)
    >>> sample_duration(500, rng)
    500.0
    >>> d = [sample_duration(("uniform", 200, 400), rng) for _ in range(100)]
    >>> bool(200 <= min(d) and max(d) <= 400)
    True
    >>> sample_duration(("choice", [300, 600]), rng) in (300.0, 600.0)
    True
    >>> d = [sample_duration(("truncexp", 600, 300, 3000), rng) for _ in range(100)]
    >>> bool(300 <= min(d) and max(d) <= 3000)
    True
    """
    if callable(spec):
        return float(spec(rng))
    if isinstance(spec, (int, float, np.integer, np.floating)):
        return float(spec)
    if isinstance(spec, (tuple, list)) and spec:
        kind, *args = spec
        if kind == "uniform" and len(args) == 2:
            return float(rng.uniform(args[0], args[1]))
        if kind == "choice" and len(args) == 1:
            return float(rng.choice(np.asarray(args[0], dtype=float)))
        if kind == "truncexp" and len(args) == 3:
            mean, low, high = args
            for _ in range(10_000):
                d = low + rng.exponential(mean - low) if mean > low else low
                if d <= high:
                    return float(d)
            return float(high)
    raise ValueError(
        f"timing specification {spec!r} not understood; expected a number, "
        "('uniform', low, high), ('choice', [...]), ('truncexp', mean, low, high) or a callable"
    )


@dataclass
class Trial:
    """One trial, before batching.

    Attributes
    ----------
    inputs : ndarray, shape (time, n_inputs)
    targets : ndarray, shape (time, n_outputs)
    mask : ndarray, shape (time, n_outputs)
        Loss weight of every target entry (0 where the output is unconstrained).
    variables : dict
        Trial variables (numbers or strings).
    periods : dict
        ``name -> (onset_ms, offset_ms)``.

    Examples
    --------
    A task's :meth:`~Task.trial` returns one; the arrays have no padding:

    >>> from neurodyn.tasks import PerceptualDecisionMaking
    >>> task = PerceptualDecisionMaking(dt=20, timing={"stimulus": 500})
    >>> trial = task.trial(seed=0, coherence=25.6, ground_truth=1)
    >>> trial.inputs.shape, trial.targets.shape
    ((45, 3), (45, 3))
    >>> trial.periods["stimulus"]
    (100.0, 600.0)
    >>> trial.variables["ground_truth"], trial.variables["stimulus_ms"]
    (1, 500.0)
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    variables: dict[str, Any]
    periods: dict[str, tuple[float, float]]


class TrialBuilder:
    """Lays out the periods of one trial and fills its channels.

    Periods are added end to end with :meth:`add_period`; each duration is rounded
    to the nearest multiple of ``dt`` (and the onset of a later period is the offset
    of the one before, so periods never overlap or leave gaps). After the last period
    is added, channels are written with :meth:`set_input`, :meth:`set_target` and
    :meth:`set_mask`; the arrays are allocated on first write (inputs and targets
    zero, mask one). A task's :meth:`~Task.build_trial` receives an empty builder.

    Parameters
    ----------
    dt : float
        Time step in ms; every period lasts a whole number of steps.
    input_names : sequence of str
        Names of the input channels (the columns of :attr:`inputs`).
    output_names : sequence of str
        Names of the output channels (the columns of :attr:`targets` and :attr:`mask`).

    Examples
    --------
    >>> from neurodyn.tasks import TrialBuilder
    >>> b = TrialBuilder(dt=10, input_names=("fixation", "cue"), output_names=("choice",))
    >>> b.add_period("fixation", 100)
    >>> b.add_period("cue", 54)  # 5.4 steps: rounded to 5
    >>> b.add_period("response", 200)
    >>> b.n_steps, b.steps("cue"), b.onset("response")
    (35, slice(10, 15, None), 15)
    >>> b.set_input("fixation", 1.0, ["fixation", "cue"])
    >>> b.set_input("cue", 1.0, "cue")
    >>> b.set_target("choice", 1.0, "response")
    >>> b.set_mask(0.0, "cue")
    >>> trial = b.finish({"side": 1})
    >>> trial.inputs[:, 0].tolist() == [1.0] * 15 + [0.0] * 20
    True
    >>> float(trial.mask.sum()), trial.periods["cue"]
    (30.0, (100.0, 150.0))
    """

    def __init__(self, dt: float, input_names: Sequence[str], output_names: Sequence[str]):
        self.dt = float(dt)
        self.input_names = tuple(input_names)
        self.output_names = tuple(output_names)
        self._periods: dict[str, tuple[int, int]] = {}
        self._n_steps = 0
        self._inputs: np.ndarray | None = None
        self._targets: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    # -- periods ---------------------------------------------------------------------
    def add_period(self, name: str, duration_ms: float) -> None:
        """Append a period of ``duration_ms`` (rounded to a whole number of steps).

        Parameters
        ----------
        name : str
            The period's name; each name may be added once.
        duration_ms : float
            Its duration in ms, rounded to the nearest multiple of ``dt`` (a negative
            duration gives an empty period).

        Raises
        ------
        RuntimeError
            If a channel has already been written (the trial's length is then fixed).
        ValueError
            If ``name`` was added before.
        """
        if self._inputs is not None:
            raise RuntimeError("periods must all be added before channels are written")
        if name in self._periods:
            raise ValueError(f"period {name!r} added twice")
        n = max(int(round(float(duration_ms) / self.dt)), 0)
        self._periods[name] = (self._n_steps, self._n_steps + n)
        self._n_steps += n

    @property
    def n_steps(self) -> int:
        """Number of time steps laid out so far."""
        return self._n_steps

    def steps(self, period: str | Sequence[str] | None) -> slice | np.ndarray:
        """Time-step index of one period, several periods, or (``None``) the whole trial.

        Parameters
        ----------
        period : str, sequence of str or None
            A period's name (a ``slice`` is returned), several names (an integer
            array of their steps, in the order given), or ``None`` for every step.

        Raises
        ------
        KeyError
            If a name is not a period added so far.
        """
        if period is None:
            return slice(0, self._n_steps)
        if isinstance(period, str):
            if period not in self._periods:
                raise KeyError(f"no period {period!r}; periods are {list(self._periods)}")
            a, b = self._periods[period]
            return slice(a, b)
        return np.concatenate([np.arange(*self._periods[p]) for p in period]).astype(int)

    def onset(self, period: str) -> int:
        """First time step of ``period``.

        Parameters
        ----------
        period : str
            The name of an added period.
        """
        return self._periods[period][0]

    def offset(self, period: str) -> int:
        """One past the last time step of ``period``.

        Parameters
        ----------
        period : str
            The name of an added period.
        """
        return self._periods[period][1]

    # -- channels --------------------------------------------------------------------
    def _alloc(self) -> None:
        if self._inputs is None:
            t = self._n_steps
            self._inputs = np.zeros((t, len(self.input_names)), dtype=np.float32)
            self._targets = np.zeros((t, len(self.output_names)), dtype=np.float32)
            self._mask = np.ones((t, len(self.output_names)), dtype=np.float32)

    def _channel(self, names: tuple[str, ...], channel: str | int | None):
        if channel is None:
            return slice(None)
        if isinstance(channel, (int, np.integer)):
            return int(channel)
        return names.index(check_choice("channel", channel, names))

    @property
    def inputs(self) -> np.ndarray:
        """The input array, shape (time, n_inputs), for direct writes."""
        self._alloc()
        return self._inputs

    @property
    def targets(self) -> np.ndarray:
        """The target array, shape (time, n_outputs), for direct writes."""
        self._alloc()
        return self._targets

    @property
    def mask(self) -> np.ndarray:
        """The loss mask, shape (time, n_outputs), for direct writes (default all ones)."""
        self._alloc()
        return self._mask

    def set_input(self, channel, value, period=None) -> None:
        """Write ``value`` to input ``channel`` during ``period``.

        Parameters
        ----------
        channel : str, int or None
            An input channel's name or index; ``None`` writes every input channel.
        value : float or array_like
            The value, broadcast over the period's steps (for one channel, an
            array of shape ``(steps,)`` gives its time course).
        period : str, sequence of str or None, optional
            Where to write, as :meth:`steps` takes it (default: the whole trial).
        """
        self.inputs[self.steps(period), self._channel(self.input_names, channel)] = value

    def set_target(self, channel, value, period=None) -> None:
        """Write ``value`` to target ``channel`` during ``period``.

        Parameters
        ----------
        channel : str, int or None
            An output channel's name or index; ``None`` writes every output channel.
        value : float or array_like
            The target, broadcast over the period's steps.
        period : str, sequence of str or None, optional
            Where to write, as :meth:`steps` takes it (default: the whole trial).
        """
        self.targets[self.steps(period), self._channel(self.output_names, channel)] = value

    def set_mask(self, value, period=None, channel=None) -> None:
        """Set the loss weight during ``period`` (all output channels unless one is named).

        Parameters
        ----------
        value : float or array_like
            The loss weight (0 leaves the outputs there unconstrained; the mask is 1
            wherever it is not set).
        period : str, sequence of str or None, optional
            Where to set it, as :meth:`steps` takes it (default: the whole trial).
        channel : str, int or None, optional
            One output channel's name or index (default ``None``: every output).
        """
        self.mask[self.steps(period), self._channel(self.output_names, channel)] = value

    def add_input_noise(
        self, sigma: float, rng: np.random.Generator, channels=None, period=None
    ) -> None:
        """Add white noise of standard deviation ``sigma / sqrt(dt)`` to input channels.

        With ``dt`` in ms, the integral of the noise over a fixed duration has a
        variance that does not depend on ``dt``, so a network sees the same evidence
        statistics however finely time is discretised.

        Parameters
        ----------
        sigma : float
            Noise level (input units × √ms).
        rng : numpy.random.Generator
            The generator the noise is drawn from.
        channels : sequence of str or int, optional
            Channels to perturb (default: all).
        period : str or sequence of str, optional
            Restrict the noise to these periods (default: the whole trial).
        """
        if sigma <= 0:
            return
        cols = (
            np.arange(len(self.input_names))
            if channels is None
            else np.array([self._channel(self.input_names, c) for c in channels])
        )
        rows = np.arange(self._n_steps)[self.steps(period)]
        noise = (sigma / math.sqrt(self.dt)) * rng.standard_normal((rows.size, cols.size))
        self.inputs[np.ix_(rows, cols)] += noise.astype(np.float32)

    def finish(self, variables: dict[str, Any]) -> Trial:
        """Return the finished :class:`Trial`.

        Parameters
        ----------
        variables : dict
            The trial's variables, copied into :attr:`Trial.variables`.

        Returns
        -------
        Trial
            The arrays written so far (allocated now if no channel was written) and
            every period's onset and offset in ms.
        """
        self._alloc()
        periods = {k: (a * self.dt, b * self.dt) for k, (a, b) in self._periods.items()}
        return Trial(self._inputs, self._targets, self._mask, dict(variables), periods)


@dataclass
class Batch:
    """A batch of trial-aligned, end-padded trials.

    Attributes
    ----------
    inputs : ndarray, shape (trial, time, n_inputs), float32
    targets : ndarray, shape (trial, time, n_outputs), float32
    mask : ndarray, shape (trial, time, n_outputs), float32
        Loss weight; zero in the padding after each trial ends.
    lengths : ndarray of int, shape (trial,)
        Number of valid time steps of each trial.
    variables : dict of ndarray, each shape (trial,)
        Trial variables.
    periods : dict of (ndarray, ndarray)
        ``name -> (onset_ms, offset_ms)``, each of shape (trial,).
    dt : float
        Time step in ms.
    input_names, output_names : tuple of str
    task : dict
        ``{"name": ..., "config": {...}}`` of the task that made the batch, or of
        user data.
    seed : int or None
        The seed the batch was drawn with.

    Examples
    --------
    >>> from neurodyn.tasks import PerceptualDecisionMaking
    >>> task = PerceptualDecisionMaking(dt=20, timing={"stimulus": ("choice", [200, 400])})
    >>> batch = task.batch(3, seed=0, coherence=[0.0, 12.8, 51.2], stimulus_ms=[200, 400, 200])
    >>> batch.inputs.shape, batch.lengths.tolist()
    ((3, 40, 3), [30, 40, 30])
    >>> bool(batch.mask[~batch.valid()].max() == 0)  # the padding is not scored
    True
    >>> batch.periods["decision"][0].tolist()
    [300.0, 500.0, 300.0]
    >>> batch.subset([0, 2]).variables["coherence"].tolist()
    [0.0, 51.2]
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    variables: dict[str, np.ndarray]
    periods: dict[str, tuple[np.ndarray, np.ndarray]]
    dt: float
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    task: dict = field(default_factory=dict)
    seed: int | None = None

    @property
    def n_trials(self) -> int:
        """Number of trials in the batch."""
        return self.inputs.shape[0]

    @property
    def n_steps(self) -> int:
        """Padded number of time steps."""
        return self.inputs.shape[1]

    @property
    def time(self) -> np.ndarray:
        """Time of each step in ms, measured at the end of the step."""
        return (np.arange(self.n_steps) + 1) * self.dt

    def valid(self) -> np.ndarray:
        """Boolean array (trial, time): True on real (non-padding) steps."""
        return np.arange(self.n_steps)[None, :] < self.lengths[:, None]

    def period_steps(self, period: str) -> tuple[np.ndarray, np.ndarray]:
        """Onset and offset steps of ``period`` in each trial: its steps are
        ``onset[i]:offset[i]``.

        Parameters
        ----------
        period : str
            A period of the task (a key of ``periods``).

        Returns
        -------
        onset, offset : ndarray of int, shape (trial,)

        Examples
        --------
        >>> from neurodyn.tasks import PerceptualDecisionMaking
        >>> b = PerceptualDecisionMaking(dt=20.0, timing={"fixation": 100.0}).batch(2, seed=0)
        >>> b.period_steps("fixation")
        (array([0, 0]), array([5, 5]))
        """
        if period not in self.periods:
            raise ValueError(f"period must be one of {sorted(self.periods)}, got {period!r}")
        on, off = self.periods[period]
        return np.rint(on / self.dt).astype(np.int64), np.rint(off / self.dt).astype(np.int64)

    def subset(self, index) -> Batch:
        """The trials selected by ``index``, as a new :class:`Batch`.

        Parameters
        ----------
        index : int array, bool array or slice
            Trials to keep: anything NumPy accepts on the first axis that keeps it
            (an array of indices, a boolean mask of shape (trial,), a slice). The
            padding is kept as it is, so the result may end in steps that no trial
            uses.
        """
        return Batch(
            self.inputs[index],
            self.targets[index],
            self.mask[index],
            self.lengths[index],
            {k: v[index] for k, v in self.variables.items()},
            {k: (a[index], b[index]) for k, (a, b) in self.periods.items()},
            self.dt,
            self.input_names,
            self.output_names,
            self.task,
            self.seed,
        )

    def to_xarray(self):
        """The batch as an :class:`xarray.Dataset` (dims ``trial, time, input, output``)."""
        # Imported here so that ``import neurodyn.tasks`` does not load xarray.
        from .labelled import batch_to_dataset

        return batch_to_dataset(self)


def _stack_variables(trials: Sequence[Trial]) -> dict[str, np.ndarray]:
    names: list[str] = []
    for t in trials:
        names.extend(k for k in t.variables if k not in names)
    out = {}
    for k in names:
        vals = [t.variables.get(k) for t in trials]
        if all(isinstance(v, str) for v in vals):
            out[k] = np.asarray(vals, dtype=str)
        else:
            out[k] = np.asarray([np.nan if v is None else v for v in vals])
    return out


def collate(trials: Sequence[Trial], *, dt, input_names, output_names, task=None, seed=None):
    """Pad ``trials`` to a common length and stack them into a :class:`Batch`."""
    lengths = np.array([t.inputs.shape[0] for t in trials], dtype=np.int64)
    t_max = int(lengths.max()) if len(trials) else 0
    n = len(trials)
    inputs = np.zeros((n, t_max, len(input_names)), dtype=np.float32)
    targets = np.zeros((n, t_max, len(output_names)), dtype=np.float32)
    mask = np.zeros((n, t_max, len(output_names)), dtype=np.float32)
    for i, t in enumerate(trials):
        inputs[i, : lengths[i]] = t.inputs
        targets[i, : lengths[i]] = t.targets
        mask[i, : lengths[i]] = t.mask
    period_names: list[str] = []
    for t in trials:
        period_names.extend(k for k in t.periods if k not in period_names)
    periods = {
        p: (
            np.array([t.periods.get(p, (np.nan, np.nan))[0] for t in trials], dtype=float),
            np.array([t.periods.get(p, (np.nan, np.nan))[1] for t in trials], dtype=float),
        )
        for p in period_names
    }
    return Batch(
        inputs,
        targets,
        mask,
        lengths,
        _stack_variables(trials),
        periods,
        float(dt),
        tuple(input_names),
        tuple(output_names),
        task or {},
        seed,
    )


class Task(abc.ABC):
    """Base class of every cognitive task.

    A subclass sets the class attributes below and implements
    :meth:`sample_variables`, :meth:`build_trial`, :meth:`oracle` and
    :meth:`evaluate`. The base class handles timing, seeding, overriding trial
    variables and batching.

    Parameters
    ----------
    dt : float
        Time step in ms.
    timing : dict, optional
        Overrides of :attr:`default_timing`, ``period name -> specification`` (see
        :func:`sample_duration`).
    **params
        Task parameters, overriding :attr:`default_params` (for example the input
        noise ``sigma``).

    Attributes
    ----------
    name : str
        Registry name (``neurodyn tasks`` lists them).
    description : str
        One line for listings.
    metadata : dict
        ``paper`` (citation), ``link`` and ``tags``.
    loss : str
        The training loss that fits the targets: ``"mse"`` or ``"cross_entropy"``.
    output_groups : tuple of tuple of int or None
        For tasks with several classification heads: the output channels of each
        head; the cross-entropy is taken within each group and summed.

    Examples
    --------
    A task of one's own: a cue of sign ±1 whose sign is to be held through a delay
    of random length. The class sets the channels, timing and parameters and
    implements the four methods; batching, seeding and fixing variables come from
    the base class.

    >>> import numpy as np
    >>> from neurodyn.tasks import Task
    >>> class CueHold(Task):
    ...     name = "cue_hold"
    ...     default_dt = 20.0
    ...     default_timing = {"cue": 100.0, "delay": ("uniform", 200.0, 400.0)}
    ...     default_params = {"amplitude": 1.0}
    ...     input_names = ("cue",)
    ...     output_names = ("report",)
    ...
    ...     def sample_variables(self, rng):
    ...         return {"sign": int(rng.choice([-1, 1])), "delay_ms": self.duration("delay", rng)}
    ...
    ...     def build_trial(self, trial, v, rng):
    ...         trial.add_period("cue", self.timing["cue"])
    ...         trial.add_period("delay", v["delay_ms"])
    ...         trial.set_input("cue", v["sign"] * self.params["amplitude"], "cue")
    ...         trial.set_target("report", v["sign"], "delay")
    ...         trial.set_mask(0.0, "cue")
    ...
    ...     def oracle(self, batch):
    ...         sign = np.sign(batch.inputs.sum(axis=1, keepdims=True))
    ...         return sign * batch.valid()[..., None]
    ...
    ...     def evaluate(self, outputs, batch):
    ...         agree = np.sign(outputs) == np.sign(batch.targets)
    ...         return {"correct": np.all(agree | (batch.mask == 0), axis=(1, 2))}
    >>> task = CueHold(amplitude=0.5)
    >>> batch = task.batch(4, seed=0, sign=[1, -1, 1, -1])
    >>> batch.variables["sign"].tolist(), batch.input_names
    ([1, -1, 1, -1], ('cue',))
    >>> bool(task.evaluate(task.oracle(batch), batch)["correct"].all())
    True
    >>> task.config()
    {'dt': 20.0, 'timing': {'cue': 100.0, 'delay': ['uniform', 200.0, 400.0]}, 'amplitude': 0.5}
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    metadata: ClassVar[dict[str, Any]] = {}
    loss: ClassVar[str] = "mse"
    output_groups: tuple[tuple[int, ...], ...] | None = None
    default_dt: ClassVar[float] = 10.0
    default_timing: ClassVar[dict[str, Any]] = {}
    default_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, *, dt: float | None = None, timing: Mapping | None = None, **params):
        self.dt = check_positive("dt", self.default_dt if dt is None else dt)
        timing = dict(timing or {})
        unknown = set(timing) - set(self.default_timing)
        if unknown:
            raise ValueError(
                f"timing has unknown period(s) {sorted(unknown)}; "
                f"{self.name} has periods {list(self.default_timing)}"
            )
        self.timing = {**self.default_timing, **timing}
        unknown = set(params) - set(self.default_params)
        if unknown:
            bad = sorted(unknown)[0]
            check_choice(f"{self.name} parameter", bad, self.default_params)
        self.params = {**self.default_params, **params}
        self._validate()

    # -- to implement ------------------------------------------------------------------
    def _validate(self) -> None:
        """Check ``self.params``; subclasses raise ValueError naming the bad parameter."""

    @property
    @abc.abstractmethod
    def input_names(self) -> tuple[str, ...]:
        """Names of the input channels."""

    @property
    @abc.abstractmethod
    def output_names(self) -> tuple[str, ...]:
        """Names of the output channels."""

    @abc.abstractmethod
    def sample_variables(self, rng: np.random.Generator) -> dict[str, Any]:
        """Draw the trial variables of one trial.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator of the batch being drawn (seeded from its ``seed``).

        Returns
        -------
        dict
            Variable name -> value (a number or a string). Every variable a caller
            may fix must be here: :meth:`batch` refuses to fix a name this dict
            lacks. By convention each period's duration is ``"<period>_ms"``.
        """

    @abc.abstractmethod
    def build_trial(self, trial: TrialBuilder, v: dict[str, Any], rng: np.random.Generator):
        """Lay out periods and fill channels of one trial with variables ``v``.

        May add derived variables to ``v`` (for example the correct choice).

        Parameters
        ----------
        trial : TrialBuilder
            An empty builder with the task's ``dt`` and channel names; the method
            adds the periods, then writes inputs, targets and mask.
        v : dict
            The trial's variables: those :meth:`sample_variables` drew, with the
            values the caller fixed put in their place. Changed in place.
        rng : numpy.random.Generator
            The same generator, for what is random within the trial (input noise).
        """

    @abc.abstractmethod
    def oracle(self, batch: Batch) -> np.ndarray:
        """A hand-written policy: the correct outputs (trial, time, n_outputs) for ``batch``.

        Computed from the batch's inputs (and, where the inputs are noisy, its trial
        variables), never from its targets, so a perfect score shows that inputs and
        targets agree.

        Parameters
        ----------
        batch : Batch
            Trials made by this task.

        Returns
        -------
        ndarray, shape (trial, time, n_outputs)
            Outputs that :meth:`evaluate` scores as correct on every trial.
        """

    @abc.abstractmethod
    def evaluate(self, outputs: np.ndarray, batch: Batch) -> dict[str, np.ndarray]:
        """Score ``outputs`` (trial, time, n_outputs); returns per-trial arrays.

        Always contains ``correct`` (bool, shape (trial,)); decision tasks add
        ``choice``.

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            The trials the outputs answer, made by this task.

        Returns
        -------
        dict of str to ndarray
            One array of shape (trial,) per score.
        """

    # -- provided ----------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        """Number of output channels."""
        return len(self.output_names)

    def config(self) -> dict[str, Any]:
        """JSON-compatible constructor arguments that rebuild this task."""
        return {"dt": self.dt, "timing": _jsonable(self.timing), **_jsonable(self.params)}

    def duration(self, period: str, rng: np.random.Generator) -> float:
        """Draw the duration of ``period`` in ms.

        Parameters
        ----------
        period : str
            A key of :attr:`timing`; its specification is read by
            :func:`sample_duration`.
        rng : numpy.random.Generator
            The generator to draw from.
        """
        return sample_duration(self.timing[period], rng)

    def trial(self, seed=None, **fixed) -> Trial:
        """Generate one trial; ``fixed`` overrides trial variables.

        Parameters
        ----------
        seed : int, numpy Generator or None
            Random seed; the same seed gives the same trial.
        **fixed
            Trial variables to fix (one value each).

        Returns
        -------
        Trial
        """
        rng = make_rng(seed)
        return self._make_trial(rng, fixed)

    def _make_trial(self, rng: np.random.Generator, fixed: Mapping[str, Any]) -> Trial:
        v = self.sample_variables(rng)
        unknown = set(fixed) - set(v)
        if unknown:
            bad = sorted(unknown)[0]
            check_choice(f"trial variable of {self.name}", bad, v)
        v.update(fixed)
        builder = TrialBuilder(self.dt, self.input_names, self.output_names)
        self.build_trial(builder, v, rng)
        return builder.finish(v)

    def batch(self, n_trials: int, *, seed=None, **fixed) -> Batch:
        """Generate ``n_trials`` trial-aligned trials.

        Parameters
        ----------
        n_trials : int
            Number of trials.
        seed : int, numpy Generator or None
            Random seed; the same seed gives the same batch.
        **fixed
            Trial variables to fix: a scalar applies to every trial, a sequence of
            length ``n_trials`` gives one value per trial.

        Returns
        -------
        Batch
        """
        n_trials = check_int("n_trials", n_trials)
        seed_int = None if isinstance(seed, np.random.Generator) else resolve_seed(seed)
        rng = make_rng(seed if seed_int is None else seed_int)
        per_trial = {}
        for k, val in fixed.items():
            if np.ndim(val) == 0:
                per_trial[k] = [val] * n_trials
            elif len(val) == n_trials:
                per_trial[k] = list(val)
            else:
                raise ValueError(
                    f"fixed variable {k!r} has {len(val)} values; expected one value or "
                    f"n_trials={n_trials} values"
                )
        trials = [
            self._make_trial(rng, {k: _item(vals[i]) for k, vals in per_trial.items()})
            for i in range(n_trials)
        ]
        return collate(
            trials,
            dt=self.dt,
            input_names=self.input_names,
            output_names=self.output_names,
            task={"name": self.name, "config": self.config()},
            seed=seed_int,
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _item(v):
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(obj):
    """Round-trip ``obj`` through JSON, turning tuples into lists and rejecting callables."""
    try:
        return json.loads(json.dumps(obj, default=_item))
    except TypeError as err:
        raise ValueError(f"task configuration is not JSON-serialisable: {err}") from None
