"""The NumPy reference of the LIF engine: slow, obvious, and the ground truth.

It follows csrc/include/neurodyn/lif.h step by step, vectorised over neurons
and synapses within one step, and evaluates the rules of lif_rules.h with the
same operands in the same order, so the compiled backends must match it spike
for spike. ``np.add.at`` accumulates in index order, which is the order the CPU
kernel pushes synaptic input in.
"""

from __future__ import annotations

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


def _stdp(w, sign, rc, ra, x_pre, y_post, s_post, s_pre, w_min, w_max):
    dw = sign * (rc * x_pre * s_post - ra * y_post * s_pre)
    out = w + dw
    out = np.where(out < w_min, w_min, out)
    return np.where(out > w_max, w_max, out)


def _run_sample(p: dict, b: int, w: np.ndarray) -> None:
    M, N, T = p["n_src"], p["n_neu"], p["n_steps"]
    U, D1 = M + N, p["max_delay"] + 1
    sid = int(p["sample_ids"][b])
    v = p["v0"][b].copy()
    ie, ii, vj = np.zeros(N), np.zeros(N), np.zeros(N)
    ref = np.zeros(N, dtype=np.int32)
    x, y = np.zeros(U), np.zeros(U)
    buf = np.zeros((D1, N, 3))
    buf_flat = buf.reshape(-1)
    rp, rm, aw, ab = p["rate_plus0"], p["rate_minus0"], p["astro_w"], p["astro_b"]
    src_p = p["src_p"][b]
    src_on = np.flatnonzero(src_p > 0.0)
    proj, post, pre = p["syn_proj"], p["syn_post"], p["syn_pre"]
    plastic = p["proj_plastic"][proj].astype(bool)
    mirror = p["proj_mirror"][proj].astype(bool)
    sign = np.where(mirror, -1.0, 1.0)
    wmin, wmax = p["proj_wmin"][proj], p["proj_wmax"][proj]
    gain, receptor = p["proj_gain"][proj], p["proj_receptor"][proj]
    every = p["vrec_every"]
    # per-population constants, expanded to one value per neuron
    c = {k: p[k][p["neuron_pop"]] for k in _POP_KEYS}

    for t in range(T):
        if p["n_vrec"] and t % every == 0:
            p["vrec"][b, t // every] = v[p["vrec_idx"]]
        S = np.zeros(U, dtype=bool)
        if src_on.size:
            u = counter_uniform(p["seed"], sid, t, src_on)
            S[src_on] = u < src_p[src_on]
        if p.get("ev_ptr") is not None:
            e0, e1 = p["ev_ptr"][b * T + t], p["ev_ptr"][b * T + t + 1]
            S[p["ev_unit"][e0:e1]] = True
        fire = (ref == 0) & (v >= c["v_th"])
        v[fire] = c["v_reset"][fire]
        ref[fire] = c["ref_steps"][fire]
        S[M:] = fire
        units = np.flatnonzero(S)
        p["counts"][b, units] += 1
        drive = float(p["astro_sign"][units].astype(np.float64).sum())
        if p["record_spikes"] and units.size:
            k0 = int(p["n_spikes"][b])
            room = max(0, min(units.size, p["spike_cap"] - k0))
            p["spike_step"][b, k0 : k0 + room] = t
            p["spike_unit"][b, k0 : k0 + room] = units[:room]
            p["n_spikes"][b] = k0 + units.size

        # propagate: zero delay into the currents/jump now, the rest into the ring buffer
        syn = _ranges(p["out_ptr"], units)
        if syn.size:
            x_syn = gain[syn] * w[syn]
            d = p["syn_delay"][syn] if p["max_delay"] > 0 else np.zeros(syn.size, np.int64)
            now, later = d == 0, d > 0
            for r, target in ((0, ie), (1, ii), (2, vj)):
                sel = now & (receptor[syn] == r)
                np.add.at(target, post[syn][sel], x_syn[sel])
            if later.any():
                slot = (t + d[later]) % D1
                flat = (slot * N + post[syn][later]) * 3 + receptor[syn][later]
                np.add.at(buf_flat, flat, x_syn[later])

        if p["stdp_on"]:
            posts = units[units >= M] - M
            s1 = p["in_syn"][_ranges(p["in_ptr"], posts)]
            s1 = s1[plastic[s1]]
            if s1.size:
                rc = np.where(mirror[s1], rm, rp)
                ra = np.where(mirror[s1], rp, rm)
                w[s1] = _stdp(
                    w[s1],
                    sign[s1],
                    rc,
                    ra,
                    x[pre[s1]],
                    y[M + post[s1]],
                    1.0,
                    S[pre[s1]].astype(np.float64),
                    wmin[s1],
                    wmax[s1],
                )
            s2 = syn[plastic[syn] & ~S[M + post[syn]]]
            if s2.size:
                rc = np.where(mirror[s2], rm, rp)
                ra = np.where(mirror[s2], rp, rm)
                w[s2] = _stdp(
                    w[s2],
                    sign[s2],
                    rc,
                    ra,
                    x[pre[s2]],
                    y[M + post[s2]],
                    0.0,
                    1.0,
                    wmin[s2],
                    wmax[s2],
                )
            sp = S.astype(np.float64)
            x = p["pre_decay"] * (x + p["pre_inc"] * sp)
            y = p["post_decay"] * (y + p["post_inc"] * sp)
            if p["astro_on"]:
                rm = rm + (aw * drive + ab - rm) / p["astro_tau"]
            if p["lr_decay"] != 1.0:
                rp, rm, aw, ab = (r * p["lr_decay"] for r in (rp, rm, aw, ab))
            if p.get("rate_trace") is not None:
                p["rate_trace"][b, t] = rm

        # integrate
        s = t % D1
        # Adding a zero buffer leaves a value unchanged, so always adding it gives
        # the kernels' results whether or not they keep a buffer.
        cur_e = ie + buf[s, :, 0]
        cur_i = ii + buf[s, :, 1]
        jump = vj + buf[s, :, 2]
        vj[:] = 0.0
        held = (c["clamp"] != 0) & (ref > 1)  # lif_held
        v_new = v + c["k_m"] * (c["v_rest"] - v + cur_e + cur_i + c["bias"]) + jump
        v = np.where(held, v, v_new)
        ie = cur_e * c["decay_e"]
        ii = cur_i * c["decay_i"]
        ref = np.maximum(ref - 1, 0).astype(np.int32)
        buf[s] = 0.0


def lif_run_numpy(p: dict) -> None:
    """Run the plan ``p`` (outputs written in place), one sample after another."""
    B, S = p["n_samples"], p["n_syn"]
    plastic = bool(p["stdp_on"])
    if p["carry_weights"]:
        w = p["w0"].reshape(-1)[:S].copy()
        for b in range(B):
            _run_sample(p, b, w)
        if p.get("w_out") is not None:
            p["w_out"][...] = w
        return
    for b in range(B):
        w0 = p["w0"].reshape(-1, S)[b] if p["w0_per_sample"] else p["w0"].reshape(-1)[:S]
        w = w0.copy() if plastic else w0
        _run_sample(p, b, w)
        if p.get("w_out") is not None:
            p["w_out"][b] = w
