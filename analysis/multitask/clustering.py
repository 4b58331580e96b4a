r"""Clusters of units by their normalised task variance.

Yang et al. (2019), Nat. Neurosci. 22:297–306 (Methods, "Clustering"; Fig. 2):
the active units, each described by its vector of normalised task variances
:math:`(\mathrm{TV}_i(A) / \max_B \mathrm{TV}_i(B))_A` (:func:`task_variance`), are
clustered by k-means for a range of k, and the number of clusters is the k with the
largest silhouette score

.. math::

    s = \frac{1}{n} \sum_i \frac{b_i - a_i}{\max(a_i, b_i)},

with :math:`a_i` the mean Euclidean distance of unit i to the other units of its
cluster and :math:`b_i` the smallest mean distance to the units of another cluster.
k-means is scikit-learn's (Lloyd, k-means++ starts, the best of ``n_init``), as in the
paper's code.

Clusters are numbered reproducibly: by their preferred task (the task with the largest
mean normalised variance, in the order of the tasks), then by that variance (largest
first), then by size. Units are handed to k-means in a canonical order (their variance
vectors sorted lexicographically), so the result does not depend on the order of the
units, and k-means is seeded.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..._validation import check_int, check_int_tuple
from ...seeding import resolve_seed
from ...threads import check_threads, limit
from .variance import normalize_task_variance

__all__ = ["cluster_task_variance"]

#: Numbers of clusters tried by default: 2 to 30.
DEFAULT_K = tuple(range(2, 31))


def _features(tv) -> tuple[xr.DataArray, xr.Dataset]:
    """Normalised task variance of the active units (unit, task), and the full Dataset."""
    if isinstance(tv, xr.DataArray):
        tv = normalize_task_variance(tv)
    if not isinstance(tv, xr.Dataset) or not {"normalized", "active"} <= set(tv.data_vars):
        raise ValueError(
            "tv must be the Dataset of task_variance (variables normalized and active) or "
            f"a DataArray (unit, task) of task variances, got {type(tv).__name__}"
        )
    x = tv["normalized"].sel(unit=tv["active"].values).transpose("unit", "task")
    if x.sizes["unit"] < 3:
        raise ValueError(
            f"tv has {x.sizes['unit']} active unit(s); clustering needs at least 3 "
            f"({tv.attrs.get('n_excluded', '?')} unit(s) were below the activity threshold)"
        )
    return x, tv


def _kmeans(x: np.ndarray, k: int, n_init: int, seed: int) -> np.ndarray:
    # scikit-learn takes about 0.5 s to import, a third of neurodyn.analysis's import
    # time: it is loaded by the first clustering instead.
    from sklearn.cluster import KMeans

    model = KMeans(k, init="k-means++", n_init=n_init, random_state=seed, algorithm="lloyd")
    return model.fit(x).labels_


def _silhouette_curve(x: np.ndarray, ks, n_init: int, seed: int):
    """Silhouette score and labels for each k (NaN where k cannot split the units)."""
    # k-means needs k distinct points and the silhouette at most n - 1 clusters.
    from sklearn.metrics import silhouette_score  # lazily, as in _kmeans

    largest = min(len(np.unique(x, axis=0)), len(x) - 1)
    scores, labels = [], {}
    for k in ks:
        lab = _kmeans(x, k, n_init, seed) if k <= largest else None
        ok = lab is not None and len(np.unique(lab)) >= 2
        scores.append(silhouette_score(x, lab) if ok else np.nan)
        if ok:
            labels[k] = lab
    return np.array(scores, dtype=float), labels


def _ordered(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels renumbered by preferred task, then its variance (descending), then size."""
    ids = np.unique(labels)
    means = np.array([x[labels == c].mean(axis=0) for c in ids])
    size = np.array([np.sum(labels == c) for c in ids])
    first = np.array([np.flatnonzero(labels == c)[0] for c in ids])
    preferred = means.argmax(axis=1)
    # np.lexsort sorts by its last key first.
    order = np.lexsort((first, -size, -means.max(axis=1), preferred))
    new = np.empty(len(ids), dtype=int)
    new[order] = np.arange(len(ids))
    return new[np.searchsorted(ids, labels)]


def cluster_task_variance(
    tv,
    *,
    k=DEFAULT_K,
    seed=0,
    n_init: int = 20,
    threads: int | None = None,
) -> xr.Dataset:
    r"""Cluster the active units by normalised task variance; k chosen by silhouette score.

    Parameters
    ----------
    tv : Dataset or DataArray
        The Dataset of :func:`task_variance` (its ``normalized`` variance of the
        ``active`` units is clustered), or a DataArray (unit, task) of task variances,
        normalised with the default threshold.
    k : sequence of int
        Numbers of clusters tried (default 2 to 30). A k that the units cannot fill
        (more than their distinct variance vectors, or more than n - 1) scores NaN.
    seed : int or numpy.random.Generator
        Seeds k-means.
    n_init : int
        k-means starts per k; the one with the least within-cluster sum of squares
        is kept (20 in the paper's code).
    threads : int, optional
        Threads of k-means and the distances; default: neurodyn's policy
        (:mod:`neurodyn.threads`).

    Returns
    -------
    xarray.Dataset
        ``label`` (unit; the active units, numbered 0 … n_clusters - 1 in the order
        described in the module docstring), ``normalized`` (unit, task) as clustered,
        ``silhouette`` (k), ``cluster_variance`` (cluster, task): the mean normalised
        variance of each cluster's units, ``size`` (cluster); coordinate
        ``preferred_task`` (cluster); ``attrs`` ``n_clusters``, ``seed``, ``n_init``,
        ``n_excluded`` (units below the activity threshold).

    Examples
    --------
    >>> v = xr.DataArray(np.kron(np.eye(3), np.ones((4, 1))) + 0.01,  # 3 groups of 4 units
    ...                  dims=("unit", "task"), coords={"task": ["A", "B", "C"]})
    >>> c = cluster_task_variance(v, k=range(2, 6))
    >>> c.attrs["n_clusters"], c["label"].values.tolist()
    (3, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    ks = check_int_tuple("k", k, low=2)
    n_init = check_int("n_init", n_init)
    seed = resolve_seed(seed)
    check_threads(threads)
    x, tv = _features(tv)
    values = x.values
    # A canonical order of the units: the result does not depend on the order given.
    canon = np.lexsort(values.T[::-1])
    work = 2.0 * values.size * max(ks)
    # k-means runs on scikit-learn's OpenMP pool, which neurodyn.threads.limit (BLAS,
    # torch, Numba) does not reach: it gets the same count through threadpoolctl.
    with (
        limit(threads, work=work, what="cluster_task_variance") as n,
        threadpool_limits(limits=n, user_api="openmp"),
    ):
        scores, labels = _silhouette_curve(values[canon], ks, n_init, seed)
    if not labels:
        raise ValueError(
            f"no k in {ks} splits the {len(values)} active units into 2 or more clusters "
            f"({len(np.unique(values, axis=0))} distinct variance vectors)"
        )
    best = ks[int(np.nanargmax(scores))]
    label = np.empty(len(values), dtype=int)
    label[canon] = _ordered(values[canon], labels[best])
    return _labelled(x, tv, label, canon, ks, scores, seed, n_init)


def _labelled(x, tv, label, canon, ks, scores, seed, n_init) -> xr.Dataset:
    clusters = np.arange(label.max() + 1)
    # Means summed in the canonical order: the same to the last bit for any unit order.
    ordered, ordered_label = x.values[canon], label[canon]
    means = np.array([ordered[ordered_label == c].mean(axis=0) for c in clusters])
    tasks = x["task"].values
    ds = xr.Dataset(
        {
            "label": ("unit", label),
            "normalized": x,
            "silhouette": ("k", scores),
            "cluster_variance": (("cluster", "task"), means),
            "size": ("cluster", np.bincount(label)),
        },
        coords={
            "k": list(ks),
            "cluster": clusters,
            "preferred_task": ("cluster", tasks[means.argmax(1)]),
        },
    )
    ds.attrs.update(
        {
            "n_clusters": len(clusters),
            "seed": seed,
            "n_init": n_init,
            "n_excluded": int(tv.attrs.get("n_excluded", np.sum(~tv["active"].values))),
        }
    )
    return ds
