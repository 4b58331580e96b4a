"""The integrator: convergence orders on a linear system with a closed form, tangent
steps against finite differences, and the loops the analyzers ran before it."""

import numpy as np
import pytest
from scipy.linalg import expm

from neurodyn.dynamics import FunctionDynamics, RateDynamics
from neurodyn.dynamics.integrate import (
    Scheme,
    advance,
    euler_step,
    residual_field,
    rk4_step,
    scheme,
    step,
    trajectory,
)

# A damped rotation with a third, faster mode: eigenvalues -0.3 ± 2i and -1.
A = np.array([[-0.3, 2.0, 0.0], [-2.0, -0.3, 0.5], [0.0, 0.0, -1.0]])
X0 = np.array([[1.0, 0.0, 0.5], [-0.4, 0.7, 1.0], [0.2, -1.1, -0.3]])
T = 2.0


def linear():
    return FunctionDynamics(lambda x, u: x @ A.T, n_state=3, kind="ode")


def errors(method, steps):
    """Largest error at time T against x(T) = e^{AT} x0, for each number of steps."""
    exact = X0 @ expm(A * T).T
    return np.array(
        [
            np.max(
                np.abs(trajectory(linear(), X0, n_steps=n, h=T / n, method=method)[:, -1] - exact)
            )
            for n in steps
        ]
    )


@pytest.mark.parametrize(("method", "order", "steps"), [
    ("euler", 1, [400, 800, 1600, 3200]),
    ("rk4", 4, [20, 40, 80, 160]),
])  # fmt: skip
def test_global_error_falls_as_h_to_the_order(method, order, steps):
    err = errors(method, steps)
    slopes = np.diff(np.log(err)) / np.diff(np.log(T / np.array(steps)))
    # The error is C h^p (1 + O(h)): with h |λ| <= 0.02 (Euler) and <= 0.2 (RK4) the
    # correction moves a measured slope by well under 0.1, and the errors stay far
    # above rounding (1e-9 for RK4 at 160 steps against 1e-16 per step).
    np.testing.assert_allclose(slopes, order, atol=0.1)
    assert err[-1] > 1e3 * np.finfo(float).eps * len(steps)


def test_one_step_is_the_taylor_polynomial_of_the_flow():
    # For a linear field an RK4 step is exactly I + hA + (hA)²/2 + (hA)³/6 + (hA)⁴/24.
    h = 0.1
    hA = h * A
    P = np.eye(3) + hA + hA @ hA / 2 + hA @ hA @ hA / 6 + hA @ hA @ hA @ hA / 24
    np.testing.assert_allclose(rk4_step(lambda x: x @ A.T, X0, h), X0 @ P.T, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(euler_step(lambda x: x @ A.T, X0, h), X0 @ (np.eye(3) + hA).T,
                               rtol=1e-14, atol=1e-15)  # fmt: skip


def test_rk4_of_a_tuple_advances_each_part_as_alone():
    f = lambda x: x @ A.T  # noqa: E731
    a, b = rk4_step(lambda s: (f(s[0]), f(s[1])), (X0, 2 * X0), 0.05)
    np.testing.assert_array_equal(a, rk4_step(f, X0, 0.05))
    np.testing.assert_array_equal(b, rk4_step(f, 2 * X0, 0.05))


def pendulum():
    def f(x, u):
        return np.stack([x[:, 1], -np.sin(x[:, 0]) - 0.1 * x[:, 1] + u[:, 0]], 1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = -np.cos(x[:, 0])
        J[:, 1, 1] = -0.1
        return J

    return FunctionDynamics(f, n_state=2, n_input=1, kind="ode", jacobian=jac, dt=0.1)


def henon():
    def f(x, u):
        return np.stack([1 - 1.4 * x[:, 0] ** 2 + x[:, 1], 0.3 * x[:, 0]], 1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0] = -2.8 * x[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = 0.3
        return J

    return FunctionDynamics(f, n_state=2, jacobian=jac)


@pytest.mark.parametrize(("system", "method"), [
    (pendulum, "euler"), (pendulum, "rk4"), (henon, "auto"),
])  # fmt: skip
def test_tangent_step_is_the_derivative_of_the_step(system, method):
    """The variational equation integrated with the state's stages is the exact
    derivative of the discrete step map (and J itself for a map)."""
    dyn = system()
    sch = scheme(dyn, method)
    u = np.full((1, dyn.n_input), 0.2)
    f = residual_field(dyn, u)

    def fj(x):
        return dyn.residual(x, u), dyn.residual_jacobian(x, u)

    x = np.array([[0.4, -0.3]])
    V = np.array([[[1.0, 0.5], [-0.2, 1.0]]])
    x1, V1 = sch.tangent_step(fj, x, V)
    np.testing.assert_array_equal(x1, sch.step(f, x))
    # Central differences of the step map along each column of V: error O(ε²) ≈ 1e-12
    # from truncation plus rounding 1e-16 / ε ≈ 1e-10.
    eps = 1e-6
    fd = np.stack(
        [(sch.step(f, x + eps * v) - sch.step(f, x - eps * v))[0] / (2 * eps) for v in V[0].T], 1
    )
    np.testing.assert_allclose(V1[0], fd, atol=1e-9)


def test_a_map_is_iterated_exactly():
    dyn = henon()
    xs = trajectory(dyn, [0.1, 0.1], n_steps=10)
    x = np.array([0.1, 0.1])
    for i in range(10):
        x = np.array([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]])
        # The residual form x + (F(x) - x) rounds F by an ulp, which the chaotic map
        # (λ ≈ 0.42 per step) grows by e^{4.2} ≈ 70 over ten steps.
        np.testing.assert_allclose(xs[0, i + 1], x, rtol=0, atol=1e-13)
    assert scheme(dyn) == Scheme("map", 1.0, 1.0)


# -- the loops the analyzers ran before they used this module -------------------------
def old_rk4(f, x, h):
    k1 = f(x)
    k2 = f(x + 0.5 * h * k1)
    k3 = f(x + 0.5 * h * k2)
    k4 = f(x + h * k3)
    return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def rate_network(kind):
    rng = np.random.default_rng(3)
    n = 12
    W = 1.8 * rng.normal(size=(n, n)) / np.sqrt(n)
    return RateDynamics(W=W, W_in=rng.normal(size=(n, 2)), tau=rng.uniform(5, 20, n), dt=1.0,
                        kind=kind)  # fmt: skip


def test_trajectories_agree_with_the_former_loops():
    """RK4 (limit cycles, phase portraits, Lyapunov), Euler (the fixed-point warm-up) and
    the map agree with the analyzers' own loops: Euler and the map are the same
    operations; RK4 sums its stages in another order, a few ulps per step."""
    rng = np.random.default_rng(4)
    x0 = rng.normal(size=(6, 12))
    u = rng.normal(size=(6, 2))
    for kind, method, old in [
        ("ode", "rk4", lambda f, x, h: old_rk4(f, x, h)),
        ("ode", "euler", lambda f, x, h: x + h * f(x)),
        ("map", "auto", lambda f, x, h: x + f(x)),
    ]:
        dyn = rate_network(kind)
        h = 0.5 if kind == "ode" else None
        new = trajectory(dyn, x0, u, n_steps=40, method=method, h=h)
        f = residual_field(dyn, u, len(x0))
        x = x0.copy()
        for i in range(40):
            x = old(f, x, h)
            # A few ulps per step over 40 steps of a network that grows perturbations by
            # at most e^{|λ| t} ~ 10 here: far below 1e-14 relative.
            np.testing.assert_allclose(new[:, i + 1], x, rtol=1e-14, atol=1e-14)


def test_step_matches_the_protocol_step_for_euler_and_maps():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 12))
    u = rng.normal(size=2)
    ode, mp = rate_network("ode"), rate_network("map")
    np.testing.assert_allclose(step(ode, x, u, method="euler"), ode.step(x, u), rtol=1e-14)
    np.testing.assert_allclose(step(mp, x, u), mp.step(x, u), rtol=1e-14)
    assert step(mp, x[0], u).shape == (12,)


def test_advance_stops_once_every_state_has_overflowed():
    # ẋ = x² blows up at t = 1/x0: from 2 at t = 0.5, from 0.1 not before t = 10.
    dyn = FunctionDynamics(lambda x, u: x**2, n_state=1, kind="ode")
    f = residual_field(dyn)
    out = advance(scheme(dyn, "euler", 0.01), f, np.array([[2.0], [0.1]]), 2000, keep=True)
    assert np.all(np.isfinite(out[1, :100])) and not np.all(np.isfinite(out[0]))
    last = advance(scheme(dyn, "euler", 0.01), f, np.array([[2.0]]), 2000)
    assert np.isnan(last).all()


@pytest.mark.parametrize(("system", "kwargs", "match"), [
    (henon, {"method": "rk4"}, "a map is iterated"),
    (henon, {"h": 0.1}, "h is for ODEs"),
    (pendulum, {"method": "map"}, "for maps"),
    (pendulum, {"method": "rk5"}, "method"),
    (pendulum, {"h": 0.0}, "h"),
    (pendulum, {"n_steps": -1}, "n_steps"),
])  # fmt: skip
def test_bad_arguments_name_themselves(system, kwargs, match):
    kw = {"n_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        trajectory(system(), [0.1, 0.2], **kw)


@pytest.mark.parametrize("kind", ["ode", "map"])
def test_fixed_point_warmup_takes_the_protocol_steps(kind):
    """The fixed-point search's warm-up: Euler steps of dt for an ODE, the map itself
    for a map, each state at its own input; a diverging warm-up is refused."""
    from neurodyn.analysis.fixed_points.search import _warmup

    dyn = rate_network(kind)
    rng = np.random.default_rng(6)
    x0, u = rng.normal(size=(5, 12)), rng.normal(size=(5, 2))
    x = x0.copy()
    for _ in range(7):
        x = dyn.step(x, u)
    np.testing.assert_allclose(_warmup(dyn, x0, u, 7), x, rtol=1e-14, atol=1e-14)
    assert _warmup(dyn, x0, u, 0) is x0
    grow = FunctionDynamics(lambda x, u: 1e200 * x, n_state=1, kind=kind)
    with pytest.raises(ValueError, match="warm-up diverged"), np.errstate(over="ignore"):
        _warmup(grow, np.ones((1, 1)), np.zeros((1, 0)), 3)
