"""Clustering of units by normalised task variance, on units built to be selective to
given tasks, against brute-force k-means and silhouette computations."""

import doctest
import importlib
import itertools

import numpy as np
import pytest
import xarray as xr
from multitask_activity import group_selectivity, planted_activity

from neurodyn.analysis import cluster_task_variance, task_variance

# Four groups selective to different task sets, and three silent units (their noise,
# 6 tasks × 0.01², sums to less than the activity threshold 1e-3).
GROUPS = [(8, [0]), (6, [1, 2]), (3, []), (7, [3]), (5, [4, 5])]
# Sums of a few dozen float64 distances agree to ~1e-14 whatever their order.
RTOL = 1e-12


@pytest.fixture(scope="module")
def planted():
    selective = group_selectivity(GROUPS, 6)
    tv = task_variance(planted_activity(selective, n_trials=40, noise=0.01, seed=1))
    group = np.repeat(np.arange(len(GROUPS)), [n for n, _ in GROUPS])
    silent = ~selective.any(axis=1)
    return tv, group[~silent]


def brute_force_silhouette(x, labels):
    """The silhouette score by its definition, one unit at a time."""
    s = []
    for i in range(len(x)):
        d = np.linalg.norm(x - x[i], axis=1)
        own = (labels == labels[i]) & (np.arange(len(x)) != i)
        if not own.any():
            s.append(0.0)  # a unit alone in its cluster scores 0 by convention
            continue
        a = d[own].mean()
        b = min(d[labels == c].mean() for c in np.unique(labels) if c != labels[i])
        s.append((b - a) / max(a, b))
    return np.mean(s)


def within_cluster_sum_of_squares(x, labels):
    return sum(
        ((x[labels == c] - x[labels == c].mean(axis=0)) ** 2).sum() for c in np.unique(labels)
    )


def test_docstring_example_runs():
    module = importlib.import_module("neurodyn.analysis.multitask.clustering")
    assert doctest.testmod(module).failed == 0


def test_units_selective_to_given_tasks_give_exactly_those_clusters(planted):
    tv, group = planted
    c = cluster_task_variance(tv, k=range(2, 11))
    assert c.attrs["n_clusters"] == 4 and c.attrs["n_excluded"] == 3
    # The silhouette score peaks at the planted number of clusters.
    assert int(c["k"][np.nanargmax(c["silhouette"].values)]) == 4
    label = c["label"].values
    # Equal up to permutation: each planted group is one cluster and each cluster one group.
    contingency = np.zeros((4, 4), dtype=int)
    np.add.at(contingency, (np.unique(group, return_inverse=True)[1], label), 1)
    assert np.all((contingency > 0).sum(axis=0) == 1) and np.all((contingency > 0).sum(axis=1) == 1)
    # Numbered by preferred task: the groups come in the order of their tasks.
    np.testing.assert_array_equal(label, np.repeat(np.arange(4), [8, 6, 7, 5]))
    assert c["preferred_task"].values[[0, 2]].tolist() == ["T0", "T3"]
    assert c["preferred_task"].values[1] in ("T1", "T2") and c["preferred_task"].values[3] in (
        "T4",
        "T5",
    )
    np.testing.assert_array_equal(c["size"].values, [8, 6, 7, 5])


def test_silhouette_and_cluster_map_match_their_definitions(planted):
    tv, _ = planted
    c = cluster_task_variance(tv, k=range(2, 8))
    x, label = c["normalized"].values, c["label"].values
    np.testing.assert_allclose(
        c["silhouette"].sel(k=c.attrs["n_clusters"]).item(),
        brute_force_silhouette(x, label),
        rtol=RTOL,
    )
    for cluster in range(c.attrs["n_clusters"]):
        np.testing.assert_allclose(
            c["cluster_variance"].sel(cluster=cluster).values,
            x[label == cluster].mean(axis=0),
            rtol=RTOL,
        )
    np.testing.assert_array_equal(
        c["normalized"].values, tv["normalized"].values[tv["active"].values]
    )


def test_two_clusters_are_the_best_split_of_a_small_set():
    # 9 units, 3 tasks: every one of the 2^8 - 1 splits into two clusters is tried.
    rng = np.random.default_rng(5)
    v = xr.DataArray(rng.random((9, 3)) + 0.1, dims=("unit", "task"), coords={"task": list("ABC")})
    c = cluster_task_variance(v, k=[2])
    x = c["normalized"].values
    best = min(
        within_cluster_sum_of_squares(x, np.array((0, *split)))
        for split in itertools.product((0, 1), repeat=8)
        if any(split)
    )
    np.testing.assert_allclose(within_cluster_sum_of_squares(x, c["label"].values), best, rtol=RTOL)


def test_reproducible_for_a_seed_and_invariant_to_unit_order(planted):
    tv, _ = planted
    c = cluster_task_variance(tv, k=range(2, 8), seed=3)
    xr.testing.assert_identical(c, cluster_task_variance(tv, k=range(2, 8), seed=3, threads=1))
    assert c.attrs["seed"] == 3
    order = np.random.default_rng(6).permutation(tv.sizes["unit"])
    shuffled = cluster_task_variance(tv.isel(unit=order), k=range(2, 8), seed=3)
    xr.testing.assert_identical(shuffled.sortby("unit"), c.sortby("unit"))


def test_a_k_the_units_cannot_fill_scores_nan():
    # Three distinct variance vectors among 12 units: at most 3 clusters.
    v = xr.DataArray(np.kron(np.eye(3), np.ones((4, 1))) + 0.01, dims=("unit", "task"),
                     coords={"task": ["A", "B", "C"]})  # fmt: skip
    c = cluster_task_variance(v, k=range(2, 7))
    assert np.isnan(c["silhouette"].sel(k=[4, 5, 6]).values).all()
    assert c["silhouette"].sel(k=3).item() == 1.0  # zero distance within each cluster
    with pytest.raises(ValueError, match="no k in"):
        cluster_task_variance(v, k=[5, 6])


def test_bad_input_is_refused_naming_the_argument(planted):
    tv, _ = planted
    with pytest.raises(ValueError, match="k must be"):
        cluster_task_variance(tv, k=[1, 2])
    with pytest.raises(ValueError, match="n_init"):
        cluster_task_variance(tv, n_init=0)
    with pytest.raises(ValueError, match="threads"):
        cluster_task_variance(tv, threads=0)
    with pytest.raises(ValueError, match="tv must be the Dataset"):
        cluster_task_variance(tv[["task_variance"]])
    with pytest.raises(ValueError, match="2 active unit"):
        cluster_task_variance(tv.isel(unit=[0, 1]))
