r"""Eigendecomposition of a batch of real matrices, on Numba threads.

Private; :func:`neurodyn.analysis.linearization.eigenmodes` calls :func:`eig`.
``np.linalg.eig`` runs its batch on one thread, one LAPACK ``dgeev`` call per matrix:
for the Jacobians of hundreds of fixed points of a large network that loop takes
seconds (about 30 ms per 256 × 256 matrix), and for a few dozen small ones most of
``dgeev``'s time goes to overhead. Here the matrices are shared among the Numba
threads when the batch is large enough (``MIN_PARALLEL_WORK``). Each is decomposed
by :func:`neurodyn.analysis._hqr.real_eig` up to ``SMALL`` × ``SMALL``, and by the
same ``dgeev`` as NumPy's above (through SciPy's Cython LAPACK, registered with LLVM
by name, as in :mod:`neurodyn.analysis._lu`). Either way the eigenvectors have unit
Euclidean norm and their largest component is real and positive
(:func:`_standard_phase`), so the result does not depend on the routine.

Both routines return a complex pair :math:`\lambda, \bar\lambda` as consecutive real
columns :math:`(v_r, v_i)`; the eigenvectors are :math:`v_r \pm i v_i`.
"""

from __future__ import annotations

import llvmlite.binding as ll
import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import get_cython_function_address

from .._blas import one_blas_thread
from ._atomic import fetch_add
from ._hqr import real_eig
from ._lu import lu_inverse

__all__ = ["eig"]

ll.add_symbol("neurodyn_dgeev", get_cython_function_address("scipy.linalg.cython_lapack", "dgeev"))
_vp = types.voidptr
_dgeev = types.ExternalFunction("neurodyn_dgeev", types.void(*([_vp] * 14)))

#: Below this much work (k d³) the batch stays on the calling thread.
#: A parallel launch costs microseconds when the threads are free, but on a shared
#: machine it can wait for a thread that another process displaced. Measured on two
#: shared cores (medians of interleaved calls): the threads win 1.6x on 4 matrices of
#: 16 × 16 (k d³ = 16 384) and 1.7x on 27 of them, also at the 90th percentile, and
#: break even on 2 of 8 × 8.
MIN_PARALLEL_WORK = 10_000

# Slots of ``ints``: the order n (also lda and ldvr), ldvl, lwork, info.
_N, _LDVL, _LWORK, _INFO = 0, 1, 2, 3


@njit(cache=True)
def _call(jobs, ints, a, wr, wi, vl, vr, work):
    _dgeev(
        jobs[0:].ctypes, jobs[1:].ctypes, ints.ctypes, a.ctypes, ints.ctypes, wr.ctypes,
        wi.ctypes, vl.ctypes, ints[_LDVL:].ctypes, vr.ctypes, ints.ctypes, work.ctypes,
        ints[_LWORK:].ctypes, ints[_INFO:].ctypes,
    )  # fmt: skip


@njit(cache=True)
def _inf_norm(M):
    r"""Largest row sum of :math:`|\mathrm{Re}\,m_{ij}| + |\mathrm{Im}\,m_{ij}|`.

    For a real matrix that is :math:`\|M\|_\infty`; for a complex one it is within a
    factor √2 of it, as LAPACK's condition estimates take it, and free of the
    ``hypot`` that ``abs`` of a complex number calls (512 times for R and R⁻¹ of a
    16 × 16 matrix: 10 % of its decomposition's time).
    """
    big = 0.0
    for i in range(M.shape[0]):
        s = 0.0
        for j in range(M.shape[1]):
            s += abs(M[i, j].real) + abs(M[i, j].imag)
        big = max(big, s)
    return big


@njit(cache=True)
def _singular_to_precision(R, Rinv):
    """Whether R is singular to working precision: :math:`\\|R\\|_\\infty
    \\|R^{-1}\\|_\\infty \\ge 1/\\varepsilon`, or R⁻¹ is not finite.

    That is a defective matrix: a repeated eigenvalue with fewer eigenvectors than its
    multiplicity, whose computed eigenvectors are equal or nearly so; the inverse then
    fails or holds entries of order 1/ε and beyond.
    """
    cond = _inf_norm(R) * _inf_norm(Rinv)
    return not cond * np.finfo(np.float64).eps < 1.0  # NaN counts as singular


#: Matrices up to this size are decomposed by :func:`neurodyn.analysis._hqr.real_eig`,
#: larger ones by LAPACK's ``dgeev``. Measured on one core against SciPy's OpenBLAS
#: ``dgeev``: 2.0x faster at 16 × 16, 1.6x at 32, 1.3x at 64 (ahead up to 96 at
#: least); beyond, LAPACK's blocked algorithms take over.
SMALL = 64


@njit(cache=True)
def _dgeev_one(A, wr, wi, vr):
    """LAPACK's ``dgeev`` on one matrix: eigenvalues (wr, wi) and right eigenvectors,
    ``vr[j]`` being V's column j. Returns LAPACK's info."""
    d = A.shape[0]
    jobs = np.zeros(2, dtype=np.uint8)
    jobs[0] = ord("N")  # no left eigenvectors
    jobs[1] = ord("V")  # right eigenvectors
    ints = np.zeros(4, dtype=np.int32)
    ints[_N] = d
    ints[_LDVL] = 1
    a = np.empty((d, d))
    vl = np.empty(1)
    w = np.empty(1)
    ints[_LWORK] = -1  # workspace query: the optimal size comes back in w[0]
    _call(jobs, ints, a, wr, wi, vl, vr, w)
    work = np.empty(max(int(w[0]), 4 * d))
    ints[_LWORK] = work.shape[0]
    # LAPACK is column-major: write A transposed so that it sees A.
    for i in range(d):
        for j in range(d):
            a[j, i] = A[i, j]
    ints[_INFO] = 0
    _call(jobs, ints, a, wr, wi, vl, vr, work)
    return ints[_INFO]


@njit(cache=True)
def _standard_phase(vr, wi):
    """Make the largest component of each eigenvector real and positive.

    ``vr[j]`` is V's column j, in ``dgeev``'s layout (a complex pair as its real and
    imaginary parts). This fixes the sign left free by the eigen-equation, so the
    result does not depend on which routine computed the vectors.
    """
    d = wi.shape[0]
    j = 0
    while j < d:
        big, at = -1.0, 0
        pair = wi[j] > 0.0
        for i in range(d):
            m = vr[j, i] ** 2 + (vr[j + 1, i] ** 2 if pair else 0.0)
            if m > big:
                big, at = m, i
        if not pair:
            if vr[j, at] < 0.0:
                for i in range(d):
                    vr[j, i] = -vr[j, i]
            j += 1
            continue
        # Multiply v_r + i v_i by conj(z)/|z|, z its component at ``at``.
        g, h = vr[j, at], vr[j + 1, at]
        rho = np.hypot(g, h)
        cs, sn = g / rho, h / rho
        for i in range(d):
            re, im = vr[j, i], vr[j + 1, i]
            vr[j, i] = cs * re + sn * im
            vr[j + 1, i] = cs * im - sn * re
        vr[j + 1, at] = 0.0
        j += 2


@njit(cache=True)
def _decompose(A, lam, R, Rinv, inverse):
    r"""Eigenvalues ``lam`` and unit eigenvectors ``R`` (columns) of A, and R⁻¹.

    ``real_eig`` (``dgeev`` above ``SMALL``, or should its QR iteration fail) gives a
    complex pair :math:`\lambda, \bar\lambda` as consecutive real columns
    :math:`(v_r, v_i)` of V, the eigenvectors being :math:`v_r \pm i v_i`:
    R = V T with :math:`T = \begin{pmatrix}1 & 1\\ i & -i\end{pmatrix}` on the
    pair's columns. Hence :math:`R^{-1} = T^{-1}V^{-1}`, with
    :math:`T^{-1} = \tfrac12\begin{pmatrix}1 & -i\\ 1 & i\end{pmatrix}` mixing
    the pair's rows of :math:`V^{-1}`, which comes from V's real LU factors.
    Returns ``(info, singular)``: LAPACK's info (R is not written unless 0), and
    whether R is singular to working precision (:func:`_singular_to_precision`;
    ``Rinv`` is then not written).
    """
    d = A.shape[0]
    wr, wi = np.empty(d), np.empty(d)
    vr = np.empty((d, d))  # vr[j] is V's column j (dgeev's column-major layout)
    if d > SMALL or not real_eig(A, wr, wi, vr.T):
        info = _dgeev_one(A, wr, wi, vr)
        if info != 0:
            return info, False
    _standard_phase(vr, wi)
    # wi[j] > 0 opens a pair, whose partner is j + 1.
    for j in range(d):
        lam[j] = complex(wr[j], wi[j])
        if wi[j] > 0.0:
            for i in range(d):
                R[i, j] = complex(vr[j, i], vr[j + 1, i])
        elif wi[j] < 0.0:
            for i in range(d):
                R[i, j] = complex(vr[j - 1, i], -vr[j, i])
        else:
            for i in range(d):
                R[i, j] = vr[j, i]
    if not inverse:
        return 0, False
    Vinv = np.empty((d, d))
    if not lu_inverse(vr.T, Vinv):  # vr.T is V
        return 0, True
    for j in range(d):
        if wi[j] > 0.0:
            for i in range(d):
                Rinv[j, i] = 0.5 * complex(Vinv[j, i], -Vinv[j + 1, i])
        elif wi[j] < 0.0:
            for i in range(d):
                Rinv[j, i] = 0.5 * complex(Vinv[j - 1, i], Vinv[j, i])
        else:
            for i in range(d):
                Rinv[j, i] = Vinv[j, i]
    return 0, _singular_to_precision(R, Rinv)


@njit(parallel=True, cache=True)
def _decompose_parallel(J, lam, R, Rinv, info, singular, n_threads):
    """:func:`_decompose` of every J[m] on ``n_threads`` Numba threads, which take the
    matrices one at a time from a shared counter (:mod:`neurodyn.analysis._atomic`).
    ``Rinv`` of shape (0, d, d) skips the inverse."""
    k = J.shape[0]
    inverse = Rinv.shape[0] == k
    taken = np.zeros(1, dtype=np.int64)
    for _ in prange(min(n_threads, k)):
        none = np.empty((0, 0), dtype=np.complex128)
        while True:
            m = fetch_add(taken, 1)
            if m >= k:
                break
            info[m], singular[m] = _decompose(
                J[m], lam[m], R[m], Rinv[m] if inverse else none, inverse
            )


@njit(cache=True)
def _decompose_serial(J, lam, R, Rinv, info, singular):
    """:func:`_decompose_parallel` on the calling thread."""
    inverse = Rinv.shape[0] == J.shape[0]
    none = np.empty((0, 0), dtype=np.complex128)
    for m in range(J.shape[0]):
        info[m], singular[m] = _decompose(J[m], lam[m], R[m], Rinv[m] if inverse else none, inverse)


def eig(J, inverse: bool = False):
    """Eigenvalues and right eigenvectors of a batch of real matrices.

    The eigenpairs of ``np.linalg.eig``, possibly in another order, with each
    eigenvector's largest component real and positive (see the module docstring).

    Parameters
    ----------
    J : array (k, d, d), finite
    inverse : bool
        Also return the inverse of each eigenvector matrix, whose rows are the left
        eigenvectors :math:`l_j^H` with :math:`l_j^H r_i = \\delta_{ij}`.

    Returns
    -------
    eigenvalues : complex ndarray (k, d)
        Complex even when all are real (``np.linalg.eig`` then returns real arrays).
    right : complex ndarray (k, d, d)
        Column j of ``right[m]`` is the unit eigenvector of ``eigenvalues[m, j]``; a
        complex pair's vectors are conjugate.
    right_inverse : complex ndarray (k, d, d), with ``inverse`` only
        :math:`R^{-1}`; for a defective matrix, whose R is singular, the
        pseudo-inverse, which still gives left vectors for the modes that exist.

    Raises
    ------
    numpy.linalg.LinAlgError
        On NaN or infinite entries, or if LAPACK's QR algorithm, the fallback of the
        Numba one, fails to converge.

    Examples
    --------
    >>> lam, R = eig(np.array([[[0.0, -1.0], [1.0, 0.0]]]))
    >>> lam.round(12).tolist()
    [[1j, -1j]]
    """
    J = np.ascontiguousarray(J, dtype=np.float64)
    if not np.all(np.isfinite(J)):
        raise np.linalg.LinAlgError("Array must not contain infs or NaNs")
    k, d = J.shape[0], J.shape[-1]
    lam = np.empty((k, d), dtype=np.complex128)
    R = np.empty((k, d, d), dtype=np.complex128)
    Rinv = np.empty((k if inverse else 0, d, d), dtype=np.complex128)
    info = np.zeros(k, dtype=np.int32)
    singular = np.zeros(k, dtype=np.bool_)
    with one_blas_thread():  # LAPACK, where called, runs inside each Numba thread
        if k >= 2 and k * d**3 >= MIN_PARALLEL_WORK:
            _decompose_parallel(J, lam, R, Rinv, info, singular, numba.get_num_threads())
        else:
            _decompose_serial(J, lam, R, Rinv, info, singular)
    if np.any(info != 0):
        raise np.linalg.LinAlgError(
            f"eigenvalues did not converge for {int(np.sum(info != 0))} of {k} matrices"
        )
    if not inverse:
        return lam, R
    bad = np.flatnonzero(singular)
    if len(bad):
        # The pseudo-inverse still gives left vectors for the modes that exist.
        Rinv[bad] = np.linalg.pinv(R[bad])
    return lam, R, Rinv
