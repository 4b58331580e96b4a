r"""Numba kernels: damped Newton with a Levenberg–Marquardt safeguard, one candidate per thread.

Private: these take arrays and scalars, never validate, and are called only by
:func:`neurodyn.analysis.find_fixed_points`. The algorithm is the one written out in
:mod:`neurodyn.analysis._batched` (the NumPy reference and the torch path); any
change here must be mirrored there, and the tests compare the two.

For each candidate, with residual :math:`r(x)` (``F(x) - x`` or ``f(x)``), its
Jacobian :math:`A` and :math:`q = \tfrac12\|r\|^2`:

0. stop at a **known root** :math:`x^*` (one found for the same input in an earlier
   pass, see :func:`neurodyn.analysis.find_fixed_points`) when

   * the last two full steps :math:`\delta_1 > \delta_2` place the candidate's own
     root within ``snap_tol`` of it,
     :math:`\|x - x^*\| + \delta_2^2/(\delta_1 - \delta_2) \le` ``snap_tol``, the
     de-duplication radius, so that de-duplication would merge the two anyway; or
   * x lies in :math:`x^*`'s ball of convergence, :math:`\|x - x^*\| < \rho^* =
     2/(3\beta L)` (see :func:`root_radii`), from which Newton's iteration converges
     to :math:`x^*`; or the tail bound places the candidate's own root within
     :math:`3\rho^*` of :math:`x^*`, where :math:`x^*` is the only root.

   The candidate takes :math:`x^*` and its q. This is checked at the start of every
   iteration and before every chord step;
1. stop as a **root** when :math:`q \le` ``tol_q`` *and* the root is located: with
   no extra factorisation when the last two full steps :math:`\delta_1 > \delta_2`
   bound the remaining error by their geometric tail
   :math:`\delta_2^2/(\delta_1 - \delta_2)` below ``root_xtol`` :math:`(1 + \|x\|)`
   (then take one chord step as a polish);
   otherwise when the Newton step :math:`\delta = -A^{-1}r` (Newton's estimate of
   the distance to the root) is below that (then take that step as a polish); or
   when a Newton step is at rounding level, :math:`\|\delta\| \le`
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
3. otherwise factor A and try the Newton step :math:`\delta = -A^{-1}r`, capped at
   ``max_step``, with Armijo backtracking on q. After a full, uncapped step, take up
   to ``chord_steps`` chord steps :math:`-A^{-1}r(x_k)` with the same factors while
   each is at most ``chord_ratio`` times the step before it and lowers q (the
   Shamanskii method: near a root the error goes from :math:`e_0` to
   :math:`e_0^2` to :math:`e_0^3`... per factorisation, for the price of residuals
   and triangular solves). Once q is below ``tol_q`` they go on until two of them
   locate the root as in 1, so that the root check needs no factorisation;
4. if the Newton step fails (singular A, or no decrease in ``n_backtrack``
   halvings), take Levenberg–Marquardt steps
   :math:`(A^\top A + \mu I)\delta = -A^\top r`, raising :math:`\mu` tenfold until q
   decreases and lowering it tenfold after a success.

An iteration (``n_iter``) is one factorisation of A with its Newton step, line
search, chord steps or LM steps.

Because each thread carries its candidate to the end, converged candidates cost
nothing while stragglers finish: the batch never waits for its slowest member.

The per-candidate functions are compiled without Numba's runtime (``_nrt=False``)
and allocate nothing: the runtime would update an array's reference count, with an
atomic instruction, each time it is passed to a function or sliced: about 570 times
per candidate of the flip-flop benchmark, and on the arrays the threads share that
is a cache line the cores pass back and forth. Without it the search runs 1.2x faster.

Models (``model`` codes) and their residuals, for per-candidate input drive ``c``:

* 0 rate:  :math:`r = s\odot(-x + W\phi(x) + c)`
* 1 Elman: :math:`r = \phi(Wx + c) - x`
* 2 GRU:   :math:`r = (1-z)\odot(n - x)` (PyTorch's gates, ``bias`` = :math:`b_{hh}`)
* 3 LSTM:  :math:`r = [o\odot\tanh c' - h,\; c' - c]`
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._atomic import fetch_add
from ._codes import DIVERGED, MAX_ITER, ROOT, SINGULAR, SLOW, STALLED
from ._eig import _inf_norm
from ._lu import lu_factor, lu_inverse, lu_scratch, lu_solve
from ._tanh import sigmoid, tanh

RATE, ELMAN, GRU, LSTM = 0, 1, 2, 3


@njit(cache=True, _nrt=False, error_model="numpy")
def _phi(code, z, y, dy, vector_tanh=False):
    """y = φ(z), dy = φ'(z) elementwise (codes as in ``PHI_CODES``).

    ``vector_tanh``: tanh from :func:`neurodyn.analysis._tanh.tanh` (within 3 ulp,
    vectorised) instead of the C library's (which the Lyapunov kernel keeps, to
    match its reference bit for bit). One loop per code, so that each can vectorise.
    """
    n = z.shape[0]
    if code == 0 and vector_tanh:
        for i in range(n):
            t = tanh(z[i])
            y[i] = t
            dy[i] = 1.0 - t * t
    elif code == 0:
        for i in range(n):
            t = np.tanh(z[i])
            y[i] = t
            dy[i] = 1.0 - t * t
    elif code == 1:
        for i in range(n):
            v = z[i]
            y[i] = v if v > 0.0 else 0.0
            dy[i] = 1.0 if v > 0.0 else 0.0
    elif code == 2:
        for i in range(n):
            v = z[i]
            y[i] = np.log1p(np.exp(-abs(v))) + max(v, 0.0)
            dy[i] = sigmoid(v)
    else:
        for i in range(n):
            v = z[i]
            t = (tanh(v) if vector_tanh else np.tanh(v)) if v > 0.0 else 0.0
            y[i] = t
            dy[i] = 1.0 - t * t if v > 0.0 else 0.0


#: Reassociation lets LLVM vectorise the dot products (5-7x faster at 64-256 units);
#: it only reorders sums and keeps IEEE semantics for NaN and inf, which the solver's
#: divergence checks rely on.
VECTOR_SUMS = {"reassoc", "contract"}


@njit(cache=True, _nrt=False, fastmath=VECTOR_SUMS)
def _matvec(W, v, out, row0, row1):
    """out[k] = W[row0 + k] · v for k < row1 - row0."""
    n = v.shape[0]
    for i in range(row0, row1):
        s = 0.0
        for j in range(n):
            s += W[i, j] * v[j]
        out[i - row0] = s


@njit(cache=True, _nrt=False, error_model="numpy")
def _forward(model, phi, W, bias, c, x, r, work, scale):
    """Write the residual into r, leaving the intermediates :func:`_jacobian` needs in work.

    Every elementwise loop runs over slices from index 0, with the vectorisable
    :func:`~neurodyn.analysis._tanh.sigmoid` and :func:`~neurodyn.analysis._tanh.tanh`
    and no library calls, so that LLVM turns it into SIMD code. The gates get one loop
    each: LLVM must check at run time that no two arrays of a loop overlap (the slices
    of ``work`` may, as far as it knows), and past a few arrays it does not vectorise
    the loop at all; one loop over all the LSTM's gates stayed scalar.
    """
    d = x.shape[0]
    if model == RATE:
        y, dy, z = work[0, :d], work[1, :d], work[2, :d]
        _phi(phi, x, y, dy, True)
        _matvec(W, y, z, 0, d)
        for i in range(d):
            r[i] = scale[i] * (-x[i] + z[i] + c[i])
    elif model == ELMAN:
        z, y, dy = work[0, :d], work[1, :d], work[2, :d]
        _matvec(W, x, z, 0, d)
        for i in range(d):
            z[i] += c[i]
        _phi(phi, z, y, dy, True)
        for i in range(d):
            r[i] = y[i] - x[i]
    elif model == GRU:
        # Gates r, z, n in PyTorch's order; gh = W_hh x + b_hh, c = W_ih u + b_ih.
        h = d
        gh = work[0, : 3 * h]
        _matvec(W, x, gh, 0, 3 * h)
        for i in range(3 * h):
            gh[i] += bias[i]
        rg, zg, ng = work[1, :h], work[2, :h], work[3, :h]
        gh_r, gh_z, gh_n = gh[:h], gh[h : 2 * h], gh[2 * h :]
        c_r, c_z, c_n = c[:h], c[h : 2 * h], c[2 * h : 3 * h]
        for i in range(h):
            rg[i] = sigmoid(c_r[i] + gh_r[i])
        for i in range(h):
            zg[i] = sigmoid(c_z[i] + gh_z[i])
        for i in range(h):
            ng[i] = tanh(c_n[i] + rg[i] * gh_n[i])
        for i in range(h):
            r[i] = (1.0 - zg[i]) * (ng[i] - x[i])
    else:
        # Gates i, f, g, o in PyTorch's order; g4 = W_hh h + c, c = W_ih u + b_ih + b_hh.
        h = d // 2
        hs, cs = x[:h], x[h:]
        g4 = work[0, : 4 * h]
        _matvec(W, hs, g4, 0, 4 * h)
        for i in range(4 * h):
            g4[i] += c[i]
        ig, fg, gg, og, cn, tc = (
            work[1, :h], work[2, :h], work[3, :h], work[4, :h], work[5, :h], work[6, :h]
        )  # fmt: skip
        g_i, g_f, g_g, g_o = g4[:h], g4[h : 2 * h], g4[2 * h : 3 * h], g4[3 * h :]
        for i in range(h):
            ig[i] = sigmoid(g_i[i])
        for i in range(h):
            fg[i] = sigmoid(g_f[i])
        for i in range(h):
            gg[i] = tanh(g_g[i])
        for i in range(h):
            og[i] = sigmoid(g_o[i])
        for i in range(h):
            cn[i] = fg[i] * cs[i] + ig[i] * gg[i]
        for i in range(h):
            tc[i] = tanh(cn[i])
        r_h, r_c = r[:h], r[h:]
        for i in range(h):
            r_h[i] = og[i] * tc[i] - hs[i]
        for i in range(h):
            r_c[i] = cn[i] - cs[i]


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def _evaluate(model, phi, W, bias, scale, c, x, r, A, work, jac):
    """Write the residual into r and, if ``jac``, its Jacobian into A."""
    _forward(model, phi, W, bias, c, x, r, work, scale)
    if jac:
        _jacobian(model, W, x, A, work, scale)


@njit(cache=True, _nrt=False)
def _rmatvec(A, r, g):
    """g = Aᵀ r, row by row so that the inner loop runs along contiguous memory."""
    d = r.shape[0]
    for j in range(d):
        g[j] = 0.0
    for i in range(d):
        ri = r[i]
        for j in range(d):
            g[j] += A[i, j] * ri


@njit(cache=True, _nrt=False)
def _q(r):
    s = 0.0
    for i in range(r.shape[0]):
        s += r[i] * r[i]
    return 0.5 * s


@njit(cache=True, _nrt=False)
def _norm(v):
    return np.sqrt(2.0 * _q(v))


@njit(cache=True, _nrt=False)
def _maxabs(x):
    m = 0.0
    for i in range(x.shape[0]):
        v = abs(x[i])
        if not v <= m:  # also propagates NaN
            m = v
    return m


@njit(cache=True, _nrt=False)
def _frobenius(A):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * A[i, j]
    return np.sqrt(s)


@njit(cache=True, _nrt=False)
def _copy(src, dst):
    """dst[:] = src, as a loop: slice assignment needs Numba's runtime (NRT)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(cache=True, _nrt=False)
def _gram(A, H):
    """H = AᵀA, accumulated row by row of A (contiguous, so the inner loop vectorises);
    the upper triangle is computed and mirrored."""
    d = A.shape[1]
    for i in range(d):
        for j in range(i, d):
            H[i, j] = 0.0
    for k in range(A.shape[0]):
        for i in range(d):
            a = A[k, i]
            for j in range(i, d):
                H[i, j] += a * A[k, j]
    for i in range(d):
        for j in range(i):
            H[i, j] = H[j, i]


@njit(cache=True, _nrt=False)
def _located(last_full, prev_full, x, root_xtol):
    """Whether two full steps δ₁ = ``prev_full`` > δ₂ = ``last_full`` locate the root at x.

    Their geometric tail δ₂ρ/(1 - ρ) = δ₂²/(δ₁ - δ₂), ρ = δ₂/δ₁, bounds the remaining
    error when the iteration contracts at least that fast from here on, whether it
    converges quadratically, linearly as chord steps do, or linearly at a singular
    root; the root is located when that bound is below ``root_xtol`` (1 + ‖x‖).
    """
    return last_full < prev_full < np.inf and last_full**2 <= root_xtol * (1.0 + _norm(x)) * (
        prev_full - last_full
    )


@njit(cache=True, _nrt=False)
def _known_root(x, q, last_full, prev_full, known, known_group, radii, gate, group, snap_tol):
    """Index of the first known root of ``group`` that the candidate at x has reached, or -1.

    Reached (step 0 of the module docstring), for known root k with ``radii[k]`` =
    (ρ, 3ρ), its balls of convergence and of uniqueness (:func:`root_radii`):
    :math:`\\|x - x_k\\| < \\rho`; or, with the geometric tail δ₂²/(δ₁ - δ₂) of the last
    two full steps δ₁ = ``prev_full`` > δ₂ = ``last_full`` bounding the distance to the
    candidate's own root, that root within ``snap_tol`` of x_k or within 3ρ of it.
    ``gate`` = (q_max, 3ρ_max): a candidate in a ball of convergence has q ≤ q_max,
    and no tail reaches beyond max(``snap_tol``, 3ρ_max); either test failing spares
    the scan over the known roots.
    """
    if known.shape[0] == 0:
        return -1
    tail = np.inf
    if last_full < prev_full < np.inf:
        tail = last_full * last_full / (prev_full - last_full)
    in_gate = q <= gate[0]
    if not (in_gate or tail < max(snap_tol, gate[1])):
        return -1
    r_snap = (snap_tol - tail) ** 2 if tail < snap_tol else -1.0
    d = x.shape[0]
    for k in range(known.shape[0]):
        if known_group[k] != group:
            continue
        r_ball = radii[k, 0] ** 2 if in_gate else 0.0
        r_unique = (radii[k, 1] - tail) ** 2 if tail < radii[k, 1] else 0.0
        reach = max(r_snap, r_ball, r_unique)
        s = 0.0
        for i in range(d):
            t = x[i] - known[k, i]
            s += t * t
            if s > reach:  # most roots are far: one or two coordinates show it
                break
        if s <= r_snap or s < r_ball or s < r_unique:
            return k
    return -1


@njit(cache=True, _nrt=False)
def _polish(model, phi, W, bias, scale, c, x, q, dx, xn, rn, A, work):
    """Move the root x by the step dx if that lowers q; returns the new q."""
    for i in range(x.shape[0]):
        xn[i] = x[i] + dx[i]
    _evaluate(model, phi, W, bias, scale, c, xn, rn, A, work, False)
    qn = _q(rn)
    if qn < q:
        _copy(xn, x)
        return qn
    return q


@njit(cache=True, _nrt=False)
def _solve_one(
    model, phi, W, bias, scale, c, x,
    tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack, lm_tries,
    patience, armijo, chord_steps, chord_ratio, vecs, A, H, lu, piv, ints, work, work2,
    known, known_q, known_group, known_radii, known_gate, group, snap_tol, snapped,
):  # fmt: skip
    """Run the solver on one candidate, updating x in place; return (status, n_iter, q).

    ``snapped[0]`` is set to the index of the known root at which the candidate stops,
    if it does (step 0); it is left alone otherwise.

    ``vecs`` (8, d), ``A`` and ``H`` (d, d), the LU scratch ``lu``, ``piv``, ``ints``
    and the two ``work`` buffers are scratch, allocated once per thread by
    :func:`solve_batch`: compiled without Numba's runtime (see the module docstring),
    this function and those it calls allocate nothing.

    ``known`` (K, d) holds known roots with their ``known_q``, input group
    ``known_group`` and ``known_radii``, with ``known_gate`` (see :func:`_known_root`);
    ``group`` is the candidate's (step 0).
    """
    d = x.shape[0]
    r, rn, g, dx, xn, neg, rc, xc = (
        vecs[0], vecs[1], vecs[2], vecs[3], vecs[4], vecs[5], vecs[6], vecs[7]
    )  # fmt: skip
    _evaluate(model, phi, W, bias, scale, c, x, r, A, work, True)
    q = _q(r)
    mu = -1.0
    mu_floor = 0.0
    stall = 0
    it = 0
    newton_failed = False
    factored = False  # lu holds the factors of A at the current x
    singular = False  # ... or A at the current x was found singular
    last_full = np.inf  # length of the last step if it was a full, uncapped (chord) step
    prev_full = np.inf  # ... and of the step before it
    while True:
        if not np.isfinite(q) or not _maxabs(x) <= x_max:
            return DIVERGED, it, q
        j = _known_root(
            x, q, last_full, prev_full, known, known_group, known_radii, known_gate, group,
            snap_tol,
        )  # fmt: skip
        if j >= 0:
            _copy(known[j], x)
            snapped[0] = j
            return ROOT, it, known_q[j]
        for i in range(d):
            neg[i] = -r[i]
        small = q <= tol_q
        if small:
            # Accept only a located root: the Newton step, Newton's own estimate of the
            # distance to the root, must be small too. Where the Jacobian is (nearly)
            # singular, a tiny q says nothing about position: saturated gates make
            # q vanish far from any root, and such points must not count as roots.
            # Two full steps in a row (Newton or chord) that locate it (_located)
            # spare another factorisation.
            # Either way the root is polished with the step dx = -A⁻¹r, which costs
            # one solve and usually squares the residual.
            if _located(last_full, prev_full, x, root_xtol):
                # Full steps imply that lu still holds the factors of the last Newton
                # step: the polish is a chord step and costs no factorisation.
                if lu_solve(lu, piv, ints, neg, dx):
                    q = _polish(model, phi, W, bias, scale, c, x, q, dx, xn, rn, A, work)
                return ROOT, it, q
            factored = lu_factor(A, lu, piv, ints)
            singular = not factored
            if (
                factored
                and lu_solve(lu, piv, ints, neg, dx)
                and _norm(dx) <= root_xtol * (1.0 + _norm(x))
            ):
                q = _polish(model, phi, W, bias, scale, c, x, q, dx, xn, rn, A, work)
                return ROOT, it, q
        if it >= max_iter:
            return (SINGULAR if small else MAX_ITER), it, q
        _rmatvec(A, r, g)
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
        if not (factored or singular):
            factored = lu_factor(A, lu, piv, ints)
        newton_failed = not (factored and lu_solve(lu, piv, ints, neg, dx))
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
            # Chord steps: after a full Newton step, reuse the factors of A for steps
            # -A⁻¹r(x) at the new points while each contracts by chord_ratio. Near a
            # root each costs a residual and two triangular solves instead of a
            # factorisation, and the error falls from e to about e·e₀ (e₀ the error
            # where A was factored): the pair converges with order 3 per factorisation.
            if accepted and last_full < np.inf:
                for _ in range(chord_steps):
                    # A candidate that has reached a known root stops at once (step 0).
                    j = _known_root(
                        xn, qn, last_full, prev_full, known, known_group, known_radii,
                        known_gate, group, snap_tol,
                    )  # fmt: skip
                    if j >= 0:
                        _copy(known[j], x)
                        snapped[0] = j
                        return ROOT, it, known_q[j]
                    # Past tol_q, chord steps go on until they locate the root: one
                    # more triangular solve spares the root check a factorisation.
                    if qn <= tol_q and _located(last_full, prev_full, xn, root_xtol):
                        break
                    for i in range(d):
                        neg[i] = -rn[i]
                    if not lu_solve(lu, piv, ints, neg, dx):
                        break
                    cnorm = _norm(dx)
                    if not cnorm <= chord_ratio * last_full:
                        break
                    for i in range(d):
                        xc[i] = xn[i] + dx[i]
                    _evaluate(model, phi, W, bias, scale, c, xc, rc, A, work2, False)
                    qc = _q(rc)
                    if not (np.isfinite(qc) and qc < qn):
                        break
                    # work2 holds the intermediates at the accepted point: swap roles.
                    xn, xc = xc, xn
                    rn, rc = rc, rn
                    work, work2 = work2, work
                    qn = qc
                    prev_full = last_full
                    last_full = cnorm
        if not accepted:
            factored = False  # the LM solves below reuse the LU buffers
            _gram(A, H)
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
                ok = lu_factor(H, lu, piv, ints) and lu_solve(lu, piv, ints, neg, dx)
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
            _copy(xn, x)
            _copy(rn, r)
            _jacobian(model, W, x, A, work, scale)
            q = qn
            factored = False
            singular = False
        else:
            stall = patience


#: Candidates per block of :func:`solve_batch`, the unit the threads take from their
#: shared counter: small enough for the threads to balance their load.
BLOCK = 16


@njit(parallel=True, cache=True)
def solve_batch(
    model, phi, W, bias, scale, C, X,
    tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack, lm_tries,
    patience, armijo, chord_steps, chord_ratio, Q, n_iter, status, root,
    known, known_q, known_group, known_radii, known_gate, group, snap_tol, n_threads,
):  # fmt: skip
    """Solve every candidate (rows of X, updated in place) on ``n_threads`` threads.

    Writes each candidate's q, iteration count and status to ``Q``, ``n_iter`` and
    ``status``, and to ``root`` the index of the known root it stopped at (-1 if none).

    ``group`` (n,): each candidate's input group, numbered from 0; ``C`` (G, ·): the
    prepared input of each group (candidate k has input ``C[group[k]]``).
    ``known`` (K, d), ``known_q`` (K,), ``known_group`` (K,): roots found in an earlier
    pass and their input groups (K = 0 for none); ``known_radii`` (K, 2) and
    ``known_gate`` (2,): their balls of convergence and uniqueness
    (:func:`root_radii`); ``snap_tol``: the de-duplication radius (step 0 of the
    module docstring). ``n_threads``: ``numba.get_num_threads()`` of the caller (read
    inside, it would keep the kernel from being cached).
    """
    n, d = X.shape
    n_blocks = (n + BLOCK - 1) // BLOCK
    # The threads take blocks from a shared counter (see _atomic): one held up by
    # another process leaves its blocks to the others instead of a fixed share.
    taken = np.zeros(1, dtype=np.int64)
    for _ in prange(min(n_threads, n_blocks)):
        lu, piv, ints = lu_scratch(d)
        work = np.empty((7, max(W.shape[0], d)))
        scratch = (
            np.empty((8, d)), np.empty((d, d)), np.empty((d, d)), lu, piv, ints, work,
            np.empty_like(work), np.empty(1, dtype=np.int64), np.empty(d), np.empty(C.shape[1]),
        )  # fmt: skip
        _take_blocks(
            taken, model, phi, W, bias, scale, C, X,
            tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max,
            n_backtrack, lm_tries, patience, armijo, chord_steps, chord_ratio, Q, n_iter,
            status, root, known, known_q, known_group, known_radii, known_gate, group,
            snap_tol, scratch,
        )  # fmt: skip


@njit(cache=True, _nrt=False)
def _take_blocks(
    taken, model, phi, W, bias, scale, C, X,
    tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max, n_backtrack, lm_tries,
    patience, armijo, chord_steps, chord_ratio, Q, n_iter, status, root,
    known, known_q, known_group, known_radii, known_gate, group, snap_tol, scratch,
):  # fmt: skip
    """One thread of :func:`solve_batch`: solve blocks of candidates until ``taken``
    runs out, with this thread's ``scratch`` buffers.

    Compiled without Numba's runtime, like the functions it calls (see the module
    docstring). Each candidate and its input are copied to and from the thread's own
    buffers ``x`` and ``c`` rather than passed as views of X and C.
    """
    vecs, A, H, lu, piv, ints, work, work2, snapped, x, c = scratch
    n, d = X.shape
    n_blocks = (n + BLOCK - 1) // BLOCK
    g_in = -1
    while True:
        b = fetch_add(taken, 1)
        if b >= n_blocks:
            return
        for k in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            if group[k] != g_in:
                g_in = group[k]
                for i in range(c.shape[0]):
                    c[i] = C[g_in, i]
            for i in range(d):
                x[i] = X[k, i]
            snapped[0] = -1
            st, it, q = _solve_one(
                model, phi, W, bias, scale, c, x,
                tol_q, xtol, root_xtol, gtol, gtol_stall, length, max_iter, max_step, x_max,
                n_backtrack, lm_tries, patience, armijo, chord_steps, chord_ratio, vecs, A, H,
                lu, piv, ints, work, work2, known, known_q, known_group, known_radii,
                known_gate, g_in, snap_tol, snapped,
            )  # fmt: skip
            for i in range(d):
                X[k, i] = x[i]
            status[k] = st
            root[k] = snapped[0]
            n_iter[k] = it
            Q[k] = q


#: Largest |φ''| of each nonlinearity code (tanh, relu, softplus, rectified tanh):
#: tanh'' = -2 tanh (1 - tanh²) peaks at tanh = ±1/√3; softplus'' = σ(1 - σ) ≤ 1/4.
#: relu and the rectified tanh have a kink, so their Jacobians are not Lipschitz.
PHI_CURVATURE = (4.0 / (3.0 * np.sqrt(3.0)), np.inf, 0.25, np.inf)


def jacobian_lipschitz(model, phi, W, scale) -> float:
    r"""A Lipschitz constant L of the residual's Jacobian: :math:`\|A(x) - A(y)\|_2 \le L\|x - y\|_2`.

    With :math:`c = \sup|\phi''|` (``PHI_CURVATURE``):

    * rate, :math:`A(x) = \mathrm{diag}(s)(W\,\mathrm{diag}\,\phi'(x) - I)`:
      :math:`A(x) - A(y) = \mathrm{diag}(s)\,W\,\mathrm{diag}(\phi'(x) - \phi'(y))`, so
      :math:`L = c\,\max|s|\,\|W\|_2`;
    * Elman, :math:`A(x) = \mathrm{diag}\,\phi'(Wx + c)\,W - I`: the diagonal changes by at
      most :math:`c\,\max_i |W_i (x - y)| \le c \max_i\|W_i\|_2 \|x - y\|_2`, so
      :math:`L = c\,\|W\|_2 \max_i \|W_i\|_2`;
    * GRU and LSTM: inf (no bound is derived; their candidates use the tail test only).

    inf also for the nonlinearities with a kink. :math:`\|W\|_2` is bounded from
    above by :func:`spectral_norm_bound`.
    """
    c = PHI_CURVATURE[phi]
    if model not in (RATE, ELMAN) or not np.isfinite(c):
        return np.inf
    w2 = spectral_norm_bound(np.ascontiguousarray(W, dtype=np.float64))
    if model == RATE:
        return c * float(np.max(np.abs(scale))) * w2
    return c * w2 * float(np.max(np.linalg.norm(W, axis=1)))


@njit(cache=True)
def spectral_norm_bound(W):
    r"""An upper bound on :math:`\|W\|_2`, at most :math:`d^{1/32}` times too large
    (1.09 at d = 16, 1.19 at d = 256), for a fraction of an SVD's cost.

    :math:`G = W^\top W` is symmetric positive semidefinite with largest eigenvalue
    :math:`\lambda = \|W\|_2^2`, so for every power m,
    :math:`\lambda^m = \|G^m\|_2 \le \|G^m\|_\infty \le \sqrt d\,\lambda^m`.
    Here m = 8, by three squarings of :math:`G/\|G\|_\infty` (no overflow), and the
    result is raised by a relative 1e-10, far above the products' rounding errors.
    """
    G = W.T @ W
    s = _inf_norm(G)
    if s == 0.0 or not np.isfinite(s):
        return s
    H = G / s
    for _ in range(3):
        H = H @ H
    return np.sqrt(s * _inf_norm(H) ** 0.125) * (1.0 + 1e-10)


@njit(parallel=True, cache=True)
def root_radii(model, phi, W, bias, scale, C, X, lip, radii, gate, n_threads):
    r"""Balls of convergence and of uniqueness around roots X (K, d), for :func:`_known_root`.

    With :math:`\beta \ge \|A(x^*)^{-1}\|_2` and L (finite) the Jacobian's Lipschitz
    constant (:func:`jacobian_lipschitz`), the classical local theory of Newton's method gives:

    * from any x with :math:`\|x - x^*\| < \rho = 2/(3\beta L)`, Newton's iteration
      converges to :math:`x^*`: its error e obeys
      :math:`\|e_+\| \le \tfrac{\beta L\|e\|^2}{2(1 - \beta L\|e\|)} < \|e\|`;
    * :math:`x^*` is the only root within :math:`3\rho = 2/(\beta L)`: for a root y,
      :math:`0 = r(y) - r(x^*) = (A^* + E)(y - x^*)` with :math:`\|E\| \le
      L\|y - x^*\|/2`, and :math:`A^* + E` is invertible while
      :math:`\beta L\|y - x^*\|/2 < 1`.

    β is :math:`\sqrt{\|A^{-1}\|_1\|A^{-1}\|_\infty} \ge \|A^{-1}\|_2`, from the
    explicit inverse. Writes ``radii[k] = (ρ, 3ρ)`` (zeros where A is singular or L is
    inf) and ``gate = (q_max, 3ρ_max)``: in a ball of convergence
    :math:`\|r(x)\| \le \|r(x^*)\| + \|A^*\|_F\,\rho + L\rho^2/2` (Taylor with a
    Lipschitz Jacobian), so :math:`q \le q_{max}`, half the largest square of that bound.
    The roots are shared among ``n_threads`` threads as in :func:`solve_batch`.
    """
    K, d = X.shape
    bound = np.zeros(K)
    radii[:] = 0.0
    taken = np.zeros(1, dtype=np.int64)  # roots taken one at a time (see solve_batch)
    for _ in prange(min(n_threads, K)):
        r = np.empty(d)
        A = np.empty((d, d))
        Ainv = np.empty((d, d))
        work = np.empty((7, max(W.shape[0], d)))
        while True:
            k = fetch_add(taken, 1)
            if k >= K:
                break
            _evaluate(model, phi, W, bias, scale, C[k], X[k], r, A, work, True)
            if not lu_inverse(A, Ainv):
                continue
            if lip == 0.0:  # a constant Jacobian: an affine residual, whose root is unique
                radii[k, 0] = np.inf
                radii[k, 1] = np.inf
                bound[k] = np.inf
                continue
            beta = np.sqrt(_inf_norm(Ainv.T) * _inf_norm(Ainv))  # ‖A⁻¹‖₁ ‖A⁻¹‖∞
            rho = 2.0 / (3.0 * beta * lip)
            radii[k, 0] = rho
            radii[k, 1] = 3.0 * rho
            bound[k] = _norm(r) + _frobenius(A) * rho + 0.5 * lip * rho * rho
    gate[0] = 0.0
    gate[1] = 0.0
    for k in range(K):
        gate[0] = max(gate[0], 0.5 * bound[k] * bound[k])
        gate[1] = max(gate[1], radii[k, 1])


@njit(parallel=True, cache=True)
def evaluate_batch(model, phi, W, bias, scale, C, X, R, A):
    """Residuals R (n, d) and Jacobians A (n, d, d) of many states (used by the tests)."""
    d = X.shape[1]
    for k in prange(X.shape[0]):
        work = np.empty((7, max(W.shape[0], d)))
        _evaluate(model, phi, W, bias, scale, C[k], X[k], R[k], A[k], work, True)
