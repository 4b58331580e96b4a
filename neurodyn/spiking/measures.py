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

from .._validation import check_finite, check_int, check_positive, to_numpy
from ..seeding import make_rng, resolve_seed

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


# Sub-keys of the "analysis" stream (neurodyn.seeding) for the kernel quality's draws:
# the separation and the generalisation subsets are drawn independently of each other.
_KERNEL_QUALITY_KEY = 2
_SEPARATION, _GENERALISATION = 0, 1


def _counts_and_classes(counts_name, counts, labels_name, labels):
    """``counts`` as float (n_samples, n_neurons) and ``labels`` as a 1-D array, checked."""
    c = check_finite(counts_name, counts)
    if c.dtype.kind not in "biuf":
        raise ValueError(f"{counts_name} must be an array of spike counts, got dtype {c.dtype}")
    if c.ndim != 2 or 0 in c.shape:
        raise ValueError(
            f"{counts_name} must be a non-empty (n_samples, n_neurons) array, got shape {c.shape}"
        )
    if np.any(c < 0):
        raise ValueError(f"{counts_name} must be non-negative (spike counts)")
    y = to_numpy(labels)
    if y.ndim != 1 or y.size != c.shape[0]:
        raise ValueError(
            f"{labels_name} has shape {y.shape}; expected ({c.shape[0]},), one label per row "
            f"of {counts_name}"
        )
    return c.astype(np.float64), y


def _ranks(counts, groups, per_class, resamples, rng) -> np.ndarray:
    """Rank of ``per_class`` responses drawn from every group, for each of ``resamples`` draws."""
    ranks = np.empty(resamples)
    for r in range(resamples):
        pick = np.concatenate([rng.choice(g, per_class, replace=False) for g in groups])
        # the rank of the neurons x responses matrix (rank is unchanged by transposing)
        ranks[r] = np.linalg.matrix_rank(counts[pick].T)
    return ranks


def kernel_quality(
    counts,
    labels,
    noisy_counts,
    noisy_labels,
    *,
    per_class: int | None = None,
    resamples: int = 100,
    seed=0,
) -> dict:
    r"""A liquid's kernel quality: separation minus generalisation rank (Legenstein & Maass 2007).

    As the NALSM computes it (Ivanov & Michmizos 2021). The *separation* SP draws
    ``per_class`` responses of every one of the :math:`K` classes at random
    (without replacement within a class) and takes the numerical rank of the
    :math:`N \times n` matrix :math:`C_S` of their spike counts (:math:`N` neurons,
    :math:`n = \text{per\_class} \cdot K` responses), averaged over ``resamples``
    draws :math:`S_1, \dots, S_R`. The *generalisation* AP does the same with the
    responses to noisy copies of the inputs (:func:`~neurodyn.spiking.add_pixel_noise`),
    drawn independently:

    .. math::

        \text{SP} = \frac{1}{R} \sum_{r=1}^{R} \operatorname{rank} C_{S_r}, \qquad
        \text{AP} = \frac{1}{R} \sum_{r=1}^{R} \operatorname{rank} \tilde C_{\tilde S_r},
        \qquad
        q = \frac{\text{SP} - \text{AP}}{n}.

    A good liquid separates distinct inputs (SP near :math:`n`) and maps noisy copies
    of an input to similar responses (AP low). The paper reports "a rescaled SP - AP"
    and does not publish its rescaling; here the difference is divided by :math:`n`,
    the largest rank the :math:`n` columns can have (when :math:`N \ge n`). Any common
    positive rescaling keeps the ordering of models, so that ordering, not the value,
    is what compares with the paper.

    Parameters
    ----------
    counts : array (n_samples, n_neurons)
        Spike counts of the liquid's responses to distinct inputs (the paper: its
        test samples), finite and non-negative.
    labels : array (n_samples,)
        The class of every row of ``counts``.
    noisy_counts : array (n_noisy, n_neurons)
        Spike counts of the responses to noisy copies of inputs, from the same neurons.
    noisy_labels : array (n_noisy,)
        The class of every row of ``noisy_counts``; the same classes as ``labels``.
    per_class : int, optional
        Responses drawn from every class in each draw, at least 1 and at most the
        smallest class of either set. Default: the smallest class of either set (the
        paper: 100 of each of MNIST's 10 classes, so :math:`n = 1000`).
    resamples : int
        Number of random draws :math:`R` averaged (the paper: 1000).
    seed : int or numpy.random.Generator
        Seeds the draws (the ``"analysis"`` stream, :mod:`neurodyn.seeding`).

    Returns
    -------
    dict
        ``sp`` and ``ap``, the mean ranks; ``sp_sd`` and ``ap_sd``, their standard
        deviations over the draws (``ddof=1``; 0 for one draw); ``quality``, :math:`q`;
        ``n_columns``, :math:`n`; ``per_class`` and ``resamples`` as used.

    Raises
    ------
    ValueError
        For counts that are not finite, non-negative (n_samples, n_neurons) arrays,
        labels that do not match them, sets of different neurons or classes, or
        ``per_class`` larger than a class.

    Examples
    --------
    Nine inputs, three of each class, each with its own response: any two of
    every class span six dimensions. The noisy copies of a class all evoke one
    response, so they span only three, whatever the draw:

    >>> labels = np.repeat([0, 1, 2], 3)
    >>> counts = 2 * np.eye(9, dtype=int)
    >>> noisy = counts[[0, 0, 0, 3, 3, 3, 6, 6, 6]]
    >>> q = kernel_quality(counts, labels, noisy, labels, per_class=2, resamples=20)
    >>> q["sp"], q["ap"], q["n_columns"], q["quality"]
    (6.0, 3.0, 6, 0.5)
    >>> q["sp_sd"], q["ap_sd"]
    (0.0, 0.0)
    """
    c, y = _counts_and_classes("counts", counts, "labels", labels)
    g, gy = _counts_and_classes("noisy_counts", noisy_counts, "noisy_labels", noisy_labels)
    if g.shape[1] != c.shape[1]:
        raise ValueError(
            f"noisy_counts has {g.shape[1]} neurons (columns); expected {c.shape[1]}, as in counts"
        )
    classes, sizes = np.unique(y, return_counts=True)
    noisy_classes, noisy_sizes = np.unique(gy, return_counts=True)
    kept, noisy_kept = set(classes.tolist()), set(noisy_classes.tolist())
    if kept != noisy_kept:
        raise ValueError(
            f"labels and noisy_labels must hold the same classes; only in labels: "
            f"{sorted(kept - noisy_kept, key=repr)}, only in noisy_labels: "
            f"{sorted(noisy_kept - kept, key=repr)}"
        )
    resamples = check_int("resamples", resamples)
    smallest = min(
        (int(n), cls, name)
        for name, ns in (("labels", sizes), ("noisy_labels", noisy_sizes))
        for cls, n in zip(classes.tolist(), ns, strict=True)
    )
    if per_class is None:
        per_class = smallest[0]
    elif check_int("per_class", per_class) > smallest[0]:
        n, cls, name = smallest
        raise ValueError(
            f"per_class={per_class} is larger than the smallest class: class {cls!r} has "
            f"{n} response(s) in {name}"
        )
    per_class = int(per_class)
    groups = [np.flatnonzero(y == k) for k in classes]
    noisy_groups = [np.flatnonzero(gy == k) for k in classes]
    base = resolve_seed(seed)
    rng_sp = make_rng(base, "analysis", _KERNEL_QUALITY_KEY, _SEPARATION)
    rng_ap = make_rng(base, "analysis", _KERNEL_QUALITY_KEY, _GENERALISATION)
    sp = _ranks(c, groups, per_class, resamples, rng_sp)
    ap = _ranks(g, noisy_groups, per_class, resamples, rng_ap)
    n_columns = per_class * classes.size
    ddof = 1 if resamples > 1 else 0
    return {
        "sp": float(sp.mean()),
        "ap": float(ap.mean()),
        "sp_sd": float(sp.std(ddof=ddof)),
        "ap_sd": float(ap.std(ddof=ddof)),
        "quality": float((sp.mean() - ap.mean()) / n_columns),
        "n_columns": int(n_columns),
        "per_class": per_class,
        "resamples": resamples,
    }


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
