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
    """Settings of ``method="adam"`` (FixedPointFinder's defaults)."""

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
    """Run joint Adam on every row of ``X0``; returns ``(x, q, n_iter, status)``."""
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
