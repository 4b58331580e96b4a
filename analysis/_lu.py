r"""LU factorisation for the Numba kernels: factor once, solve many times.

Private. The Newton kernel (:mod:`neurodyn.analysis._newton`) factors each Jacobian
once and reuses the factors for the chord steps that follow, so it needs the
factorisation and the triangular solves as two calls, which ``np.linalg.solve``
does not offer.

* :math:`d \le` ``SMALL``: a hand-written LU with partial pivoting, in the caller's
  buffers; for small matrices the call and copy overhead of LAPACK dominates.
* larger: LAPACK's ``dgetrf``/``dgetrs`` from SciPy's Cython LAPACK, called directly
  (no copies or allocations, unlike ``np.linalg.solve`` in Numba). The symbols are
  registered with LLVM by name, so kernels that call them stay cacheable. LAPACK is
  column-major: a row-major buffer holding M is :math:`M^\top` to it, so the factors
  are those of :math:`M^\top` and the solve uses ``trans='T'``.

Scratch per thread: ``lu`` (d + 1, d) float64, ``piv`` (d,) int32, ``ints`` (4,) int32
(LAPACK's scalar arguments, passed by pointer). Both functions return False when the
matrix is singular or the solution is not finite. Like the Newton kernel that calls
them, they are compiled without Numba's runtime (``_nrt=False``): they allocate
nothing and update no reference counts.
"""

from __future__ import annotations

import llvmlite.binding as ll
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address

__all__ = ["SMALL", "lu_factor", "lu_inverse", "lu_scratch", "lu_solve"]

for _name in ("dgetrf", "dgetrs"):
    ll.add_symbol(
        f"neurodyn_{_name}", get_cython_function_address("scipy.linalg.cython_lapack", _name)
    )
_vp = types.voidptr
_dgetrf = types.ExternalFunction("neurodyn_dgetrf", types.void(_vp, _vp, _vp, _vp, _vp, _vp))
_dgetrs = types.ExternalFunction(
    "neurodyn_dgetrs", types.void(_vp, _vp, _vp, _vp, _vp, _vp, _vp, _vp, _vp)
)

#: Up to this size the hand-written LU is used; above it LAPACK's blocked LU is faster
#: (a factorisation and three solves by hand: 1.5x as fast as LAPACK at d = 32, 1.2x
#: at 48; LAPACK wins from about 56).
SMALL = 48

# Slots of ``ints``: the order n (also the leading dimensions), LAPACK's info, the
# number of right-hand sides, and the character 'T' (trans) in its first byte.
_N, _INFO, _NRHS, _TRANS = 0, 1, 2, 3


@njit(cache=True)
def lu_scratch(d):
    """Allocate ``(lu, piv, ints)`` for matrices of order d.

    ``lu`` has d + 1 rows: the factors take the first d; the hand-written LU uses the
    last for the pivot row and then keeps the reciprocals of U's diagonal there.
    """
    ints = np.zeros(4, dtype=np.int32)
    ints[_TRANS] = ord("T")  # little-endian: the first byte is 'T'
    return np.empty((d + 1, d)), np.empty(d, dtype=np.int32), ints


@njit(cache=True, _nrt=False, error_model="numpy")
def _factor_small(M, lu, piv):
    d = M.shape[0]
    for i in range(d):
        for j in range(d):
            lu[i, j] = M[i, j]
    urow = lu[d]
    for k in range(d):
        p = k
        big = abs(lu[k, k])
        for i in range(k + 1, d):
            v = abs(lu[i, k])
            if v > big:
                big = v
                p = i
        piv[k] = p
        if big == 0.0 or not np.isfinite(big):
            return False
        if p != k:
            for j in range(d):
                t = lu[k, j]
                lu[k, j] = lu[p, j]
                lu[p, j] = t
        inv = 1.0 / lu[k, k]
        # Eliminate with whole rows: the pivot row, zeroed at and left of the
        # diagonal, leaves the multipliers stored there untouched, and a loop over
        # all d columns vectorises, where one over j > k would pay its vector set-up
        # for every row at every k (twice the cost at d = 16).
        for j in range(d):
            urow[j] = lu[k, j] if j > k else 0.0
        for i in range(k + 1, d):
            f = lu[i, k] * inv
            for j in range(d):
                lu[i, j] -= f * urow[j]
            lu[i, k] = f
    for k in range(d):
        urow[k] = 1.0 / lu[k, k]
    return True


@njit(cache=True, _nrt=False, error_model="numpy")
def _solve_small(lu, piv, out):
    d = out.shape[0]
    for k in range(d):
        p = piv[k]
        if p != k:
            t = out[k]
            out[k] = out[p]
            out[p] = t
    for i in range(d):  # L y = P b, L unit lower triangular
        s = out[i]
        for j in range(i):
            s -= lu[i, j] * out[j]
        out[i] = s
    # U x = y from the bottom up. Each row sums from the far end, so that the term
    # with the newest unknown, out[i + 1], comes last and the rest of the sum need
    # not wait for it (a 1.6x shorter chain of dependent operations).
    for ii in range(d):
        i = d - 1 - ii
        s = out[i]
        for jj in range(ii):
            j = d - 1 - jj
            s -= lu[i, j] * out[j]
        out[i] = s * lu[d, i]  # the reciprocal of U's diagonal


@njit(cache=True, _nrt=False)
def lu_factor(M, lu, piv, ints):
    """Factor the square matrix M into ``lu``/``piv``; False if singular or not finite."""
    d = M.shape[0]
    if d <= SMALL:
        return _factor_small(M, lu, piv)
    for i in range(d):
        for j in range(d):
            v = M[i, j]
            if not np.isfinite(v):
                return False
            lu[i, j] = v
    ints[_N] = d
    ints[_INFO] = 0
    _dgetrf(ints.ctypes, ints.ctypes, lu.ctypes, ints.ctypes, piv.ctypes, ints[_INFO:].ctypes)
    return ints[_INFO] == 0  # info > 0: an exactly zero pivot


@njit(cache=True, _nrt=False)
def lu_solve(lu, piv, ints, b, out):
    """out = M⁻¹ b from :func:`lu_factor`'s factors; False if the result is not finite."""
    d = b.shape[0]
    for i in range(d):
        out[i] = b[i]
    if d <= SMALL:
        _solve_small(lu, piv, out)
    else:
        ints[_N] = d
        ints[_NRHS] = 1
        ints[_INFO] = 0
        _dgetrs(
            ints[_TRANS:].ctypes, ints.ctypes, ints[_NRHS:].ctypes, lu.ctypes, ints.ctypes,
            piv.ctypes, out.ctypes, ints.ctypes, ints[_INFO:].ctypes,
        )  # fmt: skip
    for i in range(d):  # noqa: SIM110 - a loop, not a generator, inside Numba
        if not np.isfinite(out[i]):
            return False
    return True


@njit(cache=True)
def lu_inverse(M, out):
    """out = M⁻¹, one column per solve with M's LU factors; False if M is singular or
    the inverse is not finite (out is then unspecified)."""
    d = M.shape[0]
    lu, piv, ints = lu_scratch(d)
    if not lu_factor(M, lu, piv, ints):
        return False
    unit, col = np.zeros(d), np.empty(d)
    for j in range(d):
        unit[j] = 1.0
        ok = lu_solve(lu, piv, ints, unit, col)
        unit[j] = 0.0
        if not ok:
            return False
        for i in range(d):
            out[i, j] = col[i]
    return True
