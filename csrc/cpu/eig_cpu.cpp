// Batched eigendecomposition for linearization (see include/neurodyn/eig.h):
// real_eig or LAPACK's dgeev per matrix, the standard phase, R and R^{-1}, on OpenMP
// threads that take the matrices one at a time.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/eig.h"
#include "neurodyn/newton_lu.h"

namespace neurodyn {
namespace eig {
namespace {

using cplx = std::complex<double>;
constexpr double kEps = std::numeric_limits<double>::epsilon();

// dgeev's workspace for order d (one query, before the threads start).
int64_t geev_lwork(const Lapack &lapack, int64_t d) {
    if (lapack.geev == nullptr) return 0;
    char jobvl = 'N', jobvr = 'V';
    int n = static_cast<int>(d), ld = std::max(n, 1), one = 1, lwork = -1, info = 0;
    double query = 0.0, dummy = 0.0;
    lapack.geev(&jobvl, &jobvr, &n, &dummy, &ld, &dummy, &dummy, &dummy, &one, &dummy, &ld, &query,
                &lwork, &info);
    return std::max<int64_t>(static_cast<int64_t>(query), 4 * d);
}

// One thread's buffers.
struct Scratch {
    int64_t d, lwork;
    std::vector<double> a, wr, wi, V, vinv, hqr, geev, lu, growth, freq;
    std::vector<cplx> cwork, Rinv;
    std::vector<int> piv;
    std::vector<int64_t> order, pos;

    Scratch(int64_t d_, int64_t lwork_)
        : d(d_), lwork(lwork_), a(d_ * d_), wr(d_), wi(d_), V(d_ * d_), vinv(d_ * d_),
          hqr(real_eig_doubles(d_)), geev(std::max<int64_t>(lwork_, 1)), lu((d_ + 1) * d_),
          growth(d_), freq(d_), cwork(d_), Rinv(d_ * d_), piv(std::max<int64_t>(d_, 1)),
          order(d_), pos(d_) {}
};

// LAPACK's dgeev on the column-major copy s.a (destroyed); false unless info = 0.
bool geev(const Lapack &lapack, Scratch &s) {
    if (lapack.geev == nullptr) return false;
    char jobvl = 'N', jobvr = 'V';
    int n = static_cast<int>(s.d), one = 1, lwork = static_cast<int>(s.lwork), info = 0;
    double vl = 0.0;
    lapack.geev(&jobvl, &jobvr, &n, s.a.data(), &n, s.wr.data(), s.wi.data(), &vl, &one,
                s.V.data(), &n, s.geev.data(), &lwork, &info);
    return info == 0;
}

// Make the largest component of each eigenvector of V (dgeev's layout) real and
// positive: the eigen-equation leaves the phase free, and fixing it makes the result
// independent of the solver. A pair's vector v_r + i v_i is multiplied by
// conj(z) / |z|, z its largest component (the first, among equals).
void standard_phase(double *V, const double *wi, int64_t d) {
    int64_t j = 0;
    while (j < d) {
        double *vr = V + j * d;
        const bool pair = wi[j] > 0.0;
        double big = -1.0;
        int64_t at = 0;
        if (!pair) {
            for (int64_t i = 0; i < d; ++i) {
                const double m = vr[i] * vr[i];
                if (m > big) {
                    big = m;
                    at = i;
                }
            }
            if (vr[at] < 0.0)
                for (int64_t i = 0; i < d; ++i) vr[i] = -vr[i];
            j += 1;
            continue;
        }
        double *vi = vr + d;
        for (int64_t i = 0; i < d; ++i) {
            const double m = vr[i] * vr[i] + vi[i] * vi[i];
            if (m > big) {
                big = m;
                at = i;
            }
        }
        const double g = vr[at], h = vi[at], rho = std::hypot(g, h);
        const double cs = g / rho, sn = h / rho;
        for (int64_t i = 0; i < d; ++i) {
            const double re = vr[i], im = vi[i];
            vr[i] = cs * re + sn * im;
            vi[i] = cs * im - sn * re;
        }
        vi[at] = 0.0;
        j += 2;
    }
}

// Largest row sum of |m_ij| of a row-major d x d complex matrix: its inf-norm.
double inf_norm(const cplx *M, int64_t d) {
    double big = 0.0;
    for (int64_t i = 0; i < d; ++i) {
        const cplx *row = M + i * d;
        double s = 0.0;
        for (int64_t j = 0; j < d; ++j) {
            const double re = row[j].real(), im = row[j].imag();
            s += std::sqrt(re * re + im * im);
        }
        big = std::max(big, s);
    }
    return big;
}

// V^{-1} (row-major) of V (column-major, as in s.V) into `inv`; false if V is
// singular or the inverse is not finite. s.a, free by then, takes V row-major.
bool invert(const Lapack &lapack, Scratch &s, double *inv) {
    const int64_t d = s.d;
    double *M = s.a.data();
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j) M[i * d + j] = s.V[i + j * d];
    newton::LuScratch lu;
    lu.d = d;
    lu.lu = s.lu.data();
    lu.piv = s.piv.data();
    return newton::lu_factor(M, lu, lapack.lu) && newton::lu_inverse(lu, lapack.lu, inv);
}

// Growth rates and frequencies of the eigenvalues (wr, wi) into s, and the order
// that sorts them (see eig.h), with pos its inverse.
void sort_modes(const Batch &b, Scratch &s) {
    const int64_t d = s.d;
    const double *wr = s.wr.data(), *wi = s.wi.data();
    double *growth = s.growth.data(), *freq = s.freq.data();
    constexpr double kTwoPi = 2.0 * 3.14159265358979323846;
    for (int64_t j = 0; j < d; ++j) {
        if (b.is_map) {  // lam = 0 gives growth -inf
            growth[j] = std::log(std::hypot(wr[j], wi[j])) / b.dt;
            freq[j] = std::atan2(wi[j], wr[j]) / (kTwoPi * b.dt) * 1000.0;
        } else {
            growth[j] = wr[j];
            freq[j] = wi[j] / kTwoPi * 1000.0;
        }
    }
    int64_t *order = s.order.data();
    for (int64_t j = 0; j < d; ++j) order[j] = j;
    std::stable_sort(order, order + d, [growth, wi](int64_t p, int64_t q) {
        return growth[p] > growth[q] || (growth[p] == growth[q] && wi[p] > wi[q]);
    });
    for (int64_t j = 0; j < d; ++j) s.pos[order[j]] = j;
}

// Decompose matrix m of the batch with the thread's scratch.
void decompose(const Batch &b, const Lapack &lapack, int64_t small_max, int64_t sweeps, Scratch &s,
               int64_t m) {
    const int64_t d = b.d;
    const double *J = b.J + m * d * d;
    for (int64_t i = 0; i < d * d; ++i)
        if (!std::isfinite(J[i])) {
            b.info[m] = NOT_FINITE;
            return;
        }
    // LAPACK and real_eig are column-major: the transposed copy is J itself to them.
    double *a = s.a.data();
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j) a[i + j * d] = J[i * d + j];
    bool ok = d <= small_max &&
              real_eig(d, a, s.wr.data(), s.wi.data(), s.V.data(), s.hqr.data(), s.cwork.data(),
                       sweeps);
    if (!ok) {
        if (d <= small_max)  // real_eig failed: dgeev on a fresh copy
            for (int64_t i = 0; i < d; ++i)
                for (int64_t j = 0; j < d; ++j) a[i + j * d] = J[i * d + j];
        ok = geev(lapack, s);
    }
    if (!ok) {
        b.info[m] = NO_CONVERGENCE;
        return;
    }
    b.info[m] = OK;
    const double *wr = s.wr.data(), *wi = s.wi.data();
    double *V = s.V.data();
    standard_phase(V, wi, d);
    sort_modes(b, s);
    const int64_t *order = s.order.data(), *pos = s.pos.data();
    cplx *lam = b.lam + m * d, *R = b.right + m * d * d;
    for (int64_t t = 0; t < d; ++t) {
        const int64_t j = order[t];
        lam[t] = cplx(wr[j], wi[j]);
        b.growth[m * d + t] = s.growth[j];
        b.freq[m * d + t] = s.freq[j];
    }
    // Column pos[j] of R: a real vector, or v_r + i v_i (wi > 0) and its conjugate
    // (wi < 0).
    for (int64_t j = 0; j < d; ++j) {
        const int64_t t = pos[j];
        const double *re = V + (wi[j] < 0.0 ? j - 1 : j) * d;
        if (wi[j] == 0.0) {
            for (int64_t i = 0; i < d; ++i) R[i * d + t] = cplx(re[i], 0.0);
        } else {
            const double *im = V + (wi[j] > 0.0 ? j + 1 : j) * d;
            const double sgn = wi[j] > 0.0 ? 1.0 : -1.0;
            for (int64_t i = 0; i < d; ++i) R[i * d + t] = cplx(re[i], sgn * im[i]);
        }
    }
    b.singular[m] = 0;
    if (b.left == nullptr) return;
    // V^{-1}, then R^{-1} = S^{-1} V^{-1} (eig.h), its rows in the sorted order.
    double *Vinv = s.vinv.data();
    if (!invert(lapack, s, Vinv)) {
        b.singular[m] = 1;
        return;
    }
    cplx *Rinv = s.Rinv.data();
    for (int64_t j = 0; j < d; ++j) {
        cplx *row = Rinv + pos[j] * d;
        if (wi[j] == 0.0) {
            const double *v = Vinv + j * d;
            for (int64_t i = 0; i < d; ++i) row[i] = cplx(v[i], 0.0);
        } else {
            const int64_t first = wi[j] > 0.0 ? j : j - 1;
            const double *vr = Vinv + first * d, *vi = Vinv + (first + 1) * d;
            const double sgn = wi[j] > 0.0 ? -0.5 : 0.5;
            for (int64_t i = 0; i < d; ++i) row[i] = cplx(0.5 * vr[i], sgn * vi[i]);
        }
    }
    // Singular to working precision (NaN counts as singular).
    const double cond = inf_norm(R, d) * inf_norm(Rinv, d);
    if (!(cond * kEps < 1.0)) {
        b.singular[m] = 1;
        return;
    }
    cplx *L = b.left + m * d * d;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t t = 0; t < d; ++t) L[i * d + t] = std::conj(Rinv[t * d + i]);
    // proj = R^{-1} B, by rows of R^{-1} and of B (contiguous inner loops).
    const int64_t nb = b.nb;
    const double *B = b.B + m * d * nb;
    cplx *P = b.proj + m * d * nb;
    for (int64_t t = 0; t < d; ++t) {
        cplx *p = P + t * nb;
        for (int64_t c = 0; c < nb; ++c) p[c] = 0.0;
        const cplx *row = Rinv + t * d;
        for (int64_t i = 0; i < d; ++i) {
            const double re = row[i].real(), im = row[i].imag();
            const double *bi = B + i * nb;
            for (int64_t c = 0; c < nb; ++c) p[c] += cplx(re * bi[c], im * bi[c]);
        }
    }
}

}  // namespace

void eig_batch(const Batch &batch, const Lapack &lapack, int64_t small_max, int64_t sweeps,
               int threads) {
    const int64_t k = batch.k, d = batch.d;
    if (k == 0) return;
    int n_threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, k)));
#ifndef _OPENMP
    n_threads = 1;
#endif
    // Every thread's scratch, dgeev's workspace included (the fallback where real_eig
    // fails needs it too), allocated here so that an allocation failure is an
    // exception in the caller, not in a parallel region.
    const int64_t lwork = geev_lwork(lapack, d);
    std::vector<Scratch> scratch;
    scratch.reserve(n_threads);
    for (int t = 0; t < n_threads; ++t) scratch.emplace_back(d, lwork);
    if (n_threads == 1) {
        for (int64_t m = 0; m < k; ++m) decompose(batch, lapack, small_max, sweeps, scratch[0], m);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int64_t m = 0; m < k; ++m)
        decompose(batch, lapack, small_max, sweeps, scratch[omp_get_thread_num()], m);
#endif
}

}  // namespace eig
}  // namespace neurodyn
