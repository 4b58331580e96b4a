r"""Task variance: how much each unit's activity varies across the trials of each task.

The measures of Yang, Joglekar, Song, Newsome & Wang (2019), *Task representations in
neural networks trained to perform many cognitive tasks*, Nat. Neurosci. 22:297–306
(Methods, "Task variance analysis"). With :math:`r_{i,k}(t)` the activity of unit
:math:`i` in trial :math:`k` of task :math:`A` at time :math:`t`, the task variance is
the variance across trials (stimulus conditions) at each time, averaged over the
:math:`T_A` times of the analysis window:

.. math::

    \mathrm{TV}_i(A) = \frac{1}{T_A} \sum_t \frac{1}{n_t} \sum_{k \in K_t}
        \bigl(r_{i,k}(t) - \bar r_i(t)\bigr)^2,
    \qquad \bar r_i(t) = \frac{1}{n_t} \sum_{k \in K_t} r_{i,k}(t),

where :math:`K_t` are the :math:`n_t` trials whose window contains time :math:`t`
(the population variance, as in the paper's code); times with fewer than two such
trials carry no variance across trials and are left out of :math:`T_A`. The paper
excludes the fixation epoch before the stimulus: here by default the ``fixation``
period is left out when the activity records one.

The normalised task variance divides by the unit's largest one,
:math:`\mathrm{TV}_i(A) / \max_B \mathrm{TV}_i(B)`, and a unit is *active* when
:math:`\sum_A \mathrm{TV}_i(A)` exceeds a threshold (:math:`10^{-3}` in the paper;
an absolute threshold, in the squared units of the activity). The fractional task
variance of an active unit between tasks A and B (the paper's Fig. 3) is

.. math::

    \mathrm{FTV}_i(A, B) = \frac{\mathrm{TV}_i(A) - \mathrm{TV}_i(B)}
                               {\mathrm{TV}_i(A) + \mathrm{TV}_i(B)} \in [-1, 1]:

+1 for a unit that varies only in A, −1 only in B, 0 for one that varies equally.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..._validation import check_int, check_positive
from .activity import aligned, split_by_task, window_mask

__all__ = ["fractional_task_variance", "normalize_task_variance", "task_variance"]

logger = logging.getLogger(__name__)

#: The paper's threshold on a unit's summed task variance (Yang et al., 2019, Methods).
ACTIVE_THRESHOLD = 1e-3


def _variance(rates: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Variance across trials at each time, averaged over time: (unit,), times used.

    Entries outside ``mask`` never count, whatever they hold (NaN included).
    """
    n = mask.sum(axis=0)
    use = n >= 2
    if not use.any():
        return np.full(rates.shape[2], np.nan), 0
    full = bool(use.all())
    m, n = (mask, n) if full else (mask[:, use], n[use])
    r = rates if full else rates[:, use]
    # Deviations from one trial in the window (the shifted-data algorithm): a unit
    # whose activity is the same in every trial gets exactly zero, not rounding.
    first = np.argmax(m, axis=0)
    d = r - r[first, np.arange(r.shape[1])]
    outside = None if m.all() else ~m
    if outside is not None:
        d[outside] = 0.0
    d -= d.sum(axis=0) / n[:, None]
    if outside is not None:
        d[outside] = 0.0
    d *= d
    return (d.sum(axis=0) / n[:, None]).mean(axis=0), int(use.sum())


def task_variance(
    activity,
    *,
    by: str = "rule",
    tasks: Sequence | None = None,
    variable: str = "rates",
    periods=None,
    exclude=None,
    window=None,
    align: str | None = None,
    threshold: float = ACTIVE_THRESHOLD,
) -> xr.Dataset:
    r"""Task variance of every unit in every task, normalised, with the active units.

    Parameters
    ----------
    activity : Dataset, DataArray, or mapping of task to activity
        The simulated activity: one Dataset (:func:`neurodyn.simulate`) of trials of
        many tasks with the trial coordinate ``by`` naming each trial's task, or a
        mapping ``task -> Dataset`` (or DataArray, or array (trial, time, unit)).
        See :mod:`neurodyn.analysis.multitask.activity`.
    by : str
        Trial coordinate naming the task (one Dataset).
    tasks : sequence, optional
        The tasks, in the order of the result. Default: every task (sorted, or the
        mapping's order).
    variable : str
        The Dataset variable analysed (``"rates"``).
    periods : str or sequence of str, optional
        Only steps within these periods count. Default: the whole trial.
    exclude : str or sequence of str, optional
        Steps within these periods never count. Default: ``"fixation"`` when the
        activity records that period (the paper's choice), else nothing.
    window : bool array (trial, time), or mapping of task to one, optional
        A per-trial window of steps, combined with ``periods`` and ``exclude``.
        Padding (steps past a trial's ``length``) never counts.
    align : str, optional
        A per-trial time coordinate in ms (``"stimulus_on"``, ``"fixation_off"``):
        trials are aligned on it before the variance across them is taken, for
        tasks whose periods vary in length. Default: aligned at the trial's start.
    threshold : float
        A unit is active when its task variance summed over tasks exceeds this.

    Returns
    -------
    xarray.Dataset
        Dims ``unit, task``: ``task_variance`` :math:`\mathrm{TV}_i(A)`,
        ``normalized`` (NaN for a unit with no variance in any task) and ``active``
        (unit); coordinates ``n_trials`` and ``n_times`` (task: trials and times
        averaged) and the activity's unit coordinates; ``attrs`` ``threshold``,
        ``n_active``, ``n_excluded`` and the window.

    Raises
    ------
    ValueError
        If the activity lacks what is asked of it (the ``by`` coordinate, a period),
        a task has fewer than two trials at every time of its window, or the
        activity in a window is not finite.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(50, 10, 3)) * [1.0, 0.0, 0.1]  # unit 1 never varies
    >>> b = rng.normal(size=(50, 10, 3)) * [0.0, 0.0, 0.1]
    >>> tv = task_variance({"A": a, "B": b})
    >>> tv["active"].values.tolist(), tv.attrs["n_excluded"]
    ([True, False, True], 1)
    >>> tv["normalized"].sel(unit=0).values.round(2).tolist()
    [1.0, 0.0]
    """
    threshold = check_positive("threshold", threshold, allow_zero=True)
    split, unit_coords = split_by_task(
        activity, by=by, variable=variable, tasks=tasks, window=window
    )
    first = next(iter(split.values()))
    columns, n_trials, n_times = [], [], []
    for task, trials in split.items():
        left_out = exclude
        if exclude is None and "fixation" in trials.periods:
            left_out = "fixation"
        mask = window_mask(trials, task, periods=periods, exclude=left_out)
        rates, mask = aligned(trials, mask, align, task)
        tv, used = _variance(rates, mask)
        if used and not np.all(np.isfinite(tv)):
            raise ValueError(f"activity of task {task!r} has NaN or infinite values in the window")
        if used == 0:
            raise ValueError(
                f"task {task!r} has no time at which two or more trials lie in the window "
                f"({trials.rates.shape[0]} trial(s)); a variance across trials needs two"
            )
        columns.append(tv)
        n_trials.append(trials.rates.shape[0])
        n_times.append(used)
    variance = xr.DataArray(
        np.stack(columns, axis=1),
        dims=("unit", "task"),
        coords={"unit": np.arange(first.rates.shape[2]), "task": list(split)},
    ).assign_coords(unit_coords)
    ds = normalize_task_variance(variance, threshold=threshold)
    ds = ds.assign_coords(n_trials=("task", n_trials), n_times=("task", n_times))
    ds.attrs.update(
        {
            "variable": variable,
            "periods": "all" if periods is None else str(periods),
            "exclude": "fixation where recorded" if exclude is None else str(exclude),
            "align": "trial start" if align is None else align,
        }
    )
    return ds


def normalize_task_variance(variance, *, threshold: float = ACTIVE_THRESHOLD) -> xr.Dataset:
    r"""Normalised task variance and active units from task variances.

    Parameters
    ----------
    variance : DataArray (unit, task)
        :math:`\mathrm{TV}_i(A)`, non-negative (for variances computed elsewhere;
        :func:`task_variance` calls this).
    threshold : float
        A unit is active when :math:`\sum_A \mathrm{TV}_i(A) >` ``threshold``.

    Returns
    -------
    xarray.Dataset
        ``task_variance``, ``normalized`` :math:`\mathrm{TV}_i(A)/\max_B \mathrm{TV}_i(B)`
        (NaN where the maximum is 0) and ``active``; ``attrs`` ``threshold``,
        ``n_active`` and ``n_excluded``.

    Examples
    --------
    Task variances computed elsewhere (three units, two tasks); the last unit, silent
    in both, is excluded:

    >>> v = xr.DataArray([[4.0, 1.0], [0.5, 2.0], [0.0, 0.0]], dims=("unit", "task"),
    ...                  coords={"task": ["go", "anti"]})
    >>> tv = normalize_task_variance(v)
    >>> tv["normalized"].values.tolist()
    [[1.0, 0.25], [0.25, 1.0], [nan, nan]]
    >>> tv["active"].values.tolist(), tv.attrs["n_active"], tv.attrs["n_excluded"]
    ([True, True, False], 2, 1)
    """
    threshold = check_positive("threshold", threshold, allow_zero=True)
    if not isinstance(variance, xr.DataArray) or set(variance.dims) != {"unit", "task"}:
        raise ValueError(
            "variance must be a DataArray with dims ('unit', 'task'), got "
            f"{type(variance).__name__} {getattr(variance, 'dims', '')}"
        )
    variance = variance.transpose("unit", "task")
    v = variance.values.astype(np.float64)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("variance must be finite and non-negative")
    top = v.max(axis=1, keepdims=True)
    normalized = np.divide(v, top, out=np.full_like(v, np.nan), where=top > 0)
    active = v.sum(axis=1) > threshold
    n_excluded = int(np.sum(~active))
    logger.info("task variance: %d active unit(s), %d excluded", int(active.sum()), n_excluded)
    ds = xr.Dataset(
        {
            "task_variance": variance.astype(np.float64),
            "normalized": (("unit", "task"), normalized),
            "active": ("unit", active),
        }
    )
    ds.attrs.update(
        {"threshold": threshold, "n_active": int(active.sum()), "n_excluded": n_excluded}
    )
    return ds


def _pairs(pairs, tasks: list) -> list[tuple]:
    if isinstance(pairs, tuple) and len(pairs) == 2 and not isinstance(pairs[0], tuple | list):
        pairs = [pairs]
    try:
        pairs = [tuple(p) for p in pairs]
    except TypeError:
        raise ValueError(f"pairs must be (A, B) or a sequence of (A, B), got {pairs!r}") from None
    bad = [p for p in pairs if len(p) != 2 or p[0] not in tasks or p[1] not in tasks]
    if not pairs or bad:
        raise ValueError(
            f"pairs must be (A, B) pairs of the tasks {tasks}; "
            + (f"not {bad}" if bad else "got none")
        )
    return pairs


def fractional_task_variance(tv: xr.Dataset, pairs, *, bins: int = 20) -> xr.Dataset:
    r"""Fractional task variance of the active units between pairs of tasks, and its histogram.

    Parameters
    ----------
    tv : Dataset
        From :func:`task_variance` (``task_variance`` and ``active``).
    pairs : (A, B) or sequence of (A, B)
        Task pairs, e.g. ``[("dm1", "dm2"), ("go", "anti")]``.
    bins : int
        Histogram bins of equal width over [-1, 1].

    Returns
    -------
    xarray.Dataset
        ``ftv`` (pair, unit) over the active units: :math:`\mathrm{FTV}_i(A, B)`,
        NaN for a unit with no variance in either task (left out of the histogram);
        ``count`` (pair, bin): units per bin; coordinates ``task_a``, ``task_b`` and
        ``n_units`` (pair), ``bin`` (centres) with ``bin_low``/``bin_high``;
        ``attrs`` ``threshold`` and ``n_excluded`` (units below it) from ``tv``.

    Examples
    --------
    >>> v = xr.DataArray([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]], dims=("unit", "task"),
    ...                  coords={"task": ["A", "B"]})
    >>> ftv = fractional_task_variance(normalize_task_variance(v), ("A", "B"), bins=2)
    >>> ftv["ftv"].values.tolist(), ftv["count"].values.tolist()
    ([[1.0, 0.0, -1.0]], [[1, 2]])
    """
    if not isinstance(tv, xr.Dataset) or not {"task_variance", "active"} <= set(tv.data_vars):
        raise ValueError(
            "tv must be the Dataset of task_variance (or normalize_task_variance), with "
            "variables task_variance and active"
        )
    bins = check_int("bins", bins)
    pairs = _pairs(pairs, list(tv["task"].values))
    active = tv["task_variance"].sel(unit=tv["active"].values)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    ftv, counts = [], []
    for a, b in pairs:
        va, vb = active.sel(task=a).values, active.sel(task=b).values
        total = va + vb
        f = np.divide(va - vb, total, out=np.full_like(total, np.nan), where=total > 0)
        ftv.append(f)
        counts.append(np.histogram(f[np.isfinite(f)], bins=edges)[0])
    ftv, counts = np.array(ftv), np.array(counts)
    units = {k: c for k, c in active.coords.items() if c.dims == ("unit",)}
    ds = xr.Dataset(
        {"ftv": (("pair", "unit"), ftv), "count": (("pair", "bin"), counts)},
        coords={
            "pair": [f"{a} vs {b}" for a, b in pairs],
            "task_a": ("pair", [a for a, _ in pairs]),
            "task_b": ("pair", [b for _, b in pairs]),
            "n_units": ("pair", np.isfinite(ftv).sum(axis=1)),
            **units,
            "bin": 0.5 * (edges[:-1] + edges[1:]),
            "bin_low": ("bin", edges[:-1]),
            "bin_high": ("bin", edges[1:]),
        },
    )
    ds.attrs.update({k: tv.attrs[k] for k in ("threshold", "n_excluded") if k in tv.attrs})
    return ds
