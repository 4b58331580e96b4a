r"""``method="adam"``: the Sussillo–Barak / FixedPointFinder algorithm, for comparison.

Minimises :math:`\bar q = \frac1n\sum_i q_i`, :math:`q_i = \tfrac12\|r(x_i)\|^2`, over all
candidates jointly with Adam (learning rate 1.0, :math:`\beta = (0.9, 0.999)`,
:math:`\epsilon = 10^{-8}`), multiplying the learning rate by 0.95 when :math:`\bar q`
has not improved by one part in :math:`10^4` for ``lr_patience`` iterations (PyTorch's
``ReduceLROnPlateau``), and stops when every candidate has :math:`q_i <` ``tol_q``
or :math:`|\Delta q_i| <` ``tol_dq`` × learning rate, or after ``max_iter`` iterations.
These are FixedPointFinder's defaults (Golub & Sussillo 2018). As there, all
candidates run until the last one stops; the gradient
:math:`\nabla_{x_i}\bar q = A_i^\top r_i / n` comes from the protocol's ``_vjp``.

Outcome per candidate: a root when :math:`q_i \le` ``tol_q``; a slow point when it
stopped on :math:`|\Delta q_i|` (a minimum of q above tolerance); failed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from .outcomes import DIVERGED, MAX_ITER, ROOT, SLOW

__all__ = ["AdamOptions", "solve_adam"]


@dataclass(frozen=True)
class AdamOptions:
    r"""Settings of ``method="adam"`` (FixedPointFinder's defaults).

    Parameters
    ----------
    tol_q : float
        A candidate is a root once :math:`q_i = \tfrac12\|r(x_i)\|^2` is below this.
    tol_dq : float
        A candidate stops (as a slow point, unless it is a root) once
        :math:`|\Delta q_i|` per iteration is below ``tol_dq`` times the learning rate.
    max_iter : int
        Iterations of the joint minimisation; candidates that reach it unfinished fail
        with ``max_iter``.
    lr : float
        Initial learning rate of Adam (state units per iteration).
    lr_factor : float
        Factor applied to the learning rate on a plateau of the mean q.
    lr_patience : int
        Iterations without a relative improvement of 1e-4 in the mean q before the
        learning rate is reduced.
    lr_cooldown : int
        Iterations after a reduction during which plateaus are not counted.
    betas : (float, float)
        Adam's decay rates of the first and second moment estimates.
    eps : float
        Added to the root of the second moment estimate (numerical stability).

    Examples
    --------
    Pass it as ``options`` of :func:`~neurodyn.analysis.find_fixed_points` with
    ``method="adam"``. Two uncoupled bistable units,
    :math:`\tau\dot x = -x + 2\tanh x`, have 3 × 3 fixed points, at
    :math:`x_i \in \{0, \pm 1.915\}`: the default settings find all nine, and 50
    iterations leave every candidate unfinished but the one that starts on the origin:

    >>> import numpy as np
    >>> from neurodyn.analysis import AdamOptions, find_fixed_points
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    >>> fps = find_fixed_points(dyn, [0.0], X0, method="adam", progress=False)
    >>> fps.summary()["stable"], fps.summary()["unstable_1"], fps.summary()["unstable_2"]
    (4, 4, 1)
    >>> short = find_fixed_points(dyn, [0.0], X0, method="adam",
    ...                           options=AdamOptions(max_iter=50), progress=False)
    >>> short.info["failures"]["max_iter"]
    24
    """

    tol_q: float = 1e-12
    tol_dq: float = 1e-20
    max_iter: int = 10_000
    lr: float = 1.0
    lr_factor: float = 0.95
    lr_patience: int = 5
    lr_cooldown: int = 0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8


def solve_adam(dyn, ops, X0, C, opts: AdamOptions):
    r"""Run joint Adam on every row of ``X0``; returns ``(x, q, n_iter, status)``.

    Called by :func:`~neurodyn.analysis.find_fixed_points` for ``method="adam"``.

    Parameters
    ----------
    dyn : Dynamics
        The system; its ``_residual`` and ``_vjp`` (:math:`A^\top r`) are evaluated.
    ops : namespace
        The array library of :mod:`neurodyn.dynamics.ops` the arrays belong to
        (``NUMPY``, or ``TORCH()`` for tensors on a device).
    X0 : array (n, d)
        Initial states, one candidate per row (not modified).
    C : array (n, ...)
        The candidates' inputs as ``dyn._prepare(ops, u)`` returns them.
    opts : AdamOptions

    Returns
    -------
    x : array (n, d)
        Where each candidate stopped.
    q : array (n,)
        :math:`\tfrac12\|r(x)\|^2` there.
    n_iter : int array (n,)
        Iterations, the same for all (they run jointly).
    status : int array (n,)
        Outcome code (:data:`~neurodyn.analysis.fixed_points.outcomes.OUTCOMES`): 0
        root, 1 slow point, 2 diverged, 5 ``max_iter``.

    Examples
    --------
    Two uncoupled bistable units, :math:`\tau\dot x = -x + 2\tanh x`, have 3 × 3 fixed
    points, at :math:`x_i \in \{0, \pm 1.915\}`:

    >>> import numpy as np
    >>> from neurodyn.dynamics import RateDynamics
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 candidates
    >>> C = dyn._prepare(NUMPY, np.zeros((25, 1)))  # the prepared zero input
    >>> from neurodyn.analysis.fixed_points.adam import AdamOptions, solve_adam
    >>> x, q, n_iter, status = solve_adam(dyn, NUMPY, X0, C, AdamOptions())
    >>> bool(np.all(status == 0)), bool(np.all(q < 1e-12))
    (True, True)
    >>> np.unique(np.abs(x).round(3)).tolist()
    [0.0, 1.915]
    """
    x = ops.copy(X0)
    n = x.shape[0]
    m = 0.0 * x
    v = 0.0 * x
    b1, b2 = opts.betas
    lr = opts.lr
    best, bad, cooldown = float("inf"), 0, 0
    q_prev = None
    it = 0
    while True:
        r = dyn._residual(ops, x, C)
        q = 0.5 * (r * r).sum(-1)
        dq = ops.abs(q - q_prev) if q_prev is not None else None
        done_q = q < opts.tol_q
        if dq is not None:
            stop = done_q | (dq < opts.tol_dq * lr)
            if bool(stop.all()) or it >= opts.max_iter:
                break
        elif bool(done_q.all()) or it >= opts.max_iter:
            break
        it += 1
        g = dyn._vjp(ops, x, C, r) / n
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**it)
        v_hat = v / (1 - b2**it)
        x = x - lr * m_hat / (ops.sqrt(v_hat) + opts.eps)
        q_prev = q
        # ReduceLROnPlateau(mode="min", threshold=1e-4 relative) on the mean q.
        mean_q = float(q.mean())
        if mean_q < best * (1 - 1e-4):
            best, bad = mean_q, 0
        else:
            bad += 1
        if cooldown > 0:
            cooldown -= 1
            bad = 0
        if bad > opts.lr_patience:
            lr *= opts.lr_factor
            cooldown, bad = opts.lr_cooldown, 0
    finite = ops.isfinite(q) & ops.isfinite(x).all(-1)
    status = ops.full(n, MAX_ITER, x, integer=True)
    if dq is not None:
        status = ops.where(dq < opts.tol_dq * lr, SLOW + 0 * status, status)
    status = ops.where(q < opts.tol_q, ROOT + 0 * status, status)
    status = ops.where(finite, status, DIVERGED + 0 * status)
    n_iter = ops.full(n, it, x, integer=True)
    return x, q, n_iter, status
