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


@njit(cache=True, inline="always")
def _stdp(w, sign, rc, ra, x_pre, y_post, s_post, s_pre, w_min, w_max):
    dw = sign * (rc * x_pre * s_post - ra * y_post * s_pre)
    out = w + dw
    if out < w_min:
        out = w_min
    if out > w_max:
        out = w_max
    return out


@njit(cache=True)
def _fire(b, t, spiked, lst, M, T, src_p, useed, sid, has_events, ev_ptr, ev_unit,
          n_pop, pop_ptr, v_th, v_reset, ref_steps, v, ref):  # fmt: skip
    """Mark this step's spikes (sources, then neurons crossing threshold, which reset)
    in ``spiked`` and list them in ``lst``; returns how many."""
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
def _record(b, t, lst, n_list, counts, astro_sign, record_spikes, spike_cap, spike_step,
            spike_unit, n_spikes):  # fmt: skip
    """Count and record the listed spikes; returns the astrocyte's drive (signed count)."""
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
def _propagate(t, lst, n_list, w, out_ptr, syn_post, syn_proj, syn_delay, max_delay,
               proj_receptor, proj_gain, N, D1, buf, ie, ii, vj):  # fmt: skip
    """Deliver the listed spikes through their outgoing synapses (now, or into the
    delay buffer)."""
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
def _stdp_update(lst, n_list, spiked, w, M, x, y, rate_plus, rate_minus, out_ptr, in_ptr,
                 in_syn, syn_pre, syn_post, syn_proj, proj_plastic, proj_mirror, proj_wmin,
                 proj_wmax):  # fmt: skip
    """STDP of this step: synapses into neurons that spiked (with their presynaptic
    traces), then synapses out of spiking units into neurons that did not."""
    for a in range(n_list):
        u = lst[a]
        if u < M:
            continue
        i = u - M
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
            )
    for a in range(n_list):
        u = lst[a]
        for q in range(out_ptr[u], out_ptr[u + 1]):
            pr = syn_proj[q]
            post_unit = M + syn_post[q]
            if proj_plastic[pr] == 0 or spiked[post_unit]:
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
            )


@njit(cache=True)
def _traces(spiked, x, y, pre_decay, pre_inc, post_decay, post_inc):
    """Decay the STDP traces, after adding this step's spikes."""
    for u in range(x.size):
        sp = 1.0 if spiked[u] else 0.0
        x[u] = pre_decay * (x[u] + pre_inc * sp)
        y[u] = post_decay * (y[u] + post_inc * sp)


@njit(cache=True)
def _integrate(t, n_pop, pop_ptr, k_m, v_rest, bias, decay_e, decay_i, clamp, max_delay, N, D1,
               buf, ie, ii, vj, v, ref):  # fmt: skip
    """One Euler step of every membrane with this step's currents (delayed ones from
    the buffer), then the synaptic decay and the refractory countdown."""
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
def _run_sample(
    b, w, n_steps, n_src, n_neu, max_delay, n_pop, pop_ptr,
    k_m, v_rest, v_th, v_reset, bias, decay_e, decay_i, ref_steps, clamp, v0, astro_sign,
    out_ptr, syn_pre, syn_post, syn_proj, syn_delay, in_ptr, in_syn,
    proj_receptor, proj_gain, proj_wmin, proj_wmax, proj_plastic, proj_mirror,
    src_p, ev_ptr, ev_unit, has_events, seed, sample_ids,
    stdp_on, pre_decay, pre_inc, post_decay, post_inc, rate_plus0, rate_minus0,
    astro_on, astro_w0, astro_b0, astro_tau, lr_decay,
    counts, record_spikes, spike_cap, spike_step, spike_unit, n_spikes,
    n_vrec, vrec_every, vrec_idx, vrec, rate_trace, has_rate_trace,
):  # fmt: skip
    """Simulate sample ``b`` step by step, in the C++ kernel's order (``w`` is updated
    in place when STDP is on)."""
    M, N, T = n_src, n_neu, n_steps
    U = M + N
    D1 = max_delay + 1
    sid = np.uint64(sample_ids[b])
    useed = np.uint64(seed)
    v = v0[b].copy()
    ie = np.zeros(N)
    ii = np.zeros(N)
    vj = np.zeros(N)
    ref = np.zeros(N, dtype=np.int32)
    x = np.zeros(U)
    y = np.zeros(U)
    spiked = np.zeros(U, dtype=np.uint8)
    lst = np.empty(U, dtype=np.int32)
    buf = np.zeros(D1 * N * 3 if max_delay > 0 else 1)
    rate_plus, rate_minus, astro_w, astro_b = rate_plus0, rate_minus0, astro_w0, astro_b0

    for t in range(T):
        if n_vrec > 0 and t % vrec_every == 0:
            for k in range(n_vrec):
                vrec[b, t // vrec_every, k] = v[vrec_idx[k]]
        n_list = _fire(b, t, spiked, lst, M, T, src_p, useed, sid, has_events, ev_ptr, ev_unit,
                       n_pop, pop_ptr, v_th, v_reset, ref_steps, v, ref)  # fmt: skip
        drive = _record(b, t, lst, n_list, counts, astro_sign, record_spikes, spike_cap,
                        spike_step, spike_unit, n_spikes)  # fmt: skip
        _propagate(t, lst, n_list, w, out_ptr, syn_post, syn_proj, syn_delay, max_delay,
                   proj_receptor, proj_gain, N, D1, buf, ie, ii, vj)  # fmt: skip
        if stdp_on:
            _stdp_update(lst, n_list, spiked, w, M, x, y, rate_plus, rate_minus, out_ptr,
                         in_ptr, in_syn, syn_pre, syn_post, syn_proj, proj_plastic,
                         proj_mirror, proj_wmin, proj_wmax)  # fmt: skip
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
        _integrate(t, n_pop, pop_ptr, k_m, v_rest, bias, decay_e, decay_i, clamp, max_delay,
                   N, D1, buf, ie, ii, vj, v, ref)  # fmt: skip


def _args(p: dict, rate_trace, ev_ptr, ev_unit):
    return (
        p["n_steps"], p["n_src"], p["n_neu"], p["max_delay"], p["n_pop"], p["pop_ptr"],
        p["k_m"], p["v_rest"], p["v_th"], p["v_reset"], p["bias"], p["decay_e"], p["decay_i"],
        p["ref_steps"], p["clamp"], p["v0"], p["astro_sign"],
        p["out_ptr"], p["syn_pre"], p["syn_post"], p["syn_proj"], p["syn_delay"],
        p["in_ptr"], p["in_syn"],
        p["proj_receptor"], p["proj_gain"], p["proj_wmin"], p["proj_wmax"],
        p["proj_plastic"], p["proj_mirror"],
        p["src_p"], ev_ptr, ev_unit, ev_ptr.size > 1, np.uint64(p["seed"]), p["sample_ids"],
        p["stdp_on"], p["pre_decay"], p["pre_inc"], p["post_decay"], p["post_inc"],
        p["rate_plus0"], p["rate_minus0"], p["astro_on"], p["astro_w"], p["astro_b"],
        p["astro_tau"], p["lr_decay"],
        p["counts"], p["record_spikes"], p["spike_cap"], p["spike_step"], p["spike_unit"],
        p["n_spikes"], p["n_vrec"], p["vrec_every"], p["vrec_idx"], p["vrec"],
        rate_trace, p.get("rate_trace") is not None,
    )  # fmt: skip


@njit(cache=True, parallel=True)
def _run_parallel(w0, w0_per_sample, plastic, w_out, has_w_out, n_samples, n_syn, args):
    for b in prange(n_samples):
        src = w0[b] if w0_per_sample else w0[0]
        w = src.copy() if plastic else src
        _run_sample(b, w, *args)
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
        w = w0[0].copy()
        for b in range(B):
            _run_sample(b, w, *args)
        if p.get("w_out") is not None:
            p["w_out"][...] = w
        return
    has_w_out = p.get("w_out") is not None
    w_out = p["w_out"].reshape(B, S) if has_w_out else np.zeros((1, 1))
    _run_parallel(w0, bool(p["w0_per_sample"]), bool(p["stdp_on"]), w_out, has_w_out, B, S, args)
