r"""Phase portraits: exact ones for 1-D and 2-D systems, projected ones for networks.

* :func:`plot_phase_portrait` draws the true flow of a system with one or two state
  variables: the vector field (streamlines or arrows), the nullclines
  :math:`f_1 = 0` and :math:`f_2 = 0`, the fixed points coloured by stability and
  sample trajectories.
* :func:`projected_flow` / :func:`plot_projected_portrait` show a high-dimensional
  network on a plane :math:`x = \bar x + C^\top y` (C: 2 × d, the top two principal axes
  of its trajectories or any basis given). The velocity is evaluated *at the states on
  the plane* and projected back, :math:`\dot y = (CC^\top)^{-1} C f(\bar x + C^\top y)`; the
  colour map is the full speed :math:`\|f\|`, so dark valleys are slow regions even where
  the projection hides other directions. Trajectories are coloured by a trial variable,
  fixed points by stability with their unstable directions.
* :func:`plot_trajectories_3d` draws trajectories in the space of the top three
  principal components.

Every function draws on a given Axes (or makes one) and returns it; none calls ``show``.
For maps the "velocity" is :math:`(F(x) - x)/\Delta t`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import threads as _threads
from .._validation import check_int, check_interval, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from ..plotting.fixed_points import (
    _stabilities,
    _stability_legend,
    _trajectories,
    pca_basis,
    stability_color,
)

__all__ = [
    "ProjectedFlow",
    "plot_phase_portrait",
    "plot_projected_portrait",
    "plot_trajectories_3d",
    "projected_flow",
]


def _dyn(d):
    return d if isinstance(d, Dynamics) else as_dynamics(d)


def _integrate(dyn, x0, u, t_max, n_points=400):
    """Trajectories (n, n_points, d) from states x0 (RK4 for ODEs, the map itself else)."""
    from ..dynamics.ops import NUMPY
    from .limit_cycles import _step

    x = np.array(x0, dtype=float)
    c = np.asarray(dyn._prepare(NUMPY, dyn.check_inputs(u, len(x))))
    if dyn.kind == "map":
        steps = int(max(1, round(t_max / dyn.dt)))
        n_points = steps + 1
    out = np.full((len(x), n_points, x.shape[1]), np.nan)
    out[:, 0] = x
    h = t_max / (n_points - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, n_points):
            x = _step(dyn, x, c, h)
            out[:, i] = x
    return out


def plot_phase_portrait(
    dynamics,
    *,
    xlim,
    ylim=None,
    inputs=None,
    ax=None,
    field: str = "stream",
    n_grid: int = 25,
    nullclines: bool = True,
    fixed_points=True,
    initial_states=None,
    t_max: float | None = None,
    labels=("x", "y"),
    threads=None,
):
    r"""The exact phase portrait of a system with one or two state variables.

    Parameters
    ----------
    dynamics : Dynamics or model
        With ``n_state`` 1 or 2.
    xlim, ylim : (float, float)
        The window (``ylim`` only for 2-D systems).
    inputs : array (m,), optional
        Constant input.
    ax : matplotlib Axes, optional
    field : {"stream", "quiver"}
        Streamlines (coloured by speed) or arrows (2-D).
    n_grid : int
        Grid points per axis for the field and the nullclines.
    nullclines : bool
        Draw :math:`f_1 = 0` (green) and :math:`f_2 = 0` (cyan) (2-D).
    fixed_points : bool or FixedPoints
        Find the fixed points in the window (True), draw the ones given, or none (False).
    initial_states : array (n, d), optional
        Sample trajectories drawn from these states for ``t_max`` time units.
    t_max : float, optional
        Duration of the sample trajectories (default 200 steps).
    labels : (str, str)
        Axis labels.
    threads : int, optional
        Threads for the fixed-point search and the trajectories (default: chosen by
        :mod:`neurodyn.threads`; one for systems this small).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda z, u: np.stack([z[:, 1], -z[:, 0]], 1), n_state=2,
    ...                        kind="ode")
    >>> ax = plot_phase_portrait(dyn, xlim=(-1, 1), ylim=(-1, 1))
    >>> ax.get_xlabel()
    'x'
    """
    dyn = _dyn(dynamics)
    if dyn.n_state not in (1, 2):
        raise ValueError(
            f"plot_phase_portrait draws systems with 1 or 2 state variables; this one has "
            f"{dyn.n_state} (use plot_projected_portrait)"
        )
    if field not in ("stream", "quiver"):
        raise ValueError(f"field must be 'stream' or 'quiver', got {field!r}")
    check_int("n_grid", n_grid, low=3)
    x0, x1 = check_interval("xlim", xlim)
    y0 = y1 = None
    if dyn.n_state == 2:
        y0, y1 = check_interval("ylim", ylim)
    u = dyn.check_inputs(inputs, 1, "inputs")[0]
    if initial_states is not None:
        initial_states = dyn.check_states(initial_states, "initial_states")
        t_max = 200 * dyn.dt if t_max is None else check_positive("t_max", t_max)
    # Work per parallel operation: the velocity on the finest grid (16 n_grid² states).
    with _threads.limit(threads, work=32.0 * n_grid**2, what="plot_phase_portrait"):
        return _draw_phase_portrait(
            dyn, u, (x0, x1), (y0, y1), ax, field, n_grid, nullclines, fixed_points,
            initial_states, t_max, labels,
        )  # fmt: skip


def _draw_phase_portrait(
    dyn, u, xlim, ylim, ax, field, n_grid, nullclines, fixed_points, initial_states, t_max, labels
):
    import matplotlib.pyplot as plt

    from .fixed_points.search import find_fixed_points

    (x0, x1), (y0, y1) = xlim, ylim
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5) if dyn.n_state == 2 else (5, 3.5))
    unit = dyn.time_unit
    fps = None
    if fixed_points is True:
        seeds = np.linspace(x0, x1, 41)[:, None]
        if dyn.n_state == 2:
            g = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
            seeds = np.stack([g[0].ravel(), g[1].ravel()], 1)
        fps = find_fixed_points(dyn, u, seeds, progress=False)
        fps = fps.roots
        inside = (fps.x[:, 0] >= x0) & (fps.x[:, 0] <= x1)
        if dyn.n_state == 2:
            inside &= (fps.x[:, 1] >= y0) & (fps.x[:, 1] <= y1)
        fps = fps[inside]
    elif fixed_points is not False and fixed_points is not None:
        fps = fixed_points

    if dyn.n_state == 1:
        xs = np.linspace(x0, x1, 400)[:, None]
        v = dyn.velocity(xs, u)[:, 0]
        ax.plot(xs[:, 0], v, color="0.2", lw=1.5)
        ax.axhline(0.0, color="0.5", lw=0.8)
        # Arrows along the axis show the direction of the flow.
        xa = np.linspace(x0, x1, n_grid)[1:-1:2]
        va = dyn.velocity(xa[:, None], u)[:, 0]
        for xi, vi in zip(xa, va, strict=True):
            if abs(vi) > 1e-12:
                ax.annotate(
                    "",
                    xy=(xi + 0.02 * (x1 - x0) * np.sign(vi), 0),
                    xytext=(xi, 0),
                    arrowprops=dict(arrowstyle="->", color="tab:blue"),
                )
        if fps is not None and len(fps):
            st = _stabilities(fps)
            for xi, c in zip(fps.x[:, 0], st, strict=True):
                ax.scatter([xi], [0.0], s=45, color=stability_color(str(c)), zorder=3)
            _stability_legend(ax, list(map(str, st)))
        ax.set_xlabel(labels[0])
        ax.set_ylabel(
            f"d{labels[0]}/dt (per {unit})"
            if dyn.kind == "ode"
            else f"(F − {labels[0]})/Δt (per {unit})"
        )
        ax.set_xlim(x0, x1)
        ax.set_title("phase portrait")
        return ax

    gx, gy = np.meshgrid(np.linspace(x0, x1, n_grid), np.linspace(y0, y1, n_grid))
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    vel = dyn.velocity(pts, u)
    U, V = vel[:, 0].reshape(gx.shape), vel[:, 1].reshape(gx.shape)
    speed = np.hypot(U, V)
    if field == "stream":
        strm = ax.streamplot(
            gx, gy, U, V, color=speed, cmap="viridis", density=1.2, linewidth=0.8, arrowsize=0.8
        )
        ax.figure.colorbar(strm.lines, ax=ax, label=f"speed (per {unit})")
    else:
        q = ax.quiver(gx, gy, U, V, speed, cmap="viridis", angles="xy", pivot="mid")
        ax.figure.colorbar(q, ax=ax, label=f"speed (per {unit})")
    extra = []
    if nullclines:
        from matplotlib.lines import Line2D

        fine = np.meshgrid(np.linspace(x0, x1, 4 * n_grid), np.linspace(y0, y1, 4 * n_grid))
        fv = dyn.velocity(np.stack([fine[0].ravel(), fine[1].ravel()], 1), u)
        for j, color in enumerate(("tab:green", "tab:cyan")):
            z = fv[:, j].reshape(fine[0].shape)
            if np.nanmin(z) < 0 < np.nanmax(z):
                ax.contour(fine[0], fine[1], z, levels=[0.0], colors=color, linewidths=1.5)
            extra.append(Line2D([], [], color=color, label=f"{labels[j]}-nullcline"))
    if initial_states is not None:
        x_init, t = initial_states, t_max
        for tr in _integrate(dyn, x_init, u, t):
            ax.plot(tr[:, 0], tr[:, 1], color="tab:pink", lw=1.0, alpha=0.8)
            ax.plot(tr[0, 0], tr[0, 1], "o", color="tab:pink", ms=3)
    classes = []
    if fps is not None and len(fps):
        st = _stabilities(fps)
        for p, c in zip(fps.x, st, strict=True):
            ax.scatter(
                p[0], p[1], s=50, color=stability_color(str(c)), edgecolors="white", zorder=4
            )
        classes = list(map(str, st))
    _stability_legend(ax, classes, extra)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title("phase portrait")
    return ax


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
    """

    mean: np.ndarray
    components: np.ndarray
    y1: np.ndarray
    y2: np.ndarray
    velocity: np.ndarray
    speed: np.ndarray

    def project(self, x) -> np.ndarray:
        """Plane coordinates (n, 2) of states (n, d)."""
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
    """
    dyn = _dyn(dynamics)
    d = dyn.n_state
    trajs = _trajectories(trajectories)
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
    return ProjectedFlow(mean, C, y1, y2, vel, speed)


def _colors(trajectories, color_by, n):
    """Per-trajectory values of a trial variable (or None)."""
    if color_by is None:
        return None, None
    if isinstance(color_by, str):
        if not hasattr(trajectories, "coords") or color_by not in trajectories.coords:
            raise ValueError(f"color_by={color_by!r} is not a trial coordinate of trajectories")
        return np.asarray(trajectories[color_by].values), color_by
    vals = np.asarray(color_by)
    if vals.shape != (n,):
        raise ValueError(f"color_by has shape {vals.shape}; expected one value per trial ({n},)")
    return vals, "trial variable"


def _trial_colors(values, n):
    """A colour per trial and what explains them: ``(colours, mappable, categories)``.

    Numeric values map through coolwarm (``mappable`` feeds a colour bar); other values
    are categories in tab10 (``categories``: category -> colour); without values, blue.
    """
    import matplotlib.pyplot as plt
    from matplotlib import colors as mcolors

    if values is None:
        return ["tab:blue"] * n, None, {}
    if np.issubdtype(values.dtype, np.number):
        norm = mcolors.Normalize(float(np.nanmin(values)), float(np.nanmax(values)))
        cmap = plt.get_cmap("coolwarm")
        colors = [cmap(norm(float(v))) for v in values]
        return colors, plt.cm.ScalarMappable(norm=norm, cmap=cmap), {}
    cats = sorted(set(map(str, values)))
    catc = {c: plt.get_cmap("tab10")(i % 10) for i, c in enumerate(cats)}
    return [catc[str(v)] for v in values], None, catc


def plot_projected_portrait(
    dynamics,
    trajectories=None,
    *,
    basis=None,
    inputs=None,
    fixed_points=None,
    color_by=None,
    ax=None,
    n_grid: int = 30,
    max_trajectories: int = 12,
    mode_scale: float = 0.5,
    log_speed: bool = True,
    threads=None,
):
    r"""A high-dimensional network's flow on a plane, with trajectories and fixed points.

    Parameters
    ----------
    dynamics : Dynamics or model
    trajectories : array (trial, time, d) or a simulate() Dataset
        Drawn as lines (and fit the PCA plane unless ``basis`` is given).
    basis : array (2, d) or (mean, array (2, d)), optional
    inputs : array (m,), optional
        Constant input at which the flow is evaluated (zero: the network's memory state).
    fixed_points : FixedPoints, optional
        Drawn coloured by stability, with unstable directions as short lines
        (± ``mode_scale`` in state units).
    color_by : str or array (trial,), optional
        A trial coordinate of the Dataset (``"coherence"``, ``"context"``...) or values.
    ax : matplotlib Axes, optional
    n_grid : int
    max_trajectories : int
    mode_scale : float
    log_speed : bool
        Colour the background by log10 of the speed (slow points are its dark minima).
    threads : int, optional
        Threads for the flow (see :func:`projected_flow`).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    dyn = _dyn(dynamics)
    flow = projected_flow(
        dyn, trajectories, basis=basis, inputs=inputs, n_grid=n_grid, threads=threads
    )
    trajs = _trajectories(trajectories) or []
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    unit = dyn.time_unit
    sp = np.log10(np.maximum(flow.speed, 1e-12)) if log_speed else flow.speed
    mesh = ax.pcolormesh(flow.y1, flow.y2, sp, cmap="Greys_r", shading="gouraud", zorder=0)
    ax.figure.colorbar(
        mesh, ax=ax, label=(f"log10 speed (per {unit})" if log_speed else f"speed (per {unit})")
    )
    ax.streamplot(
        flow.y1,
        flow.y2,
        flow.velocity[..., 0],
        flow.velocity[..., 1],
        color="0.85",
        density=1.0,
        linewidth=0.6,
        arrowsize=0.7,
        zorder=1,
    )
    values, name = _colors(trajectories, color_by, len(trajs))
    extra = []
    if trajs:
        colors, mappable, cats = _trial_colors(values, len(trajs))
        for tr, color in zip(trajs[:max_trajectories], colors, strict=False):
            y = flow.project(tr)
            ax.plot(y[:, 0], y[:, 1], color=color, lw=0.7, alpha=0.6, zorder=2)
        if mappable is not None:
            ax.figure.colorbar(mappable, ax=ax, label=name)
        extra = [Line2D([], [], color=c, label=f"{name}={cat}") for cat, c in cats.items()]
    classes = []
    if fixed_points is not None and len(fixed_points):
        fps = fixed_points
        st = _stabilities(fps)
        yp = flow.project(fps.x)
        for i in range(len(fps)):
            color = stability_color(str(st[i]))
            ax.scatter(yp[i, 0], yp[i, 1], s=40, color=color, edgecolors="white", lw=0.6, zorder=4)
            if fps.linearization is None:
                continue
            for k in range(int(fps.n_unstable[i])):
                v = np.real(fps.right[i, :, k])
                v = v / (np.linalg.norm(v) or 1.0)
                seg = flow.project(np.stack([fps.x[i] - mode_scale * v, fps.x[i] + mode_scale * v]))
                ax.plot(seg[:, 0], seg[:, 1], color=color, lw=1.5, zorder=3)
        classes = list(map(str, st))
        ax.set_title(f"projected flow with {len(fps)} fixed points")
    else:
        ax.set_title("projected flow")
    _stability_legend(ax, classes, extra)
    ax.set_xlim(flow.y1[0], flow.y1[-1])
    ax.set_ylim(flow.y2[0], flow.y2[-1])
    pc = basis is None
    ax.set_xlabel("PC 1" if pc else "basis vector 1")
    ax.set_ylabel("PC 2" if pc else "basis vector 2")
    return ax


def plot_trajectories_3d(
    trajectories,
    *,
    color_by=None,
    fixed_points=None,
    basis=None,
    ax=None,
    max_trajectories: int = 30,
):
    """Trajectories in the space of their top three principal components.

    Parameters
    ----------
    trajectories : array (trial, time, d) or a simulate() Dataset
    color_by : str or array (trial,), optional
        A trial coordinate or one value per trial.
    fixed_points : FixedPoints, optional
        Drawn coloured by stability.
    basis : (mean (d,), array (3, d)), optional
        A projection to reuse (see :func:`~neurodyn.plotting.fixed_points.pca_basis`).
    ax : 3-D matplotlib Axes, optional
    max_trajectories : int

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    trajs = _trajectories(trajectories)
    if not trajs:
        raise ValueError("trajectories is empty; expected an array (trial, time, d) or a Dataset")
    if basis is None:
        mean, comps = pca_basis(np.concatenate(trajs), 3)
    else:
        mean, comps = (np.asarray(a, dtype=float) for a in basis)
        if comps.shape != (3, len(mean)):
            raise ValueError(
                f"basis components have shape {comps.shape}; expected (3, {len(mean)})"
            )
    if ax is None:
        fig = plt.figure(figsize=(5.5, 5))
        ax = fig.add_subplot(projection="3d")
    values, name = _colors(trajectories, color_by, len(trajs))
    colors, mappable, _ = _trial_colors(values, len(trajs))
    for tr, color in zip(trajs[:max_trajectories], colors, strict=False):
        p = (tr - mean) @ comps.T
        ax.plot(p[:, 0], p[:, 1], p[:, 2], color=color, lw=0.8)
    if mappable is not None:
        ax.figure.colorbar(mappable, ax=ax, label=name, shrink=0.7)
    classes = []
    if fixed_points is not None and len(fixed_points):
        st = _stabilities(fixed_points)
        p = (fixed_points.x - mean) @ comps.T
        for i in range(len(p)):
            ax.scatter(*p[i], s=30, color=stability_color(str(st[i])))
        classes = list(map(str, st))
    _stability_legend(ax, classes)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_zlabel("PC 3")
    ax.set_title("trajectories in PCA space")
    return ax
