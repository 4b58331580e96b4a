"""Pictures of fixed points: state space (PCA) and eigenvalue spectra.

Both functions draw on a given Axes (or make one) and return it; neither calls
``show``. Colours: stable points black, marginal blue, unstable red (darker with
more unstable modes); slow points are hollow.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ..analysis.projection import as_trajectories, pca_basis
from .stability import stabilities, stability_color, stability_legend

__all__ = ["plot_eigenvalues", "plot_fixed_points", "stability_color"]


def plot_fixed_points(
    fps,
    trajectories=None,
    *,
    ax=None,
    n_components: int = 3,
    mode_scale: float = 0.25,
    max_trajectories: int = 20,
    basis=None,
):
    """Fixed points in the PCA space of the network's trajectories, coloured by stability.

    Unstable eigenmodes are drawn as short lines through each unstable point (the
    real part of each unstable right eigenvector, ± ``mode_scale`` in state units),
    the picture FixedPointFinder made familiar.

    Parameters
    ----------
    fps : FixedPoints
    trajectories : array (trial, time, d), or a simulate() Dataset, optional
        Drawn as thin grey lines; the PCA is fitted to them (to the fixed points
        when omitted).
    ax : matplotlib Axes, optional
        A 3-D Axes for ``n_components=3``; created when omitted.
    n_components : {2, 3}
    mode_scale : float
        Half-length of the unstable-mode lines, in state units.
    max_trajectories : int
        At most this many trajectories are drawn.
    basis : tuple (mean, components), optional
        A projection to reuse (see :func:`neurodyn.analysis.pca_basis`).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    The flow :math:`\\dot x = x - x^3,\\ \\dot y = -y` has two stable points
    :math:`(\\pm 1, 0)` and a saddle at the origin, whose unstable mode is drawn
    as a short line:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(z, u):
    ...     return np.stack([z[:, 0] - z[:, 0] ** 3, -z[:, 1]], axis=1)
    >>> dyn = FunctionDynamics(f, n_state=2, kind="ode")
    >>> x0 = np.array([[-1.5, 0.3], [0.1, -0.2], [1.4, 0.5]])
    >>> fps = find_fixed_points(dyn, None, x0, progress=False)
    >>> ax = plot_fixed_points(fps, n_components=2)
    >>> ax.get_title(), len(ax.collections), len(ax.lines)
    ('3 fixed points (ode)', 3, 1)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['stable', 'unstable_1']
    >>> plt.close(ax.figure)
    """
    if n_components not in (2, 3):
        raise ValueError(f"n_components must be 2 or 3, got {n_components!r}")
    trajs = as_trajectories(trajectories)
    if basis is None:
        data = np.concatenate(trajs) if trajs else fps.x
        basis = pca_basis(data, n_components)
    mean, comps = basis

    def proj(x):
        return (np.atleast_2d(x) - mean) @ comps.T

    if ax is None:
        fig = plt.figure(figsize=(5.5, 5))
        ax = fig.add_subplot(projection="3d" if n_components == 3 else None)
    for tr in (trajs or [])[:max_trajectories]:
        p = proj(tr)
        ax.plot(*p.T, color="0.7", lw=0.6, zorder=1)
    stability = stabilities(fps)
    for i in range(len(fps)):
        color = stability_color(str(stability[i]))
        p = proj(fps.x[i])[0]
        slow = fps.status[i] == "slow"
        ax.scatter(*p, s=30, marker="o", zorder=3, edgecolors=color,
                   facecolors="none" if slow else color)  # fmt: skip
        if fps.linearization is None:
            continue
        for k in range(int(fps.n_unstable[i])):
            v = np.real(fps.right[i, :, k])
            v = v / (np.linalg.norm(v) or 1.0)
            seg = proj(np.stack([fps.x[i] - mode_scale * v, fps.x[i] + mode_scale * v]))
            ax.plot(*seg.T, color=color, lw=1.5, zorder=2)
    slow = [Line2D([], [], marker="o", ls="", mfc="none", color="0.3", label="slow point")]
    stability_legend(ax, list(map(str, stability)), slow if np.any(fps.status == "slow") else ())
    for j, setter in enumerate(("set_xlabel", "set_ylabel", "set_zlabel")[:n_components]):
        getattr(ax, setter)(f"PC {j + 1}")
    ax.set_title(f"{len(fps)} fixed points ({fps.kind})")
    return ax


def plot_eigenvalues(fps, *, ax=None, index=None):
    """Eigenvalue spectra of fixed points against the unit circle (maps) or imaginary axis (ODEs).

    Parameters
    ----------
    fps : FixedPoints
        With a linearization.
    ax : matplotlib Axes, optional
    index : int or sequence of int, optional
        Which fixed points (default all), each coloured by its stability class.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    The saddle of :math:`\\dot x = x - x^3,\\ \\dot y = -y` at the origin has
    eigenvalues 1 and -1; the stable points at :math:`(\\pm 1, 0)` have -2 and -1:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(z, u):
    ...     return np.stack([z[:, 0] - z[:, 0] ** 3, -z[:, 1]], axis=1)
    >>> dyn = FunctionDynamics(f, n_state=2, kind="ode")
    >>> x0 = np.array([[-1.5, 0.3], [0.1, -0.2], [1.4, 0.5]])
    >>> fps = find_fixed_points(dyn, None, x0, progress=False)
    >>> sorted(np.round(fps.eigenvalues.real.ravel(), 6).tolist())
    [-2.0, -2.0, -1.0, -1.0, -1.0, 1.0]
    >>> ax = plot_eigenvalues(fps)
    >>> len(ax.collections), [t.get_text() for t in ax.get_legend().get_texts()]
    (3, ['stable', 'unstable_1'])
    >>> plt.close(ax.figure)
    """
    if fps.linearization is None and len(fps):
        raise ValueError("fps has no linearization; call find_fixed_points(linearize_points=True)")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    idx = np.arange(len(fps)) if index is None else np.atleast_1d(index)
    seen = set()
    for i in idx:
        c = str(fps.stability[i])
        lam = fps.eigenvalues[i]
        ax.scatter(lam.real, lam.imag, s=12, color=stability_color(c), alpha=0.7,
                   label=None if c in seen else c)  # fmt: skip
        seen.add(c)
    if fps.kind == "map":
        t = np.linspace(0, 2 * np.pi, 400)
        ax.plot(np.cos(t), np.sin(t), color="0.5", lw=0.8, ls="--")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("Re λ")
        ax.set_ylabel("Im λ")
    else:
        ax.axvline(0.0, color="0.5", lw=0.8, ls="--")
        unit = f"1/{fps.time_unit}"
        ax.set_xlabel(f"Re λ ({unit})")
        ax.set_ylabel(f"Im λ ({unit})")
    if seen:
        ax.legend(fontsize="small", loc="best")
    ax.set_title("eigenvalues at fixed points")
    return ax
