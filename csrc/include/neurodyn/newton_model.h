// Model evaluation for the fixed-point kernel: the residual r(x) and its Jacobian
// A = dr/dx of the four structured models (codes in newton.h), for one state.
//
// The residual and the Jacobian are two calls: forward() leaves in `work` the
// intermediates (phi'(x), the gates) that jacobian() needs, so the solver, which
// evaluates residuals at trial points and needs the Jacobian only where it accepts
// one, never runs a forward pass twice. `work` holds 7 rows of `stride` =
// max(rows, d) doubles.
//
// Equations, with c the prepared input drive (W_in u + b, computed once per input):
//
//   RATE   r = s * (-x + W phi(x) + c)
//          A = diag(s) (W diag(phi'(x)) - I)
//   ELMAN  r = phi(W x + c) - x
//          A = diag(phi'(W x + c)) W - I
//   GRU    gh = W_hh x + b_hh;  r_g = sig(c_r + gh_r),  z = sig(c_z + gh_z),
//          n = tanh(c_n + r_g * gh_n);   r = (1 - z) * (n - x)
//          A = diag((1-z)(1-n^2)) (diag(r_g) W_hn + diag(gh_n r_g (1-r_g)) W_hr)
//              + diag((x - n) z (1-z)) W_hz + diag(z) - I
//   LSTM   g = W_hh h + c;  i, f = sig, gg = tanh, o = sig of its four blocks;
//          c' = f * c + i * gg;  r = [o tanh(c') - h, c' - c]
//          dc'/dh = diag(c f(1-f)) W_hf + diag(gg i(1-i)) W_hi + diag(i(1-gg^2)) W_hg
//          dh'/dh = diag(tanh(c') o(1-o)) W_ho + diag(o (1 - tanh^2 c')) dc'/dh
//          dc'/dc = diag(f),  dh'/dc = diag(o (1 - tanh^2 c') f);  A = J - I
//
// tanh, exp and log1p are the C library's. The sigmoid is evaluated as a ratio of
// positive terms on either side of 0, so a closed gate keeps its relative accuracy
// (as scipy.special.expit does in the NumPy reference).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "neurodyn/newton.h"

namespace neurodyn {
namespace newton {

// sigma(v) = 1 / (1 + e^{-v}) for v >= 0 and e^{v} / (1 + e^{v}) below: never forms
// e^{|v|}, so it cannot overflow, and keeps full relative accuracy in the lower tail.
inline double sigmoid(double v) {
    if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
    const double e = std::exp(v);
    return e / (1.0 + e);
}

// y = phi(z), dy = phi'(z) elementwise. phi'(0) = 0 for the kinked ones, as PyTorch
// takes relu'(0).
inline void phi_eval(int code, const double *z, double *y, double *dy, int64_t n) {
    switch (code) {
        case TANH:
            for (int64_t i = 0; i < n; ++i) {
                const double t = std::tanh(z[i]);
                y[i] = t;
                dy[i] = 1.0 - t * t;
            }
            break;
        case RELU:
            for (int64_t i = 0; i < n; ++i) {
                const double v = z[i];
                y[i] = v > 0.0 ? v : 0.0;
                dy[i] = v > 0.0 ? 1.0 : 0.0;
            }
            break;
        case SOFTPLUS:  // log(1 + e^v) = log1p(e^{-|v|}) + max(v, 0), without overflow
            for (int64_t i = 0; i < n; ++i) {
                const double v = z[i];
                y[i] = std::log1p(std::exp(-std::fabs(v))) + (v > 0.0 ? v : 0.0);
                dy[i] = sigmoid(v);
            }
            break;
        default:  // RECTIFIED_TANH: tanh(max(v, 0))
            for (int64_t i = 0; i < n; ++i) {
                const double v = z[i];
                const double t = v > 0.0 ? std::tanh(v) : 0.0;
                y[i] = t;
                dy[i] = v > 0.0 ? 1.0 - t * t : 0.0;
            }
    }
}

// out[k] = W[row0 + k] . v for k < row1 - row0 (rows of `cols` entries).
// The reduction may be reordered into SIMD lanes (omp simd): the dot products are
// 4-6x faster, and only the order of the sums changes, not IEEE semantics.
inline void matvec(const double *W, int64_t cols, const double *v, double *out, int64_t row0,
                   int64_t row1) {
    for (int64_t i = row0; i < row1; ++i) {
        const double *w = W + i * cols;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += w[j] * v[j];
        out[i - row0] = s;
    }
}

// Write the residual of state x into r, leaving in work what jacobian() needs.
inline void forward(const Model &m, const double *c, const double *x, double *r, double *work,
                    int64_t stride) {
    const int64_t d = m.d;
    double *w0 = work, *w1 = work + stride, *w2 = work + 2 * stride;
    if (m.code == RATE) {
        double *y = w0, *dy = w1, *z = w2;
        phi_eval(m.phi, x, y, dy, d);
        matvec(m.W, m.cols, y, z, 0, d);
        for (int64_t i = 0; i < d; ++i) r[i] = m.scale[i] * (-x[i] + z[i] + c[i]);
    } else if (m.code == ELMAN) {
        double *z = w0, *y = w1, *dy = w2;
        matvec(m.W, m.cols, x, z, 0, d);
        for (int64_t i = 0; i < d; ++i) z[i] += c[i];
        phi_eval(m.phi, z, y, dy, d);
        for (int64_t i = 0; i < d; ++i) r[i] = y[i] - x[i];
    } else if (m.code == GRU) {
        const int64_t h = d;
        double *gh = w0, *rg = w1, *zg = w2, *ng = work + 3 * stride;
        matvec(m.W, m.cols, x, gh, 0, 3 * h);
        for (int64_t i = 0; i < 3 * h; ++i) gh[i] += m.bias[i];
        for (int64_t i = 0; i < h; ++i) rg[i] = sigmoid(c[i] + gh[i]);
        for (int64_t i = 0; i < h; ++i) zg[i] = sigmoid(c[h + i] + gh[h + i]);
        for (int64_t i = 0; i < h; ++i) ng[i] = std::tanh(c[2 * h + i] + rg[i] * gh[2 * h + i]);
        for (int64_t i = 0; i < h; ++i) r[i] = (1.0 - zg[i]) * (ng[i] - x[i]);
    } else {  // LSTM
        const int64_t h = d / 2;
        const double *hs = x, *cs = x + h;
        double *g4 = w0, *ig = w1, *fg = w2, *gg = work + 3 * stride, *og = work + 4 * stride;
        double *cn = work + 5 * stride, *tc = work + 6 * stride;
        matvec(m.W, m.cols, hs, g4, 0, 4 * h);
        for (int64_t i = 0; i < 4 * h; ++i) g4[i] += c[i];
        for (int64_t i = 0; i < h; ++i) {
            ig[i] = sigmoid(g4[i]);
            fg[i] = sigmoid(g4[h + i]);
            gg[i] = std::tanh(g4[2 * h + i]);
            og[i] = sigmoid(g4[3 * h + i]);
            cn[i] = fg[i] * cs[i] + ig[i] * gg[i];
            tc[i] = std::tanh(cn[i]);
            r[i] = og[i] * tc[i] - hs[i];
            r[h + i] = cn[i] - cs[i];
        }
    }
}

// The Jacobian A (d, d, row-major) at x from the intermediates forward() left in work.
inline void jacobian(const Model &m, const double *x, double *A, const double *work,
                     int64_t stride) {
    const int64_t d = m.d, cols = m.cols;
    const double *W = m.W;
    if (m.code == RATE) {
        const double *dy = work + stride;
        for (int64_t i = 0; i < d; ++i) {
            const double s = m.scale[i];
            const double *w = W + i * cols;
            double *a = A + i * d;
            for (int64_t j = 0; j < d; ++j) a[j] = s * w[j] * dy[j];
            a[i] -= s;
        }
    } else if (m.code == ELMAN) {
        const double *dy = work + 2 * stride;
        for (int64_t i = 0; i < d; ++i) {
            const double *w = W + i * cols;
            double *a = A + i * d;
            for (int64_t j = 0; j < d; ++j) a[j] = dy[i] * w[j];
            a[i] -= 1.0;
        }
    } else if (m.code == GRU) {
        const int64_t h = d;
        const double *gh = work, *rg = work + stride, *zg = work + 2 * stride;
        const double *ng = work + 3 * stride;
        for (int64_t i = 0; i < h; ++i) {
            const double dn = (1.0 - zg[i]) * (1.0 - ng[i] * ng[i]);
            const double dr = rg[i] * (1.0 - rg[i]) * gh[2 * h + i];
            const double dz = (x[i] - ng[i]) * zg[i] * (1.0 - zg[i]);
            const double *w_r = W + i * cols, *w_z = W + (h + i) * cols;
            const double *w_n = W + (2 * h + i) * cols;
            double *a = A + i * d;
            for (int64_t j = 0; j < h; ++j) a[j] = dn * (rg[i] * w_n[j] + dr * w_r[j]) + dz * w_z[j];
            a[i] += zg[i] - 1.0;
        }
    } else {  // LSTM
        const int64_t h = d / 2;
        const double *ig = work + stride, *fg = work + 2 * stride, *gg = work + 3 * stride;
        const double *og = work + 4 * stride, *tc = work + 6 * stride;
        for (int64_t i = 0; i < h; ++i) {
            const double a_f = x[h + i] * fg[i] * (1.0 - fg[i]);
            const double a_i = gg[i] * ig[i] * (1.0 - ig[i]);
            const double a_g = ig[i] * (1.0 - gg[i] * gg[i]);
            const double a_o = tc[i] * og[i] * (1.0 - og[i]);
            const double k = og[i] * (1.0 - tc[i] * tc[i]);
            const double *w_i = W + i * cols, *w_f = W + (h + i) * cols;
            const double *w_g = W + (2 * h + i) * cols, *w_o = W + (3 * h + i) * cols;
            double *a_h = A + i * d, *a_c = A + (h + i) * d;
            for (int64_t j = 0; j < h; ++j) {
                const double dc = a_f * w_f[j] + a_i * w_i[j] + a_g * w_g[j];
                a_c[j] = dc;
                a_h[j] = a_o * w_o[j] + k * dc;
                a_h[h + j] = 0.0;
                a_c[h + j] = 0.0;
            }
            a_h[h + i] = k * fg[i];
            a_c[h + i] = fg[i];
        }
        for (int64_t i = 0; i < d; ++i) A[i * d + i] -= 1.0;
    }
}

}  // namespace newton
}  // namespace neurodyn
