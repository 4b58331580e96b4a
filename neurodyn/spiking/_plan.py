"""Flatten a Network and the arguments of one run into the kernels' arrays.

The result is a dict of C-contiguous NumPy arrays and Python scalars whose keys
and dtypes are exactly the fields of ``neurodyn::LifPlan`` (csrc/include/
neurodyn/lif.h). The C++, CUDA, Numba and NumPy kernels all read this one dict,
which is what lets the tests compare them spike for spike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .clock import RECEPTORS

if TYPE_CHECKING:  # annotations only: the network module imports the engine
    from .network import Network

__all__ = ["allocate_outputs", "compile_network"]


def _c(a, dtype) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=dtype)


def compile_network(net: Network) -> dict:
    """The static arrays of ``net``: neuron constants, CSR synapses, projection table."""
    dt = net.dt
    lif_pops = [p for p in net._ordered() if p.kind == "lif"]
    n_src, n_units = net.n_sources, net.n_units
    n_neu = n_units - n_src

    def per_pop(fn, dtype=np.float64):
        return _c([fn(q.params) for q in lif_pops] or [0], dtype)

    sizes = [q.size for q in lif_pops]
    pop_ptr = np.zeros(len(lif_pops) + 1, dtype=np.int64)
    np.cumsum(sizes, out=pop_ptr[1:])
    static = {
        "n_src": n_src,
        "n_neu": n_neu,
        "n_pop": len(lif_pops),
        "pop_ptr": pop_ptr,
        "neuron_pop": _c(np.repeat(np.arange(len(lif_pops)), sizes), np.int32),
        "k_m": per_pop(lambda q: q.step_coefficient(dt)),
        "v_rest": per_pop(lambda q: q.v_rest),
        "v_th": per_pop(lambda q: q.v_th),
        "v_reset": per_pop(lambda q: q.v_reset),
        "bias": per_pop(lambda q: q.bias),
        "decay_e": per_pop(lambda q: np.exp(-dt / q.tau_syn_e)),
        "decay_i": per_pop(lambda q: np.exp(-dt / q.tau_syn_i)),
        "ref_steps": per_pop(lambda q: round(q.t_ref / dt), np.int32),
        "clamp": per_pop(lambda q: q.clamp_refractory, np.int8),
    }

    syn = net.synapses()
    projs = list(net.projections.values())
    delay_steps = (
        np.concatenate([np.rint(pr.delay / dt) for pr in projs]).astype(np.int32)
        if projs
        else np.zeros(0, np.int32)
    )
    # CSR by presynaptic unit; a stable sort keeps projection order, then the
    # order the user gave, within one presynaptic unit.
    order = np.argsort(syn["pre"], kind="stable")
    pre = syn["pre"][order]
    post_neuron = syn["post"][order] - n_src
    out_ptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n_units), out=out_ptr[1:])
    # Incoming lists: by post neuron, then presynaptic unit, then CSR position, so a
    # GPU thread that pulls them sums in the CPU's push order.
    n_syn = pre.size
    in_syn = np.lexsort((np.arange(n_syn), pre, post_neuron)).astype(np.int64)
    in_ptr = np.zeros(n_neu + 1, dtype=np.int64)
    np.cumsum(np.bincount(post_neuron, minlength=n_neu), out=in_ptr[1:])

    static.update(
        {
            "n_syn": int(n_syn),
            "max_delay": int(delay_steps.max()) if n_syn else 0,
            "has_delta": int(any(pr.receptor == "delta" for pr in projs)),
            "out_ptr": out_ptr,
            "syn_pre": _c(pre, np.int32),
            "syn_post": _c(post_neuron, np.int32),
            "syn_proj": _c(syn["projection"][order], np.int32),
            "syn_delay": _c(delay_steps[order], np.int32),
            "in_ptr": in_ptr,
            "in_syn": _c(in_syn, np.int64),
            "w_init": _c(syn["weight"][order], np.float64),
            "order": order,  # CSR position -> position in Network.synapses()
            "proj_receptor": _c([RECEPTORS[pr.receptor] for pr in projs] or [0], np.int32),
            "proj_gain": _c([pr.gain for pr in projs] or [1.0], np.float64),
            "proj_wmin": _c([pr.w_min for pr in projs] or [0.0], np.float64),
            "proj_wmax": _c([pr.w_max for pr in projs] or [0.0], np.float64),
            "proj_plastic": _c([pr.plastic for pr in projs] or [0], np.int8),
            "proj_mirror": _c([pr.mirror for pr in projs] or [0], np.int8),
        }
    )
    return static


def allocate_outputs(plan: dict, *, spike_cap: int) -> None:
    """Add zeroed output arrays to ``plan`` (in place)."""
    b, u = plan["n_samples"], plan["n_src"] + plan["n_neu"]
    plan["counts"] = np.zeros((b, u), dtype=np.int32)
    plan["spike_cap"] = int(spike_cap)
    shape = (b, spike_cap) if plan["record_spikes"] else (1, 1)
    plan["spike_step"] = np.zeros(shape, dtype=np.int32)
    plan["spike_unit"] = np.zeros(shape, dtype=np.int32)
    plan["n_spikes"] = np.zeros(b, dtype=np.int64)
    n_vt = -(-plan["n_steps"] // plan["vrec_every"])
    plan["vrec"] = np.zeros((b, n_vt, plan["n_vrec"]) if plan["n_vrec"] else (1, 1, 1))
    if plan["stdp_on"]:
        plan["rate_trace"] = np.zeros((b, plan["n_steps"]))
