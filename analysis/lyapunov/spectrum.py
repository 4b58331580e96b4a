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

Backends: rate networks (:class:`~neurodyn.dynamics.RateDynamics`) use a Jacobian-free
stepper (``backend="jacobian_free"``) that never forms the Jacobian (:math:`AV =
s\odot(-V + W(\phi'\odot V))`, one matrix product for all trajectories, in NumPy and
BLAS, so nothing is compiled on the first call); every other system, and
``backend="numpy"``, uses the reference, which forms the batched Jacobians. Both share
the QR iteration of :mod:`neurodyn.analysis.lyapunov.stepper`.

A trajectory whose state leaves ``|x| <= x_max`` is reported as ``"diverged"``; one whose
tangent map is singular to working precision, or not finite, as ``"singular"`` or
``"nonfinite"``; with a fixed ``reorth``, one whose tangent vectors lose rank between
two QRs as ``"lost_rank"``. Each comes with its reason (:attr:`LyapunovSpectrum.reason`,
also logged); the exponents average the trajectories that finished.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ... import threads as _threads
from ..._validation import check_choice, check_int, check_positive
from ...dynamics import Dynamics, RateDynamics
from ...dynamics import dynamics as as_dynamics
from ...dynamics.integrate import Scheme
from ...dynamics.ops import NUMPY
from ...progress import check_progress, progress_bar
from ...seeding import make_rng, resolve_seed
from .stepper import OK, JacobianFreeStepper, JacobianStepper, QRIteration

__all__ = ["LyapunovSpectrum", "lyapunov_spectrum"]

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "jacobian_free", "numpy")
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
        Mean over the trajectories whose status is ``"ok"``, largest first, in
        1/``time_unit`` (NaN only when none is).
    per_trajectory : ndarray (n_traj, k)
        NaN for the trajectories that stopped (see ``status`` and ``reason``).
    stderr : ndarray (k,)
        Standard error of the mean across trajectories (NaN with one trajectory).
    history : ndarray (n_traj, n_checkpoints, k)
        Running estimates at the checkpoints (convergence diagnostics).
    checkpoint_time : ndarray (n_checkpoints,)
        Time since the end of the transient at each checkpoint.
    status : ndarray of str (n_traj,)
        ``"ok"``; ``"diverged"`` (the state left ``|x| <= x_max`` or became NaN);
        ``"singular"`` (a one-step tangent map singular to working precision: the
        smallest exponents asked for are −∞ there); ``"nonfinite"`` (the tangent vectors
        became NaN or infinite); ``"lost_rank"`` (a fixed ``reorth`` too long for the
        spread of the exponents).
    n_qr : ndarray of int (n_traj,)
        QR factorisations per trajectory (the adaptive interval's saving).
    reason : ndarray of str (n_traj,)
        Why a trajectory stopped, with the step (empty for ``"ok"``).
    kind : str
        ``"ode"`` or ``"map"``: the kind of the dynamics.
    time_unit : str
        The dynamics' unit of time (``"ms"``, or ``"step"`` for maps without a time
        step); the exponents are per this unit.
    info : dict
        The settings and the run: ``backend``, ``integrator``, ``step``, ``n_steps``,
        ``transient``, ``reorth``, ``precision``, ``seed``, ``threads``, ``elapsed_s``
        (seconds), ``driven`` (a time-varying input), ``n_redo`` (intervals redone per
        trajectory) and ``max_kappa`` (the largest condition number met between
        reorthonormalisations).

    Examples
    --------
    :func:`lyapunov_spectrum` returns it. The exponents of a linear ODE
    :math:`\\dot x = Ax` are the real parts of A's eigenvalues, here −0.1 and −0.5 per
    ms:

    >>> from neurodyn.analysis import lyapunov_spectrum
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> A = np.array([[-0.1, 1.0], [0.0, -0.5]])
    >>> dyn = FunctionDynamics(lambda x, u: x @ A.T, n_state=2, kind="ode", dt=1.0,
    ...                        jacobian=lambda x, u: np.broadcast_to(A, (len(x), 2, 2)))
    >>> le = lyapunov_spectrum(dyn, np.ones((4, 2)), n_steps=2000, transient=100,
    ...                        progress=False)
    >>> np.round(le.exponents, 3).tolist(), le.time_unit, le.status.tolist()
    ([-0.1, -0.5], 'ms', ['ok', 'ok', 'ok', 'ok'])
    >>> le.per_trajectory.shape, le.history.shape, float(le.checkpoint_time[-1])
    ((4, 2), (4, 20, 2), 2000.0)
    >>> le.is_converged(), le.info["integrator"]
    (True, 'rk4')
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
    reason: np.ndarray | None = None

    def __post_init__(self):
        if self.reason is None:
            self.reason = np.full(len(self.status), "", dtype=object)

    @property
    def largest(self) -> float:
        """The largest exponent."""
        return float(self.exponents[0])

    @property
    def drift(self) -> np.ndarray:
        """``|estimate at the end − estimate at half time|``, averaged over trajectories (k,)."""
        ok = self.status == "ok"
        if not np.any(ok) or self.history.shape[1] < 2:
            return np.full(self.exponents.shape, np.nan)
        h = self.history[ok]
        half = h[:, (h.shape[1] - 1) // 2]
        return np.abs(np.mean(h[:, -1] - half, axis=0))

    def is_converged(self, rtol: float = 0.02, atol: float = 1e-3) -> bool:
        """Whether every exponent moved less than ``atol + rtol·|λ|`` over the second half.

        Parameters
        ----------
        rtol : float
            Tolerance relative to each exponent's magnitude.
        atol : float
            Absolute tolerance, in the exponents' unit.
        """
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

        from ..._version import __version__

        n, c, k = self.history.shape
        ds = xr.Dataset(
            {
                "exponents": (("exponent",), self.exponents),
                "stderr": (("exponent",), self.stderr),
                "drift": (("exponent",), self.drift),
                "per_trajectory": (("trajectory", "exponent"), self.per_trajectory),
                "history": (("trajectory", "checkpoint", "exponent"), self.history),
                "status": (("trajectory",), self.status.astype(str)),
                "reason": (("trajectory",), np.asarray(self.reason).astype(str)),
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


# -- the run ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Settings of one run (validated), shared by both steppers."""

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
    backend: str


def _pick_backend(dyn, backend, precision):
    if backend == "numba":
        raise ValueError(
            "backend='numba' was replaced by backend='jacobian_free': the same Jacobian-free "
            "algorithm for rate networks on NumPy and BLAS, with nothing to compile on the "
            "first call (backend='auto' picks it for them)"
        )
    backend = check_choice("backend", backend, BACKENDS)
    fast = isinstance(dyn, RateDynamics)
    if backend == "auto":
        backend = "jacobian_free" if fast else "numpy"
    if backend == "jacobian_free" and not fast:
        raise ValueError(
            f"backend='jacobian_free' needs a rate network (RateDynamics); "
            f"{type(dyn).__name__} uses backend='numpy'"
        )
    if precision == "float32" and backend != "jacobian_free":
        raise ValueError(
            "precision='float32' is available with backend='jacobian_free' (rate networks)"
        )
    return backend


def _make_plan(
    dyn,
    *,
    n_steps,
    transient,
    step,
    integrator,
    reorth,
    max_interval,
    n_checkpoints,
    x_max,
    backend,
    precision,
) -> _Plan:
    """Validate the run's settings (before anything runs) and fix them in a plan."""
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
        if integrator != "auto":
            raise ValueError(f"integrator={integrator!r} is for ODEs; a map is iterated as it is")
        if step is not None:
            raise ValueError("step is for ODEs; a map's step is its own (dynamics.dt)")
        integrator, h, time_per_step = "map", 1.0, dyn.dt
    else:
        integrator = "rk4" if integrator == "auto" else integrator
        h = dyn.dt if step is None else check_positive("step", step)
        time_per_step = h
    return _Plan(
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
        backend=_pick_backend(dyn, backend, precision),
    )


def _input_drive(dyn, U, n_traj):
    """``prep(t, rows)``: the prepared input of step t for trajectories ``rows`` (None: all)."""
    m = U.shape[-1]
    const = dyn._prepare(NUMPY, np.broadcast_to(U[:, 0], (n_traj, m)).copy())
    if U.shape[1] == 1:
        return lambda t, rows: const if rows is None else const[rows]

    def prep(t, rows):
        u = np.broadcast_to(U[:, t], (n_traj, m))
        return dyn._prepare(NUMPY, np.ascontiguousarray(u if rows is None else u[rows]))

    return prep


def _stepper(dyn, plan):
    sch = Scheme(plan.integrator, plan.h, plan.time_per_step)
    if plan.backend == "jacobian_free":
        return JacobianFreeStepper(dyn, sch, plan.precision)
    return JacobianStepper(dyn, sch)


def _execute(dyn, X0, Q0, U, plan, threads, progress) -> tuple[QRIteration, np.ndarray, dict]:
    """Run the transient and the measured steps; returns the iteration, the running
    estimates at the checkpoints and what ran (threads, seconds)."""
    n_traj, _, k = Q0.shape
    stepper = _stepper(dyn, plan)
    dtype = np.float32 if plan.precision == "float32" else np.float64
    V = np.ascontiguousarray(Q0.transpose(0, 2, 1), dtype=dtype)  # (n, k, d)
    it = QRIteration(stepper, _input_drive(dyn, U, n_traj), X0.copy(), V, plan)
    bounds = plan.bounds
    sums = np.zeros((n_traj, k))
    history = np.full((n_traj, len(bounds) - 1, k), np.nan)
    total = n_traj * (plan.transient + int(bounds[-1]))
    start = time.perf_counter()
    bar = progress_bar(
        total=total, progress=progress, desc="Lyapunov", unit="step", unit_scale=True
    )
    work = stepper.work(n_traj, k)
    with bar, _threads.limit(threads, work=work, what="lyapunov_spectrum") as n_threads:
        if plan.transient:
            # Tangent vectors align during the transient; their growth is not counted.
            it.advance(plan.transient, np.zeros_like(sums), count=False)
            bar.update(n_traj * plan.transient)
        for c in range(len(bounds) - 1):
            it.advance(int(bounds[c + 1] - bounds[c]), sums)
            history[:, c] = sums / (bounds[c + 1] * plan.time_per_step)
            bar.update(n_traj * int(bounds[c + 1] - bounds[c]))
    ran = {"threads": n_threads, "elapsed_s": time.perf_counter() - start, "sums": sums}
    return it, history, ran


# -- the public function -------------------------------------------------------------------


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
    threads: int | None = None,
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
    backend : {"auto", "jacobian_free", "numpy"}
        ``jacobian_free``: never forms the Jacobian, rate networks only (the ``auto``
        choice for them); ``numpy``: the reference on formed Jacobians (every system).
        ``"numba"`` raises a ValueError that names ``jacobian_free``, which replaced it.
    precision : {"float64", "float32"}
        dtype of the tangent vectors with ``jacobian_free``; the state and the sums of
        :math:`\log|R_{ii}|` stay float64. float32 halves the cost of the matrix product
        and keeps about 5 significant digits of the exponents.
    seed : int or Generator
        Seeds the random orthonormal initial tangent vectors.
    threads : int, optional
        Threads of the matrix products (BLAS); by default chosen from their size,
        :math:`2d^2k` flops per trajectory and step, and the machine's load
        (:mod:`neurodyn.threads`).
    progress : bool or {"auto", "never", "always"}
        Show a progress bar (where the output is a terminal or a notebook; see
        :mod:`neurodyn.progress`).

    Returns
    -------
    LyapunovSpectrum
        With ``status`` and ``reason`` for every trajectory; ``info`` records the
        backend, the threads, the redone intervals (``n_redo``) and the largest
        condition number of the tangent vectors accepted at a QR (``max_kappa``).

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
    plan = _make_plan(
        dyn,
        n_steps=n_steps,
        transient=transient,
        step=step,
        integrator=integrator,
        reorth=reorth,
        max_interval=max_interval,
        n_checkpoints=n_checkpoints,
        x_max=x_max,
        backend=backend,
        precision=precision,
    )
    _threads.check_threads(threads)
    check_progress(progress)
    U = _inputs(dyn, inputs, n_traj, plan.transient + int(plan.bounds[-1]))
    seed = resolve_seed(seed)
    Q0 = np.linalg.qr(make_rng(seed, "analysis").normal(size=(n_traj, d, k)))[0]
    it, history, ran = _execute(dyn, X0, Q0, U, plan, threads, progress)
    info = {
        "backend": plan.backend,
        "integrator": plan.integrator,
        "step": plan.h,
        "n_steps": int(plan.bounds[-1]),
        "transient": plan.transient,
        "reorth": reorth,
        "precision": plan.precision,
        "seed": seed,
        "threads": ran["threads"],
        "elapsed_s": ran["elapsed_s"],
        "driven": bool(U.shape[1] > 1),
        "n_redo": it.n_redo.tolist(),
        "max_kappa": float(np.exp(it.max_log_kappa)),
    }
    return _label(dyn, plan, it, ran["sums"], history, info)


def _label(dyn, plan, it, sums, history, info) -> LyapunovSpectrum:
    """The result: averages over the trajectories that finished, the others reported."""
    ok = it.status == OK
    per_traj = sums / (plan.bounds[-1] * plan.time_per_step)
    per_traj[~ok] = np.nan
    history[~ok] = np.nan
    k = sums.shape[1]
    if not np.any(ok):
        logger.warning(
            "no trajectory finished, the exponents are NaN: %s",
            "; ".join(f"{i}: {r}" for i, r in enumerate(it.reason)),
        )
        exps, stderr = np.full(k, np.nan), np.full(k, np.nan)
    else:
        if not np.all(ok):
            logger.info("%d of %d trajectories stopped early", int(np.sum(~ok)), len(ok))
        good = per_traj[ok]
        exps = good.mean(axis=0)
        n = len(good)
        stderr = good.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(k, np.nan)
    return LyapunovSpectrum(
        exponents=exps,
        per_trajectory=per_traj,
        stderr=stderr,
        history=history,
        checkpoint_time=plan.bounds[1:] * plan.time_per_step,
        status=it.status.astype(str),
        n_qr=it.n_qr,
        kind=dyn.kind,
        time_unit=dyn.time_unit,
        info=info,
        reason=it.reason.astype(str),
    )
