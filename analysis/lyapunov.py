r"""Lyapunov spectra by the QR (Benettin) method: :func:`lyapunov_spectrum`.

The top k Lyapunov exponents of a map :math:`x_{t+1} = F(x_t, u_t)` or an ODE
:math:`\dot x = f(x, u(t))` are the average exponential growth rates of k generic
tangent vectors. With :math:`Q_0` (d × k) orthonormal and :math:`D_t` the tangent map
of one step (:math:`J(x_t)` for maps; the solution operator of the variational equation
:math:`\dot V = A(x(t))V` over one step for ODEs),

.. math::

    D_t Q_{t} = Q_{t+1} R_{t+1} \quad\text{(QR)}, \qquad
    \lambda_i = \lim_{n\to\infty} \frac{1}{n\,\Delta t}\sum_{t=1}^{n} \log |(R_t)_{ii}|,

in units of 1/ms (or 1/step for systems without a time unit). The QR needs to happen
only every m steps (the R factor of a product of tangent maps is the product of the
R factors); ``reorth="auto"`` chooses m from the spread of the local exponents so that
Q's condition number stays below :math:`\kappa_{\max}` (1e4 in float64), and redoes in
halves any interval whose R shows a spread beyond :math:`\kappa_{\max}^2`, so the result
matches QR every step to rounding.

Driven networks (Engelken, Wolf & Abbott 2023) take an input sequence; without one the
input is constant. Many initial states run as a batch; their spread gives a standard
error, and running estimates at checkpoints show convergence.

Backends: rate networks (:class:`~neurodyn.dynamics.RateDynamics`) use a Numba kernel
(:mod:`neurodyn.analysis._lyapunov`) that never forms the Jacobian (:math:`AQ =
s\odot(-Q + W(\phi'\odot Q))`, one matrix product); every other system, and
``backend="numpy"``, uses the reference below, which forms the batched Jacobians.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..dynamics import Dynamics, RateDynamics
from ..dynamics import dynamics as as_dynamics
from ..dynamics._ops import NUMPY
from ..seeding import make_rng, resolve_seed

__all__ = ["LyapunovSpectrum", "lyapunov_spectrum", "plot_lyapunov_spectrum"]

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "numba", "numpy")
INTEGRATORS = ("auto", "euler", "rk4")
#: Largest condition number of Q allowed between QR factorisations, by tangent precision:
#: rounding in the tangent products costs relative accuracy ε·κ in the smallest column.
LOG_KAPPA = {"float64": np.log(1e4), "float32": np.log(30.0)}


@dataclass
class LyapunovSpectrum:
    """Top-k Lyapunov exponents of a system, per trajectory and averaged.

    Attributes
    ----------
    exponents : ndarray (k,)
        Mean over the trajectories that did not diverge, largest first, in 1/``time_unit``.
    per_trajectory : ndarray (n_traj, k)
        NaN for diverged trajectories.
    stderr : ndarray (k,)
        Standard error of the mean across trajectories (NaN with one trajectory).
    history : ndarray (n_traj, n_checkpoints, k)
        Running estimates at the checkpoints (convergence diagnostics).
    checkpoint_time : ndarray (n_checkpoints,)
        Time since the end of the transient at each checkpoint.
    status : ndarray of str (n_traj,)
        ``"ok"`` or ``"diverged"``.
    n_qr : ndarray of int (n_traj,)
        QR factorisations per trajectory (the adaptive interval's saving).
    """

    exponents: np.ndarray
    per_trajectory: np.ndarray
    stderr: np.ndarray
    history: np.ndarray
    checkpoint_time: np.ndarray
    status: np.ndarray
    n_qr: np.ndarray
    kind: str = "ode"
    time_unit: str = "ms"
    info: dict = field(default_factory=dict)

    @property
    def largest(self) -> float:
        """The largest exponent."""
        return float(self.exponents[0])

    @property
    def drift(self) -> np.ndarray:
        """|estimate at the end − estimate at half time|, averaged over trajectories (k,)."""
        ok = self.status == "ok"
        if not np.any(ok) or self.history.shape[1] < 2:
            return np.full(self.exponents.shape, np.nan)
        h = self.history[ok]
        half = h[:, (h.shape[1] - 1) // 2]
        return np.abs(np.mean(h[:, -1] - half, axis=0))

    def is_converged(self, rtol: float = 0.02, atol: float = 1e-3) -> bool:
        """Whether every exponent moved less than ``atol + rtol·|λ|`` over the second half."""
        return bool(np.all(self.drift <= atol + rtol * np.abs(self.exponents)))

    def kaplan_yorke_dimension(self) -> float:
        r"""The Kaplan–Yorke dimension :math:`j + \sum_{i\le j}\lambda_i/|\lambda_{j+1}|`.

        ``j`` is the largest index with a non-negative cumulative sum; ``k`` (the number of
        exponents computed) when the sum of all of them is still positive, a lower bound.
        """
        c = np.cumsum(self.exponents)
        if c[0] < 0:
            return 0.0
        j = int(np.flatnonzero(c >= 0)[-1]) + 1
        if j >= len(c):
            return float(j)
        return float(j + c[j - 1] / abs(self.exponents[j]))

    def __repr__(self) -> str:
        top = ", ".join(f"{v:.4g}" for v in self.exponents[:4])
        more = ", ..." if len(self.exponents) > 4 else ""
        return (
            f"LyapunovSpectrum(k={len(self.exponents)}, [{top}{more}] per {self.time_unit}, "
            f"{int(np.sum(self.status == 'ok'))}/{len(self.status)} trajectories ok)"
        )

    def to_xarray(self):
        """A Dataset with dims ``exponent``, ``trajectory`` and ``checkpoint``."""
        import json

        import xarray as xr

        from .._version import __version__

        n, c, k = self.history.shape
        ds = xr.Dataset(
            {
                "exponents": (("exponent",), self.exponents),
                "stderr": (("exponent",), self.stderr),
                "drift": (("exponent",), self.drift),
                "per_trajectory": (("trajectory", "exponent"), self.per_trajectory),
                "history": (("trajectory", "checkpoint", "exponent"), self.history),
                "status": (("trajectory",), self.status.astype(str)),
                "n_qr": (("trajectory",), self.n_qr),
            },
            coords={
                "exponent": np.arange(k, dtype=np.int32),
                "trajectory": np.arange(n, dtype=np.int32),
                "checkpoint": np.arange(c, dtype=np.int32),
                "checkpoint_time": (("checkpoint",), self.checkpoint_time),
            },
        )
        ds["exponents"].attrs["units"] = f"1/{self.time_unit}"
        ds.attrs.update(
            kind=self.kind,
            time_unit=self.time_unit,
            info=json.dumps(self.info, default=str),
            neurodyn_version=__version__,
        )
        return ds


# -- validation -----------------------------------------------------------------------------


def _check_int(name, value, low, high=None):
    value = check_int(name, value, low=low)
    if high is not None and value > high:
        raise ValueError(
            f"{name}={value} is larger than {high}; expected {low} <= {name} <= {high}"
        )
    return value


def _inputs(dyn, inputs, n_traj, n_total):
    """Inputs as (n_traj or 1, T or 1, m) float64."""
    if inputs is None:
        return np.zeros((1, 1, dyn.n_input))
    u = np.asarray(inputs, dtype=np.float64)
    if not np.all(np.isfinite(u)):
        raise ValueError("inputs contains NaN or infinite values")
    if u.ndim == 0 and dyn.n_input == 1:
        u = u.reshape(1)
    if u.ndim == 1:
        u = u[None, None, :]
    elif u.ndim == 2:
        u = u[None]
    if u.ndim != 3 or u.shape[-1] != dyn.n_input or u.shape[0] not in (1, n_traj):
        raise ValueError(
            f"inputs has shape {np.shape(inputs)}; expected ({dyn.n_input},) (constant), "
            f"(T, {dyn.n_input}) (a sequence) or ({n_traj}, T, {dyn.n_input}) (one per trajectory)"
        )
    if u.shape[1] not in (1, n_total):
        if u.shape[1] < n_total:
            raise ValueError(
                f"inputs has {u.shape[1]} time steps; a driven run needs transient + n_steps "
                f"= {n_total} steps"
            )
        u = u[:, :n_total]
    return u


# -- the NumPy reference ------------------------------------------------------------------


@dataclass
class _Plan:
    """Settings of one run, shared by both backends."""

    h: float  # integration step (1 for maps)
    integrator: str  # "map", "euler" or "rk4"
    transient: int
    bounds: np.ndarray  # checkpoint boundaries in steps, 0 … n_steps
    interval: int  # first re-orthonormalisation interval
    adaptive: bool
    log_kappa: float
    max_interval: int
    precision: str
    x_max: float
    time_per_step: float


@dataclass
class _Sums:
    """What a run accumulates per trajectory."""

    log_sums: np.ndarray  # (n_traj, k)
    history: np.ndarray  # (n_traj, n_checkpoints, k)
    n_qr: np.ndarray  # (n_traj,)
    active: np.ndarray  # (n_traj,) False once diverged


class _Stepper:
    """One integration step of the state and its tangent vectors, on formed Jacobians."""

    def __init__(self, dyn, integrator, h):
        self.dyn, self.integrator, self.h = dyn, integrator, h
        self.eye = np.eye(dyn.n_state)

    def _fj(self, x, c):
        r, a = self.dyn._residual_jacobian(NUMPY, x, c)
        r, a = np.asarray(r), np.asarray(a)
        if self.dyn.kind == "map":
            return x + r, a + self.eye
        return r, a

    def __call__(self, x, Q, c):
        h = self.h
        if self.integrator == "map":
            fx, J = self._fj(x, c)
            return fx, J @ Q
        f1, A1 = self._fj(x, c)
        K1 = A1 @ Q
        if self.integrator == "euler":
            return x + h * f1, Q + h * K1
        f2, A2 = self._fj(x + 0.5 * h * f1, c)
        K2 = A2 @ (Q + 0.5 * h * K1)
        f3, A3 = self._fj(x + 0.5 * h * f2, c)
        K3 = A3 @ (Q + 0.5 * h * K2)
        f4, A4 = self._fj(x + h * f3, c)
        K4 = A4 @ (Q + h * K3)
        return (
            x + h / 6.0 * (f1 + 2 * f2 + 2 * f3 + f4),
            Q + h / 6.0 * (K1 + 2 * K2 + 2 * K3 + K4),
        )


def _numpy_advance(stepper, prep, t0, X, Q, n_steps, interval, plan, log_sums, n_qr, active):
    """The reference: every trajectory in ``active`` advances together (see the kernel).

    The interval is shared by the batch (the smallest any trajectory asks for, and an
    interval is redone when any trajectory lost precision), so with one trajectory this
    is step for step the algorithm of the Numba kernel.
    """
    saved = (X.copy(), Q.copy(), 0)
    since = 0
    step = 0
    while step < n_steps:
        idx = np.flatnonzero(active)
        if not len(idx):
            return interval
        c = prep(t0 + step, idx)
        with np.errstate(over="ignore", invalid="ignore"):
            X[idx], Q[idx] = stepper(X[idx], Q[idx], c)
        # A state leaving |x| <= x_max is stopped at once, before it overflows.
        bad = ~np.all(np.isfinite(X[idx]), axis=1)
        bad[~bad] = np.abs(X[idx[~bad]]).max(axis=1) > plan.x_max
        if np.any(bad):
            active[idx[bad]] = False
            idx = idx[~bad]
        since += 1
        step += 1
        if since >= interval or step == n_steps:
            bad = ~np.all(np.isfinite(Q[idx]), axis=(1, 2))
            active[idx[bad]] = False
            idx = idx[~bad]
            if not len(idx):
                return interval
            q, r = np.linalg.qr(Q[idx])
            diag = np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
            finite = np.all(np.isfinite(diag), axis=1)
            active[idx[~finite]] = False
            idx, q, diag = idx[finite], q[finite], diag[finite]
            if not len(idx):
                return interval
            spread = float(np.max(diag.max(axis=1) - diag.min(axis=1)))
            if plan.adaptive and since > 1 and spread > 2.0 * plan.log_kappa:
                X[idx], Q[idx], step = saved[0][idx], saved[1][idx], saved[2]
                interval, since = max(1, since // 2), 0
                continue
            log_sums[idx] += diag
            Q[idx] = q
            n_qr[idx] += 1
            if plan.adaptive:
                m = plan.max_interval if spread <= 0 else int(plan.log_kappa * since / spread)
                interval = max(1, min(plan.max_interval, m))
                saved = (X.copy(), Q.copy(), step)
            since = 0
    return interval


# -- the public function -------------------------------------------------------------------


def _pick_backend(dyn, backend, precision):
    backend = check_choice("backend", backend, BACKENDS)
    spec = dyn.numba_spec() if isinstance(dyn, RateDynamics) else None
    fast = spec is not None and spec.model == 0
    if backend == "auto":
        backend = "numba" if fast else "numpy"
    if backend == "numba" and not fast:
        raise ValueError(
            f"backend='numba' needs a rate network (RateDynamics); {type(dyn).__name__} "
            "uses backend='numpy'"
        )
    if precision == "float32" and backend != "numba":
        raise ValueError("precision='float32' is available with backend='numba' (rate networks)")
    return backend


def lyapunov_spectrum(
    dynamics,
    initial_states,
    inputs=None,
    *,
    k: int | None = None,
    n_steps: int = 10_000,
    transient: int = 1000,
    step: float | None = None,
    integrator: str = "auto",
    reorth: int | str = "auto",
    max_interval: int = 64,
    n_checkpoints: int = 20,
    x_max: float = 1e8,
    backend: str = "auto",
    precision: str = "float64",
    seed=0,
    progress: bool = True,
) -> LyapunovSpectrum:
    r"""The top ``k`` Lyapunov exponents of ``dynamics`` by the QR (Benettin) method.

    Main arguments
    --------------
    dynamics : Dynamics or model
        A map or an ODE (anything :func:`neurodyn.dynamics.dynamics` accepts).
    initial_states : array (d,) or (n_traj, d)
        One trajectory per row; they run as a batch and are averaged.
    inputs : array, optional
        ``(m,)`` constant input; ``(T, m)`` an input sequence shared by all trajectories
        (a driven network) or ``(n_traj, T, m)`` one per trajectory, with
        ``T >= transient + n_steps``. Zero input when omitted.
    k : int, optional
        Number of exponents, 1 ≤ k ≤ n_state (default: all).
    n_steps : int
        Steps averaged over (after the transient).
    transient : int
        Steps run first, state and tangent vectors together, and discarded: the state
        settles on the attractor and the vectors align with the leading directions.

    Other arguments
    ---------------
    step : float, optional
        Integration step of an ODE in its time unit (default ``dynamics.dt``); not for maps.
    integrator : {"auto", "euler", "rk4"}
        ODEs: ``rk4`` (default; state and variational equation with the same stages) or
        ``euler`` (the network exactly as it is simulated, :math:`x + h f(x)`). Maps are
        iterated as they are.
    reorth : "auto" or int
        QR every this many steps, or adaptively (see the module docstring).
    max_interval : int
        Upper bound of the adaptive interval.
    n_checkpoints : int
        Running estimates recorded for convergence diagnostics (at most ``n_steps``).
    x_max : float
        A trajectory whose state exceeds this (or becomes NaN) is reported as diverged;
        the others are kept.
    backend : {"auto", "numba", "numpy"}
        ``numba``: the Jacobian-free kernel for rate networks (the ``auto`` choice for
        them); ``numpy``: the reference on formed Jacobians (every system).
    precision : {"float64", "float32"}
        dtype of the tangent vectors in the Numba kernel; the state and the sums of
        :math:`\log|R_{ii}|` stay float64. float32 halves the cost of the matrix product
        and keeps about 5 significant digits of the exponents.
    seed : int or Generator
        Seeds the random orthonormal initial tangent vectors.
    progress : bool
        Show a progress bar.

    Returns
    -------
    LyapunovSpectrum

    Raises
    ------
    ValueError
        For k outside [1, n_state], non-positive step or counts, NaN initial states or
        inputs, an input sequence shorter than the run, or an unknown option.

    Examples
    --------
    The Hénon map (a = 1.4, b = 0.3) has exponents ≈ 0.419 and −1.62 per iteration:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def henon(x, u):
    ...     return np.stack([1 - 1.4 * x[:, 0] ** 2 + x[:, 1], 0.3 * x[:, 0]], axis=1)
    >>> def jac(x, u):
    ...     J = np.zeros((len(x), 2, 2)); J[:, 0, 0] = -2.8 * x[:, 0]; J[:, 0, 1] = 1.0
    ...     J[:, 1, 0] = 0.3
    ...     return J
    >>> dyn = FunctionDynamics(henon, n_state=2, jacobian=jac)
    >>> le = lyapunov_spectrum(dyn, np.full((8, 2), 0.1), n_steps=5000, progress=False)
    >>> np.round(le.exponents, 1)
    array([ 0.4, -1.6])
    """
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    X0 = dyn.check_states(initial_states, "initial_states")
    n_traj, d = X0.shape
    k = d if k is None else _check_int("k", k, 1, d)
    n_steps = _check_int("n_steps", n_steps, 1)
    transient = _check_int("transient", transient, 0)
    n_checkpoints = min(_check_int("n_checkpoints", n_checkpoints, 1), n_steps)
    max_interval = _check_int("max_interval", max_interval, 1)
    precision = check_choice("precision", precision, LOG_KAPPA)
    x_max = check_positive("x_max", x_max)
    if isinstance(reorth, str):
        check_choice("reorth", reorth, ("auto",))
        adaptive, interval0 = True, 1
    else:
        adaptive, interval0 = False, _check_int("reorth", reorth, 1)
    integrator = check_choice("integrator", integrator, INTEGRATORS)
    if dyn.kind == "map":
        if integrator not in ("auto",):
            raise ValueError(f"integrator={integrator!r} is for ODEs; a map is iterated as it is")
        if step is not None:
            raise ValueError("step is for ODEs; a map's step is its own (dynamics.dt)")
        integrator, h, time_per_step = "map", 1.0, dyn.dt
    else:
        integrator = "rk4" if integrator == "auto" else integrator
        h = dyn.dt if step is None else check_positive("step", step)
        time_per_step = h
    backend = _pick_backend(dyn, backend, precision)
    U = _inputs(dyn, inputs, n_traj, transient + n_steps)
    seed = resolve_seed(seed)
    rng = make_rng(seed, "analysis")
    Q0 = np.linalg.qr(rng.normal(size=(n_traj, d, k)))[0]

    plan = _Plan(
        h=h,
        integrator=integrator,
        transient=transient,
        bounds=np.linspace(0, n_steps, n_checkpoints + 1).round().astype(int),
        interval=interval0,
        adaptive=adaptive,
        log_kappa=LOG_KAPPA[precision],
        max_interval=max_interval,
        precision=precision,
        x_max=x_max,
        time_per_step=time_per_step,
    )
    sums = _Sums(
        log_sums=np.zeros((n_traj, k)),
        history=np.full((n_traj, n_checkpoints, k), np.nan),
        n_qr=np.zeros(n_traj, dtype=np.int64),
        active=np.ones(n_traj, dtype=bool),
    )
    start = time.perf_counter()
    from tqdm.auto import tqdm

    total = n_traj * (transient + n_steps)
    bar = tqdm(total=total, disable=not progress, desc="Lyapunov", unit="step", unit_scale=True)
    try:
        run = _run_numba if backend == "numba" else _run_numpy
        run(dyn, X0, Q0, U, plan, sums, bar)
    finally:
        bar.close()
    log_sums, history, n_qr, active = sums.log_sums, sums.history, sums.n_qr, sums.active
    elapsed = time.perf_counter() - start
    per_traj = log_sums / (n_steps * time_per_step)
    per_traj[~active] = np.nan
    history[~active] = np.nan
    status = np.where(active, "ok", "diverged")
    if not np.any(active):
        logger.warning("every trajectory diverged; the exponents are NaN")
        exps = np.full(k, np.nan)
        stderr = np.full(k, np.nan)
    else:
        if not np.all(active):
            logger.info("%d of %d trajectories diverged", int(np.sum(~active)), n_traj)
        good = per_traj[active]
        exps = good.mean(axis=0)
        stderr = (
            good.std(axis=0, ddof=1) / np.sqrt(len(good)) if len(good) > 1 else np.full(k, np.nan)
        )
    info = {
        "backend": backend,
        "integrator": integrator,
        "step": h,
        "n_steps": n_steps,
        "transient": transient,
        "reorth": reorth,
        "precision": precision,
        "seed": seed,
        "elapsed_s": elapsed,
        "driven": bool(U.shape[1] > 1),
    }
    return LyapunovSpectrum(
        exponents=exps,
        per_trajectory=per_traj,
        stderr=stderr,
        history=history,
        checkpoint_time=plan.bounds[1:] * time_per_step,
        status=status,
        n_qr=n_qr,
        kind=dyn.kind,
        time_unit=dyn.time_unit,
        info=info,
    )


def _run_numpy(dyn, X0, Q0, U, plan, sums, bar):
    X, Q = X0.copy(), Q0.copy()
    stepper = _Stepper(dyn, plan.integrator, plan.h)
    n_traj = len(X)
    const = U.shape[1] == 1
    cache = dyn._prepare(NUMPY, np.broadcast_to(U[:, 0], (n_traj, U.shape[-1])).copy())

    def prep(t, idx):
        if const:
            return cache[idx]
        u = np.broadcast_to(U[:, t], (n_traj, U.shape[-1]))[idx]
        return dyn._prepare(NUMPY, np.ascontiguousarray(u))

    interval = plan.interval
    if plan.transient:
        # Tangent vectors align during the transient; their growth is not counted.
        scratch, qr_count = np.zeros_like(sums.log_sums), np.zeros_like(sums.n_qr)
        interval = _numpy_advance(
            stepper, prep, 0, X, Q, plan.transient, interval, plan, scratch, qr_count, sums.active
        )
        bar.update(n_traj * plan.transient)
    bounds = plan.bounds
    for c in range(len(bounds) - 1):
        n = int(bounds[c + 1] - bounds[c])
        interval = _numpy_advance(
            stepper,
            prep,
            plan.transient + bounds[c],
            X,
            Q,
            n,
            interval,
            plan,
            sums.log_sums,
            sums.n_qr,
            sums.active,
        )
        sums.history[:, c] = sums.log_sums / (bounds[c + 1] * plan.time_per_step)
        bar.update(n_traj * n)


def _run_numba(dyn, X0, Q0, U, plan, sums, bar):
    from . import _lyapunov

    spec = dyn.numba_spec()
    W = np.ascontiguousarray(spec.weight)
    dtype = np.float32 if plan.precision == "float32" else np.float64
    Wt = np.ascontiguousarray(W.astype(dtype))
    s = np.ascontiguousarray(spec.scale)
    rk4 = plan.integrator == "rk4"
    bounds = plan.bounds

    def advance(drive, t0, x, Q, n, interval, log_sums):
        return _lyapunov.rate_advance(
            spec.phi,
            W,
            Wt,
            s,
            drive,
            t0,
            x,
            Q,
            plan.h,
            rk4,
            n,
            interval,
            plan.adaptive,
            plan.log_kappa,
            plan.max_interval,
            plan.x_max,
            log_sums,
        )

    for b in range(len(X0)):
        drive = np.ascontiguousarray(dyn._prepare(NUMPY, U[b if U.shape[0] > 1 else 0]))
        x = X0[b].copy()
        Q = np.ascontiguousarray(Q0[b].astype(dtype))
        interval, status = plan.interval, _lyapunov.OK
        if plan.transient:
            status, interval, _ = advance(
                drive, 0, x, Q, plan.transient, interval, np.zeros(Q.shape[1])
            )
            bar.update(plan.transient)
        log_sums = np.zeros(Q.shape[1])
        for c in range(len(bounds) - 1):
            if status != _lyapunov.OK:
                break
            n = int(bounds[c + 1] - bounds[c])
            status, interval, n_qr = advance(
                drive, plan.transient + bounds[c], x, Q, n, interval, log_sums
            )
            sums.n_qr[b] += n_qr
            sums.history[b, c] = log_sums / (bounds[c + 1] * plan.time_per_step)
            bar.update(n)
        sums.log_sums[b] = log_sums
        sums.active[b] = status == _lyapunov.OK


def plot_lyapunov_spectrum(result, *, ax=None, convergence: bool = False, max_lines: int = 8):
    """The spectrum (exponent against index), or its running estimates over time.

    Parameters
    ----------
    result : LyapunovSpectrum
    ax : matplotlib Axes, optional
    convergence : bool
        Draw the running estimates of the top ``max_lines`` exponents against time
        (mean over trajectories) instead of the spectrum.
    max_lines : int

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    unit = f"1/{result.time_unit}"
    if convergence:
        ok = result.status == "ok"
        mean = np.nanmean(result.history[ok], axis=0) if np.any(ok) else result.history[0]
        for i in range(min(max_lines, mean.shape[1])):
            ax.plot(result.checkpoint_time, mean[:, i], label=f"λ{i + 1}")
        ax.set_xlabel(f"time ({result.time_unit})")
        ax.set_ylabel(f"running estimate ({unit})")
        ax.legend(fontsize="small", ncol=2)
        ax.set_title("convergence of the Lyapunov exponents")
    else:
        i = np.arange(1, len(result.exponents) + 1)
        ax.errorbar(
            i,
            result.exponents,
            yerr=np.nan_to_num(result.stderr),
            fmt="o-",
            ms=3,
            color="tab:blue",
            lw=1,
        )
        ax.set_xlabel("index i")
        ax.set_ylabel(f"λ_i ({unit})")
        ax.set_title("Lyapunov spectrum")
    ax.axhline(0.0, color="0.5", lw=0.8, ls="--")
    return ax
