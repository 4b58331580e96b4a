"""Targeted dimensionality reduction: axes recovered from a population with known encoding
directions, exact on noiseless data, equivariant to rotations of the units, and
refusals of bad input."""

import doctest

import numpy as np
import pytest
import xarray as xr

from neurodyn.analysis import project_targeted, targeted_axes
from neurodyn.analysis import targeted as targeted_module

N_UNIT, N_TIME = 30, 12
NAMES = ("choice", "motion", "color", "context")


def _population(n_trial=400, noise=0.0, seed=0):
    """Trials whose four task variables move the population along fixed, non-orthogonal
    directions u_v with time courses a_v(t) peaking at different times."""
    rng = np.random.default_rng(seed)
    variables = {
        "choice": rng.choice([-1.0, 1.0], n_trial),
        "motion": rng.choice([-50.0, -15.0, -5.0, 5.0, 15.0, 50.0], n_trial),
        "color": rng.choice([-50.0, -15.0, -5.0, 5.0, 15.0, 50.0], n_trial),
        "context": rng.choice([-1.0, 1.0], n_trial),
    }
    u = rng.normal(size=(4, N_UNIT))
    u[1] += 0.5 * u[0]  # the motion direction leans on the choice direction
    t = np.arange(N_TIME)
    peaks = np.array([10.0, 3.0, 5.0, 7.0])
    a = np.exp(-0.5 * ((t[None, :] - peaks[:, None]) / 2.0) ** 2)  # (4, time)
    f = np.stack([variables[n] for n in NAMES], axis=1)  # (trial, 4)
    x = np.einsum("kv,vt,vi->kti", f, a, u) + 2.0
    x = x + noise * rng.normal(size=x.shape)
    return x, variables, u, a, peaks


def _qr_axes(u):
    q, r = np.linalg.qr(u.T)
    return (q * np.sign(np.diag(r))).T


def test_noiseless_regression_recovers_the_encoding_exactly():
    x, variables, u, a, peaks = _population()
    tdr = targeted_axes(x, variables, n_components=4, standardize=False)
    # Exact linear data of rank 4: least squares and the rank-4 denoising reproduce
    # beta_{v,t} = a_v(t) u_v up to float64 rounding of a 400 x 5 problem.
    want = a[:, :, None] * u[:, None, :]
    np.testing.assert_allclose(tdr["beta"].values, want, atol=1e-9)
    np.testing.assert_allclose(tdr["beta_denoised"].values, want, atol=1e-9)
    assert tdr["t_max"].values.tolist() == peaks.astype(int).tolist()
    np.testing.assert_allclose(tdr["axes"].values, _qr_axes(u), atol=1e-9)
    np.testing.assert_allclose(tdr["axes"].values @ tdr["axes"].values.T, np.eye(4), atol=1e-12)


def test_noisy_axes_converge_to_the_true_ones():
    x, variables, u, _, _ = _population(noise=0.5, seed=1)
    tdr = targeted_axes(x, variables, n_components=12, standardize=False)
    # The coefficient error per unit is about noise / (sqrt(n_trial) * std(F_v)) relative
    # to |u_v| ~ sqrt(30): ~ 0.5 / (20 * 1) / 5.5 ~ 5e-3 for ±1 variables (smaller for
    # coherences); the axes' cosines with the true ones are then within ~1e-4 of 1.
    cos = np.abs(np.sum(tdr["axes"].values * _qr_axes(u), axis=1))
    assert np.all(cos > 1 - 1e-3)


def test_axes_rotate_with_the_units():
    # Without standardisation (which is per unit), an orthogonal change of unit
    # coordinates R gives axes A R: the analysis has no preferred basis.
    x, variables, _, _, _ = _population(noise=0.1, seed=2)
    R = np.linalg.qr(np.random.default_rng(3).normal(size=(N_UNIT, N_UNIT)))[0]
    a = targeted_axes(x, variables, n_components=8, standardize=False)["axes"].values
    b = targeted_axes(x @ R, variables, n_components=8, standardize=False)["axes"].values
    np.testing.assert_allclose(b, a @ R, atol=1e-9)


def test_projection_reads_the_variables_back():
    x, variables, _, _, _ = _population(noise=0.1, seed=4)
    da = xr.DataArray(x, dims=("trial", "time", "unit"),
                      coords={"time": np.arange(N_TIME) * 10.0})  # fmt: skip
    tdr = targeted_axes(da, variables, n_components=8)
    assert tdr["t_max"].values[0] == 100.0  # the choice peaks at step 10 (ms coordinates)
    proj = project_targeted(da, tdr)
    assert proj.dims == ("trial", "time", "regressor")
    # On the first axis at the choice's peak, the trials split by choice.
    on_choice = proj.sel(regressor="choice", time=100.0).values
    assert np.all(np.sign(on_choice) == variables["choice"])


def test_standardised_units_with_no_variance_stay_zero():
    x, variables, _, _, _ = _population(noise=0.1, seed=5)
    x[:, :, 0] = 3.0  # a silent unit
    tdr = targeted_axes(x, variables, n_components=8)
    # Its coefficients are exactly 0; the denoising's SVD leaves rounding (~1e-17) there.
    assert np.all(np.abs(tdr["axes"].values[:, 0]) < 1e-12) and tdr["scale"].values[0] == 1.0


def test_bad_input_is_refused_by_name():
    x, variables, _, _, _ = _population()
    with pytest.raises(ValueError, match="regressors\\['choice'\\]"):
        targeted_axes(x, {**variables, "choice": variables["choice"][:-1]})
    with pytest.raises(ValueError, match="linearly dependent"):
        targeted_axes(x, {**variables, "twice": 2 * variables["choice"]})
    with pytest.raises(ValueError, match="n_components"):
        targeted_axes(x, variables, n_components=N_UNIT + 1)
    with pytest.raises(ValueError, match="trial, time, unit"):
        targeted_axes(x[0], variables)
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        targeted_axes(bad, variables)
    tdr = targeted_axes(x, variables, n_components=4)
    with pytest.raises(ValueError, match="units"):
        project_targeted(x[..., :5], tdr)


def test_docstring_examples_run():
    assert doctest.testmod(targeted_module).failed == 0
