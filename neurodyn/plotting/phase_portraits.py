r"""Figures of phase portraits: exact ones for 1-D and 2-D systems, projected ones for networks.

* :func:`plot_phase_portrait` draws the true flow of a system with one or two state
  variables (:func:`neurodyn.analysis.phase_plane`): the vector field (streamlines or
  arrows), the nullclines :math:`f_1 = 0` and :math:`f_2 = 0`, the fixed points coloured
  by stability and sample trajectories.
* :func:`plot_projected_portrait` shows a high-dimensional network on a plane
  (:func:`neurodyn.analysis.projected_flow`): the projected flow over the full speed
  :math:`\|f\|` as a colour map, so dark valleys are slow regions even where the
  projection hides other directions; trajectories coloured by a trial variable, fixed
  points by stability with their unstable directions.
* :func:`plot_trajectories_3d` draws trajectories in the space of the top three
  principal components.

Every function draws on a given Axes (or makes one) and returns it; none calls ``show``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D

from ..analysis.phase_portraits import phase_plane, projected_flow
from ..analysis.projection import as_trajectories, pca_basis
from .stability import stabilities, stability_color, stability_legend

__all__ = ["plot_phase_portrait", "plot_projected_portrait", "plot_trajectories_3d"]


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
    dynamics, xlim, ylim, inputs, n_grid, initial_states, t_max, threads
        As in :func:`neurodyn.analysis.phase_plane`, which computes what is drawn.
    ax : matplotlib Axes, optional
    field : {"stream", "quiver"}
        Streamlines (coloured by speed) or arrows (2-D).
    nullclines : bool
        Draw :math:`f_1 = 0` (green) and :math:`f_2 = 0` (cyan) (2-D).
    fixed_points : bool or FixedPoints
        Find the fixed points in the window (True), draw the ones given, or none (False).
    labels : (str, str)
        Axis labels.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda z, u: np.stack([z[:, 1], -z[:, 0]], 1), n_state=2,
    ...                        kind="ode")
    >>> ax = plot_phase_portrait(dyn, xlim=(-1, 1), ylim=(-1, 1))
    >>> ax.get_xlabel()
    'x'
    """
    if field not in ("stream", "quiver"):
        raise ValueError(f"field must be 'stream' or 'quiver', got {field!r}")
    plane = phase_plane(
        dynamics, xlim=xlim, ylim=ylim, inputs=inputs, n_grid=n_grid, nullclines=nullclines,
        fixed_points=fixed_points, initial_states=initial_states, t_max=t_max, threads=threads,
    )  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5) if len(plane.grid) == 2 else (5, 3.5))
    if len(plane.grid) == 1:
        _draw_line(ax, plane, labels[0])
    else:
        _draw_plane(ax, plane, field, labels)
    ax.set_xlim(*plane.xlim)
    ax.set_title("phase portrait")
    return ax


def _draw_line(ax, plane, label):
    """A 1-D flow: the velocity curve, arrows along the axis and the fixed points on it."""
    (x0, x1), unit = plane.xlim, plane.time_unit
    ax.plot(plane.fine[0], plane.fine_velocity[:, 0], color="0.2", lw=1.5)
    ax.axhline(0.0, color="0.5", lw=0.8)
    # Arrows along the axis show the direction of the flow.
    xa, va = plane.grid[0][1:-1:2], plane.velocity[1:-1:2, 0]
    for xi, vi in zip(xa, va, strict=True):
        if abs(vi) > 1e-12:
            ax.annotate(
                "",
                xy=(xi + 0.02 * (x1 - x0) * np.sign(vi), 0),
                xytext=(xi, 0),
                arrowprops=dict(arrowstyle="->", color="tab:blue"),
            )
    fps = plane.fixed_points
    if fps is not None and len(fps):
        st = stabilities(fps)
        for xi, c in zip(fps.x[:, 0], st, strict=True):
            ax.scatter([xi], [0.0], s=45, color=stability_color(str(c)), zorder=3)
        stability_legend(ax, list(map(str, st)))
    ax.set_xlabel(label)
    rate = f"d{label}/dt" if plane.kind == "ode" else f"(F − {label})/Δt"
    ax.set_ylabel(f"{rate} (per {unit})")


def _draw_plane(ax, plane, field, labels):
    """A 2-D flow: the field, the nullclines, sample trajectories and the fixed points."""
    gx, gy = np.meshgrid(*plane.grid)
    U, V = plane.velocity[..., 0], plane.velocity[..., 1]
    label = f"speed (per {plane.time_unit})"
    if field == "stream":
        strm = ax.streamplot(gx, gy, U, V, color=plane.speed, cmap="viridis", density=1.2,
                             linewidth=0.8, arrowsize=0.8)  # fmt: skip
        ax.figure.colorbar(strm.lines, ax=ax, label=label)
    else:
        q = ax.quiver(gx, gy, U, V, plane.speed, cmap="viridis", angles="xy", pivot="mid")
        ax.figure.colorbar(q, ax=ax, label=label)
    extra = _draw_nullclines(ax, plane, labels) if plane.fine else []
    for tr in plane.trajectories if plane.trajectories is not None else ():
        ax.plot(tr[:, 0], tr[:, 1], color="tab:pink", lw=1.0, alpha=0.8)
        ax.plot(tr[0, 0], tr[0, 1], "o", color="tab:pink", ms=3)
    classes = []
    fps = plane.fixed_points
    if fps is not None and len(fps):
        st = stabilities(fps)
        for p, c in zip(fps.x, st, strict=True):
            ax.scatter(
                p[0], p[1], s=50, color=stability_color(str(c)), edgecolors="white", zorder=4
            )
        classes = list(map(str, st))
    stability_legend(ax, classes, extra)
    ax.set_ylim(*plane.ylim)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])


def _draw_nullclines(ax, plane, labels):
    """The zero contours of each velocity component; their legend handles."""
    fine = np.meshgrid(*plane.fine)
    handles = []
    for j, color in enumerate(("tab:green", "tab:cyan")):
        z = plane.fine_velocity[..., j]
        if np.nanmin(z) < 0 < np.nanmax(z):
            ax.contour(fine[0], fine[1], z, levels=[0.0], colors=color, linewidths=1.5)
        handles.append(Line2D([], [], color=color, label=f"{labels[j]}-nullcline"))
    return handles


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
        The network whose flow is drawn (a model is wrapped by
        :func:`neurodyn.dynamics.dynamics`).
    trajectories : array (trial, time, d) or a simulate() Dataset
        Drawn as lines (and fit the PCA plane unless ``basis`` is given).
    basis : array (2, d) or (mean, array (2, d)), optional
        The plane: two orthonormal directions in state space (and a centre);
        default: the top two principal components of ``trajectories``.
    inputs : array (m,), optional
        Constant input at which the flow is evaluated (zero: the network's memory state).
    fixed_points : FixedPoints, optional
        Drawn coloured by stability, with unstable directions as short lines
        (± ``mode_scale`` in state units).
    color_by : str or array (trial,), optional
        A trial coordinate of the Dataset (``"coherence"``, ``"context"``...) or values.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.
    n_grid : int
        Grid points along each axis of the plane at which the flow is evaluated.
    max_trajectories : int
        At most this many trajectories are drawn.
    mode_scale : float
        Half-length of the unstable-mode lines, in state units.
    log_speed : bool
        Colour the background by log10 of the speed (slow points are its dark minima).
    threads : int, optional
        Threads for the flow (see :func:`neurodyn.analysis.projected_flow`).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    An untrained rate network on the 3-bit flip-flop task: its flow at zero input
    on the plane of its trajectories, with its one fixed point, the origin:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn import simulate
    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> net = RateRNN(3, 16, 3, seed=0)
    >>> ds = simulate(net, FlipFlop(), n_trials=4)
    >>> starts = ds["states"].values[:, ::25].reshape(-1, 16)
    >>> fps = find_fixed_points(net, np.zeros(3), starts, progress=False)
    >>> ax = plot_projected_portrait(net, ds, fixed_points=fps, n_grid=10)
    >>> ax.get_title(), ax.get_xlabel(), len(ax.lines)
    ('projected flow with 1 fixed points', 'PC 1', 4)
    >>> plt.close(ax.figure)
    """
    flow = projected_flow(
        dynamics, trajectories, basis=basis, inputs=inputs, n_grid=n_grid, threads=threads
    )
    trajs = as_trajectories(trajectories) or []
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    unit = flow.time_unit
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
        classes = _draw_projected_points(ax, flow, fixed_points, mode_scale)
        ax.set_title(f"projected flow with {len(fixed_points)} fixed points")
    else:
        ax.set_title("projected flow")
    stability_legend(ax, classes, extra)
    ax.set_xlim(flow.y1[0], flow.y1[-1])
    ax.set_ylim(flow.y2[0], flow.y2[-1])
    pc = basis is None
    ax.set_xlabel("PC 1" if pc else "basis vector 1")
    ax.set_ylabel("PC 2" if pc else "basis vector 2")
    return ax


def _draw_projected_points(ax, flow, fps, mode_scale):
    """Fixed points on the plane by stability, each unstable mode a short line through
    its point (± ``mode_scale`` in state units); returns their stability classes."""
    st = stabilities(fps)
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
    return list(map(str, st))


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
        The states to draw (a Dataset's ``states``); they also fit the PCA unless
        ``basis`` is given.
    color_by : str or array (trial,), optional
        A trial coordinate or one value per trial: numbers colour through a colour
        bar, other values by category.
    fixed_points : FixedPoints, optional
        Drawn coloured by stability.
    basis : (mean (d,), array (3, d)), optional
        A projection to reuse (see :func:`neurodyn.analysis.pca_basis`).
    ax : 3-D matplotlib Axes, optional
        Where to draw; a new figure with a 3-D Axes is made when omitted.
    max_trajectories : int
        At most this many trajectories are drawn.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    Four flip-flop trials of an untrained network, coloured by their number of
    input pulses (a numeric trial variable, so a colour bar is added):

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn import simulate
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> ds = simulate(RateRNN(3, 16, 3, seed=0), FlipFlop(), n_trials=4)
    >>> ax = plot_trajectories_3d(ds, color_by="n_pulses")
    >>> len(ax.lines), ax.get_zlabel(), len(ax.figure.axes)
    (4, 'PC 3', 2)
    >>> plt.close(ax.figure)
    """
    trajs = as_trajectories(trajectories)
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
        st = stabilities(fixed_points)
        p = (fixed_points.x - mean) @ comps.T
        for i in range(len(p)):
            ax.scatter(*p[i], s=30, color=stability_color(str(st[i])))
        classes = list(map(str, st))
    stability_legend(ax, classes)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_zlabel("PC 3")
    ax.set_title("trajectories in PCA space")
    return ax
