"""The NumPy reference of the LIF engine: slow, obvious, and the ground truth.

It follows csrc/include/neurodyn/lif.h step by step, vectorised over neurons
and synapses within one step, and evaluates the rules of lif_rules.h with the
same operands in the same order, so the compiled backends must match it spike
for spike. ``np.add.at`` accumulates in index order, which is the order the CPU
kernel pushes synaptic input in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["counter_uniform", "lif_run_numpy"]

_C0 = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def _splitmix64(z: np.ndarray) -> np.ndarray:
    # uint64 array arithmetic wraps modulo 2**64 without warnings (scalars would warn).
    z = z + _C0
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


def counter_uniform(seed: int, sample: int, step: int, index) -> np.ndarray:
    """Uniform [0, 1) numbers of the counter-based generator (lif_rules.h), vectorised."""
    index = np.asarray(index, dtype=np.uint64)
    h = _splitmix64(np.array([seed], dtype=np.uint64))
    h = _splitmix64(h ^ np.array([sample], dtype=np.uint64))
    h = _splitmix64(h ^ np.array([step], dtype=np.uint64))
    h = _splitmix64(h ^ index)
    return (h >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


_POP_KEYS = ("k_m", "v_rest", "v_th", "v_reset", "bias", "decay_e", "decay_i", "ref_steps", "clamp")


def _ranges(ptr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(ptr[i], ptr[i + 1])`` for ``i`` in ``idx``, in order."""
    starts = ptr[idx]
    lens = ptr[idx + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)


def _ap_gate(c, theta: float, width: float) -> np.ndarray:
    """lif_rules.h's ap_gate: +1 in the potentiation window, -1 in the depression one."""
    up = (c > theta) & (c < theta + width)
    down = (c < theta) & (c > theta - width)
    return np.where(up, 1, np.where(down, -1, 0))


def _stdp(w, sign, rc, ra, x_pre, y_post, s_post, s_pre, w_min, w_max, gate=None):
    if gate is None:
        dw = sign * (rc * x_pre * s_post - ra * y_post * s_pre)
    else:  # stdp_update_gated: a term passes where its sign is the gate's
        causal = sign * rc * x_pre * s_post
        anti = -sign * ra * y_post * s_pre
        dw = np.where(gate * causal > 0.0, causal, 0.0)
        dw = np.where(gate * anti > 0.0, dw + anti, dw)
    out = w + dw
    out = np.where(out < w_min, w_min, out)
    return np.where(out > w_max, w_max, out)


@dataclass(frozen=True)
class _Synapses:
    """Per-synapse constants, read from the projection table of the plan."""

    pre: np.ndarray
    post: np.ndarray  # postsynaptic neuron (0 = first LIF neuron)
    plastic: np.ndarray
    mirror: np.ndarray
    sign: np.ndarray  # -1 on mirrored (anti-Hebbian) projections
    w_min: np.ndarray
    w_max: np.ndarray
    gain: np.ndarray
    receptor: np.ndarray

    @classmethod
    def of(cls, p: dict) -> _Synapses:
        proj = p["syn_proj"]
        mirror = p["proj_mirror"][proj].astype(bool)
        return cls(
            pre=p["syn_pre"],
            post=p["syn_post"],
            plastic=p["proj_plastic"][proj].astype(bool),
            mirror=mirror,
            sign=np.where(mirror, -1.0, 1.0),
            w_min=p["proj_wmin"][proj],
            w_max=p["proj_wmax"][proj],
            gain=p["proj_gain"][proj],
            receptor=p["proj_receptor"][proj],
        )


@dataclass
class _State:
    """One sample's state between steps (lif.h's per-sample arrays)."""

    v: np.ndarray  # membrane potential
    ie: np.ndarray  # excitatory, inhibitory current and the jump of delta synapses
    ii: np.ndarray
    vj: np.ndarray
    ref: np.ndarray  # refractory steps left
    x: np.ndarray  # STDP presynaptic and postsynaptic traces, per unit
    y: np.ndarray
    buf: np.ndarray  # ring buffer of delayed input: (delay slot, neuron, receptor)
    rates: tuple  # STDP rates (potentiation, depression, astrocyte weight and bias)
    calcium: np.ndarray  # per neuron, the activity gate's rate estimate

    @classmethod
    def initial(cls, p: dict, b: int, calcium: np.ndarray) -> _State:
        n, units = p["n_neu"], p["n_src"] + p["n_neu"]
        return cls(
            v=p["v0"][b].copy(),
            ie=np.zeros(n),
            ii=np.zeros(n),
            vj=np.zeros(n),
            ref=np.zeros(n, dtype=np.int32),
            x=np.zeros(units),
            y=np.zeros(units),
            buf=np.zeros((p["max_delay"] + 1, n, 3)),
            rates=(p["rate_plus0"], p["rate_minus0"], p["astro_w"], p["astro_b"]),
            calcium=calcium,
        )


def _run_sample(p: dict, b: int, w: np.ndarray, calcium: np.ndarray) -> None:
    """Sample ``b`` for every step, in lif.h's order (the engine's module docstring);
    ``w`` and ``calcium`` change in place."""
    syn = _Synapses.of(p)
    # per-population constants, expanded to one value per neuron
    c = {k: p[k][p["neuron_pop"]] for k in _POP_KEYS}
    state = _State.initial(p, b, calcium)
    every = p["vrec_every"]
    for t in range(p["n_steps"]):
        if p["n_vrec"] and t % every == 0:
            p["vrec"][b, t // every] = state.v[p["vrec_idx"]]
        spiked = _spikes(p, b, t, state, c)
        units = np.flatnonzero(spiked)
        _count(p, b, t, units)
        out = _propagate(p, t, state, syn, w, units)
        if p["stdp_on"]:
            _plasticity(p, b, t, state, syn, w, spiked, units, out)
        _integrate(p, t, state, c)


def _spikes(p: dict, b: int, t: int, state: _State, c: dict) -> np.ndarray:
    """Steps 1 and 2: which units spike at step ``t`` (sources, then neurons, which are
    reset and made refractory)."""
    m, n_steps = p["n_src"], p["n_steps"]
    spiked = np.zeros(m + p["n_neu"], dtype=bool)
    src_p = p["src_p"][b]
    src_on = np.flatnonzero(src_p > 0.0)
    if src_on.size:
        u = counter_uniform(p["seed"], int(p["sample_ids"][b]), t, src_on)
        spiked[src_on] = u < src_p[src_on]
    if p.get("ev_ptr") is not None:
        e0, e1 = p["ev_ptr"][b * n_steps + t], p["ev_ptr"][b * n_steps + t + 1]
        spiked[p["ev_unit"][e0:e1]] = True
    fire = (state.ref == 0) & (state.v >= c["v_th"])
    state.v[fire] = c["v_reset"][fire]
    state.ref[fire] = c["ref_steps"][fire]
    spiked[m:] = fire
    return spiked


def _count(p: dict, b: int, t: int, units: np.ndarray) -> None:
    """Count the spikes and, where asked, record them (as far as the buffer has room)."""
    p["counts"][b, units] += 1
    if p["record_spikes"] and units.size:
        k0 = int(p["n_spikes"][b])
        room = max(0, min(units.size, p["spike_cap"] - k0))
        p["spike_step"][b, k0 : k0 + room] = t
        p["spike_unit"][b, k0 : k0 + room] = units[:room]
        p["n_spikes"][b] = k0 + units.size


def _propagate(p, t, state: _State, syn: _Synapses, w, units) -> np.ndarray:
    """Step 3: zero delay into the currents and jump now, the rest into the ring buffer;
    the outgoing synapses of ``units``."""
    out = _ranges(p["out_ptr"], units)
    if not out.size:
        return out
    n, slots = p["n_neu"], p["max_delay"] + 1
    x_syn = syn.gain[out] * w[out]
    d = p["syn_delay"][out] if p["max_delay"] > 0 else np.zeros(out.size, np.int64)
    now, later = d == 0, d > 0
    receptor, post = syn.receptor[out], syn.post[out]
    for r, target in ((0, state.ie), (1, state.ii), (2, state.vj)):
        sel = now & (receptor == r)
        np.add.at(target, post[sel], x_syn[sel])
    if later.any():
        slot = (t + d[later]) % slots
        flat = (slot * n + post[later]) * 3 + receptor[later]
        np.add.at(state.buf.reshape(-1), flat, x_syn[later])
    return out


def _plasticity(p, b, t, state: _State, syn: _Synapses, w, spiked, units, out) -> None:
    """Step 4: STDP on the plastic synapses into spiking neurons (potentiation side)
    and out of spiking units into silent ones, then the traces and rates decay."""
    m = p["n_src"]
    rp, rm, aw, ab = state.rates
    drive = float(p["astro_sign"][units].astype(np.float64).sum())
    if p["ap_on"]:
        state.calcium[:] = p["calcium_decay"] * state.calcium + spiked[m:].astype(np.float64)
    into = p["in_syn"][_ranges(p["in_ptr"], units[units >= m] - m)]
    into = into[syn.plastic[into]]
    out = out[syn.plastic[out] & ~spiked[m + syn.post[out]]]
    for s, post_spike in ((into, 1.0), (out, 0.0)):
        gate = None
        if p["ap_on"]:
            gate = _ap_gate(state.calcium[syn.post[s]], p["ap_theta"], p["ap_width"])
            s, gate = s[gate != 0], gate[gate != 0]  # outside both windows: no change
        if s.size:
            pre_spike = spiked[syn.pre[s]].astype(np.float64) if post_spike else 1.0
            rc = np.where(syn.mirror[s], rm, rp)
            ra = np.where(syn.mirror[s], rp, rm)
            w[s] = _stdp(
                w[s], syn.sign[s], rc, ra, state.x[syn.pre[s]], state.y[m + syn.post[s]],
                post_spike, pre_spike, syn.w_min[s], syn.w_max[s], gate,
            )  # fmt: skip
    sp = spiked.astype(np.float64)
    state.x = p["pre_decay"] * (state.x + p["pre_inc"] * sp)
    state.y = p["post_decay"] * (state.y + p["post_inc"] * sp)
    if p["astro_on"]:
        rm = rm + (aw * drive + ab - rm) / p["astro_tau"]
    if p["lr_decay"] != 1.0:
        rp, rm, aw, ab = (r * p["lr_decay"] for r in (rp, rm, aw, ab))
    state.rates = (rp, rm, aw, ab)
    if p.get("rate_trace") is not None:
        p["rate_trace"][b, t] = rm


def _integrate(p: dict, t: int, state: _State, c: dict) -> None:
    """Step 5: the membrane integrates the currents of this step, then they decay."""
    s = t % (p["max_delay"] + 1)
    # Adding a zero buffer leaves a value unchanged, so always adding it gives
    # the kernels' results whether or not they keep a buffer.
    cur_e = state.ie + state.buf[s, :, 0]
    cur_i = state.ii + state.buf[s, :, 1]
    jump = state.vj + state.buf[s, :, 2]
    state.vj[:] = 0.0
    held = (c["clamp"] != 0) & (state.ref > 1)  # lif_held
    v_new = state.v + c["k_m"] * (c["v_rest"] - state.v + cur_e + cur_i + c["bias"]) + jump
    state.v = np.where(held, state.v, v_new)
    state.ie = cur_e * c["decay_e"]
    state.ii = cur_i * c["decay_i"]
    state.ref = np.maximum(state.ref - 1, 0).astype(np.int32)
    state.buf[s] = 0.0


def lif_run_numpy(p: dict) -> None:
    """Run the plan ``p`` (outputs written in place), one sample after another."""
    B, S = p["n_samples"], p["n_syn"]
    plastic = bool(p["stdp_on"])
    if p["carry_weights"]:
        # the weights and the activity gate's calcium carry from sample to sample
        w = p["w0"].reshape(-1)[:S].copy()
        calcium = np.zeros(p["n_neu"])
        for b in range(B):
            _run_sample(p, b, w, calcium)
        if p.get("w_out") is not None:
            p["w_out"][...] = w
        return
    for b in range(B):
        w0 = p["w0"].reshape(-1, S)[b] if p["w0_per_sample"] else p["w0"].reshape(-1)[:S]
        w = w0.copy() if plastic else w0
        _run_sample(p, b, w, np.zeros(p["n_neu"]))
        if p.get("w_out") is not None:
            p["w_out"][b] = w
