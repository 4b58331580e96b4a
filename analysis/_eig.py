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

import llvmlite.binding as ll
import numpy as np
from numba import njit, prange, types
from numba.extending import get_cython_function_address

from .._blas import one_blas_thread

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
def _geev_batch(J, wr, wi, V, info):
    """Eigenvalues ``wr + i wi`` and LAPACK's real eigenvector columns ``V`` of each J[m]."""
    k, d, _ = J.shape
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


def eig(J):
    """Eigenvalues and right eigenvectors of a batch of real matrices, as ``np.linalg.eig``.

    Parameters
    ----------
    J : array (k, d, d), finite

    Returns
    -------
    eigenvalues : complex ndarray (k, d)
        Complex even when all are real (``np.linalg.eig`` then returns real arrays).
    right : complex ndarray (k, d, d)
        Column j of ``right[m]`` is the unit eigenvector of ``eigenvalues[m, j]``.

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
        return _parallel_eig(J)
    lam, R = np.linalg.eig(J)  # real dtype when every eigenvalue is real
    return lam.astype(np.complex128), R.astype(np.complex128)


def _parallel_eig(J):
    """:func:`eig` on the Numba threads (J float64, C-contiguous, finite)."""
    k, d = J.shape[0], J.shape[-1]
    wr, wi = np.empty((k, d)), np.empty((k, d))
    V = np.empty((k, d, d))
    info = np.zeros(k, dtype=np.int32)
    with one_blas_thread():  # each Numba thread calls LAPACK
        _geev_batch(J, wr, wi, V, info)
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
    return lam, R
