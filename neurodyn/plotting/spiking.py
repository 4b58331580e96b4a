"""Figures of spiking simulations: rasters, population rates and liquids.

Every function draws with matplotlib, labels axes with units and returns the
Axes it drew on; none calls ``show``. Save with :func:`neurodyn.plotting.save_figure`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

__all__ = ["plot_liquid", "plot_raster", "plot_rates"]


def _populations(ds: xr.Dataset, populations) -> list[str]:
    names = list(dict.fromkeys(ds["population"].values.tolist()))
    if populations is None:
        return names
    populations = [populations] if isinstance(populations, str) else list(populations)
    unknown = sorted(set(populations) - set(names))
    if unknown:
        raise ValueError(f"populations {unknown} are not in the dataset; it has {names}")
    return populations


def plot_raster(ds: xr.Dataset, sample: int = 0, *, populations=None, ax=None, markersize=1.5):
    """Spike raster of one sample: time (ms) against unit, one colour per population.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation run with ``record_spikes=True``.
    sample : int
        Position of the sample in ``ds.sample``.
    populations : str or list of str, optional
        Which populations to draw (default: all), stacked in this order.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    markersize : float
        Half the height of each spike's tick mark (points).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("n", 3, LIF(bias=25.0))
    >>> ax = plot_raster(net.run(50.0, backend="numpy"))
    >>> ax.get_xlabel()
    'time (ms)'
    """
    if "spike_unit" not in ds:
        raise ValueError("the dataset has no spikes: run the simulation with record_spikes=True")
    if not 0 <= sample < ds.sizes["sample"]:
        raise ValueError(f"sample={sample} must lie in [0, {ds.sizes['sample']})")
    names = _populations(ds, populations)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.0), constrained_layout=True)
    keep = ds["spike_sample"].values == sample
    t, u = ds["spike_time"].values[keep], ds["spike_unit"].values[keep]
    pop = ds["population"].values
    offset = 0
    for k, name in enumerate(names):
        units = np.flatnonzero(pop == name)
        row = np.full(ds.sizes["unit"], -1)
        row[units] = np.arange(units.size) + offset
        mine = row[u] >= 0
        ax.plot(t[mine], row[u[mine]], "|", ms=markersize * 2, color=f"C{k}", label=name)
        offset += units.size
    ax.set_xlim(0, float(ds.attrs.get("duration", t.max(initial=1.0))))
    ax.set_ylim(-0.5, offset - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("unit")
    ax.set_title(f"sample {ds['sample'].values[sample]}")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    return ax


def plot_rates(ds: xr.Dataset, *, bin_ms: float = 5.0, populations=None, sample=None, ax=None):
    """Population firing rate (Hz per neuron) over time, in bins of ``bin_ms``.

    Averaged over all samples, or one ``sample`` (position).

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation (:func:`~neurodyn.spiking.simulate`) run with ``record_spikes=True``.
    bin_ms : float
        Bin width (ms), in (0, duration]; the last bin may be shorter.
    populations : str or list of str, optional
        Which populations to draw (default: all), one line each.
    sample : int, optional
        Position of one sample in ``ds.sample``; default: the mean over all samples.
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Three regular neurons firing every 8 ms (see :class:`~neurodyn.spiking.LIF`):
    in 40-ms bins each fires 5 times, 125 Hz per neuron:

    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("n", 3, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    >>> ax = plot_rates(net.run(120.0, backend="numpy"), bin_ms=40.0)
    >>> ax.lines[0].get_ydata().tolist()
    [125.0, 125.0, 125.0]
    >>> plt.close(ax.figure)
    """
    if "spike_unit" not in ds:
        raise ValueError("the dataset has no spikes: run the simulation with record_spikes=True")
    names = _populations(ds, populations)
    duration = float(ds.attrs["duration"])
    if bin_ms <= 0 or bin_ms > duration:
        raise ValueError(f"bin_ms must lie in (0, {duration}], got {bin_ms}")
    edges = np.arange(0.0, duration + bin_ms * 0.5, bin_ms)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.0), constrained_layout=True)
    s, t, u = (ds[k].values for k in ("spike_sample", "spike_time", "spike_unit"))
    n_samples = ds.sizes["sample"]
    if sample is not None:
        keep = s == sample
        s, t, u, n_samples = s[keep], t[keep], u[keep], 1
    pop = ds["population"].values
    for k, name in enumerate(names):
        size = int(np.count_nonzero(pop == name))
        counts, _ = np.histogram(t[pop[u] == name], bins=edges)
        widths = np.diff(edges) / 1000.0
        ax.step(
            edges[:-1],
            counts / (size * n_samples * widths),
            where="post",
            color=f"C{k}",
            label=name,
        )
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate (Hz per neuron)")
    ax.legend(fontsize="small")
    return ax


def plot_liquid(liquid, *, ax=None, max_edges: int = 300, seed=0):
    """A liquid's neurons in 3-D (excitatory and inhibitory) and a sample of its synapses.

    Parameters
    ----------
    liquid : Liquid
        From :func:`~neurodyn.spiking.build_liquid` (or a NALSM's ``liquid``).
    ax : 3-D matplotlib Axes, optional
        Where to draw; a new figure with a 3-D Axes is made when omitted.
    max_edges : int
        At most this many recurrent synapses are drawn, chosen at random.
    seed : int
        Seeds the choice of the synapses drawn.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from neurodyn.spiking import build_liquid
    >>> liquid = build_liquid((4, 4, 4), n_inputs=8, seed=0)
    >>> ax = plot_liquid(liquid, max_edges=50)
    >>> len(ax.lines), [t.get_text() for t in ax.get_legend().get_texts()]
    (50, ['excitatory', 'inhibitory'])
    >>> plt.close(ax.figure)
    """
    if ax is None:
        fig = plt.figure(figsize=(5.0, 5.0), constrained_layout=True)
        ax = fig.add_subplot(projection="3d")
    pos = liquid.positions
    for mask, label, color in (
        (liquid.is_exc, "excitatory", "C3"),
        (~liquid.is_exc, "inhibitory", "C0"),
    ):
        ax.scatter(*pos[mask].T, s=6, color=color, label=label, depthshade=False)
    rng = np.random.default_rng(seed)
    show = rng.choice(liquid.pre.size, size=min(max_edges, liquid.pre.size), replace=False)
    for q in show:
        a, b = pos[liquid.pre[q]], pos[liquid.post[q]]
        ax.plot(*np.c_[a, b], color="0.6", lw=0.4, alpha=0.6)
    ax.set_xlabel("x (grid)")
    ax.set_ylabel("y (grid)")
    ax.set_zlabel("z (grid)")
    ax.legend(fontsize="small")
    return ax
