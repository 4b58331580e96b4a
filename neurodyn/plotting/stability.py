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
    """
    if stability == "stable":
        return "black"
    if stability == "marginal":
        return "tab:blue"
    n = int(stability.rsplit("_", 1)[-1]) if stability.startswith("unstable_") else 1
    return _UNSTABLE[min(n, 4) - 1]


def stabilities(fps) -> np.ndarray:
    """Stability class of each fixed point ("stable" for all without a linearization)."""
    return fps.stability if fps.linearization is not None else np.full(len(fps), "stable")


def stability_legend(ax, classes, extra=()) -> None:
    """A legend of stability classes (stable, marginal, then unstable) plus ``extra`` handles."""
    order = sorted(set(classes), key=lambda c: (c != "stable", c != "marginal", c))
    handles = [Line2D([], [], marker="o", ls="", color=stability_color(c), label=c) for c in order]
    handles += list(extra)
    if handles:
        ax.legend(handles=handles, fontsize="small", loc="best")
