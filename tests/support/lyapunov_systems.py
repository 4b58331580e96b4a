r"""Systems and the rounding tolerance shared by the Lyapunov tests.

The tolerance. Both runs follow the same states (the state never depends on the QR
schedule), so they differ only by rounding in the tangent vectors and in the sums.

* Every step rounds each tangent column by about ε of its norm. A QR resolves
  :math:`R_{jj}`, the part of column j orthogonal to the earlier ones, which is
  :math:`1/\kappa_j` of the column (κ_j = ‖R_{:,j}‖/|R_jj|, at most the ``max_kappa`` the
  run reports): an error of ε κ in log|R_jj| per step at most, ε κ n over n steps.
* The sums themselves add n terms of size up to |S| (S = Σ log|R_jj|): rounding of
  ε |S| per addition, ε √n |S| for errors of random sign.

So |ΔS_j| ≤ C ε (κ n + √n max|S|), with C = 10 for the constants these estimates leave
out (the dimension in Householder's error bound, d ≤ 30 here, and the steps over which a
rounding error in the vectors' directions keeps changing the growth rates). Observed
ratios |ΔS|/(ε(κ n + √n max|S|)) stay below 0.2 on these systems over many run lengths,
under several OpenBLAS kernels and thread counts; a wrong step, product or QR
bookkeeping changes S by O(1).
"""

import numpy as np
from toolbox_systems import henon, lorenz

from neurodyn.dynamics import FunctionDynamics, RateDynamics

EPS = np.finfo(np.float64).eps
TWO_PI = 2.0 * np.pi


def logistic(r=4.0):
    """x ↦ r x (1 − x); at r = 4 the exponent is log 2."""
    return FunctionDynamics(
        lambda x, u: r * x * (1.0 - x),
        n_state=1,
        jacobian=lambda x, u: (r - 2.0 * r * x)[:, :, None],
    )


def standard_map(K=6.0):
    """Chirikov's standard map on the torus: area-preserving, so λ1 + λ2 = 0."""

    def f(x, u):
        p = np.mod(x[:, 0] + K * np.sin(x[:, 1]), TWO_PI)
        return np.stack([p, np.mod(x[:, 1] + p, TWO_PI)], axis=1)

    def jac(x, u):
        c = K * np.cos(x[:, 1])
        J = np.empty((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0], J[:, 1, 1] = 1.0, c, 1.0, 1.0 + c
        return J

    return FunctionDynamics(f, n_state=2, jacobian=jac)


def rossler(a=0.2, b=0.2, c=5.7):
    """The Rössler flow (published spectrum 0.0714, 0, −5.39)."""

    def f(x, u):
        return np.stack(
            [-x[:, 1] - x[:, 2], x[:, 0] + a * x[:, 1], b + x[:, 2] * (x[:, 0] - c)], axis=1
        )

    def jac(x, u):
        J = np.zeros((len(x), 3, 3))
        J[:, 0, 1] = J[:, 0, 2] = -1.0
        J[:, 1, 0], J[:, 1, 1] = 1.0, a
        J[:, 2, 0], J[:, 2, 2] = x[:, 2], x[:, 0] - c
        return J

    return FunctionDynamics(f, n_state=3, kind="ode", jacobian=jac, dt=0.05)


def rate_network(kind="ode", dt=0.1, n=30, g=2.0, seed=0):
    rng = np.random.default_rng(seed)
    J = rng.normal(size=(n, n)) / np.sqrt(n)
    return RateDynamics(W=g * J, W_in=rng.normal(size=(n, 1)), tau=1.0, dt=dt, kind=kind)


# name, system, initial state, options
SYSTEMS = {
    "henon": (henon, [0.1, 0.1], {}),
    "logistic": (logistic, [0.3], {}),
    "standard_map": (standard_map, [0.5, 1.0], {}),
    "lorenz": (lorenz, [1.0, 1.0, 20.0], {"step": 0.01}),
    "rossler": (rossler, [1.0, 1.0, 0.0], {}),
    "rate_ode_rk4": (rate_network, np.full(30, 0.3), {"k": 8}),
    "rate_euler_map": (lambda: rate_network("map", dt=0.5), np.full(30, 0.3), {"k": 8}),
}


def sums(le):
    """S = Σ log|R_jj| over the run, per trajectory."""
    return le.per_trajectory * le.info["n_steps"] * (le.info["step"] if le.kind == "ode" else 1.0)


def rounding_tolerance(*runs, eps=EPS):
    """C ε (κ n + √n max|S|), C = 10, for the sums S of ``runs`` (module docstring);
    ``eps`` is the tangent precision's."""
    n = runs[0].info["n_steps"]
    kappa = max(max(r.info["max_kappa"], 1.0) for r in runs)
    size = max(np.max(np.abs(sums(r))) for r in runs)
    return 10.0 * eps * (kappa * n + np.sqrt(n) * size)


def cat_cocycle(n_off):
    """The hyperbolic torus map x ↦ A x mod 1, A = [[10, 1], [9, 1]] (det 1, exponents
    ±log ρ with ρ = (11 + √117)/2), switched on by the input: the identity while u = 0.

    While the map is the identity the spread of the exponents is zero and the adaptive
    interval grows to ``max_interval``; the first interval after the switch then spreads
    the tangent vectors by e^{2 m log ρ}, far beyond 1/ε: R_22 comes out at rounding
    level or exactly zero, depending on the BLAS kernel.
    """
    A = np.array([[10.0, 1.0], [9.0, 1.0]])

    def jac(x, u):
        on = u[:, 0][:, None, None]
        return on * A[None] + (1.0 - on) * np.eye(2)[None]

    def f(x, u):
        return np.mod(np.einsum("nij,nj->ni", jac(x, u), x), 1.0)

    u = np.ones((n_off + 2000, 1))
    u[:n_off] = 0.0
    return FunctionDynamics(f, n_state=2, n_input=1, jacobian=jac), u
