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
    in_names = [str(x) for x in ds["input"].values]
    out_names = [str(x) for x in ds["output"].values]
    in_group, out_group = _groups(in_names), _groups(out_names)
    for col, pos in enumerate(trials):
        tr = ds.isel(trial=pos)
        n = int(tr["length"]) if "length" in tr.coords else ds.sizes["time"]
        tr = tr.isel(time=slice(0, n))
        t = tr["time"].values
        ax_in, ax_out = axes[0, col], axes[1, col]
        for k in range(len(in_names)):
            g = in_group[k]
            ax_in.plot(t, tr["inputs"].isel(input=k), color=colors[g % len(colors)])
        for k in range(len(out_names)):
            c = colors[out_group[k] % len(colors)]
            target = tr["targets"].isel(output=k).values.astype(float)
            scored = tr["mask"].isel(output=k).values > 0 if "mask" in tr else np.ones(n, bool)
            if not scored.all():
                any_unscored = True
                ax_out.plot(t, target, "--", color=c, alpha=_FADED)
            ax_out.plot(t, np.where(scored, target, np.nan), "--", color=c)
            if "outputs" in tr:
                ax_out.plot(t, tr["outputs"].isel(output=k), "-", color=c)
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
    axes[0, -1].legend(handles=_legend(in_names, in_group, colors), title="input", **outside)
    handles = _legend(out_names, out_group, colors)
    if "outputs" in ds:
        handles.append(Line2D([], [], color="k", label="network"))
    handles.append(Line2D([], [], color="k", ls="--", label="target"))
    if any_unscored:
        handles.append(Line2D([], [], color="k", ls="--", alpha=_FADED, label="target, unscored"))
    axes[1, -1].legend(handles=handles, title="output", **outside)
    return fig


#: Legend entries that fit beside a figure 4.8 inches high.
_MAX_LEGEND = 10


def _stem(name: str, shared: frozenset = frozenset()) -> str:
    """The group of a channel: ``"stimulus_12"`` -> ``"stimulus"`` (numbered within a
    name), ``"rule_go"`` -> ``"rule"`` when ``"rule"`` is in ``shared`` (a prefix many
    channels have); otherwise the name itself."""
    head, sep, tail = name.rpartition("_")
    return head if sep and (tail.isdigit() or head in shared) else name


def _shared_prefixes(names: list[str]) -> frozenset:
    """Prefixes (before the last ``_``) of three or more channels."""
    heads = [n.rpartition("_")[0] for n in names if "_" in n]
    return frozenset(h for h in set(heads) if heads.count(h) >= 3)


def _groups(names: list[str]) -> list[int]:
    """Colour index of each channel: its own, or, with more channels than a legend
    holds, that of its group (``stimulus_0`` ... ``stimulus_31``; ``rule_go``,
    ``rule_anti``, ...)."""
    if len(names) <= _MAX_LEGEND:
        return list(range(len(names)))
    shared = _shared_prefixes(names)
    stems = list(dict.fromkeys(_stem(n, shared) for n in names))
    return [stems.index(_stem(n, shared)) for n in names]


def _legend(names: list[str], group: list[int], colors) -> list:
    """One entry per channel, or per group of numbered channels; at most _MAX_LEGEND."""
    entries: dict[int, list[str]] = {}
    for name, g in zip(names, group, strict=True):
        entries.setdefault(g, []).append(name)
    handles = []
    for g, members in list(entries.items())[:_MAX_LEGEND]:
        head = members[0].rpartition("_")[0] or members[0]
        label = members[0] if len(members) == 1 else f"{head} ({len(members)})"
        handles.append(Line2D([], [], color=colors[g % len(colors)], label=label))
    if len(entries) > _MAX_LEGEND:
        handles.append(Line2D([], [], color="none", label=f"... {len(entries) - _MAX_LEGEND} more"))
    return handles
