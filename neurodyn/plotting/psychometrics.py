"""Figures of psychometric curves: choice fractions and their fitted logistic.

The points and the fit are computed by :mod:`neurodyn.analysis.psychometrics`
(:func:`~neurodyn.analysis.psychometric`, :func:`~neurodyn.analysis.fit_psychometric`);
this module draws them. Its functions return the Axes they drew on; none calls ``show``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..analysis.psychometrics import fit_psychometric, psychometric

__all__ = ["plot_psychometric"]


def plot_psychometric(
    ds: xr.Dataset,
    *,
    variable: str = "coherence",
    choice: str = "choice",
    ax=None,
    signed_by: str | None = "ground_truth",
    choices=None,
    fit: bool = True,
    label: str = "choices",
    color=None,
):
    """Psychometric curve: choice fraction ± binomial s.e. and a fitted logistic.

    Each curve has one legend entry, ``label`` with its fitted bias and slope; call
    ``fit_psychometric(psychometric(ds, ...))`` for the numbers. Calling it again
    on the same ``ax`` overlays another curve (say, a subject's and a network's) in
    the next colour.

    Parameters
    ----------
    ds : xarray.Dataset
        Trials (see :func:`psychometric`) or points already computed by it.
    variable, choice, signed_by, choices
        As in :func:`psychometric` (ignored when ``ds`` holds points).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    fit : bool
        Fit and draw the logistic.
    label : str
        Legend entry of the points.
    color : matplotlib colour, optional
        Of the points and their fit; default: the next colour of the cycle.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Ten trials at each of five signed coherences, the fraction choosing +1 rising
    from 0.1 to 0.9; a second call overlays another curve:

    >>> import matplotlib.pyplot as plt
    >>> coherence = np.repeat([-20.0, -10.0, 0.0, 10.0, 20.0], 10)
    >>> choice = np.concatenate([np.r_[np.ones(k), -np.ones(10 - k)] for k in (1, 3, 5, 7, 9)])
    >>> ds = xr.Dataset(coords={"coherence": ("trial", coherence), "choice": ("trial", choice)})
    >>> ax = plot_psychometric(ds, signed_by=None)
    >>> np.round(np.asarray(ax.containers[0].lines[0].get_ydata(), float), 2).tolist()
    [0.1, 0.3, 0.5, 0.7, 0.9]
    >>> ax = plot_psychometric(ds, signed_by=None, fit=False, label="repeat", ax=ax)
    >>> len(ax.containers), ax.get_legend().get_texts()[1].get_text()
    (2, 'repeat')
    >>> plt.close(ax.figure)
    """
    if "p_choice" in ds:
        points = ds
    else:
        points = psychometric(
            ds, variable=variable, choice=choice, signed_by=signed_by, choices=choices
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 3.8), constrained_layout=True)
    if color is None:
        color = f"C{len(ax.containers) % 10}"  # one errorbar container per curve
    dim = points["p_choice"].dims[0]
    x = points[dim].values
    if not ax.containers:
        ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
        if x.min() < 0 < x.max():
            ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    if fit and x.size >= 2:
        # One legend entry per curve: the points' label carries their fit.
        f = fit_psychometric(points)
        grid = np.linspace(x.min(), x.max(), 200)
        ax.plot(grid, f(grid), color=color)
        label = f"{label}: bias {f.bias:.3g}, slope {f.slope:.3g}"
        if not f.success:
            label += " (separated)"
    ax.errorbar(
        x, points["p_choice"], yerr=points["sem"], fmt="o", color=color, capsize=2, label=label
    )
    coord = points[dim]
    xlabel = coord.attrs.get("long_name", dim)
    if "units" in coord.attrs:
        xlabel += f" ({coord.attrs['units']})"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"P(choice = {points.attrs.get('positive', 1)})")
    ax.set_ylim(-0.03, 1.03)
    # A rising curve leaves the lower right empty, a falling one the upper right.
    p = points["p_choice"].values
    ax.legend(fontsize="small", loc="lower right" if p[-1] >= p[0] else "upper right")
    return ax
