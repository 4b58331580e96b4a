"""Delay embedding against a Hankel matrix built by hand, and the inputs it reads."""

import numpy as np
import pytest
import xarray as xr

from neurodyn.analysis import delay_embedding


def test_matches_a_hand_built_hankel_matrix():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 2))
    m, tau = 3, 2
    rows = []
    for t in range((m - 1) * tau, len(x)):
        rows.append(np.concatenate([x[t - d * tau] for d in range(m)]))
    # A copy of entries: exact.
    np.testing.assert_array_equal(delay_embedding(x, m, tau)[0], np.array(rows))


def test_trials_are_embedded_separately_and_one_delay_is_the_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 20, 4))
    both = delay_embedding(x, 5, 1)
    for trial, h in zip(x, both, strict=True):
        np.testing.assert_array_equal(h, delay_embedding(trial, 5, 1)[0])
        assert h.shape == (16, 20)
    np.testing.assert_array_equal(delay_embedding(x, 1)[2], x[2])


def test_datasets_cut_padding_and_dataarrays_are_transposed():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(2, 12, 3))
    ds = xr.Dataset(
        {"states": (("trial", "time", "unit"), v)}, coords={"length": ("trial", [12, 7])}
    )
    h = delay_embedding(ds, 2)
    assert [len(r) for r in h] == [11, 6]
    np.testing.assert_array_equal(h[1], delay_embedding(v[1, :7], 2)[0])
    da = xr.DataArray(v.transpose(2, 0, 1), dims=("unit", "trial", "time"))
    np.testing.assert_array_equal(delay_embedding(da, 3)[0], delay_embedding(v[0], 3)[0])


def test_bad_arguments_are_named():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="n_delays"):
        delay_embedding(x, 0)
    with pytest.raises(ValueError, match="delay_interval"):
        delay_embedding(x, 2, 0)
    with pytest.raises(ValueError, match="spans 7 steps"):
        delay_embedding(x, 4, 2)
    with pytest.raises(ValueError, match="non-finite"):
        delay_embedding(np.full((5, 2), np.nan), 1)
    with pytest.raises(ValueError, match="expected \\(time, unit\\)"):
        delay_embedding(np.zeros(5), 1)
