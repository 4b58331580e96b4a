"""Systems with known answers shared by the dynamics-toolbox tests."""

import numpy as np

from neurodyn.dynamics import FunctionDynamics

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0


def lorenz():
    """The Lorenz system with analytic Jacobian (published spectrum 0.906, 0, -14.57)."""

    def f(x, u):
        return np.stack(
            [
                SIGMA * (x[:, 1] - x[:, 0]),
                x[:, 0] * (RHO - x[:, 2]) - x[:, 1],
                x[:, 0] * x[:, 1] - BETA * x[:, 2],
            ],
            axis=1,
        )

    def jac(x, u):
        J = np.zeros((len(x), 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -SIGMA, SIGMA
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = RHO - x[:, 2], -1.0, -x[:, 0]
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = x[:, 1], x[:, 0], -BETA
        return J

    return FunctionDynamics(f, n_state=3, kind="ode", jacobian=jac, dt=0.01)


def henon(a=1.4, b=0.3):
    """The Hénon map (published exponents 0.419, -1.62 per iteration)."""

    def f(x, u):
        return np.stack([1.0 - a * x[:, 0] ** 2 + x[:, 1], b * x[:, 0]], axis=1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = -2.0 * a * x[:, 0], 1.0, b
        return J

    return FunctionDynamics(f, n_state=2, jacobian=jac)


def hopf(mu=0.5, omega=2.0, sign=1.0):
    """Hopf normal form r' = μr − r³, θ' = ω (sign=-1 reverses time); μ is the input when mu=None."""

    def f(x, u):
        m = u[:, 0] if mu is None else mu
        r2 = x[:, 0] ** 2 + x[:, 1] ** 2
        fx = m * x[:, 0] - omega * x[:, 1] - x[:, 0] * r2
        fy = omega * x[:, 0] + m * x[:, 1] - x[:, 1] * r2
        return sign * np.stack([fx, fy], axis=1)

    def jac(x, u):
        m = u[:, 0] if mu is None else mu
        X, Y = x[:, 0], x[:, 1]
        J = np.empty((len(x), 2, 2))
        J[:, 0, 0] = m - 3 * X**2 - Y**2
        J[:, 0, 1] = -omega - 2 * X * Y
        J[:, 1, 0] = omega - 2 * X * Y
        J[:, 1, 1] = m - X**2 - 3 * Y**2
        return sign * J

    return FunctionDynamics(
        f, n_state=2, n_input=1 if mu is None else 0, kind="ode", jacobian=jac, dt=0.01
    )


def ring(n_extra=1):
    """r' = r(1 − r²), θ' = 0, plus stable directions: a ring of fixed points at r = 1."""

    def f(x, u):
        r2 = x[:, 0] ** 2 + x[:, 1] ** 2
        return np.concatenate([x[:, :2] * (1.0 - r2)[:, None], -x[:, 2:]], axis=1)

    return FunctionDynamics(f, n_state=2 + n_extra, kind="ode", dt=0.05)


def line(d=4, seed=0):
    """ẋ = A x with A v = 0 and the rest stable: a line attractor along v; returns (dyn, v)."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=d)
    v /= np.linalg.norm(v)
    P = np.eye(d) - np.outer(v, v)
    A = -P - 0.5 * P @ np.diag(np.arange(1.0, d + 1)) @ P
    dyn = FunctionDynamics(
        lambda x, u: x @ A.T,
        n_state=d,
        kind="ode",
        dt=0.05,
        jacobian=lambda x, u: np.broadcast_to(A, (len(x), d, d)),
    )
    return dyn, v
