// CPU kernel of the clock-driven LIF engine (see include/neurodyn/lif.h for the
// step order). One sample runs serially, so floating-point sums happen in the
// same order as in the NumPy reference; samples run in parallel with OpenMP.
#include <algorithm>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/lif.h"
#include "neurodyn/lif_rules.h"

namespace neurodyn {

namespace {

// Per-thread working state, allocated once per thread and reset per sample.
struct Work {
    std::vector<double> v, ie, ii, vj, x, y, buf;
    std::vector<double> calcium;  // AP-STDP's rate estimates, kept across samples when carrying
    std::vector<int32_t> ref;
    std::vector<uint8_t> spiked;
    std::vector<uint8_t> fire;  // neurons that will fire at the next step's threshold test
    std::vector<int32_t> list;  // units that spiked this step, ascending
    std::vector<double> w;      // private weights when plasticity is on

    explicit Work(const LifPlan &p) {
        const int64_t n_units = p.n_src + p.n_neu;
        v.resize(p.n_neu);
        ie.resize(p.n_neu);
        ii.resize(p.n_neu);
        vj.resize(p.n_neu);
        ref.resize(p.n_neu);
        x.resize(n_units);
        y.resize(n_units);
        spiked.resize(n_units);
        fire.resize(p.n_neu);
        if (p.ap_on) calcium.assign(p.n_neu, 0.0);
        list.reserve(n_units);
        // The ring buffer exists only when some synapse has a delay.
        if (p.max_delay > 0) buf.resize(static_cast<size_t>(p.max_delay + 1) * kNumReceptors * p.n_neu);
    }
};

// The membrane step of one population: a separate function with restrict
// pointers and no branches, so the compiler can vectorise it; on x86-64 an AVX2
// clone is picked at load time where the CPU has it (contraction stays off, so
// the clone rounds exactly like the SSE2 default).
template <bool delayed, bool delta>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
void integrate_range(int64_t n, double *__restrict v, double *__restrict ie, double *__restrict ii,
                     int32_t *__restrict ref, double *__restrict vj, double *__restrict buf,
                     uint8_t *__restrict fire, double k, double v_rest, double bias, double de,
                     double di, double v_th, bool clamp) {
    // Two passes: the membrane update vectorises on its own; the threshold test
    // of the next step, on the fresh V and ref still in L1, writes one byte each.
    // One instantiation per case, each a branch-free loop the compiler vectorises;
    // without delays or delta synapses a step touches only V, the two currents
    // and the refractory counter.
    for (int64_t i = 0; i < n; ++i) {
        double cur_e = ie[i], cur_i = ii[i], jump = 0.0;
        if constexpr (delta) {
            jump = vj[i];
            vj[i] = 0.0;
        }
        if constexpr (delayed) {
            double *b = buf + kNumReceptors * i;
            cur_e = cur_e + b[kReceptorE];
            cur_i = cur_i + b[kReceptorI];
            jump = jump + b[kReceptorDelta];
            b[kReceptorE] = 0.0;
            b[kReceptorI] = 0.0;
            b[kReceptorDelta] = 0.0;
        }
        const double v_new = lif_integrate(v[i], k, v_rest, cur_e, cur_i, bias, jump);
        v[i] = lif_held(clamp, ref[i]) ? v[i] : v_new;
        ie[i] = cur_e * de;
        ii[i] = cur_i * di;
        ref[i] = std::max(ref[i] - 1, 0);
    }
    for (int64_t i = 0; i < n; ++i)
        fire[i] = static_cast<uint8_t>(static_cast<int>(ref[i] == 0) & static_cast<int>(v[i] >= v_th));
}

void run_sample(const LifPlan &p, int64_t b, double *w, Work &s) {
    const int64_t M = p.n_src, N = p.n_neu, T = p.n_steps, U = M + N;
    const int64_t D1 = p.max_delay + 1;
    const uint64_t sid = static_cast<uint64_t>(p.sample_ids[b]);

    std::copy(p.v0 + b * N, p.v0 + (b + 1) * N, s.v.begin());
    std::fill(s.ie.begin(), s.ie.end(), 0.0);
    std::fill(s.ii.begin(), s.ii.end(), 0.0);
    std::fill(s.vj.begin(), s.vj.end(), 0.0);
    std::fill(s.ref.begin(), s.ref.end(), 0);
    std::fill(s.x.begin(), s.x.end(), 0.0);
    std::fill(s.y.begin(), s.y.end(), 0.0);
    std::fill(s.spiked.begin(), s.spiked.end(), 0);
    std::fill(s.buf.begin(), s.buf.end(), 0.0);
    if (!p.carry_weights) std::fill(s.calcium.begin(), s.calcium.end(), 0.0);

    double rate_plus = p.rate_plus0, rate_minus = p.rate_minus0;
    double astro_w = p.astro_w, astro_b = p.astro_b;
    int32_t *counts = p.counts + b * U;
    const double *src_p = p.src_p + b * M;
    const int64_t n_vt = (T + p.vrec_every - 1) / p.vrec_every;

    for (int64_t t = 0; t < T; ++t) {
        // 0. sampled membrane potential, before threshold
        if (p.n_vrec > 0 && t % p.vrec_every == 0) {
            double *row = p.vrec + (b * n_vt + t / p.vrec_every) * p.n_vrec;
            for (int64_t k = 0; k < p.n_vrec; ++k) row[k] = s.v[p.vrec_idx[k]];
        }
        s.list.clear();

        // 1. sources
        for (int64_t k = 0; k < M; ++k) {
            const double pk = src_p[k];
            if (pk > 0.0 && counter_uniform(p.seed, sid, static_cast<uint64_t>(t),
                                            static_cast<uint64_t>(k)) < pk)
                s.spiked[k] = 1;
        }
        if (p.ev_ptr != nullptr) {
            const int64_t e0 = p.ev_ptr[b * T + t], e1 = p.ev_ptr[b * T + t + 1];
            for (int64_t e = e0; e < e1; ++e) s.spiked[p.ev_unit[e]] = 1;
        }
        for (int64_t k = 0; k < M; ++k)
            if (s.spiked[k]) s.list.push_back(static_cast<int32_t>(k));

        // 2. neurons. The threshold test of step t > 0 was already made at the end
        //    of step t - 1 (nothing changes V or ref in between), inside the
        //    vectorised membrane loop; here only the few that fire are visited,
        //    skipping eight quiet neurons at a time.
        for (int64_t g = 0; g < p.n_pop; ++g) {
            const double v_th = p.v_th[g], v_reset = p.v_reset[g];
            const int32_t ref_steps = p.ref_steps[g];
            const int64_t i1 = p.pop_ptr[g + 1];
            for (int64_t i = p.pop_ptr[g]; i < i1; ++i) {
                if (t > 0 && i + 8 <= i1) {
                    uint64_t word;
                    std::memcpy(&word, s.fire.data() + i, sizeof(word));
                    if (word == 0) {
                        i += 7;
                        continue;
                    }
                }
                if (t > 0 ? s.fire[i] != 0 : lif_fires(s.v[i], v_th, s.ref[i])) {
                    s.v[i] = v_reset;
                    s.ref[i] = ref_steps;
                    s.spiked[M + i] = 1;
                    s.list.push_back(static_cast<int32_t>(M + i));
                }
            }
        }

        // record and count
        double drive = 0.0;
        for (int32_t u : s.list) {
            counts[u] += 1;
            drive += static_cast<double>(p.astro_sign[u]);
            if (p.record_spikes) {
                const int64_t k = p.n_spikes[b];
                if (k < p.spike_cap) {
                    p.spike_step[b * p.spike_cap + k] = static_cast<int32_t>(t);
                    p.spike_unit[b * p.spike_cap + k] = u;
                }
                p.n_spikes[b] = k + 1;
            }
        }

        // 3. propagate: zero-delay input goes straight into the currents (or the
        //    potential's jump), delayed input into the ring buffer slot it is due in.
        for (int32_t u : s.list) {
            for (int64_t q = p.out_ptr[u]; q < p.out_ptr[u + 1]; ++q) {
                const int32_t pr = p.syn_proj[q];
                const int32_t post = p.syn_post[q];
                const int32_t rec = p.proj_receptor[pr];
                const double x = p.proj_gain[pr] * w[q];
                const int64_t d = p.max_delay > 0 ? p.syn_delay[q] : 0;
                if (d > 0) {
                    s.buf[(((t + d) % D1) * N + post) * kNumReceptors + rec] += x;
                } else if (rec == kReceptorE) {
                    s.ie[post] += x;
                } else if (rec == kReceptorI) {
                    s.ii[post] += x;
                } else {
                    s.vj[post] += x;
                }
            }
        }

        // 4. STDP: first every plastic synapse onto a spiking neuron, then those out
        //    of a spiking unit whose target did not spike (so none is updated twice).
        if (p.stdp_on) {
            if (p.ap_on)
                for (int64_t i = 0; i < N; ++i)
                    s.calcium[i] = calcium_update(s.calcium[i], p.calcium_decay,
                                                  s.spiked[M + i] ? 1.0 : 0.0);
            for (int32_t u : s.list) {
                if (u < M) continue;
                const int64_t i = u - M;
                const int gate = p.ap_on ? ap_gate(s.calcium[i], p.ap_theta, p.ap_width) : 0;
                if (p.ap_on && gate == 0) continue;
                for (int64_t r = p.in_ptr[i]; r < p.in_ptr[i + 1]; ++r) {
                    const int64_t q = p.in_syn[r];
                    const int32_t pr = p.syn_proj[q];
                    if (!p.proj_plastic[pr]) continue;
                    const int32_t j = p.syn_pre[q];
                    const bool m = p.proj_mirror[pr] != 0;
                    const double rc = m ? rate_minus : rate_plus, ra = m ? rate_plus : rate_minus;
                    const double sg = m ? -1.0 : 1.0, s_pre = s.spiked[j] ? 1.0 : 0.0;
                    w[q] = p.ap_on ? stdp_update_gated(w[q], sg, rc, ra, s.x[j], s.y[u], 1.0, s_pre,
                                                       p.proj_wmin[pr], p.proj_wmax[pr], gate)
                                   : stdp_update(w[q], sg, rc, ra, s.x[j], s.y[u], 1.0, s_pre,
                                                 p.proj_wmin[pr], p.proj_wmax[pr]);
                }
            }
            for (int32_t u : s.list) {
                for (int64_t q = p.out_ptr[u]; q < p.out_ptr[u + 1]; ++q) {
                    const int32_t pr = p.syn_proj[q];
                    const int32_t post = p.syn_post[q];
                    const int64_t post_unit = M + post;
                    if (!p.proj_plastic[pr] || s.spiked[post_unit]) continue;
                    const bool m = p.proj_mirror[pr] != 0;
                    const double rc = m ? rate_minus : rate_plus, ra = m ? rate_plus : rate_minus;
                    const double sg = m ? -1.0 : 1.0;
                    if (p.ap_on) {
                        const int gate = ap_gate(s.calcium[post], p.ap_theta, p.ap_width);
                        if (gate != 0)
                            w[q] = stdp_update_gated(w[q], sg, rc, ra, s.x[u], s.y[post_unit], 0.0,
                                                     1.0, p.proj_wmin[pr], p.proj_wmax[pr], gate);
                    } else {
                        w[q] = stdp_update(w[q], sg, rc, ra, s.x[u], s.y[post_unit], 0.0, 1.0,
                                           p.proj_wmin[pr], p.proj_wmax[pr]);
                    }
                }
            }
            // 5. traces, astrocyte, learning-rate decay
            for (int64_t u = 0; u < U; ++u) {
                const double sp = s.spiked[u] ? 1.0 : 0.0;
                s.x[u] = trace_update(s.x[u], p.pre_decay, p.pre_inc, sp);
                s.y[u] = trace_update(s.y[u], p.post_decay, p.post_inc, sp);
            }
            if (p.astro_on) rate_minus = astro_update(rate_minus, astro_w, astro_b, p.astro_tau, drive);
            if (p.lr_decay != 1.0) {
                rate_plus = rate_plus * p.lr_decay;
                rate_minus = rate_minus * p.lr_decay;
                astro_w = astro_w * p.lr_decay;
                astro_b = astro_b * p.lr_decay;
            }
            if (p.rate_trace != nullptr) p.rate_trace[b * T + t] = rate_minus;
        }
        for (int32_t u : s.list) s.spiked[u] = 0;

        // 6. integrate
        double *slot = p.max_delay > 0 ? s.buf.data() + (t % D1) * N * kNumReceptors : nullptr;
        for (int64_t g = 0; g < p.n_pop; ++g) {
            const int64_t i0 = p.pop_ptr[g], i1 = p.pop_ptr[g + 1];
            auto *step = p.max_delay > 0 ? (p.has_delta ? &integrate_range<true, true>
                                                        : &integrate_range<true, false>)
                                         : (p.has_delta ? &integrate_range<false, true>
                                                        : &integrate_range<false, false>);
            step(i1 - i0, s.v.data() + i0, s.ie.data() + i0, s.ii.data() + i0, s.ref.data() + i0,
                 s.vj.data() + i0, slot != nullptr ? slot + kNumReceptors * i0 : nullptr,
                 s.fire.data() + i0, p.k_m[g], p.v_rest[g], p.bias[g], p.decay_e[g],
                 p.decay_i[g], p.v_th[g], p.clamp[g] != 0);
        }
    }
}

}  // namespace

bool cpu_has_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

int cpu_max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void lif_run_cpu(const LifPlan &p) {
    const bool plastic = p.stdp_on != 0;
    if (p.carry_weights) {
        // Sequential: each sample starts from the weights the previous one left.
        Work s(p);
        std::vector<double> w(p.w0, p.w0 + p.n_syn);
        for (int64_t b = 0; b < p.n_samples; ++b) run_sample(p, b, w.data(), s);
        if (p.w_out != nullptr) std::copy(w.begin(), w.end(), p.w_out);
        return;
    }
    int n_threads = p.num_threads > 0 ? p.num_threads : cpu_max_threads();
    if (n_threads > p.n_samples) n_threads = static_cast<int>(std::max<int64_t>(p.n_samples, 1));
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
#endif
    {
        Work s(p);
        if (plastic && p.w_out == nullptr) s.w.resize(p.n_syn);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t b = 0; b < p.n_samples; ++b) {
            const double *w0 = p.w0_per_sample ? p.w0 + b * p.n_syn : p.w0;
            double *w;
            if (!plastic) {
                // Never written when plasticity is off.
                w = const_cast<double *>(w0);
            } else {
                w = p.w_out != nullptr ? p.w_out + b * p.n_syn : s.w.data();
                std::memcpy(w, w0, sizeof(double) * p.n_syn);
            }
            run_sample(p, b, w, s);
            if (!plastic && p.w_out != nullptr)
                std::memcpy(p.w_out + b * p.n_syn, w0, sizeof(double) * p.n_syn);
        }
    }
}

}  // namespace neurodyn
