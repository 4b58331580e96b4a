r"""The QR (Benettin) iteration behind :func:`neurodyn.analysis.lyapunov_spectrum`.

Private: the public wrapper in :mod:`neurodyn.analysis.lyapunov.spectrum` validates everything.

Tangent maps
------------
Two steppers advance the states X (n, d) of n trajectories and their tangent vectors
V (n, k, d) by one step, ``X, V = stepper(X, V, c)`` (V may be updated in place and
returned, or replaced):

* ``JacobianStepper`` (every system, the reference) forms the batched Jacobians
  :math:`A(x)` and multiplies;
* ``JacobianFreeStepper`` (rate networks :math:`\dot x = s\odot(-x + W\phi(x) + c)`)
  never forms them:

  .. math::

      A V = s\odot\bigl(-V + W\,(\phi'(x)\odot V)\bigr),

  a row scaling plus **one** matrix product, :math:`2d^2k` flops per trajectory, done as
  a single product of W with the tangent vectors of all trajectories side by side.

Both compute the state with the same expressions as the rate network's own residual, so
the trajectory does not depend on the stepper or on the QR schedule.

When to re-orthonormalise
-------------------------
The R factor of a product of tangent maps is the product of the per-step R factors, so
a QR every m steps gives the exponents of a QR every step, :math:`\lambda_i =
\frac1{n\Delta t}\sum\log|R_{ii}|`, as long as the columns of :math:`M = D_m\cdots D_1Q`
stay resolvable in floating point. Rounding perturbs column j of M by about
:math:`\varepsilon\lVert m_j\rVert`, so :math:`R_{jj}` (the part of :math:`m_j` orthogonal
to the earlier columns) carries the relative error :math:`\varepsilon\kappa_j`, with

.. math::

    \kappa_j = \lVert m_j\rVert / |R_{jj}| = \lVert R_{:,j}\rVert / |R_{jj}| \ge 1,

read off R itself. ``QRIteration`` keeps :math:`\kappa_j` bounded:

* the next interval is :math:`m = \lfloor\log\kappa_{\max} / (\ell_{\max} -
  \ell_{\min})\rfloor`, from the spread of the local exponents :math:`\ell_j = \log
  |R_{jj}|/m` of the interval just accepted; it at most doubles from one interval to the
  next (one lucky short interval with a small spread does not jump to ``max_interval``)
  and keeps :math:`m\max_j|\ell_j| \le \log G` so that no column over- or underflows;
* an interval whose R shows :math:`\max_j\kappa_j > \kappa_{\max}^2`, a zero or non-finite
  :math:`R_{jj}`, or non-finite tangent vectors (the rank was lost) is redone from the
  last accepted QR in halves, from the states stored since then (the state itself never
  goes back, so every trajectory of the batch stays at the same step);
* an interval of one step that still has :math:`|R_{jj}| \le d\,\varepsilon\lVert
  m_j\rVert` is a tangent map singular to working precision there: the trajectory stops
  with status ``"singular"`` and its reason. ``log 0`` is never taken.

Every accepted QR thus adds at most :math:`m\,\varepsilon\,\kappa_{\max}^2` (typically
:math:`\varepsilon\kappa_{\max}`) to each :math:`\log|R_{jj}|`; the largest
:math:`\kappa` accepted is reported so that a caller can bound the rounding of a run.
"""

from __future__ import annotations

import logging
from collections import deque

import numpy as np
from scipy.linalg import get_blas_funcs

from ...dynamics.integrate import Scheme
from ...dynamics.ops import NUMPY
from ...dynamics.rate import phi_and_derivative

logger = logging.getLogger("neurodyn.analysis.lyapunov.spectrum")

#: Trajectory status values.
OK, DIVERGED, SINGULAR, NONFINITE, LOST_RANK = (
    "ok",
    "diverged",
    "singular",
    "nonfinite",
    "lost_rank",
)

#: log of the largest growth or decay of a tangent column between two QRs, by precision:
#: far inside the exponent range (e^±709 in float64, e^±87 in float32) so that the
#: column norms and the GEMM's partial sums neither over- nor underflow.
LOG_GROWTH = {"float64": 200.0, "float32": 30.0}


def _qr(M):
    """Reduced QR of each (d, k) block of M (m, d, k), in M's precision.

    NumPy factors float32 matrices in float64 (three times the cost of LAPACK's sgeqrf
    at 500 × 100); single precision goes to SciPy's LAPACK one block at a time.
    """
    if M.dtype != np.float32:
        return np.linalg.qr(M)
    from scipy.linalg import qr

    factors = [qr(m, mode="economic", check_finite=False) for m in M]
    return np.stack([f[0] for f in factors]), np.stack([f[1] for f in factors])


class JacobianStepper:
    """One step of the states and their tangent vectors, on formed Jacobians (any system).

    ``stepper(X, V, c)`` returns the new states and :math:`D(x)V`: :math:`J(x)V` for
    maps, the Euler or RK4 solution of :math:`\\dot V = A(x(t))V` for ODEs (the same
    stages as the state; :meth:`Scheme.tangent_step
    <neurodyn.dynamics.integrate.Scheme.tangent_step>`). V is (n, k, d), trajectory b's
    k vectors the rows of ``V[b]`` (the layout of ``QRIteration``); the Jacobians
    multiply them as columns, (n, d, k), and the result is returned in the same
    transposed view, so that consecutive steps copy nothing.
    """

    #: A user's system may warn or fail on states that overflow: check after every step.
    check_every_step = True

    def __init__(self, dyn, scheme: Scheme):
        self.dyn, self.scheme = dyn, scheme

    def work(self, n: int, k: int) -> float:
        """Flops of one parallel operation: a (d × d)(d × k) product per trajectory."""
        return 2.0 * self.dyn.n_state**2 * k

    def _fj(self, x, c):
        r, a = self.dyn._residual_jacobian(NUMPY, x, c)
        return np.asarray(r), np.asarray(a)

    def __call__(self, X, V, c):
        Vc = np.ascontiguousarray(V.transpose(0, 2, 1))  # (n, d, k): no copy after a step
        X, Vc = self.scheme.tangent_step(lambda x: self._fj(x, c), X, Vc)
        return X, Vc.transpose(0, 2, 1)


class JacobianFreeStepper:
    """One step of a rate network's states and tangent vectors without forming Jacobians.

    The state follows :math:`r = s\\odot(-x + W\\phi(x) + c)` exactly as
    :class:`~neurodyn.dynamics.RateDynamics` evaluates it (so its trajectory is the
    reference's); the tangent vectors, in ``dtype``, follow :math:`AV = s\\odot(-V +
    W(\\phi'\\odot V))`.

    V is (n, k, d): trajectory b's k vectors are the rows of ``V[b]``, so that the
    trajectories' vectors stack into one (nk × d) matrix :math:`\\mathcal V` and the
    product is a single GEMM, :math:`(\\phi'\\odot\\mathcal V)\\,W^\\top`, while every
    per-unit scaling runs along contiguous rows of d numbers. An Euler step (and the
    Euler map, h = 1 with s = Δt/τ) is

    .. math::

        \\mathcal V \\leftarrow \\mathcal V\\operatorname{diag}(1 - hs)
        + (\\phi'\\odot\\mathcal V)(hs\\odot W)^\\top,

    one BLAS ``gemm`` that adds the product into :math:`\\mathcal V` in place
    (``beta`` = 1 − hs when every unit has the same time constant, else after scaling
    the columns), with the row scaling hs folded into W once.
    """

    #: States are checked at QR times only: every operation here is NumPy's, under the
    #: caller's errstate, so a state that overflows in between does no harm.
    check_every_step = False

    def __init__(self, dyn, scheme: Scheme, dtype):
        self.dyn, self.scheme = dyn, scheme
        self.dtype = np.dtype(dtype)
        self.W, self.s = dyn.W, dyn.scale
        hs = dyn.scale * scheme.h  # h = 1 for a map
        euler = scheme.method in ("map", "euler")
        # Fortran order: what gemm takes without a copy (and packs fastest).
        M = hs[:, None] * dyn.W if euler else dyn.W
        self.M = np.asfortranarray(M, dtype=self.dtype)
        self.gemm = get_blas_funcs("gemm", dtype=self.dtype)
        a = 1.0 - hs
        self.beta = float(a[0]) if np.all(a == a[0]) else None
        self.a = a.astype(self.dtype)
        self.s_row = dyn.scale.astype(self.dtype)
        self._buffers: dict[tuple, np.ndarray] = {}

    def work(self, n: int, k: int) -> float:
        """Flops of one parallel operation: one (nk × d)(d × d) product."""
        return 2.0 * self.dyn.n_state**2 * k * n

    def _field(self, X, c):
        """(r, φ'(X)) with r computed as the rate network's residual computes it
        (-X + Y Wᵀ equals Y Wᵀ - X exactly)."""
        y, dy = phi_and_derivative(NUMPY, self.dyn.nonlinearity, X)
        r = y @ self.W.T
        r -= X
        r += c
        r *= self.s
        return r, dy

    def _gain(self, dy, V):
        """φ' ⊙ V for every trajectory, in a buffer that the next call overwrites."""
        if V.shape not in self._buffers:
            self._buffers[V.shape] = np.empty(V.shape, self.dtype)
        G = self._buffers[V.shape]
        np.multiply(V, dy.astype(self.dtype, copy=False)[:, None, :], out=G)
        return G

    def _add_product(self, G, C, beta: float) -> None:
        """C ← G Mᵀ + beta C in place: C and G (n, k, d) as (nk × d) matrices, one gemm.

        In column-major terms Cᵀ ← M Gᵀ + beta Cᵀ, where Cᵀ and Gᵀ are Fortran-ordered
        views of the C-ordered arrays and M is kept in Fortran order, so gemm neither
        copies nor allocates.
        """
        n, k, d = C.shape
        Ct = C.reshape(n * k, d).T
        out = self.gemm(1.0, self.M, G.reshape(n * k, d).T, beta, Ct, overwrite_c=1)
        if not np.may_share_memory(out, Ct):  # a BLAS wrapper that copied after all
            Ct[...] = out

    def _tangent(self, dy, V):
        """s ⊙ (−V + W(φ' ⊙ V)), a new array."""
        K = V.copy()
        self._add_product(self._gain(dy, V), K, -1.0)
        K *= self.s_row
        return K

    def __call__(self, X, V, c):
        f1, dy = self._field(X, c)
        if self.scheme.method in ("map", "euler"):
            G = self._gain(dy, V)  # from V before the step
            if self.beta is None:
                V *= self.a
            self._add_product(G, V, 1.0 if self.beta is None else self.beta)
            return self.scheme.step(lambda x: self._field(x, c)[0], X, k1=f1), V

        def field(state):
            r, dy = self._field(state[0], c)
            return r, self._tangent(dy, state[1])

        return self.scheme.step(field, (X, V), k1=(f1, self._tangent(dy, V)))


class QRIteration:
    """The QR iteration of a batch of trajectories: schedule, redo, failure reports.

    Parameters
    ----------
    stepper : JacobianStepper or JacobianFreeStepper
    prep : callable
        ``prep(t, rows)``: the prepared input of step t for the trajectories ``rows``
        (None: all), shape (len(rows), ...).
    X : ndarray (n, d)
        Initial states (float64).
    V : ndarray (n, k, d)
        Orthonormal initial tangent vectors (trajectory b's are the rows of ``V[b]``), in
        the tangent precision.
    plan
        The run's settings (``adaptive``, ``interval``, ``max_interval``, ``log_kappa``,
        ``x_max``, ``precision``).
    """

    def __init__(self, stepper, prep, X, V, plan):
        n, _, d = V.shape
        self.stepper, self.prep, self.plan = stepper, prep, plan
        self.X, self.V = X, V
        self.V_saved = V.copy()
        self.active = np.ones(n, dtype=bool)
        self.status = np.full(n, OK, dtype=object)
        self.reason = np.full(n, "", dtype=object)
        self.interval = np.full(n, plan.interval, dtype=np.int64)
        self.t_saved = np.zeros(n, dtype=np.int64)
        self.n_qr = np.zeros(n, dtype=np.int64)
        self.n_redo = np.zeros(n, dtype=np.int64)
        self.max_log_kappa = 0.0
        # Tangent columns closer to parallel than this are not resolvable in one step:
        # Householder QR perturbs each column by about d ε of its norm.
        self.log_singular = -np.log(d * np.finfo(V.dtype).eps)
        self.window: deque = deque()  # (t, X_t): the states since the oldest accepted QR
        self.t = 0
        self.next_due = plan.interval

    # -- the forward pass ---------------------------------------------------------------
    def advance(self, n_steps: int, sums: np.ndarray, count: bool = True) -> None:
        """Advance every trajectory ``n_steps`` steps, adding Σ log|R_jj| to ``sums`` (n, k).

        Ends with a QR of every active trajectory, so that ``sums`` is up to date.
        ``count``: count the QRs in ``n_qr`` (not during the transient).
        """
        end = self.t + n_steps
        every = self.stepper.check_every_step
        # Overflow in a diverging state is expected and caught by _check_states.
        with np.errstate(over="ignore", invalid="ignore"):
            while self.t < end:
                t = self.t
                if self.plan.adaptive:  # only an adaptive run goes back
                    self.window.append((t, self.X))
                self.X, self.V = self.stepper(self.X, self.V, self.prep(t, None))
                self.t = t + 1
                if every:
                    self._check_states()
                if self.t < self.next_due and self.t < end:
                    continue
                if not every:
                    self._check_states()
                since = self.t - self.t_saved
                due = self.active & ((since >= self.interval) | (self.t == end))
                if due.any():
                    self._factor_rows(np.flatnonzero(due), sums, count)
                self._schedule()

    def _check_states(self) -> None:
        """Stop the trajectories whose state left |x| <= x_max or is NaN."""
        with np.errstate(invalid="ignore"):
            size = np.max(np.abs(self.X), axis=1)
        bad = self.active & ~(size <= self.plan.x_max)
        for b in np.flatnonzero(bad):
            what = (
                "became NaN or infinite"
                if not np.isfinite(size[b])
                else f"reached max|x| = {size[b]:.3g} > x_max = {self.plan.x_max:.3g}"
            )
            self._fail(b, DIVERGED, f"the state {what} by step {self.t}")
        if bad.any():
            # Stopped rows keep a harmless state, so that the batch keeps its shape
            # (self.X is the stepper's new array, not yet stored in the window).
            self.X[bad] = 0.0
            self._schedule()

    def _schedule(self) -> None:
        """The next step at which some trajectory is due for a QR; drop stored states
        that no trajectory can go back to."""
        if not self.active.any():
            self.next_due = np.iinfo(np.int64).max
            self.window.clear()
            return
        self.next_due = int(np.min((self.t_saved + self.interval)[self.active]))
        oldest = int(self.t_saved[self.active].min())
        while self.window and self.window[0][0] < oldest:
            self.window.popleft()

    # -- QR and its verdict ---------------------------------------------------------------
    def _factor_rows(self, idx, sums, count) -> None:
        since = self.t - self.t_saved[idx]
        q, logs, verdict = self._factor(self.V[idx].transpose(0, 2, 1), since)
        ok = verdict == OK
        self._accept(idx[ok], q[ok], logs[ok], since[ok], sums, count, self.t)
        for j in np.flatnonzero(~ok):
            b = idx[j]
            if verdict[j] == "redo":
                self._redo(b, sums, count)
            else:
                self._fail(b, verdict[j], self._failure_reason(verdict[j], b, self.t))

    def _factor(self, M, since):
        """QR of every (d, k) block of M; returns ``(Q, log|R_jj|, verdict)``.

        The verdict of a block is ``"ok"``, ``"redo"`` (adaptive, more than one step:
        κ_j above κ_max², a zero R_jj or non-finite vectors) or the failure status.
        """
        n, _, k = M.shape
        q = np.zeros_like(M)
        logs = np.zeros((n, k))
        log_kappa = np.full(n, np.inf)
        finite = np.all(np.isfinite(M), axis=(1, 2))
        if finite.any():
            qf, r = _qr(M[finite])
            q[finite] = qf
            diag = np.abs(np.diagonal(r, axis1=1, axis2=2)).astype(np.float64)
            col = np.linalg.norm(r.astype(np.float64), axis=1)
            resolved = np.all((diag > 0) & np.isfinite(col), axis=1)
            safe = np.where(diag > 0, diag, 1.0)
            with np.errstate(divide="ignore"):
                lk = np.where(diag > 0, np.log(np.maximum(col, safe) / safe), np.inf)
            lk = np.max(lk, axis=1)
            lk[~resolved] = np.inf
            log_kappa[finite] = lk
            logs[finite] = np.log(safe)
        one = since == 1
        can_redo = ~one if self.plan.adaptive else np.zeros(n, dtype=bool)
        limit = np.where(can_redo, 2.0 * self.plan.log_kappa, self.log_singular)
        bad = ~(log_kappa <= limit)
        verdict = np.full(n, OK, dtype=object)
        verdict[bad & finite] = LOST_RANK
        verdict[bad & finite & one] = SINGULAR
        verdict[bad & ~finite] = NONFINITE
        verdict[bad & can_redo] = "redo"
        ok = verdict == OK
        if ok.any():
            self.max_log_kappa = max(self.max_log_kappa, float(np.max(log_kappa[ok])))
        return q, logs, verdict

    def _accept(self, rows, q, logs, since, sums, count, t) -> None:
        """Count the intervals of ``rows`` that ended at step t (``since`` steps long) and
        restart them from their Q (``q``: (len(rows), d, k))."""
        sums[rows] += logs
        if count:
            self.n_qr[rows] += 1
        self.V[rows] = q.transpose(0, 2, 1)
        self.V_saved[rows] = self.V[rows]
        self.t_saved[rows] = t
        if self.plan.adaptive:
            self.interval[rows] = self._next_interval(logs, since, self.interval[rows])

    def _next_interval(self, logs, since, current):
        """The next intervals from the local exponents of the ones just accepted."""
        plan = self.plan
        spread = (np.max(logs, axis=1) - np.min(logs, axis=1)) / since
        size = np.max(np.abs(logs), axis=1) / since
        m = np.minimum(plan.max_interval, 2 * np.maximum(since, current)).astype(float)
        with np.errstate(divide="ignore"):
            m = np.minimum(m, np.floor(plan.log_kappa / spread))
            m = np.minimum(m, np.floor(LOG_GROWTH[plan.precision] / size))
        return np.maximum(1, m).astype(np.int64)

    def _redo(self, b, sums, count) -> None:
        """Redo trajectory b's tangent vectors since its last accepted QR, in halves, from
        the stored states; the last accepted QR is at the current step."""
        steps = [(t, X) for t, X in self.window if t >= self.t_saved[b]]
        self.n_redo[b] += 1
        pos, n = 0, max(1, len(steps) // 2)
        while pos < len(steps):
            n = min(n, len(steps) - pos)
            V = self.V_saved[b : b + 1].copy()
            for t, X in steps[pos : pos + n]:
                with np.errstate(over="ignore", invalid="ignore"):
                    _, V = self.stepper(X[b : b + 1], V, self.prep(t, [b]))
            q, logs, verdict = self._factor(V.transpose(0, 2, 1), np.array([n]))
            t_end = steps[pos + n - 1][0] + 1
            if verdict[0] == "redo":
                n = max(1, n // 2)
                self.interval[b] = n
            elif verdict[0] != OK:
                self._fail(b, verdict[0], self._failure_reason(verdict[0], b, t_end))
                return
            else:
                self._accept([b], q, logs, np.array([n]), sums, count, t_end)
                pos += n
                n = int(self.interval[b])

    # -- failures -----------------------------------------------------------------------
    def _failure_reason(self, status: str, b: int, t: int) -> str:
        if status == SINGULAR:
            return (
                f"the tangent map at step {t} is singular to working precision (an R_jj "
                "of a one-step QR at rounding level): the smallest exponents asked for are "
                "-inf on this trajectory; ask for fewer (k) or check the Jacobian"
            )
        if status == NONFINITE:
            return (
                f"the tangent vectors became NaN or infinite by step {t} (a Jacobian that "
                "is not finite there, or growth beyond the floating-point range between "
                "QRs)"
            )
        return (
            f"the tangent vectors lost rank between two QRs (step {t}, reorth="
            f"{int(self.interval[b])}): use reorth='auto' or a shorter reorth"
        )

    def _fail(self, b, status: str, reason: str) -> None:
        self.active[b] = False
        self.status[b] = status
        self.reason[b] = reason
        self.V[b] = 0.0
        # A state that leaves the bounds is an answer (the trajectory diverges); a tangent
        # map that cannot be resolved is a numerical failure the user should see.
        level = logging.INFO if status == DIVERGED else logging.WARNING
        logger.log(level, "Lyapunov trajectory %d stopped (%s): %s", b, status, reason)
