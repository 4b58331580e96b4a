"""The array solver: the Newton/LM method of the compiled kernel on NumPy or torch arrays.

The method is the kernel's (see :mod:`neurodyn.analysis.fixed_points.kernel`), run on
a whole batch at once through the ``ops`` namespaces of :mod:`neurodyn.dynamics.ops`:
every iteration works on the candidates still running, so converged candidates drop
out of the batch and the work per iteration shrinks as the batch converges. It needs
nothing from a model but the protocol's ``_residual`` and ``_residual_jacobian``, so
it serves every dynamics without a compiled kernel (user functions, autograd cells)
and models on a GPU. Like the kernel, it is tested against the plain solver of
:mod:`~neurodyn.analysis.fixed_points.reference` on where the candidates end.

Each stage of an iteration is one function of ``_Batch``: the end tests
(``finish``, ``stationary``), the Newton step with its line
search (``newton``), the chord steps (``chord``), the
Levenberg–Marquardt fallback (``levenberg_marquardt``) and the move
(``move``).
"""

from __future__ import annotations

from .options import SolverOptions
from .outcomes import DIVERGED, LEFT_STATE_SET, MAX_ITER, ROOT, RUNNING, SINGULAR, SLOW, STALLED

__all__ = ["solve_batched"]

INF = float("inf")


def solve_batched(dyn, ops, X0, C, opts: SolverOptions, known=None, group=None, bounds=None):
    r"""Run the solver on every row of ``X0`` (n, d) with prepared inputs ``C``.

    Called by :func:`~neurodyn.analysis.find_fixed_points` for ``backend="numpy"`` and
    ``"torch"``.

    Parameters
    ----------
    dyn : Dynamics
        The system; its ``_residual`` and ``_residual_jacobian`` are evaluated.
    ops : namespace
        The array library of :mod:`neurodyn.dynamics.ops` the arrays belong to
        (``NUMPY``, or ``TORCH()`` for tensors on a device).
    X0 : array (n, d)
        Initial states, one candidate per row (not modified).
    C : array (n, ...)
        The candidates' inputs as ``dyn._prepare(ops, u)`` returns them.
    opts : SolverOptions
        The solver's settings.
    known : KnownRoots, optional
        Roots found in an earlier pass, at which candidates may stop (step 0 of
        :mod:`~neurodyn.analysis.fixed_points.kernel`); none by default.
    group : int array (n,), optional
        The candidates' input groups: a candidate stops only at a known root of its own
        group. Needed with ``known``.
    bounds : (array (d,), array (d,)), optional
        ``(lower, upper)``: the state set the model can reach
        (:meth:`~neurodyn.dynamics.Dynamics.state_bounds`); None for none.

    Returns
    -------
    x, q, n_iter, status, root
        Arrays of the ``ops`` library: where each candidate ended (n, d),
        :math:`q = \tfrac12\|r\|^2` there, its iterations, its outcome code
        (:data:`~neurodyn.analysis.fixed_points.outcomes.OUTCOMES`; 0 is a root) and
        the index of the known root it stopped at (-1 if none).

    Examples
    --------
    Two uncoupled bistable units, :math:`\tau\dot x = -x + 2\tanh x`, have 3 × 3 fixed
    points, at :math:`x_i \in \{0, \pm 1.915\}`; Newton's method finds one from every
    candidate in at most three iterations:

    >>> import numpy as np
    >>> from neurodyn.dynamics import RateDynamics
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 candidates
    >>> C = dyn._prepare(NUMPY, np.zeros((25, 1)))  # the prepared zero input
    >>> from neurodyn.analysis import SolverOptions
    >>> from neurodyn.analysis.fixed_points.batched import solve_batched
    >>> x, q, n_iter, status, root = solve_batched(dyn, NUMPY, X0, C, SolverOptions())
    >>> bool(np.all(status == 0)), int(n_iter.max()), bool(np.all(root == -1))
    (True, 3, True)
    >>> len(np.unique(x.round(6), axis=0)), np.unique(np.abs(x).round(3)).tolist()
    (9, [0.0, 1.915])
    """
    b = _Batch(dyn, ops, X0, C, opts, known, group, bounds)
    while True:
        idx = ops.nonzero(b.status == RUNNING)
        if len(idx) == 0:
            break
        idx, small = b.finish(idx)
        if len(idx) == 0:
            continue
        idx, g = b.stationary(idx, small)
        if len(idx) == 0:
            continue
        b.it[idx] += 1
        step = b.newton(idx, g)
        if step is None:
            continue
        b.chord(step)
        b.levenberg_marquardt(step)
        b.move(step)
    if b.bounded:  # a root or slow point must lie in the state set, up to rounding
        done = ((b.status == ROOT) | (b.status == SLOW)) & (b.root < 0)
        outside = done & (_excursion(ops, b.x, b.lower, b.upper) > opts.state_tol)
        b.status[ops.nonzero(outside)] = LEFT_STATE_SET
    return b.x, b.q, b.it, b.status, b.root


class _Step:
    """One iteration's trial points of the candidates ``idx``: ``xn, rn, qn``, whether
    each was ``accepted`` and ``stopped`` (at a known root), the LU ``factors`` of
    their Jacobians and each one's row ``frow`` in them, their gradients ``g``."""

    def __init__(self, idx, g, xn, rn, qn, accepted, factors, frow, ops):
        self.idx, self.g, self.xn, self.rn, self.qn = idx, g, xn, rn, qn
        self.accepted, self.factors, self.frow = accepted, factors, frow
        self.stopped = ops.falses(len(idx), xn)


class _Batch:
    """The candidates' iterates and counters, as arrays of the ``ops`` library."""

    def __init__(self, dyn, ops, X0, C, opts, known, group, bounds):
        self.dyn, self.ops, self.C, self.opts = dyn, ops, C, opts
        x = self.x = ops.copy(X0)
        n, d = x.shape
        self.status = ops.full(n, RUNNING, x, integer=True)
        self.root = ops.full(n, -1, x, integer=True)
        self.it = ops.full(n, 0, x, integer=True)
        self.stall = ops.full(n, 0, x, integer=True)
        self.mu = ops.full(n, -1.0, x)
        self.mu_floor = ops.full(n, 0.0, x)
        self.newton_failed = ops.falses(n, x)
        self.last_full = ops.full(n, INF, x)  # last step, if a full uncapped Newton step
        self.prev_full = ops.full(n, INF, x)  # the full step before it
        self.r, self.A = dyn._residual_jacobian(ops, x, C)
        self.A_newton = ops.copy(self.A)  # the Jacobian each candidate's last Newton step used
        self.q = 0.5 * _sq(ops, self.r)
        self.eye = ops.eye(d, x)
        self.bounded = bounds is not None
        if self.bounded:  # a candidate may not move farther out than it started
            self.lower, self.upper = ops.asarray(bounds[0], x), ops.asarray(bounds[1], x)
            self.allowed = _excursion(ops, x, self.lower, self.upper) + opts.state_margin
        self.known = known
        self.snapping = known is not None and len(known.q) > 0
        if self.snapping:
            self.kx, self.kq, self.kr = (ops.asarray(a, x) for a in (known.x, known.q, known.radii))
            self.kg, self.grp = ops.asarray(known.group, x), ops.asarray(group, x)

    def residual_q(self, xs, idx):
        rs = self.dyn._residual(self.ops, xs, self.C[idx])
        return rs, 0.5 * _sq(self.ops, rs)

    def snap(self, rows, x_rows, q_rows):
        """Stop the candidates ``rows`` that, at ``x_rows`` with ``q_rows``, have reached
        a known root (step 0 of :mod:`~neurodyn.analysis.fixed_points.kernel`); returns a
        mask of those that did."""
        ops = self.ops
        pos, which, xs, qs = _at_known_root(
            ops,
            self.known,
            self.kx,
            self.kq,
            self.kg,
            self.kr,
            self.grp[rows],
            x_rows,
            q_rows,
            self.last_full[rows],
            self.prev_full[rows],
        )
        done = rows[pos]
        self.x[done], self.q[done], self.status[done], self.root[done] = xs, qs, ROOT, which
        hit = ops.falses(len(rows), x_rows)
        hit[pos] = True
        return hit

    def finish(self, idx):
        """Step 1: end the candidates that diverged, left the state set, reached a known
        root, converged (then polished) or ran out of iterations. Returns the rest and
        whether each has q ≤ tol_q."""
        ops, o = self.ops, self.opts
        qa = self.q[idx]
        div = ~ops.isfinite(qa) | ~(ops.rowmax(ops.abs(self.x[idx])) <= o.x_max)
        self.status[idx[div]] = DIVERGED
        if self.bounded:
            left = ~div & (_excursion(ops, self.x[idx], self.lower, self.upper) > self.allowed[idx])
            self.status[idx[left]] = LEFT_STATE_SET
            div = div | left
        snapped = ops.falses(len(idx), qa)
        if self.snapping:
            live = ops.nonzero(~div)
            snapped[live] = self.snap(idx[live], self.x[idx[live]], qa[live])
        small = ~div & ~snapped & (qa <= o.tol_q)
        if ops.any(small):
            self.converged(idx[small])
        conv = self.status[idx] == ROOT
        small = small & ~conv
        spent = ~div & ~conv & (self.it[idx] >= o.max_iter)
        self.status[idx[spent & small]] = SINGULAR
        self.status[idx[spent & ~small]] = MAX_ITER
        keep = ~(div | conv | spent)
        return idx[keep], small[keep]

    def converged(self, ii):
        """Roots among the candidates ``ii`` with q ≤ tol_q: those located (by the tail
        of their last two full steps, or a small Newton step), polished by one step."""
        ops, o, x = self.ops, self.opts, self.x
        # Two full steps δ₁ > δ₂ bound the remaining error by δ₂²/(δ₁ - δ₂); the
        # polish is then a step with the Jacobian of the last Newton step.
        near = _located(ops, self.last_full[ii], self.prev_full[ii], x[ii], o.root_xtol)
        jj = ii[near]
        dx, ok = ops.solve(self.A_newton[jj], -self.r[jj])
        self.polish(jj, dx, ok)
        self.status[jj] = ROOT
        ii = ii[~near]
        dx, ok = ops.solve(self.A[ii], -self.r[ii])
        located = ok & (ops.sqrt(_sq(ops, dx)) <= o.root_xtol * (1.0 + ops.sqrt(_sq(ops, x[ii]))))
        self.polish(ii, dx, located)
        self.status[ii[located]] = ROOT

    def polish(self, ii, dx, ok):
        """Move the candidates ``ii`` by dx where ``ok`` and q falls."""
        xn = self.x[ii] + dx
        _, qn = self.residual_q(xn, ii)
        better = ok & (qn < self.q[ii])
        self.x[ii[better]] = xn[better]
        self.q[ii[better]] = qn[better]

    def stationary(self, idx, small):
        """Step 2: end the candidates at stationary points of q (slow points) and those
        that stalled. Returns the rest and their gradients :math:`g = A^\\top r`."""
        ops, o, status = self.ops, self.opts, self.status
        A = self.A[idx]
        g = ops.einsum("nij,ni->nj", A, self.r[idx])
        gnorm = ops.sqrt(_sq(ops, g))
        anorm = ops.sqrt((A * A).sum((1, 2)))
        two_q = 2.0 * self.q[idx]
        rel_grad = ops.where(two_q > 0, gnorm * o.length / ops.where(two_q > 0, two_q, 1.0), 0.0)
        stat = rel_grad <= o.gtol
        status[idx[stat & (anorm > 0) & ~small]] = SLOW
        status[idx[stat & ~((anorm > 0) & ~small)]] = SINGULAR
        stalled = ~stat & (self.stall[idx] >= o.patience)
        status[idx[stalled & small]] = SINGULAR
        slow = stalled & ~small & (rel_grad <= o.gtol_stall)
        status[idx[slow]] = SLOW
        rest = stalled & ~small & ~slow
        status[idx[rest & self.newton_failed[idx]]] = SINGULAR
        status[idx[rest & ~self.newton_failed[idx]]] = STALLED
        keep = ~(stat | stalled)
        return idx[keep], g[keep]

    def newton(self, idx, g):
        """Step 3: the Newton step with Armijo backtracking. Candidates whose step is at
        rounding level end as roots; returns the others' :class:`_Step` (None if none)."""
        ops, o, x = self.ops, self.opts, self.x
        self.A_newton[idx] = self.A[idx]
        factors = ops.factor(self.A[idx])  # reused by the chord steps
        frow = ops.positions(idx)  # row of each candidate's factors
        dx, ok = ops.solve_factored(factors, -self.r[idx])
        self.newton_failed[idx] = ~ok
        dnorm = ops.sqrt(_sq(ops, dx))
        tiny = ok & (dnorm <= o.xtol * (1.0 + ops.sqrt(_sq(ops, x[idx]))))
        if ops.any(tiny):
            ii = idx[tiny]
            x[ii] = x[ii] + dx[tiny]
            self.r[ii], self.q[ii] = self.residual_q(x[ii], ii)
            self.status[ii] = ROOT
            idx, g, dx, ok, dnorm = idx[~tiny], g[~tiny], dx[~tiny], ok[~tiny], dnorm[~tiny]
            frow = frow[~tiny]
            if len(idx) == 0:
                return None
        uncapped = dnorm <= o.max_step
        dx = _cap(ops, dx, o.max_step)
        slope = (g * dx).sum(-1)
        step = _Step(
            idx,
            g,
            ops.copy(x[idx]),
            ops.copy(self.r[idx]),
            ops.copy(self.q[idx]),
            ops.falses(len(idx), x),
            factors,
            frow,
            ops,
        )
        t = ops.full(len(idx), 1.0, x)
        searching = ops.copy(ok)
        for _ in range(o.n_backtrack):
            s = ops.nonzero(searching)
            if len(s) == 0:
                break
            xt = x[idx[s]] + t[s][:, None] * dx[s]
            rt, qt = self.residual_q(xt, idx[s])
            good = ops.isfinite(qt) & (qt <= self.q[idx[s]] + o.armijo * t[s] * slope[s])
            full = (t[s] == 1.0) & uncapped[s]
            moved = idx[s[good]]
            self.prev_full[moved] = ops.where(full[good], self.last_full[moved], INF)
            self.last_full[moved] = ops.where(full[good], dnorm[s[good]], INF)
            step.xn[s[good]], step.rn[s[good]], step.qn[s[good]] = xt[good], rt[good], qt[good]
            step.accepted[s[good]] = True
            searching[s[good]] = False
            t[s[~good]] = t[s[~good]] * 0.5
        return step

    def chord(self, step):
        """Step 3b: chord steps with the same factors after a full Newton step, while
        each contracts by ``chord_ratio`` and lowers q; past tol_q, until they locate
        the root."""
        ops, o, idx = self.ops, self.opts, step.idx
        chord = ops.nonzero(step.accepted & (self.last_full[idx] < INF))
        for _ in range(o.chord_steps):
            if self.snapping:
                hit = self.snap(idx[chord], step.xn[chord], step.qn[chord])
                step.stopped[chord[hit]] = True
                chord = chord[~hit]
                if len(chord) == 0:
                    break
            gi = idx[chord]
            done = (step.qn[chord] <= o.tol_q) & _located(
                ops, self.last_full[gi], self.prev_full[gi], step.xn[chord], o.root_xtol
            )
            chord = chord[~done]
            if len(chord) == 0:
                break
            gi = idx[chord]
            dc, okc = ops.solve_factored(step.factors, -step.rn[chord], step.frow[chord])
            cnorm = ops.sqrt(_sq(ops, dc))
            go = okc & (cnorm <= o.chord_ratio * self.last_full[gi])
            chord, dc, cnorm = chord[go], dc[go], cnorm[go]
            if len(chord) == 0:
                break
            xc = step.xn[chord] + dc
            rc, qc = self.residual_q(xc, idx[chord])
            good = ops.isfinite(qc) & (qc < step.qn[chord])
            chord, cnorm = chord[good], cnorm[good]
            step.xn[chord], step.rn[chord], step.qn[chord] = xc[good], rc[good], qc[good]
            gi = idx[chord]
            self.prev_full[gi] = self.last_full[gi]
            self.last_full[gi] = cnorm

    def levenberg_marquardt(self, step):
        """Step 4: LM steps where Newton's failed, raising μ tenfold until q falls and
        lowering it tenfold after a success."""
        ops, o = self.ops, self.opts
        lm = ops.nonzero(~step.accepted)
        if len(lm) == 0:
            return
        gl = step.idx[lm]
        A = self.A[gl]
        H = ops.einsum("nki,nkj->nij", A, A)
        mu, mu_floor = self.mu, self.mu_floor
        fresh = mu[gl] < 0
        if ops.any(fresh):
            hmax = ops.rowmax(ops.einsum("nii->ni", H[fresh]))
            hmax = ops.where(hmax > 1e-300, hmax, 1e-300)
            mu[gl[fresh]] = 1e-3 * hmax
            mu_floor[gl[fresh]] = 1e-12 * hmax
        trying = ops.positions(lm)
        for _ in range(o.lm_tries):
            if len(trying) == 0:
                break
            gi = gl[trying]
            M = H[trying] + mu[gi][:, None, None] * self.eye[None]
            dl, okl = ops.solve(M, -step.g[lm[trying]])
            xt = self.x[gi] + _cap(ops, dl, o.max_step)
            _, qt = self.residual_q(xt, gi)
            good = okl & ops.isfinite(qt) & (qt < self.q[gi])
            pos = lm[trying[good]]
            step.xn[pos], step.qn[pos] = xt[good], qt[good]
            step.accepted[pos] = True
            won = gi[good]
            self.last_full[won] = INF
            self.prev_full[won] = INF
            mu[won] = ops.where(0.1 * mu[won] > mu_floor[won], 0.1 * mu[won], mu_floor[won])
            mu[gi[~good]] = mu[gi[~good]] * 10.0
            trying = trying[~good]

    def move(self, step):
        """Step 5: move the accepted candidates and evaluate their new Jacobians; count
        negligible progress (and a failed step) towards a stall."""
        ops, idx = self.ops, step.idx
        acc = ops.nonzero(step.accepted & ~step.stopped)
        if len(acc):
            ga = idx[acc]
            little = step.qn[acc] > self.q[ga] * (1.0 - 1e-6)
            self.stall[ga] = ops.where(little, self.stall[ga] + 1, 0 * self.stall[ga])
            self.x[ga] = step.xn[acc]
            r_a, A_a = self.dyn._residual_jacobian(ops, self.x[ga], self.C[ga])
            self.r[ga], self.A[ga] = r_a, A_a
            self.q[ga] = 0.5 * _sq(ops, r_a)
        self.stall[idx[~step.accepted]] = self.opts.patience


def _sq(ops, v):
    return (v * v).sum(-1)


def _cap(ops, dx, max_step):
    """Scale rows of dx down to norm ``max_step`` where they are longer."""
    norm = ops.sqrt(_sq(ops, dx))
    factor = ops.where(norm > max_step, max_step / ops.where(norm > 0, norm, 1.0), 1.0)
    return dx * factor[:, None]


def _located(ops, last_full, prev_full, x, root_xtol):
    """Rows whose last two full steps δ₁ > δ₂ bound the error δ₂²/(δ₁ - δ₂) below
    ``root_xtol`` (1 + ‖x‖) (as ``located`` in ``newton_cpu.cpp``)."""
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
