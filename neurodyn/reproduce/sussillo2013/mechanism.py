r"""The mechanism of an oscillator at one constant input: a fixed point whose
linearization has an unstable complex pair, and the stable limit cycle around it.

For an ODE :math:`\dot x = f(x, u)` at a constant input u (Sussillo & Barak 2013's
sine-wave generator), :func:`analyze_level`:

1. integrates the system from a state it visits (:func:`~neurodyn.analysis.estimate_period`)
   and refines a periodic orbit by Newton shooting
   (:func:`~neurodyn.analysis.find_limit_cycle`): its period T, its Floquet multipliers
   (the trivial one, 1 along the orbit, and the others, inside the unit circle for a
   stable cycle) and the cycle's angular frequency :math:`2\pi/T`;
2. finds the fixed points (:func:`~neurodyn.analysis.find_fixed_points`) from states on
   the orbit, its centroid and points between the two, and keeps those whose Jacobian
   has an unstable complex pair :math:`\lambda = \gamma \pm i\omega`, :math:`\gamma > 0`
   (:func:`oscillatory_mode`). The linear prediction of the frequency is ω, the pair's
   imaginary part: the growth of a small perturbation of the fixed point,
   :math:`e^{\gamma t}\cos(\omega t + \varphi)`, turns at that rate. Of several such points the one the
   cycle winds around is kept (:func:`winding_number`, in the cycle's principal plane),
   else the one nearest the cycle's centroid;
3. computes the top two Lyapunov exponents from a state on the cycle
   (:func:`~neurodyn.analysis.lyapunov_spectrum`). On a stable limit cycle the first is 0
   (a shift along the orbit neither grows nor decays) and the second is the cycle's
   attraction rate, :math:`\ln|\mu_2| / T` with :math:`\mu_2` the largest nontrivial
   Floquet multiplier: two analyses of the same orbit that must agree.

Every rate and frequency is reported per ``time_unit`` (the units' time constant τ in
the reproduction): frequencies in radians per τ, growth rates and exponents per τ.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ...analysis import estimate_period, find_fixed_points, find_limit_cycle, lyapunov_spectrum
from ...analysis.fixed_points import sample_initial_states
from ...analysis.projection import pca_basis
from ...threads import limit
from ..harness import check_sizes

__all__ = ["LevelOptions", "analyze_level", "oscillatory_mode", "winding_number"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LevelOptions:
    """Settings of :func:`analyze_level` (each a positive size, checked at construction).

    Attributes
    ----------
    n_inits : int
        Initial states of the fixed-point search, drawn from the orbit with noise.
    noise_scale : float
        Standard deviation of that noise (state units).
    cycle_steps : int
        RK4 steps per period of the shooting (and of the Floquet multipliers).
    lyapunov_steps, lyapunov_transient : int
        Steps of the Lyapunov exponents' average and of the transient before it
        (integration steps of ``dynamics.dt``).
    marginal_tol : float
        Growth rates (per ms) within this of 0 are marginal, not unstable.
    periods : float
        Periods of the expected frequency simulated to estimate the period.

    Examples
    --------
    >>> opts = LevelOptions(n_inits=32, lyapunov_steps=1500)
    >>> opts.cycle_steps, opts.marginal_tol
    (400, 0.0001)
    >>> try:
    ...     LevelOptions(cycle_steps=0)
    ... except ValueError as err:
    ...     print(err)
    cycle_steps must be an integer >= 1, got 0
    """

    n_inits: int = 256
    noise_scale: float = 0.25
    cycle_steps: int = 400
    lyapunov_steps: int = 5000
    lyapunov_transient: int = 1000
    marginal_tol: float = 1e-4
    periods: float = 4.0

    def __post_init__(self):
        check_sizes(self)


def oscillatory_mode(growth_rate, frequency, marginal_tol: float) -> int:
    """Index of the leading unstable complex mode (the member of its pair with positive
    frequency) in eigenvalues sorted most unstable first, or -1 where there is none.

    Parameters
    ----------
    growth_rate, frequency : array (d,)
        Of each mode (:class:`~neurodyn.analysis.Linearization`'s, sorted).
    marginal_tol : float
        A mode is unstable when its growth rate exceeds this.

    Examples
    --------
    >>> oscillatory_mode(np.array([0.3, 0.1, 0.1, -1.0]), np.array([0.0, 2.0, -2.0, 0.0]), 1e-4)
    1
    """
    g, f = np.asarray(growth_rate), np.asarray(frequency)
    hit = np.flatnonzero((g > marginal_tol) & (f > 0))
    return int(hit[0]) if len(hit) else -1


def winding_number(curve, point) -> int:
    r"""How many times the closed plane curve winds around ``point`` (counterclockwise
    positive): the sum of the angles the curve turns through as seen from the point,

    .. math:: w = \frac{1}{2\pi}\sum_k \operatorname{angle}(c_{k+1} - p,\; c_k - p).

    Parameters
    ----------
    curve : array (n, 2)
        Points of the curve in order; it is closed from its last point to its first.
    point : array (2,)

    Examples
    --------
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> circle = np.stack([np.cos(t), np.sin(t)], 1)
    >>> winding_number(circle, [0.2, 0.1]), winding_number(circle, [2.0, 0.0])
    (1, 0)
    """
    c = np.asarray(curve, dtype=float) - np.asarray(point, dtype=float)
    a = np.arctan2(c[:, 1], c[:, 0])
    turn = np.diff(np.append(a, a[0]))
    turn = (turn + np.pi) % (2.0 * np.pi) - np.pi  # each step's turn within (-π, π]
    return int(np.rint(turn.sum() / (2.0 * np.pi)))


def _cycle(dyn, x_start, u, period_guess: float, opts: LevelOptions):
    """The limit cycle near the trajectory from x_start, or None where the trajectory
    settles (no oscillation to refine)."""
    x0, period = estimate_period(
        dyn, x_start, inputs=u, t_transient=0.0, t_max=opts.periods * period_guess
    )
    if not np.isfinite(period):
        return None
    return find_limit_cycle(dyn, x0, period, inputs=u, n_steps=opts.cycle_steps)


def _search_states(orbit: np.ndarray, opts: LevelOptions, seed) -> np.ndarray:
    """Orbit states with noise, the orbit's centroid and points between the two: the
    fixed point inside a cycle lies near its centre, which no trajectory visits."""
    centre = orbit.mean(0)
    noisy = sample_initial_states(orbit, opts.n_inits, noise_scale=opts.noise_scale, seed=seed)
    ring = orbit[:: max(len(orbit) // 16, 1)]
    between = np.concatenate([centre + f * (ring - centre) for f in (0.25, 0.5, 0.75)])
    return np.vstack([noisy, between, centre[None]])


def _pick(fps, keep: np.ndarray, orbit: np.ndarray):
    """Of the roots ``keep`` (indices) with an unstable pair, the one the orbit winds
    around in its principal plane (nearest the centroid among several), with its
    winding number; else the nearest the centroid (winding 0)."""
    mean, comps = pca_basis(orbit, 2)
    curve = (orbit - mean) @ comps.T
    wind = np.array([winding_number(curve, (fps.x[k] - mean) @ comps.T) for k in keep])
    dist = np.linalg.norm(fps.x[keep] - mean, axis=1)
    order = np.lexsort((dist, wind == 0))  # wound first, then nearest
    return int(keep[order[0]]), int(wind[order[0]])


def _fixed_point(dyn, u, orbit, opts: LevelOptions, unit: float, seed) -> dict:
    fps = find_fixed_points(
        dyn, u, _search_states(orbit, opts, seed), marginal_tol=opts.marginal_tol, progress=False
    ).roots
    modes = [oscillatory_mode(g, f, opts.marginal_tol) for g, f in
             zip(fps.growth_rate, fps.frequency, strict=True)]  # fmt: skip
    keep = np.flatnonzero(np.asarray(modes, dtype=int) >= 0)
    out = {"n_roots": len(fps), "n_with_pair": len(keep), "_roots": fps.x}
    if not len(keep):
        return {**out, "omega_linear": math.nan, "growth_linear": math.nan, "winding": 0,
                "centre_distance": math.nan, "n_unstable": -1, "_x": None}  # fmt: skip
    k, wind = _pick(fps, keep, orbit)
    lam = fps.eigenvalues[k, modes[k]]
    mean = orbit.mean(0)
    radius = float(np.sqrt(np.mean(np.sum((orbit - mean) ** 2, axis=1))))
    return {
        **out,
        "omega_linear": float(lam.imag) * unit,
        "growth_linear": float(lam.real) * unit,
        "winding": wind,
        "centre_distance": float(np.linalg.norm(fps.x[k] - mean)) / radius,
        "n_unstable": int(fps.n_unstable[k]),
        "_x": fps.x[k],
    }


def _exponents(dyn, lc, u, opts: LevelOptions, unit: float, seed) -> dict:
    spec = lyapunov_spectrum(
        dyn, lc.x0, u, k=2, n_steps=opts.lyapunov_steps, transient=opts.lyapunov_transient,
        seed=seed, progress=False,
    )  # fmt: skip
    second = np.abs(lc.nontrivial[0]) if len(lc.nontrivial) else math.nan
    return {
        "lyapunov": [float(e) * unit for e in spec.exponents],
        # ln|μ2|/T, the attraction rate the Floquet multipliers give (per time unit).
        "floquet_rate": float(np.log(second) / lc.period) * unit if second > 0 else -math.inf,
    }


def analyze_level(dynamics, u, x_start, *, period_guess: float, time_unit: float,
                  options: LevelOptions | None = None, seed=0, threads=None) -> dict:  # fmt: skip
    r"""The fixed point with an unstable complex pair, the limit cycle and its stability
    at one constant input (see the module docstring).

    Parameters
    ----------
    dynamics : Dynamics
        An ODE (``kind="ode"``), time in ms.
    u : array (m,)
        The constant input.
    x_start : array (d,)
        A state the system visits at this input (on or near its oscillation).
    period_guess : float
        The expected period (ms): it sets how long the period is estimated over.
    time_unit : float
        The unit of every reported rate and frequency, in ms.
    options : LevelOptions, optional
        The analysis' settings (default ``LevelOptions()``).
    seed : int
        Seeds the fixed-point search's initial states and the Lyapunov vectors.
    threads : int, optional
        Threads for the whole analysis (default: :mod:`neurodyn.threads`' policy for its
        largest products, d × d by d × d).

    Returns
    -------
    dict
        ``omega_linear`` and ``growth_linear`` (the pair's ω and γ per time unit, NaN
        without such a point), ``n_roots``, ``n_with_pair``, ``winding`` (of the cycle
        around the point), ``centre_distance`` (from the cycle's centroid, over the
        cycle's RMS radius), ``n_unstable``; ``cycle_status`` (find_limit_cycle's, or
        ``"no_oscillation"``), ``cycle_stable``, ``omega_cycle`` (:math:`2\pi/T` per
        time unit), ``trivial_error`` (:math:`|\mu_{trivial} - 1|`), ``max_multiplier``
        (largest nontrivial :math:`|\mu|`), ``floquet_rate`` and ``lyapunov`` (top two
        exponents, per time unit). Keys starting with ``_`` hold the orbit and the
        points (arrays, for figures).

    Examples
    --------
    The Hopf normal form :math:`\dot z = (\mu + i\omega) z - |z|^2 z` with
    :math:`\mu = 0.25` and the input setting :math:`\omega`: the origin's unstable pair
    :math:`\mu \pm i\omega` predicts the cycle's frequency exactly, and the cycle
    (radius :math:`\sqrt\mu`) attracts at rate :math:`-2\mu`:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def hopf(x, u):
    ...     r2, w = x[:, 0] ** 2 + x[:, 1] ** 2, u[:, 0]
    ...     return np.stack([0.25 * x[:, 0] - w * x[:, 1] - x[:, 0] * r2,
    ...                      w * x[:, 0] + 0.25 * x[:, 1] - x[:, 1] * r2], axis=1)
    >>> dyn = FunctionDynamics(hopf, n_state=2, n_input=1, kind="ode", dt=0.01)
    >>> opts = LevelOptions(n_inits=16, lyapunov_steps=500, lyapunov_transient=200)
    >>> out = analyze_level(dyn, [1.0], [0.5, 0.0], period_guess=2 * np.pi, time_unit=1.0,
    ...                     options=opts)
    >>> out["n_roots"], out["n_with_pair"], out["cycle_stable"]
    (1, 1, True)
    >>> round(out["omega_linear"], 6), round(out["growth_linear"], 6)
    (1.0, 0.25)
    >>> round(float(out["omega_cycle"]), 6), round(out["floquet_rate"], 6)
    (1.0, -0.5)
    """
    opts = options or LevelOptions()
    u = np.atleast_1d(np.asarray(u, dtype=float))
    with limit(threads, work=2.0 * dynamics.n_state**3, what="analyze_level"):
        return _analyze(dynamics, u, np.asarray(x_start, dtype=float), period_guess,
                        time_unit, opts, seed)  # fmt: skip


def _analyze(dyn, u, x_start, period_guess, unit, opts: LevelOptions, seed) -> dict:
    lc = _cycle(dyn, x_start, u, period_guess, opts)
    if lc is None or lc.status != "converged":
        status = "no_oscillation" if lc is None else lc.status
        logger.info("input %s: no limit cycle (%s)", u.tolist(), status)
        orbit = x_start[None]
        return {"cycle_status": status, "cycle_stable": False, "omega_cycle": math.nan,
                "trivial_error": math.nan, "max_multiplier": math.nan,
                "floquet_rate": math.nan, "lyapunov": [math.nan, math.nan], "_orbit": orbit,
                **_fixed_point(dyn, u, orbit, opts, unit, seed)}  # fmt: skip
    return {
        "cycle_status": lc.status,
        "cycle_stable": bool(lc.is_stable),
        "omega_cycle": 2.0 * math.pi / lc.period * unit,
        "trivial_error": float(abs(lc.multipliers[lc.trivial] - 1.0)),
        "max_multiplier": lc.max_multiplier,
        **_exponents(dyn, lc, u, opts, unit, seed),
        "_orbit": lc.orbit,
        # The orbit without its closing point (a repeat of the first), so that its mean
        # weighs every phase alike.
        **_fixed_point(dyn, u, lc.orbit[:-1], opts, unit, seed),
    }
