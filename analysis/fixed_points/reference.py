r"""The plain Newton/Levenberg–Marquardt solver: the reference every fast path is tested against.

Short and obvious rather than fast: every running candidate takes one damped Newton
step per iteration, or Levenberg–Marquardt steps where Newton's fails, through
nothing but the public :meth:`~neurodyn.dynamics.Dynamics.residual` and
:meth:`~neurodyn.dynamics.Dynamics.residual_jacobian` of any dynamics. There are no
chord steps, no known roots to stop at, no shared factorisations: the fast paths
(the compiled kernel, :mod:`~neurodyn.analysis.fixed_points.batched`) may decide
differently along the way, and the tests compare only where candidates end: the
same distinct roots and slow points, with the same stability.

With residual :math:`r(x)`, Jacobian :math:`A` and :math:`q = \tfrac12\|r\|^2`,
a candidate ends (:mod:`~neurodyn.analysis.fixed_points.outcomes`) as

* ``DIVERGED`` when q is not finite or a coordinate exceeds ``x_max``;
* ``LEFT_STATE_SET`` when its excursion outside the model's state set
  (:meth:`~neurodyn.dynamics.Dynamics.state_bounds`) exceeds its starting excursion
  by ``state_margin``, or when it ends as a root or slow point outside the set by
  more than ``state_tol``;
* ``ROOT`` when :math:`q \le` ``tol_q`` and the Newton step
  :math:`\delta = -A^{-1}r` is below ``root_xtol`` :math:`(1 + \|x\|)` (it is then
  taken, if it lowers q), or when :math:`\|\delta\| \le` ``xtol`` :math:`(1 + \|x\|)`;
* ``SLOW`` at a stationary point of q with q > 0:
  :math:`\|A^\top r\|\,L \le` ``gtol`` :math:`\|r\|^2` (``gtol_stall`` after
  ``patience`` iterations without progress);
* ``SINGULAR`` where q is tiny or stationary but no root is located, or Newton's
  step kept failing; ``STALLED`` after ``patience`` iterations of negligible
  progress; ``MAX_ITER`` after ``max_iter`` iterations.

A step is Newton's, capped at ``max_step`` and halved up to ``n_backtrack`` times
until :math:`q(x + t\delta) \le q + \text{armijo}\,t\,\nabla q\cdot\delta`; if none
is accepted, :math:`(A^\top A + \mu I)\delta = -A^\top r`, with :math:`\mu`
raised tenfold (up to ``lm_tries`` times) until q decreases and lowered tenfold
after a success.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .options import SolverOptions
from .outcomes import DIVERGED, LEFT_STATE_SET, MAX_ITER, ROOT, RUNNING, SINGULAR, SLOW, STALLED

__all__ = ["solve_reference"]


def solve_reference(dynamics, initial_states, inputs, options: SolverOptions):
    """Carry every candidate to its end with the plain Newton/LM iteration.

    Parameters
    ----------
    dynamics : Dynamics
    initial_states : array (n, d)
    inputs : array (n, m)
        The constant input of each candidate.
    options : SolverOptions

    Returns
    -------
    x : ndarray (n, d)
        Where each candidate ended.
    q : ndarray (n,)
    n_iter : ndarray of int (n,)
        Newton iterations (one Jacobian each).
    code : ndarray of int (n,)
        The outcome (:data:`~neurodyn.analysis.fixed_points.outcomes.OUTCOMES`).

    Examples
    --------
    Two uncoupled bistable units, :math:`\\tau\\dot x = -x + 2\\tanh x`, have 3 × 3 fixed
    points, at :math:`x_i \\in \\{0, \\pm 1.915\\}`; the plain iteration ends where
    the array solver does, one candidate at a time:

    >>> import numpy as np
    >>> from neurodyn.dynamics import RateDynamics
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 candidates
    >>> C = dyn._prepare(NUMPY, np.zeros((25, 1)))  # the prepared zero input
    >>> from neurodyn.analysis import SolverOptions
    >>> from neurodyn.analysis.fixed_points.batched import solve_batched
    >>> from neurodyn.analysis.fixed_points.reference import solve_reference
    >>> x, q, n_iter, code = solve_reference(dyn, X0, np.zeros((25, 1)), SolverOptions())
    >>> bool(np.all(code == 0)), np.unique(np.abs(x).round(3)).tolist()
    (True, [0.0, 1.915])
    >>> x_batched = solve_batched(dyn, NUMPY, X0, C, SolverOptions())[0]
    >>> bool(np.allclose(x, x_batched, atol=1e-8))
    True
    """
    o = options
    x = np.array(initial_states, dtype=np.float64)
    u = np.asarray(inputs, dtype=np.float64)
    n = len(x)
    code = np.full(n, RUNNING)
    n_iter = np.zeros(n, dtype=np.int64)
    stall = np.zeros(n, dtype=np.int64)
    mu = np.full(n, np.nan)  # the LM damping, set at a candidate's first LM step
    failed_newton = np.zeros(n, dtype=bool)
    allowed = _excursion(dynamics, x) + o.state_margin
    while np.any(code == RUNNING):
        i = np.flatnonzero(code == RUNNING)
        r, A, q = _evaluate(dynamics, x[i], u[i])
        g = np.einsum("nij,ni->nj", A, r)  # ∇q = Aᵀr
        delta, ok = _solve(A, -r)
        code[i] = _outcome(
            dynamics, o, x[i], q, A, g, delta, ok, n_iter[i], stall[i], allowed[i], failed_newton[i]
        )
        polish = i[code[i] == ROOT]
        x[polish] = _polished(dynamics, x[polish], u[polish], delta[code[i] == ROOT])
        go = code[i] == RUNNING
        i, r, A, q, g, delta, ok = i[go], r[go], A[go], q[go], g[go], delta[go], ok[go]
        n_iter[i] += 1
        x_new, q_new, moved = _newton_step(dynamics, o, x[i], u[i], q, g, delta, ok)
        failed_newton[i] = ~ok
        lm = ~moved
        x_new[lm], q_new[lm], mu[i[lm]], moved[lm] = _lm_step(
            dynamics, o, x[i[lm]], u[i[lm]], q[lm], A[lm], g[lm], mu[i[lm]]
        )
        stall[i] = np.where(moved & (q_new <= q * (1.0 - 1e-6)), 0, stall[i] + 1)
        stall[i[~moved]] = o.patience
        x[i] = x_new
    ended = (code == ROOT) | (code == SLOW)
    code[ended & (_excursion(dynamics, x) > o.state_tol)] = LEFT_STATE_SET
    q = _evaluate(dynamics, x, u)[2] if n else np.empty(0)
    return x, q, n_iter, code


def _evaluate(dynamics, x, u):
    """``(r, A, q)``, NaN where a coordinate of x is not finite."""
    r = np.full(x.shape, np.nan)
    A = np.full((*x.shape, x.shape[1]), np.nan)
    fine = np.all(np.isfinite(x), axis=1)
    if np.any(fine):
        r[fine] = dynamics.residual(x[fine], u[fine])
        A[fine] = dynamics.residual_jacobian(x[fine], u[fine])
    return r, A, 0.5 * np.sum(r * r, axis=1)


def _excursion(dynamics, x):
    r"""How far each state lies outside the state set, :math:`\max_i \max(l_i - x_i,
    x_i - u_i, 0)` (zero without bounds)."""
    bounds = dynamics.state_bounds()
    if bounds is None:
        return np.zeros(len(x))
    lower, upper = bounds
    return np.maximum(np.max(np.maximum(lower - x, x - upper), axis=1, initial=0.0), 0.0)


def _solve(M, b):
    """Solutions of M[k] y = b[k], and whether each exists and is finite."""
    y = np.full(b.shape, np.nan)
    finite = np.all(np.isfinite(M), axis=(1, 2)) & np.all(np.isfinite(b), axis=1)
    try:
        y[finite] = np.linalg.solve(M[finite], b[finite][..., None])[..., 0]
    except np.linalg.LinAlgError:  # one singular matrix fails the batch: one at a time
        for k in np.flatnonzero(finite):
            with contextlib.suppress(np.linalg.LinAlgError):
                y[k] = np.linalg.solve(M[k], b[k])
    return y, np.all(np.isfinite(y), axis=1)


def _outcome(dynamics, o, x, q, A, g, delta, ok, n_iter, stall, allowed, failed_newton):
    """The code of each candidate at x: RUNNING, or how it ends (the first that holds
    of the module docstring's list)."""
    size = 1.0 + np.linalg.norm(x, axis=1)
    step = np.where(ok, np.linalg.norm(np.where(ok[:, None], delta, 0.0), axis=1), np.inf)
    small = q <= o.tol_q
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_grad = np.where(q > 0, np.linalg.norm(g, axis=1) * o.length / (2.0 * q), 0.0)
    nonzero = np.any(A != 0, axis=(1, 2))
    conditions = [
        ~np.isfinite(q) | ~(np.max(np.abs(x), axis=1) <= o.x_max),
        _excursion(dynamics, x) > allowed,
        small & (step <= o.root_xtol * size),
        n_iter >= o.max_iter,
        rel_grad <= o.gtol,
        stall >= o.patience,
        step <= o.xtol * size,
    ]
    if_stalled = np.where(
        small,
        SINGULAR,
        np.where(rel_grad <= o.gtol_stall, SLOW, np.where(failed_newton, SINGULAR, STALLED)),
    )
    choices = [
        DIVERGED,
        LEFT_STATE_SET,
        ROOT,
        np.where(small, SINGULAR, MAX_ITER),
        np.where(nonzero & ~small, SLOW, SINGULAR),
        if_stalled,
        ROOT,
    ]
    return np.select(conditions, choices, default=RUNNING)


def _polished(dynamics, x, u, delta):
    """x + delta where that lowers q, else x (a root's last Newton step)."""
    if not len(x):
        return x
    q = _evaluate(dynamics, x, u)[2]
    q_new = _evaluate(dynamics, x + delta, u)[2]
    return np.where((q_new < q)[:, None], x + delta, x)


def _newton_step(dynamics, o, x, u, q, g, delta, ok):
    """Damped Newton steps: ``(x_new, q_new, moved)``, x_new = x where none was accepted."""
    norm = np.linalg.norm(np.where(ok[:, None], delta, 0.0), axis=1)
    shrink = np.minimum(1.0, o.max_step / np.maximum(norm, 1e-300))
    capped = np.where(ok[:, None], delta, 0.0) * shrink[:, None]
    slope = np.sum(g * capped, axis=1)
    x_new, q_new = x.copy(), q.copy()
    moved = np.zeros(len(x), dtype=bool)
    t = 1.0
    for _ in range(o.n_backtrack):
        trying = ok & ~moved
        if not np.any(trying):
            break
        x_try = x[trying] + t * capped[trying]
        q_try = _evaluate(dynamics, x_try, u[trying])[2]
        good = np.isfinite(q_try) & (q_try <= q[trying] + o.armijo * t * slope[trying])
        rows = np.flatnonzero(trying)[good]
        x_new[rows], q_new[rows], moved[rows] = x_try[good], q_try[good], True
        t *= 0.5
    return x_new, q_new, moved


def _lm_step(dynamics, o, x, u, q, A, g, mu):
    r"""Levenberg–Marquardt steps :math:`(A^\top A + \mu I)\delta = -A^\top r`:
    ``(x_new, q_new, mu, moved)``."""
    H = np.einsum("nki,nkj->nij", A, A)
    h_max = np.maximum(np.max(np.diagonal(H, axis1=1, axis2=2), axis=1, initial=0.0), 1e-300)
    mu = np.where(np.isnan(mu), 1e-3 * h_max, mu)
    x_new, q_new = x.copy(), q.copy()
    moved = np.zeros(len(x), dtype=bool)
    eye = np.eye(x.shape[1])
    for _ in range(o.lm_tries):
        trying = np.flatnonzero(~moved)
        if not len(trying):
            break
        delta, ok = _solve(H[trying] + mu[trying, None, None] * eye, -g[trying])
        norm = np.linalg.norm(np.where(ok[:, None], delta, 0.0), axis=1)
        delta = delta * np.minimum(1.0, o.max_step / np.maximum(norm, 1e-300))[:, None]
        x_try = np.where(ok[:, None], x[trying] + delta, np.nan)
        q_try = _evaluate(dynamics, x_try, u[trying])[2]
        good = ok & np.isfinite(q_try) & (q_try < q[trying])
        won, lost = trying[good], trying[~good]
        x_new[won], q_new[won], moved[won] = x_try[good], q_try[good], True
        mu[won] = np.maximum(0.1 * mu[won], 1e-12 * h_max[won])
        mu[lost] *= 10.0
    return x_new, q_new, mu, moved
