r"""Run a :class:`~neurodyn.spiking.Network`: validation, backend choice, labelled results.

The engine is clock-driven with step :math:`dt`. One step of one sample, in order
(the NALSM code's order, Ivanov & Michmizos 2021; models.md §3.3):

1. sources spike: source :math:`k` with probability :math:`p_k = r_k\,dt` (a
   Poisson rate :math:`r_k`, at most one spike per step), or where its given
   spike train has a spike;
2. neurons with :math:`V \ge V_\theta` that are not refractory spike, are reset to
   :math:`V_\text{reset}` and become refractory for :math:`t_\text{ref}`;
3. every spike is delivered: :math:`I_{e|i} \mathrel{+}= g\,w` (or
   :math:`V \mathrel{+}= g\,w` for delta synapses) after the synapse's delay
   (zero delay acts in the same step, as in the NALSM);
4. STDP changes plastic weights (:mod:`neurodyn.spiking.stdp`);
5. the membrane integrates, :math:`V \leftarrow V + k\,(V_\text{rest} - V + I_e
   + I_i + I_\text{bias})`, then the currents decay,
   :math:`I \leftarrow I\,e^{-dt/\tau_\text{syn}}`. A clamped neuron's :math:`V` stays
   at reset while refractory except in the last refractory step, so it can spike
   again exactly :math:`t_\text{ref}` after a spike (Brian2's and NEST's convention).

With the NALSM's :math:`dt = 1` ms, :math:`k = 1/\tau_v` and gain
:math:`\tau_v/\tau_u`, steps 3 and 5 reproduce its
:math:`V \leftarrow V - V/\tau_v + \sum_j W_{ij} e^{-s_j/\tau_u}/\tau_u`. One
difference: a spike delivers the weight it has *when it is emitted*
(event-driven, as Brian2 and NEST), where the paper's dense code multiplies the
kernel's tail by the weight of each later step; with :math:`\tau_u = 1` ms the
tail is :math:`e^{-1}, e^{-2}, \dots` and weights change by at most
:math:`\eta \le 0.15` per step, so the two differ little.

Random numbers of the sources come from a counter-based generator, a pure
function of (seed, sample id, step, source), so every backend and any split of
the samples into batches draw the same spikes.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from .._validation import check_finite, check_int
from .._version import __version__
from ..backends import get_module, resolve_backend
from ..progress import check_progress, progress_bar
from ..seeding import make_rng, resolve_seed
from ..threads import limit as limit_threads
from ._plan import allocate_outputs, compile_network
from ._reference import lif_run_numpy
from .clock import steps_of
from .stdp import NO_STDP, STDP

if TYPE_CHECKING:  # annotations only: the network module imports the engine
    from .network import Network

__all__ = ["simulate"]

logger = logging.getLogger(__name__)

_SPIKE_FRACTION = 0.02  # first guess of the spike buffer: 2% of unit-steps (20 Hz at 1 ms)


def _kernel(backend: str):
    """The kernel ``kernel(plan)`` of ``backend``."""
    if backend == "numpy":
        return lif_run_numpy
    if backend == "numba":
        # Numba takes about 0.7 s to import; only this backend needs it.
        from ._numba import lif_run_numba

        return lif_run_numba
    return get_module(backend).lif_run


def _source_probabilities(net: Network, rates, n_samples: int) -> np.ndarray:
    p = np.zeros((n_samples, net.n_sources))
    for name, value in (rates or {}).items():
        pop = net.populations.get(name)
        if pop is None or pop.kind != "source":
            sources = [q.name for q in net.populations.values() if q.kind == "source"]
            raise ValueError(f"rates: {name!r} is not a source population; sources: {sources}")
        r = check_finite(f"rates[{name!r}]", np.asarray(value, dtype=float))
        if r.shape not in {(pop.size,), (n_samples, pop.size)}:
            raise ValueError(
                f"rates[{name!r}] has shape {r.shape}; expected ({pop.size},) or "
                f"({n_samples}, {pop.size}) for {pop.size} sources and {n_samples} samples"
            )
        prob = r * (net.dt / 1000.0)
        if np.any(r < 0) or np.any(prob > 1.0):
            raise ValueError(
                f"rates[{name!r}] must lie in [0, {1000.0 / net.dt:g}] Hz (at most one spike "
                f"per step of {net.dt} ms); got [{r.min():g}, {r.max():g}]"
            )
        p[:, net.unit_slice(name)] = prob
    return p


def _source_events(net: Network, spikes, n_samples: int, n_steps: int):
    """Given spike trains as an event CSR over (sample, step), or (None, None)."""
    if not spikes:
        return None, None
    raster = np.zeros((n_samples, n_steps, net.n_sources), dtype=bool)
    for name, value in spikes.items():
        pop = net.populations.get(name)
        if pop is None or pop.kind != "source":
            raise ValueError(f"spikes: {name!r} is not a source population")
        a = check_finite(f"spikes[{name!r}]", np.asarray(value))
        if a.shape not in {(n_steps, pop.size), (n_samples, n_steps, pop.size)}:
            raise ValueError(
                f"spikes[{name!r}] has shape {a.shape}; expected a raster ({n_steps}, {pop.size}) "
                f"or ({n_samples}, {n_steps}, {pop.size}): steps of {net.dt} ms x sources"
            )
        if not np.all((a == 0) | (a == 1)):
            raise ValueError(f"spikes[{name!r}] must hold 0/1 (or bool) per step and source")
        raster[:, :, net.unit_slice(name)] |= a.astype(bool)
    b, t, k = np.nonzero(raster)  # sorted by sample, step, unit
    ev_ptr = np.zeros(n_samples * n_steps + 1, dtype=np.int64)
    np.cumsum(np.bincount(b * n_steps + t, minlength=n_samples * n_steps), out=ev_ptr[1:])
    return ev_ptr, np.ascontiguousarray(k, dtype=np.int32)


def _initial_potentials(net: Network, sample_ids: np.ndarray, seed: int) -> np.ndarray:
    pops = [p for p in net._ordered() if p.kind == "lif"]
    v0 = np.empty((sample_ids.size, sum(p.size for p in pops)))
    ranged = [
        p.params.v_init is not None and not isinstance(p.params.v_init, (int, float)) for p in pops
    ]
    for row, sid in enumerate(sample_ids):
        rng = make_rng(seed, "init", int(sid)) if any(ranged) else None
        parts = []
        for pop, r in zip(pops, ranged, strict=True):
            vi = pop.params.v_init
            if r:
                parts.append(rng.uniform(vi[0], vi[1], pop.size))
            else:
                parts.append(np.full(pop.size, pop.params.v_rest if vi is None else float(vi)))
        v0[row] = np.concatenate(parts) if parts else np.zeros(0)
    return v0


def _recorded_neurons(net: Network, record_v) -> np.ndarray:
    if record_v is None or record_v is False:
        return np.zeros(0, dtype=np.int32)
    if record_v is True:
        return np.arange(net.n_units - net.n_sources, dtype=np.int32)
    if isinstance(record_v, str):
        record_v = {record_v: True}
    if not isinstance(record_v, dict):
        raise ValueError("record_v must be True, a population name or {population: indices}")
    out = []
    for name, idx in record_v.items():
        s = net.neuron_slice(name)
        local = np.arange(s.stop - s.start) if idx is True else np.atleast_1d(np.asarray(idx))
        if local.size and (local.min() < 0 or local.max() >= s.stop - s.start):
            raise ValueError(f"record_v[{name!r}] indices must lie in [0, {s.stop - s.start})")
        out.append(local + s.start)
    return np.ascontiguousarray(np.concatenate(out), dtype=np.int32)


def simulate(
    network: Network,
    duration: float,
    *,
    n_samples: int | None = None,
    rates: dict | None = None,
    spikes: dict | None = None,
    stdp: STDP | None = None,
    weights=None,
    carry_weights: bool = False,
    record_spikes: bool = True,
    record_v=None,
    record_every: int = 1,
    return_weights: bool = False,
    sample_ids=None,
    batch_size: int | None = None,
    backend: str = "auto",
    threads: int | None = None,
    seed=0,
    progress: bool | str = False,
) -> xr.Dataset:
    """Simulate ``network`` for ``duration`` ms on a batch of independent samples.

    Each sample starts from the same initial weights and from rest (or
    ``v_init``); with ``stdp`` every sample changes its own copy of the weights.

    Parameters
    ----------
    network : Network
    duration : float
        Simulated time per sample (ms), a multiple of ``network.dt``.

    Other Parameters
    ----------------
    n_samples : int, optional
        Batch size; default: inferred from per-sample ``rates``/``spikes``, else 1.
    rates : dict of str to array, optional
        Poisson rates (Hz) per source population, shape (n,) or (n_samples, n).
    spikes : dict of str to array, optional
        Given spike trains per source population: a 0/1 raster of shape
        (n_steps, n) or (n_samples, n_steps, n).
    stdp : STDP, optional
        Plasticity of the projections made with ``plastic=True``.
    weights : array, optional
        Initial weights in :meth:`Network.synapses` order, (n_synapses,) or
        (n_samples, n_synapses); default: the projections' weights.
    carry_weights : bool
        Run the samples in order, each starting from the weights the previous one
        ended with (the NALSM initialisation phase); states still reset per sample.
    record_spikes : bool
        Keep every spike (``spike_*`` variables); counts are always kept.
    record_v : True, str or dict, optional
        Membrane potentials to sample: all neurons, one population, or
        ``{population: local indices}``.
    record_every : int
        Sample ``v`` (and the STDP depression rate) every this many steps.
    return_weights : bool
        Add the final ``weights`` (sample, synapse).
    sample_ids : array of int, optional
        Labels of the samples, which also index the random streams, so a sample
        gets the same input spikes whichever batch it runs in (default 0..n-1).
    batch_size : int, optional
        Run the kernel on this many samples at a time (memory, progress bar).
    backend : {"auto", "cpp", "cuda", "numba", "numpy"}
    threads : int, optional
        Threads of the C++/Numba kernels; default: chosen by :mod:`neurodyn.threads`
        from the batch's work and the cores other processes leave free.
    seed : int or Generator
    progress : bool or {"auto", "never", "always"}
        Show a progress bar over batches (True: when the output is interactive; see
        :mod:`neurodyn.progress`).

    Returns
    -------
    xarray.Dataset
        ``counts`` (sample, unit); if recorded, ``spike_sample``, ``spike_time``
        (ms) and ``spike_unit`` along ``spike`` (a ragged array: sorted by sample,
        time, unit), ``v`` (sample, time, recorded) and ``depression_rate``
        (sample, time); ``weights`` if asked. Units carry ``population``, ``kind``
        and ``ei`` coordinates. ``attrs``: ``dt``, ``duration``, ``seed``,
        ``backend``, ``n_silent_samples``, the network and STDP configuration
        (JSON) and the version.

    Examples
    --------
    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("n", 1, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    >>> ds = net.run(100.0, backend="numpy")
    >>> int(ds["counts"].sum())
    12
    """
    setup = _validate(
        network, duration, n_samples=n_samples, rates=rates, spikes=spikes, stdp=stdp,
        weights=weights, carry_weights=carry_weights, record_spikes=record_spikes,
        record_v=record_v, record_every=record_every, return_weights=return_weights,
        sample_ids=sample_ids, batch_size=batch_size, backend=backend, seed=seed,
        progress=progress,
    )  # fmt: skip
    static = compile_network(network)
    inputs = _plan_inputs(setup, static, rates=rates, spikes=spikes, weights=weights)
    parts, timing = _execute(setup, static, inputs, threads=threads, progress=progress)
    ds = _to_dataset(setup, static, parts)
    # Time spent in the kernels (all attempts), for benchmarks: wall clock and
    # process CPU time (which counts every thread).
    ds.attrs["kernel_seconds"], ds.attrs["kernel_cpu_seconds"] = timing
    return ds


@dataclass(frozen=True)
class _Recording:
    """What a run keeps beyond the spike counts."""

    spikes: bool  # every spike (sample, step, unit)
    v_index: np.ndarray  # neurons (0 = first LIF neuron) whose potential is sampled
    every: int  # sampling period of v and of the STDP depression rate, in steps
    weights: bool  # the final weights


@dataclass(frozen=True)
class _Setup:
    """A validated run: what every batch of samples shares."""

    network: Network
    n_steps: int
    n_samples: int
    sample_ids: np.ndarray  # int64 labels, which also index the random streams
    batch_size: int
    backend: str
    seed: int
    stdp: STDP | None
    carry_weights: bool
    record: _Recording


@dataclass(frozen=True)
class _Inputs:
    """Per-sample arrays of a run, sliced into batches by :func:`_run_batch`."""

    source_p: np.ndarray  # (sample, source) spike probability per step
    event_ptr: np.ndarray | None  # CSR over (sample, step) of given source spikes
    event_unit: np.ndarray | None
    w0: np.ndarray  # initial weights in kernel order, (synapse,) or (sample, synapse)
    w0_per_sample: int
    kernel: dict  # the kernel arguments shared by every batch


def _validate(network, duration, *, n_samples, rates, spikes, stdp, weights, carry_weights,
              record_spikes, record_v, record_every, return_weights, sample_ids, batch_size,
              backend, seed, progress) -> _Setup:  # fmt: skip
    """Check the arguments of :func:`simulate` that do not need the compiled network."""
    _check_network(network)
    n_steps = steps_of("duration", duration, network.dt, minimum=1)
    check_progress(progress)
    if stdp is not None and not isinstance(stdp, STDP):
        raise ValueError(f"stdp must be an STDP instance or None, got {type(stdp).__name__}")
    if stdp is not None and not any(pr.plastic for pr in network.projections.values()):
        raise ValueError("stdp was given but no projection was made with plastic=True")
    if carry_weights and stdp is None:
        raise ValueError(
            "carry_weights=True needs stdp: without plasticity the weights never change"
        )
    record = _Recording(
        spikes=bool(record_spikes),
        v_index=_recorded_neurons(network, record_v),
        every=check_int("record_every", record_every),
        weights=bool(return_weights),
    )
    n_samples = check_int("n_samples", _sample_count(n_samples, rates, spikes, weights))
    return _Setup(
        network=network,
        n_steps=n_steps,
        n_samples=n_samples,
        sample_ids=_sample_ids(sample_ids, n_samples),
        batch_size=(
            n_samples
            if batch_size is None or carry_weights
            else check_int("batch_size", batch_size)
        ),
        backend=resolve_backend(backend),
        seed=resolve_seed(seed),
        stdp=stdp,
        carry_weights=bool(carry_weights),
        record=record,
    )


def _sample_count(n_samples, rates, spikes, weights):
    """``n_samples``, or the batch size per-sample inputs imply, else 1."""
    if n_samples is not None:
        return n_samples
    sizes = [np.shape(v)[0] for v in (rates or {}).values() if np.ndim(v) == 2]
    sizes += [np.shape(v)[0] for v in (spikes or {}).values() if np.ndim(v) == 3]
    sizes += [np.shape(weights)[0]] if weights is not None and np.ndim(weights) == 2 else []
    return sizes[0] if sizes else 1


def _sample_ids(sample_ids, n_samples: int) -> np.ndarray:
    ids = np.arange(n_samples) if sample_ids is None else np.asarray(sample_ids)
    if ids.shape != (n_samples,) or ids.dtype.kind not in "iu" or np.any(ids < 0):
        raise ValueError(f"sample_ids must be {n_samples} non-negative ints, got shape {ids.shape}")
    return ids.astype(np.int64)


def _initial_weights(weights, static: dict, setup: _Setup) -> tuple[np.ndarray, int]:
    """The initial weights in kernel (CSR) order and whether they differ per sample."""
    if weights is None:
        return static["w_init"], 0
    n_syn, n_samples = static["n_syn"], setup.n_samples
    w = check_finite("weights", np.asarray(weights, dtype=float))
    if w.shape == (n_syn,):
        return np.ascontiguousarray(w[static["order"]]), 0
    if w.shape == (n_samples, n_syn) and not setup.carry_weights:
        return np.ascontiguousarray(w[:, static["order"]]), 1
    raise ValueError(f"weights has shape {w.shape}; expected ({n_syn},) or ({n_samples}, {n_syn})")


def _plan_inputs(setup: _Setup, static: dict, *, rates, spikes, weights) -> _Inputs:
    """The per-sample inputs and the kernel arguments every batch shares."""
    net, stdp, record = setup.network, setup.stdp, setup.record
    w0, w0_per_sample = _initial_weights(weights, static, setup)
    event_ptr, event_unit = _source_events(net, spikes, setup.n_samples, setup.n_steps)
    astro_sign = np.zeros(net.n_units, dtype=np.int8)
    if stdp is not None and stdp.astrocyte is not None:
        for name, sign in stdp.astrocyte.populations.items():
            block = net.unit_slice(name)
            units = stdp.astrocyte.units.get(name)
            if units is None:
                astro_sign[block] = sign
                continue
            idx = np.asarray(units, dtype=np.int64)
            if idx.size and idx.max() >= block.stop - block.start:
                raise ValueError(
                    f"astrocyte units[{name!r}] must lie in [0, {block.stop - block.start}), "
                    f"got {int(idx.max())}"
                )
            astro_sign[block.start + idx] = sign
    kernel = {
        **{k: v for k, v in static.items() if k not in {"w_init", "order"}},
        "n_steps": setup.n_steps,
        **(stdp.kernel_values(net.dt) if stdp is not None else NO_STDP),
        "astro_sign": astro_sign,
        "seed": int(make_rng(setup.seed, "noise").integers(0, 2**63 - 1)),
        "carry_weights": int(setup.carry_weights),
        "record_spikes": int(record.spikes),
        "n_vrec": int(record.v_index.size),
        "vrec_every": int(record.every),
        "vrec_idx": record.v_index if record.v_index.size else np.zeros(1, dtype=np.int32),
        "w0_per_sample": w0_per_sample,
    }
    return _Inputs(
        source_p=_source_probabilities(net, rates, setup.n_samples),
        event_ptr=event_ptr,
        event_unit=event_unit,
        w0=w0,
        w0_per_sample=w0_per_sample,
        kernel=kernel,
    )


def _execute(setup: _Setup, static: dict, inputs: _Inputs, *, threads, progress):
    """Run the kernel batch by batch; the batches' filled plans and the kernel time
    ``(wall, cpu)`` in seconds."""
    kernel = _kernel(setup.backend)
    # The kernels run a batch in one parallel region (threads over samples), so
    # every sample's whole run is one thread's work: about one operation per
    # synapse and per neuron each step.
    work = float(setup.n_steps) * (static["n_syn"] + setup.network.n_units) * setup.batch_size
    parts, wall, cpu = [], 0.0, 0.0
    with limit_threads(threads, work=work, what="spiking") as n_threads:
        starts = range(0, setup.n_samples, setup.batch_size)
        shown = progress if len(starts) > 1 else False  # one batch: nothing to follow
        for start in progress_bar(starts, progress=shown, desc="simulating", unit="batch"):
            stop = min(start + setup.batch_size, setup.n_samples)
            plan, seconds = _run_batch(setup, inputs, kernel, start, stop, n_threads)
            parts.append(plan)
            wall, cpu = wall + seconds[0], cpu + seconds[1]
    return parts, (wall, cpu)


def _run_batch(setup: _Setup, inputs: _Inputs, kernel, start: int, stop: int, n_threads: int):
    """Samples ``start:stop`` through ``kernel``, rerun with a larger spike buffer until
    every spike fits; the filled plan and the kernel time ``(wall, cpu)``."""
    net, n_steps, record = setup.network, setup.n_steps, setup.record
    ids = setup.sample_ids[start:stop]
    plan = dict(inputs.kernel)
    plan.update(
        num_threads=n_threads,
        n_samples=stop - start,
        v0=_initial_potentials(net, ids, setup.seed),
        src_p=np.ascontiguousarray(inputs.source_p[start:stop]),
        sample_ids=np.ascontiguousarray(ids),
        w0=inputs.w0[start:stop] if inputs.w0_per_sample else inputs.w0,
    )
    if inputs.event_ptr is not None:
        lo, hi = inputs.event_ptr[start * n_steps], inputs.event_ptr[stop * n_steps]
        plan["ev_ptr"] = inputs.event_ptr[start * n_steps : stop * n_steps + 1] - lo
        plan["ev_unit"] = inputs.event_unit[lo:hi]
    cap = max(64, int(_SPIKE_FRACTION * n_steps * net.n_units)) if record.spikes else 1
    wall = cpu = 0.0
    while True:
        allocate_outputs(plan, spike_cap=cap)
        if record.weights:
            n_syn = plan["n_syn"]
            plan["w_out"] = np.zeros((n_syn,) if setup.carry_weights else (stop - start, n_syn))
        t_wall, t_cpu = time.perf_counter(), time.process_time()
        kernel(plan)
        wall += time.perf_counter() - t_wall
        cpu += time.process_time() - t_cpu
        needed = int(plan["n_spikes"].max()) if record.spikes else 0
        if needed <= cap:
            return plan, (wall, cpu)
        cap = needed  # deterministic, so a rerun with room reproduces the run


def _spike_variables(parts: list[dict], dt: float) -> dict:
    """The recorded spikes of every batch as one ragged ``spike`` dimension."""
    samp, steps, units = [], [], []
    offset = 0
    for p in parts:
        for b in range(p["n_samples"]):
            k = int(p["n_spikes"][b])
            st, un = p["spike_step"][b, :k], p["spike_unit"][b, :k]
            order = np.lexsort((un, st))  # the GPU records a step's spikes in any order
            steps.append(st[order])
            units.append(un[order])
            samp.append(np.full(k, offset + b, dtype=np.int32))
        offset += p["n_samples"]
    return {
        "spike_sample": ("spike", np.concatenate(samp)),
        "spike_time": ("spike", np.concatenate(steps).astype(np.float64) * dt),
        "spike_unit": ("spike", np.concatenate(units).astype(np.int32)),
    }


def _weight_variables(setup: _Setup, static: dict, parts: list[dict]) -> tuple[dict, dict]:
    """The final weights in :meth:`Network.synapses` order, with their coordinates."""
    order = static["order"]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    syn = setup.network.synapses()
    coords = {
        "syn_pre": ("synapse", syn["pre"].astype(np.int32)),
        "syn_post": ("synapse", syn["post"].astype(np.int32)),
        "projection": ("synapse", syn["projection"].astype(np.int32)),
    }
    if setup.carry_weights:
        return {"weights": ("synapse", parts[0]["w_out"][inverse])}, coords
    w = np.concatenate([p["w_out"] for p in parts])
    return {"weights": (("sample", "synapse"), w[:, inverse])}, coords


def _to_dataset(setup: _Setup, static: dict, parts: list[dict]) -> xr.Dataset:
    network, record, n_steps = setup.network, setup.record, setup.n_steps
    dt = network.dt
    counts = np.concatenate([p["counts"] for p in parts])
    coords = {
        "sample": setup.sample_ids.astype(np.int32),
        "unit": np.arange(network.n_units, dtype=np.int32),
        **{k: ("unit", v) for k, v in network.unit_labels().items()},
    }
    data = {"counts": (("sample", "unit"), counts)}
    if record.spikes:
        data.update(_spike_variables(parts, dt))
    times = np.arange(0, n_steps, record.every) * dt
    if record.v_index.size:
        coords["time"] = times
        coords["recorded"] = record.v_index + network.n_sources
        data["v"] = (("sample", "time", "recorded"), np.concatenate([p["vrec"] for p in parts]))
    if setup.stdp is not None:
        coords["time"] = times
        trace = np.concatenate([p["rate_trace"] for p in parts])[:, :: record.every]
        data["depression_rate"] = (("sample", "time"), trace)
    if record.weights:
        weights, weight_coords = _weight_variables(setup, static, parts)
        data.update(weights)
        coords.update(weight_coords)
    ds = xr.Dataset(data, coords=coords)
    if "time" in ds.coords:
        ds["time"].attrs["units"] = "ms"
    if "spike_time" in ds:
        ds["spike_time"].attrs["units"] = "ms"
    neurons = slice(network.n_sources, network.n_units)
    silent = int(np.count_nonzero(counts[:, neurons].sum(axis=1) == 0))
    if counts.shape[1] > network.n_sources and silent == counts.shape[0]:
        logger.warning("no LIF neuron spiked in any of the %d samples", silent)
    ds.attrs.update(
        {
            "dt": float(dt),
            "duration": float(n_steps * dt),
            "n_steps": int(n_steps),
            "seed": int(setup.seed),
            "backend": setup.backend,
            "n_silent_samples": silent,
            "neurodyn_version": __version__,
            "network": json.dumps(network.config(), default=_json_default),
            "stdp": json.dumps(_stdp_config(setup.stdp)),
        }
    )
    return ds


def _check_network(network) -> None:
    """Refuse anything but a :class:`~neurodyn.spiking.Network`.

    Checked by its interface: the network module imports this engine (for
    ``Network.run``), so this module does not import the class.
    """
    needed = ("dt", "projections", "synapses", "unit_labels", "unit_slice", "n_units")
    if not all(hasattr(network, attr) for attr in needed):
        raise ValueError(f"network must be a Network, got {type(network).__name__}")


def _json_default(obj):
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _stdp_config(stdp: STDP | None):
    if stdp is None:
        return None
    cfg = asdict(stdp)
    if stdp.astrocyte is not None:
        cfg["astrocyte"]["populations"] = dict(stdp.astrocyte.populations)
        cfg["astrocyte"]["units"] = {k: list(v) for k, v in stdp.astrocyte.units.items()}
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in cfg.items()
    }
