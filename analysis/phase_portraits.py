r"""Phase portraits, the numbers behind them: exact flows of 1-D and 2-D systems, and
the flow of a network on a plane of its state space.

* :func:`phase_plane` evaluates the true flow of a system with one or two state
  variables on a window: the vector field on a grid, the fields :math:`f_1` and
  :math:`f_2` on a finer grid (their zero contours are the nullclines), the fixed points
  in the window and sample trajectories.
* :func:`projected_flow` evaluates a high-dimensional network on a plane
  :math:`x = \bar x + C^\top y` (C: 2 × d, the top two principal axes of its
  trajectories or any basis given). The velocity is evaluated *at the states on the
  plane* and projected back, :math:`\dot y = (CC^\top)^{-1} C f(\bar x + C^\top y)`; the
  full speed :math:`\|f\|` is kept, so slow regions show even where the projection hides
  other directions.

For maps the "velocity" is :math:`(F(x) - x)/\Delta t`. The figures are drawn by
:mod:`neurodyn.plotting.phase_portraits`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import threads as _threads
from .._validation import check_int, check_interval, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..dynamics.integrate import advance, residual_field, scheme
from .fixed_points.search import find_fixed_points
from .projection import as_trajectories, pca_basis

__all__ = ["PhasePlane", "ProjectedFlow", "phase_plane", "projected_flow"]

#: Points of the velocity curve of a 1-D system, and of each sample trajectory of an ODE.
N_CURVE = 400
#: The nullclines are contoured on a grid this many times finer than the field's.
FINE = 4


def _dyn(d):
    return d if isinstance(d, Dynamics) else as_dynamics(d)


@dataclass
class PhasePlane:
    r"""The flow of a system with one or two state variables on a window.

    Attributes
    ----------
    grid : tuple of ndarray
        The field's grid coordinates, ``(x,)`` or ``(x, y)``, n_grid points each.
    velocity : ndarray
        The velocity on the grid: (n_grid, 1) for a 1-D system; (n_grid, n_grid, 2)
        for a 2-D one, ``velocity[j, i]`` at ``(x[i], y[j])``.
    fine : tuple of ndarray
        A finer grid: N_CURVE points for a 1-D system (its velocity curve), FINE ×
        n_grid per axis for a 2-D one (its nullclines); empty when not asked for.
    fine_velocity : ndarray or None
        The velocity on ``fine``, shaped like ``velocity``.
    fixed_points : FixedPoints or None
        The fixed points inside the window.
    trajectories : ndarray (n, time, d) or None
        Sample trajectories.
    kind : {"map", "ode"}
        The kind of the system.
    time_unit : str
        Its time unit; the velocity is per this unit.

    Examples
    --------
    :func:`phase_plane` returns it. The flow :math:`\dot x = x - x^3`, :math:`\dot y = -y`
    has two stable nodes at :math:`(\pm 1, 0)` and a saddle at the origin, and sample
    trajectories from either side of :math:`x = 0` end at the nodes:

    >>> from neurodyn.analysis import phase_plane
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: np.stack([x[:, 0] - x[:, 0]**3, -x[:, 1]], 1),
    ...                        n_state=2, kind="ode", dt=0.1)
    >>> plane = phase_plane(dyn, xlim=(-2, 2), ylim=(-1, 1), n_grid=5,
    ...                     initial_states=[[0.1, 1.0], [-0.1, -1.0]], t_max=10.0)
    >>> plane.velocity.shape, plane.fine_velocity.shape, plane.xlim, plane.ylim
    ((5, 5, 2), (20, 20, 2), (-2.0, 2.0), (-1.0, 1.0))
    >>> fps = plane.fixed_points
    >>> np.sort(fps.x[:, 0]).round(6).tolist(), sorted(fps.stability.tolist())
    ([-1.0, 0.0, 1.0], ['stable', 'stable', 'unstable_1'])
    >>> plane.trajectories.shape, plane.trajectories[:, -1, 0].round(2).tolist()
    ((2, 400, 2), [1.0, -1.0])
    >>> float(plane.speed[2, 2])  # at the saddle (0, 0), the centre of the grid
    0.0
    """

    grid: tuple
    velocity: np.ndarray
    fine: tuple
    fine_velocity: np.ndarray | None
    fixed_points: object
    trajectories: np.ndarray | None
    kind: str = "ode"
    time_unit: str = "ms"

    @property
    def speed(self) -> np.ndarray:
        """‖velocity‖ on the grid (per time unit)."""
        return np.linalg.norm(self.velocity, axis=-1)

    @property
    def xlim(self) -> tuple[float, float]:
        return float(self.grid[0][0]), float(self.grid[0][-1])

    @property
    def ylim(self) -> tuple[float, float] | None:
        return (float(self.grid[1][0]), float(self.grid[1][-1])) if len(self.grid) == 2 else None


def _velocity_on(dyn, axes, u):
    """The velocity at every point of the grid spanned by ``axes`` (one or two 1-D arrays)."""
    if len(axes) == 1:
        return dyn.velocity(axes[0][:, None], u)
    g = np.meshgrid(*axes)
    v = dyn.velocity(np.stack([g[0].ravel(), g[1].ravel()], 1), u)
    return v.reshape(*g[0].shape, 2)


def _fixed_points_in(dyn, u, lims):
    """The fixed points inside the window, found from a grid of starts across it."""
    (x0, x1), ylim = lims
    seeds = np.linspace(x0, x1, 41)[:, None]
    if ylim is not None:
        g = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(*ylim, 9))
        seeds = np.stack([g[0].ravel(), g[1].ravel()], 1)
    fps = find_fixed_points(dyn, u, seeds, progress=False).roots
    inside = (fps.x[:, 0] >= x0) & (fps.x[:, 0] <= x1)
    if ylim is not None:
        inside &= (fps.x[:, 1] >= ylim[0]) & (fps.x[:, 1] <= ylim[1])
    return fps[inside]


def _sample_trajectories(dyn, x0, u, t_max):
    """Trajectories over t_max: N_CURVE points by RK4 for an ODE, the map's own steps else."""
    f = residual_field(dyn, u, len(x0))
    if dyn.kind == "map":
        n_steps = int(max(1, round(t_max / dyn.dt)))
        return advance(scheme(dyn), f, x0, n_steps, keep=True)
    return advance(scheme(dyn, "rk4", t_max / (N_CURVE - 1)), f, x0, N_CURVE - 1, keep=True)


def phase_plane(
    dynamics,
    *,
    xlim,
    ylim=None,
    inputs=None,
    n_grid: int = 25,
    nullclines: bool = True,
    fixed_points=True,
    initial_states=None,
    t_max: float | None = None,
    threads=None,
) -> PhasePlane:
    r"""The exact flow of a system with one or two state variables on a window.

    Parameters
    ----------
    dynamics : Dynamics or model
        With ``n_state`` 1 or 2.
    xlim, ylim : (float, float)
        The window (``ylim`` only for 2-D systems).
    inputs : array (m,), optional
        Constant input.
    n_grid : int
        Grid points per axis of the field.
    nullclines : bool
        Evaluate the field on the finer grid of the nullclines (2-D).
    fixed_points : bool or FixedPoints
        Find the fixed points in the window (True), keep the ones given, or none (False).
    initial_states : array (n, d), optional
        Starts of sample trajectories, run for ``t_max`` time units.
    t_max : float, optional
        Duration of the sample trajectories (default 200 steps).
    threads : int, optional
        Threads for the fixed-point search and the field (default: chosen by
        :mod:`neurodyn.threads`; one for systems this small).

    Returns
    -------
    PhasePlane

    Raises
    ------
    ValueError
        For a system with more than two state variables, an empty window or bad counts.

    Examples
    --------
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> rot = FunctionDynamics(lambda z, u: np.stack([z[:, 1], -z[:, 0]], 1), n_state=2,
    ...                        kind="ode")
    >>> plane = phase_plane(rot, xlim=(-1, 1), ylim=(-1, 1), n_grid=3)
    >>> plane.velocity[0, 0].tolist(), len(plane.fixed_points)
    ([-1.0, 1.0], 1)
    """
    dyn = _dyn(dynamics)
    if dyn.n_state not in (1, 2):
        raise ValueError(
            f"a phase portrait is drawn for systems with 1 or 2 state variables; this one "
            f"has {dyn.n_state} (use plot_projected_portrait)"
        )
    check_int("n_grid", n_grid, low=3)
    lims = (
        check_interval("xlim", xlim),
        check_interval("ylim", ylim) if dyn.n_state == 2 else None,
    )
    u = dyn.check_inputs(inputs, 1, "inputs")[0]
    if initial_states is not None:
        initial_states = dyn.check_states(initial_states, "initial_states")
        t_max = 200 * dyn.dt if t_max is None else check_positive("t_max", t_max)
    # Work per parallel operation: the velocity on the finest grid (16 n_grid² states).
    with _threads.limit(threads, work=32.0 * n_grid**2, what="phase_plane"):
        axes = tuple(np.linspace(lo, hi, n_grid) for lo, hi in filter(None, lims))
        fine = ()
        if dyn.n_state == 1:
            fine = (np.linspace(*lims[0], N_CURVE),)
        elif nullclines:
            fine = tuple(np.linspace(lo, hi, FINE * n_grid) for lo, hi in lims)
        fps = fixed_points
        if fixed_points is True:
            fps = _fixed_points_in(dyn, u, lims)
        elif fixed_points is False:
            fps = None
        return PhasePlane(
            grid=axes,
            velocity=_velocity_on(dyn, axes, u),
            fine=fine,
            fine_velocity=_velocity_on(dyn, fine, u) if fine else None,
            fixed_points=fps,
            trajectories=(
                None if initial_states is None
                else _sample_trajectories(dyn, initial_states, u, t_max)
            ),
            kind=dyn.kind,
            time_unit=dyn.time_unit,
        )  # fmt: skip


@dataclass
class ProjectedFlow:
    """The flow of a network evaluated on a plane of its state space.

    Attributes
    ----------
    mean : ndarray (d,)
        Origin of the plane.
    components : ndarray (2, d)
        The plane's basis C.
    y1, y2 : ndarray (n_grid,)
        Grid coordinates along each basis vector.
    velocity : ndarray (n_grid, n_grid, 2)
        Projected velocity :math:`(CC^\\top)^{-1}Cf`; ``velocity[j, i]`` is at ``(y1[i], y2[j])``.
    speed : ndarray (n_grid, n_grid)
        Full speed ‖f‖ at the grid states (per time unit).
    time_unit : str
        The system's time unit.

    Examples
    --------
    :func:`projected_flow` returns it. For :math:`\\dot x = -x` in three dimensions on
    the plane of the first two axes, the projected velocity is :math:`-y` exactly:

    >>> from neurodyn.analysis import projected_flow
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: -x, n_state=3, kind="ode", dt=1.0)
    >>> plane = (np.zeros(3), np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    >>> flow = projected_flow(dyn, basis=plane, ylim=((-1, 1), (-1, 1)), n_grid=3)
    >>> flow.y1.tolist(), flow.velocity[0, 2].tolist()  # at (y1, y2) = (1, -1)
    ([-1.0, 0.0, 1.0], [-1.0, 1.0])
    >>> bool(np.isclose(flow.speed[0, 2], np.sqrt(2))), flow.time_unit
    (True, 'ms')
    >>> flow.project([[0.5, -0.25, 3.0]]).tolist()
    [[0.5, -0.25]]
    """

    mean: np.ndarray
    components: np.ndarray
    y1: np.ndarray
    y2: np.ndarray
    velocity: np.ndarray
    speed: np.ndarray
    time_unit: str = "ms"

    def project(self, x) -> np.ndarray:
        """Plane coordinates (n, 2) of states (n, d).

        Parameters
        ----------
        x : array_like
            States, shape (n, d) or (d,).
        """
        C = self.components
        return np.linalg.solve(C @ C.T, C @ (np.atleast_2d(x) - self.mean).T).T

    def to_xarray(self):
        """A Dataset with dims ``y2``, ``y1``, ``axis`` and ``state``."""
        import xarray as xr

        return xr.Dataset(
            {
                "velocity": (("y2", "y1", "axis"), self.velocity),
                "speed": (("y2", "y1"), self.speed),
                "mean": (("state",), self.mean),
                "components": (("axis", "state"), self.components),
            },
            coords={
                "y1": self.y1,
                "y2": self.y2,
                "axis": [0, 1],
                "state": np.arange(len(self.mean), dtype=np.int32),
            },
        )


def _basis(basis, trajs, d):
    """(mean, C) from a user basis or the PCA of the trajectories."""
    if basis is None:
        if not trajs:
            raise ValueError("give trajectories (for the PCA plane) or a basis")
        mean, comps = pca_basis(np.concatenate(trajs), 2)
        return mean, comps
    if isinstance(basis, tuple) and len(basis) == 2:
        mean, comps = np.asarray(basis[0], dtype=float), np.asarray(basis[1], dtype=float)
    else:
        comps = np.asarray(basis, dtype=float)
        mean = np.concatenate(trajs).mean(axis=0) if trajs else np.zeros(d)
    if comps.ndim != 2 or comps.shape != (2, d):
        raise ValueError(
            f"basis has shape {comps.shape}; expected 2 vectors spanning a plane, shape (2, {d})"
        )
    if mean.shape != (d,):
        raise ValueError(f"the basis origin has shape {mean.shape}; expected ({d},)")
    if not (np.all(np.isfinite(comps)) and np.all(np.isfinite(mean))):
        raise ValueError("basis contains NaN or infinite values")
    if np.linalg.matrix_rank(comps) < 2:
        raise ValueError("basis vectors are parallel (rank < 2); they must span a plane")
    return mean, comps


def projected_flow(
    dynamics,
    trajectories=None,
    *,
    basis=None,
    inputs=None,
    n_grid: int = 30,
    margin: float = 0.15,
    ylim=None,
    threads=None,
):
    r"""The network's velocity on a plane, projected onto it.

    Parameters
    ----------
    dynamics : Dynamics or model
    trajectories : array (trial, time, d), a simulate() Dataset, or None
        Fit the PCA plane (when ``basis`` is None) and set the window.
    basis : array (2, d) or (mean (d,), array (2, d)), optional
        The plane (default: the top two principal axes of the trajectories).
    inputs : array (m,), optional
        Constant input at which the velocity is evaluated.
    n_grid : int
    margin : float
        Window beyond the trajectories' range, as a fraction of it.
    ylim : ((float, float), (float, float)), optional
        Window in plane coordinates, when there are no trajectories.
    threads : int, optional
        Threads for the velocity evaluation (default: chosen by :mod:`neurodyn.threads`
        from the work, n_grid² states).

    Returns
    -------
    ProjectedFlow

    Raises
    ------
    ValueError
        When the basis is not two vectors spanning a plane of the state space.

    Examples
    --------
    The flow of a 16-unit network on the plane of the top two principal axes of its
    trajectories in a flip-flop task, at zero input:

    >>> from neurodyn import simulate
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> net = RateRNN(3, 16, 3, seed=0)
    >>> ds = simulate(net, FlipFlop(), n_trials=8, seed=0)
    >>> flow = projected_flow(net, ds, n_grid=10)
    >>> flow.velocity.shape, flow.speed.shape, flow.components.shape
    ((10, 10, 2), (10, 10), (2, 16))
    >>> bool(np.allclose(flow.components @ flow.components.T, np.eye(2)))  # orthonormal
    True
    """
    dyn = _dyn(dynamics)
    d = dyn.n_state
    trajs = as_trajectories(trajectories)
    if trajs is not None:
        for t in trajs:
            if np.shape(t)[-1] != d:
                raise ValueError(
                    f"trajectories have {np.shape(t)[-1]} state variables; "
                    f"the system has n_state={d}"
                )
    mean, C = _basis(basis, trajs, d)
    check_int("n_grid", n_grid, low=3)
    G = C @ C.T
    if ylim is not None:
        (a0, a1), (b0, b1) = check_interval("ylim[0]", ylim[0]), check_interval("ylim[1]", ylim[1])
    elif trajs:
        y = np.linalg.solve(G, C @ (np.concatenate(trajs) - mean).T).T
        y = y[np.all(np.isfinite(y), axis=1)]
        lo, hi = y.min(axis=0), y.max(axis=0)
        pad = margin * np.maximum(hi - lo, 1e-9)
        (a0, b0), (a1, b1) = lo - pad, hi + pad
    else:
        raise ValueError("give trajectories or ylim to set the window")
    y1, y2 = np.linspace(a0, a1, n_grid), np.linspace(b0, b1, n_grid)
    g1, g2 = np.meshgrid(y1, y2)
    states = mean + np.stack([g1.ravel(), g2.ravel()], 1) @ C
    u = dyn.check_inputs(inputs, 1, "inputs")[0]
    with _threads.limit(threads, work=2.0 * n_grid**2 * d**2, what="projected_flow"):
        f = dyn.velocity(states, u)
    vel = np.linalg.solve(G, C @ f.T).T.reshape(n_grid, n_grid, 2)
    speed = np.linalg.norm(f, axis=1).reshape(n_grid, n_grid)
    return ProjectedFlow(mean, C, y1, y2, vel, speed, dyn.time_unit)
