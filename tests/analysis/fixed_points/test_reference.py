"""The plain reference solver against closed forms: where each candidate must end."""

import numpy as np

from neurodyn.analysis import SolverOptions
from neurodyn.analysis.fixed_points.outcomes import (
    DIVERGED,
    MAX_ITER,
    ROOT,
    SINGULAR,
    SLOW,
    STALLED,
)
from neurodyn.analysis.fixed_points.reference import solve_reference
from neurodyn.dynamics import FunctionDynamics


def solve(dyn, x0, **options):
    return solve_reference(dyn, x0, np.zeros((len(x0), dyn.n_input)), SolverOptions(**options))


def test_a_linear_map_has_one_root_found_from_everywhere():
    """x ↦ Mx + b has the one fixed point (I - M)⁻¹b, which Newton's method reaches in
    one step from anywhere (the residual is affine) and then polishes to rounding."""
    M, b = np.array([[0.5, 0.2], [-0.3, 0.1]]), np.array([1.0, -2.0])
    dyn = FunctionDynamics(
        lambda x, u: x @ M.T + b,
        n_state=2,
        jacobian=lambda x, u: np.broadcast_to(M, (len(x), 2, 2)),
    )
    x0 = np.random.default_rng(0).normal(0, 3, (50, 2))
    x, q, n_iter, code = solve(dyn, x0, max_step=100.0)
    assert np.all(code == ROOT)
    # Roots to rounding: ‖x‖ is about 2, so a few ε.
    np.testing.assert_allclose(
        x, np.broadcast_to(np.linalg.solve(np.eye(2) - M, b), x.shape), atol=1e-14
    )
    assert np.all(q <= 1e-28) and np.all(n_iter <= 2)


def test_the_pitchfork_has_three_roots():
    """ẋ = x - x³ has roots -1, 0, 1; candidates away from the folds at ±1/√3 end at
    the root of their basin under Newton's iteration."""
    dyn = FunctionDynamics(
        lambda x, u: x - x**3,
        n_state=1,
        kind="ode",
        jacobian=lambda x, u: (1 - 3 * x**2)[:, :, None],
    )
    x0 = np.array([[-2.0], [-1.2], [-0.1], [0.05], [0.3], [1.1], [3.0]])
    x, q, _, code = solve(dyn, x0, max_step=10.0)
    assert np.all(code == ROOT)
    np.testing.assert_allclose(x[:, 0], [-1, -1, 0, 0, 0, 1, 1], atol=1e-15)
    assert np.all(q < 1e-28)


def test_a_slow_point_is_the_minimum_of_q():
    """ẋ = μ + x² (μ > 0) has no root; q = ½(μ + x²)² has its minimum μ²/2 at x = 0.
    Near it q changes by μ Δ(x²), a negligible fraction of q: some candidates stall
    (q falls by less than 1e-6 relative per iteration) just before the gradient test
    calls them slow, next to the minimum all the same."""
    mu = 0.01
    dyn = FunctionDynamics(
        lambda x, u: mu + x**2, n_state=1, kind="ode", jacobian=lambda x, u: 2 * x[:, :, None]
    )
    x, q, _, code = solve(dyn, np.linspace(-1, 1, 21)[:, None] + 0.003)
    assert set(code.tolist()) <= {SLOW, STALLED} and np.mean(code == SLOW) > 0.5
    slow = code == SLOW
    # Slow: |∇q| L = 2|x|(μ + x²) L ≤ 1e-10 (μ + x²)², so |x| ≤ 1e-12 (L = 1 here), or
    # 1e-6 by the stall's gtol_stall = 1e-4; a stalled one moves x² by less than 1e-6 μ
    # per iteration, so it may be left farther out.
    assert np.all(np.abs(x[slow]) < 2e-6) and np.all(np.abs(x) < 1e-3)
    np.testing.assert_allclose(q[slow], mu**2 / 2, rtol=1e-9)
    assert np.all(q <= mu**2 / 2 * (1 + 1e-3**2 / mu) ** 2)


def test_a_vanishing_residual_is_not_a_root():
    """ẋ = eˣ: q → 0 as x → −∞ without a root; Newton's step is always 1 long, so no
    candidate locates a root, and all fail."""
    dyn = FunctionDynamics(
        lambda x, u: np.exp(x), n_state=1, kind="ode", jacobian=lambda x, u: np.exp(x)[:, :, None]
    )
    _, _, _, code = solve(dyn, np.linspace(-2, 2, 9)[:, None])
    assert set(code.tolist()) <= {SINGULAR, MAX_ITER}


def test_divergence_is_a_per_candidate_outcome():
    """ẋ = x/(1 + x²) (NaN beyond |x| = 4) has the one root 0; Newton pushes candidates
    with |x| > 1 outwards, past x_max or into the NaN."""

    def f(x, u):
        return np.where(np.abs(x) < 4, x / (1 + x**2), np.nan)

    dyn = FunctionDynamics(f, n_state=1, kind="ode")
    x, _, _, code = solve(dyn, np.array([[0.5], [-0.3], [1.5], [3.0], [5.0]]), x_max=3.5)
    assert list(code[:2]) == [ROOT, ROOT] and np.all(np.abs(x[:2]) < 1e-12)
    assert code[4] == DIVERGED and np.all(code[2:] != ROOT)
