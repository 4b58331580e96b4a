// The rate network's scan on a GPU (see neurodyn/rate_scan.h): the same update as
// csrc/cpu/rate_scan_cpu.cpp, one launch per step with one thread per (trial, unit).
// Each thread forms its own entry of the step's product in ascending order of the
// summed index (no atomics), so a run gives the same bits every time; the sums for
// alpha and the noise scale are kept per trial and reduced over trials at the end,
// in trial order.
#include <cuda_runtime.h>

#include <cstdint>

#include "neurodyn/rate_scan.h"

namespace neurodyn {
namespace rate_scan {
namespace {

constexpr int kThreads = 256;

template <typename T>
__device__ T phi_of(int phi, T x) {
    const T r = x < T(0) ? T(0) : x;
    if (phi == kRelu) return r;
    return tanh(phi == kTanh ? x : r);
}

// phi'(x) from x and r = phi(x), as PyTorch's autograd takes it (0 at a kink).
template <typename T>
__device__ T slope_of(int phi, T x, T r) {
    if (phi == kTanh) return T(1) - r * r;
    if (phi == kRelu) return x > T(0) ? T(1) : T(0);
    return x > T(0) ? T(1) - r * r : T(0);
}

// torch.lerp's two formulas, chosen by the size of the weight.
template <typename T>
__device__ T lerp(T x, T p, T a) {
    return a < T(0.5) ? x + a * (p - x) : p - (p - x) * (T(1) - a);
}

template <typename T>
__global__ void phi_kernel(int phi, int64_t count, const T *x, T *r) {
    const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (k < count) r[k] = phi_of(phi, x[k]);
}

// Step t: p = d_t (+ scale eta_t) + W phi(x_{t-1}), x_t = lerp(x_{t-1}, p, alpha),
// r_t = phi(x_t), and rise = p - x_{t-1} where kept.
template <typename T>
__global__ void forward_step(Forward<T> f, int64_t t) {
    const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    const int64_t m = f.m, ld = f.steps * m;
    if (k >= f.n * m) return;
    const int64_t b = k / m, i = k % m, row = b * ld + t * m;
    const T *r_prev = t == 0 ? f.r0 + b * m : f.rates + b * ld + (t - 1) * m;
    const T x_prev = t == 0 ? f.x0[k] : f.states[row - m + i];
    T p = f.drive[row + i];
    if (f.eta != nullptr) p = f.scale[i] * f.eta[row + i] + p;
    T acc = T(0);
    for (int64_t j = 0; j < m; ++j) acc += f.W[i * m + j] * r_prev[j];
    p += acc;
    if (f.rise != nullptr) f.rise[row + i] = p - x_prev;
    const T x = lerp(x_prev, p, f.alpha[i]);
    f.states[row + i] = x;
    f.rates[row + i] = phi_of(f.phi, x);
}

// delta_t = alpha lambda_t and the per-trial sums (rise is read before delta, which
// may overwrite it).
template <typename T>
__device__ void emit(const Backward<T> &g, int64_t k, int64_t row, int64_t i, T lam) {
    const int64_t nm = g.n * g.m;
    if (g.grad_alpha != nullptr) g.acc[k] += lam * g.rise[row + i];
    const T d = g.alpha[i] * lam;
    g.delta[row + i] = d;
    if (g.grad_scale != nullptr) g.acc[nm + k] += d * g.eta[row + i];
}

// The last step: lambda_T = phi'(x_T) dL/dphi(x_T) + dL/dx_T, then its emission.
template <typename T>
__global__ void backward_last(Backward<T> g) {
    const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    const int64_t m = g.m, ld = g.steps * m, nm = g.n * m;
    if (k >= nm) return;
    const int64_t b = k / m, i = k % m, row = b * ld + (g.steps - 1) * m;
    T lam = T(0);
    if (g.grad_rates != nullptr)
        lam = slope_of(g.phi, g.states[row + i], g.rates[row + i]) * g.grad_rates[row + i];
    if (g.grad_states != nullptr) lam += g.grad_states[row + i];
    g.acc[k] = T(0);
    g.acc[nm + k] = T(0);
    g.lam[k] = lam;
    emit(g, k, row, i, lam);
}

// Step t -> t - 1: lambda = (1 - alpha) lambda + phi'(x_{t-1}) (delta_t W +
// dL/dphi(x_{t-1})) + dL/dx_{t-1}, then its emission.
template <typename T>
__global__ void backward_step(Backward<T> g, int64_t t) {
    const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    const int64_t m = g.m, ld = g.steps * m;
    if (k >= g.n * m) return;
    const int64_t b = k / m, i = k % m, row = b * ld + (t - 1) * m;
    const T *d_next = g.delta + b * ld + t * m;
    T carry = g.grad_rates != nullptr ? g.grad_rates[row + i] : T(0);
    T acc = T(0);
    for (int64_t j = 0; j < m; ++j) acc += d_next[j] * g.W[j * m + i];
    carry += acc;
    T lam = (T(1) - g.alpha[i]) * g.lam[k] +
            slope_of(g.phi, g.states[row + i], g.rates[row + i]) * carry;
    if (g.grad_states != nullptr) lam += g.grad_states[row + i];
    g.lam[k] = lam;
    emit(g, k, row, i, lam);
}

// dL/dx0 = (1 - alpha) lambda_1 + phi'(x0) (delta_1 W).
template <typename T>
__global__ void backward_x0(Backward<T> g) {
    const int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    const int64_t m = g.m, ld = g.steps * m;
    if (k >= g.n * m) return;
    const int64_t b = k / m, i = k % m;
    const T *d0 = g.delta + b * ld;
    T acc = T(0);
    for (int64_t j = 0; j < m; ++j) acc += d0[j] * g.W[j * m + i];
    g.grad_x0[k] = (T(1) - g.alpha[i]) * g.lam[k] + slope_of(g.phi, g.x0[k], g.r0[k]) * acc;
}

// The sums over trials, in trial order.
template <typename T>
__global__ void backward_sums(Backward<T> g) {
    const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    const int64_t m = g.m, nm = g.n * m;
    if (i >= m) return;
    T sa = T(0), ss = T(0);
    for (int64_t b = 0; b < g.n; ++b) {
        sa += g.acc[b * m + i];
        ss += g.acc[nm + b * m + i];
    }
    if (g.grad_alpha != nullptr) g.grad_alpha[i] = sa;
    if (g.grad_scale != nullptr) g.grad_scale[i] = ss;
}

unsigned blocks(int64_t count) { return static_cast<unsigned>((count + kThreads - 1) / kThreads); }

const char *status() {
    const cudaError_t err = cudaGetLastError();
    return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

// The device of the tensors, for this runtime (linked statically, it does not see
// which device PyTorch's runtime made current).
const char *use_device(int device) {
    const cudaError_t err = cudaSetDevice(device);
    return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

template <typename T>
const char *forward_impl(const Forward<T> &f, int device, void *stream) {
    if (const char *err = use_device(device)) return err;
    const auto s = static_cast<cudaStream_t>(stream);
    const int64_t nm = f.n * f.m;
    if (nm == 0) return nullptr;
    phi_kernel<T><<<blocks(nm), kThreads, 0, s>>>(f.phi, nm, f.x0, f.r0);
    for (int64_t t = 0; t < f.steps; ++t) forward_step<T><<<blocks(nm), kThreads, 0, s>>>(f, t);
    return status();
}

template <typename T>
const char *backward_impl(const Backward<T> &g, int device, void *stream) {
    if (const char *err = use_device(device)) return err;
    const auto s = static_cast<cudaStream_t>(stream);
    const int64_t nm = g.n * g.m;
    if (nm == 0 || g.steps == 0) return nullptr;
    backward_last<T><<<blocks(nm), kThreads, 0, s>>>(g);
    for (int64_t t = g.steps - 1; t >= 1; --t)
        backward_step<T><<<blocks(nm), kThreads, 0, s>>>(g, t);
    if (g.grad_x0 != nullptr) backward_x0<T><<<blocks(nm), kThreads, 0, s>>>(g);
    if (g.grad_alpha != nullptr || g.grad_scale != nullptr)
        backward_sums<T><<<blocks(g.m), kThreads, 0, s>>>(g);
    return status();
}

}  // namespace

const char *forward_cuda(const Forward<float> &f, int device, void *stream) {
    return forward_impl(f, device, stream);
}
const char *forward_cuda(const Forward<double> &f, int device, void *stream) {
    return forward_impl(f, device, stream);
}
const char *backward_cuda(const Backward<float> &b, int device, void *stream) {
    return backward_impl(b, device, stream);
}
const char *backward_cuda(const Backward<double> &b, int device, void *stream) {
    return backward_impl(b, device, stream);
}

}  // namespace rate_scan
}  // namespace neurodyn
