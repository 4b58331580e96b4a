"""The kernels' LU (hand-written below ``SMALL``, LAPACK above) against NumPy's solve."""

import numpy as np
import pytest
from numba import njit

from neurodyn.analysis._lu import SMALL, lu_factor, lu_inverse, lu_scratch, lu_solve


@njit(cache=True)
def factor_and_solve(M, B):
    """Factor once, then solve every row of B with the same factors."""
    d = M.shape[0]
    lu, piv, ints = lu_scratch(d)
    X = np.empty_like(B)
    if not lu_factor(M, lu, piv, ints):
        return False, X
    for k in range(B.shape[0]):
        if not lu_solve(lu, piv, ints, B[k], X[k]):
            return False, X
    return True, X


SIZES = [1, 3, SMALL, SMALL + 1, 40, 97]


@pytest.mark.parametrize("d", SIZES)
def test_factors_solve_like_numpy(d):
    rng = np.random.default_rng(d)
    M = rng.normal(size=(d, d))
    B = rng.normal(size=(5, d))
    ok, X = factor_and_solve(M, B)
    assert ok
    # Backward-stable LU with partial pivoting: the residual is at rounding level
    # relative to ‖M‖‖x‖, and the solution matches NumPy's to the condition number.
    res = np.abs(X @ M.T - B).max()
    assert res <= 1e3 * np.finfo(float).eps * np.abs(M).sum(1).max() * np.abs(X).max()
    ref = np.linalg.solve(M, B.T).T
    cond = np.linalg.cond(M)
    np.testing.assert_allclose(X, ref, atol=1e3 * cond * np.finfo(float).eps * np.abs(ref).max())


@pytest.mark.parametrize("d", [3, SMALL + 4])
def test_pivoting_handles_a_zero_leading_entry(d):
    """A permutation matrix has zeros on the diagonal: no solve works without pivoting."""
    M = np.eye(d)[np.roll(np.arange(d), 1)]
    b = np.arange(1.0, d + 1)
    ok, X = factor_and_solve(M, b[None])
    assert ok
    np.testing.assert_array_equal(M @ X[0], b)


@pytest.mark.parametrize("d", [4, SMALL + 4])
def test_singular_and_non_finite_matrices_are_reported(d):
    M = np.random.default_rng(0).normal(size=(d, d))
    M[:, -1] = M[:, 0]  # two equal columns: exactly singular after elimination
    M[-1] = 0.0
    ok, _ = factor_and_solve(M, np.ones((1, d)))
    assert not ok
    M = np.eye(d)
    M[1, 0] = np.nan
    ok, _ = factor_and_solve(M, np.ones((1, d)))
    assert not ok


@pytest.mark.parametrize("d", [1, 5, 16, 60])  # both sides of SMALL
def test_lu_inverse_against_numpy(d):
    M = np.random.default_rng(d).normal(size=(d, d)) + d * np.eye(d)
    out = np.empty((d, d))
    assert lu_inverse(M, out)
    np.testing.assert_allclose(out, np.linalg.inv(M), rtol=1e-12, atol=1e-14)
    M[:, 0] = 0.0  # exactly singular
    assert not lu_inverse(M, out)
