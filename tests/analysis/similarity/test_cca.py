"""CCA similarity: invariances, a closed form, and unrelated activity."""

import numpy as np
import pytest
import xarray as xr

from neurodyn.analysis import cca_similarity


def test_invertible_mixing_of_units_is_perfect_similarity():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 8))
    mix = rng.normal(size=(8, 12))  # into more units: still an invertible map of x's span
    res = cca_similarity(x, x @ mix + 3.0, n_components=8)
    # Exact up to rounding of the QR and SVD of 400 x 8 matrices.
    np.testing.assert_allclose(res.correlations, 1.0, atol=1e-10)
    assert res.n_components == 8


def test_closed_form_for_one_shared_direction():
    """y = x0 + noise of variance s² in one unit: rho = 1 / sqrt(1 + s²) (population)."""
    rng = np.random.default_rng(2)
    n, s = 200_000, 0.75
    x = rng.normal(size=(n, 1))
    y = x + s * rng.normal(size=(n, 1))
    rho = cca_similarity(x, y, n_components=1).similarity
    # Sampling error of a correlation: (1 - rho²) / sqrt(n) ≈ 0.0008; 5 of those.
    assert rho == pytest.approx(1 / np.sqrt(1 + s**2), abs=5 * (1 - 0.64) / np.sqrt(n))


def test_unrelated_activity_is_near_zero_and_symmetric():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5000, 5)), rng.normal(size=(5000, 7))
    a, b = cca_similarity(x, y, 5), cca_similarity(y, x, 5)
    np.testing.assert_allclose(a.correlations, b.correlations, rtol=1e-10)
    # Largest canonical correlation of independent noise: about (sqrt(k)+sqrt(k))/sqrt(n).
    assert a.correlations[0] < 3 * 2 * np.sqrt(5 / 5000)


def test_dataarrays_with_a_unit_dim_and_bad_input():
    rng = np.random.default_rng(4)
    v = rng.normal(size=(3, 50, 6))
    da = xr.DataArray(v, dims=("trial", "time", "unit"))
    direct = cca_similarity(v.reshape(-1, 6), v.reshape(-1, 6)[:, ::-1], 4).similarity
    assert cca_similarity(da, da.isel(unit=slice(None, None, -1)), 4).similarity == direct
    with pytest.raises(ValueError, match="samples"):
        cca_similarity(v.reshape(-1, 6), v.reshape(-1, 6)[:10])
    with pytest.raises(ValueError, match="non-finite"):
        cca_similarity(np.full((5, 2), np.nan), np.ones((5, 2)))
    with pytest.raises(ValueError, match="n_components"):
        cca_similarity(v.reshape(-1, 6), v.reshape(-1, 6), 0)
