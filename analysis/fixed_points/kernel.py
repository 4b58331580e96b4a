r"""The compiled Newton/Levenberg–Marquardt kernel, candidates in lockstep on each thread.

Private: called only by :func:`neurodyn.analysis.find_fixed_points`. The kernel is C++
(``csrc/cpu/newton_cpu.cpp``, with the models in ``csrc/include/neurodyn/newton_model.h``
and the LU in ``newton_lu.h``), compiled into ``neurodyn._C`` when neurodyn is installed,
so no call ever waits for compilation. Its algorithm is written out below; the array
solver (:mod:`~neurodyn.analysis.fixed_points.batched`) runs the same method on NumPy or
torch arrays, and the tests compare both with the plain solver of
:mod:`~neurodyn.analysis.fixed_points.reference` on where the candidates end.

For each candidate, with residual :math:`r(x)` (``F(x) - x`` or ``f(x)``), its
Jacobian :math:`A` and :math:`q = \tfrac12\|r\|^2`, every iteration first checks that
it has not

* **diverged**: q not finite, or a coordinate beyond ``x_max``;
* **left the state set** the model can reach (:meth:`~neurodyn.dynamics.Dynamics.state_bounds`,
  e.g. :math:`|h| \le 1` for a GRU): its excursion
  :math:`e(x) = \max_i \max(l_i - x_i,\; x_i - u_i,\; 0)` outside the bounds
  :math:`l \le x \le u` exceeds its starting excursion :math:`e(x_0)` by more than
  ``state_margin``. No root lies outside (a GRU's fixed point is
  :math:`h = n \in (-1, 1)`); a candidate far outside only finds places where
  saturated gates flatten the residual (failed GRU candidates were seen at
  :math:`|h|` of 28 to 195). Newton's iterates are not states of the network, though:
  a damped step may overshoot the set and come back, and initial states sampled
  with noise around visited states may start outside, hence the margin (see
  :class:`~neurodyn.analysis.SolverOptions`);

and then:

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
   (then take one more step with the last Newton step's factors as a polish);
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

A root or slow point that ends outside the state set by more than ``state_tol`` (a
rounding-level tolerance, so that roots on a bound are kept) has left it too.

An iteration (``n_iter``) is one factorisation of A with its Newton step, line
search, chord steps or LM steps.

Each thread carries several candidates in lockstep, one per lane of the processor's
widest SIMD vectors (8 with AVX-512, 4 with AVX2; the solver is compiled for each and
picked at run time), for states of up to 64 entries: every step above (a
factorisation, a triangular solve, a residual) runs for all lanes at once, each lane
with its own candidate's decisions. A small candidate's work is mostly chains of
dependent operations (the pivot search, the substitutions, the tanh of a residual
entry), which the lanes interleave. The tanh of the rate and Elman models is the
kernel's own for that reason, arithmetic that vectorises (within 2 ulp of the exact
value, as the C library's). Each lane's arithmetic is exactly that of the candidate
alone, in the same order, so the lane count changes no result (tested bit for bit).
Larger states, and processors without AVX2, take one candidate at a time.

A lane whose candidate ends takes the next from a counter the threads share, so
converged candidates cost nothing while stragglers finish: the batch never waits for
its slowest member, and a thread held up by another process leaves its candidates to
the others. Each thread allocates its buffers once; nothing is allocated per
candidate, and the kernel runs without the GIL.

Models (``model`` codes of :class:`~neurodyn.dynamics.protocol.KernelSpec`) and their
residuals, for per-candidate input drive ``c``:

* 0 rate:  :math:`r = s\odot(-x + W\phi(x) + c)`
* 1 Elman: :math:`r = \phi(Wx + c) - x`
* 2 GRU:   :math:`r = (1-z)\odot(n - x)` (PyTorch's gates, ``bias`` = :math:`b_{hh}`)
* 3 LSTM:  :math:`r = [o\odot\tanh c' - h,\; c' - c]`
"""

from __future__ import annotations

import contextlib
import hashlib
import threading

import numpy as np

from ...dynamics.nonlinearities import PHI_CURVATURE
from ...dynamics.ops import NUMPY

__all__ = [
    "evaluate",
    "jacobian_lipschitz",
    "radii_from_jacobians",
    "root_radii",
    "solve",
    "spectral_norm_bound",
    "widest_lanes",
]

RATE, ELMAN, GRU, LSTM = 0, 1, 2, 3

#: How many networks' Lipschitz constants :func:`jacobian_lipschitz` keeps.
LIPSCHITZ_KEPT = 32
_LIPSCHITZ: dict[tuple, float] = {}
_LIPSCHITZ_LOCK = threading.Lock()


def _module():
    """``neurodyn._C`` (the wrapper checked that it is built)."""
    from ...backends import get_module

    return get_module("cpp")


def _f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _spec64(spec):
    """The KernelSpec with float64 C-contiguous arrays, as the kernel reads them."""
    return spec._replace(weight=_f64(spec.weight), bias=_f64(spec.bias), scale=_f64(spec.scale))


def _int64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


def solve(spec, C, group, X, opts, known, bounds, threads: int, out=None, lanes: int = 0):
    """Run the kernel on the candidates X (n, d), updated in place.

    Parameters
    ----------
    spec : KernelSpec
    C : array (G, width)
        The prepared input of each input group; candidate k has ``C[group[k]]``.
    group : int array (n,)
    X : float64 C-contiguous array (n, d)
    opts : SolverOptions
    known : KnownRoots
        Roots where candidates may stop (step 0), its arrays float64 (``group`` int64)
        and C-contiguous, as the kernel reads them (it raises ValueError otherwise).
    bounds : (lower, upper) of float64 arrays (d,), or None
        The reachable state set.
    threads : int
        OpenMP threads.
    out : tuple of four arrays (n,), optional
        Where to write the results below (contiguous; float64 q, int64 the others), for
        example views of the caller's arrays; new arrays by default.
    lanes : int
        Candidates each thread carries in lockstep: 0 (the default) picks the widest
        vectors of the processor (:func:`widest_lanes`) for states of up to 64 entries
        and 1 above; 1, 4 or 8 force a count the processor has. The count changes
        no result, only the speed.

    Returns
    -------
    q (n,), n_iter (n,), status (n,), root (n,)
        ``root``: the index of the known root each candidate stopped at, or -1.

    Examples
    --------
    Two uncoupled bistable units, :math:`\\tau\\dot x = -x + 2\\tanh x`, have nine fixed
    points, at :math:`x_i \\in \\{0, \\pm 1.915\\}`; the kernel finds one from every
    candidate of a grid, on one thread:

    >>> from neurodyn.analysis import SolverOptions
    >>> from neurodyn.analysis.fixed_points.options import KnownRoots
    >>> from neurodyn.dynamics.ops import NUMPY
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> spec = dyn.kernel_spec()
    >>> g = np.linspace(-3, 3, 5)
    >>> X = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # solved in place
    >>> C = dyn._prepare(NUMPY, np.zeros((1, 1)))  # one input group
    >>> group = np.zeros(len(X), dtype=np.int64)
    >>> q, n_iter, status, root = solve(spec, C, group, X, SolverOptions(),
    ...                                 KnownRoots.none(2), None, threads=1)
    >>> bool(np.all(status == 0)), int(n_iter.max()), np.unique(np.abs(X).round(3)).tolist()
    (True, 3, [0.0, 1.915])
    """
    if out is None:
        n = len(X)
        out = (np.empty(n), *(np.empty(n, dtype=np.int64) for _ in range(3)))
    _module().newton_solve(
        _spec64(spec), _f64(C), _int64(group), X, opts, known, bounds, *out, int(threads), lanes
    )
    return out


def widest_lanes() -> int:
    """Candidates the kernel carries in lockstep on this processor: as many as its
    widest vectors hold doubles (8 with AVX-512, 4 with AVX2), else 1.

    Examples
    --------
    >>> widest_lanes() in (1, 4, 8)
    True
    """
    return int(_module().newton_lanes())


def evaluate(spec, C, X):
    """Residuals (n, d) and Jacobians (n, d, d) of the states X (n, d) with prepared
    inputs C (n, width), as the kernel computes them (for tests).

    Parameters
    ----------
    spec : KernelSpec
        The model's arrays (:meth:`~neurodyn.dynamics.Dynamics.kernel_spec`).
    C : array (n, width)
        The prepared input of each state (``dyn._prepare(NUMPY, u)``).
    X : array (n, d)
        States.

    Returns
    -------
    R : ndarray (n, d)
        Residuals :math:`r(x)` (``f(x)`` of an ODE, ``F(x) - x`` of a map).
    A : ndarray (n, d, d)
        Their Jacobians :math:`\\partial r/\\partial x`.

    Examples
    --------
    The kernel's residuals and Jacobians are those of the model's NumPy code:

    >>> from neurodyn.dynamics.ops import NUMPY
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> spec = dyn.kernel_spec()
    >>> X, U = np.random.default_rng(0).normal(size=(4, 2)), np.zeros((4, 1))
    >>> R, A = evaluate(spec, dyn._prepare(NUMPY, U), X)
    >>> bool(np.allclose(R, dyn.residual(X, U))), bool(np.allclose(A, dyn.jacobian(X, U)))
    (True, True)
    """
    X = _f64(X)
    n, d = X.shape
    R, A = np.empty((n, d)), np.empty((n, d, d))
    _module().newton_evaluate(_spec64(spec), _f64(C), X, R, A)
    return R, A


def jacobian_lipschitz(spec) -> float:
    r"""A Lipschitz constant L of the residual's Jacobian: :math:`\|A(x) - A(y)\|_2 \le L\|x - y\|_2`.

    With :math:`c = \sup|\phi''|` (the curvature bound of the nonlinearity table,
    :data:`neurodyn.dynamics.nonlinearities.PHI_CURVATURE`):

    * rate, :math:`A(x) = \mathrm{diag}(s)(W\,\mathrm{diag}\,\phi'(x) - I)`:
      :math:`A(x) - A(y) = \mathrm{diag}(s)\,W\,\mathrm{diag}(\phi'(x) - \phi'(y))`, so
      :math:`L = c\,\max|s|\,\|W\|_2`;
    * Elman, :math:`A(x) = \mathrm{diag}\,\phi'(Wx + c)\,W - I`: the diagonal changes by at
      most :math:`c\,\max_i |W_i (x - y)| \le c \max_i\|W_i\|_2 \|x - y\|_2`, so
      :math:`L = c\,\|W\|_2 \max_i \|W_i\|_2`;
    * GRU and LSTM: inf (no bound is derived; their candidates use the tail test only).

    inf also for the nonlinearities with a kink. :math:`\|W\|_2` is bounded from
    above by :func:`spectral_norm_bound`.

    The constant is kept (for the last :data:`LIPSCHITZ_KEPT` networks) under a digest
    of the model code, the nonlinearity, the weights and the row scale: a network is
    usually searched again and again (one call per input condition, repeated calls),
    and the bound costs four d × d products where the digest reads the weights once.

    Parameters
    ----------
    spec : KernelSpec
        The model's arrays (:meth:`~neurodyn.dynamics.Dynamics.kernel_spec`): its model
        and nonlinearity codes, recurrent weights and row scale s (1/τ of a rate ODE).

    Returns
    -------
    float
        L, or inf where no bound is derived.

    Examples
    --------
    For a tanh rate network, :math:`c = \sup|\tanh''| = 4/(3\sqrt 3)`; with
    :math:`W = 2I` and τ = 10 ms, :math:`L = 0.1 \cdot 2c`:

    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> spec = dyn.kernel_spec()
    >>> L = jacobian_lipschitz(spec)
    >>> bool(np.isclose(L, 0.1 * 2 * 4 / (3 * np.sqrt(3)), rtol=1e-9))
    True
    """
    c = PHI_CURVATURE[spec.phi]
    if spec.model not in (RATE, ELMAN) or not np.isfinite(c):
        return np.inf
    W, scale = _f64(spec.weight), _f64(spec.scale)
    digest = hashlib.blake2b(W, digest_size=16)
    digest.update(scale)
    key = (spec.model, spec.phi, W.shape, scale.shape, digest.digest())
    with _LIPSCHITZ_LOCK:
        lip = _LIPSCHITZ.get(key)
    if lip is not None:
        return lip
    w2 = spectral_norm_bound(W)
    if spec.model == RATE:
        lip = c * float(np.max(np.abs(scale))) * w2
    else:
        lip = c * w2 * float(np.max(np.linalg.norm(W, axis=1)))
    with _LIPSCHITZ_LOCK:
        if len(_LIPSCHITZ) >= LIPSCHITZ_KEPT:
            del _LIPSCHITZ[next(iter(_LIPSCHITZ))]  # the oldest
        _LIPSCHITZ[key] = lip
    return lip


def spectral_norm_bound(W) -> float:
    r"""An upper bound on :math:`\|W\|_2`, at most :math:`d^{1/32}` times too large
    (1.09 at d = 16, 1.19 at d = 256), for a fraction of an SVD's cost.

    :math:`G = W^\top W` is symmetric positive semidefinite with largest eigenvalue
    :math:`\lambda = \|W\|_2^2`, so for every power m,
    :math:`\lambda^m = \|G^m\|_2 \le \|G^m\|_\infty \le \sqrt d\,\lambda^m`.
    Here m = 8, by three squarings of :math:`G/\|G\|_\infty` (no overflow), and the
    result is raised by a relative 1e-10, far above the products' rounding errors.

    Parameters
    ----------
    W : array (a, d)
        A real matrix.

    Returns
    -------
    float
        The bound, at least :math:`\|W\|_2`.

    Examples
    --------
    >>> W = np.random.default_rng(0).normal(size=(16, 16))
    >>> exact = np.linalg.norm(W, 2)
    >>> bool(exact <= spectral_norm_bound(W) <= 16 ** (1 / 32) * exact * (1 + 1e-9))
    True
    """
    W = _f64(W)
    G = W.T @ W
    s = float(np.max(np.sum(np.abs(G), axis=1)))
    if s == 0.0 or not np.isfinite(s):
        return s
    H = G / s
    for _ in range(3):
        H = H @ H
    return float(np.sqrt(s * np.max(np.sum(np.abs(H), axis=1)) ** 0.125) * (1.0 + 1e-10))


def _inverses(A):
    """The inverse of each A[k] (K, d, d), and whether it exists (not singular, finite)."""
    try:
        inv = np.linalg.inv(A)
    except np.linalg.LinAlgError:  # one singular matrix fails the batch: one at a time
        inv, ok = np.zeros_like(A), np.zeros(len(A), dtype=bool)
        for k in range(len(A)):
            with contextlib.suppress(np.linalg.LinAlgError):
                inv[k], ok[k] = np.linalg.inv(A[k]), True
        return inv, ok & np.isfinite(inv).all(axis=(1, 2))
    return inv, np.isfinite(inv).all(axis=(1, 2))


def root_radii(dyn, spec, X, C):
    r"""Balls of convergence and of uniqueness around roots X (K, d) with prepared
    inputs C, for step 0 of the solver; returns ``(radii (K, 2), gate (2,))``.

    With :math:`\beta \ge \|A(x^*)^{-1}\|_2` and L (finite) the Jacobian's Lipschitz
    constant (:func:`jacobian_lipschitz`), the classical local theory of Newton's method gives:

    * from any x with :math:`\|x - x^*\| < \rho = 2/(3\beta L)`, Newton's iteration
      converges to :math:`x^*`: its error e obeys
      :math:`\|e_+\| \le \tfrac{\beta L\|e\|^2}{2(1 - \beta L\|e\|)} < \|e\|`;
    * :math:`x^*` is the only root within :math:`3\rho = 2/(\beta L)`: for a root y,
      :math:`0 = r(y) - r(x^*) = (A^* + E)(y - x^*)` with :math:`\|E\| \le
      L\|y - x^*\|/2`, and :math:`A^* + E` is invertible while
      :math:`\beta L\|y - x^*\|/2 < 1`.

    β is :math:`\sqrt{\|A^{-1}\|_1\|A^{-1}\|_\infty} \ge \|A^{-1}\|_2`. ``radii[k] =
    (ρ, 3ρ)`` (zeros where A is singular or L is inf) and ``gate = (q_max, 3ρ_max)``:
    in a ball of convergence :math:`\|r(x)\| \le \|r(x^*)\| + \|A^*\|_F\,\rho +
    L\rho^2/2` (Taylor with a Lipschitz Jacobian), so :math:`q \le q_{max}`, half the
    largest square of that bound.

    Parameters
    ----------
    dyn : Dynamics
        The system whose roots these are.
    spec : KernelSpec
        Its arrays (``dyn.kernel_spec()``), for :func:`jacobian_lipschitz`.
    X : array (K, d)
        The roots.
    C : array (K, width)
        Their prepared inputs (``dyn._prepare(NUMPY, u)``).

    Examples
    --------
    At the origin of two bistable units, :math:`\tau\dot x = -x + 2\tanh x` with
    τ = 10 ms, :math:`A = 0.1\,I` so :math:`\beta = 10`, and
    :math:`\rho = 2/(3\beta L)`:

    >>> from neurodyn.dynamics.ops import NUMPY
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> spec = dyn.kernel_spec()
    >>> C = dyn._prepare(NUMPY, np.zeros((1, 1)))
    >>> radii, gate = root_radii(dyn, spec, np.zeros((1, 2)), C)
    >>> rho = 2 / (3 * 10 * jacobian_lipschitz(spec))
    >>> bool(np.allclose(radii, [[rho, 3 * rho]])), round(float(rho), 4)
    (True, 0.433)
    """
    K = len(X)
    lip = jacobian_lipschitz(spec) if K else np.inf
    if not np.isfinite(lip):
        return np.zeros((K, 2)), np.zeros(2)
    r, A = dyn._residual_jacobian(NUMPY, _f64(X), _f64(C))
    return radii_from_jacobians(r, A, lip)


def radii_from_jacobians(r, A, lip: float):
    r""":func:`root_radii` from the residuals r (K, d) and Jacobians A (K, d, d) at the
    roots and the Lipschitz constant ``lip`` of the Jacobian (finite).

    Parameters
    ----------
    r : array (K, d)
        Residuals at the roots (about zero).
    A : array (K, d, d)
        Jacobians of the residual at the roots.
    lip : float
        Lipschitz constant L of the Jacobian (:func:`jacobian_lipschitz`); 0 for an
        affine residual, whose roots get infinite balls.

    Returns
    -------
    radii : ndarray (K, 2)
        :math:`(\rho, 3\rho)` per root, zeros where A is singular.
    gate : ndarray (2,)
        :math:`(q_{max}, 3\rho_{max})`.

    Examples
    --------
    With :math:`A = 0.1\,I`, :math:`\beta = \|A^{-1}\| = 10`, and with L = 0.5,
    :math:`\rho = 2/(3 \cdot 10 \cdot 0.5) = 2/15`:

    >>> radii, gate = radii_from_jacobians(np.zeros((1, 2)), 0.1 * np.eye(2)[None], 0.5)
    >>> radii.round(6).tolist()
    [[0.133333, 0.4]]
    >>> radii_from_jacobians(np.zeros((1, 2)), 0.1 * np.eye(2)[None], 0.0)[0].tolist()
    [[inf, inf]]
    """
    r, A = np.asarray(r), np.asarray(A)
    K = len(A)
    radii, gate = np.zeros((K, 2)), np.zeros(2)
    inv, ok = _inverses(A)
    bound = np.zeros(K)
    if lip == 0.0:  # a constant Jacobian: an affine residual, whose root is unique
        radii[ok], bound[ok] = np.inf, np.inf
    else:
        magnitude = np.abs(inv)
        norm_1 = magnitude.sum(axis=1).max(axis=1)  # ‖A⁻¹‖₁, max column sum
        norm_inf = magnitude.sum(axis=2).max(axis=1)  # ‖A⁻¹‖∞, max row sum
        beta = np.sqrt(norm_1 * norm_inf)  # > 0 where A⁻¹ exists
        if ok.all():  # the usual case: no division by zero, nothing to mask
            rho = 2.0 / (3.0 * beta * lip)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                rho = np.where(ok, 2.0 / (3.0 * beta * lip), 0.0)
        radii[:, 0], radii[:, 1] = rho, 3.0 * rho
        frobenius = np.sqrt(np.einsum("kij,kij->k", A, A))
        residual = np.sqrt(np.einsum("ki,ki->k", r, r))
        bound = np.where(ok, residual + frobenius * rho + 0.5 * lip * rho * rho, 0.0)
    if K:  # q ≤ ½ (largest bound)², and the largest ball of uniqueness
        largest = np.max(bound)
        gate[:] = 0.5 * largest * largest, np.max(radii[:, 1])
    return radii, gate
