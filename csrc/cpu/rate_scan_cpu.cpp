// The rate network's scan on the CPU (see neurodyn/rate_scan.h). Per step: one BLAS
// product, then one pass over the step's rows for everything elementwise.
//
// The float passes are compiled for several instruction sets (target_clones: the
// loader picks the widest the machine has), since the build itself targets the
// baseline x86-64 for portability. Floating-point contraction stays off (setup.py),
// so no instruction set changes a result.
#include "neurodyn/rate_scan.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEURODYN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NEURODYN_CLONES
#endif
// Inlined into each clone, so that every clone vectorises it for its instruction set.
#define NEURODYN_INLINE inline __attribute__((always_inline))

namespace neurodyn {
namespace rate_scan {
namespace {

void gemm(const Blas &b, char ta, char tb, int M, int N, int K, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    const float one = 1.0f;
    b.sgemm(&ta, &tb, &M, &N, &K, &one, A, &lda, B, &ldb, &beta, C, &ldc);
}

void gemm(const Blas &b, char ta, char tb, int M, int N, int K, const double *A, int lda,
          const double *B, int ldb, double beta, double *C, int ldc) {
    const double one = 1.0;
    b.dgemm(&ta, &tb, &M, &N, &K, &one, A, &lda, B, &ldb, &beta, C, &ldc);
}

// exp(y) for y >= 0 (clamped at 88, below float overflow): y = k ln2 + r with
// |r| <= ln2 / 2 (Cody-Waite, ln2 split so that k * ln2_hi is exact), e^r by its
// Taylor series to r^7 (relative error 7e-9), and 2^k from the exponent bits. Written
// without branches or calls so that a loop of it vectorises.
inline float exp_nonnegative(float y) {
    y = y < 88.0f ? y : 88.0f;
    // Round to nearest by adding and subtracting 1.5 * 2^23.
    const float k = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (y - k * 0.693145751953125f) - k * 1.428606765330187045e-06f;
    float e = 1.0f / 5040.0f;
    e = e * r + 1.0f / 720.0f;
    e = e * r + 1.0f / 120.0f;
    e = e * r + 1.0f / 24.0f;
    e = e * r + 1.0f / 6.0f;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

// tanh in float, within 2 ulp of the correctly rounded value: x (1 + z P(z)), z = x^2,
// for |x| < 0.625 (P the least-squares fit of (tanh x / x - 1) / z on Chebyshev
// points, approximation error 7e-10), and 1 - 2 / (e^{2|x|} + 1) with the sign of x
// above (where the result is above 0.55, so the subtraction loses nothing).
inline float tanh_float(float x) {
    const float a = std::fabs(x);
    const float z = x * x;
    float q = 0.0023139638360589743f;
    q = q * z - 0.008365653455257416f;
    q = q * z + 0.021776840090751648f;
    q = q * z - 0.05396047979593277f;
    q = q * z + 0.13333310186862946f;
    q = q * z - 0.3333333432674408f;
    const float small = x + x * (z * q);
    const float big = std::copysign(1.0f - 2.0f / (exp_nonnegative(2.0f * a) + 1.0f), x);
    return a < 0.625f ? small : big;
}

inline float relu(float x) { return x < 0.0f ? 0.0f : x; }
inline double relu(double x) { return x < 0.0 ? 0.0 : x; }

inline float phi_of(int phi, float x) {
    if (phi == kTanh) return tanh_float(x);
    if (phi == kRelu) return relu(x);
    return tanh_float(relu(x));
}

inline double phi_of(int phi, double x) {
    if (phi == kTanh) return std::tanh(x);
    if (phi == kRelu) return relu(x);
    return std::tanh(relu(x));
}

// phi'(x) from x and r = phi(x), as PyTorch's autograd takes it (0 at a kink).
template <typename T>
inline T slope_of(int phi, T x, T r) {
    if (phi == kTanh) return T(1) - r * r;
    if (phi == kRelu) return x > T(0) ? T(1) : T(0);
    return x > T(0) ? T(1) - r * r : T(0);
}

// The lerp of PyTorch (both branches, chosen by the size of the weight, as torch.lerp).
template <typename T>
inline T lerp(T x, T p, T a) {
    return a < T(0.5) ? x + a * (p - x) : p - (p - x) * (T(1) - a);
}

// ---- one step's elementwise passes (rows b of (n, m) views with the given strides) ----

// p = d_t (+ scale * eta_t), the drive of one step, as the rows of a contiguous (n, m).
template <typename T>
void load_drive(const Forward<T> &f, int64_t t, T *p) {
    const int64_t m = f.m, ld = f.steps * m;
    for (int64_t b = 0; b < f.n; ++b) {
        const T *d = f.drive + b * ld + t * m;
        T *pb = p + b * m;
        if (f.eta == nullptr) {
            std::memcpy(pb, d, sizeof(T) * m);
            continue;
        }
        const T *e = f.eta + b * ld + t * m;
        for (int64_t i = 0; i < m; ++i) pb[i] = f.scale[i] * e[i] + d[i];
    }
}

// x_t = lerp(x_{t-1}, p_t, alpha), r_t = phi(x_t) and, when kept, rise = p_t - x_{t-1}.
template <typename T>
void update_rows(int phi, int64_t m, const T *x, const T *p, const T *alpha, T *x_new, T *r,
                 T *rise) {
    if (rise != nullptr)
        for (int64_t i = 0; i < m; ++i) rise[i] = p[i] - x[i];
    for (int64_t i = 0; i < m; ++i) x_new[i] = lerp(x[i], p[i], alpha[i]);
    for (int64_t i = 0; i < m; ++i) r[i] = phi_of(phi, x_new[i]);
}

NEURODYN_CLONES void update_rows_float(int phi, int64_t m, const float *x, const float *p,
                                       const float *alpha, float *x_new, float *r, float *rise) {
    if (rise != nullptr)
        for (int64_t i = 0; i < m; ++i) rise[i] = p[i] - x[i];
    for (int64_t i = 0; i < m; ++i) x_new[i] = lerp(x[i], p[i], alpha[i]);
    if (phi == kRelu) {
        for (int64_t i = 0; i < m; ++i) r[i] = relu(x_new[i]);
    } else if (phi == kTanh) {
        for (int64_t i = 0; i < m; ++i) r[i] = tanh_float(x_new[i]);
    } else {
        for (int64_t i = 0; i < m; ++i) r[i] = tanh_float(relu(x_new[i]));
    }
}

void update(int phi, int64_t m, const float *x, const float *p, const float *alpha,
            float *x_new, float *r, float *rise) {
    update_rows_float(phi, m, x, p, alpha, x_new, r, rise);
}

void update(int phi, int64_t m, const double *x, const double *p, const double *alpha,
            double *x_new, double *r, double *rise) {
    update_rows(phi, m, x, p, alpha, x_new, r, rise);
}

// One step of the backward sweep, rows of trial b: delta_t = alpha lambda, and the
// sums for alpha and the noise scale. `delta` may be `rise` itself (the wrapper lets
// delta overwrite it), so the sum that reads rise comes first.
template <typename T>
NEURODYN_INLINE void emit_rows(int64_t m, const T *lam, const T *alpha, const T *rise,
                               const T *eta, T *delta, T *sum_alpha, T *sum_scale) {
    if (rise != nullptr)
        for (int64_t i = 0; i < m; ++i) sum_alpha[i] += lam[i] * rise[i];
    for (int64_t i = 0; i < m; ++i) delta[i] = alpha[i] * lam[i];
    if (eta != nullptr)
        for (int64_t i = 0; i < m; ++i) sum_scale[i] += delta[i] * eta[i];
}

// lambda_{t-1} = (1 - alpha) lambda_t + phi'(x_{t-1}) carry + dL/dx_{t-1}, where carry
// already holds delta_t W + dL/dphi(x_{t-1}).
template <typename T>
NEURODYN_INLINE void carry_rows(int phi, int64_t m, const T *x, const T *r, const T *carry,
                                const T *gx, const T *alpha, T *lam) {
    for (int64_t i = 0; i < m; ++i)
        lam[i] = (T(1) - alpha[i]) * lam[i] + slope_of(phi, x[i], r[i]) * carry[i];
    if (gx != nullptr)
        for (int64_t i = 0; i < m; ++i) lam[i] += gx[i];
}

NEURODYN_CLONES void emit_rows_float(int64_t m, const float *lam, const float *alpha,
                                     const float *rise, const float *eta, float *delta,
                                     float *sum_alpha, float *sum_scale) {
    emit_rows(m, lam, alpha, rise, eta, delta, sum_alpha, sum_scale);
}

NEURODYN_CLONES void carry_rows_float(int phi, int64_t m, const float *x, const float *r,
                                      const float *carry, const float *gx, const float *alpha,
                                      float *lam) {
    carry_rows(phi, m, x, r, carry, gx, alpha, lam);
}

void emit(int64_t m, const float *lam, const float *alpha, const float *rise, const float *eta,
          float *delta, float *sa, float *ss) {
    emit_rows_float(m, lam, alpha, rise, eta, delta, sa, ss);
}
void emit(int64_t m, const double *lam, const double *alpha, const double *rise,
          const double *eta, double *delta, double *sa, double *ss) {
    emit_rows(m, lam, alpha, rise, eta, delta, sa, ss);
}
void carry_into(int phi, int64_t m, const float *x, const float *r, const float *c,
                const float *gx, const float *alpha, float *lam) {
    carry_rows_float(phi, m, x, r, c, gx, alpha, lam);
}
void carry_into(int phi, int64_t m, const double *x, const double *r, const double *c,
                const double *gx, const double *alpha, double *lam) {
    carry_rows(phi, m, x, r, c, gx, alpha, lam);
}

template <typename T>
void forward_impl(const Forward<T> &f, const Blas &blas) {
    const int64_t n = f.n, m = f.m, ld = f.steps * m;
    const int M = static_cast<int>(m), N = static_cast<int>(n), LD = static_cast<int>(ld);
    for (int64_t k = 0; k < n * m; ++k) f.r0[k] = phi_of(f.phi, f.x0[k]);
    for (int64_t t = 0; t < f.steps; ++t) {
        load_drive(f, t, f.p);
        // p += phi(x_{t-1}) W^T: in column-major terms p^T += W phi(x_{t-1})^T, with the
        // row-major W read as its transpose and phi(x_{t-1}) rows T*m apart.
        const T *r_prev = t == 0 ? f.r0 : f.rates + (t - 1) * m;
        gemm(blas, 'T', 'N', M, N, M, f.W, M, r_prev, t == 0 ? M : LD, T(1), f.p, M);
        for (int64_t b = 0; b < n; ++b) {
            const T *x_prev = t == 0 ? f.x0 + b * m : f.states + b * ld + (t - 1) * m;
            const int64_t row = b * ld + t * m;
            update(f.phi, m, x_prev, f.p + b * m, f.alpha, f.states + row, f.rates + row,
                   f.rise == nullptr ? nullptr : f.rise + row);
        }
    }
}

template <typename T>
void backward_impl(const Backward<T> &g, const Blas &blas) {
    const int64_t n = g.n, m = g.m, ld = g.steps * m, last = g.steps - 1;
    const int M = static_cast<int>(m), N = static_cast<int>(n), LD = static_cast<int>(ld);
    if (g.grad_alpha != nullptr) std::memset(g.grad_alpha, 0, sizeof(T) * m);
    if (g.grad_scale != nullptr) std::memset(g.grad_scale, 0, sizeof(T) * m);
    std::memset(g.lam, 0, sizeof(T) * n * m);
    // The carry into step t - 1 starts as dL/dphi(x_{t-1}) (zero where no gradient
    // reaches the rates); the product adds delta_t W.
    auto outside_rates = [&](int64_t t) {
        for (int64_t b = 0; b < n; ++b) {
            T *c = g.carry + b * m;
            if (g.grad_rates == nullptr)
                std::memset(c, 0, sizeof(T) * m);
            else
                std::memcpy(c, g.grad_rates + b * ld + t * m, sizeof(T) * m);
        }
    };
    auto absorb = [&](int64_t t) {  // lambda = (1 - alpha) lambda + phi' carry + dL/dx_t
        for (int64_t b = 0; b < n; ++b) {
            const int64_t row = b * ld + t * m;
            carry_into(g.phi, m, g.states + row, g.rates + row, g.carry + b * m,
                       g.grad_states == nullptr ? nullptr : g.grad_states + row, g.alpha,
                       g.lam + b * m);
        }
    };
    outside_rates(last);
    absorb(last);
    for (int64_t t = last; t >= 0; --t) {
        for (int64_t b = 0; b < n; ++b) {
            const int64_t row = b * ld + t * m;
            emit(m, g.lam + b * m, g.alpha, g.grad_alpha == nullptr ? nullptr : g.rise + row,
                 g.grad_scale == nullptr ? nullptr : g.eta + row, g.delta + row, g.grad_alpha,
                 g.grad_scale);
        }
        if (t == 0) break;
        outside_rates(t - 1);
        // carry += delta_t W: column-major carry^T += W^T delta_t^T.
        gemm(blas, 'N', 'N', M, N, M, g.W, M, g.delta + t * m, LD, T(1), g.carry, M);
        absorb(t - 1);
    }
    if (g.grad_x0 == nullptr) return;
    gemm(blas, 'N', 'N', M, N, M, g.W, M, g.delta, LD, T(0), g.carry, M);
    for (int64_t b = 0; b < n; ++b)
        carry_into(g.phi, m, g.x0 + b * m, g.r0 + b * m, g.carry + b * m,
                   static_cast<const T *>(nullptr), g.alpha, g.lam + b * m);
    std::memcpy(g.grad_x0, g.lam, sizeof(T) * n * m);
}

}  // namespace

void forward(const Forward<float> &f, const Blas &blas) { forward_impl(f, blas); }
void forward(const Forward<double> &f, const Blas &blas) { forward_impl(f, blas); }
void backward(const Backward<float> &b, const Blas &blas) { backward_impl(b, blas); }
void backward(const Backward<double> &b, const Blas &blas) { backward_impl(b, blas); }

float phi_value(int phi, float x) { return phi_of(phi, x); }
double phi_value(int phi, double x) { return phi_of(phi, x); }

}  // namespace rate_scan
}  // namespace neurodyn
