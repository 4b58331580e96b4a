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
from ._lu import lu_factor, lu_scratch, lu_solve

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


@njit(parallel=True, cache=True)
def _geev_batch(J, wr, wi, V, Vinv, info):
    """Eigenvalues ``wr + i wi`` and LAPACK's real eigenvector columns ``V`` of each J[m].

    With ``Vinv`` of shape (k, d, d) (not (0, d, d)), also the inverse of each V[m],
    from its LU factors on the same thread; a singular V[m] leaves ``Vinv[m]`` NaN.
    """
    k, d, _ = J.shape
    inverse = Vinv.shape[0] == k
    for m in prange(k):
        jobs = np.zeros(2, dtype=np.uint8)
        jobs[0] = ord("N")  # no left eigenvectors
        jobs[1] = ord("V")  # right eigenvectors
        ints = np.zeros(4, dtype=np.int32)
        ints[_N] = d
        ints[_LDVL] = 1
        a = np.empty((d, d))
        vl = np.empty(1)
        vr = np.empty((d, d))
        w = np.empty(1)
        ints[_LWORK] = -1  # workspace query: the optimal size comes back in w[0]
        _call(jobs, ints, a, wr[m], wi[m], vl, vr, w)
        work = np.empty(max(int(w[0]), 4 * d))
        ints[_LWORK] = work.shape[0]
        # LAPACK is column-major: write J[m] transposed so that it sees J[m].
        for i in range(d):
            for j in range(d):
                a[j, i] = J[m, i, j]
        ints[_INFO] = 0
        _call(jobs, ints, a, wr[m], wi[m], vl, vr, work)
        info[m] = ints[_INFO]
        for i in range(d):  # vr[j] is eigenvector column j
            for j in range(d):
                V[m, i, j] = vr[j, i]
        if inverse and info[m] == 0:
            lu, piv, lu_ints = lu_scratch(d)
            unit, col = np.zeros(d), np.empty(d)
            ok = lu_factor(V[m], lu, piv, lu_ints)
            for j in range(d):
                unit[j] = 1.0
                ok = ok and lu_solve(lu, piv, lu_ints, unit, col)
                unit[j] = 0.0
                for i in range(d):
                    Vinv[m, i, j] = col[i] if ok else np.nan


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
    return lam, R, _pinv_where_singular(R, Rinv)


def _pinv_where_singular(R, Rinv):
    """Rinv with the pseudo-inverse of R where R is singular to working precision.

    That is a defective matrix: a repeated eigenvalue with fewer eigenvectors than its
    multiplicity, whose computed eigenvectors are equal or nearly so. The inverse then
    fails (NaN) or holds entries of order 1/ε and beyond; the condition number
    :math:`\\|R\\|_\\infty \\|R^{-1}\\|_\\infty` above 1/ε tells.
    """
    norm = np.abs(R).sum(axis=-1).max(axis=-1) * np.abs(Rinv).sum(axis=-1).max(axis=-1)
    bad = np.flatnonzero(~(norm * np.finfo(np.float64).eps < 1.0))  # NaN is bad too
    if len(bad):
        Rinv[bad] = np.linalg.pinv(R[bad])
    return Rinv


def _parallel_eig(J, inverse: bool = False):
    """:func:`eig` on the Numba threads (J float64, C-contiguous, finite)."""
    k, d = J.shape[0], J.shape[-1]
    wr, wi = np.empty((k, d)), np.empty((k, d))
    V = np.empty((k, d, d))
    Vinv = np.empty((k if inverse else 0, d, d))
    info = np.zeros(k, dtype=np.int32)
    with one_blas_thread():  # each Numba thread calls LAPACK
        _geev_batch(J, wr, wi, V, Vinv, info)
    if np.any(info != 0):
        raise np.linalg.LinAlgError(
            f"eigenvalues did not converge for {int(np.sum(info != 0))} of {k} matrices"
        )
    lam = wr + 1j * wi
    R = V.astype(np.complex128)
    m, j = np.nonzero(wi > 0)  # first of each complex pair; its partner is column j + 1
    re, im = V[m, :, j], V[m, :, j + 1]
    R[m, :, j] = re + 1j * im
    R[m, :, j + 1] = re - 1j * im
    if not inverse:
        return lam, R
    # R = V T with T = [[1, 1], [i, -i]] on each pair's columns, so R⁻¹ = T⁻¹ V⁻¹ and
    # T⁻¹ = ½ [[1, -i], [1, i]] mixes the pair's rows of V⁻¹.
    Rinv = Vinv.astype(np.complex128)
    a, b = Vinv[m, j, :], Vinv[m, j + 1, :]
    Rinv[m, j, :] = 0.5 * (a - 1j * b)
    Rinv[m, j + 1, :] = 0.5 * (a + 1j * b)
    return lam, R, _pinv_where_singular(R, Rinv)
