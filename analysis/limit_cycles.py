r"""Periodic orbits by shooting, with Floquet multipliers: :func:`find_limit_cycle`.

For an ODE :math:`\dot x = f(x, u)` a periodic orbit of period T through :math:`x_0` is a
root of :math:`x_0 - \Phi_T(x_0)`, with :math:`\Phi_T` the flow over time T. T is an
unknown, and the phase along the orbit is fixed by requiring :math:`x_0` to lie on the
plane through a reference point :math:`x_r` orthogonal to the flow there. Newton's
method on

.. math::

    \begin{pmatrix} \Phi_T(x_0) - x_0 \\ f(x_r)^\top (x_0 - x_r) \end{pmatrix} = 0,
    \qquad
    \begin{pmatrix} M - I & f(\Phi_T(x_0)) \\ f(x_r)^\top & 0 \end{pmatrix}
    \begin{pmatrix} \delta x \\ \delta T \end{pmatrix} = -\text{residual},

uses the monodromy matrix :math:`M = \partial\Phi_T/\partial x_0`, integrated with the
orbit (RK4 on the state and the variational equation :math:`\dot V = A(x)V`, V(0) = I).

**Floquet multipliers.** The eigenvalues of M at convergence are the Floquet
multipliers. One of them is *trivial*: a shift along the orbit returns shifted, so
:math:`M f(x_0) = f(\Phi_T(x_0)) = f(x_0)` and :math:`f(x_0)` is an eigenvector with
eigenvalue 1. It is identified by that eigenvector, not by being the eigenvalue
closest to 1 (a slowly attracting direction can have a multiplier just as close). With
:math:`\hat f = f(x_0)/\|f(x_0)\|` and :math:`Q_\perp` an orthonormal basis of the
plane orthogonal to it, M is block-triangular in the basis :math:`(\hat f, Q_\perp)`:

.. math::

    \begin{pmatrix} \hat f^\top M \hat f & \hat f^\top M Q_\perp \\
                     0 & Q_\perp^\top M Q_\perp \end{pmatrix},

so the trivial multiplier is :math:`\hat f^\top M \hat f` (1 up to the orbit's closure and
the integration error, reported as a check) and the d − 1 nontrivial ones are the
eigenvalues of :math:`Q_\perp^\top M Q_\perp`, the Jacobian of the Poincaré return map on
the section through :math:`x_0` orthogonal to the flow. The orbit is stable when all of
them lie inside the unit circle; its Lyapunov exponents are :math:`\log|\mu_i|/T` and
exactly 0 along the orbit.

**Maps** have periodic orbits of integer period k: a root of :math:`F^k(x) - x`, with
M the product of the Jacobians along the orbit. Every multiplier is nontrivial (there
is no continuous shift along a discrete orbit), the orbit is stable when all lie inside
the unit circle, and the exponents are :math:`\log|\mu_i| / (k\,\Delta t)`, all negative
for a stable orbit. The reported period is the minimal one: a root of
:math:`F^k(x) = x` that already closes after j < k steps is a period-j orbit (a fixed
point when j = 1).

Starting guesses come from simulation: :func:`estimate_period` integrates the system,
finds successive upward crossings of a plane through the trajectory's mean, and
returns the last crossing and the mean return time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .. import threads as _threads
from .._validation import check_int, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..dynamics.integrate import advance, scheme
from ..dynamics.ops import NUMPY
from .linearization.linearize import classify
from .projection import pca_basis

__all__ = ["LimitCycle", "estimate_period", "find_limit_cycle"]

logger = logging.getLogger(__name__)


@dataclass
class LimitCycle:
    r"""A periodic orbit and its Floquet multipliers.

    Attributes
    ----------
    x0 : ndarray (d,)
        A point on the orbit.
    period : float
        In the system's time unit for ODEs; the number of steps k for maps (their
        duration is :attr:`duration`).
    orbit : ndarray (n, d)
        States along one period (``n_steps + 1`` points for ODEs, k + 1 for maps).
    time : ndarray (n,)
    multipliers : complex ndarray (d,)
        Floquet multipliers, largest modulus first (the trivial one included for ODEs).
    trivial : int
        Index of the trivial multiplier, the one along the orbit (ODEs; -1 for maps).
    stability : str
        ``"stable"``, ``"unstable_<n>"`` (n nontrivial multipliers outside the unit
        circle), ``"marginal"`` or, when Newton did not converge, ``"unknown"``.
    status : str
        ``"converged"``, ``"max_iter"``, ``"stalled"`` (Newton stopped reducing the
        residual: no orbit near the guess), ``"diverged"`` or ``"fixed_point"`` (the
        orbit shrank to a point: no cycle near the guess).
    residual : float
        :math:`\|\Phi_T(x_0) - x_0\|` at the end.
    n_iter : int
        Newton iterations.
    kind : str
        ``"ode"`` or ``"map"``: the kind of the dynamics.
    time_unit : str
        The dynamics' unit of time (``"ms"``, or ``"step"`` for maps without a time step).
    info : dict
        The settings: ``tol`` (and ``n_steps``, the RK4 steps per period, for ODEs).

    Examples
    --------
    :func:`find_limit_cycle` returns it. The Hopf normal form
    :math:`\dot z = (\mu + i)z - |z|^2 z` with μ = 0.25 has a stable cycle of radius
    :math:`\sqrt\mu = 0.5` and period 2π, whose nontrivial Floquet multiplier is
    :math:`e^{-2\mu T} = e^{-\pi}` (radial perturbations decay at rate 2μ):

    >>> from neurodyn.analysis import find_limit_cycle
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def hopf(x, u):
    ...     r2 = (x**2).sum(1)
    ...     return np.stack([0.25*x[:, 0] - x[:, 1] - x[:, 0]*r2,
    ...                      x[:, 0] + 0.25*x[:, 1] - x[:, 1]*r2], 1)
    >>> dyn = FunctionDynamics(hopf, n_state=2, kind="ode", dt=0.05)
    >>> lc = find_limit_cycle(dyn, [0.6, 0.0], 6.0)
    >>> lc.status, lc.is_stable, round(float(lc.period), 6), np.round(lc.amplitude, 3).tolist()
    ('converged', True, 6.283185, [1.0, 1.0])
    >>> bool(np.isclose(lc.max_multiplier, np.exp(-np.pi), rtol=1e-6))
    True
    >>> np.round(lc.exponents, 6).tolist(), lc.orbit.shape
    ([0.0, -0.5], (401, 2))
    """

    x0: np.ndarray
    period: float
    orbit: np.ndarray
    time: np.ndarray
    multipliers: np.ndarray
    trivial: int
    stability: str
    status: str
    residual: float
    n_iter: int
    kind: str = "ode"
    time_unit: str = "ms"
    info: dict = field(default_factory=dict)

    @property
    def amplitude(self) -> np.ndarray:
        """Peak-to-peak range of each state variable along the orbit (d,)."""
        return self.orbit.max(axis=0) - self.orbit.min(axis=0)

    @property
    def duration(self) -> float:
        """The period in the system's time unit (k·Δt for a map's k-cycle)."""
        return float(self.time[-1])

    @property
    def nontrivial(self) -> np.ndarray:
        """The multipliers that decide stability (all of a map's), largest modulus first."""
        if self.trivial < 0:
            return self.multipliers
        return np.delete(self.multipliers, self.trivial)

    @property
    def max_multiplier(self) -> float:
        """Largest modulus among the nontrivial multipliers (NaN when there are none)."""
        m = np.abs(self.nontrivial)
        return float(m.max()) if len(m) else float("nan")

    @property
    def exponents(self) -> np.ndarray:
        r"""Lyapunov exponents of the orbit, :math:`\log|\mu_i|` / duration, largest first.

        Exactly 0 for the trivial multiplier of an ODE (a shift along the orbit neither
        grows nor decays); the rest per time unit.
        """
        with np.errstate(divide="ignore"):
            lam = np.log(np.abs(self.nontrivial)) / self.duration
        if self.trivial >= 0:
            lam = np.append(lam, 0.0)
        return np.sort(lam)[::-1]

    @property
    def is_stable(self) -> bool:
        """Converged to a closed orbit whose nontrivial multipliers are inside the unit circle."""
        return self.status == "converged" and self.stability == "stable"

    def __repr__(self) -> str:
        mult = ", ".join(f"{abs(m):.4g}" for m in self.multipliers[:4])
        return (
            f"LimitCycle(period={self.period:.6g} {self.time_unit if self.kind == 'ode' else 'steps'}, "
            f"{self.stability}, |multipliers|=[{mult}], status={self.status!r})"
        )

    def to_xarray(self):
        """A Dataset with dims ``time``, ``state`` and ``multiplier``."""
        import json

        import xarray as xr

        from .._version import __version__

        d = self.orbit.shape[1]
        ds = xr.Dataset(
            {
                "orbit": (("time", "state"), self.orbit),
                "x0": (("state",), self.x0),
                "multipliers_real": (("multiplier",), self.multipliers.real),
                "multipliers_imag": (("multiplier",), self.multipliers.imag),
            },
            coords={
                "time": self.time,
                "state": np.arange(d, dtype=np.int32),
                "multiplier": np.arange(len(self.multipliers), dtype=np.int32),
            },
        )
        ds.attrs.update(
            period=self.period,
            duration=self.duration,
            stability=self.stability,
            status=self.status,
            residual=self.residual,
            n_iter=self.n_iter,
            trivial=self.trivial,
            kind=self.kind,
            time_unit=self.time_unit,
            info=json.dumps(self.info, default=str),
            neurodyn_version=__version__,
        )
        return ds


def _fj(dyn, x, c):
    """Residual and its Jacobian as NumPy arrays."""
    r, a = dyn._residual_jacobian(NUMPY, x, c)
    return np.asarray(r), np.asarray(a)


def _field(dyn, c):
    """The residual as a function of the states (inputs prepared as ``c``)."""
    return lambda x: np.asarray(dyn._residual(NUMPY, x, c))


def _flow(dyn, x0, c, T, n_steps, with_monodromy=True, keep=False):
    """RK4 over time T in n_steps: (x_T, M, orbit or None); NaNs signal divergence.

    The integration stops at the first non-finite state, which is returned as x_T; the
    orbit then holds the states before it (fewer than n_steps + 1). Without the
    monodromy, M is the identity.
    """
    sch = scheme(dyn, "rk4", T / n_steps)
    M = np.eye(len(x0))[None]
    if not with_monodromy:
        out = advance(sch, _field(dyn, c), x0[None], n_steps, keep=True)[0]
        finite = np.all(np.isfinite(out), axis=1)
        end = n_steps + 1 if finite.all() else int(np.argmin(finite))
        return out[min(end, n_steps)], M[0], (out[:end] if keep else None)
    x = x0[None].copy()
    orbit = [x0.copy()] if keep else None
    fj = lambda z: _fj(dyn, z, c)  # noqa: E731 (the residual and Jacobian at inputs c)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            x, M = sch.tangent_step(fj, x, M)
            if not np.all(np.isfinite(x)):
                return x[0], M[0], orbit
            if keep:
                orbit.append(x[0].copy())
    return x[0], M[0], (np.array(orbit) if keep else None)


def _step(dyn, x, c, h):
    """One step of the states alone: the map itself, or an RK4 step h of an ODE (the
    simulation of the attractor classification)."""
    sch = scheme(dyn) if dyn.kind == "map" else scheme(dyn, "rk4", h)
    return sch.step(_field(dyn, c), x)


def _velocity(dyn, x, c):
    return np.asarray(dyn._residual(NUMPY, x[None], c))[0]


def _period_from_orbit(orbit, h):
    """(state at the last upward crossing, mean return time) of a sampled trajectory.

    Crossings are of the plane through the trajectory's mean normal to its direction of
    largest variance; the period is NaN with fewer than 3 crossings (the trajectory
    settled or never came back).
    """
    mean, (axis,) = pca_basis(orbit, 1)
    s = (orbit - mean) @ axis
    up = np.flatnonzero((s[:-1] < 0) & (s[1:] >= 0))
    if len(up) < 3 or np.ptp(s) < 1e-8 * (1 + np.abs(mean).max()):
        return orbit[-1], float("nan")
    # Linear interpolation of each crossing time.
    tc = (up + (-s[up]) / (s[up + 1] - s[up])) * h
    period = float(np.mean(np.diff(tc)[-min(5, len(tc) - 1) :]))
    return orbit[up[-1] + 1], period


def estimate_period(
    dynamics,
    x0,
    *,
    inputs=None,
    t_transient: float,
    t_max: float,
    step: float | None = None,
    threads=None,
):
    """A point near a periodic orbit and its period, from a simulated trajectory.

    Integrates (RK4 with ``step``) for ``t_transient`` and then ``t_max``, and measures the
    times between upward crossings of the plane through the trajectory's mean, normal
    to its direction of largest variance.

    Parameters
    ----------
    dynamics : Dynamics or model
        An ODE (maps have integer periods: pass k to :func:`find_limit_cycle`).
    x0 : array (d,)
        Initial state.
    inputs : array (m,), optional
        Constant input (zero when omitted).
    t_transient : float
        Time simulated first and discarded, for the trajectory to approach the cycle,
        in the system's time unit (ms).
    t_max : float
        Time simulated after the transient, in which the crossings are counted; a few
        periods at least.
    step : float, optional
        RK4 step (default ``dynamics.dt``).
    threads : int, optional
        Threads for the integration (default: chosen by :mod:`neurodyn.threads`).

    Returns
    -------
    x : ndarray (d,)
        The state at the last crossing.
    period : float
        Mean interval between the last crossings (NaN with fewer than 3 crossings:
        the trajectory settled or never came back).

    Examples
    --------
    The starting guess of :func:`find_limit_cycle`. From near the unstable origin of
    the Hopf normal form with μ = 0.25, the trajectory settles on the cycle of radius
    0.5 and period 2π:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def hopf(x, u):
    ...     r2 = (x**2).sum(1)
    ...     return np.stack([0.25*x[:, 0] - x[:, 1] - x[:, 0]*r2,
    ...                      x[:, 0] + 0.25*x[:, 1] - x[:, 1]*r2], 1)
    >>> dyn = FunctionDynamics(hopf, n_state=2, kind="ode", dt=0.05)
    >>> x, T = estimate_period(dyn, [0.1, 0.0], t_transient=50.0, t_max=40.0)
    >>> round(float(np.linalg.norm(x)), 4), round(T, 4)
    (0.5, 6.2832)
    """
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    if dyn.kind != "ode":
        raise ValueError("estimate_period is for ODEs; a map's cycles have integer periods")
    x = dyn.check_states(x0, "x0")[0]
    c = dyn._prepare(NUMPY, dyn.check_inputs(inputs, 1))
    h = dyn.dt if step is None else check_positive("step", step)
    check_positive("t_max", t_max)
    check_positive("t_transient", t_transient, allow_zero=True)
    n0 = int(round(t_transient / h))
    n = max(int(round(t_max / h)), 2)
    with _threads.limit(threads, work=8.0 * dyn.n_state**2, what="estimate_period"):
        if n0:
            x, _, _ = _flow(dyn, x, c, n0 * h, n0, with_monodromy=False)
        x_end, _, orbit = _flow(dyn, x, c, n * h, n, with_monodromy=False, keep=True)
        if orbit is None or len(orbit) < n + 1 or not np.all(np.isfinite(orbit)):
            return x_end, float("nan")
        # The principal axis is an SVD of the whole trajectory: under the same count.
        return _period_from_orbit(orbit, h)


def find_limit_cycle(
    dynamics,
    x0,
    period,
    *,
    inputs=None,
    n_steps: int = 400,
    tol: float = 1e-10,
    max_iter: int = 30,
    marginal_tol: float = 1e-6,
    threads=None,
) -> LimitCycle:
    r"""A periodic orbit near ``x0`` by Newton shooting, with its Floquet multipliers.

    Parameters
    ----------
    dynamics : Dynamics or model
    x0 : array (d,)
        A state near the orbit (see :func:`estimate_period`).
    period : float (ODEs) or int (maps)
        Guess of the period in the system's time unit (ODEs; refined), or the number of
        steps k of a map cycle (fixed; the minimal period found is reported).
    inputs : array (m,), optional
        Constant input (zero when omitted).
    n_steps : int
        RK4 steps per period (ODEs); the step follows the period as it is refined.
    tol : float
        Converged when :math:`\|\Phi_T(x_0) - x_0\| \le` ``tol`` (1 + ‖x0‖).
    max_iter : int
    marginal_tol : float
        Nontrivial multipliers with :math:`||\mu| - 1| \le` ``marginal_tol`` are marginal.
    threads : int, optional
        Threads for the tangent products (default: chosen by :mod:`neurodyn.threads`).

    Returns
    -------
    LimitCycle
        Divergence or failure to converge is reported in ``status``, not raised.

    Raises
    ------
    ValueError
        On a non-positive period (or a non-integer period for a map), NaN in x0, or bad
        counts.

    Examples
    --------
    The Hopf normal form with μ = 0.25, ω = 1 has a stable cycle of radius 0.5 and
    period 2π:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = (x**2).sum(1)
    ...     return np.stack([0.25*x[:, 0] - x[:, 1] - x[:, 0]*r2,
    ...                      x[:, 0] + 0.25*x[:, 1] - x[:, 1]*r2], 1)
    >>> lc = find_limit_cycle(FunctionDynamics(f, n_state=2, kind="ode"), [0.6, 0.0], 6.0)
    >>> round(float(lc.period), 6), round(float(np.linalg.norm(lc.x0)), 6), lc.stability
    (6.283185, 0.5, 'stable')
    """
    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    x = dyn.check_states(x0, "x0")
    if len(x) != 1:
        raise ValueError(f"x0 has {len(x)} states; expected one state (n_state,)")
    x = x[0]
    c = dyn._prepare(NUMPY, dyn.check_inputs(inputs, 1))
    check_int("n_steps", n_steps)
    check_int("max_iter", max_iter)
    check_positive("tol", tol)
    # Work per tangent product: a (d × d) by (d × d) matrix product.
    work = 2.0 * dyn.n_state**3
    if dyn.kind == "map":
        k = check_int("period (the k of a map cycle)", period)
        with _threads.limit(threads, work=work, what="find_limit_cycle"):
            return _map_cycle(dyn, x, c, k, tol, max_iter, marginal_tol)
    try:
        T = float(period)
    except (TypeError, ValueError):
        raise ValueError(f"period must be a positive number, got {period!r}") from None
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"period must be positive and finite, got {period!r}")
    if np.linalg.norm(_velocity(dyn, x, c)) == 0:
        raise ValueError("x0 is a fixed point (zero velocity); start from a point on the orbit")
    with _threads.limit(threads, work=work, what="find_limit_cycle"):
        return _ode_cycle(dyn, x, c, T, n_steps, tol, max_iter, marginal_tol)


def _ode_cycle(dyn, x, c, T, n_steps, tol, max_iter, marginal_tol):
    """Newton shooting on (x0, T) for an ODE (see the module docstring)."""
    d = dyn.n_state
    x_ref = x.copy()
    f_ref = _velocity(dyn, x_ref, c)
    f_ref = f_ref / np.linalg.norm(f_ref)
    status, res_norm, it = "max_iter", np.inf, 0
    M = np.eye(d)
    history = []
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported as n_iter)
        xT, M, _ = _flow(dyn, x, c, T, n_steps)
        if not np.all(np.isfinite(xT)) or not np.all(np.isfinite(M)):
            status = "diverged"
            break
        g = xT - x
        res_norm = float(np.linalg.norm(g))
        if res_norm <= tol * (1 + np.linalg.norm(x)):
            status = "converged"
            break
        if _stalled(history, res_norm):
            status = "stalled"
            break
        K = np.zeros((d + 1, d + 1))
        K[:d, :d] = M - np.eye(d)
        K[:d, d] = _velocity(dyn, xT, c)
        K[d, :d] = f_ref
        rhs = -np.append(g, f_ref @ (x - x_ref))
        try:
            delta = np.linalg.solve(K, rhs)
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(K, rhs, rcond=None)[0]
        # Damp steps that would flip the period's sign or jump by more than half of it.
        lam = 1.0
        while T + lam * delta[d] <= 0.5 * T or abs(lam * delta[d]) > 0.5 * T:
            lam *= 0.5
        x = x + lam * delta[:d]
        T = T + lam * delta[d]
    _, _, orbit = _flow(dyn, x, c, T, n_steps, with_monodromy=False, keep=True)
    if orbit is None or len(orbit) < n_steps + 1:
        status = "diverged"
        orbit = np.full((n_steps + 1, d), np.nan)
    elif status == "converged" and np.max(np.ptp(orbit, axis=0)) < 1e-6 * (1 + np.abs(x).max()):
        status = "fixed_point"
    mult, trivial = _ode_multipliers(M, _velocity(dyn, x, c))
    stability = (
        _stability(np.delete(mult, trivial), marginal_tol) if status == "converged" else "unknown"
    )
    if status != "converged":
        logger.info("limit cycle search ended with status %s (residual %.3g)", status, res_norm)
    return LimitCycle(
        x0=x,
        period=T,
        orbit=orbit,
        time=np.linspace(0.0, T, n_steps + 1),
        multipliers=mult,
        trivial=trivial,
        stability=stability,
        status=status,
        residual=res_norm,
        n_iter=it,
        kind="ode",
        time_unit=dyn.time_unit,
        info={"n_steps": n_steps, "tol": tol},
    )


def _ode_multipliers(M, f0):
    r"""Floquet multipliers of an ODE orbit, largest modulus first, and the trivial one's index.

    The trivial multiplier is :math:`\hat f^\top M \hat f` with :math:`\hat f` the flow
    direction at the orbit's start; the others are the eigenvalues of M restricted to the
    plane orthogonal to it (the Poincaré map's Jacobian; see the module docstring).
    """
    d = len(M)
    norm = np.linalg.norm(f0)
    if not (np.all(np.isfinite(M)) and np.isfinite(norm)) or norm == 0:
        return np.full(d, np.nan + 0j), 0
    fhat = f0 / norm
    # Householder QR of [f̂ | I]: the first column of Q is ±f̂, the rest span its complement.
    Q = np.linalg.qr(np.column_stack([fhat, np.eye(d)]))[0]
    Qp = Q[:, 1:d]
    trivial = complex(fhat @ M @ fhat)
    others = np.linalg.eigvals(Qp.T @ M @ Qp) if d > 1 else np.zeros(0, complex)
    mult = np.concatenate([[trivial], others]).astype(complex)
    order = np.argsort(-np.abs(mult), kind="stable")
    return mult[order], int(np.flatnonzero(order == 0)[0])


#: Newton iterations without halving the best residual before a search is given up:
#: near a root Newton's residual falls quadratically, so a run this long without
#: progress means no orbit near the guess (a slow spiral into a fixed point, say).
STALL_ITERATIONS = 5


def _stalled(history, res_norm):
    """Record a residual; True once the last STALL_ITERATIONS never halved the best before."""
    history.append(res_norm)
    if len(history) <= STALL_ITERATIONS:
        return False
    before = min(history[:-STALL_ITERATIONS])
    return min(history[-STALL_ITERATIONS:]) > 0.5 * before


def _multipliers(M):
    """Eigenvalues of the monodromy matrix, largest modulus first (NaN if M is not finite)."""
    if not np.all(np.isfinite(M)):
        return np.full(len(M), np.nan + 0j)
    mult = np.linalg.eigvals(M)
    return mult[np.argsort(-np.abs(mult), kind="stable")]


def _stability(mult, marginal_tol):
    """The stability label of multipliers: |μ| − 1 plays the growth rate of a mode."""
    return str(classify(np.abs(mult) - 1.0, marginal_tol)[2])


def _map_orbit(dyn, x, c, k):
    """The k + 1 states of x under the map and the product of the k Jacobians."""
    sch, fj = scheme(dyn), (lambda z: _fj(dyn, z, c))
    xs, M = [x.copy()], np.eye(dyn.n_state)[None]
    y = x[None].copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(k):
            y, M = sch.tangent_step(fj, y, M)  # (F(y), J(y) M)
            xs.append(y[0].copy())
    return np.array(xs), M[0]


def _minimal_period(orbit, close):
    """Smallest j dividing k = len(orbit) - 1 after which the orbit is back at its start."""
    k = len(orbit) - 1
    for j in range(1, k):
        if k % j == 0 and np.linalg.norm(orbit[j] - orbit[0]) <= close:
            return j
    return k


def _map_cycle(dyn, x, c, k, tol, max_iter, marginal_tol):
    """Newton on F^k(x) − x for a map; M is the product of the Jacobians along the cycle."""
    d = dyn.n_state
    status, res_norm, it = "max_iter", np.inf, 0
    history = []
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported as n_iter)
        orbit, M = _map_orbit(dyn, x, c, k)
        if not np.all(np.isfinite(orbit)) or not np.all(np.isfinite(M)):
            status = "diverged"
            break
        g = orbit[-1] - x
        res_norm = float(np.linalg.norm(g))
        if res_norm <= tol * (1 + np.linalg.norm(x)):
            status = "converged"
            break
        if _stalled(history, res_norm):
            status = "stalled"
            break
        try:
            delta = np.linalg.solve(M - np.eye(d), -g)
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(M - np.eye(d), -g, rcond=None)[0]
        x = x + delta
    if status in ("max_iter", "stalled"):  # x moved after the last evaluation
        orbit, M = _map_orbit(dyn, x, c, k)
    if status == "converged":
        # Points of a genuine j-cycle are O(amplitude) apart; a root of F^k = x that
        # closes after j steps does so to Newton's tolerance.
        j = _minimal_period(orbit, max(1e-7, 1e3 * tol) * (1 + np.linalg.norm(x)))
        if j == 1:
            status = "fixed_point"
        elif j < k:
            k = j
            orbit, M = _map_orbit(dyn, x, c, k)
    mult = _multipliers(M)
    stability = _stability(mult, marginal_tol) if status == "converged" else "unknown"
    return LimitCycle(
        x0=x,
        period=float(k),
        orbit=orbit,
        time=np.arange(k + 1) * dyn.dt,
        multipliers=mult,
        trivial=-1,
        stability=stability,
        status=status,
        residual=res_norm,
        n_iter=it,
        kind="map",
        time_unit=dyn.time_unit,
        info={"tol": tol},
    )
