"""A sweep's metric against one of its parameters, every run shown with the seeds' spread."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_sweep"]


def plot_sweep(ds, metric: str, parameter: str, *, hue: str | None = None, ax=None):
    """Draw ``metric`` of every run of a sweep against ``parameter``.

    Each run is a dot; for each value of ``parameter`` (and of ``hue``), a bar spans
    the mean ± standard deviation over the runs that share it (the seeds, where the
    sweep varies them). Failed runs are left out, and the legend says how many.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`neurodyn.open_sweep`'s result.
    metric : str
        A data variable along ``run`` (``val_loss``, ``n_stable``, ``max_lyapunov``…).
    parameter : str
        A swept coordinate along ``run`` (``model``, ``n_hidden``…).
    hue : str, optional
        Another swept coordinate: one colour per value.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    A sweep's results as :func:`~neurodyn.sweeps.open_sweep` returns them: two
    network sizes, three seeds each, one run failed:

    >>> import matplotlib.pyplot as plt
    >>> import xarray as xr
    >>> ds = xr.Dataset(
    ...     {"val_loss": ("run", [0.30, 0.25, 0.35, 0.10, 0.12, np.nan]),
    ...      "status": ("run", ["done"] * 5 + ["failed"])},
    ...     coords={"n_hidden": ("run", [32, 32, 32, 64, 64, 64]),
    ...             "seed": ("run", [0, 1, 2, 0, 1, 2])})
    >>> ax = plot_sweep(ds, "val_loss", "n_hidden")
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.get_title()
    (['32', '64'], 'val_loss over 5 runs (mean ± sd); 1 failed runs left out')
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    for name, kind in ((metric, "data_vars"), (parameter, "coords"), (hue, "coords")):
        if name is not None and name not in getattr(ds, kind):
            choices = sorted(map(str, getattr(ds, kind)))
            raise ValueError(f"{name!r} is not among the sweep's {kind}: {choices}")
    if ax is None:
        ax = plt.subplots(figsize=(6, 4))[1]
    ok = ds["status"].values == "done" if "status" in ds else np.ones(ds.sizes["run"], bool)
    x_values = list(dict.fromkeys(ds[parameter].values[ok].tolist()))
    groups = [None] if hue is None else list(dict.fromkeys(ds[hue].values[ok].tolist()))
    width = 0.8 / len(groups)
    for g, group in enumerate(groups):
        sel = ok if group is None else ok & (ds[hue].values == group)
        offset = (g - (len(groups) - 1) / 2) * width
        for i, x in enumerate(x_values):
            y = ds[metric].values[sel & (ds[parameter].values == x)].astype(float)
            y = y[np.isfinite(y)]
            if y.size == 0:
                continue
            label = None if i else (f"{hue} = {group}" if hue else "runs")
            ax.plot(np.full(y.size, i + offset), y, "o", color=f"C{g}", alpha=0.6, label=label)
            sd = y.std(ddof=1) if y.size > 1 else 0.0
            ax.errorbar(i + offset, y.mean(), yerr=sd, fmt="_", color=f"C{g}", ms=14, capsize=3)
    ax.set_xticks(range(len(x_values)), [str(x) for x in x_values])
    ax.set(xlabel=parameter, ylabel=metric)
    n_failed = int(np.sum(~ok))
    title = f"{metric} over {int(ok.sum())} runs (mean ± sd)"
    ax.set_title(title + (f"; {n_failed} failed runs left out" if n_failed else ""), fontsize=9)
    ax.legend(fontsize="small")
    return ax
