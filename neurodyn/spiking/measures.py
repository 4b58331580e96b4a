r"""Measures of spiking activity: branching factor, kernel quality, rates, ISIs.

Branching factor (Ivanov & Michmizos 2021, ``compute_branching_factor.py``;
models.md §3.6). For every liquid neuron :math:`n` and each of its spikes at
time :math:`t` with :math:`b + \Delta \le t < T - b - \Delta` (a buffer
:math:`b = 25` ms at both ends of a :math:`T = 250` ms sample, :math:`\Delta = 4` ms):

.. math::

    \text{pre}(t) = \max\Bigl(1, \sum_{j \to n} \#\{\text{spikes of } j \text{ in } [t-\Delta, t)\}\Bigr),
    \qquad
    \text{post}(t) = \sum_{n \to i} \#\{\text{spikes of } i \text{ in } [t+1, t+1+\Delta)\},

where :math:`j` and :math:`i` range over liquid neurons only, and
:math:`\text{BF}_n = \langle \text{post}(t)/\text{pre}(t) \rangle_t`. A sample's BF is
the mean over neurons that have such spikes (NaN-mean), and the reported BF the
mean over samples that have any. A sample without such spikes has no BF; it is
left out of the mean and counted (``n_samples_excluded``), and each sample's number
of measured neurons is kept beside its BF. BF ≈ 1 is critical, < 1 sub-critical,
> 1 super-critical.
``t + 1`` is one time step later (the paper's dt = 1 ms).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import sparse

from .._validation import check_positive

__all__ = [
    "branching_factor",
    "firing_rates",
    "isi_statistics",
    "kernel_quality",
    "spike_trains",
]


def _spike_columns(ds: xr.Dataset):
    for var in ("spike_sample", "spike_time", "spike_unit"):
        if var not in ds:
            raise ValueError(
                f"the dataset has no {var!r}: run the simulation with record_spikes=True"
            )
    return ds["spike_sample"].values, ds["spike_time"].values, ds["spike_unit"].values


def spike_trains(ds: xr.Dataset, sample: int = 0) -> list[np.ndarray]:
    """Spike times (ms) of every unit in one sample (position in ``ds.sample``).

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation (:func:`~neurodyn.spiking.simulate`) run with ``record_spikes=True``.
    sample : int
        Position of the sample along ``ds.sample`` (not its label).

    Returns
    -------
    list of array
        One sorted array of spike times (ms) per unit, in unit order.

    Examples
    --------
    Two neurons driven by constant inputs fire regularly (see
    :class:`~neurodyn.spiking.LIF`):

    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("fast", 1, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    >>> _ = net.add_lif("slow", 1, LIF(tau_m=10.0, v_th=1.0, bias=1.2, t_ref=2.0))
    >>> ds = net.run(100.0, n_samples=2, backend="numpy")
    >>> [t[:3].tolist() for t in spike_trains(ds, sample=1)]
    [[7.0, 15.0, 23.0], [18.0, 37.0, 56.0]]
    """
    s, t, u = _spike_columns(ds)
    keep = s == sample
    order = np.argsort(u[keep], kind="stable")
    units, times = u[keep][order], t[keep][order]
    bounds = np.searchsorted(units, np.arange(ds.sizes["unit"] + 1))
    return [times[bounds[k] : bounds[k + 1]] for k in range(ds.sizes["unit"])]


def _bf_one_sample(steps, units, adj, n_steps, delta, buffer):
    n = adj.shape[0]
    raster = np.zeros((n, n_steps + 1), dtype=np.int32)
    np.add.at(raster, (units, steps + 1), 1)
    cs = np.cumsum(raster, axis=1)  # cs[:, t] = spikes in [0, t)
    t = np.arange(n_steps)
    back = cs[:, t] - cs[:, np.maximum(t - delta, 0)]  # spikes in [t - delta, t)
    fwd = cs[:, np.minimum(t + 1 + delta, n_steps)] - cs[:, np.minimum(t + 1, n_steps)]
    window = (steps >= buffer + delta) & (steps < n_steps - buffer - delta)
    s_units, s_steps = units[window], steps[window]
    if s_units.size == 0:
        return np.nan, np.full(n, np.nan), 0
    pre = np.maximum((adj @ back)[s_units, s_steps], 1)
    post = (adj.T @ fwd)[s_units, s_steps]
    ratio = post / pre
    total = np.bincount(s_units, weights=ratio, minlength=n)
    count = np.bincount(s_units, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_neuron = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    measured = int(np.count_nonzero(count))
    return float(np.nanmean(per_neuron)), per_neuron, measured


def branching_factor(
    ds: xr.Dataset,
    adjacency,
    *,
    units=None,
    delta: float = 4.0,
    buffer: float = 25.0,
    samples=None,
) -> xr.Dataset:
    """The branching factor of recorded spikes (module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation with ``record_spikes=True``.
    adjacency : sparse or dense array (n, n)
        ``A[post, pre] != 0`` where ``pre -> post`` among the measured neurons.
    units : array of int, optional
        The ``n`` units the adjacency refers to, in its order; default: the
        ``exc`` and ``inh`` populations (a NALSM liquid).
    delta, buffer : float
        Window and end buffers (ms), multiples of ``dt``.
    samples : array of int, optional
        Positions of the samples to use (20 in the paper); default: all.

    Returns
    -------
    xarray.Dataset
        ``bf`` per sample (NaN for a sample without measured spikes),
        ``bf_neuron`` (sample, neuron; NaN for a neuron without measured spikes),
        ``n_neurons`` per sample (the neurons its BF averages) and, in ``attrs``,
        ``bf_mean``, the mean over the ``n_samples_measured`` samples that have a BF, and
        ``n_samples_excluded``, how many samples had none (NaN mean if all).

    Examples
    --------
    A chain 0 -> 1 -> 2 where each spike of a neuron is followed 1 ms later by one
    of the next: every measured spike of neuron 1 has one presynaptic spike
    before it and one postsynaptic spike after it.

    >>> times = np.arange(40.0, 200.0, 10.0)
    >>> t = np.concatenate([times, times + 1, times + 2])
    >>> u = np.repeat([0, 1, 2], times.size)
    >>> ds = xr.Dataset({"spike_sample": ("spike", np.zeros(t.size, int)),
    ...                  "spike_time": ("spike", t), "spike_unit": ("spike", u)},
    ...                 coords={"sample": [0], "unit": [0, 1, 2]},
    ...                 attrs={"dt": 1.0, "duration": 250.0})
    >>> A = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    >>> out = branching_factor(ds, A, units=[0, 1, 2])
    >>> out["bf_neuron"].values[0].tolist()
    [1.0, 1.0, 0.0]
    """
    s_all, t_all, u_all = _spike_columns(ds)
    dt, duration = float(ds.attrs["dt"]), float(ds.attrs["duration"])
    check_positive("delta", delta)
    check_positive("buffer", buffer, allow_zero=True)
    d_steps, b_steps = round(delta / dt), round(buffer / dt)
    if not (np.isclose(d_steps * dt, delta) and np.isclose(b_steps * dt, buffer)):
        raise ValueError(f"delta={delta} and buffer={buffer} ms must be multiples of dt={dt} ms")
    n_steps = round(duration / dt)
    if 2 * (b_steps + d_steps) >= n_steps:
        raise ValueError(
            f"the sample ({duration} ms) is too short for buffers of {buffer} ms and windows "
            f"of {delta} ms at both ends"
        )
    if units is None:
        if "population" not in ds.coords:
            raise ValueError("pass units=: the dataset has no population labels")
        units = np.flatnonzero(np.isin(ds["population"].values, ("exc", "inh")))
    units = np.asarray(units, dtype=np.int64)
    adj = sparse.csr_array(adjacency).astype(np.int64)
    adj.data[:] = 1
    if adj.shape != (units.size, units.size):
        raise ValueError(f"adjacency has shape {adj.shape}; expected ({units.size}, {units.size})")
    local = np.full(int(max(u_all.max(initial=0), units.max(initial=0))) + 1, -1, dtype=np.int64)
    local[units] = np.arange(units.size)
    n_samples = ds.sizes["sample"]
    samples = np.arange(n_samples) if samples is None else np.asarray(samples, dtype=np.int64)
    bf = np.empty(samples.size)
    per = np.empty((samples.size, units.size))
    measured = np.empty(samples.size, dtype=np.int32)
    for k, s in enumerate(samples):
        keep = s_all == s
        lu = local[u_all[keep]]
        mine = lu >= 0
        steps = np.rint(t_all[keep][mine] / dt).astype(np.int64)
        bf[k], per[k], measured[k] = _bf_one_sample(steps, lu[mine], adj, n_steps, d_steps, b_steps)
    out = xr.Dataset(
        {
            "bf": ("sample", bf),
            "bf_neuron": (("sample", "neuron"), per),
            "n_neurons": ("sample", measured),
        },
        coords={"sample": ds["sample"].values[samples], "neuron": units.astype(np.int32)},
    )
    has_bf = np.isfinite(bf)
    out.attrs.update(
        {
            # samples without measured spikes have no BF: left out, and counted
            "bf_mean": float(bf[has_bf].mean()) if has_bf.any() else float("nan"),
            "n_samples_measured": int(has_bf.sum()),
            "n_samples_excluded": int(samples.size - has_bf.sum()),
            "delta": float(delta),
            "buffer": float(buffer),
        }
    )
    return out


def kernel_quality(counts, noisy_counts=None, *, rtol: float | None = None) -> dict:
    """Separation and generalisation ranks of spike-count matrices (Legenstein & Maass 2007).

    Parameters
    ----------
    counts : array (n_samples, n_neurons)
        Responses to distinct inputs (the paper: 100 test samples per class); the
        rank of the neurons x samples matrix is the *separation* (SP).
    noisy_counts : array (n_samples, n_neurons), optional
        Responses to noisy versions of inputs; its rank is the *generalisation*
        (AP), lower is better.
    rtol : float, optional
        Count only singular values above ``rtol`` times the largest (an effective
        rank; spike counts of different samples are almost never exactly
        dependent, so the exact rank is often full). Default: the exact rank of
        :func:`numpy.linalg.matrix_rank`.

    Returns
    -------
    dict
        ``separation``, and with ``noisy_counts`` also ``generalisation`` and
        ``difference`` = separation - generalisation, each divided by
        ``min(n_samples, n_neurons)`` (its maximum) so sizes compare.

    Examples
    --------
    Three responses of three neurons, the second twice the first, span a plane
    (rank 2 of 3); the noisy responses collapse onto one direction (rank 1), a
    liquid that generalises:

    >>> counts = np.array([[3, 0, 1], [6, 0, 2], [0, 4, 4]])
    >>> noisy = np.array([[3, 0, 1], [6, 0, 2], [3, 0, 1]])
    >>> q = kernel_quality(counts, noisy)
    >>> {k: round(v, 3) for k, v in q.items()}
    {'separation': 0.667, 'generalisation': 0.333, 'difference': 0.333}
    """

    def rank(a):
        if rtol is None:
            return np.linalg.matrix_rank(a)
        sv = np.linalg.svd(a, compute_uv=False)
        return int(np.count_nonzero(sv > rtol * sv[0])) if sv.size and sv[0] > 0 else 0

    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"counts must be (n_samples, n_neurons), got shape {c.shape}")
    full = min(c.shape)
    out = {"separation": rank(c) / full}
    if noisy_counts is not None:
        g = np.asarray(noisy_counts, dtype=np.float64)
        if g.shape != c.shape:
            raise ValueError(f"noisy_counts has shape {g.shape}; expected {c.shape}")
        out["generalisation"] = rank(g) / full
        out["difference"] = out["separation"] - out["generalisation"]
    return {k: float(v) for k, v in out.items()}


def firing_rates(ds: xr.Dataset) -> xr.DataArray:
    """Mean firing rate of every unit over the samples (Hz), labelled by unit.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation (:func:`~neurodyn.spiking.simulate`); only its ``counts`` and
        ``duration`` are used, so ``record_spikes`` may be off.

    Returns
    -------
    xarray.DataArray
        ``rate`` along ``unit`` (Hz): the spike count averaged over samples,
        divided by the duration, with the units' ``population`` labels.

    Examples
    --------
    The fast neuron fires 12 times in 100 ms, the slow one 5 times:

    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("fast", 1, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    >>> _ = net.add_lif("slow", 1, LIF(tau_m=10.0, v_th=1.0, bias=1.2, t_ref=2.0))
    >>> ds = net.run(100.0, n_samples=2, backend="numpy")
    >>> rates = firing_rates(ds)
    >>> rates.values.tolist(), rates["population"].values.tolist()
    ([120.0, 50.0], ['fast', 'slow'])
    """
    hz = ds["counts"].mean("sample") / (float(ds.attrs["duration"]) / 1000.0)
    hz.attrs["units"] = "Hz"
    return hz.rename("rate")


def isi_statistics(ds: xr.Dataset) -> xr.Dataset:
    """Mean interspike interval (ms) and its coefficient of variation per unit.

    Intervals are taken within samples and pooled over samples; units with fewer
    than two spikes in every sample get NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation (:func:`~neurodyn.spiking.simulate`) run with ``record_spikes=True``.

    Returns
    -------
    xarray.Dataset
        ``isi_mean`` (ms), ``isi_cv`` (standard deviation over mean; 0 for a
        perfectly regular neuron, about 1 for a Poisson one) and ``n_intervals``,
        each along ``unit``.

    Examples
    --------
    Regular firing: intervals of 8 and 19 ms, with no variability, 11 and 4
    intervals in each of the two samples:

    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("fast", 1, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    >>> _ = net.add_lif("slow", 1, LIF(tau_m=10.0, v_th=1.0, bias=1.2, t_ref=2.0))
    >>> ds = net.run(100.0, n_samples=2, backend="numpy")
    >>> isi = isi_statistics(ds)
    >>> isi["isi_mean"].values.tolist(), isi["isi_cv"].values.tolist()
    ([8.0, 19.0], [0.0, 0.0])
    >>> isi["n_intervals"].values.tolist()
    [22, 8]
    """
    s, t, u = _spike_columns(ds)
    order = np.lexsort((t, s, u))
    s, t, u = s[order], t[order], u[order]
    same = (u[1:] == u[:-1]) & (s[1:] == s[:-1])
    isi, owner = np.diff(t)[same], u[1:][same]
    n_units = ds.sizes["unit"]
    n = np.bincount(owner, minlength=n_units)
    total = np.bincount(owner, weights=isi, minlength=n_units)
    total2 = np.bincount(owner, weights=isi**2, minlength=n_units)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        var = np.where(n > 1, (total2 - n * mean**2) / np.maximum(n - 1, 1), np.nan)
        cv = np.sqrt(np.maximum(var, 0.0)) / mean
    out = xr.Dataset(
        {
            "isi_mean": ("unit", mean),
            "isi_cv": ("unit", cv),
            "n_intervals": ("unit", n.astype(np.int32)),
        },
        coords={"unit": ds["unit"].values},
    )
    out["isi_mean"].attrs["units"] = "ms"
    return out
