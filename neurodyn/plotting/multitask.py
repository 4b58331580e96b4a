"""Figures of the multitask analyses, in the style of Yang et al. (2019), Nat. Neurosci.

What they draw is computed in :mod:`neurodyn.analysis`: :func:`~neurodyn.analysis.task_variance`,
:func:`~neurodyn.analysis.cluster_task_variance`,
:func:`~neurodyn.analysis.fractional_task_variance`,
:func:`~neurodyn.analysis.task_representation` and
:func:`~neurodyn.analysis.task_composition`. Each function draws on the Axes it is given
(or a new figure), returns the Axes and never calls ``show``.

=============================  =====================================================
function                       draws (the paper's figure)
=============================  =====================================================
``plot_task_variance``         normalised task variance, task × unit, units sorted
                               by cluster (Fig. 2b)
``plot_cluster_variance``      the cluster × task map of mean normalised variance
``plot_silhouette``            silhouette score against the number of clusters
``plot_fractional_variance``   histograms of the fractional task variance (Fig. 3)
``plot_task_representation``   task representations on their first two principal
                               axes, with arrows between task pairs (Fig. 6)
``plot_task_composition``      distance of a composed representation to every task
=============================  =====================================================
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..analysis.projection import pca_basis

__all__ = [
    "plot_cluster_variance",
    "plot_fractional_variance",
    "plot_silhouette",
    "plot_task_composition",
    "plot_task_representation",
    "plot_task_variance",
]

#: Colour map of normalised task variance (0 to 1), as in the paper.
VARIANCE_CMAP = "hot"


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    return ax


def _require(ds, variables, name: str, made_by: str):
    if not isinstance(ds, xr.Dataset) or not set(variables) <= set(ds.variables):
        raise ValueError(
            f"{name} must be the Dataset of {made_by} (with {', '.join(variables)}), "
            f"got {type(ds).__name__}"
        )


def _task_image(ax, values, tasks, cmap):
    image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(np.arange(len(tasks)), [str(t) for t in tasks])
    ax.figure.colorbar(image, ax=ax, label="normalised task variance")
    return image


def plot_task_variance(result: xr.Dataset, *, ax=None, cmap: str = VARIANCE_CMAP):
    """Normalised task variance of the active units: tasks (rows) against units (columns).

    Parameters
    ----------
    result : Dataset
        Of :func:`~neurodyn.analysis.cluster_task_variance` (units sorted by cluster,
        boundaries drawn, clusters numbered above), or of
        :func:`~neurodyn.analysis.task_variance` (active units sorted by preferred task).
    ax : Axes, optional
    cmap : str
        Colour map of the variance, 0 to 1.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Twelve units in three groups of four, each group active in one task only
    (activity of 30 trials x 10 steps per task):

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import cluster_task_variance, task_variance
    >>> rng = np.random.default_rng(0)
    >>> scale = np.kron(np.eye(3), np.ones(4)) + 0.05  # task x unit
    >>> activity = {task: rng.normal(size=(30, 10, 12)) * s
    ...             for task, s in zip(["go", "anti", "dm"], scale)}
    >>> tv = task_variance(activity)
    >>> clusters = cluster_task_variance(tv, k=range(2, 6), n_init=5)
    >>> ax = plot_task_variance(clusters)
    >>> ax.get_xlabel(), [t.get_text() for t in ax.texts]
    ('units (sorted by cluster)', ['0', '1', '2'])
    >>> plt.close(ax.figure)
    """
    _require(result, ("normalized",), "result", "task_variance or cluster_task_variance")
    if "label" in result:
        x = result["normalized"].transpose("unit", "task")
        key = result["label"].values
    else:
        _require(result, ("normalized", "active"), "result", "task_variance")
        x = result["normalized"].sel(unit=result["active"].values).transpose("unit", "task")
        key = x.fillna(0.0).values.argmax(axis=1) if x.sizes["unit"] else None
    if x.sizes["unit"] == 0:
        raise ValueError("result has no active unit to draw")
    order = np.argsort(key, kind="stable")
    ax = _axes(ax)
    _task_image(ax, x.values[order].T, x["task"].values, cmap)
    ax.set_xlabel("units (sorted by cluster)" if "label" in result else "active units")
    if "label" in result:
        edges = np.cumsum(np.bincount(key))
        for edge in edges[:-1]:
            ax.axvline(edge - 0.5, color="white", lw=1.0)
        centres = edges - np.bincount(key) / 2 - 0.5
        for cluster, centre in enumerate(centres):
            ax.text(centre, 1.01, str(cluster), transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize="small")  # fmt: skip
    return ax


def plot_cluster_variance(clusters: xr.Dataset, *, ax=None, cmap: str = VARIANCE_CMAP):
    """Mean normalised task variance of each cluster: tasks (rows) against clusters.

    Parameters
    ----------
    clusters : Dataset
        Of :func:`~neurodyn.analysis.cluster_task_variance`.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    cmap : str
        Colour map of the variance, 0 to 1.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Twelve units in three groups of four, each group active in one task only
    (activity of 30 trials x 10 steps per task):

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import cluster_task_variance, task_variance
    >>> rng = np.random.default_rng(0)
    >>> scale = np.kron(np.eye(3), np.ones(4)) + 0.05  # task x unit
    >>> activity = {task: rng.normal(size=(30, 10, 12)) * s
    ...             for task, s in zip(["go", "anti", "dm"], scale)}
    >>> tv = task_variance(activity)
    >>> clusters = cluster_task_variance(tv, k=range(2, 6), n_init=5)
    >>> ax = plot_cluster_variance(clusters)
    >>> ax.get_title()
    '3 clusters of 12 active units'
    >>> plt.close(ax.figure)
    """
    _require(clusters, ("cluster_variance", "size"), "clusters", "cluster_task_variance")
    m = clusters["cluster_variance"].transpose("cluster", "task")
    ax = _axes(ax, figsize=(0.35 * m.sizes["cluster"] + 3.0, 4.0))
    _task_image(ax, m.values.T, m["task"].values, cmap)
    n = clusters["size"].values
    ax.set_xticks(np.arange(len(n)), [f"{c}\n({k})" for c, k in enumerate(n)], fontsize="small")
    ax.set_xlabel("cluster (units)")
    ax.set_title(f"{len(n)} clusters of {int(n.sum())} active units")
    return ax


def plot_silhouette(clusters: xr.Dataset, *, ax=None):
    """Silhouette score against the number of clusters, the chosen one marked.

    Parameters
    ----------
    clusters : Dataset
        Of :func:`~neurodyn.analysis.cluster_task_variance` (its ``silhouette`` along
        ``k`` and ``attrs["n_clusters"]``).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Twelve units in three groups of four, each group active in one task only
    (activity of 30 trials x 10 steps per task):

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import cluster_task_variance, task_variance
    >>> rng = np.random.default_rng(0)
    >>> scale = np.kron(np.eye(3), np.ones(4)) + 0.05  # task x unit
    >>> activity = {task: rng.normal(size=(30, 10, 12)) * s
    ...             for task, s in zip(["go", "anti", "dm"], scale)}
    >>> tv = task_variance(activity)
    >>> clusters = cluster_task_variance(tv, k=range(2, 6), n_init=5)
    >>> ax = plot_silhouette(clusters)
    >>> [line.get_label() for line in ax.lines]
    ['silhouette score', 'chosen: 3 clusters']
    >>> plt.close(ax.figure)
    """
    _require(clusters, ("silhouette",), "clusters", "cluster_task_variance")
    ax = _axes(ax, figsize=(4.0, 3.0))
    k, s = clusters["k"].values, clusters["silhouette"].values
    ax.plot(k, s, "-o", color="0.3", ms=3, label="silhouette score")
    best = clusters.attrs["n_clusters"]
    ax.plot([best], [clusters["silhouette"].sel(k=best).item()], "o", color="C3", ms=7,
            label=f"chosen: {best} clusters")  # fmt: skip
    ax.set(xlabel="number of clusters k", ylabel="silhouette score")
    ax.legend(fontsize="small")
    return ax


def plot_fractional_variance(ftv: xr.Dataset, *, axes=None, density: bool = False):
    """Histograms of the fractional task variance, one panel per task pair.

    Parameters
    ----------
    ftv : Dataset
        Of :func:`~neurodyn.analysis.fractional_task_variance`.
    axes : sequence of Axes, optional
        One per pair; default a new row of panels.
    density : bool
        Draw the fraction of units in each bin instead of their number.

    Returns
    -------
    ndarray of matplotlib.axes.Axes

    Examples
    --------
    Units of the "go" group have FTV near +1, those of "anti" near -1, the others
    (active in neither) near 0:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import cluster_task_variance, task_variance
    >>> rng = np.random.default_rng(0)
    >>> scale = np.kron(np.eye(3), np.ones(4)) + 0.05  # task x unit
    >>> activity = {task: rng.normal(size=(30, 10, 12)) * s
    ...             for task, s in zip(["go", "anti", "dm"], scale)}
    >>> tv = task_variance(activity)
    >>> from neurodyn.analysis import fractional_task_variance
    >>> ftv = fractional_task_variance(tv, ("go", "anti"), bins=4)
    >>> ftv["count"].values.tolist()
    [[4, 2, 2, 4]]
    >>> axes = plot_fractional_variance(ftv)
    >>> len(axes), axes[0].get_title()
    (1, 'go vs anti (12 units)')
    >>> plt.close(axes[0].figure)
    """
    _require(ftv, ("count", "bin_low", "bin_high"), "ftv", "fractional_task_variance")
    pairs = ftv["pair"].values
    if axes is None:
        _, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 2.8),
                               constrained_layout=True, squeeze=False)  # fmt: skip
        axes = axes[0]
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    if len(axes) != len(pairs):
        raise ValueError(f"axes has {len(axes)} entries; expected one per pair ({len(pairs)})")
    width = (ftv["bin_high"] - ftv["bin_low"]).values
    for ax, pair in zip(axes, pairs, strict=True):
        p = ftv.sel(pair=pair)
        count = p["count"].values.astype(float)
        if density and count.sum() > 0:
            count = count / count.sum()
        ax.bar(ftv["bin"].values, count, width=width, color="0.35", edgecolor="white", lw=0.5)
        a, b = str(p["task_a"].item()), str(p["task_b"].item())
        ax.set(xlim=(-1.05, 1.05), xlabel=f"FTV({a}, {b})",
               ylabel="fraction of units" if density else "units",
               title=f"{a} vs {b} ({int(p['n_units'].item())} units)")  # fmt: skip
        ax.set_xticks([-1, 0, 1], [f"{b}\nonly", "0", f"{a}\nonly"])
    return axes


def plot_task_representation(representation, *, arrows=(), ax=None):
    """Task representations on their first two principal axes, arrows between pairs.

    Parameters
    ----------
    representation : DataArray (task, feature)
        :func:`~neurodyn.analysis.task_representation` (or rule-input weights).
    arrows : sequence of (A, B)
        Draw an arrow from A to B for each pair, e.g. ``[("go", "anti"),
        ("dlygo", "dlyanti")]``: parallel arrows of equal length are a compositional
        representation.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Four tasks whose final states differ along two independent directions ("anti"
    and "delay"), so go -> anti and dlygo -> dlyanti are the same vector:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import task_representation
    >>> final = {"go": [1, 0, 0], "anti": [1, 1, 0], "dlygo": [1, 0, 1], "dlyanti": [1, 1, 1]}
    >>> activity = {}
    >>> for task, state in final.items():
    ...     activity[task] = np.zeros((2, 4, 3))
    ...     activity[task][:, -1] = state
    >>> rep = task_representation(activity, period=None)
    >>> ax = plot_task_representation(rep, arrows=[("go", "anti"), ("dlygo", "dlyanti")])
    >>> len(ax.texts), ax.get_title()  # four task names and two arrows
    (6, 'task representations')
    >>> plt.close(ax.figure)
    """
    if not isinstance(representation, xr.DataArray) or "task" not in representation.dims:
        raise ValueError("representation must be a DataArray (task, feature)")
    rep = representation.transpose("task", ...)
    tasks = [str(t) for t in rep["task"].values]
    bad = [p for p in arrows if len(p) != 2 or not {str(t) for t in p} <= set(tasks)]
    if bad:
        raise ValueError(f"arrows must be pairs of the tasks {tasks}; not {bad}")
    mean, axes_ = pca_basis(rep.values, 2)
    xy = (rep.values - mean) @ axes_.T
    ax = _axes(ax, figsize=(4.0, 4.0))
    ax.plot(xy[:, 0], xy[:, 1], "o", color="0.3")
    for name, (x, y) in zip(tasks, xy, strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize="small")
    for i, (a, b) in enumerate(arrows):
        p, q = xy[tasks.index(str(a))], xy[tasks.index(str(b))]
        ax.annotate("", q, p, arrowprops={"arrowstyle": "->", "color": f"C{i % 10}", "lw": 1.5})
    ax.set(xlabel="PC 1", ylabel="PC 2", title="task representations")
    return ax


def plot_task_composition(composition: xr.Dataset, *, ax=None):
    """Distance of a composed representation to every task, nearest first; the target in red.

    Parameters
    ----------
    composition : Dataset
        Of :func:`~neurodyn.analysis.task_composition`.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    anti - go + dlygo lands exactly on dlyanti, the nearest task:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import task_composition
    >>> rep = xr.DataArray([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
    ...                    dims=("task", "unit"),
    ...                    coords={"task": ["anti", "go", "dlygo", "dlyanti"]})
    >>> comp = task_composition(rep, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
    >>> ax = plot_task_composition(comp)
    >>> ax.get_title(), ax.get_yticklabels()[0].get_text()
    ('+1 anti -1 go +1 dlygo → dlyanti', 'dlyanti')
    >>> plt.close(ax.figure)
    """
    _require(composition, ("distance",), "composition", "task_composition")
    d = composition["distance"].sortby(composition["distance"])
    tasks = [str(t) for t in d["task"].values]
    target = composition.attrs["target"]
    ax = _axes(ax, figsize=(4.5, 0.3 * len(tasks) + 1.2))
    colors = ["C3" if t == target else "0.6" for t in tasks]
    ax.barh(np.arange(len(tasks)), d.values, color=colors)
    ax.set_yticks(np.arange(len(tasks)), tasks)
    ax.invert_yaxis()
    ax.set(xlabel="distance to the composition",
           title=f"{composition.attrs['expression']} → {target}")  # fmt: skip
    return ax
