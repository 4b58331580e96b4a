"""Figures of the multitask analyses draw exactly what the analyses computed."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from multitask_activity import group_selectivity, planted_activity

from neurodyn.analysis import (
    cluster_task_variance,
    fractional_task_variance,
    task_composition,
    task_variance,
)
from neurodyn.plotting import (
    plot_cluster_variance,
    plot_fractional_variance,
    plot_silhouette,
    plot_task_composition,
    plot_task_representation,
    plot_task_variance,
    save_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def analysed():
    # Units given in an order that is not their clusters': sorting must regroup them.
    selective = group_selectivity([(3, [2]), (4, [0]), (2, []), (5, [1, 3])], 4)
    order = np.random.default_rng(0).permutation(len(selective))
    tv = task_variance(planted_activity(selective[order], n_trials=24, noise=0.01))
    return tv, cluster_task_variance(tv, k=range(2, 7))


def test_task_variance_map_shows_units_sorted_by_cluster(analysed, tmp_path):
    _, clusters = analysed
    ax = plot_task_variance(clusters)
    (image,) = ax.images
    order = np.argsort(clusters["label"].values, kind="stable")
    np.testing.assert_array_equal(image.get_array(), clusters["normalized"].values[order].T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["T0", "T1", "T2", "T3"]
    # Boundaries between the clusters of sizes 4, 5, 3 (numbered by preferred task).
    assert clusters["size"].values.tolist() == [4, 5, 3]
    assert [ln.get_xdata()[0] for ln in ax.lines] == [3.5, 8.5]
    assert [t.get_text() for t in ax.texts] == ["0", "1", "2"]
    path = save_figure(ax.figure, tmp_path / "tv.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_task_variance_map_of_unclustered_units(analysed):
    tv, _ = analysed
    ax = plot_task_variance(tv)
    (image,) = ax.images
    active = tv["normalized"].values[tv["active"].values]
    assert image.get_array().shape == (4, 12)
    # Sorted by preferred task.
    np.testing.assert_array_equal(
        np.argmax(image.get_array(), axis=0), np.sort(active.argmax(axis=1))
    )


def test_cluster_map_and_silhouette_curve(analysed):
    _, clusters = analysed
    ax = plot_cluster_variance(clusters)
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), clusters["cluster_variance"].values.T)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0\n(4)", "1\n(5)", "2\n(3)"]
    ax = plot_silhouette(clusters)
    curve, chosen = ax.lines
    np.testing.assert_array_equal(curve.get_ydata(), clusters["silhouette"].values)
    assert chosen.get_xdata()[0] == 3 == clusters.attrs["n_clusters"]


def test_fractional_variance_histograms(analysed):
    tv, _ = analysed
    ftv = fractional_task_variance(tv, [("T0", "T1"), ("T1", "T3")], bins=10)
    axes = plot_fractional_variance(ftv)
    assert len(axes) == 2
    for ax, pair in zip(axes, ftv["pair"].values, strict=True):
        heights = [p.get_height() for p in ax.patches]
        np.testing.assert_array_equal(heights, ftv["count"].sel(pair=pair).values)
        assert sum(heights) == ftv["n_units"].sel(pair=pair).item() == 12
        assert ax.get_title() == f"{pair} (12 units)"
    (ax,) = plot_fractional_variance(ftv.isel(pair=[0]), density=True)
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one per pair"):
        plot_fractional_variance(ftv, axes=[ax])


def test_composition_figures():
    tasks = ["go", "anti", "dlygo", "dlyanti"]
    v = np.array([[0.0, 0, 0], [1.0, 0, 0], [0.0, 1, 0], [1.0, 1, 0]])
    rep = xr.DataArray(v, dims=("task", "unit"), coords={"task": tasks})
    c = task_composition(rep, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
    ax = plot_task_composition(c)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "dlyanti"
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths) and widths[0] == 0.0
    ax = plot_task_representation(rep, arrows=[("go", "anti"), ("dlygo", "dlyanti")])
    (points,) = ax.lines
    xy = np.column_stack([points.get_xdata(), points.get_ydata()])
    # The square's four corners: Go→Anti and DlyGo→DlyAnti are the same vector.
    np.testing.assert_allclose(xy[1] - xy[0], xy[3] - xy[2], atol=1e-12)
    with pytest.raises(ValueError, match="arrows must be pairs"):
        plot_task_representation(rep, arrows=[("go", "nogo")])


def test_bad_results_are_refused(analysed):
    tv, _ = analysed
    with pytest.raises(ValueError, match="clusters must be the Dataset of cluster_task_variance"):
        plot_cluster_variance(tv)
    with pytest.raises(ValueError, match="ftv must be the Dataset"):
        plot_fractional_variance(tv)
    with pytest.raises(ValueError, match="result must be the Dataset"):
        plot_task_variance(tv["normalized"])
    with pytest.raises(ValueError, match="no active unit"):
        plot_task_variance(tv.assign(active=tv["active"] & False))
