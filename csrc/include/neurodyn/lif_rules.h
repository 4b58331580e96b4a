// Per-neuron and per-synapse update rules of the clock-driven LIF engine.
//
// Every backend (this C++ code, the CUDA kernel, the Numba kernel and the NumPy
// reference in neurodyn/spiking/_reference.py) evaluates *these* expressions, in
// this operand order, so that all of them produce the same spikes bit for bit.
// That is why the expressions are written out long-hand (no compound operators
// that could be reassociated) and why the build disables floating-point
// contraction (-ffp-contract=off, nvcc --fmad=false): a fused multiply-add
// rounds once instead of twice and would make a spike appear one step earlier
// on one backend than on another.
//
// No Python, pybind11 or CUDA runtime headers here: the file compiles with g++
// alone, and with nvcc the same functions become __host__ __device__.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ND_HD __host__ __device__ __forceinline__
#else
#define ND_HD inline
#endif

namespace neurodyn {

// Receptor slots of a neuron: exponentially decaying excitatory and inhibitory
// currents, and "delta" synapses that jump the membrane potential directly.
constexpr int kReceptorE = 0;
constexpr int kReceptorI = 1;
constexpr int kReceptorDelta = 2;
constexpr int kNumReceptors = 3;

// SplitMix64 finaliser (Steele, Lea & Flood 2014). Used as a counter-based
// generator: the random number of source k at step t of sample b is a pure
// function of (seed, b, t, k), so CPU threads, GPU blocks and the NumPy
// reference draw identical numbers in any order.
ND_HD uint64_t splitmix64(uint64_t z) {
    z = z + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Uniform double in [0, 1) with 53 random bits.
ND_HD double counter_uniform(uint64_t seed, uint64_t sample, uint64_t step, uint64_t index) {
    uint64_t h = splitmix64(seed);
    h = splitmix64(h ^ sample);
    h = splitmix64(h ^ step);
    h = splitmix64(h ^ index);
    return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

// A neuron fires when it is not refractory and its potential reached threshold.
ND_HD bool lif_fires(double v, double v_th, int32_t ref) { return (ref == 0) & (v >= v_th); }

// Whether a clamped neuron's potential is held at reset this step. The counter
// is t_ref/dt right after a spike and counts down once per step; the potential
// integrates again in the last refractory step (ref == 1), so a neuron can spike
// again exactly t_ref after its last spike, as in Brian2 and NEST.
ND_HD bool lif_held(bool clamp, int32_t ref) { return clamp & (ref > 1); }

// One membrane step: V + k (V_rest - V + I_e + I_i + I_bias) + jump, where
// k = dt/tau_m (Euler) or 1 - exp(-dt/tau_m) (exponential Euler).
ND_HD double lif_integrate(double v, double k, double v_rest, double ie, double ii, double bias,
                           double jump) {
    return v + k * (v_rest - v + ie + ii + bias) + jump;
}

// Pair-based STDP with traces, one update of a synapse j -> i:
//   dw = sign * (rate_causal * x_j * S_i - rate_anti * y_i * S_j),  w <- clip(w + dw).
// s_post and s_pre are 0.0 or 1.0.
ND_HD double stdp_update(double w, double sign, double rate_causal, double rate_anti, double x_pre,
                         double y_post, double s_post, double s_pre, double w_min, double w_max) {
    double dw = sign * (rate_causal * x_pre * s_post - rate_anti * y_post * s_pre);
    double out = w + dw;
    if (out < w_min) out = w_min;
    if (out > w_max) out = w_max;
    return out;
}

// Activity-dependent STDP (AP-STDP): the gate of a postsynaptic neuron whose rate
// estimate is c. +1 in the potentiation window theta < c < theta + width (only
// increases of w pass), -1 in the depression window theta - width < c < theta
// (only decreases pass), 0 elsewhere (no change).
ND_HD int ap_gate(double c, double theta, double width) {
    if (c > theta && c < theta + width) return 1;
    if (c < theta && c > theta - width) return -1;
    return 0;
}

// stdp_update with an activity gate: each of the two terms passes only where its
// sign is the gate's.
ND_HD double stdp_update_gated(double w, double sign, double rate_causal, double rate_anti,
                               double x_pre, double y_post, double s_post, double s_pre,
                               double w_min, double w_max, int gate) {
    const double causal = sign * rate_causal * x_pre * s_post;
    const double anti = -sign * rate_anti * y_post * s_pre;
    double dw = 0.0;
    if (gate * causal > 0.0) dw = dw + causal;
    if (gate * anti > 0.0) dw = dw + anti;
    double out = w + dw;
    if (out < w_min) out = w_min;
    if (out > w_max) out = w_max;
    return out;
}

// Calcium-like rate estimate of a neuron, after the step's spikes: c <- d c + S.
ND_HD double calcium_update(double c, double decay, double spiked) {
    return decay * c + spiked;
}

// Trace step, increment then decay (the NALSM convention): x <- d (x + a S).
ND_HD double trace_update(double x, double decay, double increment, double spiked) {
    return decay * (x + increment * spiked);
}

// Astrocyte: A <- A + (w_A * drive + b_A - A) / tau_A, drive = sum of signed spikes.
ND_HD double astro_update(double a, double w_a, double b_a, double tau_a, double drive) {
    return a + (w_a * drive + b_a - a) / tau_a;
}

}  // namespace neurodyn
