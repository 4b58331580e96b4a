"""Figures of trials: inputs, targets and the network's outputs.

Every function draws with matplotlib at its default settings, labels axes with
units, and returns the Figure or Axes it drew on; none calls ``show``. Import it
as a submodule (``from neurodyn import plotting``) so that ``import neurodyn``
never loads matplotlib.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

__all__ = ["plot_trials"]

_DEFAULT_TRIALS = (0, 1, 2)
_FADED = 0.3  # opacity of target spans that carry no loss


def _colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])


def _time_label(ds: xr.Dataset) -> str:
    units = ds["time"].attrs.get("units", "ms") if "time" in ds.coords else "ms"
    return f"time ({units})"


def plot_trials(ds: xr.Dataset, trials: Sequence[int] = _DEFAULT_TRIALS, *, axes=None):
    """Inputs, targets and outputs of a few trials, one column per trial.

    The top row shows the input channels. The bottom row shows, per output
    channel, the target (dashed) and the network's output (solid) in one colour;
    target spans with zero loss mask are drawn faded, since the network is not
    asked to match them. Period boundaries (``<period>_on`` coordinates) are
    dotted vertical lines. Padding after a trial's ``length`` is not drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`neurodyn.simulate` result, or any Dataset with ``inputs`` (trial,
        time, input) and ``targets`` (trial, time, output); ``outputs`` and
        ``mask`` are drawn when present. ``time`` is in ms.
    trials : sequence of int
        Positions (not labels) of the trials to draw. The default draws the first
        three, or as many as the dataset has.
    axes : array of Axes, shape (2, len(trials)), optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from neurodyn import simulate
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.rnn_models import RateRNN
    >>> ds = simulate(RateRNN(3, 16, 3, seed=0), FlipFlop(), n_trials=2)
    >>> fig = plot_trials(ds)
    >>> len(fig.axes)
    4
    """
    for var in ("inputs", "targets"):
        if var not in ds:
            raise ValueError(
                f"ds is missing the variable {var!r}; expected a neurodyn.simulate() Dataset "
                f"(found variables {sorted(ds.data_vars)})"
            )
    n_total = ds.sizes["trial"]
    trials = [int(t) for t in np.atleast_1d(trials)]
    if tuple(trials) == _DEFAULT_TRIALS:
        trials = [t for t in trials if t < n_total]
    bad = [t for t in trials if not -n_total <= t < n_total]
    if bad or not trials:
        raise ValueError(
            f"trials={trials!r} must be non-empty positions in the dataset's {n_total} trial(s)"
        )
    if axes is None:
        fig, axes = plt.subplots(
            2,
            len(trials),
            figsize=(3.2 * len(trials) + 1.0, 4.8),
            sharex="col",
            sharey="row",
            squeeze=False,
            constrained_layout=True,
        )
    else:
        axes = np.asarray(axes, dtype=object).reshape(2, len(trials))
        fig = axes[0, 0].figure
    colors = _colors()
    periods = json.loads(ds.attrs.get("periods", "[]"))

    labels = ds["trial"].values
    any_unscored = False
    for col, pos in enumerate(trials):
        tr = ds.isel(trial=pos)
        n = int(tr["length"]) if "length" in tr.coords else ds.sizes["time"]
        tr = tr.isel(time=slice(0, n))
        t = tr["time"].values
        ax_in, ax_out = axes[0, col], axes[1, col]
        for k, name in enumerate(tr["input"].values):
            ax_in.plot(
                t, tr["inputs"].isel(input=k), color=colors[k % len(colors)], label=str(name)
            )
        for k, name in enumerate(tr["output"].values):
            c = colors[k % len(colors)]
            target = tr["targets"].isel(output=k).values.astype(float)
            scored = tr["mask"].isel(output=k).values > 0 if "mask" in tr else np.ones(n, bool)
            if not scored.all():
                any_unscored = True
                ax_out.plot(t, target, "--", color=c, alpha=_FADED)
            ax_out.plot(t, np.where(scored, target, np.nan), "--", color=c)
            if "outputs" in tr:
                ax_out.plot(t, tr["outputs"].isel(output=k), "-", color=c, label=str(name))
        for p in periods:
            onset = tr.coords.get(f"{p}_on")
            if onset is not None and np.isfinite(onset) and float(onset) > 0:
                for ax in (ax_in, ax_out):
                    ax.axvline(float(onset), color="0.6", lw=0.8, ls=":")
        title = f"trial {labels[pos]}"
        if "correct" in tr.coords:
            title += " (correct)" if bool(tr["correct"]) else " (error)"
        ax_in.set_title(title)
        ax_out.set_xlabel(_time_label(ds))
    axes[0, 0].set_ylabel("input (a.u.)")
    axes[1, 0].set_ylabel("output (a.u.)")
    # Legends sit right of the last column so they never hide a trace.
    outside = {"fontsize": "small", "loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
    axes[0, -1].legend(title="input", **outside)
    handles = [
        Line2D([], [], color=colors[k % len(colors)], label=str(name))
        for k, name in enumerate(ds["output"].values)
    ]
    if "outputs" in ds:
        handles.append(Line2D([], [], color="k", label="network"))
    handles.append(Line2D([], [], color="k", ls="--", label="target"))
    if any_unscored:
        handles.append(Line2D([], [], color="k", ls="--", alpha=_FADED, label="target, unscored"))
    axes[1, -1].legend(handles=handles, title="output", **outside)
    return fig
