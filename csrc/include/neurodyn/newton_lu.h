// LU factorisation with partial pivoting for the fixed-point kernel: factor once,
// solve many times (the chord steps reuse each Jacobian's factors).
//
//   P M = L U,  L unit lower triangular, U upper triangular;  M x = b  <=>
//   L y = P b (forward substitution), U x = y (back substitution).
//
// Up to kSmallLU the factorisation is written out here, in the caller's buffers:
// for small matrices the call and copy overhead of LAPACK dominates. Above it,
// LAPACK's blocked dgetrf/dgetrs (the ones SciPy ships, passed in as pointers) are
// faster. LAPACK is column-major, so it sees the row-major buffer holding M as
// M^T: the factors are those of M^T, and the solve asks for the transposed system.
//
// Scratch (LuScratch): `lu` of (d + 1) x d doubles (the factors; the hand-written LU
// keeps the pivot row and then the reciprocals of U's diagonal in the last row) and
// `piv` of d ints. Both functions return false when the matrix is singular (a zero
// pivot), has non-finite entries, or the solution is not finite.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "neurodyn/newton.h"
#include "neurodyn/newton_lanes.h"

namespace neurodyn {
namespace newton {

// Up to this order the hand-written LU is used: a factorisation and three solves by
// hand were 1.5x as fast as LAPACK at d = 32 and 1.2x at 48; LAPACK wins from ~56.
constexpr int64_t kSmallLU = 48;

struct LuScratch {
    int64_t d = 0;
    double *lu = nullptr;  // (d + 1) * d
    int *piv = nullptr;    // d
};

inline bool all_finite(const double *v, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(v[i])) return false;
    return true;
}

// Factor the (d, d) row-major M into s; false if M is singular or not finite.
inline bool lu_factor(const double *M, LuScratch &s, const Lapack &lapack) {
    const int64_t d = s.d;
    double *lu = s.lu;
    if (d > kSmallLU && lapack.getrf != nullptr) {
        if (!all_finite(M, d * d)) return false;
        std::memcpy(lu, M, sizeof(double) * d * d);
        int n = static_cast<int>(d), info = 0;
        lapack.getrf(&n, &n, lu, &n, s.piv, &info);
        return info == 0;  // info > 0: an exactly zero pivot
    }
    std::memcpy(lu, M, sizeof(double) * d * d);
    double *urow = lu + d * d;  // the last row
    for (int64_t k = 0; k < d; ++k) {
        int64_t p = k;
        double big = std::fabs(lu[k * d + k]);
        for (int64_t i = k + 1; i < d; ++i) {
            const double v = std::fabs(lu[i * d + k]);
            if (v > big) {
                big = v;
                p = i;
            }
        }
        s.piv[k] = static_cast<int>(p);
        if (big == 0.0 || !std::isfinite(big)) return false;
        if (p != k)
            for (int64_t j = 0; j < d; ++j) std::swap(lu[k * d + j], lu[p * d + j]);
        const double inv = 1.0 / lu[k * d + k];
        // Eliminate with whole rows: the pivot row, zeroed at and left of the diagonal,
        // leaves the multipliers stored there untouched, and a loop over all d columns
        // vectorises where one over j > k would pay its set-up for every row and k.
        for (int64_t j = 0; j < d; ++j) urow[j] = j > k ? lu[k * d + j] : 0.0;
        for (int64_t i = k + 1; i < d; ++i) {
            double *row = lu + i * d;
            const double f = row[k] * inv;
            for (int64_t j = 0; j < d; ++j) row[j] -= f * urow[j];
            row[k] = f;
        }
    }
    for (int64_t k = 0; k < d; ++k) urow[k] = 1.0 / lu[k * d + k];
    return true;
}

// out = M^{-1} b from lu_factor's factors (out may not alias b); false if not finite.
inline bool lu_solve(const LuScratch &s, const Lapack &lapack, const double *b, double *out) {
    const int64_t d = s.d;
    const double *lu = s.lu;
    std::memcpy(out, b, sizeof(double) * d);
    if (d > kSmallLU && lapack.getrs != nullptr) {
        int n = static_cast<int>(d), one = 1, info = 0;
        char trans = 'T';
        lapack.getrs(&trans, &n, &one, s.lu, &n, s.piv, out, &n, &info);
    } else {
        for (int64_t k = 0; k < d; ++k) {
            const int64_t p = s.piv[k];
            if (p != k) std::swap(out[k], out[p]);
        }
        for (int64_t i = 0; i < d; ++i) {  // L y = P b
            double t = out[i];
            const double *row = lu + i * d;
            for (int64_t j = 0; j < i; ++j) t -= row[j] * out[j];
            out[i] = t;
        }
        // U x = y from the bottom up; each row sums from the far end, so the term
        // with the newest unknown comes last and the rest need not wait for it.
        const double *rdiag = lu + d * d;
        for (int64_t i = d - 1; i >= 0; --i) {
            double t = out[i];
            const double *row = lu + i * d;
            for (int64_t j = d - 1; j > i; --j) t -= row[j] * out[j];
            out[i] = t * rdiag[i];
        }
    }
    return all_finite(out, d);
}

// X = M^{-1} (d x d, row-major, not aliasing the factors) from lu_factor's factors;
// false if not finite. By hand, all d right-hand sides at once: P M = L U gives
// X = U^{-1} L^{-1} P, and every update is a whole row of X (contiguous, so it
// vectorises), d^3 multiply-adds in all instead of d scalar solves. LAPACK holds the
// factors of M^T: its plain solve M^T Y = I gives Y = M^{-T} column-major, which is
// M^{-1} row-major.
inline bool lu_inverse(const LuScratch &s, const Lapack &lapack, double *X) {
    const int64_t d = s.d;
    const double *lu = s.lu;
    std::fill(X, X + d * d, 0.0);
    for (int64_t i = 0; i < d; ++i) X[i * d + i] = 1.0;
    if (d > kSmallLU && lapack.getrs != nullptr) {
        int n = static_cast<int>(d), info = 0;
        char trans = 'N';
        lapack.getrs(&trans, &n, &n, s.lu, &n, s.piv, X, &n, &info);
        return all_finite(X, d * d);
    }
    for (int64_t k = 0; k < d; ++k) {
        const int64_t p = s.piv[k];
        if (p != k)
            for (int64_t j = 0; j < d; ++j) std::swap(X[k * d + j], X[p * d + j]);
    }
    for (int64_t i = 1; i < d; ++i) {  // L Y = P
        double *xi = X + i * d;
        const double *row = lu + i * d;
        for (int64_t j = 0; j < i; ++j) {
            const double l = row[j];
            const double *xj = X + j * d;
            for (int64_t c = 0; c < d; ++c) xi[c] -= l * xj[c];
        }
    }
    const double *rdiag = lu + d * d;
    for (int64_t i = d - 1; i >= 0; --i) {  // U X = Y
        double *xi = X + i * d;
        const double *row = lu + i * d;
        for (int64_t j = i + 1; j < d; ++j) {
            const double u = row[j];
            const double *xj = X + j * d;
            for (int64_t c = 0; c < d; ++c) xi[c] -= u * xj[c];
        }
        const double r = rdiag[i];
        for (int64_t c = 0; c < d; ++c) xi[c] *= r;
    }
    return all_finite(X, d * d);
}

// The same factorisation and solve for L matrices at once (L > 1), lane-interleaved
// as in newton_lanes.h: entry (i, j) is the vector at [i * d + j]. Each lane takes
// exactly the steps lu_factor and lu_solve take for it (the same pivots, the same
// products and differences in the same order), so its factors and solutions are those
// of L = 1; only the pivot rows' exchanges are done lane by lane. The elimination runs
// over the columns right of the pivot only, where lu_factor sweeps whole rows (which
// changes nothing but the sign of a zero multiplier).
template <int L>
struct LaneFactors {
    using V = typename Lanes<L>::V;
    int64_t d = 0;
    V *lu = nullptr;     // d * d: multipliers below the diagonal, U on and above
    V *rdiag = nullptr;  // d: the reciprocals of U's diagonal
    int *piv = nullptr;  // d * L: the row exchanged with row k at step k, per lane
};

// Factor the L matrices M into f; ok[l]: lane l is not singular and finite.
template <int L>
NEURODYN_LANE_INLINE void lanes_factor(const typename Lanes<L>::V *M, const LaneFactors<L> &f,
                                       bool *ok) {
    using V = typename Lanes<L>::V;
    using Mk = typename Lanes<L>::M;
    const int64_t d = f.d;
    V *lu = f.lu;
    std::memcpy(static_cast<void *>(lu), M, sizeof(V) * d * d);
    const Mk magnitude = Mk{} + 0x7fffffffffffffffLL;  // |x|: all bits but the sign
    Mk good = Mk{} - 1;                                 // all ones: every lane so far
    for (int64_t k = 0; k < d; ++k) {
        // The first largest |entry| of column k at or below the diagonal, per lane.
        V big = (V)((Mk)lu[k * d + k] & magnitude);
        Mk p = Mk{} + k;
        for (int64_t i = k + 1; i < d; ++i) {
            const V v = (V)((Mk)lu[i * d + k] & magnitude);
            const Mk larger = v > big;
            blend<L>(big, larger, v);
            p = (p & ~larger) | (larger & (Mk{} + i));
        }
        good &= (big != 0.0) & (big - big == 0.0);  // nonzero and finite
        for (int l = 0; l < L; ++l) {
            const int64_t pl = p[l];
            f.piv[k * L + l] = static_cast<int>(pl);
            if (pl != k)
                for (int64_t j = 0; j < d; ++j)
                    std::swap(lane<L>(lu, k * d + j, l), lane<L>(lu, pl * d + j, l));
        }
        const V inv = 1.0 / lu[k * d + k];
        for (int64_t i = k + 1; i < d; ++i) {
            const V fac = lu[i * d + k] * inv;
            V *row = lu + i * d;
            const V *urow = lu + k * d;
            for (int64_t j = k + 1; j < d; ++j) row[j] -= fac * urow[j];
            row[k] = fac;
        }
    }
    for (int64_t k = 0; k < d; ++k) f.rdiag[k] = 1.0 / lu[k * d + k];
    for (int l = 0; l < L; ++l) ok[l] = good[l] != 0;
}

// out = M^{-1} b per lane from lanes_factor's factors (out may not alias b); ok[l]:
// lane l's solution is finite.
template <int L>
NEURODYN_LANE_INLINE void lanes_solve(const LaneFactors<L> &f, const typename Lanes<L>::V *b,
                        typename Lanes<L>::V *out, bool *ok) {
    using V = typename Lanes<L>::V;
    using Mk = typename Lanes<L>::M;
    const int64_t d = f.d;
    const V *lu = f.lu;
    std::memcpy(static_cast<void *>(out), b, sizeof(V) * d);
    for (int64_t k = 0; k < d; ++k)
        for (int l = 0; l < L; ++l) {
            const int64_t p = f.piv[k * L + l];
            std::swap(lane<L>(out, k, l), lane<L>(out, p, l));
        }
    for (int64_t i = 0; i < d; ++i) {  // L y = P b
        V t = out[i];
        for (int64_t j = 0; j < i; ++j) t -= lu[i * d + j] * out[j];
        out[i] = t;
    }
    Mk finite = Mk{} - 1;
    for (int64_t i = d - 1; i >= 0; --i) {  // U x = y, each row summed from the far end
        V t = out[i];
        for (int64_t j = d - 1; j > i; --j) t -= lu[i * d + j] * out[j];
        out[i] = t * f.rdiag[i];
        finite &= out[i] - out[i] == 0.0;
    }
    for (int l = 0; l < L; ++l) ok[l] = finite[l] != 0;
}

}  // namespace newton
}  // namespace neurodyn
