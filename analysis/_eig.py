r"""Eigendecomposition of a batch of real matrices: LAPACK's ``dgeev`` on Numba threads.

Private; :func:`neurodyn.analysis.linearization.eigenmodes` calls :func:`eig`.
``np.linalg.eig`` runs its batch on one thread, one ``dgeev`` call per matrix: for
the Jacobians of hundreds of fixed points of a large network that loop takes
seconds (about 30 ms per 256 × 256 matrix). Two threads halve it. Here the matrices are shared among the
Numba threads when the batch is large (see ``MIN_PARALLEL_WORK``), each calling the
same LAPACK routine through SciPy's Cython LAPACK
(registered with LLVM by name, as in :mod:`neurodyn.analysis._lu`), so the results
are those of ``np.linalg.eig``: eigenvalues in LAPACK's order, right eigenvectors of
unit Euclidean norm with their largest component real.

``dgeev`` returns a complex pair :math:`\lambda, \bar\lambda` as consecutive real
columns :math:`(v_r, v_i)`; the eigenvectors are :math:`v_r \pm i v_i`.
"""

from __future__ import annotations

import contextlib

import llvmlite.binding as ll
import numpy as np
from numba import njit, prange, types
from numba.extending import get_cython_function_address

from .._blas import one_blas_thread
from ._lu import lu_inverse

__all__ = ["eig"]

ll.add_symbol("neurodyn_dgeev", get_cython_function_address("scipy.linalg.cython_lapack", "dgeev"))
_vp = types.voidptr
_dgeev = types.ExternalFunction("neurodyn_dgeev", types.void(*([_vp] * 14)))

#: Below this much work (k d³) the batch stays on one thread with ``np.linalg.eig``.
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
    """Largest absolute row sum (of a real or complex matrix)."""
    big = 0.0
    for i in range(M.shape[0]):
        s = 0.0
        for j in range(M.shape[1]):
            s += abs(M[i, j])
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


@njit(parallel=True, cache=True)
def _geev_batch(J, lam, R, Rinv, info, singular):
    """Eigenvalues ``lam`` and unit eigenvectors ``R`` (columns) of each J[m], and R⁻¹.

    ``dgeev`` gives a complex pair :math:`\\lambda, \\bar\\lambda` as consecutive real
    columns :math:`(v_r, v_i)` of V, the eigenvectors being :math:`v_r \\pm i v_i`:
    R = V T with :math:`T = \\begin{pmatrix}1 & 1\\\\ i & -i\\end{pmatrix}` on the
    pair's columns. Hence :math:`R^{-1} = T^{-1}V^{-1}`, with
    :math:`T^{-1} = \\tfrac12\\begin{pmatrix}1 & -i\\\\ 1 & i\\end{pmatrix}` mixing
    the pair's rows of :math:`V^{-1}`, which comes from V's real LU factors on the same
    thread. ``Rinv`` of shape (0, d, d) skips the inverse. ``singular[m]``: R[m] is
    singular to working precision (:func:`_singular_to_precision`).
    """
    k, d, _ = J.shape
    inverse = Rinv.shape[0] == k
    for m in prange(k):
        jobs = np.zeros(2, dtype=np.uint8)
        jobs[0] = ord("N")  # no left eigenvectors
        jobs[1] = ord("V")  # right eigenvectors
        ints = np.zeros(4, dtype=np.int32)
        ints[_N] = d
        ints[_LDVL] = 1
        a = np.empty((d, d))
        wr, wi = np.empty(d), np.empty(d)
        vl = np.empty(1)
        vr = np.empty((d, d))
        w = np.empty(1)
        ints[_LWORK] = -1  # workspace query: the optimal size comes back in w[0]
        _call(jobs, ints, a, wr, wi, vl, vr, w)
        work = np.empty(max(int(w[0]), 4 * d))
        ints[_LWORK] = work.shape[0]
        # LAPACK is column-major: write J[m] transposed so that it sees J[m].
        for i in range(d):
            for j in range(d):
                a[j, i] = J[m, i, j]
        ints[_INFO] = 0
        _call(jobs, ints, a, wr, wi, vl, vr, work)
        info[m] = ints[_INFO]
        if info[m] != 0:
            continue
        # vr[j] is V's column j; wi[j] > 0 opens a pair, whose partner is j + 1.
        for j in range(d):
            lam[m, j] = complex(wr[j], wi[j])
            if wi[j] > 0.0:
                for i in range(d):
                    R[m, i, j] = complex(vr[j, i], vr[j + 1, i])
            elif wi[j] < 0.0:
                for i in range(d):
                    R[m, i, j] = complex(vr[j - 1, i], -vr[j, i])
            else:
                for i in range(d):
                    R[m, i, j] = vr[j, i]
        if not inverse:
            continue
        V = np.empty((d, d))
        for i in range(d):
            for j in range(d):
                V[i, j] = vr[j, i]
        Vinv = np.empty((d, d))
        if not lu_inverse(V, Vinv):
            singular[m] = True
            continue
        for j in range(d):
            if wi[j] > 0.0:
                for i in range(d):
                    Rinv[m, j, i] = 0.5 * complex(Vinv[j, i], -Vinv[j + 1, i])
            elif wi[j] < 0.0:
                for i in range(d):
                    Rinv[m, j, i] = 0.5 * complex(Vinv[j - 1, i], Vinv[j, i])
            else:
                for i in range(d):
                    Rinv[m, j, i] = Vinv[j, i]
        singular[m] = _singular_to_precision(R[m], Rinv[m])


def eig(J, inverse: bool = False):
    """Eigenvalues and right eigenvectors of a batch of real matrices, as ``np.linalg.eig``.

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
        Column j of ``right[m]`` is the unit eigenvector of ``eigenvalues[m, j]``.
    right_inverse : complex ndarray (k, d, d), with ``inverse`` only
        :math:`R^{-1}`; for a defective matrix, whose R is singular, the
        pseudo-inverse, which still gives left vectors for the modes that exist.

    Raises
    ------
    numpy.linalg.LinAlgError
        On NaN or infinite entries, or if the QR algorithm fails to converge.

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
    if k >= 2 and k * d**3 >= MIN_PARALLEL_WORK:
        return _parallel_eig(J, inverse)
    lam, R = np.linalg.eig(J)  # real dtype when every eigenvalue is real
    lam, R = lam.astype(np.complex128), R.astype(np.complex128)
    if not inverse:
        return lam, R
    try:
        Rinv = np.linalg.inv(R)
    except np.linalg.LinAlgError:  # some R singular: invert one at a time
        Rinv = np.full_like(R, np.nan)
        for m in range(k):
            with contextlib.suppress(np.linalg.LinAlgError):
                Rinv[m] = np.linalg.inv(R[m])
    bad = [_singular_to_precision(R[m], Rinv[m]) for m in range(k)]
    return lam, R, _pinv_where(R, Rinv, bad)


def _pinv_where(R, Rinv, bad):
    """Rinv with the pseudo-inverse of R where ``bad`` (R singular to working
    precision), which still gives left vectors for the modes that exist."""
    bad = np.flatnonzero(bad)
    if len(bad):
        Rinv[bad] = np.linalg.pinv(R[bad])
    return Rinv


def _parallel_eig(J, inverse: bool = False):
    """:func:`eig` on the Numba threads (J float64, C-contiguous, finite)."""
    k, d = J.shape[0], J.shape[-1]
    lam = np.empty((k, d), dtype=np.complex128)
    R = np.empty((k, d, d), dtype=np.complex128)
    Rinv = np.empty((k if inverse else 0, d, d), dtype=np.complex128)
    info = np.zeros(k, dtype=np.int32)
    singular = np.zeros(k, dtype=np.bool_)
    with one_blas_thread():  # each Numba thread calls LAPACK
        _geev_batch(J, lam, R, Rinv, info, singular)
    if np.any(info != 0):
        raise np.linalg.LinAlgError(
            f"eigenvalues did not converge for {int(np.sum(info != 0))} of {k} matrices"
        )
    if not inverse:
        return lam, R
    return lam, R, _pinv_where(R, Rinv, singular)
