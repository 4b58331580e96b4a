"""classify_attractors on systems whose attractors and basins are known."""

import numpy as np
import pytest
from toolbox_systems import hopf, lorenz, ring

from neurodyn.analysis import classify_attractors
from neurodyn.dynamics import FunctionDynamics


def test_double_well_basins():
    dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode", dt=0.05)
    x0 = np.linspace(-2, 2, 41)[:, None]  # includes the unstable point 0 itself
    att = classify_attractors(dyn, x0, progress=False)
    assert att.kind.tolist() == ["fixed_point"] * 3
    reps = np.sort(att.representative[:, 0])
    np.testing.assert_allclose(reps, [-1.0, 0.0, 1.0], atol=1e-6)
    # 20 states on each side, one exactly at the saddle.
    frac = dict(zip(np.round(att.representative[:, 0]).tolist(), att.basin_fraction, strict=True))
    assert frac[-1.0] == frac[1.0] == pytest.approx(20 / 41) and frac[0.0] == pytest.approx(1 / 41)
    assert att.basin_fraction.sum() == pytest.approx(1.0)


def test_limit_cycle_and_its_basin():
    att = classify_attractors(
        hopf(0.5, 2.0), np.random.default_rng(0).normal(size=(12, 2)), n_steps=2000, progress=False
    )
    assert att.kind.tolist() == ["limit_cycle"] and att.basin_fraction.tolist() == [1.0]
    np.testing.assert_allclose(np.linalg.norm(att.final_state, axis=1), np.sqrt(0.5), rtol=1e-6)
    # A cycle's largest exponent is 0 (within the classifier's tolerance, 5 / T_Lyap).
    assert np.all(np.abs(att.lyapunov) <= att.info["lyapunov_tol"])
    # Found by shooting: period 2π/ω, nontrivial multiplier exp(-2μT) (Newton to 1e-10;
    # RK4 with 400 steps per period: relative error ~ (h/T)^4 ≈ 4e-11).
    assert att.period[0] == pytest.approx(np.pi, rel=1e-8)
    assert att.max_multiplier[0] == pytest.approx(np.exp(-2 * 0.5 * np.pi), rel=1e-6)
    assert att.cycles[0].is_stable and att.cycles[0].trivial >= 0
    ds = att.to_xarray()
    assert float(ds["period"][0]) == pytest.approx(np.pi, rel=1e-8)


def test_chaos_with_a_diverging_start_reported():
    x0 = np.random.default_rng(1).normal(size=(6, 3)) * 5
    x0[0] = [1e3, 1e3, 1e3]  # leaves |x| <= x_max at once
    att = classify_attractors(lorenz(), x0, n_steps=1500, x_max=1e4, progress=False)
    assert att.label.tolist() == ["diverged"] + ["chaotic"] * 5
    assert np.all(att.lyapunov[1:] > att.info["lyapunov_tol"])  # chaos: a positive exponent
    assert att.kind.tolist() == ["chaotic"] and att.basin_fraction.tolist() == [5 / 6]
    assert att.diverged_fraction == pytest.approx(1 / 6)
    assert np.isnan(att.final_state[0]).all() and np.isnan(att.lyapunov[0])
    # Finite-time largest exponents scatter around the published 0.906.
    assert 0.5 < np.mean(att.lyapunov[1:]) < 1.3
    ds = att.to_xarray()
    assert ds["label"].values.tolist()[0] == "diverged"
    assert ds.attrs["diverged_fraction"] == pytest.approx(1 / 6)


def test_ring_attractor_is_recognised():
    att = classify_attractors(
        ring(), np.random.default_rng(2).normal(size=(60, 3)), n_steps=1000, progress=False
    )
    assert att.kind.tolist() == ["ring"] and att.basin_fraction.tolist() == [1.0]
    assert att.summary() == {"ring": 1.0, "unresolved": 0.0, "diverged": 0.0}


def test_bad_input():
    dyn = FunctionDynamics(lambda x, u: -x, n_state=2, kind="ode")
    with pytest.raises(ValueError, match="initial_states contains NaN"):
        classify_attractors(dyn, [[np.nan, 0.0]], progress=False)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 2"):
        classify_attractors(dyn, [[1.0, 0.0]], n_steps=1, progress=False)
    with pytest.raises(ValueError, match="window must lie in"):
        classify_attractors(dyn, [[1.0, 0.0]], n_steps=10, window=20, progress=False)
    with pytest.raises(ValueError, match="initial_states has shape"):
        classify_attractors(dyn, np.zeros((3, 5)), progress=False)
    with pytest.raises(ValueError, match="max_steps must be >= n_steps"):
        classify_attractors(dyn, [[1.0, 0.0]], n_steps=100, max_steps=50, progress=False)
    with pytest.raises(ValueError, match="lyapunov_tol must be finite and > 0"):
        classify_attractors(dyn, [[1.0, 0.0]], lyapunov_tol=-1.0, progress=False)
    with pytest.raises(ValueError, match="threads must be None"):
        classify_attractors(dyn, [[1.0, 0.0]], threads=0, progress=False)


def van_der_pol(mu):
    """x'' - μ(1 - x²)x' + x = 0 as a first-order system, with its Jacobian."""

    def f(x, u):
        return np.stack([x[:, 1], mu * (1 - x[:, 0] ** 2) * x[:, 1] - x[:, 0]], axis=1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = -2 * mu * x[:, 0] * x[:, 1] - 1.0
        J[:, 1, 1] = mu * (1 - x[:, 0] ** 2)
        return J

    return FunctionDynamics(f, n_state=2, kind="ode", jacobian=jac, dt=0.02)


def test_van_der_pol_cycle_is_found_by_shooting():
    mu = 0.2
    x0 = np.random.default_rng(3).normal(size=(6, 2))
    att = classify_attractors(van_der_pol(mu), x0, n_steps=3000, progress=False)
    assert att.kind.tolist() == ["limit_cycle"] and att.basin_fraction.tolist() == [1.0]
    lc = att.cycles[0]
    # Lindstedt's series T = 2π(1 + μ²/16 - 5μ⁴/3072 + O(μ⁶)): the next term is below
    # μ⁶ (6e-5) in relative size, far above Newton's and RK4's errors (~1e-10).
    series = 2 * np.pi * (1 + mu**2 / 16 - 5 * mu**4 / 3072)
    assert att.period[0] == pytest.approx(series, rel=mu**6)
    # Amplitude (half the peak-to-peak range of x) 2 + O(μ²), with a coefficient < 1/16.
    assert lc.amplitude[0] / 2 == pytest.approx(2.0, abs=mu**2 / 16)
    # Liouville: the nontrivial multiplier is exp(∮ div f dt) = exp(∮ μ(1 - x²) dt);
    # the trapezoid rule on a smooth periodic integrand is spectrally accurate.
    div = np.trapezoid(mu * (1 - lc.orbit[:, 0] ** 2), lc.time)
    assert att.max_multiplier[0] == pytest.approx(np.exp(div), rel=1e-7)
    assert abs(lc.multipliers[lc.trivial] - 1) < 1e-7
    assert np.all(np.abs(att.lyapunov) <= att.info["lyapunov_tol"])


def test_slow_spiral_is_unresolved_with_its_speed_never_a_cycle():
    # x' = A x with eigenvalues -ε ± i: it spirals into 0 so slowly that it is still
    # moving after the budget, and its finite-time exponent -ε lies inside the
    # tolerance around 0. Shooting finds no closed orbit (Newton collapses onto the
    # fixed point), so it is unresolved, not a limit cycle.
    eps = 0.002
    A = np.array([[-eps, -1.0], [1.0, -eps]])
    dyn = FunctionDynamics(
        lambda x, u: x @ A.T, n_state=2, kind="ode", dt=0.05,
        jacobian=lambda x, u: np.broadcast_to(A, (len(x), 2, 2)).copy(),
    )  # fmt: skip
    x0 = np.random.default_rng(0).normal(size=(3, 2))
    att = classify_attractors(dyn, x0, n_steps=400, lyapunov_steps=400, progress=False)
    assert att.label.tolist() == ["unresolved"] * 3 and len(att.kind) == 0
    assert att.summary() == {"unresolved": 1.0, "diverged": 0.0}
    np.testing.assert_allclose(att.lyapunov, -eps, rtol=1e-6)
    # Speed ‖A x‖ = √(1 + ε²)‖x‖ at the end state, and ‖x‖ decays as exp(-εt) with
    # t >= the budget (A is normal: the rotation keeps the norm).
    np.testing.assert_allclose(
        att.speed, np.hypot(1.0, eps) * np.linalg.norm(att.final_state, axis=1), rtol=1e-12
    )
    t_budget = att.info["max_steps"] * 0.05
    ratio = np.linalg.norm(att.final_state, axis=1) / np.linalg.norm(x0, axis=1)
    assert np.all(ratio <= np.exp(-eps * t_budget) * (1 + 1e-9))
    assert np.all(att.speed > 0.05)


def test_slow_spiral_of_a_map_is_not_a_periodic_orbit():
    # x -> ρ R(2π/7) x recurs after 7 steps to within (1 - ρ⁷)|x|; Newton on F⁷(x) = x
    # lands on the fixed point 0 (minimal period 1), so no periodic orbit is reported.
    rho, th = 0.999, 2 * np.pi / 7
    R = rho * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    dyn = FunctionDynamics(
        lambda x, u: x @ R.T, n_state=2,
        jacobian=lambda x, u: np.broadcast_to(R, (len(x), 2, 2)).copy(),
    )  # fmt: skip
    x0 = np.random.default_rng(0).normal(size=(5, 2))
    att = classify_attractors(dyn, x0, n_steps=200, lyapunov_steps=200, progress=False)
    assert set(att.label) == {"unresolved"}
    np.testing.assert_allclose(att.lyapunov, np.log(rho), rtol=1e-6)
    # With a budget long enough to decay below rest_tol it rests at the fixed point,
    # whose exponent is log ρ exactly (from the Jacobian).
    att = classify_attractors(dyn, x0, n_steps=200, max_steps=40_000, progress=False)
    assert att.kind.tolist() == ["fixed_point"] and att.basin_fraction.tolist() == [1.0]
    np.testing.assert_allclose(att.lyapunov, np.log(rho), rtol=1e-12)


def test_two_cycle_of_the_logistic_map_is_a_periodic_orbit():
    r = 3.2
    dyn = FunctionDynamics(
        lambda x, u: r * x * (1 - x), n_state=1,
        jacobian=lambda x, u: (r * (1 - 2 * x))[:, :, None],
    )  # fmt: skip
    x0 = np.linspace(0.05, 0.95, 9)[:, None]
    att = classify_attractors(dyn, x0, n_steps=500, progress=False)
    assert att.kind.tolist() == ["periodic_orbit"] and att.basin_fraction.tolist() == [1.0]
    disc = np.sqrt((r - 3) * (r + 1))
    hi, lo = (r + 1 + disc) / (2 * r), (r + 1 - disc) / (2 * r)
    mult = r**2 * (1 - 2 * hi) * (1 - 2 * lo)
    assert att.period[0] == 2.0  # two steps of dt = 1
    assert att.max_multiplier[0] == pytest.approx(abs(mult), rel=1e-8)
    # A stable orbit of a map has a negative exponent, log|μ|/2 per step, and the
    # trajectories' QR estimates agree with it.
    assert att.cycles[0].exponents[0] == pytest.approx(np.log(abs(mult)) / 2, rel=1e-8)
    assert np.all(np.abs(att.lyapunov - np.log(abs(mult)) / 2) <= att.info["lyapunov_tol"])


def test_runs_under_the_thread_policy():
    from neurodyn import threads

    dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode", dt=0.05)
    x0 = np.linspace(-2, 2, 8)[:, None]
    classify_attractors(dyn, x0, threads=1, progress=False)
    choice = threads.last_choice()
    assert (choice.what, choice.requested, choice.threads) == ("classify_attractors", 1, 1)
    # Left to the policy, work this small (8 states of one variable) runs on one thread.
    classify_attractors(dyn, x0, progress=False)
    choice = threads.last_choice()
    assert (choice.what, choice.requested, choice.threads) == ("classify_attractors", None, 1)
