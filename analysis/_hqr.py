r"""Eigenvalues and right eigenvectors of a small real matrix, in Numba.

Private; :func:`neurodyn.analysis._eig.eig` uses it for batches of small Jacobians,
where LAPACK's ``dgeev`` spends most of its time outside the arithmetic (about 45 µs
for a 16 × 16 matrix, against about 20 µs here). The algorithm is the textbook one
(Golub & Van Loan, *Matrix Computations*, §7.4–7.6), in three stages:

1. **Hessenberg form** :math:`H = Q^\top A Q` by Householder reflectors
   :math:`P_k = I - \beta_k v_k v_k^\top`, with :math:`Q = P_0 P_1 \cdots P_{n-3}`
   accumulated backwards (each :math:`P_k` touches only the trailing block).
2. **Real Schur form** :math:`T = Z^\top A Z` by Francis double-shift QR sweeps on
   the active window of H, each sweep chasing a 3 × 3 reflector bulge down the
   subdiagonal, with the shifts the eigenvalues of the window's trailing 2 × 2
   block (an exceptional shift every 10 sweeps without deflation). A subdiagonal
   entry deflates when :math:`|h_{l,l-1}| \le \varepsilon(|h_{l-1,l-1}| + |h_{ll}|)`.
   Each 2 × 2 diagonal block left is put in standard form by a rotation: either
   triangular (two real eigenvalues) or :math:`\begin{pmatrix}a & b\\ c & a\end{pmatrix}`,
   :math:`bc < 0`, with eigenvalues :math:`a \pm i\sqrt{|bc|}`.
3. **Eigenvectors** of T by back substitution, :math:`(T - \lambda I)y = 0` with
   :math:`y_k = 1` (and the 2 × 2 block's null vector for a complex pair), then
   :math:`v = Z y`, normalised to unit length. Near-zero pivots
   :math:`T_{ii} - \lambda` are raised to :math:`\varepsilon\max(|\lambda|, 1)`
   (T being scaled to entries of order 1, a perturbation within rounding), and y is
   rescaled whenever it grows past 1e150, so a defective eigenvalue gives a finite,
   nearly repeated vector instead of an overflow.

The matrix is first scaled by a power of two to a largest entry near 1 (exact in
binary floating point), so squares formed along the way neither overflow nor
underflow; the eigenvalues are scaled back at the end.

Output follows ``dgeev``: eigenvalues as (wr, wi) with a complex pair in consecutive
places, positive imaginary part first; the right eigenvector of a real eigenvalue as
a real column of V, and that of a pair :math:`\lambda, \bar\lambda` as the columns
:math:`(v_r, v_i)`, meaning :math:`v_r \pm i v_i`, scaled to unit Euclidean norm.
The order of the eigenvalues, and the sign or phase of the eigenvectors, may differ
from LAPACK's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["real_eig"]

_EPS = np.finfo(np.float64).eps
#: Back substitution rescales the eigenvector once an entry passes this.
_BIG = 1e150
#: QR sweeps allowed per eigenvalue before :func:`real_eig` gives up.
_SWEEPS_PER_EIGENVALUE = 30


@njit(cache=True, inline="always")
def _reflect_left(M, vs, k, beta):
    """M ← P_k M on columns k+1…, P_k = I - β v vᵀ with v = ``vs[k+1:, k]`` (rows k+1…);
    M Fortran-ordered, so each column is contiguous."""
    n = M.shape[0]
    for j in range(k + 1, n):
        s = 0.0
        for i in range(k + 1, n):
            s += vs[i, k] * M[i, j]
        s *= beta
        for i in range(k + 1, n):
            M[i, j] -= s * vs[i, k]


@njit(cache=True)
def _hessenberg(T, Z, vs, betas):
    """T ← Qᵀ T Q upper Hessenberg and Z ← Q, in place (T, Z Fortran-ordered).

    ``vs`` (n, n) and ``betas`` (n,) are scratch: column k of ``vs`` keeps the
    reflector :math:`v_k` (rows k+1…), which the backward accumulation of Q reuses.
    """
    n = T.shape[0]
    w = np.empty(n)
    for k in range(n - 2):
        # P_k maps x = T[k+1:, k] to ∓‖x‖ e₁ (sign opposite to x₀: no cancellation).
        big = 0.0
        for i in range(k + 1, n):
            big = max(big, abs(T[i, k]))
        betas[k] = 0.0
        if big == 0.0:
            continue
        ss = 0.0
        for i in range(k + 1, n):
            t = T[i, k] / big
            ss += t * t
        x0 = T[k + 1, k]
        alpha = -np.sqrt(ss) * big if x0 >= 0.0 else np.sqrt(ss) * big
        vs[k + 1, k] = x0 - alpha
        for i in range(k + 2, n):
            vs[i, k] = T[i, k]
        vtv = 0.0
        for i in range(k + 1, n):
            vtv += vs[i, k] * vs[i, k]
        beta = 2.0 / vtv
        betas[k] = beta
        T[k + 1, k] = alpha
        for i in range(k + 2, n):
            T[i, k] = 0.0
        _reflect_left(T, vs, k, beta)
        # From the right, on columns k+1…: w = T v, then T -= β w vᵀ column by column.
        for i in range(n):
            w[i] = 0.0
        for j in range(k + 1, n):
            vj = vs[j, k]
            for i in range(n):
                w[i] += T[i, j] * vj
        for j in range(k + 1, n):
            f = beta * vs[j, k]
            for i in range(n):
                T[i, j] -= f * w[i]
    # Q = P_0 P_1 ⋯ P_{n-3}, built from the right end: P_k touches rows and columns k+1….
    for i in range(n):
        for j in range(n):
            Z[i, j] = 0.0
        Z[i, i] = 1.0
    for k in range(n - 3, -1, -1):
        if betas[k] != 0.0:
            _reflect_left(Z, vs, k, betas[k])


@njit(cache=True)
def _sign(a, b):
    """|a| with the sign of b (Fortran's SIGN; +0 counts as positive)."""
    return abs(a) if b >= 0.0 else -abs(a)


@njit(cache=True)
def _standard_2x2(a, b, c, d):
    """Standard Schur form of :math:`\\begin{pmatrix}a & b\\\\ c & d\\end{pmatrix}`.

    Returns ``(a, b, c, d, cs, sn)`` with
    :math:`\\begin{pmatrix}a & b\\\\ c & d\\end{pmatrix}_{in} = G
    \\begin{pmatrix}a & b\\\\ c & d\\end{pmatrix}_{out} G^\\top`,
    :math:`G = \\begin{pmatrix}cs & -sn\\\\ sn & cs\\end{pmatrix}`, where either
    c = 0 (real eigenvalues a, d) or a = d and bc < 0 (the pair
    :math:`a \\pm i\\sqrt{|bc|}`).
    """
    if c == 0.0:
        return a, b, c, d, 1.0, 0.0
    if b == 0.0:  # swap rows and columns
        return d, -c, 0.0, a, 0.0, 1.0
    if a == d and (b > 0.0) != (c > 0.0):  # already standard
        return a, b, c, d, 1.0, 0.0
    temp = a - d
    p = 0.5 * temp
    bcmax = max(abs(b), abs(c))
    bcmis = min(abs(b), abs(c)) * _sign(1.0, b) * _sign(1.0, c)
    scale = max(abs(p), bcmax)
    z = p / scale * p + bcmax / scale * bcmis
    if z >= 4.0 * _EPS:
        # Real eigenvalues, well apart: one rotation makes the block triangular.
        z = p + _sign(np.sqrt(scale) * np.sqrt(z), p)
        a = d + z
        d = d - bcmax / z * bcmis
        tau = np.hypot(c, z)
        return a, b - c, 0.0, d, z / tau, c / tau
    # Complex or nearly equal real eigenvalues: first equalise the diagonal.
    sigma = b + c
    tau = np.hypot(sigma, temp)
    cs = np.sqrt(0.5 * (1.0 + abs(sigma) / tau))
    sn = -(p / (tau * cs)) * _sign(1.0, sigma)
    aa = a * cs + b * sn
    bb = -a * sn + b * cs
    cc = c * cs + d * sn
    dd = -c * sn + d * cs
    b = bb * cs + dd * sn
    c = -aa * sn + cc * cs
    temp = 0.5 * ((aa * cs + cc * sn) + (-bb * sn + dd * cs))
    a = temp
    d = temp
    if c != 0.0:
        if b == 0.0:
            b, c = -c, 0.0
            cs, sn = -sn, cs
        elif (b > 0.0) == (c > 0.0):
            # bc > 0: real eigenvalues temp ± √(bc) after all; triangularise.
            sab = np.sqrt(abs(b))
            sac = np.sqrt(abs(c))
            p = _sign(sab * sac, c)
            tau = 1.0 / np.sqrt(abs(b + c))
            a = temp + p
            d = temp - p
            b = b - c
            c = 0.0
            cs1 = sab * tau
            sn1 = sac * tau
            cs, sn = cs * cs1 - sn * sn1, cs * sn1 + sn * cs1
    return a, b, c, d, cs, sn


# Inlined into their callers: as calls they cost 5 % of the whole solver.
@njit(cache=True, inline="always")
def _rotate_columns(M, rows, j, cs, sn):
    """Columns (j-1, j) of M, rows 0…rows-1, times the rotation [[cs, -sn], [sn, cs]]."""
    for r in range(rows):
        x, y = M[r, j - 1], M[r, j]
        M[r, j - 1] = cs * x + sn * y
        M[r, j] = cs * y - sn * x


@njit(cache=True)
def _rotate_pair(T, Z, i, cs, sn):
    """Apply the rotation of a standardised block at rows/columns (i-1, i) to the rest
    of T (rows to its right, columns above it) and to Z's columns."""
    n = T.shape[0]
    for j in range(i + 1, n):
        x, y = T[i - 1, j], T[i, j]
        T[i - 1, j] = cs * x + sn * y
        T[i, j] = cs * y - sn * x
    _rotate_columns(T, i - 1, i, cs, sn)
    _rotate_columns(Z, n, i, cs, sn)


@njit(cache=True, inline="always")
def _reflect_columns(M, rows, k, u1, u2, tau, three):
    """Columns k, k+1 (and k+2 if ``three``) of M, rows 0…rows-1, times the reflector
    :math:`I - \tau u u^\top`, u = (1, u1, u2)."""
    for r in range(rows):
        s = M[r, k] + u1 * M[r, k + 1]
        if three:
            s += u2 * M[r, k + 2]
        s *= tau
        M[r, k] -= s
        M[r, k + 1] -= s * u1
        if three:
            M[r, k + 2] -= s * u2


@njit(cache=True)
def _schur(T, Z, wr, wi):
    """Francis double-shift QR: T (upper Hessenberg) ← its real Schur form, Z ← Z Q.

    Writes the eigenvalues to (wr, wi); returns False if some eigenvalue needed more
    than ``_SWEEPS_PER_EIGENVALUE`` sweeps on average.
    """
    n = T.shape[0]
    norm = 0.0  # fallback scale for the deflation test when both diagonals vanish
    for j in range(n):
        for i in range(min(j + 2, n)):
            norm += abs(T[i, j])
    ihi = n - 1
    its = 0
    sweeps = 0
    while ihi >= 0:
        # The active window is l…ihi: look for a negligible subdiagonal entry.
        l = ihi
        while l > 0:
            s = abs(T[l - 1, l - 1]) + abs(T[l, l])
            if s == 0.0:
                s = norm
            if abs(T[l, l - 1]) <= _EPS * s:
                T[l, l - 1] = 0.0
                break
            l -= 1
        if l == ihi:  # a 1 × 1 block has converged
            wr[ihi] = T[ihi, ihi]
            wi[ihi] = 0.0
            ihi -= 1
            its = 0
            continue
        if l == ihi - 1:  # a 2 × 2 block: standard form
            i = ihi
            a, b, c, d, cs, sn = _standard_2x2(T[i - 1, i - 1], T[i - 1, i], T[i, i - 1], T[i, i])
            T[i - 1, i - 1], T[i - 1, i], T[i, i - 1], T[i, i] = a, b, c, d
            _rotate_pair(T, Z, i, cs, sn)
            wr[i - 1] = a
            wr[i] = d
            # Real eigenvalues get +0 imaginary parts: -0 would put a negative one at
            # angle -π instead of π.
            w = 0.0 if c == 0.0 else np.sqrt(abs(b)) * np.sqrt(abs(c))
            wi[i - 1] = w
            wi[i] = -w if c != 0.0 else 0.0
            ihi -= 2
            its = 0
            continue
        sweeps += 1
        if sweeps > _SWEEPS_PER_EIGENVALUE * n:
            return False
        its += 1
        m = ihi
        if its % 10 == 0:
            # Exceptional shift: break a cycle of the standard shifts.
            s = abs(T[m, m - 1]) + abs(T[m - 1, m - 2])
            h11 = 0.75 * s + T[m, m]
            h12 = -0.4375 * s
            h21 = s
            h22 = h11
        else:
            h11, h12, h21, h22 = T[m - 1, m - 1], T[m - 1, m], T[m, m - 1], T[m, m]
        tr = h11 + h22
        det = h11 * h22 - h12 * h21
        # First column of (T - σ₁)(T - σ₂), σ the shifts: (x, y, z, 0, …).
        h00, h10 = T[l, l], T[l + 1, l]
        x = h00 * h00 + T[l, l + 1] * h10 - tr * h00 + det
        y = h10 * (h00 + T[l + 1, l + 1] - tr)
        z = h10 * T[l + 2, l + 1]
        for k in range(l, ihi):
            three = k < ihi - 1
            if k > l:
                x = T[k, k - 1]
                y = T[k + 1, k - 1]
                z = T[k + 2, k - 1] if three else 0.0
            scale = abs(x) + abs(y) + abs(z)
            if scale == 0.0:
                continue
            xs, ys, zs = x / scale, y / scale, z / scale
            alpha = np.sqrt(xs * xs + ys * ys + zs * zs) * scale
            if x >= 0.0:
                alpha = -alpha
            # P = I - τ u uᵀ, u = (1, u1, u2), maps (x, y, z) to α e₁.
            u0 = x - alpha
            u1 = y / u0
            u2 = z / u0
            tau = -u0 / alpha
            if k > l:
                T[k, k - 1] = alpha
                T[k + 1, k - 1] = 0.0
                if three:
                    T[k + 2, k - 1] = 0.0
            for j in range(k, n):
                s = T[k, j] + u1 * T[k + 1, j]
                if three:
                    s += u2 * T[k + 2, j]
                s *= tau
                T[k, j] -= s
                T[k + 1, j] -= s * u1
                if three:
                    T[k + 2, j] -= s * u2
            _reflect_columns(T, min(k + 3, ihi) + 1, k, u1, u2, tau, three)
            _reflect_columns(Z, n, k, u1, u2, tau, three)
    return True


@njit(cache=True)
def _rescale(y, top, bottom, big):
    for t in range(top, bottom + 1):
        y[t] /= big


@njit(cache=True)
def _eigenvectors(T, Z, wr, wi, V, y):
    """Right eigenvectors of Z T Zᵀ from the Schur form, into V (``dgeev``'s layout).

    ``y`` (n,) complex is scratch. Columns come out with unit norm.
    """
    n = T.shape[0]
    k = n - 1
    while k >= 0:
        pair = k > 0 and T[k, k - 1] != 0.0
        first = k - 1 if pair else k
        lam = complex(wr[first], wi[first])
        for i in range(n):
            y[i] = 0.0
        if pair:
            # Null vector of the standard block [[a, b], [c, a]] - λ, λ = a + iω:
            # (1, iω/b), or (−ω/c, i) when |c| > |b|, for accuracy.
            b, c = T[first, k], T[k, first]
            if abs(b) >= abs(c):
                y[first] = 1.0
                y[k] = complex(0.0, wi[first] / b)
            else:
                y[first] = -wi[first] / c
                y[k] = 1j
        else:
            y[k] = 1.0
        # Right-hand sides of the rows above: y[i] = -Σ_j T[i, j] y[j].
        for j in range(first, k + 1):
            for i in range(first):
                y[i] -= T[i, j] * y[j]
        # T is scaled to entries of order 1 (real_eig), so ε max(|λ|, 1) is a
        # perturbation of T within rounding: backward stable, and no overflow.
        smin = _EPS * max(abs(lam.real) + abs(lam.imag), 1.0)
        i = first - 1
        while i >= 0:
            if i > 0 and T[i, i - 1] != 0.0:
                # A 2 × 2 block above: solve for (y[i-1], y[i]) together.
                a11 = T[i - 1, i - 1] - lam
                a12 = T[i - 1, i]
                a21 = T[i, i - 1]
                a22 = T[i, i] - lam
                det = a11 * a22 - a12 * a21
                if abs(det) < smin:
                    det = smin
                r1, r2 = y[i - 1], y[i]
                y[i - 1] = (a22 * r1 - a12 * r2) / det
                y[i] = (a11 * r2 - a21 * r1) / det
                big = max(abs(y[i - 1]), abs(y[i]))
                if big > _BIG:
                    _rescale(y, 0, k, big)
                for j in range(i - 1, i + 1):
                    for r in range(i - 1):
                        y[r] -= T[r, j] * y[j]
                i -= 2
            else:
                piv = T[i, i] - lam
                if abs(piv) < smin:
                    piv = smin
                y[i] = y[i] / piv
                if abs(y[i]) > _BIG:
                    _rescale(y, 0, k, abs(y[i]))
                for r in range(i):
                    y[r] -= T[r, i] * y[i]
                i -= 1
        # v = Z y (y is zero below k), then unit length.
        ss = 0.0
        for r in range(n):
            V[r, first] = 0.0
            if pair:
                V[r, k] = 0.0
        for j in range(k + 1):
            yr, yi = y[j].real, y[j].imag
            for r in range(n):
                V[r, first] += Z[r, j] * yr
                if pair:
                    V[r, k] += Z[r, j] * yi
        for r in range(n):
            ss += V[r, first] * V[r, first]
            if pair:
                ss += V[r, k] * V[r, k]
        f = 1.0 / np.sqrt(ss)
        for r in range(n):
            V[r, first] *= f
            if pair:
                V[r, k] *= f
        k = first - 1


@njit(cache=True)
def real_eig(J, wr, wi, V):
    """Eigenvalues (wr, wi) and right eigenvectors V of the real matrix J, as ``dgeev``.

    Parameters
    ----------
    J : array (n, n), finite (not modified)
    wr, wi : arrays (n,), out
    V : array (n, n), out; column j is the eigenvector of a real eigenvalue j, and
        columns j, j+1 the real and imaginary parts of the eigenvector of
        wr[j] + i wi[j] when wi[j] > 0 (see the module docstring).

    Returns
    -------
    bool
        False if the QR iteration did not converge (V and w are then undefined).
    """
    n = J.shape[0]
    big = 0.0
    for i in range(n):
        for j in range(n):
            big = max(big, abs(J[i, j]))
    if big == 0.0:
        for i in range(n):
            wr[i] = 0.0
            wi[i] = 0.0
            for j in range(n):
                V[i, j] = 1.0 if i == j else 0.0
        return True
    # A power of two near 1/max|J|: scaling by it is exact.
    scale = 2.0 ** -np.ceil(np.log2(big))
    T = np.empty((n, n)).T  # Fortran order: the long loops run down columns
    Z = np.empty((n, n)).T
    vs = np.empty((n, n)).T
    for j in range(n):
        for i in range(n):
            T[i, j] = J[i, j] * scale
    _hessenberg(T, Z, vs, np.empty(n))
    for j in range(n):
        for i in range(j + 2, n):
            T[i, j] = 0.0
    if not _schur(T, Z, wr, wi):
        return False
    _eigenvectors(T, Z, wr, wi, V, np.empty(n, dtype=np.complex128))
    for i in range(n):
        wr[i] /= scale
        wi[i] /= scale
    return True
