r"""Where trajectories end, and with what basins: :func:`classify_attractors`.

Every initial state is simulated for ``n_steps`` (the map itself, or RK4 with step h
for ODEs) and its final window of ``window`` steps is labelled:

* **diverged**: the state became NaN or left ``|x| <= x_max`` (reported, never dropped);
* **at rest** when the window moved less than ``rest_tol``·(1 + ‖x‖). Resting end
  states are grouped: if several lie on a line or ring of slow points
  (:func:`~neurodyn.analysis.find_slow_manifolds`, run on the distinct end states, or
  the ``manifolds`` given), they are a **line** or **ring** attractor; otherwise each
  cluster (within ``cluster_tol`` × the spread of the initial states) is a **fixed point**;
* otherwise the largest Lyapunov exponent λ₁ is estimated from the end state
  (:func:`~neurodyn.analysis.lyapunov_spectrum`, k = 1), with the threshold
  :math:`\lambda_{\text{tol}}` (default :math:`5/T_\text{Lyap}`, a growth or decay by e⁵
  over the run, beyond finite-time fluctuations): **chaotic** when
  :math:`\lambda_1 > \lambda_{\text{tol}}`; still converging to a fixed point (grouped
  with the resting states) when :math:`\lambda_1 < -\lambda_{\text{tol}}`; else a
  **limit cycle** (periodic or quasi-periodic). Oscillating trajectories share an attractor when the end state of one
  comes within a tolerance of the final window of another (1% of the window's extent for
  cycles, 10% for chaotic attractors, never below ``cluster_tol``), closed transitively.

Basin fractions are the fractions of all initial states that end on each attractor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..dynamics._ops import NUMPY
from .dedupe import cluster, state_scale

__all__ = ["Attractors", "classify_attractors"]

logger = logging.getLogger(__name__)

KINDS = ("fixed_point", "line", "ring", "limit_cycle", "chaotic", "diverged")


@dataclass
class Attractors:
    """Attractors reached from a set of initial states, with their basin fractions.

    Attributes
    ----------
    kind : ndarray of str (n_attractors,)
        ``fixed_point``, ``line``, ``ring``, ``limit_cycle`` or ``chaotic``.
    representative : ndarray (n_attractors, d)
        An end state on each attractor.
    basin_fraction : ndarray (n_attractors,)
        Fraction of all initial states ending there (diverged ones included in the total).
    label : ndarray of str (n_traj,)
        Kind reached by each trajectory, or ``"diverged"``.
    attractor : ndarray of int (n_traj,)
        Index of the attractor (-1 for diverged trajectories).
    final_state : ndarray (n_traj, d)
        NaN for diverged trajectories.
    lyapunov : ndarray (n_traj,)
        Largest exponent for trajectories not at rest (NaN otherwise).
    """

    kind: np.ndarray
    representative: np.ndarray
    basin_fraction: np.ndarray
    label: np.ndarray
    attractor: np.ndarray
    final_state: np.ndarray
    lyapunov: np.ndarray
    time_unit: str = "ms"
    info: dict = field(default_factory=dict)

    @property
    def diverged_fraction(self) -> float:
        """Fraction of the initial states whose trajectories diverged."""
        return float(np.mean(self.label == "diverged"))

    def summary(self) -> dict:
        """Basin fraction per kind of attractor (plus ``diverged``)."""
        out = {
            k: float(np.sum(self.basin_fraction[self.kind == k]))
            for k in KINDS[:-1]
            if np.any(self.kind == k)
        }
        out["diverged"] = self.diverged_fraction
        return out

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v:.2f}" for k, v in self.summary().items())
        return (
            f"Attractors({len(self.kind)} attractors over {len(self.label)} trajectories: {parts})"
        )

    def to_xarray(self):
        """A Dataset with dims ``attractor``, ``trajectory`` and ``state``."""
        import json

        import xarray as xr

        from .._version import __version__

        na, d = self.representative.shape
        n = len(self.label)
        ds = xr.Dataset(
            {
                "kind": (("attractor",), self.kind.astype(str)),
                "basin_fraction": (("attractor",), self.basin_fraction),
                "representative": (("attractor", "state"), self.representative),
                "label": (("trajectory",), self.label.astype(str)),
                "attractor_id": (("trajectory",), self.attractor.astype(np.int32)),
                "final_state": (("trajectory", "state"), self.final_state),
                "lyapunov": (("trajectory",), self.lyapunov),
            },
            coords={
                "attractor": np.arange(na, dtype=np.int32),
                "trajectory": np.arange(n, dtype=np.int32),
                "state": np.arange(d, dtype=np.int32),
            },
        )
        ds["lyapunov"].attrs["units"] = f"1/{self.time_unit}"
        ds.attrs.update(
            diverged_fraction=self.diverged_fraction,
            info=json.dumps(self.info, default=str),
            neurodyn_version=__version__,
        )
        return ds


def _simulate(dyn, X, c, n_steps, h, window, x_max, progress):
    """Advance all states; returns (final window (w, n, d), diverged mask)."""
    from tqdm.auto import tqdm

    from .limit_cycles import _step

    n = len(X)
    alive = np.ones(n, dtype=bool)
    hist = np.full((window, n, X.shape[1]), np.nan)
    bar = tqdm(total=n_steps, disable=not progress, desc="attractors", unit="step")
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


def classify_attractors(
    dynamics,
    initial_states,
    inputs=None,
    *,
    n_steps: int = 2000,
    step: float | None = None,
    window: int | None = None,
    manifolds=None,
    rest_tol: float = 1e-6,
    cluster_tol: float = 1e-2,
    lyapunov_steps: int = 2000,
    lyapunov_tol: float | None = None,
    x_max: float = 1e6,
    seed=0,
    progress: bool = True,
) -> Attractors:
    r"""Simulate from many initial states and label the attractor each one reaches.

    Parameters
    ----------
    dynamics : Dynamics or model
    initial_states : array (n, d)
    inputs : array (m,) or (n, m), optional
        Constant input (zero when omitted).
    n_steps : int
        Steps simulated before the end state is examined.
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
        Steps of the largest-exponent estimate for trajectories not at rest.
    lyapunov_tol : float, optional
        Chaotic when λ₁ exceeds this (per time unit); default 5 / (duration of the estimate).
    x_max : float
        Trajectories leaving this bound (or NaN) are ``"diverged"``.
    seed : int
        Seeds the Lyapunov tangent vectors.
    progress : bool

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
    from .lyapunov import lyapunov_spectrum
    from .manifolds import find_slow_manifolds

    dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
    X0 = dyn.check_states(initial_states, "initial_states")
    n, d = X0.shape
    U = dyn.check_inputs(inputs, n, "inputs")
    check_int("n_steps", n_steps, low=2)
    check_int("lyapunov_steps", lyapunov_steps, low=2)
    window = max(2, n_steps // 5) if window is None else int(window)
    if not 2 <= window <= n_steps:
        raise ValueError(f"window must lie in [2, n_steps={n_steps}], got {window!r}")
    check_positive("rest_tol", rest_tol)
    check_positive("cluster_tol", cluster_tol)
    check_positive("x_max", x_max)
    if dyn.kind == "map":
        if step is not None:
            raise ValueError("step is for ODEs; a map is iterated as it is")
        h, tper = 1.0, dyn.dt
    else:
        h = dyn.dt if step is None else check_positive("step", step)
        tper = h
    c = np.asarray(dyn._prepare(NUMPY, U))
    hist, diverged = _simulate(dyn, X0, c, n_steps, h, window, x_max, progress)
    end = hist[-1]
    scale = state_scale(X0)
    tol = cluster_tol * max(scale, 1e-12)

    label = np.full(n, "diverged", dtype=object)
    attractor = np.full(n, -1, dtype=np.int64)
    lyap = np.full(n, np.nan)
    kinds, reps = [], []
    ok = ~diverged
    moved = np.full(n, np.inf)
    moved[ok] = np.max(np.linalg.norm(hist[:, ok] - end[ok][None], axis=2), axis=0)
    rest = ok & (moved <= rest_tol * (1 + np.linalg.norm(np.nan_to_num(end), axis=1)))

    # End states still moving: their largest Lyapunov exponent decides. Clearly negative
    # means still converging to a fixed point (a slow mode), so those join the resting ones.
    mi = np.flatnonzero(ok & ~rest)
    if len(mi):
        opts = dict(
            k=1,
            n_steps=lyapunov_steps,
            # A short transient first aligns the tangent vector with the leading direction.
            transient=lyapunov_steps // 4,
            n_checkpoints=1,
            step=None if dyn.kind == "map" else h,
            seed=seed,
            progress=False,
            backend="numpy",
            x_max=x_max,
        )
        # One batch per distinct input (usually a single constant input for all).
        _, by_input = np.unique(U[mi], axis=0, return_inverse=True)
        for g in np.unique(by_input):
            sel = mi[by_input.ravel() == g]
            lyap[sel] = lyapunov_spectrum(dyn, end[sel], U[sel[0]], **opts).per_trajectory[:, 0]
    thr = 5.0 / (lyapunov_steps * tper) if lyapunov_tol is None else float(lyapunov_tol)
    rest = rest | (ok & (lyap < -thr))
    chaotic = lyap > thr

    # Resting end states: manifolds first, then clusters of fixed points.
    ri = np.flatnonzero(rest)
    if len(ri):
        q = np.zeros(len(ri))
        labels, rep = cluster(end[ri], q, tol)
        distinct = ri[rep]
        man = manifolds
        if man is None and len(distinct) >= 5:
            man = find_slow_manifolds(end[distinct], dyn, inputs=U[distinct])
        on = np.full(len(ri), -1)
        if man is not None and len(man):
            link = man.info.get("link_length", tol)
            for j, m in enumerate(man.manifolds):
                dist = np.min(np.linalg.norm(end[ri][:, None] - m.points[None], axis=2), axis=1)
                on[(dist <= link) & (on < 0)] = j
            for j, m in enumerate(man.manifolds):
                members = ri[on == j]
                if len(members):
                    attractor[members] = len(kinds)
                    label[members] = m.kind
                    kinds.append(m.kind)
                    reps.append(end[members[0]])
        for g in np.unique(labels[on < 0]):
            members = ri[(labels == g) & (on < 0)]
            attractor[members] = len(kinds)
            label[members] = "fixed_point"
            kinds.append("fixed_point")
            reps.append(end[members[0]])

    # Oscillating end states: group by overlap of the final windows.
    mi = np.flatnonzero(ok & ~rest)
    if len(mi):
        # j joins i when j's end state comes near i's final window (either way round),
        # closed transitively: a chaotic attractor is visited piecewise in short windows.
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        m = len(mi)
        link = np.eye(m, dtype=bool)
        for a, i in enumerate(mi):
            win = hist[:, i]
            spread = max(float(np.max(np.ptp(win, axis=0))), 1e-12)
            gtol = max(tol, (0.1 if chaotic[i] else 1e-2) * spread)
            dist = np.min(np.linalg.norm(win[:, None] - end[mi][None], axis=2), axis=0)
            link[a] |= (dist <= gtol) & (chaotic[mi] == chaotic[i])
        _, comp = connected_components(csr_matrix(link | link.T), directed=False)
        for g in np.unique(comp):
            members = mi[comp == g]
            kind = "chaotic" if chaotic[members[0]] else "limit_cycle"
            attractor[members] = len(kinds)
            label[members] = kind
            kinds.append(kind)
            reps.append(end[members[0]])
    if np.any(diverged):
        logger.info("%d of %d trajectories diverged", int(diverged.sum()), n)
    na = len(kinds)
    frac = np.bincount(attractor[attractor >= 0], minlength=na) / n
    final = np.where(diverged[:, None], np.nan, end)
    return Attractors(
        kind=np.array(kinds, dtype=str).reshape(na),
        representative=np.array(reps).reshape(na, d),
        basin_fraction=frac.astype(float),
        label=label.astype(str),
        attractor=attractor,
        final_state=final,
        lyapunov=lyap,
        time_unit=dyn.time_unit,
        info={
            "n_steps": n_steps,
            "step": h,
            "rest_tol": rest_tol,
            "cluster_tol": cluster_tol,
            "lyapunov_steps": lyapunov_steps,
        },
    )
