"""Shooting for periodic orbits: the Hopf normal form, a reversed (unstable) cycle, map cycles."""

import numpy as np
import pytest
from toolbox_systems import hopf

from neurodyn.analysis import estimate_period, find_limit_cycle
from neurodyn.dynamics import FunctionDynamics


@pytest.mark.parametrize(("mu", "omega"), [(0.5, 2.0), (0.1, 1.0)])
def test_hopf_normal_form_cycle(mu, omega):
    dyn = hopf(mu, omega)
    x, T = estimate_period(dyn, [0.05, 0.0], t_transient=10 / mu, t_max=10 * np.pi / omega)
    assert pytest.approx(2 * np.pi / omega, rel=1e-3) == T
    lc = find_limit_cycle(dyn, x, T)
    assert lc.status == "converged" and lc.stability == "stable"
    # Radius sqrt(μ), period 2π/ω, multipliers 1 (along the orbit) and exp(-2μT).
    np.testing.assert_allclose(np.linalg.norm(lc.orbit, axis=1), np.sqrt(mu), rtol=1e-6)
    assert lc.period == pytest.approx(2 * np.pi / omega, rel=1e-8)
    period = 2 * np.pi / omega
    mult = np.sort(np.abs(lc.multipliers))[::-1]
    assert mult[0] == pytest.approx(1.0, abs=1e-6)
    assert mult[1] == pytest.approx(np.exp(-2 * mu * period), rel=1e-4)
    assert abs(lc.multipliers[lc.trivial] - 1) < 1e-6
    ds = lc.to_xarray()
    assert ds.sizes["multiplier"] == 2 and ds.attrs["stability"] == "stable"


def test_unstable_cycle_of_the_time_reversed_system():
    # Reversing time makes the cycle repelling: the multiplier becomes exp(+2μT).
    mu, omega = 0.2, 1.0
    # Single shooting needs a close guess for a repelling orbit: errors grow by e^{2μT} ≈ 12.
    lc = find_limit_cycle(hopf(mu, omega, sign=-1.0), [np.sqrt(mu) * 1.002, 0.0], 6.1)
    assert lc.status == "converged" and lc.stability == "unstable_1"
    assert np.max(np.abs(lc.multipliers)) == pytest.approx(np.exp(2 * mu * 2 * np.pi), rel=1e-4)


def test_two_cycle_of_the_logistic_map():
    r = 3.2
    dyn = FunctionDynamics(
        lambda x, u: r * x * (1 - x), n_state=1, jacobian=lambda x, u: (r * (1 - 2 * x))[:, :, None]
    )
    lc = find_limit_cycle(dyn, [0.5], 2)
    disc = np.sqrt((r - 3) * (r + 1))
    hi, lo = (r + 1 + disc) / (2 * r), (r + 1 - disc) / (2 * r)
    assert sorted(lc.orbit[:2, 0]) == pytest.approx([lo, hi], rel=1e-10)
    # The multiplier of a 2-cycle is the product of the derivatives along it.
    assert lc.multipliers[0].real == pytest.approx(r**2 * (1 - 2 * hi) * (1 - 2 * lo), rel=1e-8)
    assert lc.stability == "stable" and lc.kind == "map"


def test_divergence_is_a_status_not_an_exception():
    dyn = FunctionDynamics(
        lambda x, u: np.concatenate([x[:, :1] ** 2, -x[:, 1:]], 1), n_state=2, kind="ode"
    )
    lc = find_limit_cycle(dyn, [2.0, 1.0], 5.0)
    assert lc.status == "diverged" and lc.stability == "unknown"


def test_bad_input():
    dyn = hopf(0.5, 2.0)
    with pytest.raises(ValueError, match="period must be positive"):
        find_limit_cycle(dyn, [0.7, 0.0], -1.0)
    with pytest.raises(ValueError, match="period must be positive"):
        find_limit_cycle(dyn, [0.7, 0.0], np.nan)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        find_limit_cycle(dyn, [np.nan, 0.0], 3.0)
    with pytest.raises(ValueError, match="x0 is a fixed point"):
        find_limit_cycle(dyn, [0.0, 0.0], 3.0)
    logistic = FunctionDynamics(lambda x, u: 3.2 * x * (1 - x), n_state=1)
    with pytest.raises(
        ValueError, match=r"period \(the k of a map cycle\) must be an integer >= 1"
    ):
        find_limit_cycle(logistic, [0.5], 2.5)
    with pytest.raises(ValueError, match="t_max must be finite and > 0"):
        estimate_period(dyn, [0.1, 0.0], t_transient=1.0, t_max=-1.0)
    with pytest.raises(ValueError, match="threads must be None"):
        find_limit_cycle(dyn, [0.7, 0.0], 3.0, threads=0)


def test_trivial_multiplier_is_the_one_along_the_flow():
    # Hopf in (x, y) times z' = -δz: multipliers 1 (along the orbit), exp(-δT) and
    # exp(-2μT). With δ small, exp(-δT) is nearly 1 as well: the trivial multiplier is
    # told apart by its eigenvector, the flow direction, not by its closeness to 1.
    mu, omega, delta = 0.5, 2.0, 1e-4
    base = hopf(mu, omega)

    def f(x, u):
        return np.concatenate([base.velocity(x[:, :2]), -delta * x[:, 2:]], axis=1)

    def jac(x, u):
        J = np.zeros((len(x), 3, 3))
        J[:, :2, :2] = base.jacobian(x[:, :2])
        J[:, 2, 2] = -delta
        return J

    dyn = FunctionDynamics(f, n_state=3, kind="ode", jacobian=jac, dt=0.01)
    T = 2 * np.pi / omega
    lc = find_limit_cycle(dyn, [np.sqrt(mu) * 1.01, 0.0, 0.0], T * 1.01)
    assert lc.status == "converged" and lc.stability == "stable"
    # RK4 with 400 steps per period: relative error ~ (ωh)^4/120 ≈ 1e-10.
    assert abs(lc.multipliers[lc.trivial] - 1) < 1e-8
    np.testing.assert_allclose(
        np.sort(np.abs(lc.nontrivial)), [np.exp(-2 * mu * T), np.exp(-delta * T)], rtol=1e-8
    )
    assert lc.max_multiplier == pytest.approx(np.exp(-delta * T), rel=1e-8)
    # The orbit's exponents: 0 along it, log|μ|/T across it.
    np.testing.assert_allclose(lc.exponents, [0.0, -delta, -2 * mu], atol=1e-8)


def test_van_der_pol_multiplier_obeys_liouville():
    mu = 0.5

    def f(x, u):
        return np.stack([x[:, 1], mu * (1 - x[:, 0] ** 2) * x[:, 1] - x[:, 0]], axis=1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = -2 * mu * x[:, 0] * x[:, 1] - 1.0
        J[:, 1, 1] = mu * (1 - x[:, 0] ** 2)
        return J

    dyn = FunctionDynamics(f, n_state=2, kind="ode", jacobian=jac, dt=0.01)
    x, T = estimate_period(dyn, [0.5, 0.0], t_transient=40.0, t_max=30.0)
    lc = find_limit_cycle(dyn, x, T, n_steps=1000)
    assert lc.is_stable and lc.trivial >= 0
    # Liouville's formula: the product of the multipliers is exp(∮ tr A dt); the
    # trivial one is 1, so the other is exp(∮ μ(1 - x²) dt) (trapezoid rule on a
    # periodic integrand: spectrally accurate).
    div = np.trapezoid(mu * (1 - lc.orbit[:, 0] ** 2), lc.time)
    assert lc.max_multiplier == pytest.approx(np.exp(div), rel=1e-7)
    # Lindstedt: T = 2π(1 + μ²/16 - 5μ⁴/3072 + O(μ⁶)), the remainder below μ⁶/10.
    assert lc.period == pytest.approx(
        2 * np.pi * (1 + mu**2 / 16 - 5 * mu**4 / 3072), rel=mu**6 / 10
    )


def test_map_cycle_reports_its_minimal_period():
    r = 3.2
    dyn = FunctionDynamics(
        lambda x, u: r * x * (1 - x), n_state=1, jacobian=lambda x, u: (r * (1 - 2 * x))[:, :, None]
    )
    # A 2-cycle solves F⁴(x) = x as well: asked for period 4, the search reports 2.
    lc = find_limit_cycle(dyn, [0.5], 4)
    assert lc.period == 2.0 and len(lc.orbit) == 3 and lc.is_stable
    # Near the fixed point 1 - 1/r, Newton on F²(x) = x lands on it: not a 2-cycle.
    lc = find_limit_cycle(dyn, [1 - 1 / r + 1e-3], 2)
    assert lc.status == "fixed_point" and not lc.is_stable


def test_no_orbit_near_the_guess_stops_early():
    # A slow linear spiral has no periodic orbit; Newton stops once it stops making
    # progress instead of spending every iteration.
    A = np.array([[-0.002, -1.0], [1.0, -0.002]])
    dyn = FunctionDynamics(
        lambda x, u: x @ A.T, n_state=2, kind="ode",
        jacobian=lambda x, u: np.broadcast_to(A, (len(x), 2, 2)).copy(),
    )  # fmt: skip
    lc = find_limit_cycle(dyn, [1.0, 0.0], 2 * np.pi, max_iter=30)
    assert lc.status in ("stalled", "fixed_point") and lc.n_iter < 30 and not lc.is_stable


def test_runs_under_the_thread_policy():
    from neurodyn import threads

    find_limit_cycle(hopf(0.5, 2.0), [0.75, 0.0], 3.2, threads=1)
    choice = threads.last_choice()
    assert (choice.what, choice.requested) == ("find_limit_cycle", 1)
    estimate_period(hopf(0.5, 2.0), [0.1, 0.0], t_transient=1.0, t_max=5.0)
    choice = threads.last_choice()
    assert (choice.what, choice.requested, choice.threads) == ("estimate_period", None, 1)
