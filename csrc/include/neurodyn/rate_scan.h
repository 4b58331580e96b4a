// The rate network's recurrence over a whole trial and its backward pass through time:
//
//     p_t = W phi(x_{t-1}) + d_t,   x_t = x_{t-1} + alpha (p_t - x_{t-1}),   t = 1..T,
//
// with d_t = drive_t + scale * eta_t (the recurrent noise, optional). Every array is
// C-contiguous; (trial, time, unit) arrays are read one step at a time as (trial, unit)
// matrices with row stride T*m, so no step copies anything. The products go to the
// BLAS routine handed in (SciPy's, through its Cython API); everything elementwise of a
// step is one pass over the step's rows while they are in cache. The Python wrapper
// is neurodyn.rnn_models.rate_scan, which also holds the equations of the backward pass.
#pragma once

#include <cstdint>

namespace neurodyn {
namespace rate_scan {

// The Fortran BLAS gemm: C = alpha op(A) op(B) + beta C, column-major.
template <typename T>
using gemm_t = void (*)(const char *, const char *, const int *, const int *, const int *,
                        const T *, const T *, const int *, const T *, const int *, const T *,
                        T *, const int *);

struct Blas {
    gemm_t<float> sgemm = nullptr;
    gemm_t<double> dgemm = nullptr;
};

// The nonlinearities, by the kernel codes of neurodyn.dynamics.nonlinearities.
enum Phi : int { kTanh = 0, kRelu = 1, kRectifiedTanh = 3 };

template <typename T>
struct Forward {
    int64_t n = 0, steps = 0, m = 0;  // trials, steps, units
    int phi = kTanh;
    const T *drive = nullptr;  // (n, steps, m)
    const T *eta = nullptr;    // (n, steps, m), or null without recurrent noise
    const T *scale = nullptr;  // (m,) with eta
    const T *x0 = nullptr;     // (n, m)
    const T *W = nullptr;      // (m, m), W[i * m + j] from unit j to unit i
    const T *alpha = nullptr;  // (m,)
    T *states = nullptr;       // (n, steps, m) out: x_t
    T *rates = nullptr;        // (n, steps, m) out: phi(x_t)
    T *rise = nullptr;         // (n, steps, m) out: p_t - x_{t-1}, or null (not needed)
    T *r0 = nullptr;           // (n, m) out: phi(x0)
    T *p = nullptr;            // (n, m) scratch
};

template <typename T>
struct Backward {
    int64_t n = 0, steps = 0, m = 0;
    int phi = kTanh;
    const T *grad_states = nullptr;  // (n, steps, m) dL/dx_t, or null (zero)
    const T *grad_rates = nullptr;   // (n, steps, m) dL/dphi(x_t), or null (zero)
    const T *states = nullptr, *rates = nullptr;
    const T *rise = nullptr;  // with grad_alpha
    const T *eta = nullptr;   // with grad_scale
    const T *x0 = nullptr, *r0 = nullptr, *W = nullptr, *alpha = nullptr;
    T *delta = nullptr;       // (n, steps, m) out: dL/dd_t = alpha lambda_t (may be rise)
    T *grad_alpha = nullptr;  // (m,) out, or null (not needed)
    T *grad_scale = nullptr;  // (m,) out, or null
    T *grad_x0 = nullptr;     // (n, m) out, or null
    T *lam = nullptr, *carry = nullptr;  // (n, m) scratch each
    T *acc = nullptr;  // (2, n, m) scratch of the CUDA sweep: per-trial sums for alpha, scale
};

void forward(const Forward<float> &f, const Blas &blas);
void forward(const Forward<double> &f, const Blas &blas);
void backward(const Backward<float> &b, const Blas &blas);
void backward(const Backward<double> &b, const Blas &blas);

// The same sweeps on a GPU (rate_scan_cuda.cu): every pointer is memory of GPU
// `device`, and the kernels run in order on `stream` (a cudaStream_t), one launch per
// step. They return null, or the CUDA error's text.
const char *forward_cuda(const Forward<float> &f, int device, void *stream);
const char *forward_cuda(const Forward<double> &f, int device, void *stream);
const char *backward_cuda(const Backward<float> &b, int device, void *stream);
const char *backward_cuda(const Backward<double> &b, int device, void *stream);

// The forward or the backward scan, by the argument's type.
inline void run(const Forward<float> &f, const Blas &blas) { forward(f, blas); }
inline void run(const Forward<double> &f, const Blas &blas) { forward(f, blas); }
inline void run(const Backward<float> &b, const Blas &blas) { backward(b, blas); }
inline void run(const Backward<double> &b, const Blas &blas) { backward(b, blas); }

// phi of one value as the kernel computes it (for tests of the float tanh).
float phi_value(int phi, float x);
double phi_value(int phi, double x);

}  // namespace rate_scan
}  // namespace neurodyn
