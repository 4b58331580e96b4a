"""plot_sweep draws each group's mean ± sd over its runs and leaves failed runs out."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import xarray as xr

from neurodyn.plotting import plot_sweep


def _sweep():
    rng = np.random.default_rng(0)
    model = np.array(["rate", "gru"] * 6)
    seed = np.repeat(np.arange(6), 2)
    loss = rng.normal(size=12)
    status = np.array(["done"] * 11 + ["failed"])
    loss[-1] = np.nan
    return xr.Dataset(
        {"val_loss": ("run", loss), "status": ("run", status)},
        coords={"run": np.arange(12), "model": ("run", model), "seed": ("run", seed)},
    )


def test_bars_are_the_mean_and_spread_of_each_group():
    ds = _sweep()
    ax = plot_sweep(ds, "val_loss", "model")
    bars = [c for c in ax.containers]
    assert len(bars) == 2
    for bar, name in zip(bars, ["rate", "gru"], strict=True):
        y = ds["val_loss"].values[(ds["model"].values == name) & (ds["status"].values == "done")]
        mean_line, _caps, (segments,) = bar.lines[0], bar.lines[1], bar.lines[2]
        np.testing.assert_allclose(mean_line.get_ydata()[0], y.mean(), rtol=1e-12)
        lo, hi = segments.get_segments()[0][:, 1]
        np.testing.assert_allclose([lo, hi], [y.mean() - y.std(ddof=1), y.mean() + y.std(ddof=1)])
    assert "11 runs" in ax.get_title() and "1 failed runs left out" in ax.get_title()


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="'val_los' is not among the sweep's data_vars"):
        plot_sweep(_sweep(), "val_los", "model")
    with pytest.raises(ValueError, match="'modle' is not among the sweep's coords"):
        plot_sweep(_sweep(), "val_loss", "modle")
