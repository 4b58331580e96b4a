// Model evaluation for the fixed-point kernel: the residual r(x) and its Jacobian
// A = dr/dx of the four structured models (codes in newton.h), for L states at once.
//
// Lanes: the kernel carries L candidates in lockstep (L = 1 is one candidate), so
// every entry of the model's vectors and matrices is a vector of L lanes
// (newton_lanes.h). Each lane's arithmetic is exactly the arithmetic of L = 1, in the
// same order: no sum is ever reordered, so the lane count changes no result.
//
// The residual and the Jacobian are two calls: forward() leaves in `work` the
// intermediates (phi'(x), the gates) that jacobian() needs, so the solver, which
// evaluates residuals at trial points and needs the Jacobian only where it accepts
// one, never runs a forward pass twice. `work` holds 7 rows of `stride` =
// max(rows, d) entries.
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
// phi = tanh (and the rectified tanh) is computed here, within 2 ulp (tanh_lanes);
// the GRU's and LSTM's tanh, exp and log1p are the C library's. The sigmoid is
// evaluated as a ratio of positive terms on either side of 0, so a closed gate keeps
// its relative accuracy (as scipy.special.expit does in the NumPy reference).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "neurodyn/newton.h"
#include "neurodyn/newton_lanes.h"

namespace neurodyn {
namespace newton {

// sigma(v) = 1 / (1 + e^{-v}) for v >= 0 and e^{v} / (1 + e^{v}) below: never forms
// e^{|v|}, so it cannot overflow, and keeps full relative accuracy in the lower tail.
inline double sigmoid(double v) {
    if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
    const double e = std::exp(v);
    return e / (1.0 + e);
}

// t = tanh(v) in every lane, from arithmetic alone, so that it vectorises (the C
// library's tanh is one call per value, and was 40% of the kernel's time). Cephes'
// method (S. Moshier): for |v| < 0.625 the rational approximation
// tanh a = a + a z P(z) / Q(z), z = a^2, of relative error below 3e-17; above,
// tanh a = 1 - 2 / (e^{2a} + 1) with e^y = 2^n e^r, n = round(y / ln 2),
// r = y - n ln 2 (ln 2 in two parts, the first exact in n ln2_hi), and
// e^r = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) (relative error below 3e-17); 2^n from the
// exponent bits. Past 2a = 40, e^{2a} + 1 makes 1 - 2/(e^{2a} + 1) round to 1, the
// limit. Within 2 ulp of tanh (tested in extended precision); NaN stays NaN, and the
// sign is v's, so tanh(-0) = -0.
template <int L>
NEURODYN_LANE_INLINE void tanh_lanes(const typename Lanes<L>::V &v, typename Lanes<L>::V &t) {
    using V = typename Lanes<L>::V;
    using M = typename Lanes<L>::M;
    const M sign = M{} + static_cast<int64_t>(0x8000000000000000ULL);
    M vb, ab;
    to_bits<L>(v, vb);
    ab = vb & ~sign;
    V a;
    from_bits<L>(ab, a);
    // |v| < 0.625
    const V z = a * a;
    const V p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z -
                1.61468768441708447952e3;
    const V q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z +
                4.84406305325125486048e3;
    const V small = a + a * z * p / q;
    // |v| >= 0.625: y = 2a, at most 40 (a NaN stays NaN: the comparison is false)
    V y = 2.0 * a;
    const M big = y > 40.0;
    const V cap = V{} + 40.0;
    blend<L>(y, big, cap);
    const V magic = V{} + 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
    const V shifted = y * 1.4426950408889634074 + magic;
    const V n = shifted - magic;
    const V r = (y - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
    const V rr = r * r;
    const V rp = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                      9.99999999999999999910e-1);
    const V rq = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                  2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    const V er = 1.0 + 2.0 * (rp / (rq - rp));
    M sb, mb;
    to_bits<L>(shifted, sb);
    to_bits<L>(magic, mb);
    const M pow2 = (((sb - mb) + 1023) & 0x7ff) << 52;  // 2^n from n, the difference of the bits
    V scale;
    from_bits<L>(pow2, scale);
    t = 1.0 - 2.0 / (er * scale + 1.0);
    const M below = a < 0.625;
    blend<L>(t, below, small);
    M tb;
    to_bits<L>(t, tb);
    tb |= vb & sign;
    from_bits<L>(tb, t);
}

// y = phi(z), dy = phi'(z) for one value (tanh as tanh_lanes computes it). phi'(0) = 0
// for the kinked ones, as PyTorch takes relu'(0).
inline void phi_eval(int code, double v, double &y, double &dy) {
    switch (code) {
        case TANH:
            tanh_lanes<1>(v, y);
            dy = 1.0 - y * y;
            break;
        case RELU:
            y = v > 0.0 ? v : 0.0;
            dy = v > 0.0 ? 1.0 : 0.0;
            break;
        case SOFTPLUS:  // log(1 + e^v) = log1p(e^{-|v|}) + max(v, 0), without overflow
            y = std::log1p(std::exp(-std::fabs(v))) + (v > 0.0 ? v : 0.0);
            dy = sigmoid(v);
            break;
        default:  // RECTIFIED_TANH: tanh(max(v, 0))
            y = 0.0;
            if (v > 0.0) tanh_lanes<1>(v, y);
            dy = v > 0.0 ? 1.0 - y * y : 0.0;
    }
}

// y = phi(z), dy = phi'(z) for the n entries of every lane. The lanes in `live` are
// those whose state changed since the last evaluation into the same buffers; every
// other lane either holds the same state (so its intermediates come out the same) or
// is scratch. So the C library's functions (softplus here, the gates of the GRU and
// LSTM), one call per value, run for the live lanes only; tanh and ReLU, plain
// arithmetic, run on all lanes, where they vectorise.
template <int L>
NEURODYN_LANE_INLINE void phi_lanes(int code, const typename Lanes<L>::V *z,
                                    typename Lanes<L>::V *y, typename Lanes<L>::V *dy, int64_t n,
                                    const LaneMask<L> &live) {
    using V = typename Lanes<L>::V;
    using M = typename Lanes<L>::M;
    const V zero = {}, one = zero + 1.0;
    if (code == TANH) {
        for (int64_t i = 0; i < n; ++i) {
            V t;
            tanh_lanes<L>(z[i], t);
            y[i] = t;
            dy[i] = 1.0 - t * t;
        }
    } else if (code == RECTIFIED_TANH) {  // tanh(max(v, 0))
        for (int64_t i = 0; i < n; ++i) {
            const M pos = z[i] > 0.0;
            V v = zero, t;
            blend<L>(v, pos, z[i]);
            tanh_lanes<L>(v, t);
            V dt = zero;
            const V slope = 1.0 - t * t;
            blend<L>(dt, pos, slope);
            y[i] = t;
            dy[i] = dt;
        }
    } else if (code == RELU) {
        for (int64_t i = 0; i < n; ++i) {
            const M pos = z[i] > 0.0;
            V v = zero, s = zero;
            blend<L>(v, pos, z[i]);
            blend<L>(s, pos, one);
            y[i] = v;
            dy[i] = s;
        }
    } else {
        for (int64_t i = 0; i < n; ++i)
            for (int l = 0; l < L; ++l)
                if (live.on[l])
                    phi_eval(code, lane<L>(z, i, l), lane<L>(y, i, l), lane<L>(dy, i, l));
    }
}

// out[k] = W[row0 + k] . v for k < row1 - row0 (rows of `cols` entries), per lane.
// Each dot product is four interleaved partial sums (entry j goes to sum j mod 4),
// added as (s0 + s1) + (s2 + s3): an order fixed here, not by the compiler, so that one
// lane and eight give the same bits, and one that vectorises even for one lane.
template <int L>
NEURODYN_LANE_INLINE void matvec(const double *W, int64_t cols, const typename Lanes<L>::V *v,
                   typename Lanes<L>::V *out, int64_t row0, int64_t row1) {
    using V = typename Lanes<L>::V;
    for (int64_t i = row0; i < row1; ++i) {
        const double *w = W + i * cols;
        V s[4] = {};
        int64_t j = 0;
        for (; j + 4 <= cols; j += 4)
            for (int a = 0; a < 4; ++a) s[a] += w[j + a] * v[j + a];
        for (int a = 0; j < cols; ++j, ++a) s[a] += w[j] * v[j];
        out[i - row0] = (s[0] + s[1]) + (s[2] + s[3]);
    }
}

// Write the residual of the states x into r, leaving in work what jacobian() needs;
// c holds each lane's prepared input (width entries). The C library's functions run
// for the lanes in `live` only (see phi_lanes).
template <int L>
NEURODYN_LANE_INLINE void forward(const Model &m, const typename Lanes<L>::V *c,
                                  const typename Lanes<L>::V *x, typename Lanes<L>::V *r,
                                  typename Lanes<L>::V *work, int64_t stride,
                                  const LaneMask<L> &live) {
    using V = typename Lanes<L>::V;
    const int64_t d = m.d;
    V *w0 = work, *w1 = work + stride, *w2 = work + 2 * stride;
    if (m.code == RATE) {
        V *y = w0, *dy = w1, *z = w2;
        phi_lanes<L>(m.phi, x, y, dy, d, live);
        matvec<L>(m.W, m.cols, y, z, 0, d);
        for (int64_t i = 0; i < d; ++i) r[i] = m.scale[i] * (-x[i] + z[i] + c[i]);
    } else if (m.code == ELMAN) {
        V *z = w0, *y = w1, *dy = w2;
        matvec<L>(m.W, m.cols, x, z, 0, d);
        for (int64_t i = 0; i < d; ++i) z[i] += c[i];
        phi_lanes<L>(m.phi, z, y, dy, d, live);
        for (int64_t i = 0; i < d; ++i) r[i] = y[i] - x[i];
    } else if (m.code == GRU) {
        const int64_t h = d;
        V *gh = w0, *rg = w1, *zg = w2, *ng = work + 3 * stride;
        matvec<L>(m.W, m.cols, x, gh, 0, 3 * h);
        for (int64_t i = 0; i < 3 * h; ++i) gh[i] += m.bias[i];
        for (int64_t i = 0; i < h; ++i)
            for (int l = 0; l < L; ++l) {
                if (!live.on[l]) continue;
                const double rv = sigmoid(lane<L>(c, i, l) + lane<L>(gh, i, l));
                lane<L>(rg, i, l) = rv;
                lane<L>(zg, i, l) = sigmoid(lane<L>(c, h + i, l) + lane<L>(gh, h + i, l));
                lane<L>(ng, i, l) =
                    std::tanh(lane<L>(c, 2 * h + i, l) + rv * lane<L>(gh, 2 * h + i, l));
            }
        for (int64_t i = 0; i < h; ++i) r[i] = (1.0 - zg[i]) * (ng[i] - x[i]);
    } else {  // LSTM
        const int64_t h = d / 2;
        const V *hs = x, *cs = x + h;
        V *g4 = w0, *ig = w1, *fg = w2, *gg = work + 3 * stride, *og = work + 4 * stride;
        V *cn = work + 5 * stride, *tc = work + 6 * stride;
        matvec<L>(m.W, m.cols, hs, g4, 0, 4 * h);
        for (int64_t i = 0; i < 4 * h; ++i) g4[i] += c[i];
        for (int64_t i = 0; i < h; ++i)
            for (int l = 0; l < L; ++l) {
                if (!live.on[l]) continue;
                const double iv = sigmoid(lane<L>(g4, i, l)), fv = sigmoid(lane<L>(g4, h + i, l));
                const double gv = std::tanh(lane<L>(g4, 2 * h + i, l));
                const double cv = fv * lane<L>(cs, i, l) + iv * gv;
                lane<L>(ig, i, l) = iv;
                lane<L>(fg, i, l) = fv;
                lane<L>(gg, i, l) = gv;
                lane<L>(og, i, l) = sigmoid(lane<L>(g4, 3 * h + i, l));
                lane<L>(cn, i, l) = cv;
                lane<L>(tc, i, l) = std::tanh(cv);
            }
        for (int64_t i = 0; i < h; ++i) {
            r[i] = og[i] * tc[i] - hs[i];
            r[h + i] = cn[i] - cs[i];
        }
    }
}

// The Jacobians A (d x d entries) at x from the intermediates forward() left in work,
// written for the lanes in `keep` only (the others keep theirs).
template <int L>
NEURODYN_LANE_INLINE void jacobian(const Model &m, const typename Lanes<L>::V *x,
                                   typename Lanes<L>::V *A, const typename Lanes<L>::V *work,
                                   int64_t stride, const LaneMask<L> &keep) {
    using V = typename Lanes<L>::V;
    typename Lanes<L>::M bits;
    lane_bits<L>(keep, bits);
    const int64_t d = m.d, cols = m.cols;
    const double *W = m.W;
    if (m.code == RATE) {
        const V *dy = work + stride;
        for (int64_t i = 0; i < d; ++i) {
            const double s = m.scale[i];
            const double *w = W + i * cols;
            for (int64_t j = 0; j < d; ++j) {
                const V a = s * w[j] * dy[j] - (i == j ? s : 0.0);
                blend<L>(A[i * d + j], bits, a);
            }
        }
    } else if (m.code == ELMAN) {
        const V *dy = work + 2 * stride;
        for (int64_t i = 0; i < d; ++i) {
            const double *w = W + i * cols;
            for (int64_t j = 0; j < d; ++j) {
                const V a = dy[i] * w[j] - (i == j ? 1.0 : 0.0);
                blend<L>(A[i * d + j], bits, a);
            }
        }
    } else if (m.code == GRU) {
        const int64_t h = d;
        const V *gh = work, *rg = work + stride, *zg = work + 2 * stride, *ng = work + 3 * stride;
        for (int64_t i = 0; i < h; ++i) {
            const double *w_r = W + i * cols, *w_z = W + (h + i) * cols;
            const double *w_n = W + (2 * h + i) * cols;
            const V dn = (1.0 - zg[i]) * (1.0 - ng[i] * ng[i]);
            const V dr = rg[i] * (1.0 - rg[i]) * gh[2 * h + i];
            const V dz = (x[i] - ng[i]) * zg[i] * (1.0 - zg[i]);
            for (int64_t j = 0; j < h; ++j) {
                const V a = dn * (rg[i] * w_n[j] + dr * w_r[j]) + dz * w_z[j];
                const V diag = a + (zg[i] - 1.0);
                blend<L>(A[i * d + j], bits, i == j ? diag : a);
            }
        }
    } else {  // LSTM
        const int64_t h = d / 2;
        const V *ig = work + stride, *fg = work + 2 * stride, *gg = work + 3 * stride;
        const V *og = work + 4 * stride, *tc = work + 6 * stride;
        const V zero = {};
        for (int64_t i = 0; i < h; ++i) {
            const double *w_i = W + i * cols, *w_f = W + (h + i) * cols;
            const double *w_g = W + (2 * h + i) * cols, *w_o = W + (3 * h + i) * cols;
            const V a_f = x[h + i] * fg[i] * (1.0 - fg[i]);
            const V a_i = gg[i] * ig[i] * (1.0 - ig[i]);
            const V a_g = ig[i] * (1.0 - gg[i] * gg[i]);
            const V a_o = tc[i] * og[i] * (1.0 - og[i]);
            const V k = og[i] * (1.0 - tc[i] * tc[i]);
            const V kf = k * fg[i], f1 = fg[i] - 1.0;
            for (int64_t j = 0; j < h; ++j) {
                const bool diag = i == j;
                const V dc = a_f * w_f[j] + a_i * w_i[j] + a_g * w_g[j];
                const V hh = a_o * w_o[j] + k * dc - (diag ? 1.0 : 0.0);
                blend<L>(A[i * d + j], bits, hh);                       // dh'/dh - I
                blend<L>(A[(h + i) * d + j], bits, dc);                   // dc'/dh
                blend<L>(A[i * d + h + j], bits, diag ? kf : zero);     // dh'/dc
                blend<L>(A[(h + i) * d + h + j], bits, diag ? f1 : zero);  // dc'/dc - I
            }
        }
    }
}

}  // namespace newton
}  // namespace neurodyn
