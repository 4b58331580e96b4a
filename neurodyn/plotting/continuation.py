"""Figures of continuation: bifurcation diagrams of branches of fixed points.

The branches come from :func:`neurodyn.analysis.continue_fixed_points`. The function
draws on a given Axes (or makes one) and returns it; it never calls ``show``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ..analysis.continuation import Branch
from ..analysis.projection import pca_basis

__all__ = ["plot_bifurcation_diagram"]


def plot_bifurcation_diagram(branches, *, coordinate=None, ax=None, label_points: bool = True):
    """Fixed points against the parameter: stable solid, unstable dashed, bifurcations marked.

    Parameters
    ----------
    branches : Branch or list of Branch
        Results of :func:`neurodyn.analysis.continue_fixed_points`, all with the
        same state dimension and parameter.
    coordinate : int, array (d,) or None
        What to plot on the y axis: a state index, the projection on a vector, or (None)
        the state itself for 1-D systems and the projection on the branch's first
        principal axis otherwise.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.
    label_points : bool
        Mark folds (▲, "LP") and Hopf points (■, "H").

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    The saddle-node :math:`\\dot x = \\mu - x^2`: the stable branch
    :math:`x = \\sqrt\\mu` and the unstable :math:`x = -\\sqrt\\mu` meet in a fold
    at :math:`\\mu = 0`:

    >>> import matplotlib.pyplot as plt
    >>> from neurodyn.analysis import continue_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: u - x**2, n_state=1, n_input=1, kind="ode")
    >>> branch = continue_fixed_points(dyn, [1.0], p0=1.0, p_range=(-1, 2), direction=-1,
    ...                                progress=False)
    >>> ax = plot_bifurcation_diagram(branch)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['stable', 'unstable', 'fold']
    >>> [t.get_text() for t in ax.texts], ax.get_ylabel()
    (['LP'], 'x')
    >>> plt.close(ax.figure)
    """
    if isinstance(branches, Branch):
        branches = [branches]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.8))
    d = branches[0].x.shape[1]
    if coordinate is None:
        if d == 1:
            vec = np.ones(1)
        else:
            vec = pca_basis(np.concatenate([b.x for b in branches]), 1)[1][0]
        ylabel = "x" if d == 1 else "projection on PC 1"
    elif np.ndim(coordinate) == 0:
        i = int(coordinate)
        if not 0 <= i < d:
            raise ValueError(f"coordinate={coordinate} is not a state index in [0, {d})")
        vec = np.eye(d)[i]
        ylabel = f"x[{i}]"
    else:
        vec = np.asarray(coordinate, dtype=float)
        if vec.shape != (d,):
            raise ValueError(f"coordinate has shape {vec.shape}; expected an index or ({d},)")
        ylabel = "projection"

    markers = {
        "fold": ("^", "LP"),
        "hopf": ("s", "H"),
        "neimark_sacker": ("s", "NS"),
        "period_doubling": ("D", "PD"),
    }
    seen = set()
    for b in branches:
        yv = b.x @ vec
        stable = b.n_unstable == 0
        # Draw runs of equal stability as separate segments, joined at their ends.
        start = 0
        for i in range(1, len(b) + 1):
            if i == len(b) or stable[i] != stable[start]:
                seg = slice(start, min(i + 1, len(b)))
                ax.plot(
                    b.parameter[seg],
                    yv[seg],
                    color="black" if stable[start] else "tab:red",
                    ls="-" if stable[start] else "--",
                    lw=1.5,
                )
                start = i
        if label_points:
            for bif in b.bifurcations:
                m, text = markers[bif.kind]
                ax.plot(bif.parameter, bif.x @ vec, m, color="tab:blue", ms=7, zorder=4)
                ax.annotate(
                    text,
                    (bif.parameter, bif.x @ vec),
                    textcoords="offset points",
                    xytext=(5, 5),
                    fontsize="small",
                )
                seen.add(bif.kind)
    handles = [
        Line2D([], [], color="black", label="stable"),
        Line2D([], [], color="tab:red", ls="--", label="unstable"),
    ]
    handles += [
        Line2D([], [], marker=markers[k][0], ls="", color="tab:blue", label=k.replace("_", " "))
        for k in sorted(seen)
    ]
    ax.legend(handles=handles, fontsize="small", loc="best")
    ax.set_xlabel(branches[0].parameter_name)
    ax.set_ylabel(ylabel)
    ax.set_title("bifurcation diagram")
    return ax
