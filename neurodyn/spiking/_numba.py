"""Numba kernels of the LIF engine: a line-by-line port of csrc/cpu/lif_cpu.cpp.

Used when the compiled extension is missing, and compared with the NumPy
reference in the tests. Samples run in parallel (``prange``); inside a sample
everything is serial, in the C++ kernel's order, so results match bit for bit.
Numba does not fuse multiply-adds without ``fastmath``, which stays off.

Integer constants of the generator are typed ``uint64`` explicitly: Numba turns
``uint64 op int64`` into float64, which would silently break the hash.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["lif_run_numba"]

_C0 = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@njit(cache=True, inline="always")
def _splitmix64(z):
    z = z + _C0
    z = (z ^ (z >> _S30)) * _C1
    z = (z ^ (z >> _S27)) * _C2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _uniform(seed, sample, step, index):
    h = _splitmix64(seed)
    h = _splitmix64(h ^ sample)
    h = _splitmix64(h ^ step)
    h = _splitmix64(h ^ index)
    return np.float64(h >> _S11) * (1.0 / 9007199254740992.0)


#: The gate value of plain STDP (every term passes), beside AP-STDP's -1, 0 and +1.
_UNGATED = 2


@njit(cache=True, inline="always")
def _ap_gate(c, theta, width):
    if c > theta and c < theta + width:
        return 1
    if c < theta and c > theta - width:
        return -1
    return 0


@njit(cache=True, inline="always")
def _stdp(w, sign, rc, ra, x_pre, y_post, s_post, s_pre, w_min, w_max, gate):
    if gate == _UNGATED:
        dw = sign * (rc * x_pre * s_post - ra * y_post * s_pre)
    else:  # lif_rules.h's stdp_update_gated
        causal = sign * rc * x_pre * s_post
        anti = -sign * ra * y_post * s_pre
        dw = 0.0
        if gate * causal > 0.0:
            dw = dw + causal
        if gate * anti > 0.0:
            dw = dw + anti
    out = w + dw
    if out < w_min:
        out = w_min
    if out > w_max:
        out = w_max
    return out


@njit(cache=True)
def _fire(b, t, spiked, lst, v, ref, dims, neurons, inputs):
    """Mark this step's spikes (sources, then neurons crossing threshold, which reset)
    in ``spiked`` and list them in ``lst``; returns how many."""
    T, M = dims[0], dims[1]
    n_pop, pop_ptr, v_th, v_reset, ref_steps = (
        neurons[0],
        neurons[1],
        neurons[4],
        neurons[5],
        neurons[9],
    )
    src_p, ev_ptr, ev_unit, has_events, seed, sample_ids = inputs
    useed = np.uint64(seed)
    sid = np.uint64(sample_ids[b])
    n_list = 0
    for k in range(M):
        pk = src_p[b, k]
        if pk > 0.0 and _uniform(useed, sid, np.uint64(t), np.uint64(k)) < pk:
            spiked[k] = 1
    if has_events:
        for e in range(ev_ptr[b * T + t], ev_ptr[b * T + t + 1]):
            spiked[ev_unit[e]] = 1
    for k in range(M):
        if spiked[k]:
            lst[n_list] = k
            n_list += 1
    for g in range(n_pop):
        th, reset, rs = v_th[g], v_reset[g], ref_steps[g]
        for i in range(pop_ptr[g], pop_ptr[g + 1]):
            if ref[i] == 0 and v[i] >= th:
                v[i] = reset
                ref[i] = rs
                spiked[M + i] = 1
                lst[n_list] = M + i
                n_list += 1
    return n_list


@njit(cache=True)
def _record(b, t, lst, n_list, astro_sign, outputs):
    """Count and record the listed spikes; returns the astrocyte's drive (signed count)."""
    counts, record_spikes, spike_cap, spike_step, spike_unit, n_spikes = outputs[:6]
    drive = 0.0
    for a in range(n_list):
        u = lst[a]
        counts[b, u] += 1
        drive += np.float64(astro_sign[u])
        if record_spikes:
            k = n_spikes[b]
            if k < spike_cap:
                spike_step[b, k] = t
                spike_unit[b, k] = u
            n_spikes[b] = k + 1
    return drive


@njit(cache=True)
def _propagate(t, lst, n_list, w, dims, synapses, buf, ie, ii, vj):
    """Deliver the listed spikes through their outgoing synapses (now, or into the
    delay buffer)."""
    N, max_delay = dims[2], dims[3]
    D1 = max_delay + 1
    out_ptr, syn_post, syn_proj, syn_delay = synapses[0], synapses[2], synapses[3], synapses[4]
    proj_receptor, proj_gain = synapses[7], synapses[8]
    for a in range(n_list):
        u = lst[a]
        for q in range(out_ptr[u], out_ptr[u + 1]):
            pr = syn_proj[q]
            post = syn_post[q]
            rec = proj_receptor[pr]
            xq = proj_gain[pr] * w[q]
            d = syn_delay[q] if max_delay > 0 else 0
            if d > 0:
                buf[(((t + d) % D1) * N + post) * 3 + rec] += xq
            elif rec == 0:
                ie[post] += xq
            elif rec == 1:
                ii[post] += xq
            else:
                vj[post] += xq


@njit(cache=True)
def _stdp_update(lst, n_list, spiked, w, M, x, y, rate_plus, rate_minus, synapses, calcium, ap):
    """STDP of this step: synapses into neurons that spiked (with their presynaptic
    traces), then synapses out of spiking units into neurons that did not; with the
    activity gate on (``ap = (on, theta, width)``) each postsynaptic neuron's calcium
    gates its synapses."""
    out_ptr, syn_pre, syn_post, syn_proj, _, in_ptr, in_syn = synapses[:7]
    proj_wmin, proj_wmax, proj_plastic, proj_mirror = synapses[9:]
    ap_on, ap_theta, ap_width = ap
    for a in range(n_list):
        u = lst[a]
        if u < M:
            continue
        i = u - M
        gate = _ap_gate(calcium[i], ap_theta, ap_width) if ap_on else _UNGATED
        if gate == 0:
            continue
        for r in range(in_ptr[i], in_ptr[i + 1]):
            q = in_syn[r]
            pr = syn_proj[q]
            if proj_plastic[pr] == 0:
                continue
            j = syn_pre[q]
            m = proj_mirror[pr] != 0
            w[q] = _stdp(
                w[q],
                -1.0 if m else 1.0,
                rate_minus if m else rate_plus,
                rate_plus if m else rate_minus,
                x[j],
                y[u],
                1.0,
                1.0 if spiked[j] else 0.0,
                proj_wmin[pr],
                proj_wmax[pr],
                gate,
            )
    for a in range(n_list):
        u = lst[a]
        for q in range(out_ptr[u], out_ptr[u + 1]):
            pr = syn_proj[q]
            post = syn_post[q]
            post_unit = M + post
            if proj_plastic[pr] == 0 or spiked[post_unit]:
                continue
            gate = _ap_gate(calcium[post], ap_theta, ap_width) if ap_on else _UNGATED
            if gate == 0:
                continue
            m = proj_mirror[pr] != 0
            w[q] = _stdp(
                w[q],
                -1.0 if m else 1.0,
                rate_minus if m else rate_plus,
                rate_plus if m else rate_minus,
                x[u],
                y[post_unit],
                0.0,
                1.0,
                proj_wmin[pr],
                proj_wmax[pr],
                gate,
            )


@njit(cache=True)
def _traces(spiked, x, y, pre_decay, pre_inc, post_decay, post_inc):
    """Decay the STDP traces, after adding this step's spikes."""
    for u in range(x.size):
        sp = 1.0 if spiked[u] else 0.0
        x[u] = pre_decay * (x[u] + pre_inc * sp)
        y[u] = post_decay * (y[u] + post_inc * sp)


@njit(cache=True)
def _integrate(t, dims, neurons, buf, ie, ii, vj, v, ref):
    """One Euler step of every membrane with this step's currents (delayed ones from
    the buffer), then the synaptic decay and the refractory countdown."""
    N, max_delay = dims[2], dims[3]
    D1 = max_delay + 1
    n_pop, pop_ptr, k_m, v_rest = neurons[:4]
    bias, decay_e, decay_i, _, clamp = neurons[6:11]
    base = (t % D1) * N * 3
    for g in range(n_pop):
        k, rest, bs, de, di = k_m[g], v_rest[g], bias[g], decay_e[g], decay_i[g]
        cl = clamp[g] != 0
        for i in range(pop_ptr[g], pop_ptr[g + 1]):
            cur_e = ie[i]
            cur_i = ii[i]
            jump = vj[i]
            vj[i] = 0.0
            if max_delay > 0:
                o = base + 3 * i
                cur_e = cur_e + buf[o]
                cur_i = cur_i + buf[o + 1]
                jump = jump + buf[o + 2]
                buf[o] = 0.0
                buf[o + 1] = 0.0
                buf[o + 2] = 0.0
            if not (cl and ref[i] > 1):  # lif_held
                v[i] = v[i] + k * (rest - v[i] + cur_e + cur_i + bs) + jump
            ie[i] = cur_e * de
            ii[i] = cur_i * di
            ref[i] = ref[i] - 1 if ref[i] > 0 else 0


@njit(cache=True)
def _run_sample(b, w, calcium, dims, neurons, synapses, inputs, plasticity, outputs):
    """Simulate sample ``b`` step by step, in the C++ kernel's order (``w`` and, with
    the activity gate, the neurons' ``calcium`` are updated in place when STDP is on).
    The other arguments are the groups of :func:`_args`."""
    T, M, N, max_delay = dims[0], dims[1], dims[2], dims[3]
    U = M + N
    v = neurons[11][b].copy()
    ie = np.zeros(N)
    ii = np.zeros(N)
    vj = np.zeros(N)
    ref = np.zeros(N, dtype=np.int32)
    x = np.zeros(U)
    y = np.zeros(U)
    spiked = np.zeros(U, dtype=np.uint8)
    lst = np.empty(U, dtype=np.int32)
    buf = np.zeros((max_delay + 1) * N * 3 if max_delay > 0 else 1)
    stdp_on, pre_decay, pre_inc, post_decay, post_inc = plasticity[:5]
    rate_plus, rate_minus, astro_on, astro_w, astro_b, astro_tau, lr_decay = plasticity[5:12]
    ap_on, ap_theta, ap_width, calcium_decay = plasticity[12:]
    ap = (ap_on != 0, ap_theta, ap_width)
    n_vrec, vrec_every, vrec_idx, vrec, rate_trace, has_rate_trace = outputs[6:]

    for t in range(T):
        if n_vrec > 0 and t % vrec_every == 0:
            for k in range(n_vrec):
                vrec[b, t // vrec_every, k] = v[vrec_idx[k]]
        n_list = _fire(b, t, spiked, lst, v, ref, dims, neurons, inputs)
        drive = _record(b, t, lst, n_list, neurons[12], outputs)
        _propagate(t, lst, n_list, w, dims, synapses, buf, ie, ii, vj)
        if stdp_on:
            if ap_on:
                for i in range(N):
                    calcium[i] = calcium_decay * calcium[i] + (1.0 if spiked[M + i] else 0.0)
            _stdp_update(
                lst, n_list, spiked, w, M, x, y, rate_plus, rate_minus, synapses, calcium, ap
            )
            _traces(spiked, x, y, pre_decay, pre_inc, post_decay, post_inc)
            if astro_on:
                rate_minus = rate_minus + (astro_w * drive + astro_b - rate_minus) / astro_tau
            if lr_decay != 1.0:
                rate_plus = rate_plus * lr_decay
                rate_minus = rate_minus * lr_decay
                astro_w = astro_w * lr_decay
                astro_b = astro_b * lr_decay
            if has_rate_trace:
                rate_trace[b, t] = rate_minus
        for a in range(n_list):
            spiked[lst[a]] = 0
        _integrate(t, dims, neurons, buf, ie, ii, vj, v, ref)


def _group(p: dict, names: str) -> tuple:
    return tuple(p[k] for k in names.split())


def _args(p: dict, rate_trace, ev_ptr, ev_unit) -> tuple:
    """The plan's arrays and scalars for :func:`_run_sample`, in six groups: sizes,
    neurons, synapses, inputs, plasticity and outputs."""
    # an array: a parallel loop takes no tuple of scalars among its arguments
    dims = np.array(_group(p, "n_steps n_src n_neu max_delay"), dtype=np.int64)
    neurons = _group(
        p,
        "n_pop pop_ptr k_m v_rest v_th v_reset bias decay_e decay_i ref_steps clamp v0 astro_sign",
    )
    synapses = _group(
        p,
        "out_ptr syn_pre syn_post syn_proj syn_delay in_ptr in_syn proj_receptor proj_gain "
        "proj_wmin proj_wmax proj_plastic proj_mirror",
    )
    has_events = ev_ptr.size > 1
    inputs = (p["src_p"], ev_ptr, ev_unit, has_events, np.uint64(p["seed"]), p["sample_ids"])
    plasticity = _group(
        p,
        "stdp_on pre_decay pre_inc post_decay post_inc rate_plus0 rate_minus0 astro_on astro_w "
        "astro_b astro_tau lr_decay ap_on ap_theta ap_width calcium_decay",
    )
    outputs = (
        *_group(p, "counts record_spikes spike_cap spike_step spike_unit n_spikes"),
        *_group(p, "n_vrec vrec_every vrec_idx vrec"),
        rate_trace,
        p.get("rate_trace") is not None,
    )
    return dims, neurons, synapses, inputs, plasticity, outputs


@njit(cache=True, parallel=True)
def _run_parallel(w0, w0_per_sample, plastic, w_out, has_w_out, n_samples, n_syn, args):
    # a parallel loop takes flat tuples, not a tuple of them: unpack the groups first
    dims, neurons, synapses, inputs, plasticity, outputs = args
    for b in prange(n_samples):
        src = w0[b] if w0_per_sample else w0[0]
        w = src.copy() if plastic else src
        calcium = np.zeros(dims[2])
        _run_sample(b, w, calcium, dims, neurons, synapses, inputs, plasticity, outputs)
        if has_w_out:
            w_out[b, :] = w


def lif_run_numba(p: dict) -> None:
    """Run the plan ``p`` with the Numba kernels (outputs written in place)."""
    B, S = p["n_samples"], p["n_syn"]
    rate_trace = p["rate_trace"] if p.get("rate_trace") is not None else np.zeros((1, 1))
    ev_ptr = p["ev_ptr"] if p.get("ev_ptr") is not None else np.zeros(1, dtype=np.int64)
    ev_unit = p["ev_unit"] if p.get("ev_unit") is not None else np.zeros(1, dtype=np.int32)
    args = _args(p, rate_trace, ev_ptr, ev_unit)
    w0 = p["w0"].reshape(-1, S) if S else np.zeros((1, 0))
    if p["carry_weights"]:
        # the weights and, with the activity gate, the calcium carry from sample to sample
        w = w0[0].copy()
        calcium = np.zeros(p["n_neu"])
        for b in range(B):
            _run_sample(b, w, calcium, *args)
        if p.get("w_out") is not None:
            p["w_out"][...] = w
        return
    has_w_out = p.get("w_out") is not None
    w_out = p["w_out"].reshape(B, S) if has_w_out else np.zeros((1, 1))
    _run_parallel(w0, bool(p["w0_per_sample"]), bool(p["stdp_on"]), w_out, has_w_out, B, S, args)
