r"""Where trajectories end, and with what basins: :func:`classify_attractors`.

Every initial state is simulated (the map itself, or RK4 with step h for ODEs) and
labelled from what its trajectory does, with labels that cannot contradict its
largest Lyapunov exponent :math:`\lambda_1`:

1. **diverged**: the state became NaN or left ``|x| <= x_max`` (reported, never dropped).
2. **At rest** after ``n_steps``: its final ``window`` steps moved less than
   ``rest_tol``·(1 + ‖x‖). Resting end states are grouped: if several lie on a line or
   ring of slow points (:func:`~neurodyn.analysis.find_slow_manifolds`, run on the
   distinct end states, or the ``manifolds`` given), they are a **line** or **ring**
   attractor; otherwise each cluster (within ``cluster_tol`` × the spread of the initial
   states) is a **fixed point**. Its exponent is that of the linearization at the end
   state, :math:`\max_i \log|\mu_i| / \Delta t` for maps and :math:`\max_i \operatorname{Re}
   \lambda_i` for ODEs: the exact exponent of a trajectory converging to the point.
3. Trajectories **still moving** get :math:`\lambda_1` by the QR method
   (:func:`~neurodyn.analysis.lyapunov_spectrum`, k = 1) over ``lyapunov_steps`` (after a
   quarter as many to align the tangent vector), and are advanced over the same steps:

   * at rest by then: a fixed point as in 2 (a trajectory that lingered near a saddle);
   * :math:`\lambda_1 > \lambda_\text{tol}` (default :math:`5/T_\text{Lyap}`, growth by e⁵
     over the estimate, beyond finite-time fluctuations): **chaotic**;
   * otherwise the trajectory may approach a closed orbit, which is searched for by
     shooting (:func:`~neurodyn.analysis.find_limit_cycle`) and accepted only when
     Newton's method converges to a closed orbit whose nontrivial Floquet multipliers lie
     inside the unit circle and the trajectory ends on it. For an ODE this is a
     **limit cycle**, tried only when :math:`|\lambda_1| \le \lambda_\text{tol}` (a cycle's
     exponent along the orbit is 0; a negative :math:`\lambda_1` rules it out). For a map
     it is a **periodic orbit** of integer period k, tried when the trajectory recurs
     after k steps, and accepted only when :math:`\lambda_1` matches the orbit's own
     exponent :math:`\log|\mu_1| / (k\Delta t)` (negative for a stable orbit);
   * the rest keep running, up to ``max_steps`` in all (the budget); those that come
     to rest are fixed points as in 2, and those still moving at the end of the budget
     are **unresolved**, with their speed, never guessed to be a cycle.

So a negative :math:`\lambda_1` never comes with a limit cycle or chaos, a limit cycle
always has :math:`|\lambda_1| \le \lambda_\text{tol}` and chaos always
:math:`\lambda_1 > \lambda_\text{tol}`. Chaotic trajectories share an attractor when the
end state of one comes within 10% of the extent of the final window of another (never
below ``cluster_tol``), closed transitively; cycles are shared by the trajectories that end
on them. Basin fractions are the fractions of all initial states that end on each
attractor; ``unresolved`` and ``diverged`` trajectories count in the total.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .. import threads as _threads
from .._validation import check_int, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..dynamics.ops import NUMPY
from .fixed_points.dedupe import cluster, state_scale

__all__ = ["Attractors", "classify_attractors"]

logger = logging.getLogger(__name__)

#: Kinds of attractor, and the labels of trajectories that reach none.
KINDS = ("fixed_point", "line", "ring", "limit_cycle", "periodic_orbit", "chaotic")
OUTCOMES = ("unresolved", "diverged")


@dataclass
class Attractors:
    r"""Attractors reached from a set of initial states, with their basin fractions.

    Attributes
    ----------
    kind : ndarray of str (n_attractors,)
        ``fixed_point``, ``line``, ``ring``, ``limit_cycle`` (ODEs), ``periodic_orbit``
        (maps) or ``chaotic``.
    representative : ndarray (n_attractors, d)
        An end state on each attractor.
    basin_fraction : ndarray (n_attractors,)
        Fraction of all initial states ending there (unresolved and diverged ones
        included in the total).
    label : ndarray of str (n_traj,)
        Kind reached by each trajectory, ``"unresolved"`` (still moving at the end of
        the budget, neither chaotic nor on a closed orbit) or ``"diverged"``.
    attractor : ndarray of int (n_traj,)
        Index of the attractor (-1 for unresolved and diverged trajectories).
    final_state : ndarray (n_traj, d)
        State at the end of the simulation (NaN for diverged trajectories).
    lyapunov : ndarray (n_traj,)
        Largest Lyapunov exponent :math:`\lambda_1` per time unit: of the linearization at
        the end state for trajectories at rest, by the QR method otherwise (NaN for
        diverged ones).
    speed : ndarray (n_traj,)
        :math:`\|f(x)\|` (ODEs) or :math:`\|F(x) - x\|/\Delta t` (maps) at the final
        state, in state units per time unit (NaN for diverged ones).
    period : ndarray (n_attractors,)
        Period of each cycle in the time unit (k·Δt for a map's period-k orbit; NaN for
        other kinds).
    max_multiplier : ndarray (n_attractors,)
        Largest modulus of a cycle's nontrivial Floquet multipliers (NaN for other kinds).
    cycles : list of LimitCycle or None (n_attractors,)
        The closed orbit found by shooting, for cycles.
    time_unit : str
        Unit of time of the dynamics (``"ms"`` by default, ``"step"`` for maps without a
        time step); ``lyapunov``, ``speed`` and ``period`` are per or in this unit.
    info : dict
        The settings of the classification: ``n_steps``, ``max_steps``, ``step`` (the
        RK4 step), ``rest_tol``, ``cluster_tol``, ``cluster_distance`` (the grouping
        distance in state units), ``lyapunov_steps`` and ``lyapunov_tol``.

    Examples
    --------
    :func:`classify_attractors` returns it. In the double well
    :math:`\dot x = x - x^3`, :math:`\dot y = -y`, half the states of a grid end at
    :math:`(1, 0)` and half at :math:`(-1, 0)`, where the largest Jacobian eigenvalue
    is :math:`-1`:

    >>> from neurodyn.analysis import classify_attractors
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: np.stack([x[:, 0] - x[:, 0]**3, -x[:, 1]], 1),
    ...                        n_state=2, kind="ode", dt=0.05)
    >>> g = np.linspace(-1.5, 1.5, 4)
    >>> x0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    >>> att = classify_attractors(dyn, x0, progress=False)
    >>> att.kind.tolist(), att.basin_fraction.tolist()
    (['fixed_point', 'fixed_point'], [0.5, 0.5])
    >>> sorted(np.round(att.representative[:, 0], 3).tolist())
    [-1.0, 1.0]
    >>> bool(np.all(att.label == "fixed_point")), np.round(att.lyapunov[:3], 3).tolist()
    (True, [-1.0, -1.0, -1.0])
    >>> att.summary()
    {'fixed_point': 1.0, 'unresolved': 0.0, 'diverged': 0.0}
    >>> att.info["n_steps"], att.info["max_steps"]
    (2000, 20000)
    """

    kind: np.ndarray
    representative: np.ndarray
    basin_fraction: np.ndarray
    label: np.ndarray
    attractor: np.ndarray
    final_state: np.ndarray
    lyapunov: np.ndarray
    speed: np.ndarray
    period: np.ndarray
    max_multiplier: np.ndarray
    cycles: list = field(default_factory=list)
    time_unit: str = "ms"
    info: dict = field(default_factory=dict)

    @property
    def diverged_fraction(self) -> float:
        """Fraction of the initial states whose trajectories diverged."""
        return float(np.mean(self.label == "diverged"))

    @property
    def unresolved_fraction(self) -> float:
        """Fraction of the initial states still moving, unclassified, at the end of the budget."""
        return float(np.mean(self.label == "unresolved"))

    def summary(self) -> dict:
        """Basin fraction per kind of attractor, then ``unresolved`` and ``diverged``."""
        out = {
            k: float(np.sum(self.basin_fraction[self.kind == k]))
            for k in KINDS
            if np.any(self.kind == k)
        }
        out["unresolved"] = self.unresolved_fraction
        out["diverged"] = self.diverged_fraction
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v:.2f}" for k, v in self.summary().items())
        return (
            f"Attractors({len(self.kind)} attractors over {len(self.label)} trajectories: {parts})"
        )

    def _columns(self):
        """The variables of :meth:`to_xarray`: those along ``attractor``, those along
        ``trajectory``."""
        per_attractor = {
            "kind": (("attractor",), self.kind.astype(str)),
            "basin_fraction": (("attractor",), self.basin_fraction),
            "representative": (("attractor", "state"), self.representative),
            "period": (("attractor",), self.period),
            "max_multiplier": (("attractor",), self.max_multiplier),
        }
        per_trajectory = {
            "label": (("trajectory",), self.label.astype(str)),
            "attractor_id": (("trajectory",), self.attractor.astype(np.int32)),
            "final_state": (("trajectory", "state"), self.final_state),
            "lyapunov": (("trajectory",), self.lyapunov),
            "speed": (("trajectory",), self.speed),
        }
        return per_attractor, per_trajectory

    def to_xarray(self):
        """A Dataset with dims ``attractor``, ``trajectory`` and ``state``."""
        return _dataset([self], None)


def _dataset(results, names):
    """One Dataset of several :class:`Attractors` (one per input when ``names`` are given:
    coordinates ``attractor_condition`` and ``trajectory_condition`` name each one's
    input, and ``attractor_id`` indexes the joined ``attractor`` dim)."""
    import json

    import xarray as xr

    from .._version import __version__

    cols = [r._columns() for r in results]
    offsets = np.cumsum([0] + [len(r.kind) for r in results])
    for (_, traj), o in zip(cols, offsets, strict=False):
        ids = traj["attractor_id"][1]
        traj["attractor_id"] = (("trajectory",), np.where(ids >= 0, ids + o, -1).astype(np.int32))
    data = {
        k: (dims, np.concatenate([c[j][k][1] for c in cols]))
        for j in (0, 1)
        for k, (dims, _) in cols[0][j].items()
    }
    labels = np.concatenate([r.label for r in results])
    na, nt = int(offsets[-1]), len(labels)
    coords = {
        "attractor": np.arange(na, dtype=np.int32),
        "trajectory": np.arange(nt, dtype=np.int32),
        "state": np.arange(results[0].final_state.shape[1], dtype=np.int32),
    }
    if names is not None:
        coords["attractor_condition"] = (
            "attractor", np.repeat(np.asarray(names, dtype=str), [len(r.kind) for r in results])
        )  # fmt: skip
        coords["trajectory_condition"] = (
            "trajectory", np.repeat(np.asarray(names, dtype=str), [len(r.label) for r in results])
        )  # fmt: skip
    ds = xr.Dataset(data, coords=coords)
    unit = results[0].time_unit
    ds["lyapunov"].attrs["units"] = f"1/{unit}"
    ds["speed"].attrs["units"] = f"1/{unit}"
    ds["period"].attrs["units"] = unit
    info = results[0].info if names is None else [r.info for r in results]
    ds.attrs.update(
        diverged_fraction=float(np.mean(labels == "diverged")),
        unresolved_fraction=float(np.mean(labels == "unresolved")),
        info=json.dumps(info, default=str),
        neurodyn_version=__version__,
    )
    return ds


@dataclass(frozen=True)
class _Plan:
    n_steps: int
    max_steps: int
    window: int
    h: float  # integration step (1 for maps)
    tper: float  # time per step
    rest_tol: float
    cluster_tol: float  # as given: a fraction of the initial states' spread
    tol: float  # absolute grouping tolerance
    lyapunov_steps: int
    lyapunov_tol: float
    max_period: int
    max_shots: int
    x_max: float


def _simulate(dyn, X, c, n_steps, h, window, x_max, progress=False):
    """Advance all states; returns (final window (w, n, d), diverged mask)."""
    from ..progress import progress_bar
    from .limit_cycles import _step

    n = len(X)
    alive = np.ones(n, dtype=bool)
    hist = np.full((window, n, X.shape[1]), np.nan)
    bar = progress_bar(total=n_steps, progress=progress, desc="attractors", unit="step")
    X = X.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            idx = np.flatnonzero(alive)
            if not len(idx):
                break
            X[idx] = _step(dyn, X[idx], c[idx], h)
            bad = ~np.all(np.isfinite(X[idx]), axis=1)
            bad[~bad] = np.abs(X[idx[~bad]]).max(axis=1) > x_max
            alive[idx[bad]] = False
            X[idx[bad]] = np.nan
            w = t - (n_steps - window)
            if w >= 0:
                hist[w] = X
            bar.update(1)
    bar.close()
    return hist, ~alive


class _Runs:
    """The trajectories' current final windows, end states and step counts."""

    def __init__(self, dyn, X0, c, plan, progress):
        self.dyn, self.c, self.plan = dyn, c, plan
        self.win, self.diverged = _simulate(
            dyn, X0, c, plan.n_steps, plan.h, plan.window, plan.x_max, progress
        )
        self.steps = np.full(len(X0), plan.n_steps)

    @property
    def end(self):
        return self.win[-1]

    def at_rest(self, idx):
        """Which of ``idx`` moved less than rest_tol (1 + ‖x‖) over their final window."""
        win = self.win[:, idx]
        moved = np.max(np.linalg.norm(win - win[-1][None], axis=2), axis=0)
        size = 1.0 + np.linalg.norm(win[-1], axis=1)
        return (moved <= self.plan.rest_tol * size) & ~self.diverged[idx]

    def advance(self, idx, n_steps):
        """Run trajectories ``idx`` on for ``n_steps`` (at least one window)."""
        p = self.plan
        n_steps = max(int(n_steps), p.window)
        win, div = _simulate(self.dyn, self.end[idx], self.c[idx], n_steps, p.h, p.window, p.x_max)
        self.win[:, idx] = win
        self.diverged[idx] |= div
        self.steps[idx] += n_steps


def classify_attractors(
    dynamics,
    initial_states,
    inputs=None,
    *,
    n_steps: int = 2000,
    max_steps: int | None = None,
    step: float | None = None,
    window: int | None = None,
    manifolds=None,
    rest_tol: float = 1e-6,
    cluster_tol: float = 1e-2,
    lyapunov_steps: int = 2000,
    lyapunov_tol: float | None = None,
    max_period: int = 64,
    max_shots: int = 8,
    x_max: float = 1e6,
    seed=0,
    progress: bool = True,
    threads=None,
) -> Attractors:
    r"""Simulate from many initial states and label the attractor each one reaches.

    Main arguments
    --------------
    dynamics : Dynamics or model
    initial_states : array (n, d)
    inputs : array (m,) or (n, m), optional
        Constant input (zero when omitted).
    n_steps : int
        Steps simulated before the end states are first examined.
    max_steps : int, optional
        The budget: trajectories neither at rest, chaotic nor on a closed orbit run on
        until they rest or this many steps have passed in all (default 10 × ``n_steps``);
        those still moving are ``"unresolved"``.

    Other arguments
    ---------------
    step : float, optional
        RK4 step of an ODE (default ``dynamics.dt``); not used for maps.
    window : int, optional
        Final steps examined (default ``n_steps // 5``).
    manifolds : SlowManifolds, optional
        Known line/ring attractors; by default they are searched among the resting end states.
    rest_tol : float
        At rest when the final window moved less than ``rest_tol`` (1 + ‖x‖).
    cluster_tol : float
        Grouping tolerance, as a fraction of the spread of the initial states.
    lyapunov_steps : int
        Steps of the largest-exponent estimate for trajectories still moving.
    lyapunov_tol : float, optional
        :math:`\lambda_\text{tol}` per time unit: chaotic above it, a limit cycle of an ODE
        only within it of zero (default 5 / (duration of the estimate)).
    max_period : int
        Longest period (steps) searched for a map's periodic orbits.
    max_shots : int
        Failed shooting attempts per distinct input before the search for closed orbits
        stops (each integrates a d × d monodromy matrix); a trajectory ending near the
        final window of one shot from in vain is not shot from again.
    x_max : float
        Trajectories leaving this bound (or NaN) are ``"diverged"``.
    seed : int
        Seeds the Lyapunov tangent vectors.
    progress : bool or {"auto", "never", "always"}
        Show a progress bar (see :mod:`neurodyn.progress`).
    threads : int, optional
        Threads (default: chosen by :mod:`neurodyn.threads` from the work).

    Returns
    -------
    Attractors

    Raises
    ------
    ValueError
        On NaN or mis-shaped initial states or inputs, or counts out of range.

    Examples
    --------
    A double well, :math:`\dot x = x - x^3`, splits its basins evenly:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode", dt=0.05)
    >>> att = classify_attractors(dyn, np.linspace(-2, 2, 40)[:, None], progress=False)
    >>> att.kind.tolist(), att.basin_fraction.tolist()
    (['fixed_point', 'fixed_point'], [0.5, 0.5])
    """
    from ..progress import check_progress

    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    X0 = dyn.check_states(initial_states, "initial_states")
    U = dyn.check_inputs(inputs, len(X0), "inputs")
    check_progress(progress)
    _threads.check_threads(threads)
    plan = _make_plan(
        dyn, X0, n_steps, max_steps, step, window, rest_tol, cluster_tol, lyapunov_steps,
        lyapunov_tol, max_period, max_shots, x_max,
    )  # fmt: skip
    # Work per parallel operation: one step of the batch, a (n × d) by (d × d) product.
    work = 2.0 * len(X0) * dyn.n_state**2
    with _threads.limit(threads, work=work, what="classify_attractors"):
        return _classify(dyn, X0, U, plan, manifolds, seed, progress)


def _make_plan(
    dyn, X0, n_steps, max_steps, step, window, rest_tol, cluster_tol, lyapunov_steps,
    lyapunov_tol, max_period, max_shots, x_max,
):  # fmt: skip
    """Validate the options (before any work) and derive the steps and tolerances."""
    check_int("n_steps", n_steps, low=2)
    check_int("lyapunov_steps", lyapunov_steps, low=2)
    max_steps = 10 * n_steps if max_steps is None else check_int("max_steps", max_steps, low=2)
    if max_steps < n_steps:
        raise ValueError(f"max_steps must be >= n_steps={n_steps}, got {max_steps}")
    window = max(2, n_steps // 5) if window is None else window
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise ValueError(f"window must be an integer in [2, n_steps={n_steps}], got {window!r}")
    if not 2 <= window <= n_steps:
        raise ValueError(f"window must lie in [2, n_steps={n_steps}], got {window!r}")
    check_positive("rest_tol", rest_tol)
    check_positive("cluster_tol", cluster_tol)
    check_positive("x_max", x_max)
    check_int("max_period", max_period, low=2)
    check_int("max_shots", max_shots, low=0)
    if dyn.kind == "map":
        if step is not None:
            raise ValueError("step is for ODEs; a map is iterated as it is")
        h, tper = 1.0, dyn.dt
    else:
        h = dyn.dt if step is None else check_positive("step", step)
        tper = h
    thr = 5.0 / (lyapunov_steps * tper)
    if lyapunov_tol is not None:
        thr = check_positive("lyapunov_tol", lyapunov_tol)
    return _Plan(
        n_steps=int(n_steps),
        max_steps=int(max_steps),
        window=int(window),
        h=float(h),
        tper=float(tper),
        rest_tol=float(rest_tol),
        cluster_tol=float(cluster_tol),
        tol=float(cluster_tol) * max(state_scale(X0), 1e-12),
        lyapunov_steps=int(lyapunov_steps),
        lyapunov_tol=float(thr),
        max_period=int(max_period),
        max_shots=int(max_shots),
        x_max=float(x_max),
    )


def _classify(dyn, X0, U, plan, manifolds, seed, progress):
    n = len(X0)
    c = np.asarray(dyn._prepare(NUMPY, U))
    runs = _Runs(dyn, X0, c, plan, progress)
    rest = np.zeros(n, dtype=bool)
    ok = ~runs.diverged
    rest[ok] = runs.at_rest(np.flatnonzero(ok))
    lyap = np.full(n, np.nan)

    # Still moving: the largest exponent over the next steps, which they also run.
    mi = np.flatnonzero(~runs.diverged & ~rest)
    if len(mi):
        lyap[mi] = _largest_exponent(dyn, runs.end[mi], U[mi], plan, seed)
        runs.advance(mi, plan.lyapunov_steps + plan.lyapunov_steps // 4)
        rest[mi] = runs.at_rest(mi)
    moving = ~runs.diverged & ~rest
    chaotic = moving & (lyap > plan.lyapunov_tol)
    cycles, on_cycle = _find_cycles(dyn, runs, U, c, moving & ~chaotic, lyap, plan)

    # The budget: the rest run on until they rest or max_steps have passed.
    todo = np.flatnonzero(moving & ~chaotic & (on_cycle < 0))
    while len(todo) and runs.steps[todo].max() < plan.max_steps:
        runs.advance(todo, min(plan.window, plan.max_steps - runs.steps[todo].max()))
        rest[todo] = runs.at_rest(todo)
        todo = todo[~rest[todo] & ~runs.diverged[todo]]
    unresolved = np.zeros(n, dtype=bool)
    unresolved[todo] = True
    if len(todo):
        logger.info(
            "%d of %d trajectories still moving after %d steps: unresolved",
            len(todo), n, plan.max_steps,
        )  # fmt: skip
    return _label(dyn, runs, U, plan, manifolds, rest, chaotic, cycles, on_cycle, unresolved, lyap)


def _largest_exponent(dyn, X, U, plan, seed):
    """λ₁ per trajectory by the QR method, one batch per distinct input."""
    from .lyapunov.spectrum import lyapunov_spectrum

    out = np.full(len(X), np.nan)
    opts = dict(
        k=1,
        n_steps=plan.lyapunov_steps,
        # A short transient first aligns the tangent vector with the leading direction.
        transient=plan.lyapunov_steps // 4,
        n_checkpoints=1,
        step=None if dyn.kind == "map" else plan.h,
        seed=seed,
        progress=False,
        x_max=plan.x_max,
    )
    _, group = np.unique(U, axis=0, return_inverse=True)
    group = group.ravel()
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        le = lyapunov_spectrum(dyn, X[sel], U[sel[0]], **opts)
        out[sel] = le.per_trajectory[:, 0]
    return out


# -- closed orbits -----------------------------------------------------------------------


def _find_cycles(dyn, runs, U, c, candidates, lyap, plan):
    """Closed orbits reached by the candidates: (list of LimitCycle, index per trajectory).

    Per distinct input, candidates not yet on a found orbit are shot from, at most
    ``max_shots`` times; then every candidate ending on an orbit of its input joins it.
    """
    on = np.full(len(U), -1)
    idx = np.flatnonzero(candidates)
    if dyn.kind == "ode":
        # A limit cycle's largest exponent is 0; a negative one rules it out.
        idx = idx[np.abs(lyap[idx]) <= plan.lyapunov_tol]
    if not len(idx):
        return [], on
    cycles, inputs = [], []
    _, group = np.unique(U[idx], axis=0, return_inverse=True)
    for g in np.unique(group.ravel()):
        members = idx[group.ravel() == g]
        failed = []  # final windows of trajectories shot from in vain
        for i in members:
            x = runs.end[i]
            if len(failed) >= plan.max_shots or _on_any(x, cycles, inputs, U[i], plan):
                continue
            if any(_near_window(x, w, plan) for w in failed):
                continue  # where a shot from nearby failed, this one would as well
            lc = _shoot(dyn, runs.win[:, i], c[i : i + 1], U[i], lyap[i], plan)
            if lc is not None and _on_orbit(x, lc, plan):
                cycles.append(lc)
                inputs.append(U[i])
            else:
                failed.append(runs.win[:, i])
    for i in idx:
        for j, (lc, u) in enumerate(zip(cycles, inputs, strict=True)):
            if np.array_equal(u, U[i]) and _on_orbit(runs.end[i], lc, plan):
                on[i] = j
                break
    return cycles, on


def _on_any(x, cycles, inputs, u, plan):
    return any(
        np.array_equal(v, u) and _on_orbit(x, lc, plan)
        for lc, v in zip(cycles, inputs, strict=True)
    )


def _near_window(x, win, plan):
    """Whether x comes within 10% of a final window's extent of one of its states."""
    spread = float(np.max(np.ptp(win, axis=0)))
    return float(np.min(np.linalg.norm(win - x, axis=1))) <= max(plan.tol, 0.1 * spread)


def _on_orbit(x, lc, plan):
    """Whether state x lies on the orbit: within 1% of its extent (never below the
    grouping tolerance) of the polyline through its sampled points."""
    orbit = lc.orbit
    gap = float(np.max(np.linalg.norm(np.diff(orbit, axis=0), axis=1))) if len(orbit) > 1 else 0
    extent = float(np.max(np.ptp(orbit, axis=0)))
    dist = float(np.min(np.linalg.norm(orbit - x, axis=1)))
    return dist <= max(plan.tol, 1e-2 * extent) + 0.5 * gap


def _shoot(dyn, win, c, u, lam, plan):
    """A stable closed orbit near a trajectory's final window, or None."""
    from .limit_cycles import _map_cycle, _ode_cycle, _period_from_orbit

    x = win[-1]
    if dyn.kind == "map":
        k = _recurrence(win, plan.max_period)
        if not k:
            return None
        lc = _map_cycle(dyn, x, c, k, 1e-10, 30, 1e-6)
        # A stable period-k orbit of a map has λ₁ = log|μ₁| / (k Δt) < 0: the
        # trajectory's exponent must be the orbit's.
        if not (lc.is_stable and abs(lc.exponents[0] - lam) <= plan.lyapunov_tol):
            logger.debug("no stable periodic orbit near a trajectory (status %s)", lc.status)
            return None
        return lc
    from .limit_cycles import _flow

    n = plan.lyapunov_steps + plan.lyapunov_steps // 4
    _, _, orbit = _flow(dyn, x, c, n * plan.h, n, with_monodromy=False, keep=True)
    if orbit is None or len(orbit) < n + 1:
        return None
    x, T = _period_from_orbit(orbit, plan.h)
    if not np.isfinite(T):
        return None
    # The crossing interval is the period, or a fraction of it when the orbit
    # crosses the plane more than once per turn.
    for guess in (T, 2 * T):
        lc = _ode_cycle(dyn, x, c, guess, 400, 1e-10, 30, 1e-6)
        if lc.is_stable:
            return lc
        if lc.status == "fixed_point":  # a longer guess would collapse as well
            break
    logger.debug("no stable limit cycle near a trajectory (status %s)", lc.status)
    return None


def _recurrence(win, max_period):
    r"""Smallest k in [2, max_period] after which the final window recurs, or 0.

    On a period-k orbit :math:`\|x_T - x_{T-k}\|` is far smaller than the step
    :math:`\|x_T - x_{T-1}\|`; on a slow transient it is about k times larger.
    """
    x = win[-1]
    step = np.linalg.norm(x - win[-2])
    if not step > 0:
        return 0
    for k in range(2, min(max_period, len(win) - 1) + 1):
        if np.linalg.norm(x - win[-1 - k]) <= 0.1 * step:
            return k
    return 0


# -- labels ------------------------------------------------------------------------------


def _rest_exponent(dyn, X, U, tper):
    r"""λ₁ of trajectories converging to the points X: from the Jacobian's eigenvalues."""
    ev = np.linalg.eigvals(dyn.jacobian(X, U))
    if dyn.kind == "map":
        with np.errstate(divide="ignore"):
            return np.log(np.abs(ev).max(axis=1)) / tper
    return ev.real.max(axis=1)


class _Table:
    """The attractors as they are found: kind, representative, period, multiplier."""

    def __init__(self):
        self.kind, self.rep, self.period, self.mult, self.cycles = [], [], [], [], []

    def add(self, kind, rep, cycle=None):
        self.kind.append(kind)
        self.rep.append(rep)
        self.cycles.append(cycle)
        self.period.append(np.nan if cycle is None else cycle.duration)
        self.mult.append(np.nan if cycle is None else cycle.max_multiplier)
        return len(self.kind) - 1


def _label(dyn, runs, U, plan, manifolds, rest, chaotic, cycles, on_cycle, unresolved, lyap):
    n, d = U.shape[0], dyn.n_state
    end = runs.end
    diverged = runs.diverged
    label = np.full(n, "diverged", dtype=object)
    label[unresolved] = "unresolved"
    attractor = np.full(n, -1, dtype=np.int64)
    table = _Table()
    rest = rest & ~diverged
    _label_resting(
        dyn, end, U, plan, manifolds, np.flatnonzero(rest), label, attractor, lyap, table
    )
    kind = "periodic_orbit" if dyn.kind == "map" else "limit_cycle"
    for j, lc in enumerate(cycles):
        members = np.flatnonzero(on_cycle == j)
        if len(members):
            a = table.add(kind, lc.x0, lc)
            attractor[members], label[members] = a, kind
    _label_chaotic(runs, np.flatnonzero(chaotic & ~diverged), plan, label, attractor, table)
    if np.any(diverged):
        logger.info("%d of %d trajectories diverged", int(diverged.sum()), n)
    lyap[diverged] = np.nan
    speed = np.full(n, np.nan)
    ok = np.flatnonzero(~diverged)
    if len(ok):
        speed[ok] = np.linalg.norm(dyn.velocity(end[ok], U[ok]), axis=1)
    na = len(table.kind)
    return Attractors(
        kind=np.array(table.kind, dtype=str).reshape(na),
        representative=np.array(table.rep).reshape(na, d),
        basin_fraction=(np.bincount(attractor[attractor >= 0], minlength=na) / n).astype(float),
        label=label.astype(str),
        attractor=attractor,
        final_state=np.where(diverged[:, None], np.nan, end),
        lyapunov=lyap,
        speed=speed,
        period=np.array(table.period, dtype=float),
        max_multiplier=np.array(table.mult, dtype=float),
        cycles=table.cycles,
        time_unit=dyn.time_unit,
        info={
            "n_steps": plan.n_steps,
            "max_steps": plan.max_steps,
            "step": plan.h,
            "rest_tol": plan.rest_tol,
            "cluster_tol": plan.cluster_tol,
            "cluster_distance": plan.tol,
            "lyapunov_steps": plan.lyapunov_steps,
            "lyapunov_tol": plan.lyapunov_tol,
        },
    )


def _label_resting(dyn, end, U, plan, manifolds, ri, label, attractor, lyap, table):
    """Resting end states: on a line or ring of slow points, else clusters of fixed points."""
    from .manifolds import find_slow_manifolds

    if not len(ri):
        return
    labels, rep = cluster(end[ri], np.zeros(len(ri)), plan.tol)
    distinct = ri[rep]
    lyap[ri] = _rest_exponent(dyn, end[distinct], U[distinct], plan.tper)[labels]
    man = manifolds
    if man is None and len(distinct) >= 5:
        man = find_slow_manifolds(end[distinct], dyn, inputs=U[distinct])
    on = np.full(len(ri), -1)
    if man is not None and len(man):
        link = man.info.get("link_length", plan.tol)
        for j, m in enumerate(man.manifolds):
            dist = np.min(np.linalg.norm(end[ri][:, None] - m.points[None], axis=2), axis=1)
            on[(dist <= link) & (on < 0)] = j
        for j, m in enumerate(man.manifolds):
            members = ri[on == j]
            if len(members):
                attractor[members] = table.add(m.kind, end[members[0]])
                label[members] = m.kind
    for g in np.unique(labels[on < 0]):
        members = ri[(labels == g) & (on < 0)]
        attractor[members] = table.add("fixed_point", end[members[0]])
        label[members] = "fixed_point"


def _label_chaotic(runs, mi, plan, label, attractor, table):
    """Chaotic trajectories share an attractor when their final windows overlap.

    j joins i when j's end state comes near i's final window (either way round), closed
    transitively: a chaotic attractor is visited piecewise in short windows.
    """
    if not len(mi):
        return
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    end = runs.end[mi]
    link = np.eye(len(mi), dtype=bool)
    for a, i in enumerate(mi):
        win = runs.win[:, i]
        spread = max(float(np.max(np.ptp(win, axis=0))), 1e-12)
        dist = np.min(np.linalg.norm(win[:, None] - end[None], axis=2), axis=0)
        link[a] |= dist <= max(plan.tol, 0.1 * spread)
    _, comp = connected_components(csr_matrix(link | link.T), directed=False)
    for g in np.unique(comp):
        members = mi[comp == g]
        attractor[members] = table.add("chaotic", runs.end[members[0]])
        label[members] = "chaotic"
