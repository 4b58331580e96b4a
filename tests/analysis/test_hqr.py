"""The small-matrix eigensolver (Hessenberg, Francis QR, back substitution) against LAPACK."""

import numpy as np
import pytest
import scipy.linalg
from scipy.optimize import linear_sum_assignment

from neurodyn.analysis import _eig, _hqr


def real_eig(J):
    """(eigenvalues, eigenvectors as complex columns) from ``_hqr.real_eig``."""
    n = len(J)
    wr, wi, vr = np.empty(n), np.empty(n), np.empty((n, n))
    assert _hqr.real_eig(np.ascontiguousarray(J), wr, wi, vr.T)
    return wr, wi, vr


def as_complex(wr, wi, vr):
    lam = wr + 1j * wi
    R = vr.T.astype(complex)
    j = np.flatnonzero(wi > 0)
    R[:, j] = vr[j].T + 1j * vr[j + 1].T
    R[:, j + 1] = np.conj(R[:, j])
    return lam, R


def assert_same_spectrum(lam, ref, atol, msg=""):
    """Equal multisets of eigenvalues, paired by the closest match (sorting complex
    numbers splits ties in the real part at random)."""
    rows, cols = linear_sum_assignment(np.abs(lam[:, None] - ref[None, :]))
    assert np.abs(lam[rows] - ref[cols]).max() <= atol, msg


def families(rng, n):
    J = rng.normal(size=(n, n))
    yield "gaussian", J
    yield "rnn jacobian", np.diag(1 - np.tanh(rng.normal(size=n)) ** 2) @ J / np.sqrt(n)
    yield "graded columns", J @ np.diag(10.0 ** rng.uniform(-3, 3, n))
    yield "tiny", J * 2.0**-400
    yield "huge", J * 2.0**400


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 33, 64])
def test_eigenpairs_match_lapack(n):
    """The same eigenvalues as LAPACK, complex pairs in dgeev's layout, J r = λ r,
    unit vectors."""
    rng = np.random.default_rng(n)
    for name, J in families(rng, n):
        wr, wi, vr = real_eig(J)
        pairs = np.flatnonzero(wi > 0)
        np.testing.assert_array_equal(wi[pairs + 1], -wi[pairs], err_msg=name)
        np.testing.assert_array_equal(wr[pairs + 1], wr[pairs], err_msg=name)
        assert np.count_nonzero(wi) == 2 * len(pairs), name
        lam, R = as_complex(wr, wi, vr)
        ref = scipy.linalg.eigvals(J)
        size = np.abs(J).max()
        # Random matrices have well-conditioned eigenvalues: agreement to rounding.
        assert_same_spectrum(lam, ref, 1e-11 * size, name)
        resid = np.linalg.norm((J / size) @ R - R * (lam / size), axis=0)
        assert resid.max() <= 50 * n * np.finfo(float).eps, name
        np.testing.assert_allclose(np.linalg.norm(R, axis=0), 1.0, rtol=1e-14, err_msg=name)


def test_vectors_match_lapack_after_fixing_the_phase():
    """With the phase fixed (largest component real, positive), each eigenvector equals
    LAPACK's, matched by eigenvalue."""
    rng = np.random.default_rng(7)
    for n in (4, 16, 40):
        J = rng.normal(size=(n, n)) / np.sqrt(n)
        wr, wi, vr = real_eig(J)
        wr2, wi2, vr2 = np.empty(n), np.empty(n), np.empty((n, n))
        assert _eig._dgeev_one(J, wr2, wi2, vr2) == 0
        for w, v in ((wi, vr), (wi2, vr2)):
            _eig._standard_phase(v, w)
        lam, R = as_complex(wr, wi, vr)
        lam2, R2 = as_complex(wr2, wi2, vr2)
        match = np.abs(lam[:, None] - lam2[None, :]).argmin(axis=1)
        assert sorted(match) == list(range(n))
        np.testing.assert_allclose(lam, lam2[match], atol=1e-13)
        np.testing.assert_allclose(R, R2[:, match], atol=1e-10)


def test_scaling_by_a_power_of_two_is_exact():
    """The solver works on J scaled to entries near 1 by a power of two: 2^k J gives
    exactly 2^k times the eigenvalues and the very same vectors."""
    J = np.random.default_rng(1).normal(size=(12, 12))
    wr, wi, vr = real_eig(J)
    for k in (-600, -3, 5, 600):
        wr2, wi2, vr2 = real_eig(J * 2.0**k)
        np.testing.assert_array_equal(wr2, wr * 2.0**k)
        np.testing.assert_array_equal(wi2, wi * 2.0**k)
        np.testing.assert_array_equal(vr2, vr)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 12, 20])
def test_cyclic_permutations_need_the_exceptional_shift(n):
    """A cyclic shift has all its eigenvalues on the unit circle (the n-th roots of
    unity), where the standard shifts stall; the exceptional shift breaks the cycle."""
    P = np.roll(np.eye(n), 1, axis=0)
    wr, wi, vr = real_eig(P)
    lam, R = as_complex(wr, wi, vr)
    roots = np.exp(2j * np.pi * np.arange(n) / n)
    assert_same_spectrum(lam, roots, 1e-13)
    np.testing.assert_allclose(P @ R, R * lam, atol=1e-13)


@pytest.mark.parametrize(
    "block",
    [
        [[1.0, 2.0], [0.0, 3.0]],  # already triangular
        [[1.0, 0.0], [2.0, 3.0]],  # b = 0: rows and columns swapped
        [[0.5, 2.0], [-3.0, 0.5]],  # already standard: a = d, bc < 0
        [[0.0, -1.0], [1.0, 0.0]],  # a rotation
        [[1.0, 2.0], [3.0, -1.0]],  # real eigenvalues ±√7
        [[1.0, 1e-9], [1e-9, 1.0]],  # nearly equal real eigenvalues
        [[2.0, -5.0], [1.0, -2.0]],  # a complex pair ±i
        [[1.0, 4.0], [-1e-20, 1.0]],  # a tiny pair
    ],
)
def test_standard_form_of_a_2x2_block(block):
    """G out Gᵀ = in with G a rotation, and the output either triangular or
    [[a, b], [c, a]] with bc < 0, with the block's eigenvalues."""
    (a, b), (c, d) = block
    a2, b2, c2, d2, cs, sn = _hqr._standard_2x2(a, b, c, d)
    G = np.array([[cs, -sn], [sn, cs]])
    out = np.array([[a2, b2], [c2, d2]])
    np.testing.assert_allclose(cs**2 + sn**2, 1.0, rtol=1e-15)
    np.testing.assert_allclose(G @ out @ G.T, block, atol=1e-15 * np.abs(block).max())
    assert c2 == 0.0 or (a2 == d2 and b2 * c2 < 0)
    mine = [a2, d2] if c2 == 0.0 else [a2 + 1j * np.sqrt(-b2 * c2), a2 - 1j * np.sqrt(-b2 * c2)]
    assert_same_spectrum(np.array(mine, dtype=complex), np.linalg.eigvals(np.array(block)), 1e-15)


def test_defective_and_degenerate_matrices_give_finite_vectors():
    """A Jordan block, a nilpotent matrix, the zero and identity matrices: finite unit
    vectors that satisfy the eigen-equation (nearly parallel where defective)."""
    cases = {
        "jordan": 0.5 * np.eye(6) + np.eye(6, k=1),
        "nilpotent": np.eye(5, k=1) + np.eye(5, k=2),
        "zero": np.zeros((4, 4)),
        "identity": np.eye(4),
        "sparse integers": np.round(
            np.random.default_rng(3).normal(size=(12, 12))
            * (np.random.default_rng(4).random((12, 12)) < 0.2)
        ),
    }
    for name, J in cases.items():
        lam, R = as_complex(*real_eig(J))
        assert np.all(np.isfinite(R)), name
        np.testing.assert_allclose(np.linalg.norm(R, axis=0), 1.0, rtol=1e-14, err_msg=name)
        # A defective eigenvalue of multiplicity m moves by about ε^(1/m) under rounding.
        assert np.abs(J @ R - R * lam).max() <= 1e-7, name
