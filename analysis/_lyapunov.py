r"""Numba kernel: the QR (Benettin) Lyapunov method for rate networks without forming Jacobians.

Private: called only by :func:`neurodyn.analysis.lyapunov_spectrum`, which validates
everything; the NumPy reference in :mod:`neurodyn.analysis.lyapunov` runs the same
algorithm on formed Jacobians and the tests compare the two.

For the rate network :math:`\dot x = s\odot(-x + W\phi(x) + c_t)` the tangent map
never needs the d × d Jacobian :math:`A = \operatorname{diag}(s)(W\operatorname{diag}
(\phi'(x)) - I)`: applied to the k tangent vectors Q (d × k) it is

.. math::

    A Q = s\odot\bigl(-Q + W\,(\phi'(x)\odot Q)\bigr),

a row scaling of Q plus **one** matrix product with a row-scaled Q, O(d²k) instead of
O(d³) to form and multiply A. With the Euler step h (h = 1 for the Euler *map*,
whose ``s`` is then α = Δt/τ) the tangent update is :math:`Q \leftarrow (1 - hs)\odot Q
+ hs\odot W(\phi'\odot Q)`; with ``rk4`` the variational equation is integrated with
the same four stages as the state.

Re-orthonormalisation. Between QR factorisations the columns of Q grow at their own
rates; after m steps the spread of the local exponents ℓ_i (per step, from the last R)
makes Q's condition number about :math:`\exp(m(\ell_{\max} - \ell_{\min}))`. Since the R
factor of the product of m tangent maps equals the product of the per-step R factors,
QR every m steps gives the same exponents as QR every step as long as that condition
number stays far from 1/ε; the adaptive rule picks
:math:`m = \lfloor \log(\kappa_{\max}) / (\ell_{\max} - \ell_{\min})\rfloor`, clipped to
``[1, max_interval]``. Where the local stretching varies (the Hénon map), one interval
can still spread the columns beyond :math:`\kappa_{\max}^2` (read off the new R's
diagonal); that interval is then redone from the last accepted QR in halves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._newton import _phi

#: Kernel status codes.
OK, DIVERGED = 0, 1


@njit(cache=True)
def _velocity(phi, W, s, c, x, y, dy, out):
    """out = s ⊙ (−x + Wφ(x) + c); leaves φ(x) in y and φ'(x) in dy."""
    _phi(phi, x, y, dy)
    z = W @ y
    for i in range(x.shape[0]):
        out[i] = s[i] * (-x[i] + z[i] + c[i])


@njit(cache=True)
def _gain_product(Wt, dy, V, scratch, prod):
    """prod = W(φ' ⊙ V) (``Wt`` is W in the dtype of V)."""
    d, k = V.shape
    for i in range(d):
        g = dy[i]
        for j in range(k):
            scratch[i, j] = g * V[i, j]
    np.dot(Wt, scratch, prod)


@njit(cache=True)
def _tangent(Wt, s, dy, V, scratch, prod, out):
    """out = s ⊙ (−V + W(φ' ⊙ V)) in the dtype of V."""
    _gain_product(Wt, dy, V, scratch, prod)
    d, k = V.shape
    for i in range(d):
        si = s[i]
        for j in range(k):
            out[i, j] = si * (prod[i, j] - V[i, j])


@njit(cache=True)
def _euler_tangent(Wt, s, dy, Q, h, scratch, prod):
    """Q ← (1 − hs) ⊙ Q + hs ⊙ W(φ' ⊙ Q) in place: two passes over Q and one product."""
    _gain_product(Wt, dy, Q, scratch, prod)
    d, k = Q.shape
    for i in range(d):
        b = h * s[i]
        a = 1.0 - b
        for j in range(k):
            Q[i, j] = a * Q[i, j] + b * prod[i, j]


@njit(cache=True)
def _stage(x, Q, a, f, K, xs, Vs):
    """The point of an RK4 stage: xs = x + a f, Vs = Q + a K."""
    d, k = Q.shape
    for i in range(d):
        xs[i] = x[i] + a * f[i]
        for j in range(k):
            Vs[i, j] = Q[i, j] + a * K[i, j]


@njit(cache=True)
def rate_advance(
    phi,
    W,
    Wt,
    s,
    drive,
    t0,
    x,
    Q,
    h,
    rk4,
    n_steps,
    interval,
    adaptive,
    log_kappa,
    max_interval,
    x_max,
    log_sums,
):
    """Advance one trajectory ``n_steps`` steps from step ``t0``, accumulating log|diag R|.

    ``x`` (d,) float64 and ``Q`` (d, k) are updated in place; ``log_sums`` (k,) float64
    receives Σ log|R_ii|. ``drive`` is (T, d) with row ``t`` the constant input drive
    ``W_in u_t + b`` at step t (one row: constant). A state beyond ``x_max`` (or NaN) at a
    QR time stops the run as diverged. Ends with a QR, so Q is orthonormal on return.
    Returns ``(status, next_interval, n_qr)``.
    """
    d, k = Q.shape
    y = np.empty(d)
    dy = np.empty(d)
    f1 = np.empty(d)
    f2 = np.empty(d)
    f3 = np.empty(d)
    f4 = np.empty(d)
    xs = np.empty(d)
    scratch = np.empty_like(Q)
    prod = np.empty_like(Q)
    K1 = np.empty_like(Q)
    K2 = np.empty_like(Q)
    K3 = np.empty_like(Q)
    K4 = np.empty_like(Q)
    Vs = np.empty_like(Q)
    n_drive = drive.shape[0]
    logs = np.empty(k)
    # The state at the last accepted QR, to redo an interval that lost precision.
    x_saved = x.copy()
    Q_saved = Q.copy()
    step_saved = 0
    since = 0
    n_qr = 0
    step = 0
    while step < n_steps:
        t = t0 + step
        c = drive[t if n_drive > 1 else 0]
        if not rk4:
            _velocity(phi, W, s, c, x, y, dy, f1)
            # The tangent map uses the Jacobian at the state before the step.
            _euler_tangent(Wt, s, dy, Q, h, scratch, prod)
            for i in range(d):
                x[i] += h * f1[i]
        else:
            _velocity(phi, W, s, c, x, y, dy, f1)
            _tangent(Wt, s, dy, Q, scratch, prod, K1)
            _stage(x, Q, 0.5 * h, f1, K1, xs, Vs)
            _velocity(phi, W, s, c, xs, y, dy, f2)
            _tangent(Wt, s, dy, Vs, scratch, prod, K2)
            _stage(x, Q, 0.5 * h, f2, K2, xs, Vs)
            _velocity(phi, W, s, c, xs, y, dy, f3)
            _tangent(Wt, s, dy, Vs, scratch, prod, K3)
            _stage(x, Q, h, f3, K3, xs, Vs)
            _velocity(phi, W, s, c, xs, y, dy, f4)
            _tangent(Wt, s, dy, Vs, scratch, prod, K4)
            for i in range(d):
                x[i] += h / 6.0 * (f1[i] + 2.0 * f2[i] + 2.0 * f3[i] + f4[i])
                for j in range(k):
                    Q[i, j] += h / 6.0 * (K1[i, j] + 2.0 * K2[i, j] + 2.0 * K3[i, j] + K4[i, j])
        since += 1
        step += 1
        if since >= interval or step == n_steps:
            for i in range(d):
                if not abs(x[i]) <= x_max:  # also catches NaN
                    return DIVERGED, interval, n_qr
            q, r = np.linalg.qr(Q)
            lo = np.inf
            hi = -np.inf
            for j in range(k):
                v = np.log(abs(np.float64(r[j, j])))
                if not np.isfinite(v):
                    return DIVERGED, interval, n_qr
                logs[j] = v
                lo = min(lo, v)
                hi = max(hi, v)
            if adaptive and since > 1 and hi - lo > 2.0 * log_kappa:
                # The columns drifted apart beyond κ_max² (local stretching far above the
                # average that chose the interval): redo the interval in halves.
                x[:] = x_saved
                Q[:, :] = Q_saved
                step = step_saved
                interval = max(1, since // 2)
                since = 0
                continue
            for j in range(k):
                log_sums[j] += logs[j]
            Q[:, :] = q
            n_qr += 1
            if adaptive:
                spread = (hi - lo) / since
                m = max_interval if spread <= 0.0 else int(log_kappa / spread)
                interval = max(1, min(max_interval, m))
                x_saved[:] = x
                Q_saved[:, :] = Q
                step_saved = step
            since = 0
    return OK, interval, n_qr
