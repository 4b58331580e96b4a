"""Colours and legends of stability classes, shared by every figure of fixed points.

Stable points are black, marginal ones blue, unstable ones red, orange, purple and
brown for one, two, three and four or more unstable modes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

__all__ = ["stabilities", "stability_color", "stability_legend"]

_UNSTABLE = ["tab:red", "tab:orange", "tab:purple", "tab:brown"]


def stability_color(stability: str) -> str:
    """The colour of a stability class name (``stable``, ``marginal``, ``unstable_<n>``).

    Parameters
    ----------
    stability : str
        ``"stable"``, ``"marginal"`` or ``"unstable_<n>"``.

    Returns
    -------
    str
        A matplotlib colour name: black, blue, then red, orange, purple and brown for
        one, two, three and four or more unstable modes.

    Examples
    --------
    >>> [stability_color(c) for c in ("stable", "marginal", "unstable_1", "unstable_7")]
    ['black', 'tab:blue', 'tab:red', 'tab:brown']
    """
    if stability == "stable":
        return "black"
    if stability == "marginal":
        return "tab:blue"
    n = int(stability.rsplit("_", 1)[-1]) if stability.startswith("unstable_") else 1
    return _UNSTABLE[min(n, 4) - 1]


def stabilities(fps) -> np.ndarray:
    """Stability class of each fixed point ("stable" for all without a linearization).

    Parameters
    ----------
    fps : FixedPoints
        A result of :func:`neurodyn.analysis.find_fixed_points`.

    Returns
    -------
    array of str (n_points,)
        ``fps.stability``, or ``"stable"`` for every point when ``fps`` was found
        with ``linearize_points=False``.

    Examples
    --------
    :math:`\\dot x = x - x^3` has stable points at :math:`\\pm 1` and an unstable one
    at 0:

    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode")
    >>> x0 = np.array([[-1.4], [0.1], [1.3]])
    >>> sorted(stabilities(find_fixed_points(dyn, None, x0, progress=False)).tolist())
    ['stable', 'stable', 'unstable_1']
    >>> fps = find_fixed_points(dyn, None, x0, linearize_points=False, progress=False)
    >>> stabilities(fps).tolist()
    ['stable', 'stable', 'stable']
    """
    return fps.stability if fps.linearization is not None else np.full(len(fps), "stable")


def stability_legend(ax, classes, extra=()) -> None:
    """A legend of stability classes (stable, marginal, then unstable) plus ``extra`` handles.

    Parameters
    ----------
    ax : matplotlib Axes
        Where the legend goes.
    classes : iterable of str
        The stability classes drawn (repeats allowed); each appears once, in the
        order stable, marginal, then the unstable classes sorted.
    extra : sequence of matplotlib Artist
        Further legend handles appended after the classes (nullclines, slow points).
        No legend is drawn when there are no classes and no extra handles.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> stability_legend(ax, ["unstable_1", "stable", "stable", "marginal"])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['stable', 'marginal', 'unstable_1']
    >>> plt.close(fig)
    """
    order = sorted(set(classes), key=lambda c: (c != "stable", c != "marginal", c))
    handles = [Line2D([], [], marker="o", ls="", color=stability_color(c), label=c) for c in order]
    handles += list(extra)
    if handles:
        ax.legend(handles=handles, fontsize="small", loc="best")
