"""The compiled eigendecomposition (Hessenberg, Francis QR, back substitution, LAPACK
above 64) and its sorted eigenmodes, against NumPy's ``dgeev`` and the mathematics.

Tolerances come from conditioning: a simple eigenvalue λ with unit right and left
vectors r, l moves by about ε‖J‖/s under a backward-stable solver, s = |lᴴr| its
condition; its unit eigenvector by about ε‖J‖/(s·gap), gap the distance to the other
eigenvalues. Two backward-stable solvers differ by twice that; the tests allow a
factor ``C`` = 100 d on top (rounding accumulates over O(d) reflections per entry).
"""

import numpy as np
import pytest
import scipy.linalg
from scipy.optimize import linear_sum_assignment

from neurodyn import backends
from neurodyn.analysis import eigenmodes, linearize
from neurodyn.analysis.linearization import kernel as _eig
from neurodyn.dynamics import FunctionDynamics

pytestmark = pytest.mark.skipif(
    backends.get_module("cpp") is None, reason="neurodyn._C is not built"
)

EPS = np.finfo(np.float64).eps


def C_eig(J):
    """``eig_real`` on J: (wr, wi, V) in dgeev's layout (V column-major, as columns)."""
    n = len(J)
    wr, wi, V = np.empty(n), np.empty(n), np.empty((n, n))
    # The kernel reads A column-major: pass Jᵀ's rows, i.e. J in Fortran order.
    assert backends.get_module("cpp").eig_real(np.ascontiguousarray(J.T), wr, wi, V)
    return wr, wi, V.T  # V.T[:, j] is column j


def as_complex(wr, wi, V):
    """Eigenvalues and complex eigenvectors (columns) from dgeev's layout."""
    lam = wr + 1j * wi
    R = V.astype(complex)
    j = np.flatnonzero(wi > 0)
    R[:, j] = V[:, j] + 1j * V[:, j + 1]
    R[:, j + 1] = np.conj(R[:, j])
    return lam, R


def assert_same_spectrum(lam, ref, atol, msg=""):
    """Equal multisets of eigenvalues, paired by the closest match (sorting complex
    numbers splits ties in the real part at random)."""
    rows, cols = linear_sum_assignment(np.abs(lam[:, None] - ref[None, :]))
    err = np.abs(lam[rows] - ref[cols])
    assert np.all(err <= atol if np.ndim(atol) == 0 else err <= np.asarray(atol)[cols]), msg


def conditioning(J):
    """Per eigenvalue of J (in scipy's order): the eigenvalues, s = |lᴴr| (unit vectors)
    and the gap to the nearest other eigenvalue."""
    lam, vl, vr = scipy.linalg.eig(J, left=True, right=True)
    vl = vl / np.linalg.norm(vl, axis=0)
    vr = vr / np.linalg.norm(vr, axis=0)
    s = np.abs(np.sum(np.conj(vl) * vr, axis=0))
    dist = np.abs(lam[:, None] - lam[None, :]) + np.diag(np.full(len(lam), np.inf))
    return lam, s, dist.min(axis=1) if len(lam) > 1 else np.full(1, np.inf)


def families(rng, n):
    J = rng.normal(size=(n, n))
    yield "gaussian", J
    yield "rnn jacobian", np.diag(1 - np.tanh(rng.normal(size=n)) ** 2) @ J / np.sqrt(n)
    yield "graded columns", J @ np.diag(10.0 ** rng.uniform(-3, 3, n))
    yield "tiny", J * 2.0**-400
    yield "huge", J * 2.0**400


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 33, 64])
def test_small_solver_eigenpairs(n):
    """dgeev's layout (pairs consecutive, positive imaginary part first), J r = λ r to
    rounding, unit vectors, and LAPACK's eigenvalues to within their conditioning."""
    rng = np.random.default_rng(n)
    for name, J in families(rng, n):
        wr, wi, V = C_eig(J)
        pairs = np.flatnonzero(wi > 0)
        np.testing.assert_array_equal(wi[pairs + 1], -wi[pairs], err_msg=name)
        np.testing.assert_array_equal(wr[pairs + 1], wr[pairs], err_msg=name)
        assert np.count_nonzero(wi) == 2 * len(pairs), name
        lam, R = as_complex(wr, wi, V)
        size = np.linalg.norm(J)
        # Backward stable: a residual of a few ε ‖J‖ per reflection, O(n) of them.
        resid = np.linalg.norm(J @ R - R * lam, axis=0)
        assert resid.max() <= 100 * n * EPS * size, name
        np.testing.assert_allclose(np.linalg.norm(R, axis=0), 1.0, rtol=10 * n * EPS)
        ref, s, _ = conditioning(J)
        assert_same_spectrum(lam, ref, 100 * n * EPS * size / s, name)


@pytest.mark.parametrize("n", [4, 16, 40, 64, 65, 90])
@pytest.mark.parametrize("kind", ["map", "ode"])
def test_modes_match_numpy(n, kind):
    """The sorted eigenmodes (both solvers: ours up to 64, dgeev above) equal NumPy's
    reference within conditioning: eigenvalues, phase-fixed right vectors, left vectors,
    selection vectors, growth rates and frequencies."""
    rng = np.random.default_rng(100 + n)
    k = 6
    J = np.stack([next(families(rng, n))[1] / np.sqrt(n) for _ in range(k)])
    B = rng.normal(size=(k, n, 3))
    got = _eig.modes(J, B, is_map=kind == "map", dt=2.0, threads=2)
    ref = _eig.modes_numpy(J, B, is_map=kind == "map", dt=2.0)
    lam, right, left, growth, freq, proj = got
    for m in range(k):
        lam0, s, gap = conditioning(J[m])
        # Match each computed eigenvalue to its reference one for its conditioning.
        match = np.abs(ref[0][m][:, None] - lam0[None, :]).argmin(axis=1)
        tol_lam = 100 * n * EPS * np.linalg.norm(J[m]) / s[match]
        tol_vec = tol_lam / np.minimum(gap[match], 1.0)
        assert np.all(np.abs(lam[m] - ref[0][m]) <= tol_lam)
        # Vectors of well-separated modes (the others may mix within their cluster).
        ok = tol_vec < 1e-6
        assert ok.mean() > 0.8
        np.testing.assert_array_less(
            np.abs(right[m] - ref[1][m]).max(axis=0)[ok], tol_vec[ok] + 1e-300
        )
        # Left vectors have norm 1/s: their error scales with it.
        np.testing.assert_array_less(
            np.abs(left[m] - ref[2][m]).max(axis=0)[ok], (tol_vec / s[match])[ok]
        )
        np.testing.assert_array_less(
            np.abs(proj[m] - ref[5][m]).max(axis=1)[ok],
            (tol_vec / s[match])[ok] * np.abs(B[m]).sum(axis=0).max(),
        )
    # Growth and frequency from the eigenvalues, as NumPy computes them.
    g, f = _eig.growth_and_frequency(lam, kind == "map", 2.0)
    np.testing.assert_allclose(growth, g, rtol=4 * EPS, atol=4 * EPS)
    np.testing.assert_allclose(freq, f, rtol=4 * EPS, atol=1e-12)
    # Biorthonormal, eigen-equations to rounding.
    lh = np.conj(np.swapaxes(left, 1, 2))
    np.testing.assert_allclose(lh @ right, np.broadcast_to(np.eye(n), (k, n, n)), atol=1e-9)
    np.testing.assert_allclose(proj, lh @ B, atol=1e-12 * np.abs(lh).max())
    np.testing.assert_allclose(J @ right, right * lam[:, None, :], atol=100 * n * EPS)


def test_vectors_have_the_standard_phase(rng):
    """Every right eigenvector has unit norm and its largest component real and
    positive; a complex pair's vectors are conjugate."""
    J = rng.normal(size=(10, 12, 12))
    lam, R, *_ = _eig.modes(J, is_map=True, threads=1)
    np.testing.assert_allclose(np.linalg.norm(R, axis=1), 1.0, rtol=1e-14)
    big = np.take_along_axis(R, np.argmax(np.abs(R), axis=1)[:, None, :], axis=1)[:, 0]
    assert np.all(big.imag == 0.0) and np.all(big.real > 0)
    for m in range(len(J)):
        for j in np.flatnonzero(lam[m].imag > 0):
            partner = np.flatnonzero(lam[m] == np.conj(lam[m, j]))
            assert len(partner) == 1
            np.testing.assert_array_equal(R[m][:, partner[0]], np.conj(R[m][:, j]))


@pytest.mark.parametrize("kind", ["map", "ode"])
def test_modes_are_sorted_with_their_ties(kind):
    """Most unstable first; equal growth (a complex pair, λ and -λ of a map, repeated
    eigenvalues, zeros of growth -inf) puts the larger imaginary part first."""
    rng = np.random.default_rng(5)
    rot = np.array([[0.3, -0.6], [0.6, 0.3]])
    blocks = [rot, np.diag([0.5, -0.5]), np.diag([0.2, 0.2]), np.zeros((2, 2)), [[0.9]]]
    D = scipy.linalg.block_diag(*blocks)
    Q = np.linalg.qr(rng.normal(size=(9, 9)))[0]
    J = np.stack([Q @ D @ Q.T, D])
    lam, _, _, growth, freq, _ = _eig.modes(J, is_map=kind == "map", dt=2.0)
    g, f = _eig.growth_and_frequency(lam, kind == "map", 2.0)
    np.testing.assert_allclose(growth, g, rtol=4 * EPS)
    np.testing.assert_allclose(freq, f, rtol=4 * EPS, atol=1e-12)
    for m in range(2):
        assert np.all(growth[m][:-1] >= growth[m][1:])
        # Exact ties only (rounding of the eigenvalues orders the near ones by growth):
        # the larger imaginary part first. The pair is always one.
        tie = growth[m][:-1] == growth[m][1:]
        assert np.all(lam[m].imag[:-1][tie] >= lam[m].imag[1:][tie])
        pair = np.flatnonzero(lam[m].imag > 0.1)
        assert len(pair) == 1 and lam[m][pair[0] + 1] == np.conj(lam[m][pair[0]])
    # D itself: 0.5 and -0.5 tie exactly for a map (|λ| equal), and 0 has growth -inf.
    if kind == "map":
        assert np.isneginf(growth[1][-2:]).all()
        np.testing.assert_array_equal(np.sort(lam[1][3:5].real), [-0.5, 0.5])


def test_scaling_by_a_power_of_two_is_exact():
    """The solver works on J scaled to entries near 1 by a power of two: 2^k J gives
    exactly 2^k times the eigenvalues and the very same vectors, also far outside the
    range where squares of the entries would overflow or underflow."""
    J = np.random.default_rng(1).normal(size=(12, 12))
    wr, wi, V = C_eig(J)
    for k in (-1060, -600, -3, 5, 600, 1000):
        wr2, wi2, V2 = C_eig(J * 2.0**k)
        if k > -1000:  # above the subnormal range, 2^k J is exact
            np.testing.assert_array_equal(wr2, wr * 2.0**k)
            np.testing.assert_array_equal(wi2, wi * 2.0**k)
            np.testing.assert_array_equal(V2, V)
        else:  # J 2^k rounds to subnormals: the spectrum to their precision
            assert np.all(np.isfinite(V2))
            assert_same_spectrum(wr2 + 1j * wi2, (wr + 1j * wi) * 2.0**k, 1e-3 * 2.0**k)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 12, 20, 64])
def test_cyclic_permutations_need_the_exceptional_shift(n):
    """A cyclic shift has all its eigenvalues on the unit circle (the n-th roots of
    unity), where the standard shifts stall; the exceptional shift breaks the cycle."""
    P = np.roll(np.eye(n), 1, axis=0)
    lam, R = as_complex(*C_eig(P))
    roots = np.exp(2j * np.pi * np.arange(n) / n)
    # Well conditioned (normal matrix, s = 1): rounding of a few ε per reflection.
    assert_same_spectrum(lam, roots, 100 * n * EPS)
    np.testing.assert_allclose(P @ R, R * lam, atol=100 * n * EPS)


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
        [[1.0, 3.0], [2.0, 1.0]],  # a = d, bc > 0: real after all
    ],
)
def test_standard_form_of_a_2x2_block(block):
    """G out Gᵀ = in with G a rotation, and the output either triangular or
    [[a, b], [c, a]] with bc < 0, with the block's eigenvalues."""
    (a, b), (c, d) = block
    a2, b2, c2, d2, cs, sn = backends.get_module("cpp").eig_standard_2x2(a, b, c, d)
    G = np.array([[cs, -sn], [sn, cs]])
    out = np.array([[a2, b2], [c2, d2]])
    np.testing.assert_allclose(cs**2 + sn**2, 1.0, rtol=4 * EPS)
    np.testing.assert_allclose(G @ out @ G.T, block, atol=8 * EPS * np.abs(block).max())
    assert c2 == 0.0 or (a2 == d2 and b2 * c2 < 0)
    mine = [a2, d2] if c2 == 0.0 else [a2 + 1j * np.sqrt(-b2 * c2), a2 - 1j * np.sqrt(-b2 * c2)]
    assert_same_spectrum(
        np.array(mine, dtype=complex),
        np.linalg.eigvals(np.array(block)),
        8 * EPS * np.abs(block).max(),
    )


def test_defective_and_degenerate_matrices():
    """A Jordan block, a nilpotent matrix, the zero and identity matrices: finite unit
    vectors that satisfy the eigen-equation (nearly parallel where defective), and left
    vectors from the pseudo-inverse where the vectors are singular to working
    precision, as NumPy's reference gives them."""
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
        lam, R = as_complex(*C_eig(J))
        assert np.all(np.isfinite(R)), name
        np.testing.assert_allclose(np.linalg.norm(R, axis=0), 1.0, rtol=1e-14, err_msg=name)
        # A defective eigenvalue of multiplicity m moves by about ε^(1/m) under rounding.
        assert np.abs(J @ R - R * lam).max() <= 1e-7, name
        lam, right, left, *_ = _eig.modes(J[None], is_map=False)
        lh = np.conj(left[0].T)
        assert np.all(np.isfinite(left)), name
        # R⁻¹ or R⁺: either way a generalised inverse, R⁺ R R⁺ = R⁺.
        np.testing.assert_allclose(lh @ right[0] @ lh, lh, atol=1e-6 * max(1, np.abs(lh).max()))
    # The Jordan block's computed vectors are parallel: its R is singular.
    _, right, left, *_ = _eig.modes(cases["jordan"][None], is_map=False)
    np.testing.assert_allclose(np.conj(left[0].T), np.linalg.pinv(right[0]), atol=1e-8)


def test_results_do_not_depend_on_the_thread_count(rng):
    """Each matrix is decomposed by the same code whichever thread takes it: identical
    results on one and two threads (up to 64 units, where no LAPACK is involved), and
    agreement to rounding above."""
    J = rng.normal(size=(40, 16, 16)) / 4
    B = rng.normal(size=(40, 16, 2))
    one = _eig.modes(J, B, is_map=True, threads=1)
    two = _eig.modes(J, B, is_map=True, threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    J = rng.normal(size=(4, 80, 80)) / 9
    one = _eig.modes(J, is_map=False, threads=1)
    two = _eig.modes(J, is_map=False, threads=2)
    np.testing.assert_allclose(one[0], two[0], atol=1e-12)
    np.testing.assert_allclose(one[1], two[1], atol=1e-9)


def test_lapack_path_agrees_with_the_small_solver(rng, monkeypatch):
    """With the small solver off (SMALL = 0) every matrix goes to dgeev: the same
    modes to rounding."""
    J = rng.normal(size=(8, 20, 20)) / 5
    B = rng.normal(size=(8, 20, 2))
    mine = _eig.modes(J, B, is_map=True, threads=2)
    monkeypatch.setattr(_eig, "SMALL", 0)
    lapack = _eig.modes(J, B, is_map=True, threads=2)
    for a, b in zip(mine, lapack, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_nonfinite_entries_raise(rng):
    J = rng.normal(size=(3, 5, 5))
    J[1, 2, 3] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match="infs or NaNs"):
        _eig.modes(J, is_map=True)
    J[1, 2, 3] = np.inf
    with pytest.raises(np.linalg.LinAlgError, match="infs or NaNs"):
        eigenmodes(J, kind="ode")


def test_linearize_threads_argument(rng):
    """linearize and eigenmodes take threads=; the result does not depend on it, and a
    bad value is refused."""
    A = rng.normal(size=(30, 10, 10))
    dyn = FunctionDynamics(lambda x, u: x, n_state=10, kind="map", jacobian=lambda x, u: A)
    one = linearize(dyn, np.zeros((30, 10)), threads=1)
    two = linearize(dyn, np.zeros((30, 10)), threads=2)
    np.testing.assert_array_equal(one.eigenvalues, two.eigenvalues)
    np.testing.assert_array_equal(one.left, two.left)
    with pytest.raises(ValueError, match="threads"):
        linearize(dyn, np.zeros((30, 10)), threads=0)
    with pytest.raises(ValueError, match="threads"):
        eigenmodes(A, kind="map", threads=-1)


def test_lapack_inside_the_threads_runs_on_one_blas_thread(rng, capfd):
    """Above 48 units the eigenvector inverse is factored by LAPACK inside the kernel's
    threads; with BLAS allowed two threads (as the thread policy sets it), a
    multithreaded OpenBLAS called from OpenMP threads prints that it may hang. The
    kernel's BLAS is limited to one thread around it, so nothing is printed."""
    from threadpoolctl import threadpool_limits

    J = rng.normal(size=(8, 56, 56)) / 8
    with threadpool_limits(limits=2, user_api="blas"):
        _, right, left, *_ = _eig.modes(J, is_map=False, threads=2)
    err = capfd.readouterr().err
    assert "OpenBLAS" not in err, err
    lh = np.conj(np.swapaxes(left, 1, 2))
    np.testing.assert_allclose(lh @ right, np.broadcast_to(np.eye(56), (8, 56, 56)), atol=1e-9)


def test_matrices_the_small_solver_gives_up_on_go_to_lapack(rng, monkeypatch):
    """Where the compiled QR does not converge within its sweeps (forced here by
    allowing none), the matrix goes to dgeev: the same modes as the LAPACK path, to
    the bit, and as the small solver's to rounding. Matrices of order 1 and 2 need no
    sweep and never give up."""
    J = rng.normal(size=(6, 12, 12)) / 3
    B = rng.normal(size=(6, 12, 2))
    mine = _eig.modes(J, B, is_map=False, threads=2)
    monkeypatch.setattr(_eig, "SWEEPS", 0)
    fallback = _eig.modes(J, B, is_map=False, threads=2)
    monkeypatch.setattr(_eig, "SMALL", 0)
    lapack = _eig.modes(J, B, is_map=False, threads=2)
    for a, b, c in zip(mine, fallback, lapack, strict=True):
        np.testing.assert_array_equal(b, c)
        np.testing.assert_allclose(a, b, atol=1e-8)
    wr, wi, V = np.empty(2), np.empty(2), np.empty((2, 2))
    block = np.array([[0.0, -2.0], [1.0, 0.0]])
    assert backends.get_module("cpp").eig_real(np.ascontiguousarray(block.T), wr, wi, V, 0)
    assert_same_spectrum(wr + 1j * wi, np.array([np.sqrt(2) * 1j, -np.sqrt(2) * 1j]), 4 * EPS)
    assert not backends.get_module("cpp").eig_real(
        np.ascontiguousarray(J[0].T), np.empty(12), np.empty(12), np.empty((12, 12)), 0
    )
