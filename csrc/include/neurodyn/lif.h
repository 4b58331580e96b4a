// The LIF engine's kernels: a plain struct of raw pointers and sizes in, outputs
// written in place. No Python, pybind11 or torch here; callers (the bindings)
// guarantee shapes, dtypes and contiguity, kernels never validate.
//
// Index spaces. "Units" are the sources (indices 0 .. n_src-1) followed by the
// LIF neurons (n_src .. n_src+n_neu-1). Synapses are stored CSR by presynaptic
// unit (out_ptr, syn_post, ...); in_ptr/in_syn list, for every neuron, the ids of
// its incoming synapses sorted by presynaptic unit (then by CSR position).
//
// One step t of one sample, in this order (see neurodyn/spiking/lif.py for the
// equations and the reasons):
//   0. record V (state before threshold) every vrec_every steps;
//   1. sources spike: u(seed, sample, t, k) < src_p, or a listed event;
//   2. neurons spike: ref == 0 and V >= V_th -> V = V_reset, ref = ref_steps;
//   3. propagate, ascending presynaptic unit, CSR order: gain * w is added to
//        the post's current I_e or I_i (or its jump of V, for delta synapses)
//        right away when the delay is 0, else to the ring buffer
//        buf[(t + delay) % (max_delay + 1)][post][receptor];
//   4. with ap_on, every neuron's calcium c <- calcium_decay * c + S; then STDP on
//      plastic synapses touching a spike (each synapse at most once), gated by the
//      postsynaptic calcium with ap_on;
//   5. traces x, y of every unit; astrocyte; learning-rate decay;
//   6. integrate: I += buf[t % ...] (delayed input due now); V = lif_integrate(
//      ..., jump) unless held (lif_held); I *= decay; ref = max(ref - 1, 0).
#pragma once

#include <cstdint>

namespace neurodyn {

struct LifPlan {
    // sizes
    int64_t n_samples = 0, n_steps = 0, n_src = 0, n_neu = 0, n_syn = 0, max_delay = 0;
    int has_delta = 0;  // whether any synapse has the delta receptor

    // neuron constants, one entry per LIF population (n_pop); population g holds
    // neurons pop_ptr[g] .. pop_ptr[g+1]-1, and neuron_pop[i] is i's population.
    // Per-population constants stay in registers in the CPU loops.
    int64_t n_pop = 0;
    const int64_t *pop_ptr = nullptr;     // n_pop + 1
    const int32_t *neuron_pop = nullptr;  // n_neu
    const double *k_m = nullptr, *v_rest = nullptr, *v_th = nullptr, *v_reset = nullptr;
    const double *bias = nullptr, *decay_e = nullptr, *decay_i = nullptr;
    const int32_t *ref_steps = nullptr;
    const int8_t *clamp = nullptr;
    const double *v0 = nullptr;  // (n_samples, n_neu)

    // units (n_src + n_neu)
    const int8_t *astro_sign = nullptr;

    // synapses
    const int64_t *out_ptr = nullptr;  // n_units + 1
    const int32_t *syn_pre = nullptr, *syn_post = nullptr, *syn_proj = nullptr;  // n_syn
    const int32_t *syn_delay = nullptr;  // n_syn, steps; may be null when max_delay == 0
    const int64_t *in_ptr = nullptr;     // n_neu + 1
    const int64_t *in_syn = nullptr;     // n_syn
    const double *w0 = nullptr;          // n_syn, or (n_samples, n_syn) when w0_per_sample
    int w0_per_sample = 0;

    // projections (indexed by syn_proj)
    const int32_t *proj_receptor = nullptr;
    const double *proj_gain = nullptr, *proj_wmin = nullptr, *proj_wmax = nullptr;
    const int8_t *proj_plastic = nullptr, *proj_mirror = nullptr;

    // sources
    const double *src_p = nullptr;  // (n_samples, n_src): spike probability per step
    const int64_t *ev_ptr = nullptr;  // n_samples * n_steps + 1, or null
    const int32_t *ev_unit = nullptr;
    uint64_t seed = 0;
    const int64_t *sample_ids = nullptr;  // n_samples: the sample index fed to the generator

    // plasticity
    int stdp_on = 0;
    double pre_decay = 1.0, pre_inc = 0.0, post_decay = 1.0, post_inc = 0.0;
    double rate_plus0 = 0.0, rate_minus0 = 0.0;
    int astro_on = 0;
    double astro_w = 0.0, astro_b = 0.0, astro_tau = 1.0, lr_decay = 1.0;
    int ap_on = 0;  // activity-dependent gate (AP-STDP) on the postsynaptic calcium
    double ap_theta = 0.0, ap_width = 0.0, calcium_decay = 1.0;
    int carry_weights = 0;  // samples run in order, each starting from the last one's weights
                            // (and, with ap_on, the last one's calcium)

    // outputs
    int32_t *counts = nullptr;  // (n_samples, n_units)
    int record_spikes = 0;
    int64_t spike_cap = 0;
    int32_t *spike_step = nullptr, *spike_unit = nullptr;  // (n_samples, spike_cap)
    int64_t *n_spikes = nullptr;                            // n_samples (may exceed spike_cap)
    int64_t n_vrec = 0, vrec_every = 1;
    const int32_t *vrec_idx = nullptr;  // neuron indices
    double *vrec = nullptr;             // (n_samples, ceil(n_steps / vrec_every), n_vrec)
    double *rate_trace = nullptr;       // (n_samples, n_steps): depression rate A after each step
    double *w_out = nullptr;  // (n_samples, n_syn), or n_syn when carry_weights; may be null

    int num_threads = 0;  // 0: OpenMP's default
};

// CPU kernel (csrc/cpu/lif_cpu.cpp). Samples run in parallel with OpenMP when
// carry_weights is 0.
void lif_run_cpu(const LifPlan &plan);

// Whether the CPU kernel was compiled with OpenMP, and its default thread count.
bool cpu_has_openmp();
int cpu_max_threads();

// CUDA kernel (csrc/cuda/lif_cuda.cu). The plan holds *host* pointers; the
// launcher copies inputs to the device, runs one thread block per sample and
// copies outputs back. Returns an empty string on success, else the CUDA error.
const char *lif_run_cuda(const LifPlan &plan);
int cuda_device_count();

}  // namespace neurodyn
