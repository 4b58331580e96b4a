r"""Compositional task representations: does Anti − Go + Dly Go land on Dly Anti?

Yang et al. (2019), Nat. Neurosci. 22:297–306 (Fig. 6, "Compositional representations
of tasks"): the representation of a task is the steady-state population activity it
evokes, the activity at the end of the stimulus epoch averaged over stimulus
conditions,

.. math:: \mathbf v_A = \frac{1}{|K_A|} \sum_{k \in K_A} \mathbf r_k(t^\mathrm{end}_k),

or the connection vector of the task's rule input. Tasks are composed by adding and
subtracting representations, :math:`\mathbf c = \sum_j c_j \mathbf v_{A_j}`
(Anti − Go + Dly Go), and the composition holds when :math:`\mathbf c` lies nearer the
target (Dly Anti) than any other task's representation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..._validation import check_choice
from .activity import period_steps, split_by_task

__all__ = ["task_composition", "task_representation"]


def _trial_vectors(trials, period, at: str, task) -> np.ndarray:
    """One activity vector per trial: (trial, unit)."""
    n_trial, n_time, _ = trials.rates.shape
    steps = np.arange(n_time)[None, :]
    if period is None:
        inside = trials.valid
    else:
        first, last = period_steps(trials, period, task)
        inside = (steps >= first[:, None]) & (steps < last[:, None]) & trials.valid
    if not np.all(inside.any(axis=1)):
        where = f"period {period!r}" if period is not None else "any valid step"
        raise ValueError(
            f"{int(np.sum(~inside.any(axis=1)))} trial(s) of task {task!r} have no step in "
            f"{where}; choose the tasks (tasks=...) or the period that every trial has"
        )
    if at == "end":
        end = n_time - 1 - np.argmax(inside[:, ::-1], axis=1)
        return trials.rates[np.arange(n_trial), end]
    return (trials.rates * inside[..., None]).sum(axis=1) / inside.sum(axis=1)[:, None]


def task_representation(
    activity,
    *,
    by: str = "rule",
    tasks: Sequence | None = None,
    variable: str = "rates",
    period: str | None = "stimulus",
    at: str = "end",
) -> xr.DataArray:
    r"""The population activity that represents each task, averaged over its trials.

    Parameters
    ----------
    activity : Dataset, DataArray, or mapping of task to activity
        As for :func:`task_variance` (:mod:`neurodyn.analysis.multitask.activity`).
    by, tasks, variable
        As for :func:`task_variance`.
    period : str or None
        The epoch whose activity represents the task (``"stimulus"``, the paper's
        choice); None: the whole trial.
    at : {"end", "mean"}
        The activity at the period's last step (the steady state the paper uses), or
        its mean over the period.

    Returns
    -------
    xarray.DataArray
        Dims ``task, unit``: :math:`\mathbf v_A`; coordinate ``n_trials`` (task).

    Examples
    --------
    >>> a = np.zeros((2, 4, 3)); a[:, -1] = [1.0, 2.0, 3.0]
    >>> task_representation({"A": a}, period=None).values.tolist()
    [[1.0, 2.0, 3.0]]
    """
    at = check_choice("at", at, ("end", "mean"))
    split, unit_coords = split_by_task(activity, by=by, variable=variable, tasks=tasks)
    vectors, n_trials = [], []
    for task, trials in split.items():
        v = _trial_vectors(trials, period, at, task)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"activity of task {task!r} has NaN or infinite values")
        vectors.append(v.mean(axis=0))
        n_trials.append(len(v))
    rep = xr.DataArray(
        np.array(vectors),
        dims=("task", "unit"),
        coords={
            "task": list(split),
            "unit": np.arange(len(vectors[0])),
            "n_trials": ("task", n_trials),
        },
        name="representation",
    )
    return rep.assign_coords(unit_coords)


def _as_representation(representation) -> xr.DataArray:
    if (
        not isinstance(representation, xr.DataArray)
        or representation.ndim != 2
        or ("task" not in representation.dims)
    ):
        raise ValueError(
            "representation must be a DataArray with dims ('task', <feature>), such as "
            f"task_representation's (task, unit), got {type(representation).__name__} "
            f"{getattr(representation, 'dims', '')}"
        )
    rep = representation.transpose("task", ...)
    if not np.all(np.isfinite(rep.values)):
        raise ValueError("representation has NaN or infinite values")
    return rep


def _margin(distance: np.ndarray, i: int) -> float:
    """Distance to the target over the nearest other task's (NaN when both are 0)."""
    others = np.delete(distance, i)
    if others.size == 0 or (others.min() == 0 and distance[i] == 0):
        return float("nan")
    return float(distance[i] / others.min()) if others.min() > 0 else float("inf")


def task_composition(representation, terms: Mapping, target) -> xr.Dataset:
    r"""Compose task representations and rank every task by its distance to the result.

    Parameters
    ----------
    representation : DataArray (task, feature)
        :func:`task_representation`, or the rule inputs' connection vectors
        labelled by task.
    terms : mapping of task to float
        The coefficients :math:`c_j`, e.g. ``{"anti": 1, "go": -1, "dlygo": 1}``.
    target : task
        The task the composition should land on, e.g. ``"dlyanti"``.

    Returns
    -------
    xarray.Dataset
        ``composed`` (feature): :math:`\mathbf c`; ``distance`` (task):
        :math:`\lVert \mathbf c - \mathbf v_A \rVert` for every task (including the
        composed ones) and ``rank`` (1 = nearest); ``attrs`` ``target``,
        ``expression``, ``target_rank``, ``nearest``, ``relative_error``
        (:math:`\lVert \mathbf c - \mathbf v_\mathrm{target}\rVert /
        \lVert \mathbf v_\mathrm{target}\rVert`) and ``margin``: the distance to the
        target over the smallest distance to another task (below 1 when the target is
        nearest).

    Examples
    --------
    >>> v = xr.DataArray([[1.0, 0], [0, 0], [0, 1.0], [1.0, 1.0]], dims=("task", "unit"),
    ...                  coords={"task": ["anti", "go", "dlygo", "dlyanti"]})
    >>> c = task_composition(v, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
    >>> c.attrs["nearest"], c.attrs["target_rank"], float(c["distance"].sel(task="dlyanti"))
    ('dlyanti', 1, 0.0)
    """
    rep = _as_representation(representation)
    tasks = list(rep["task"].values)
    if not isinstance(terms, Mapping) or not terms:
        raise ValueError(f"terms must be a non-empty mapping of task to coefficient, got {terms!r}")
    unknown = [t for t in [*terms, target] if t not in tasks]
    if unknown:
        raise ValueError(
            f"terms and target must name tasks of representation {tasks}; not {unknown}"
        )
    coef = np.array([float(c) for c in terms.values()])
    if not np.all(np.isfinite(coef)):
        raise ValueError(f"terms must have finite coefficients, got {dict(terms)}")
    composed = (coef[:, None] * rep.sel(task=list(terms)).values).sum(axis=0)
    distance = np.linalg.norm(rep.values - composed, axis=1)
    rank = np.empty(len(tasks), dtype=int)
    rank[np.argsort(distance, kind="stable")] = np.arange(1, len(tasks) + 1)
    i = tasks.index(target)
    norm = np.linalg.norm(rep.values[i])
    feature = rep.dims[1]
    ds = xr.Dataset(
        {"composed": (feature, composed), "distance": ("task", distance), "rank": ("task", rank)},
        coords={"task": rep["task"], feature: rep[feature]},
    )
    ds.attrs.update(
        {
            "target": str(target),
            "expression": " ".join(f"{c:+g} {t}" for t, c in terms.items()),
            "target_rank": int(rank[i]),
            "nearest": str(tasks[int(np.argmin(distance))]),
            "relative_error": float(distance[i] / norm) if norm > 0 else float("nan"),
            "margin": _margin(distance, i),
        }
    )
    return ds
