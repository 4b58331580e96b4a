"""The batched eigendecomposition against np.linalg.eig, LAPACK and the eigen-equation."""

import numpy as np
import pytest

from neurodyn.analysis import _eig


@pytest.fixture(params=["serial", "parallel"])
def eig(request, monkeypatch):
    """``_eig.eig`` forced onto the calling thread or the Numba threads."""
    work = 0 if request.param == "parallel" else 1 << 62
    monkeypatch.setattr(_eig, "MIN_PARALLEL_WORK", work)
    return _eig.eig


def check_pairs(J, lam, R):
    """J r = λ r, ‖r‖ = 1 and a real, positive largest component."""
    scale = np.abs(J).max(axis=(1, 2))[:, None] + 1.0
    resid = np.einsum("kij,kjm->kim", J, R) - R * lam[:, None, :]
    assert np.all(np.linalg.norm(resid, axis=1) <= 1e-12 * scale)
    np.testing.assert_allclose(np.linalg.norm(R, axis=1), 1.0, rtol=1e-13)
    big = np.take_along_axis(R, np.abs(R).argmax(axis=1)[:, None, :], axis=1)
    assert np.all(np.abs(big.imag) <= 1e-13) and np.all(big.real > 0)


@pytest.mark.parametrize(("k", "d"), [(9, 1), (30, 2), (27, 16), (13, 70)])
def test_batch_matches_numpy_and_the_eigen_equation(k, d, eig):
    J = np.random.default_rng(d).normal(size=(k, d, d)) / np.sqrt(d)
    lam, R = eig(J)
    assert lam.dtype == R.dtype == np.complex128 and lam.shape == (k, d)
    lam_np, _ = np.linalg.eig(J)
    np.testing.assert_allclose(np.sort_complex(lam), np.sort_complex(lam_np), atol=1e-12)
    check_pairs(J, lam, R)
    # A complex pair's eigenvectors are conjugate, as np.linalg.eig gives them.
    m, j = np.nonzero(lam.imag > 0)
    np.testing.assert_array_equal(lam[m, j + 1], np.conj(lam[m, j]))
    np.testing.assert_array_equal(R[m, :, j + 1], np.conj(R[m, :, j]))


@pytest.mark.parametrize("d", [40, 70])  # real_eig, dgeev
def test_parallel_and_serial_paths_agree(d):
    """A batch large enough for the Numba threads, against one matrix at a time."""
    J = np.random.default_rng(5).normal(size=(11, d, d)) / np.sqrt(d)
    assert len(J) * d**3 >= _eig.MIN_PARALLEL_WORK  # eig takes the parallel path
    lam, R = _eig.eig(J)
    for m in range(len(J)):
        lam1, R1 = _eig.eig(J[m : m + 1])
        np.testing.assert_array_equal(lam[m], lam1[0])
        np.testing.assert_array_equal(R[m], R1[0])


def test_special_matrices(eig):
    n = 8
    sym = np.random.default_rng(1).normal(size=(n, 6, 6))
    sym = sym + sym.transpose(0, 2, 1)
    lam, R = eig(sym)
    assert np.all(lam.imag == 0.0)
    np.testing.assert_allclose(np.sort(lam.real), np.linalg.eigvalsh(sym), atol=1e-12)
    # A Jordan block: one eigenvalue, repeated, with (numerically) one eigenvector.
    jordan = np.broadcast_to(np.eye(4) * 0.5 + np.eye(4, k=1), (n, 4, 4))
    lam, R = eig(np.ascontiguousarray(jordan))
    # A defective eigenvalue of multiplicity 4 moves by about ε^(1/4) ≈ 1e-4 under rounding.
    np.testing.assert_allclose(lam, 0.5, atol=1e-3)
    check_pairs(np.asarray(jordan), lam, R)
    # Rotations: purely imaginary pairs.
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.broadcast_to(np.array([[c, -s], [s, c]]), (n, 2, 2))
    lam, _ = eig(np.ascontiguousarray(rot))
    np.testing.assert_allclose(lam, np.tile([c + 1j * s, c - 1j * s], (n, 1)), atol=1e-14)


@pytest.mark.parametrize("k", [1, 40])
def test_non_finite_matrices_are_refused(k):
    J = np.zeros((k, 30, 30))
    J[-1, 0, 1] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match="infs or NaNs"):
        _eig.eig(J)


@pytest.mark.parametrize(("k", "d"), [(30, 2), (27, 16), (13, 70)])
def test_inverse_of_the_eigenvectors(k, d, eig):
    """R⁻¹ R = I, complex pairs included, and the same R⁻¹ as NumPy's inverse of R."""
    J = np.random.default_rng(d + 1).normal(size=(k, d, d)) / np.sqrt(d)
    lam, R, Rinv = eig(J, inverse=True)
    assert np.any(lam.imag != 0.0)  # the pair formula is exercised
    # Backward-stable inverses: errors of order ε times the condition number of R.
    cond = np.linalg.cond(R)
    assert np.all(np.abs(Rinv @ R - np.eye(d)).max(axis=(1, 2)) <= 1e-14 * d * cond)
    diff = np.abs(Rinv - np.linalg.inv(R)).max(axis=(1, 2))
    assert np.all(diff <= 1e-14 * d * cond * np.abs(Rinv).max(axis=(1, 2)))
    lam2, R2 = eig(J)  # the inverse changes nothing else
    np.testing.assert_array_equal(lam2, lam)
    np.testing.assert_array_equal(R2, R)


def test_inverse_of_a_singular_eigenvector_matrix_is_the_pseudo_inverse(eig):
    """Defective matrices (R singular) get pinv(R); the others in the batch their inverse."""
    n = 8
    J = np.random.default_rng(3).normal(size=(n, 4, 4))
    J[::2] = np.zeros((4, 4))
    J[::2, 0, 1] = 1.0  # a nilpotent Jordan block: LAPACK returns two equal eigenvectors
    _, R, Rinv = eig(J, inverse=True)
    singular = np.linalg.matrix_rank(R) < 4
    assert singular[::2].all() and not singular[1::2].any()
    np.testing.assert_allclose(Rinv[::2], np.linalg.pinv(R[::2]), atol=1e-12)
    np.testing.assert_allclose(Rinv[1::2] @ R[1::2], np.broadcast_to(np.eye(4), (4, 4, 4)),
                               atol=1e-12)  # fmt: skip
