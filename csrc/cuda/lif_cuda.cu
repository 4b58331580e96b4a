// CUDA kernel of the clock-driven LIF engine. One thread block simulates one
// sample; threads stride over neurons, units and (for propagation and STDP)
// over postsynaptic neurons, each of which *pulls* its incoming synapses in
// ascending presynaptic order. Pulling keeps every floating-point sum in the
// order the CPU kernel uses (no atomics on doubles), so with --fmad=false the
// GPU produces the CPU's spikes exactly; it costs a pass over all synapses per
// step, which a GPU affords.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "neurodyn/lif.h"
#include "neurodyn/lif_rules.h"

namespace neurodyn {

namespace {

struct DeviceWork {
    double *v, *ie, *ii, *vj, *x, *y, *buf;
    double *calcium;  // AP-STDP's rate estimates; kept from launch to launch when carrying
    int32_t *ref;
    uint8_t *spiked;
};

__global__ void lif_kernel(LifPlan p, DeviceWork work, double *w_all, int64_t b_offset,
                           int w_shared) {
    const int64_t b = blockIdx.x + b_offset;
    const int64_t wb = blockIdx.x;  // work slot of this block
    const int64_t M = p.n_src, N = p.n_neu, T = p.n_steps, U = M + N;
    const int64_t D1 = p.max_delay + 1;
    const uint64_t sid = static_cast<uint64_t>(p.sample_ids[b]);

    double *v = work.v + wb * N, *ie = work.ie + wb * N, *ii = work.ii + wb * N;
    double *vj = work.vj + wb * N;
    double *calcium = work.calcium + wb * N;
    double *x = work.x + wb * U, *y = work.y + wb * U;
    double *buf = work.buf + wb * D1 * kNumReceptors * N;
    int32_t *ref = work.ref + wb * N;
    uint8_t *spiked = work.spiked + wb * U;
    double *w = w_shared ? w_all : w_all + wb * p.n_syn;
    int32_t *counts = p.counts + b * U;
    const double *src_p = p.src_p + b * M;
    const int64_t n_vt = (T + p.vrec_every - 1) / p.vrec_every;

    __shared__ double rates[4];  // rate_plus, rate_minus, astro_w, astro_b
    __shared__ int drive;

    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
        v[i] = p.v0[b * N + i];
        ie[i] = 0.0;
        ii[i] = 0.0;
        vj[i] = 0.0;
        ref[i] = 0;
        if (!p.carry_weights) calcium[i] = 0.0;
    }
    for (int64_t u = threadIdx.x; u < U; u += blockDim.x) {
        x[u] = 0.0;
        y[u] = 0.0;
        spiked[u] = 0;
    }
    for (int64_t k = threadIdx.x; k < D1 * kNumReceptors * N; k += blockDim.x) buf[k] = 0.0;
    if (threadIdx.x == 0) {
        rates[0] = p.rate_plus0;
        rates[1] = p.rate_minus0;
        rates[2] = p.astro_w;
        rates[3] = p.astro_b;
    }
    __syncthreads();

    for (int64_t t = 0; t < T; ++t) {
        if (threadIdx.x == 0) drive = 0;
        if (p.n_vrec > 0 && t % p.vrec_every == 0) {
            double *row = p.vrec + (b * n_vt + t / p.vrec_every) * p.n_vrec;
            for (int64_t k = threadIdx.x; k < p.n_vrec; k += blockDim.x) row[k] = v[p.vrec_idx[k]];
        }
        // 1. sources
        for (int64_t k = threadIdx.x; k < M; k += blockDim.x) {
            const double pk = src_p[k];
            if (pk > 0.0 && counter_uniform(p.seed, sid, static_cast<uint64_t>(t),
                                            static_cast<uint64_t>(k)) < pk)
                spiked[k] = 1;
        }
        __syncthreads();
        if (p.ev_ptr != nullptr) {
            const int64_t e0 = p.ev_ptr[b * T + t], e1 = p.ev_ptr[b * T + t + 1];
            for (int64_t e = e0 + threadIdx.x; e < e1; e += blockDim.x) spiked[p.ev_unit[e]] = 1;
        }
        // 2. neurons
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
            const int32_t g = p.neuron_pop[i];
            if (lif_fires(v[i], p.v_th[g], ref[i])) {
                v[i] = p.v_reset[g];
                ref[i] = p.ref_steps[g];
                spiked[M + i] = 1;
            }
        }
        __syncthreads();
        int local_drive = 0;
        for (int64_t u = threadIdx.x; u < U; u += blockDim.x) {
            if (!spiked[u]) continue;
            counts[u] += 1;
            local_drive += p.astro_sign[u];
            if (p.record_spikes) {
                // Order within a step is arbitrary here; the Python side sorts.
                const unsigned long long k = atomicAdd(
                    reinterpret_cast<unsigned long long *>(p.n_spikes + b), 1ULL);
                if (static_cast<int64_t>(k) < p.spike_cap) {
                    p.spike_step[b * p.spike_cap + k] = static_cast<int32_t>(t);
                    p.spike_unit[b * p.spike_cap + k] = static_cast<int32_t>(u);
                }
            }
        }
        if (local_drive != 0) atomicAdd(&drive, local_drive);
        // 3 + 4. pull propagation, then STDP on the same synapse (owned by this thread)
        const double rp = rates[0], rm = rates[1];
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
            const double s_post = spiked[M + i] ? 1.0 : 0.0;
            // this thread owns neuron i, so its calcium needs no synchronisation
            int gate = 0;
            if (p.stdp_on && p.ap_on) {
                calcium[i] = calcium_update(calcium[i], p.calcium_decay, s_post);
                gate = ap_gate(calcium[i], p.ap_theta, p.ap_width);
            }
            for (int64_t r = p.in_ptr[i]; r < p.in_ptr[i + 1]; ++r) {
                const int64_t q = p.in_syn[r];
                const int32_t j = p.syn_pre[q];
                if (!spiked[j] && s_post == 0.0) continue;
                const int32_t pr = p.syn_proj[q];
                if (spiked[j]) {
                    // as the CPU: zero delay straight in, delayed into the ring buffer
                    const int32_t rec = p.proj_receptor[pr];
                    const double xq = p.proj_gain[pr] * w[q];
                    const int64_t d = p.max_delay > 0 ? p.syn_delay[q] : 0;
                    if (d > 0) {
                        buf[(((t + d) % D1) * N + i) * kNumReceptors + rec] += xq;
                    } else if (rec == kReceptorE) {
                        ie[i] += xq;
                    } else if (rec == kReceptorI) {
                        ii[i] += xq;
                    } else {
                        vj[i] += xq;
                    }
                }
                if (p.stdp_on && p.proj_plastic[pr]) {
                    const bool m = p.proj_mirror[pr] != 0;
                    const double s_pre = spiked[j] ? 1.0 : 0.0;
                    if (!p.ap_on) {
                        w[q] = stdp_update(w[q], m ? -1.0 : 1.0, m ? rm : rp, m ? rp : rm, x[j],
                                           y[M + i], s_post, s_pre, p.proj_wmin[pr],
                                           p.proj_wmax[pr]);
                    } else if (gate != 0) {
                        w[q] = stdp_update_gated(w[q], m ? -1.0 : 1.0, m ? rm : rp, m ? rp : rm,
                                                 x[j], y[M + i], s_post, s_pre, p.proj_wmin[pr],
                                                 p.proj_wmax[pr], gate);
                    }
                }
            }
        }
        __syncthreads();
        // 5. traces, astrocyte, learning-rate decay
        if (p.stdp_on) {
            for (int64_t u = threadIdx.x; u < U; u += blockDim.x) {
                const double sp = spiked[u] ? 1.0 : 0.0;
                x[u] = trace_update(x[u], p.pre_decay, p.pre_inc, sp);
                y[u] = trace_update(y[u], p.post_decay, p.post_inc, sp);
            }
            if (threadIdx.x == 0) {
                if (p.astro_on)
                    rates[1] = astro_update(rates[1], rates[2], rates[3], p.astro_tau,
                                            static_cast<double>(drive));
                if (p.lr_decay != 1.0) {
                    rates[0] = rates[0] * p.lr_decay;
                    rates[1] = rates[1] * p.lr_decay;
                    rates[2] = rates[2] * p.lr_decay;
                    rates[3] = rates[3] * p.lr_decay;
                }
                if (p.rate_trace != nullptr) p.rate_trace[b * T + t] = rates[1];
            }
        }
        // 6. integrate
        double *slot = buf + (t % D1) * N * kNumReceptors;
        for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
            const int32_t g = p.neuron_pop[i];
            double cur_e = ie[i], cur_i = ii[i], jump = 0.0;
            if (p.has_delta) {
                jump = vj[i];
                vj[i] = 0.0;
            }
            if (p.max_delay > 0) {
                double *b = slot + i * kNumReceptors;
                cur_e = cur_e + b[kReceptorE];
                cur_i = cur_i + b[kReceptorI];
                jump = jump + b[kReceptorDelta];
                b[kReceptorE] = 0.0;
                b[kReceptorI] = 0.0;
                b[kReceptorDelta] = 0.0;
            }
            if (!lif_held(p.clamp[g] != 0, ref[i]))
                v[i] = lif_integrate(v[i], p.k_m[g], p.v_rest[g], cur_e, cur_i, p.bias[g], jump);
            ie[i] = cur_e * p.decay_e[g];
            ii[i] = cur_i * p.decay_i[g];
            ref[i] = ref[i] > 0 ? ref[i] - 1 : 0;
        }
        for (int64_t u = threadIdx.x; u < U; u += blockDim.x) spiked[u] = 0;
        __syncthreads();
    }
}

// Device copies that free themselves; the first error is kept.
struct Arena {
    std::vector<void *> ptrs;
    cudaError_t err = cudaSuccess;

    ~Arena() {
        for (void *q : ptrs) cudaFree(q);
    }
    template <typename T>
    T *alloc(int64_t n) {
        if (err != cudaSuccess || n <= 0) return nullptr;
        void *q = nullptr;
        err = cudaMalloc(&q, sizeof(T) * static_cast<size_t>(n));
        if (err != cudaSuccess) return nullptr;
        ptrs.push_back(q);
        return static_cast<T *>(q);
    }
    template <typename T>
    T *upload(const T *host, int64_t n) {
        if (host == nullptr) return nullptr;
        T *d = alloc<T>(n);
        if (d != nullptr) err = cudaMemcpy(d, host, sizeof(T) * n, cudaMemcpyHostToDevice);
        return d;
    }
    template <typename T>
    void download(T *host, const T *dev, int64_t n) {
        if (err == cudaSuccess && host != nullptr && dev != nullptr && n > 0)
            err = cudaMemcpy(host, dev, sizeof(T) * n, cudaMemcpyDeviceToHost);
    }
};

thread_local std::string last_error;

}  // namespace

int cuda_device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

const char *lif_run_cuda(const LifPlan &h) {
    const int64_t B = h.n_samples, M = h.n_src, N = h.n_neu, S = h.n_syn, U = M + N;
    const int64_t T = h.n_steps, D1 = h.max_delay + 1;
    const int64_t n_vt = (T + h.vrec_every - 1) / h.vrec_every;
    Arena a;
    LifPlan d = h;
    const int64_t P = h.n_pop > 0 ? h.n_pop : 1;
    d.pop_ptr = a.upload(h.pop_ptr, h.n_pop + 1);
    d.neuron_pop = a.upload(h.neuron_pop, N);
    d.k_m = a.upload(h.k_m, P);
    d.v_rest = a.upload(h.v_rest, P);
    d.v_th = a.upload(h.v_th, P);
    d.v_reset = a.upload(h.v_reset, P);
    d.bias = a.upload(h.bias, P);
    d.decay_e = a.upload(h.decay_e, P);
    d.decay_i = a.upload(h.decay_i, P);
    d.ref_steps = a.upload(h.ref_steps, P);
    d.clamp = a.upload(h.clamp, P);
    d.v0 = a.upload(h.v0, B * N);
    d.astro_sign = a.upload(h.astro_sign, U);
    d.out_ptr = a.upload(h.out_ptr, U + 1);
    d.syn_pre = a.upload(h.syn_pre, S);
    d.syn_post = a.upload(h.syn_post, S);
    d.syn_proj = a.upload(h.syn_proj, S);
    d.syn_delay = h.max_delay > 0 ? a.upload(h.syn_delay, S) : nullptr;
    d.in_ptr = a.upload(h.in_ptr, N + 1);
    d.in_syn = a.upload(h.in_syn, S);
    int64_t n_proj = 0;
    for (int64_t q = 0; q < S; ++q) n_proj = h.syn_proj[q] + 1 > n_proj ? h.syn_proj[q] + 1 : n_proj;
    d.proj_receptor = a.upload(h.proj_receptor, n_proj);
    d.proj_gain = a.upload(h.proj_gain, n_proj);
    d.proj_wmin = a.upload(h.proj_wmin, n_proj);
    d.proj_wmax = a.upload(h.proj_wmax, n_proj);
    d.proj_plastic = a.upload(h.proj_plastic, n_proj);
    d.proj_mirror = a.upload(h.proj_mirror, n_proj);
    d.src_p = a.upload(h.src_p, B * M);
    if (h.ev_ptr != nullptr) {
        d.ev_ptr = a.upload(h.ev_ptr, B * T + 1);
        d.ev_unit = a.upload(h.ev_unit, h.ev_ptr[B * T]);
    }
    d.sample_ids = a.upload(h.sample_ids, B);
    d.counts = a.upload(h.counts, B * U);
    d.spike_step = h.record_spikes ? a.alloc<int32_t>(B * h.spike_cap) : nullptr;
    d.spike_unit = h.record_spikes ? a.alloc<int32_t>(B * h.spike_cap) : nullptr;
    d.n_spikes = a.upload(h.n_spikes, B);
    d.vrec_idx = a.upload(h.vrec_idx, h.n_vrec);
    d.vrec = h.n_vrec > 0 ? a.alloc<double>(B * n_vt * h.n_vrec) : nullptr;
    d.rate_trace = h.rate_trace != nullptr ? a.alloc<double>(B * T) : nullptr;

    const bool plastic = h.stdp_on != 0;
    const int64_t per_launch = h.carry_weights ? 1 : B;
    DeviceWork wk;
    wk.v = a.alloc<double>(per_launch * N);
    wk.ie = a.alloc<double>(per_launch * N);
    wk.ii = a.alloc<double>(per_launch * N);
    wk.vj = a.alloc<double>(per_launch * N);
    wk.x = a.alloc<double>(per_launch * U);
    wk.y = a.alloc<double>(per_launch * U);
    wk.buf = a.alloc<double>(per_launch * D1 * kNumReceptors * N);
    wk.calcium = a.alloc<double>(per_launch * N);
    // carried samples never reset it, so it starts at zero here
    if (wk.calcium != nullptr && a.err == cudaSuccess)
        a.err = cudaMemset(wk.calcium, 0, sizeof(double) * per_launch * N);
    wk.ref = a.alloc<int32_t>(per_launch * N);
    wk.spiked = a.alloc<uint8_t>(per_launch * U);

    // Weights: one shared copy when no sample changes its own (no plasticity, or
    // samples in sequence carrying the weights), else one row per sample.
    const bool shared = !h.w0_per_sample && (!plastic || h.carry_weights);
    double *w_dev = nullptr;
    if (shared) {
        w_dev = a.upload(h.w0, S);
    } else if (h.w0_per_sample) {
        w_dev = a.upload(h.w0, B * S);
    } else {
        w_dev = a.alloc<double>(B * S);
        for (int64_t b = 0; b < B && a.err == cudaSuccess; ++b)
            a.err = cudaMemcpy(w_dev + b * S, h.w0, sizeof(double) * S, cudaMemcpyHostToDevice);
    }
    if (a.err != cudaSuccess) {
        last_error = cudaGetErrorString(a.err);
        return last_error.c_str();
    }

    const int threads = 256;
    if (h.carry_weights) {
        for (int64_t b = 0; b < B; ++b) lif_kernel<<<1, threads>>>(d, wk, w_dev, b, 1);
    } else {
        lif_kernel<<<static_cast<unsigned>(B), threads>>>(d, wk, w_dev, 0, shared ? 1 : 0);
    }
    if (a.err == cudaSuccess) a.err = cudaGetLastError();
    if (a.err == cudaSuccess) a.err = cudaDeviceSynchronize();

    a.download(h.counts, d.counts, B * U);
    a.download(h.n_spikes, d.n_spikes, B);
    if (h.record_spikes) {
        a.download(h.spike_step, d.spike_step, B * h.spike_cap);
        a.download(h.spike_unit, d.spike_unit, B * h.spike_cap);
    }
    if (h.n_vrec > 0) a.download(h.vrec, d.vrec, B * n_vt * h.n_vrec);
    if (h.rate_trace != nullptr) a.download(h.rate_trace, d.rate_trace, B * T);
    if (h.w_out != nullptr) {
        if (h.carry_weights || !shared) {
            a.download(h.w_out, w_dev, h.carry_weights ? S : B * S);
        } else {
            for (int64_t b = 0; b < B; ++b) a.download(h.w_out + b * S, w_dev, S);
        }
    }
    if (a.err != cudaSuccess) {
        last_error = cudaGetErrorString(a.err);
        return last_error.c_str();
    }
    return "";
}

}  // namespace neurodyn
