r"""Numba kernels: damped Newton with a Levenberg–Marquardt safeguard, one candidate per thread.

Private: these take arrays and scalars, never validate, and are called only by
:func:`neurodyn.analysis.find_fixed_points`. The algorithm is the one written out in
:mod:`neurodyn.analysis._batched` (the NumPy reference and the torch path); any
change here must be mirrored there, and the tests compare the two.

For each candidate, with residual :math:`r(x)` (``F(x) - x`` or ``f(x)``), its
Jacobian :math:`A` and :math:`q = \tfrac12\|r\|^2`:

1. stop as a **root** when :math:`q \le` ``tol_q`` *and* the Newton step
   :math:`\delta = -A^{-1}r` (Newton's estimate of the distance to the root) is
   below ``root_xtol`` :math:`(1 + \|x\|)` (then take that step as a polish) or, with
   no extra factorisation, when the last two full Newton steps :math:`\delta_1, \delta_2`
   estimate the remaining error :math:`\delta_2^2/\delta_1` below that, or
   when the Newton step is at rounding level, :math:`\|\delta\| \le`
   ``xtol`` :math:`(1 + \|x\|)`. A tiny q with a large Newton step happens where the
   Jacobian is nearly singular, e.g. where saturated gates flatten the residual far
   from any root; such a candidate keeps iterating and, if it never locates a root,
   fails as ``singular``;
2. stop as a **slow point** at a stationary point of q with q > 0: when the
   first-order decrease of q over a move of one state scale L (``length``) is a
   negligible fraction of q, :math:`\|A^\top r\|\,L \le` ``gtol`` :math:`\|r\|^2`, or
   ``gtol_stall`` once progress has stalled (q falling by less than one part in
   :math:`10^6` per iteration for ``patience`` iterations). Normalising by
   :math:`\|A\|` instead would fail: at a slow point A itself is singular;
3. otherwise try the Newton step :math:`\delta = -A^{-1}r`, capped at ``max_step``,
   with Armijo backtracking on q;
4. if that fails (singular A, or no decrease in ``n_backtrack`` halvings), take
   Levenberg–Marquardt steps :math:`(A^\top A + \mu I)\delta = -A^\top r`, raising
   :math:`\mu` tenfold until q decreases and lowering it tenfold after a success.

Because each thread carries its candidate to the end, converged candidates cost
nothing while stragglers finish: the batch never waits for its slowest member.

Models (``model`` codes) and their residuals, for per-candidate input drive ``c``:

* 0 rate:  :math:`r = s\odot(-x + W\phi(x) + c)`
* 1 Elman: :math:`r = \phi(Wx + c) - x`
* 2 GRU:   :math:`r = (1-z)\odot(n - x)` (PyTorch's gates, ``bias`` = :math:`b_{hh}`)
* 3 LSTM:  :math:`r = [o\odot\tanh c' - h,\; c' - c]`
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._codes import DIVERGED, MAX_ITER, ROOT, SINGULAR, SLOW, STALLED

RATE, ELMAN, GRU, LSTM = 0, 1, 2, 3


@njit(cache=True)
def _sigmoid(v):
    if v >= 0:
        return 1.0 / (1.0 + np.exp(-v))
    e = np.exp(v)
    return e / (1.0 + e)


@njit(cache=True)
def _phi(code, z, y, dy):
    """y = φ(z), dy = φ'(z) elementwise (codes as in ``PHI_CODES``)."""
    for i in range(z.shape[0]):
        v = z[i]
        if code == 0:
            t = np.tanh(v)
            y[i] = t
            dy[i] = 1.0 - t * t
        elif code == 1:
            y[i] = v if v > 0.0 else 0.0
            dy[i] = 1.0 if v > 0.0 else 0.0
        elif code == 2:
            y[i] = np.log1p(np.exp(-abs(v))) + max(v, 0.0)
            dy[i] = _sigmoid(v)
        else:
            if v > 0.0:
                t = np.tanh(v)
                y[i] = t
                dy[i] = 1.0 - t * t
            else:
                y[i] = 0.0
                dy[i] = 0.0


@njit(cache=True)
def _matvec(W, v, out, row0, row1):
    """out[k] = W[row0 + k] · v for k < row1 - row0."""
    n = v.shape[0]
    for i in range(row0, row1):
        s = 0.0
        for j in range(n):
            s += W[i, j] * v[j]
        out[i - row0] = s


@njit(cache=True)
def _forward(model, phi, W, bias, c, x, r, work, scale):
    """Write the residual into r, leaving the intermediates :func:`_jacobian` needs in work."""
    d = x.shape[0]
    if model == RATE:
        y, dy, z = work[0, :d], work[1, :d], work[2, :d]
        _phi(phi, x, y, dy)
        _matvec(W, y, z, 0, d)
        for i in range(d):
            r[i] = scale[i] * (-x[i] + z[i] + c[i])
    elif model == ELMAN:
        z, y, dy = work[0, :d], work[1, :d], work[2, :d]
        _matvec(W, x, z, 0, d)
        for i in range(d):
            z[i] += c[i]
        _phi(phi, z, y, dy)
        for i in range(d):
            r[i] = y[i] - x[i]
    elif model == GRU:
        h = d
        gh = work[0, : 3 * h]
        _matvec(W, x, gh, 0, 3 * h)
        rg, zg, ng = work[1, :h], work[2, :h], work[3, :h]
        for i in range(h):
            gh[i] += bias[i]
            gh[h + i] += bias[h + i]
            gh[2 * h + i] += bias[2 * h + i]
            rg[i] = _sigmoid(c[i] + gh[i])
            zg[i] = _sigmoid(c[h + i] + gh[h + i])
            ng[i] = np.tanh(c[2 * h + i] + rg[i] * gh[2 * h + i])
            r[i] = (1.0 - zg[i]) * (ng[i] - x[i])
    else:
        h = d // 2
        g4 = work[0, : 4 * h]
        _matvec(W, x[:h], g4, 0, 4 * h)
        ig, fg, gg, og, cn, tc = (
            work[1, :h], work[2, :h], work[3, :h], work[4, :h], work[5, :h], work[6, :h]
        )  # fmt: skip
        for i in range(h):
            ig[i] = _sigmoid(g4[i] + c[i])
            fg[i] = _sigmoid(g4[h + i] + c[h + i])
            gg[i] = np.tanh(g4[2 * h + i] + c[2 * h + i])
            og[i] = _sigmoid(g4[3 * h + i] + c[3 * h + i])
            cn[i] = fg[i] * x[h + i] + ig[i] * gg[i]
            tc[i] = np.tanh(cn[i])
            r[i] = og[i] * tc[i] - x[i]
            r[h + i] = cn[i] - x[h + i]


@njit(cache=True)
def _jacobian(model, W, x, A, work, scale):
    """The residual's Jacobian A at x from the intermediates :func:`_forward` left in work.

    Splitting the two saves a second forward pass: the solver evaluates the residual
    at a trial point and, when it accepts the point, needs the Jacobian there too.
    """
    d = x.shape[0]
    if model == RATE:
        dy = work[1, :d]
        for i in range(d):
            for j in range(d):
                A[i, j] = scale[i] * W[i, j] * dy[j]
            A[i, i] -= scale[i]
    elif model == ELMAN:
        dy = work[2, :d]
        for i in range(d):
            for j in range(d):
                A[i, j] = dy[i] * W[i, j]
            A[i, i] -= 1.0
    elif model == GRU:
        h = d
        gh, rg, zg, ng = work[0, : 3 * h], work[1, :h], work[2, :h], work[3, :h]
        for i in range(h):
            dn = (1.0 - zg[i]) * (1.0 - ng[i] * ng[i])
            dr = rg[i] * (1.0 - rg[i]) * gh[2 * h + i]
            dz = (x[i] - ng[i]) * zg[i] * (1.0 - zg[i])
            for j in range(h):
                A[i, j] = dn * (rg[i] * W[2 * h + i, j] + dr * W[i, j]) + dz * W[h + i, j]
            A[i, i] += zg[i] - 1.0
    else:
        h = d // 2
        ig, fg, gg, og, tc = work[1, :h], work[2, :h], work[3, :h], work[4, :h], work[6, :h]
        for i in range(h):
            a_f = x[h + i] * fg[i] * (1.0 - fg[i])
            a_i = gg[i] * ig[i] * (1.0 - ig[i])
            a_g = ig[i] * (1.0 - gg[i] * gg[i])
            a_o = tc[i] * og[i] * (1.0 - og[i])
            k = og[i] * (1.0 - tc[i] * tc[i])
            for j in range(h):
                dc = a_f * W[h + i, j] + a_i * W[i, j] + a_g * W[2 * h + i, j]
                A[h + i, j] = dc
                A[i, j] = a_o * W[3 * h + i, j] + k * dc
                A[i, h + j] = 0.0
                A[h + i, h + j] = 0.0
            A[i, h + i] = k * fg[i]
            A[h + i, h + i] = fg[i]
        for i in range(d):
            A[i, i] -= 1.0


@njit(cache=True)
def _evaluate(model, phi, W, bias, scale, c, x, r, A, work, jac):
    """Write the residual into r and, if ``jac``, its Jacobian into A."""
    _forward(model, phi, W, bias, c, x, r, work, scale)
    if jac:
        _jacobian(model, W, x, A, work, scale)


@njit(cache=True)
def _q(r):
    s = 0.0
    for i in range(r.shape[0]):
        s += r[i] * r[i]
    return 0.5 * s


@njit(cache=True)
def _norm(v):
    return np.sqrt(2.0 * _q(v))


#: Below this size a hand-written LU (no allocation) beats the LAPACK call, whose
#: copies and call overhead dominate for small matrices; above it LAPACK's blocked
#: LU is several times faster.
SMALL = 32


@njit(cache=True)
def _solve_small(M, b, out, lu):
    """out = M⁻¹ b by LU with partial pivoting in the buffer ``lu``; False if singular."""
    d = b.shape[0]
    for i in range(d):
        out[i] = b[i]
        for j in range(d):
            lu[i, j] = M[i, j]
    for k in range(d):
        p = k
        big = abs(lu[k, k])
        for i in range(k + 1, d):
            if abs(lu[i, k]) > big:
                big = abs(lu[i, k])
                p = i
        if big == 0.0 or not np.isfinite(big):
            return False
        if p != k:
            for j in range(d):
                t = lu[k, j]
                lu[k, j] = lu[p, j]
                lu[p, j] = t
            t = out[k]
            out[k] = out[p]
            out[p] = t
        inv = 1.0 / lu[k, k]
        for i in range(k + 1, d):
            f = lu[i, k] * inv
            if f != 0.0:
                for j in range(k + 1, d):
                    lu[i, j] -= f * lu[k, j]
                out[i] -= f * out[k]
    for i in range(d - 1, -1, -1):
        s = out[i]
        for j in range(i + 1, d):
            s -= lu[i, j] * out[j]
        out[i] = s / lu[i, i]
    for i in range(d):  # noqa: SIM110 - a loop, not a generator, inside Numba
        if not np.isfinite(out[i]):
            return False
    return True


@njit(cache=True)
def _solve_lapack(M, b, out):
    try:
        sol = np.linalg.solve(M, b)
    except Exception:  # LinAlgError for a zero pivot, ValueError for non-finite entries
        return False
    for i in range(sol.shape[0]):
        if not np.isfinite(sol[i]):
            return False
    out[:] = sol
    return True


@njit(cache=True)
def _solve(M, b, out, lu):
    """out = M⁻¹ b; False (out then undefined) if M is singular or the result not finite."""
    if b.shape[0] <= SMALL:
        return _solve_small(M, b, out, lu)
    return _solve_lapack(M, b, out)


@njit(cache=True)
def _maxabs(x):
    m = 0.0
    for i in range(x.shape[0]):
        v = abs(x[i])
        if not v <= m:  # also propagates NaN
            m = v
    return m


@njit(cache=True)
def _frobenius(A):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * A[i, j]
    return np.sqrt(s)


@njit(cache=True)
def _solve_one(
    model, phi, W, bias, scale, c, x,
    tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack, lm_tries,
    patience, armijo, vecs, A, lu, work,
):  # fmt: skip
    """Run the solver on one candidate, updating x in place; return (status, n_iter, q).

    ``vecs`` (6, d), ``A`` (d, d), ``lu`` and ``work`` are scratch buffers, allocated
    once per block of candidates by :func:`solve_batch`.
    """
    d = x.shape[0]
    r, rn, g, dx, xn, neg = vecs[0], vecs[1], vecs[2], vecs[3], vecs[4], vecs[5]
    _evaluate(model, phi, W, bias, scale, c, x, r, A, work, True)
    q = _q(r)
    mu = -1.0
    mu_floor = 0.0
    stall = 0
    it = 0
    newton_failed = False
    last_full = np.inf  # length of the last step if it was a full, uncapped Newton step
    prev_full = np.inf  # ... and of the step before it
    while True:
        if not np.isfinite(q) or not _maxabs(x) <= x_max:
            return DIVERGED, it, q
        small = q <= tol_q
        if small:
            # Accept only a located root: the Newton step, Newton's own estimate of the
            # distance to the root, must be small too. Where the Jacobian is (nearly)
            # singular, a tiny q says nothing about position: saturated gates make
            # q vanish far from any root, and such points must not count as roots.
            # Two full Newton steps δ₁, δ₂ in a row estimate the remaining error as
            # δ₂²/δ₁ (δ₂·ρ for a contraction ratio ρ = δ₂/δ₁, whether convergence is
            # quadratic or, at a singular root, linear): when that is below root_xtol
            # the root is located without another factorisation.
            if prev_full < np.inf and last_full**2 <= root_xtol * (1.0 + _norm(x)) * prev_full:
                return ROOT, it, q
            for i in range(d):
                neg[i] = -r[i]
            if _solve(A, neg, dx, lu) and _norm(dx) <= root_xtol * (1.0 + _norm(x)):
                # Polish: one more step costs one solve and usually squares the residual.
                for i in range(d):
                    xn[i] = x[i] + dx[i]
                _evaluate(model, phi, W, bias, scale, c, xn, rn, A, work, False)
                qn = _q(rn)
                if qn < q:
                    x[:] = xn
                    q = qn
                return ROOT, it, q
        if it >= max_iter:
            return (SINGULAR if small else MAX_ITER), it, q
        for j in range(d):
            s = 0.0
            for i in range(d):
                s += A[i, j] * r[i]
            g[j] = s
        # First-order decrease of q over a move of one state scale, relative to q.
        rel_grad = _norm(g) * length / (2.0 * q) if q > 0.0 else 0.0
        if rel_grad <= gtol:
            return (SLOW if _frobenius(A) > 0.0 and not small else SINGULAR), it, q
        if stall >= patience:
            if small:
                return SINGULAR, it, q
            if rel_grad <= gtol_stall:
                return SLOW, it, q
            return (SINGULAR if newton_failed else STALLED), it, q
        it += 1
        accepted = False
        qn = q
        for i in range(d):
            neg[i] = -r[i]
        newton_failed = not _solve(A, neg, dx, lu)
        if not newton_failed:
            dnorm = _norm(dx)
            if dnorm <= xtol * (1.0 + _norm(x)):
                for i in range(d):
                    x[i] += dx[i]
                _evaluate(model, phi, W, bias, scale, c, x, r, A, work, False)
                return ROOT, it, _q(r)
            capped = dnorm > max_step
            if capped:
                for i in range(d):
                    dx[i] *= max_step / dnorm
            slope = 0.0
            for i in range(d):
                slope += g[i] * dx[i]
            t = 1.0
            for _ in range(n_backtrack):
                for i in range(d):
                    xn[i] = x[i] + t * dx[i]
                _evaluate(model, phi, W, bias, scale, c, xn, rn, A, work, False)
                qn = _q(rn)
                if np.isfinite(qn) and qn <= q + armijo * t * slope:
                    accepted = True
                    full = t == 1.0 and not capped
                    prev_full = last_full if full else np.inf
                    last_full = dnorm if full else np.inf
                    break
                t *= 0.5
        if not accepted:
            H = A.T @ A
            if mu < 0.0:
                hmax = 0.0
                for i in range(d):
                    hmax = max(hmax, H[i, i])
                hmax = max(hmax, 1e-300)
                mu = 1e-3 * hmax
                mu_floor = 1e-12 * hmax
            for _ in range(lm_tries):
                for i in range(d):
                    H[i, i] += mu
                    neg[i] = -g[i]
                ok = _solve(H, neg, dx, lu)
                for i in range(d):
                    H[i, i] -= mu
                if ok:
                    dnorm = _norm(dx)
                    if dnorm > max_step:
                        for i in range(d):
                            dx[i] *= max_step / dnorm
                    for i in range(d):
                        xn[i] = x[i] + dx[i]
                    _evaluate(model, phi, W, bias, scale, c, xn, rn, A, work, False)
                    qn = _q(rn)
                    if np.isfinite(qn) and qn < q:
                        accepted = True
                        last_full = np.inf
                        prev_full = np.inf
                        mu = max(0.1 * mu, mu_floor)
                        break
                mu *= 10.0
        if accepted:
            # Progress below one part in 10⁶ counts towards a stall.
            stall = stall + 1 if qn > q * (1.0 - 1e-6) else 0
            # The last evaluation was at the accepted point: its residual and the
            # intermediates in work give the Jacobian without another forward pass.
            x[:] = xn
            r[:] = rn
            _jacobian(model, W, x, A, work, scale)
            q = qn
        else:
            stall = patience


#: Candidates per block of :func:`solve_batch`: each block allocates its scratch
#: buffers once; blocks are small enough for the threads to balance their load.
BLOCK = 16


@njit(parallel=True, cache=True)
def solve_batch(
    model, phi, W, bias, scale, C, X,
    tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack, lm_tries,
    patience, armijo, Q, n_iter, status,
):  # fmt: skip
    """Solve every candidate (rows of X, updated in place) in parallel."""
    n, d = X.shape
    for b in prange((n + BLOCK - 1) // BLOCK):
        vecs = np.empty((6, d))
        A = np.empty((d, d))
        lu = np.empty((d, d)) if d <= SMALL else np.empty((1, 1))
        work = np.empty((7, max(W.shape[0], d)))
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            st, it, q = _solve_one(
                model, phi, W, bias, scale, C[k], X[k],
                tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack,
                lm_tries, patience, armijo, vecs, A, lu, work,
            )  # fmt: skip
            status[k] = st
            n_iter[k] = it
            Q[k] = q


@njit(parallel=True, cache=True)
def evaluate_batch(model, phi, W, bias, scale, C, X, R, A):
    """Residuals R (n, d) and Jacobians A (n, d, d) of many states (for tests and linearization)."""
    d = X.shape[1]
    for k in prange(X.shape[0]):
        work = np.empty((7, max(W.shape[0], d)))
        _evaluate(model, phi, W, bias, scale, C[k], X[k], R[k], A[k], work, True)
