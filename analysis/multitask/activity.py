r"""Activity split by task: the input of the multitask analyses.

The analyses of networks trained on many tasks (Yang et al., 2019, *Nat. Neurosci.*
22:297–306) compare each unit's activity across tasks. They read the activity the way
:func:`neurodyn.simulate` labels it, in one of two forms:

* one Dataset (or DataArray) of every trial, with a trial coordinate naming each
  trial's task (``by``, for example the ``rule`` of an interleaved multitask batch);
* a mapping ``task -> activity``, each a simulated Dataset, a DataArray or an array
  of shape (trial, time, unit).

From a Dataset they take ``rates`` (trial, time, unit), the ``length`` of each trial
(later steps are padding and never count), the period edges ``{period}_on`` /
``{period}_off`` (ms, per trial) and ``attrs["dt"]`` (or, for a DataArray such as
``ds["rates"]``, the spacing of its ``time`` coordinate). Step :math:`s` (0-based) of a
trial lies in a period with edges :math:`[t_\mathrm{on}, t_\mathrm{off})` ms when
:math:`t_\mathrm{on} \le s\,\Delta t < t_\mathrm{off}`, the layout of
:class:`neurodyn.tasks.Batch`.

This module turns either form into one :class:`TaskTrials` per task and selects time
windows in them; the analyses themselves are in :mod:`~neurodyn.analysis.multitask.variance`,
:mod:`~neurodyn.analysis.multitask.clustering` and :mod:`~neurodyn.analysis.multitask.composition`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["TaskTrials", "aligned", "period_steps", "split_by_task", "window_mask"]


@dataclass(frozen=True)
class TaskTrials:
    """The trials of one task.

    Attributes
    ----------
    rates : ndarray (trial, time, unit), float64
        The caller's array itself when it is float64 already: never written to.
    valid : ndarray (trial, time), bool
        True on the steps of a trial (False on padding).
    coords : dict of str to ndarray (trial,)
        Per-trial coordinates: period edges in ms and the other trial variables.
    dt : float or None
        Step in ms; None when the activity carried none (a bare array).
    window : ndarray (trial, time) of bool, or None
        A per-trial window given by the caller with the activity.

    Examples
    --------
    :func:`split_by_task` returns one per task. Four interleaved trials of two tasks (``rule``), 10 steps of 20 ms each, the
    ``anti`` trials 8 steps long, with a stimulus period:

    >>> from neurodyn.analysis.multitask.activity import split_by_task
    >>> rates = np.arange(4 * 10 * 3, dtype=float).reshape(4, 10, 3)  # trial, time, unit
    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), rates)},
    ...                 coords={"rule": ("trial", ["go", "anti", "go", "anti"]),
    ...                         "length": ("trial", [10, 8, 10, 8]),
    ...                         "stimulus_on": ("trial", [40.0, 60.0, 20.0, 60.0]),
    ...                         "stimulus_off": ("trial", [120.0, 140.0, 100.0, 140.0])},
    ...                 attrs={"dt": 20.0})
    >>> tasks, units = split_by_task(ds, by="rule")
    >>> anti = tasks["anti"]
    >>> anti.rates.shape, anti.valid.sum(axis=1).tolist(), anti.dt, anti.periods
    ((2, 10, 3), [8, 8], 20.0, ['stimulus'])
    >>> sorted(anti.coords), anti.window is None
    (['length', 'rule', 'stimulus_off', 'stimulus_on'], True)
    """

    rates: np.ndarray
    valid: np.ndarray
    coords: dict
    dt: float | None
    window: np.ndarray | None = None

    @property
    def periods(self) -> list[str]:
        """Names of the periods whose edges are known (none without ``dt``)."""
        if self.dt is None:
            return []
        return [k[:-3] for k in self.coords if k.endswith("_on") and f"{k[:-3]}_off" in self.coords]


def _rates(activity, variable: str, name: str):
    """``(values (trial, time, unit), source Dataset or None)`` of one activity."""
    if isinstance(activity, xr.Dataset):
        if variable not in activity.data_vars:
            raise ValueError(
                f"{name} has no variable {variable!r}; its variables are "
                f"{sorted(activity.data_vars)} (pass variable=...)"
            )
        da = activity[variable]
    elif isinstance(activity, xr.DataArray):
        da = activity
    else:
        a = np.asarray(activity)
        if a.ndim != 3 or a.dtype.kind not in "iuf":
            raise ValueError(
                f"{name} must be a Dataset, a DataArray or a numeric array of shape "
                f"(trial, time, unit), got {type(activity).__name__} of shape {np.shape(a)}"
            )
        return a.astype(np.float64, copy=False), None
    if set(da.dims) != {"trial", "time", "unit"}:
        raise ValueError(f"{name} has dims {da.dims}; expected ('trial', 'time', 'unit')")
    source = activity if isinstance(activity, xr.Dataset) else da
    return da.transpose("trial", "time", "unit").values.astype(np.float64, copy=False), source


def _step(source) -> float | None:
    """``attrs["dt"]``, or the spacing of an evenly spaced ``time`` coordinate (ms)."""
    if "dt" in source.attrs:
        return float(source.attrs["dt"])
    if "time" in source.coords and source.sizes["time"] >= 2:
        spacing = np.diff(np.asarray(source["time"].values, dtype=float))
        if np.allclose(spacing, spacing[0]) and spacing[0] > 0:
            return float(spacing[0])
    return None


def _trials(activity, variable: str, name: str, window=None) -> TaskTrials:
    rates, source = _rates(activity, variable, name)
    n_trial, n_time, _ = rates.shape
    if n_trial == 0 or n_time == 0:
        raise ValueError(f"{name} has no trials or no time steps (shape {rates.shape})")
    valid = np.ones((n_trial, n_time), dtype=bool)
    coords, dt = {}, None
    if source is not None:
        coords = {k: np.asarray(c.values) for k, c in source.coords.items() if c.dims == ("trial",)}
        if "length" in coords:
            valid = np.arange(n_time)[None, :] < coords["length"][:, None]
        dt = _step(source)
    if window is not None:
        if isinstance(window, xr.DataArray):
            window = window.transpose("trial", "time").values
        window = np.asarray(window)
        if window.shape != (n_trial, n_time) or window.dtype != bool:
            raise ValueError(
                f"window for {name} must be a boolean array of shape (trial, time) = "
                f"{(n_trial, n_time)}, got {window.dtype} of shape {window.shape}"
            )
    return TaskTrials(rates, valid, coords, dt, window)


def _subset(trials: TaskTrials, index: np.ndarray) -> TaskTrials:
    return TaskTrials(
        trials.rates[index],
        trials.valid[index],
        {k: v[index] for k, v in trials.coords.items()},
        trials.dt,
        None if trials.window is None else trials.window[index],
    )


def _unit_coords(activity) -> dict:
    if isinstance(activity, xr.Dataset | xr.DataArray):
        return {k: c for k, c in activity.coords.items() if c.dims == ("unit",)}
    return {}


def split_by_task(
    activity, *, by: str = "rule", variable: str = "rates", tasks=None, window=None
) -> tuple[dict, dict]:
    """The trials of each task, and the unit coordinates.

    Parameters
    ----------
    activity : Dataset, DataArray or mapping of task to activity
        See the module docstring.
    by : str
        The trial coordinate naming each trial's task (one Dataset or DataArray).
    variable : str
        The Dataset variable read (``"rates"``; ``"states"`` for the pre-activation).
    tasks : sequence, optional
        The tasks analysed, in this order. Default: every task, sorted (one Dataset)
        or in the mapping's order.
    window : bool array (trial, time), or mapping of task to one, optional
        A per-trial window handed over with the activity (the mapping form with
        the mapping form of ``activity``).

    Returns
    -------
    dict of task to TaskTrials, dict of unit coordinates

    Examples
    --------
    Four interleaved trials of two tasks (``rule``), 10 steps of 20 ms each, the
    ``anti`` trials 8 steps long, with a stimulus period:

    >>> from neurodyn.analysis.multitask.activity import split_by_task
    >>> rates = np.arange(4 * 10 * 3, dtype=float).reshape(4, 10, 3)  # trial, time, unit
    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), rates)},
    ...                 coords={"rule": ("trial", ["go", "anti", "go", "anti"]),
    ...                         "length": ("trial", [10, 8, 10, 8]),
    ...                         "stimulus_on": ("trial", [40.0, 60.0, 20.0, 60.0]),
    ...                         "stimulus_off": ("trial", [120.0, 140.0, 100.0, 140.0])},
    ...                 attrs={"dt": 20.0})
    >>> tasks, units = split_by_task(ds, by="rule")
    >>> list(tasks), tasks["go"].rates.shape, units
    (['anti', 'go'], (2, 10, 3), {})
    >>> by_name, _ = split_by_task({"go": ds.isel(trial=[0, 2]), "anti": ds.isel(trial=[1, 3])})
    >>> list(by_name), bool(np.array_equal(by_name["go"].rates, tasks["go"].rates))
    (['go', 'anti'], True)
    """
    # A Dataset is a Mapping too (of its variables): it is the one-Dataset form.
    if isinstance(activity, Mapping) and not isinstance(activity, xr.Dataset):
        if not activity:
            raise ValueError("activity is an empty mapping; expected task -> activity")
        if window is not None and (not isinstance(window, Mapping) or set(window) != set(activity)):
            raise ValueError(
                "window must be a mapping with the same tasks as activity when activity "
                "is a mapping of task to activity"
            )
        names = list(activity) if tasks is None else _check_tasks(tasks, list(activity))
        out = {
            t: _trials(
                activity[t], variable, f"activity[{t!r}]", None if window is None else window[t]
            )
            for t in names
        }
        units = {t: v.rates.shape[2] for t, v in out.items()}
        if len(set(units.values())) != 1:
            raise ValueError(f"activity has different numbers of units per task: {units}")
        return out, _unit_coords(activity[names[0]])
    if window is not None and isinstance(window, Mapping):
        raise ValueError("window must be a boolean array (trial, time) for one Dataset of trials")
    every = _trials(activity, variable, "activity", window)
    if by not in every.coords:
        have = sorted(k for k in every.coords if k != "trial")
        raise ValueError(
            f"by={by!r} is not a trial coordinate of activity; its trial coordinates are {have}"
        )
    labels = every.coords[by]
    present = np.unique(labels).tolist()
    names = present if tasks is None else _check_tasks(tasks, present)
    return {t: _subset(every, labels == t) for t in names}, _unit_coords(activity)


def _check_tasks(tasks, present: list) -> list:
    if isinstance(tasks, str) or not isinstance(tasks, Sequence | np.ndarray):
        raise ValueError(f"tasks must be a sequence of task names, got {tasks!r}")
    tasks = list(tasks)
    missing = [t for t in tasks if t not in present]
    if missing or len(set(tasks)) != len(tasks) or not tasks:
        raise ValueError(
            f"tasks={tasks!r} must name distinct tasks of the activity, which has {present}"
            + (f"; missing {missing}" if missing else "")
        )
    return tasks


def period_steps(trials: TaskTrials, period: str, task) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last step of ``period`` in every trial (-1 where it is absent).

    Parameters
    ----------
    trials : TaskTrials
        The trials of one task (:func:`split_by_task`); their ``dt`` must be known.
    period : str
        A period with ``{period}_on`` and ``{period}_off`` trial coordinates (ms).
    task
        The task's name, for the error message.

    Returns
    -------
    first, last : ndarray of int (trial,)
        The period covers steps ``first <= s < last``.

    Examples
    --------
    Four interleaved trials of two tasks (``rule``), 10 steps of 20 ms each, the
    ``anti`` trials 8 steps long, with a stimulus period from 60 to 140 ms in the
    ``anti`` trials, steps 3 to 6:

    >>> from neurodyn.analysis.multitask.activity import split_by_task
    >>> rates = np.arange(4 * 10 * 3, dtype=float).reshape(4, 10, 3)  # trial, time, unit
    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), rates)},
    ...                 coords={"rule": ("trial", ["go", "anti", "go", "anti"]),
    ...                         "length": ("trial", [10, 8, 10, 8]),
    ...                         "stimulus_on": ("trial", [40.0, 60.0, 20.0, 60.0]),
    ...                         "stimulus_off": ("trial", [120.0, 140.0, 100.0, 140.0])},
    ...                 attrs={"dt": 20.0})
    >>> tasks, units = split_by_task(ds, by="rule")
    >>> first, last = period_steps(tasks["anti"], "stimulus", "anti")
    >>> first.tolist(), last.tolist()
    ([3, 3], [7, 7])
    """
    if trials.dt is None or period not in trials.periods:
        raise ValueError(
            f"period {period!r} is not known for task {task!r}; known periods are "
            f"{trials.periods} (period edges need '{{period}}_on'/'_off' trial coordinates "
            "and attrs['dt'])"
        )
    on, off = (trials.coords[f"{period}_{e}"].astype(float) for e in ("on", "off"))
    absent = ~(np.isfinite(on) & np.isfinite(off))
    first = np.where(absent, -1, np.rint(np.where(absent, 0, on) / trials.dt)).astype(int)
    last = np.where(absent, -1, np.rint(np.where(absent, 0, off) / trials.dt)).astype(int)
    return first, last


def _period_mask(trials: TaskTrials, periods: Sequence[str], task) -> np.ndarray:
    steps = np.arange(trials.valid.shape[1])[None, :]
    mask = np.zeros(trials.valid.shape, dtype=bool)
    for p in periods:
        first, last = period_steps(trials, p, task)
        mask |= (steps >= first[:, None]) & (steps < last[:, None])
    return mask


def _names(value, name: str) -> list[str]:
    try:
        names = [value] if isinstance(value, str) else list(value)
    except TypeError:
        names = [None]
    if not all(isinstance(v, str) for v in names):
        raise ValueError(f"{name} must be a period name or a sequence of them, got {value!r}")
    return names


def window_mask(trials: TaskTrials, task, *, periods=None, exclude=None) -> np.ndarray:
    """Steps of each trial that count: (trial, time) bool.

    The valid steps, within ``trials.window`` when one was given, within the union
    of ``periods`` when given, outside the union of ``exclude``.

    Parameters
    ----------
    trials : TaskTrials
        The trials of one task (:func:`split_by_task`).
    task
        The task's name, for error messages.
    periods : str or sequence of str, optional
        Keep only the steps in (the union of) these periods.
    exclude : str or sequence of str, optional
        Drop the steps in (the union of) these periods.

    Examples
    --------
    Four interleaved trials of two tasks (``rule``), 10 steps of 20 ms each, the
    ``anti`` trials 8 steps long, with a stimulus period from 60 to 140 ms in the
    ``anti`` trials:

    >>> from neurodyn.analysis.multitask.activity import split_by_task
    >>> rates = np.arange(4 * 10 * 3, dtype=float).reshape(4, 10, 3)  # trial, time, unit
    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), rates)},
    ...                 coords={"rule": ("trial", ["go", "anti", "go", "anti"]),
    ...                         "length": ("trial", [10, 8, 10, 8]),
    ...                         "stimulus_on": ("trial", [40.0, 60.0, 20.0, 60.0]),
    ...                         "stimulus_off": ("trial", [120.0, 140.0, 100.0, 140.0])},
    ...                 attrs={"dt": 20.0})
    >>> tasks, units = split_by_task(ds, by="rule")
    >>> window_mask(tasks["anti"], "anti", periods="stimulus")[0].astype(int).tolist()
    [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    >>> window_mask(tasks["anti"], "anti", exclude="stimulus")[0].astype(int).tolist()
    [1, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    """
    mask = trials.valid.copy()
    if trials.window is not None:
        mask &= trials.window
    if periods is not None:
        mask &= _period_mask(trials, _names(periods, "periods"), task)
    if exclude is not None:
        mask &= ~_period_mask(trials, _names(exclude, "exclude"), task)
    return mask


def aligned(trials: TaskTrials, mask: np.ndarray, align: str | None, task):
    """``(rates, mask)`` with every trial shifted so that its ``align`` time is step 0.

    ``align`` names a per-trial time coordinate in ms (``"stimulus_on"``,
    ``"fixation_off"``); None leaves the trials aligned at their start. Steps with
    no data after the shift are False in the mask (and zero in the rates).

    Parameters
    ----------
    trials : TaskTrials
        The trials of one task (:func:`split_by_task`).
    mask : bool array (trial, time)
        The steps that count (:func:`window_mask`).
    align : str or None
        The per-trial time coordinate to align on.
    task
        The task's name, for error messages.

    Returns
    -------
    rates : ndarray (trial, time', unit)
        The shifted rates; ``time'`` grows by the spread of the shifts.
    mask : bool ndarray (trial, time')
        The shifted mask.

    Examples
    --------
    Four interleaved trials of two tasks (``rule``), 10 steps of 20 ms each, the
    ``anti`` trials 8 steps long, with a stimulus period; the stimulus of the two
    ``go`` trials starts at steps 2 and 1, at step 2 of both once aligned:

    >>> from neurodyn.analysis.multitask.activity import split_by_task
    >>> rates = np.arange(4 * 10 * 3, dtype=float).reshape(4, 10, 3)  # trial, time, unit
    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), rates)},
    ...                 coords={"rule": ("trial", ["go", "anti", "go", "anti"]),
    ...                         "length": ("trial", [10, 8, 10, 8]),
    ...                         "stimulus_on": ("trial", [40.0, 60.0, 20.0, 60.0]),
    ...                         "stimulus_off": ("trial", [120.0, 140.0, 100.0, 140.0])},
    ...                 attrs={"dt": 20.0})
    >>> tasks, units = split_by_task(ds, by="rule")
    >>> go = tasks["go"]
    >>> rates, mask = aligned(go, window_mask(go, "go"), "stimulus_on", "go")
    >>> rates.shape, mask.astype(int).tolist()  # doctest: +NORMALIZE_WHITESPACE
    ((2, 11, 3), [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
                  [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]])
    >>> bool(np.array_equal(rates[:, 2], go.rates[[0, 1], [2, 1]]))
    True
    """
    if align is None:
        return trials.rates, mask
    if trials.dt is None or align not in trials.coords:
        raise ValueError(
            f"align={align!r} is not a per-trial time coordinate of task {task!r} "
            "(expected e.g. 'stimulus_on', with attrs['dt'])"
        )
    t = trials.coords[align].astype(float)
    if not np.all(np.isfinite(t)):
        raise ValueError(
            f"align={align!r} is undefined (NaN) in {int(np.sum(~np.isfinite(t)))} trial(s) "
            f"of task {task!r}; align on a time every trial of the task has"
        )
    shift = np.rint(t / trials.dt).astype(int)
    n_trial, n_time = trials.valid.shape
    # Aligned step j of trial k holds its step j + shift_k - shift_max.
    width = n_time + shift.max() - shift.min()
    source = np.arange(width)[None, :] + shift[:, None] - shift.max()
    inside = (source >= 0) & (source < n_time)
    src = np.clip(source, 0, n_time - 1)
    rows = np.arange(n_trial)[:, None]
    rates = np.where(inside[..., None], trials.rates[rows, src], 0.0)
    return rates, mask[rows, src] & inside
