"""Properties of the adaptive QR schedule of lyapunov_spectrum: agreement with a QR every
step to rounding (the tolerance is derived in ``lyapunov_systems``), on chaotic maps and
flows with random run lengths and transients, and the reports of trajectories that fail.
"""

import numpy as np
import pytest
from lyapunov_systems import (
    SYSTEMS,
    cat_cocycle,
    logistic,
    rounding_tolerance,
    standard_map,
    sums,
)

from neurodyn.analysis import lyapunov_spectrum
from neurodyn.dynamics import FunctionDynamics


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_adaptive_schedule_agrees_with_qr_every_step_to_rounding(name):
    make, x0, opts = SYSTEMS[name]
    dyn = make()
    rng = np.random.default_rng(sum(map(ord, name)))  # seeded per system
    for _ in range(2):
        kw = dict(
            n_steps=int(rng.integers(150, 1200)),
            transient=int(rng.integers(0, 300)),
            progress=False,
            **opts,
        )
        auto = lyapunov_spectrum(dyn, x0, reorth="auto", **kw)
        every = lyapunov_spectrum(dyn, x0, reorth=1, **kw)
        assert auto.status.tolist() == every.status.tolist() == ["ok"]
        assert every.n_qr[0] == kw["n_steps"]
        diff = np.max(np.abs(sums(auto) - sums(every)))
        assert diff <= rounding_tolerance(auto, every), (kw, diff)


def test_invariants_hold_under_the_adaptive_schedule():
    # Area-preserving standard map: λ1 + λ2 = 0; the logistic map at r = 4: λ = log 2
    # (the invariant density is known; 20 000 steps put the estimate within 1%).
    std = lyapunov_spectrum(standard_map(), [0.5, 1.0], n_steps=3000, progress=False)
    # log|R_11 R_22| = log|det J| = 0 at every QR, up to the rounding of R_22 (ε κ) and
    # of the sums: the tolerance of the agreement test, per step.
    assert abs(sums(std).sum()) <= rounding_tolerance(std)
    assert std.exponents[0] > 1.0  # ≈ log(K/2) = 1.1 for K = 6
    lg = lyapunov_spectrum(logistic(), [0.3], n_steps=20_000, transient=100, progress=False)
    assert lg.exponents[0] == pytest.approx(np.log(2.0), rel=0.01)


def test_an_interval_that_loses_rank_is_redone_not_taken_as_log_zero():
    dyn, u = cat_cocycle(n_off=300)
    kw = dict(n_steps=600, transient=0, n_checkpoints=1, progress=False)
    auto = lyapunov_spectrum(dyn, [0.1, 0.2], u, reorth="auto", **kw)
    every = lyapunov_spectrum(dyn, [0.1, 0.2], u, reorth=1, **kw)
    assert auto.status.tolist() == ["ok"] and auto.info["n_redo"][0] >= 1
    np.testing.assert_allclose(
        sums(auto), sums(every), rtol=0, atol=rounding_tolerance(auto, every)
    )
    # 300 steps of the identity, then 300 of A: S_1 = 300 log ρ + log|c|, c the first
    # vector's component along A's unstable direction at the switch (order 1); S_2 = -S_1
    # (det A = 1) up to rounding.
    rho = (11.0 + np.sqrt(117.0)) / 2.0
    assert sums(auto)[0, 0] == pytest.approx(300 * np.log(rho), abs=5.0)
    assert abs(sums(auto)[0].sum()) <= rounding_tolerance(auto)


def test_a_fixed_interval_that_loses_rank_is_reported_with_its_reason(caplog):
    dyn, u = cat_cocycle(n_off=40)
    with caplog.at_level("WARNING", logger="neurodyn.analysis.lyapunov.spectrum"):
        le = lyapunov_spectrum(
            dyn, [0.1, 0.2], u, n_steps=200, transient=0, reorth=64, progress=False
        )
    assert le.status.tolist() == ["lost_rank"]
    assert "reorth='auto'" in le.reason[0] and "lost rank" in le.reason[0]
    assert np.isnan(le.exponents).all()  # no trajectory finished, and it says why
    assert "lost_rank" in caplog.text
    ds = le.to_xarray()
    assert ds["reason"].values[0] == le.reason[0]


def test_a_singular_tangent_map_is_reported_not_minus_infinity():
    # x ↦ (tanh x1, 0): the second direction is annihilated every step, so the second
    # exponent is -∞; the first is finite.
    dyn = FunctionDynamics(
        lambda x, u: np.stack([np.tanh(x[:, 0]), 0.0 * x[:, 1]], axis=1),
        n_state=2,
        jacobian=lambda x, u: np.stack(
            [np.stack([1.0 - np.tanh(x[:, 0]) ** 2, 0 * x[:, 0]], 1), np.zeros((len(x), 2))], 1
        ),
    )
    both = lyapunov_spectrum(dyn, [[0.5, 0.5], [1.0, -1.0]], n_steps=50, progress=False)
    assert both.status.tolist() == ["singular", "singular"]
    assert all("singular to working precision" in r for r in both.reason)
    top = lyapunov_spectrum(dyn, [0.5, 0.5], k=1, n_steps=50, transient=0, progress=False)
    assert top.status.tolist() == ["ok"] and np.isfinite(top.exponents[0])


def test_a_jacobian_that_is_not_finite_is_reported():
    dyn = FunctionDynamics(
        lambda x, u: 0.5 * x,
        n_state=1,
        jacobian=lambda x, u: np.where(np.abs(x) < 0.01, np.inf, 0.5)[:, :, None],
    )
    le = lyapunov_spectrum(dyn, [[1.0], [-1.0]], n_steps=50, transient=0, progress=False)
    assert le.status.tolist() == ["nonfinite", "nonfinite"]
    # 0.5^7 < 0.01: the Jacobian at x_7 is infinite, the step from x_7 makes V infinite.
    assert "by step 8" in le.reason[0]


@pytest.mark.parametrize("rate", [-50.0, 50.0])
def test_the_interval_keeps_columns_inside_the_floating_point_range(rate):
    # J = e^rate P with P the swap of two coordinates: both exponents equal rate, so the
    # spread is zero, and without a bound on the growth a 64-step interval would overflow
    # (e^3200) or underflow to zero. (Off-diagonal, so that the protocol's J - I + I of a
    # map keeps e^-50 exact.)
    g = np.exp(rate)
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    dyn = FunctionDynamics(
        lambda x, u: 0.0 * x,
        n_state=2,
        jacobian=lambda x, u: np.broadcast_to(g * swap, (len(x), 2, 2)),
    )
    le = lyapunov_spectrum(dyn, [0.0, 0.0], n_steps=500, transient=0, progress=False)
    assert le.status.tolist() == ["ok"] and le.info["n_redo"] == [0]
    # Each QR sums m logs of g, each exact to 1 ulp of |rate|.
    np.testing.assert_allclose(le.exponents, rate, rtol=1e-12)
