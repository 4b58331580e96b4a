"""The fixed-point tests' comparison with the plain reference solver, on outcomes."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from neurodyn.analysis import SolverOptions, classify, cluster
from neurodyn.analysis.fixed_points.outcomes import ROOT
from neurodyn.analysis.fixed_points.reference import solve_reference


def reference_points(dyn, u, x0, fps):
    """The plain reference solver's distinct roots from the same initial states with the
    same settings as ``fps``: positions, inputs, eigenvalues of the Jacobian (from
    ``np.linalg.eigvals``), stability labels and marginal-mode counts."""
    U = np.broadcast_to(
        np.zeros(dyn.n_input) if u is None else np.asarray(u, dtype=float), (len(x0), dyn.n_input)
    ).copy()
    x, q, _, code = solve_reference(dyn, x0, U, SolverOptions(**fps.info["options"]))
    root = code == ROOT
    group = np.unique(U, axis=0, return_inverse=True)[1].ravel()
    tol = fps.info["unique_tol"] * fps.info["state_scale"]
    _, reps = cluster(x[root], q[root], tol, group[root])
    xr, ur = x[root][reps], U[root][reps]
    lam = np.linalg.eigvals(dyn.jacobian(xr, ur))
    with np.errstate(divide="ignore"):  # λ = 0: growth -inf
        growth = np.log(np.abs(lam)) / dyn.dt if dyn.kind == "map" else lam.real
    _, n_marginal, stability = classify(growth, fps.info["marginal_tol"])
    return xr, ur, lam, stability, n_marginal


def assert_same_outcomes(fps, ref):
    """The isolated roots of ``fps`` are the reference's: the same points (each found by
    one is within 1e-6 (1 + ‖x‖) of one found by the other for the same input; both
    locate roots to root_xtol = 1e-8 relative, usually to rounding), with the same
    stability and eigenvalues. Marginal roots lie on degenerate sets (e.g. where
    saturated gates make the residual exactly zero), where a root's position along the
    set depends on the path taken to it, so they are not compared."""
    xr, ur, lam, stability, n_marginal = ref
    iso = n_marginal == 0
    roots = fps.roots[fps.roots.n_marginal == 0]
    assert len(roots) == np.sum(iso) >= 1
    for k in np.flatnonzero(iso):
        same_input = np.all(roots.inputs == ur[k], axis=1)
        gap = np.linalg.norm(roots.x - xr[k], axis=1) + np.where(same_input, 0.0, np.inf)
        j = np.argmin(gap)
        assert gap[j] < 1e-6 * (1 + np.linalg.norm(xr[k]))
        assert roots.stability[j] == stability[k]
        # Eigenvalues move by about κ ‖ΔJ‖, ΔJ of the order of the roots' gap (1e-8 at
        # most): 1e-6 leaves room for eigenvector condition numbers up to 100.
        cost = np.abs(roots.eigenvalues[j][:, None] - lam[k][None, :])
        rows, cols = linear_sum_assignment(cost)
        assert np.max(cost[rows, cols]) < 1e-6 * (1 + np.max(np.abs(lam[k])))
    # Roots are polished far below the tolerance.
    assert np.all(roots.q <= 1e-20)


@pytest.fixture
def same_as_reference():
    """``same_as_reference(dyn, u, x0, fps)`` asserts that the result ``fps`` of
    find_fixed_points from the initial states x0 with input u (None, (m,) or (n, m))
    has the isolated roots, stability and eigenvalues of the reference solver."""

    def check(dyn, u, x0, fps):
        assert_same_outcomes(fps, reference_points(dyn, u, x0, fps))

    return check
