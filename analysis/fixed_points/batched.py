"""The batched solver: the NumPy reference and the torch (GPU) path of the Newton/LM method.

One implementation serves both array libraries through the ``ops`` namespaces of
:mod:`neurodyn.dynamics.ops`. It makes, candidate by candidate, exactly the
decisions of the compiled kernel (``Solver::solve`` in ``csrc/cpu/newton_cpu.cpp``; see
:mod:`neurodyn.analysis.fixed_points.kernel` for the algorithm), but vectorised: every iteration works on the candidates
still running, so converged candidates drop out of the batch (masking) and the
work per iteration shrinks as the batch converges. It needs nothing from a model
but the protocol's ``_residual`` and ``_residual_jacobian``, so it also serves every
dynamics without a compiled kernel (user functions, autograd cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outcomes import DIVERGED, LEFT_STATE_SET, MAX_ITER, ROOT, RUNNING, SINGULAR, SLOW, STALLED

__all__ = ["KnownRoots", "SolverOptions", "solve_batched"]


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings of the Newton/LM solver (see :mod:`neurodyn.analysis.fixed_points.kernel`).

    Attributes
    ----------
    tol_q : float
        Root when q ≤ tol_q (and the Newton step is below ``root_xtol``).
    xtol : float
        Root when the Newton step is below ``xtol`` (1 + ‖x‖): rounding level.
    root_xtol : float
        How small (relative to 1 + ‖x‖) the Newton step must be to accept q ≤ tol_q.
    gtol, gtol_stall : float
        Slow point when the first-order decrease of q over a move of ``length`` is below
        this fraction of q (``gtol_stall`` once progress has stalled).
    length : float
        The state scale L of that test.
    max_iter : int
        Iterations per candidate.
    max_step : float
        Longest step (state units).
    x_max : float
        A candidate with a coordinate beyond this has diverged.
    n_backtrack, lm_tries : int
        Step halvings of the Newton line search; damping increases per LM attempt.
    patience : int
        Iterations of negligible progress before a candidate counts as stalled.
    armijo : float
        Sufficient-decrease constant of the line search.
    chord_steps : int
        Chord steps per factorisation: after a full Newton step, at most this many
        steps :math:`-A^{-1}r` that reuse the factors of the last Jacobian A.
    chord_ratio : float
        A chord step is taken only while it is at most this fraction of the step
        before it (the chord iteration contracts).
    state_margin : float
        A candidate has left the state set the model can reach (``state_bounds``) when
        its excursion outside it exceeds its starting excursion by more than this, in
        state units (the bounds are 0 and ±1). Newton's iterates are not states of the
        network: a damped step (up to ``max_step``) from inside the set may overshoot it
        and come back. Measured on the trained flip-flop networks of the tests, a margin
        of 1e-6 stopped 25 % (tanh RNN, LSTM) to 40 % (GRU) of the candidates that go
        on to converge, and found 1 of the 17 roots of a saturated random RNN; at 2 no
        root was lost and at most 1 % of the converging candidates were stopped, while
        GRU candidates that wander off (to |h| of 28 to 195) stop early (3.4x fewer
        iterations on the flip-flop GRU).
    state_tol : float
        A root or slow point must lie in the state set up to this (state units):
        far above the rounding of states of order one (1e-16) and above the distance
        to which roots are located (``root_xtol`` (1 + ‖x‖), 1e-7 at 256 units), so a
        root on a bound (a saturated or silent unit) is never rejected.

    :func:`find_fixed_points` sets ``length`` and ``max_step`` (2 L) from the spread L
    of the initial states and ``x_max`` from their magnitude, unless ``options`` is given.
    """

    tol_q: float = 1e-20
    xtol: float = 1e-14
    root_xtol: float = 1e-8
    gtol: float = 1e-10
    gtol_stall: float = 1e-4
    length: float = 1.0
    max_iter: int = 200
    max_step: float = 1.0
    x_max: float = 1e6
    n_backtrack: int = 6
    lm_tries: int = 8
    patience: int = 10
    armijo: float = 1e-4
    chord_steps: int = 4
    chord_ratio: float = 0.75
    state_margin: float = 2.0
    state_tol: float = 1e-6


@dataclass(frozen=True)
class KnownRoots:
    """Roots found in an earlier pass, where candidates may stop (step 0 of
    :mod:`neurodyn.analysis.fixed_points.kernel`).

    Attributes
    ----------
    x : ndarray (K, d)
    q : ndarray (K,)
    group : ndarray of int (K,)
        Input group of each root; a candidate stops only at a root of its own group.
    snap_tol : float
        The de-duplication radius.
    radii : ndarray (K, 2)
        Each root's balls of convergence and of uniqueness, (ρ, 3ρ); zeros where no
        bound is known (see :func:`neurodyn.analysis.fixed_points.kernel.root_radii`).
    gate : ndarray (2,)
        (q_max, 3ρ_max): no candidate with a larger q lies in a ball of convergence.
    """

    x: np.ndarray
    q: np.ndarray
    group: np.ndarray
    snap_tol: float
    radii: np.ndarray
    gate: np.ndarray

    @classmethod
    def none(cls, d: int) -> KnownRoots:
        return cls(
            np.empty((0, d)), np.empty(0), np.empty(0, dtype=np.int64), 0.0, np.empty((0, 2)),
            np.zeros(2),
        )  # fmt: skip


def _sq(ops, v):
    return (v * v).sum(-1)


def _cap(ops, dx, max_step):
    """Scale rows of dx down to norm ``max_step`` where they are longer."""
    norm = ops.sqrt(_sq(ops, dx))
    factor = ops.where(norm > max_step, max_step / ops.where(norm > 0, norm, 1.0), 1.0)
    return dx * factor[:, None]


def _located(ops, last_full, prev_full, x, root_xtol):
    """Rows whose last two full steps δ₁ > δ₂ bound the error δ₂²/(δ₁ - δ₂) below
    ``root_xtol`` (1 + ‖x‖) (``located`` in ``newton_cpu.cpp``)."""
    finite = (last_full < prev_full) & (prev_full < float("inf"))
    gap = ops.where(finite, prev_full, 1.0) - ops.where(finite, last_full, 0.0)
    bound = root_xtol * (1.0 + ops.sqrt(_sq(ops, x))) * gap
    return finite & (last_full * last_full <= bound)


def _at_known_root(ops, known, kx, kq, kg, kr, grp, x, q, last_full, prev_full):
    """Rows of x that have reached a known root of their group (``known_root`` in
    ``newton_cpu.cpp``): their positions, and the first such root's index, position
    and q for each. ``kx, kq, kg, kr``: the known roots' positions, q, groups and radii
    as arrays of the ``ops`` library."""
    inf = float("inf")
    snap_tol, q_gate, reach = known.snap_tol, float(known.gate[0]), float(known.gate[1])
    contract = (last_full < prev_full) & (prev_full < inf)
    gap = ops.where(contract, prev_full, 1.0) - ops.where(contract, last_full, 0.0)
    tail = ops.where(contract, last_full * last_full / gap, inf)
    in_gate = q <= q_gate
    rows = ops.nonzero(in_gate | (tail < max(snap_tol, reach)))
    if len(rows) == 0:
        return rows, rows, kx[:0], kq[:0]
    xr = x[rows]
    # ‖x − k‖² expanded, so that memory stays (rows × K) rather than (rows × K × d); the
    # rounding error, about 1e-16 ‖x‖², is far below the squared radius.
    d2 = _sq(ops, xr)[:, None] - 2.0 * (xr @ kx.T) + _sq(ops, kx)[None, :]
    t = tail[rows][:, None]
    r_snap = ops.where(t < snap_tol, (snap_tol - t) ** 2, -1.0)
    ball, unique = kr[:, 0][None, :], kr[:, 1][None, :]
    r_ball = ops.where(in_gate[rows][:, None], ball * ball, 0.0)
    r_unique = ops.where(t < unique, (unique - t) ** 2, 0.0)
    near = (d2 <= r_snap) | (d2 < r_ball) | (d2 < r_unique)
    hit = near & (grp[rows][:, None] == kg[None, :])
    found = hit.any(1)
    first = (hit[found] * 1).argmax(1)
    return rows[found], first, kx[first], kq[first]


def _excursion(ops, x, lower, upper):
    """How far each row of x lies outside ``lower <= x <= upper``:
    :math:`\\max_i \\max(l_i - x_i, x_i - u_i, 0)`."""
    below, above = lower - x, x - upper
    e = ops.rowmax(ops.where(below > above, below, above))
    return ops.where(e > 0, e, 0.0)


def solve_batched(dyn, ops, X0, C, opts: SolverOptions, known=None, group=None, bounds=None):
    """Run the solver on every row of ``X0`` (n, d) with prepared inputs ``C``.

    ``known`` (:class:`KnownRoots`) and ``group`` (n,), the candidates' input groups,
    let candidates stop at roots found in an earlier pass. ``bounds`` (lower, upper),
    arrays (d,), is the state set the model can reach (None for none).
    Returns ``(x, q, n_iter, status, root)`` as arrays of the ``ops`` library, ``root``
    the index of the known root each candidate stopped at (-1 if none).
    """
    x = ops.copy(X0)
    n, d = x.shape
    status = ops.full(n, RUNNING, x, integer=True)
    root = ops.full(n, -1, x, integer=True)
    it = ops.full(n, 0, x, integer=True)
    stall = ops.full(n, 0, x, integer=True)
    mu = ops.full(n, -1.0, x)
    mu_floor = ops.full(n, 0.0, x)
    newton_failed = ops.falses(n, x)
    last_full = ops.full(n, float("inf"), x)  # last step, if a full uncapped Newton step
    prev_full = ops.full(n, float("inf"), x)  # the full step before it
    r, A = dyn._residual_jacobian(ops, x, C)
    A_newton = ops.copy(A)  # the Jacobian each candidate's last Newton step used
    q = 0.5 * _sq(ops, r)
    eye = ops.eye(d, x)
    bounded = bounds is not None
    if bounded:  # a candidate may not move farther out than it started (see _newton)
        lower, upper = ops.asarray(bounds[0], x), ops.asarray(bounds[1], x)
        allowed = _excursion(ops, x, lower, upper) + opts.state_margin
    snapping = known is not None and len(known.q) > 0
    if snapping:
        kx, kq, kr = (ops.asarray(a, x) for a in (known.x, known.q, known.radii))
        kg, grp = ops.asarray(known.group, x), ops.asarray(group, x)  # exact small integers

    def snap(rows, x_rows, q_rows):
        """Stop the candidates ``rows`` that, at ``x_rows`` with ``q_rows``, have reached
        a known root (step 0 of :mod:`~neurodyn.analysis.fixed_points.kernel`); returns a mask of those
        that did."""
        pos, which, xs, qs = _at_known_root(
            ops, known, kx, kq, kg, kr, grp[rows], x_rows, q_rows, last_full[rows],
            prev_full[rows],
        )  # fmt: skip
        done = rows[pos]
        x[done], q[done], status[done], root[done] = xs, qs, ROOT, which
        hit = ops.falses(len(rows), x)
        hit[pos] = True
        return hit

    def residual_q(xs, idx):
        rs = dyn._residual(ops, xs, C[idx])
        return rs, 0.5 * _sq(ops, rs)

    while True:
        idx = ops.nonzero(status == RUNNING)
        if len(idx) == 0:
            break
        # -- 1. finished: diverged, converged (then polished), out of iterations ---------
        qa = q[idx]
        div = ~ops.isfinite(qa) | ~(ops.rowmax(ops.abs(x[idx])) <= opts.x_max)
        status[idx[div]] = DIVERGED
        if bounded:
            left = ~div & (_excursion(ops, x[idx], lower, upper) > allowed[idx])
            status[idx[left]] = LEFT_STATE_SET
            div = div | left
        snapped = ops.falses(len(idx), x)
        if snapping:
            live = ops.nonzero(~div)
            snapped[live] = snap(idx[live], x[idx[live]], qa[live])
        small = ~div & ~snapped & (qa <= opts.tol_q)
        if ops.any(small):
            # A root must also be located: its Newton step small (see _newton).
            # Two full steps δ₁ > δ₂ bound the remaining error by δ₂²/(δ₁ - δ₂).
            ii = idx[small]
            near = _located(ops, last_full[ii], prev_full[ii], x[ii], opts.root_xtol)
            # Polish with one chord step, with the Jacobian of the last Newton step.
            jj = ii[near]
            dx, ok = ops.solve(A_newton[jj], -r[jj])
            xn = x[jj] + dx
            _, qn = residual_q(xn, jj)
            better = ok & (qn < q[jj])
            x[jj[better]] = xn[better]
            q[jj[better]] = qn[better]
            status[jj] = ROOT
            ii = ii[~near]
            dx, ok = ops.solve(A[ii], -r[ii])
            located = ok & (
                ops.sqrt(_sq(ops, dx)) <= opts.root_xtol * (1.0 + ops.sqrt(_sq(ops, x[ii])))
            )
            xn = x[ii] + dx
            _, qn = residual_q(xn, ii)
            better = located & (qn < q[ii])
            x[ii[better]] = xn[better]
            q[ii[better]] = qn[better]
            status[ii[located]] = ROOT
        conv = status[idx] == ROOT
        small = small & ~conv
        spent = ~div & ~conv & (it[idx] >= opts.max_iter)
        status[idx[spent & small]] = SINGULAR
        status[idx[spent & ~small]] = MAX_ITER
        keep = ~(div | conv | spent)
        idx, small = idx[keep], small[keep]
        if len(idx) == 0:
            continue
        # -- 2. stationary points of q and stalled candidates ---------------------------
        g = ops.einsum("nij,ni->nj", A[idx], r[idx])
        gnorm = ops.sqrt(_sq(ops, g))
        anorm = ops.sqrt((A[idx] * A[idx]).sum((1, 2)))
        two_q = 2.0 * q[idx]
        rel_grad = ops.where(two_q > 0, gnorm * opts.length / ops.where(two_q > 0, two_q, 1.0), 0.0)
        stat = rel_grad <= opts.gtol
        status[idx[stat & (anorm > 0) & ~small]] = SLOW
        status[idx[stat & ~((anorm > 0) & ~small)]] = SINGULAR
        stalled = ~stat & (stall[idx] >= opts.patience)
        status[idx[stalled & small]] = SINGULAR
        slow = stalled & ~small & (rel_grad <= opts.gtol_stall)
        status[idx[slow]] = SLOW
        rest = stalled & ~small & ~slow
        status[idx[rest & newton_failed[idx]]] = SINGULAR
        status[idx[rest & ~newton_failed[idx]]] = STALLED
        keep = ~(stat | stalled)
        idx, g = idx[keep], g[keep]
        if len(idx) == 0:
            continue
        it[idx] += 1
        # -- 3. Newton step with Armijo backtracking ----------------------------------
        A_newton[idx] = A[idx]
        factors = ops.factor(A[idx])  # reused by the chord steps below
        frow = ops.positions(idx)  # row of each candidate's factors
        dx, ok = ops.solve_factored(factors, -r[idx])
        newton_failed[idx] = ~ok
        dnorm = ops.sqrt(_sq(ops, dx))
        tiny = ok & (dnorm <= opts.xtol * (1.0 + ops.sqrt(_sq(ops, x[idx]))))
        if ops.any(tiny):
            ii = idx[tiny]
            x[ii] = x[ii] + dx[tiny]
            r_t, q_t = residual_q(x[ii], ii)
            r[ii], q[ii] = r_t, q_t
            status[ii] = ROOT
            idx, g, dx, ok, dnorm = idx[~tiny], g[~tiny], dx[~tiny], ok[~tiny], dnorm[~tiny]
            frow = frow[~tiny]
            if len(idx) == 0:
                continue
        uncapped = dnorm <= opts.max_step
        dx = _cap(ops, dx, opts.max_step)
        slope = (g * dx).sum(-1)
        accepted = ops.falses(len(idx), x)
        xn = ops.copy(x[idx])
        rn = ops.copy(r[idx])
        qn = ops.copy(q[idx])
        t = ops.full(len(idx), 1.0, x)
        searching = ops.copy(ok)
        for _ in range(opts.n_backtrack):
            s = ops.nonzero(searching)
            if len(s) == 0:
                break
            xt = x[idx[s]] + t[s][:, None] * dx[s]
            rt, qt = residual_q(xt, idx[s])
            good = ops.isfinite(qt) & (qt <= q[idx[s]] + opts.armijo * t[s] * slope[s])
            full = (t[s] == 1.0) & uncapped[s]
            moved = idx[s[good]]
            prev_full[moved] = ops.where(full[good], last_full[moved], float("inf"))
            last_full[moved] = ops.where(full[good], dnorm[s[good]], float("inf"))
            xn[s[good]] = xt[good]
            rn[s[good]] = rt[good]
            qn[s[good]] = qt[good]
            accepted[s[good]] = True
            searching[s[good]] = False
            t[s[~good]] = t[s[~good]] * 0.5
        # -- 3b. chord steps with the same A after a full Newton step -----------------
        chord = ops.nonzero(accepted & (last_full[idx] < float("inf")))
        stopped = ops.falses(len(idx), x)  # ... at a known root, during the chord steps
        for _ in range(opts.chord_steps):
            if snapping:
                hit = snap(idx[chord], xn[chord], qn[chord])
                stopped[chord[hit]] = True
                chord = chord[~hit]
                if len(chord) == 0:
                    break
            # Past tol_q, chord steps go on until they locate the root.
            gi = idx[chord]
            done = (qn[chord] <= opts.tol_q) & _located(
                ops, last_full[gi], prev_full[gi], xn[chord], opts.root_xtol
            )
            chord = chord[~done]
            if len(chord) == 0:
                break
            gi = idx[chord]
            dc, okc = ops.solve_factored(factors, -rn[chord], frow[chord])
            cnorm = ops.sqrt(_sq(ops, dc))
            go = okc & (cnorm <= opts.chord_ratio * last_full[gi])
            chord, dc, cnorm = chord[go], dc[go], cnorm[go]
            if len(chord) == 0:
                break
            xc = xn[chord] + dc
            rc, qc = residual_q(xc, idx[chord])
            good = ops.isfinite(qc) & (qc < qn[chord])
            chord, cnorm = chord[good], cnorm[good]
            xn[chord], rn[chord], qn[chord] = xc[good], rc[good], qc[good]
            gi = idx[chord]
            prev_full[gi] = last_full[gi]
            last_full[gi] = cnorm
        # -- 4. Levenberg–Marquardt where Newton failed ---------------------------------
        lm = ops.nonzero(~accepted)
        if len(lm):
            gl = idx[lm]
            H = ops.einsum("nki,nkj->nij", A[gl], A[gl])
            fresh = mu[gl] < 0
            if ops.any(fresh):
                diag = ops.einsum("nii->ni", H[fresh])
                hmax = ops.rowmax(diag)
                hmax = ops.where(hmax > 1e-300, hmax, 1e-300)
                mu[gl[fresh]] = 1e-3 * hmax
                mu_floor[gl[fresh]] = 1e-12 * hmax
            trying = ops.positions(lm)
            for _ in range(opts.lm_tries):
                if len(trying) == 0:
                    break
                gi = gl[trying]
                M = H[trying] + mu[gi][:, None, None] * eye[None]
                dl, okl = ops.solve(M, -g[lm[trying]])
                dl = _cap(ops, dl, opts.max_step)
                xt = x[gi] + dl
                _, qt = residual_q(xt, gi)
                good = okl & ops.isfinite(qt) & (qt < q[gi])
                pos = lm[trying[good]]
                xn[pos] = xt[good]
                qn[pos] = qt[good]
                accepted[pos] = True
                won = gi[good]
                last_full[won] = float("inf")
                prev_full[won] = float("inf")
                mu[won] = ops.where(0.1 * mu[won] > mu_floor[won], 0.1 * mu[won], mu_floor[won])
                lost = gi[~good]
                mu[lost] = mu[lost] * 10.0
                trying = trying[~good]
        # -- 5. move the accepted candidates ----------------------------------------------
        acc = ops.nonzero(accepted & ~stopped)
        if len(acc):
            ga = idx[acc]
            little = qn[acc] > q[ga] * (1.0 - 1e-6)
            stall[ga] = ops.where(little, stall[ga] + 1, 0 * stall[ga])
            x[ga] = xn[acc]
            r_a, A_a = dyn._residual_jacobian(ops, x[ga], C[ga])
            r[ga], A[ga] = r_a, A_a
            q[ga] = 0.5 * _sq(ops, r_a)
        stall[idx[~accepted]] = opts.patience
    if bounded:  # a root or slow point must lie in the state set, up to rounding
        done = ((status == ROOT) | (status == SLOW)) & (root < 0)
        outside = done & (_excursion(ops, x, lower, upper) > opts.state_tol)
        status[ops.nonzero(outside)] = LEFT_STATE_SET
    return x, q, it, status, root
