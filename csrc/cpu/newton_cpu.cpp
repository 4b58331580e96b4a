// CPU kernel of the fixed-point search (see include/neurodyn/newton.h for the
// algorithm's steps, newton_model.h for the models and newton_lu.h for the LU).
// Each thread carries one candidate at a time to its end, so converged candidates
// cost nothing while stragglers finish; the threads take blocks of candidates
// dynamically from OpenMP's shared counter.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/newton.h"
#include "neurodyn/newton_lu.h"
#include "neurodyn/newton_model.h"

namespace neurodyn {
namespace newton {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// q = |v|^2 / 2.
inline double half_sq(const double *v, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += v[i] * v[i];
    return 0.5 * s;
}

inline double norm(const double *v, int64_t n) { return std::sqrt(2.0 * half_sq(v, n)); }

// The largest |x_i|; NaN if any entry is NaN.
inline double maxabs(const double *x, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const double v = std::fabs(x[i]);
        if (!(v <= m)) m = v;
    }
    return m;
}

// How far x lies outside lower <= x <= upper: max_i max(lower_i - x_i, x_i - upper_i, 0).
inline double excursion(const Bounds &b, const double *x, int64_t n) {
    double e = 0.0;
    for (int64_t i = 0; i < n; ++i) e = std::max(e, std::max(b.lower[i] - x[i], x[i] - b.upper[i]));
    return e;
}

// Whether two full steps delta1 = prev_full > delta2 = last_full locate the root at x:
// their geometric tail delta2^2 / (delta1 - delta2) (the remaining error while the
// iteration contracts at least that fast) is below root_xtol (1 + |x|).
inline bool located(double last_full, double prev_full, const double *x, int64_t d,
                    double root_xtol) {
    return last_full < prev_full && prev_full < kInf &&
           last_full * last_full <= root_xtol * (1.0 + norm(x, d)) * (prev_full - last_full);
}

// One thread's buffers, carved from one allocation made before the parallel region.
struct Scratch {
    double *r, *rn, *g, *dx, *xn, *neg, *rc, *xc, *x, *hdiag;
    double *A, *H, *work, *work2;
    LuScratch lu;

    static int64_t doubles(int64_t d, int64_t stride) {
        return 10 * d + 2 * d * d + 14 * stride + (d + 1) * d;
    }

    Scratch(double *p, int *ints, int64_t d, int64_t stride) {
        double **vecs[] = {&r, &rn, &g, &dx, &xn, &neg, &rc, &xc, &x, &hdiag};
        for (double **v : vecs) {
            *v = p;
            p += d;
        }
        A = p;
        H = p + d * d;
        work = H + d * d;
        work2 = work + 7 * stride;
        lu.d = d;
        lu.lu = work2 + 7 * stride;
        lu.piv = ints;
    }
};

// The per-candidate solver: the steps of newton.h for one candidate at a time.
class Solver {
   public:
    Solver(const Model &m, const Options &o, const Known &k, const Bounds &b, const Lapack &l,
           Scratch &s)
        : m_(m), o_(o), k_(k), b_(b), l_(l), s_(s), d_(m.d), stride_(std::max(m.rows, m.d)) {}

    struct Outcome {
        int64_t status, n_iter, root;
        double q;
    };

    // Carry the candidate at x (updated in place) with input c and input group `group`
    // to its end.
    Outcome solve(const double *c, double *x, int64_t group);

   private:
    const Model &m_;
    const Options &o_;
    const Known &k_;
    const Bounds &b_;
    const Lapack &l_;
    Scratch &s_;
    const int64_t d_, stride_;

    void residual(const double *c, const double *x, double *r, double *work) const {
        forward(m_, c, x, r, work, stride_);
    }
    int64_t known_root(const double *x, double q, double last_full, double prev_full,
                       int64_t group) const;
    double polish(const double *c, double *x, double q);
    void gram(const double *A, double *H) const;
};

// Index of the first known root of `group` the candidate at x has reached, or -1
// (step 0 of newton.h): within its ball of convergence rho, or the tail bound placing
// the candidate's own root within snap_tol of it or within its ball of uniqueness.
// The gate (q_gate, reach) spares the scan over the roots when neither can hold.
int64_t Solver::known_root(const double *x, double q, double last_full, double prev_full,
                           int64_t group) const {
    if (k_.K == 0) return -1;
    double tail = kInf;
    if (last_full < prev_full && prev_full < kInf)
        tail = last_full * last_full / (prev_full - last_full);
    const bool in_gate = q <= k_.q_gate;
    if (!(in_gate || tail < std::max(k_.snap_tol, k_.reach))) return -1;
    const double r_snap = tail < k_.snap_tol ? (k_.snap_tol - tail) * (k_.snap_tol - tail) : -1.0;
    for (int64_t k = 0; k < k_.K; ++k) {
        if (k_.group[k] != group) continue;
        const double rho = k_.radii[2 * k], unique = k_.radii[2 * k + 1];
        const double r_ball = in_gate ? rho * rho : 0.0;
        const double r_unique = tail < unique ? (unique - tail) * (unique - tail) : 0.0;
        const double reach = std::max(r_snap, std::max(r_ball, r_unique));
        const double *xk = k_.x + k * d_;
        double s = 0.0;
        for (int64_t i = 0; i < d_; ++i) {
            const double t = x[i] - xk[i];
            s += t * t;
            if (s > reach) break;  // most roots are far: one or two coordinates show it
        }
        if (s <= r_snap || s < r_ball || s < r_unique) return k;
    }
    return -1;
}

// Move the root x by s_.dx if that lowers q; returns the new q.
double Solver::polish(const double *c, double *x, double q) {
    for (int64_t i = 0; i < d_; ++i) s_.xn[i] = x[i] + s_.dx[i];
    residual(c, s_.xn, s_.rn, s_.work);
    const double qn = half_sq(s_.rn, d_);
    if (qn < q) {
        std::memcpy(x, s_.xn, sizeof(double) * d_);
        return qn;
    }
    return q;
}

// H = A^T A, accumulated row by row of A (contiguous inner loops); the upper
// triangle is computed and mirrored, so H is exactly symmetric.
void Solver::gram(const double *A, double *H) const {
    const int64_t d = d_;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = i; j < d; ++j) H[i * d + j] = 0.0;
    for (int64_t k = 0; k < d; ++k) {
        const double *a = A + k * d;
        for (int64_t i = 0; i < d; ++i) {
            const double aki = a[i];
            double *h = H + i * d;
            for (int64_t j = i; j < d; ++j) h[j] += aki * a[j];
        }
    }
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < i; ++j) H[i * d + j] = H[j * d + i];
}

Solver::Outcome Solver::solve(const double *c, double *x, int64_t group) {
    const int64_t d = d_;
    const Options &o = o_;
    double *r = s_.r, *rn = s_.rn, *g = s_.g, *dx = s_.dx, *xn = s_.xn, *neg = s_.neg;
    double *rc = s_.rc, *xc = s_.xc, *A = s_.A, *H = s_.H;
    double *work = s_.work, *work2 = s_.work2;
    LuScratch &lu = s_.lu;

    residual(c, x, r, work);
    jacobian(m_, x, A, work, stride_);
    double q = half_sq(r, d);
    double mu = -1.0, mu_floor = 0.0;
    int64_t stall = 0, it = 0;
    bool newton_failed = false;
    bool factored = false;  // lu holds the factors of A at the current x
    bool singular = false;  // ... or A at the current x was found singular
    double last_full = kInf;  // the last step, if a full uncapped Newton or chord step
    double prev_full = kInf;  // ... and the step before it
    const bool bounded = b_.lower != nullptr;
    const double allowed = bounded ? excursion(b_, x, d) + o.state_margin : kInf;
    auto stop = [&](int64_t status) {
        // A root or slow point must lie in the state set, up to rounding (state_tol).
        const bool result = status == ROOT || status == SLOW;
        if (bounded && result && excursion(b_, x, d) > o.state_tol) status = LEFT_STATE_SET;
        return Outcome{status, it, -1, q};
    };
    auto at_known = [&](int64_t j) {
        std::memcpy(x, k_.x + j * d, sizeof(double) * d);
        return Outcome{ROOT, it, j, k_.q[j]};
    };
    while (true) {
        if (!std::isfinite(q) || !(maxabs(x, d) <= o.x_max)) return stop(DIVERGED);
        // Newton's iterates are not states of the network and may overshoot the set
        // the network reaches, and a candidate may start outside it (noise added to
        // visited states); it is stopped once it is state_margin farther out than it
        // began, where no root lies.
        if (bounded && excursion(b_, x, d) > allowed) return stop(LEFT_STATE_SET);
        const int64_t j = known_root(x, q, last_full, prev_full, group);
        if (j >= 0) return at_known(j);
        for (int64_t i = 0; i < d; ++i) neg[i] = -r[i];
        const bool small = q <= o.tol_q;
        if (small) {
            // Accept only a located root: where A is nearly singular, a tiny q says
            // nothing about position (saturated gates flatten the residual far from
            // any root). Two full steps that locate it spare another factorisation:
            // lu then still holds the last Newton step's factors, and the polish
            // dx = -A^{-1} r reuses them.
            if (located(last_full, prev_full, x, d, o.root_xtol)) {
                if (lu_solve(lu, l_, neg, dx)) q = polish(c, x, q);
                return stop(ROOT);
            }
            factored = lu_factor(A, lu, l_);
            singular = !factored;
            if (factored && lu_solve(lu, l_, neg, dx) &&
                norm(dx, d) <= o.root_xtol * (1.0 + norm(x, d))) {
                q = polish(c, x, q);
                return stop(ROOT);
            }
        }
        if (it >= o.max_iter) return stop(small ? SINGULAR : MAX_ITER);
        for (int64_t i = 0; i < d; ++i) g[i] = 0.0;  // g = A^T r
        for (int64_t i = 0; i < d; ++i) {
            const double ri = r[i];
            const double *a = A + i * d;
            for (int64_t k = 0; k < d; ++k) g[k] += a[k] * ri;
        }
        // First-order decrease of q over a move of one state scale, relative to q.
        const double rel_grad = q > 0.0 ? norm(g, d) * o.length / (2.0 * q) : 0.0;
        if (rel_grad <= o.gtol) {
            const bool nonzero = half_sq(A, d * d) > 0.0;  // |A|_F > 0
            return stop(nonzero && !small ? SLOW : SINGULAR);
        }
        if (stall >= o.patience) {
            if (small) return stop(SINGULAR);
            if (rel_grad <= o.gtol_stall) return stop(SLOW);
            return stop(newton_failed ? SINGULAR : STALLED);
        }
        ++it;
        bool accepted = false;
        double qn = q;
        if (!(factored || singular)) factored = lu_factor(A, lu, l_);
        newton_failed = !(factored && lu_solve(lu, l_, neg, dx));
        if (!newton_failed) {
            const double dnorm = norm(dx, d);
            if (dnorm <= o.xtol * (1.0 + norm(x, d))) {
                for (int64_t i = 0; i < d; ++i) x[i] += dx[i];
                residual(c, x, r, work);
                q = half_sq(r, d);
                return stop(ROOT);
            }
            const bool capped = dnorm > o.max_step;
            if (capped)
                for (int64_t i = 0; i < d; ++i) dx[i] *= o.max_step / dnorm;
            double slope = 0.0;
            for (int64_t i = 0; i < d; ++i) slope += g[i] * dx[i];
            double t = 1.0;
            for (int64_t b = 0; b < o.n_backtrack; ++b) {
                for (int64_t i = 0; i < d; ++i) xn[i] = x[i] + t * dx[i];
                residual(c, xn, rn, work);
                qn = half_sq(rn, d);
                if (std::isfinite(qn) && qn <= q + o.armijo * t * slope) {
                    accepted = true;
                    const bool full = t == 1.0 && !capped;
                    prev_full = full ? last_full : kInf;
                    last_full = full ? dnorm : kInf;
                    break;
                }
                t *= 0.5;
            }
            // Chord steps -A^{-1} r(x) with the same factors while each contracts by
            // chord_ratio: near a root each costs a residual and two triangular solves,
            // and the error falls from e to about e e0 (order 3 per factorisation).
            if (accepted && last_full < kInf) {
                for (int64_t cs = 0; cs < o.chord_steps; ++cs) {
                    const int64_t jk = known_root(xn, qn, last_full, prev_full, group);
                    if (jk >= 0) return at_known(jk);
                    // Past tol_q, chord steps go on until they locate the root.
                    if (qn <= o.tol_q && located(last_full, prev_full, xn, d, o.root_xtol)) break;
                    for (int64_t i = 0; i < d; ++i) neg[i] = -rn[i];
                    if (!lu_solve(lu, l_, neg, dx)) break;
                    const double cnorm = norm(dx, d);
                    if (!(cnorm <= o.chord_ratio * last_full)) break;
                    for (int64_t i = 0; i < d; ++i) xc[i] = xn[i] + dx[i];
                    residual(c, xc, rc, work2);
                    const double qc = half_sq(rc, d);
                    if (!(std::isfinite(qc) && qc < qn)) break;
                    // work2 holds the intermediates at the accepted point: swap roles.
                    std::swap(xn, xc);
                    std::swap(rn, rc);
                    std::swap(work, work2);
                    qn = qc;
                    prev_full = last_full;
                    last_full = cnorm;
                }
            }
        }
        if (!accepted) {
            factored = false;  // the LM solves below reuse the LU buffers
            gram(A, H);
            for (int64_t i = 0; i < d; ++i) s_.hdiag[i] = H[i * d + i];
            if (mu < 0.0) {
                double hmax = 0.0;
                for (int64_t i = 0; i < d; ++i) hmax = std::max(hmax, s_.hdiag[i]);
                hmax = std::max(hmax, 1e-300);
                mu = 1e-3 * hmax;
                mu_floor = 1e-12 * hmax;
            }
            for (int64_t tr = 0; tr < o.lm_tries; ++tr) {
                for (int64_t i = 0; i < d; ++i) {
                    H[i * d + i] = s_.hdiag[i] + mu;
                    neg[i] = -g[i];
                }
                const bool ok = lu_factor(H, lu, l_) && lu_solve(lu, l_, neg, dx);
                if (ok) {
                    const double dnorm = norm(dx, d);
                    if (dnorm > o.max_step)
                        for (int64_t i = 0; i < d; ++i) dx[i] *= o.max_step / dnorm;
                    for (int64_t i = 0; i < d; ++i) xn[i] = x[i] + dx[i];
                    residual(c, xn, rn, work);
                    qn = half_sq(rn, d);
                    if (std::isfinite(qn) && qn < q) {
                        accepted = true;
                        last_full = kInf;
                        prev_full = kInf;
                        mu = std::max(0.1 * mu, mu_floor);
                        break;
                    }
                }
                mu *= 10.0;
            }
        }
        if (accepted) {
            // Progress below one part in 10^6 counts towards a stall.
            stall = qn > q * (1.0 - 1e-6) ? stall + 1 : 0;
            // The last evaluation was at the accepted point: its residual and the
            // intermediates in work give the Jacobian without another forward pass.
            std::memcpy(x, xn, sizeof(double) * d);
            std::memcpy(r, rn, sizeof(double) * d);
            jacobian(m_, x, A, work, stride_);
            q = qn;
            factored = false;
            singular = false;
        } else {
            stall = o.patience;
        }
    }
}

}  // namespace

void solve_batch(const Model &model, const Options &opts, const Known &known,
                 const Bounds &bounds, const Lapack &lapack, const Batch &batch, int threads) {
    const int64_t d = model.d, n = batch.n;
    const int64_t stride = std::max(model.rows, model.d);
    const int64_t n_blocks = (n + kBlock - 1) / kBlock;
    if (n_blocks == 0) return;
    int n_threads = std::max(1, threads);
    if (n_threads > n_blocks) n_threads = static_cast<int>(n_blocks);
#ifndef _OPENMP
    n_threads = 1;
#endif
    // Every thread's scratch, allocated here so that an allocation failure is an
    // exception in the caller, not in a parallel region.
    const int64_t per_thread = Scratch::doubles(d, stride);
    std::vector<double> arena(static_cast<size_t>(per_thread * n_threads));
    std::vector<int> pivots(static_cast<size_t>(std::max<int64_t>(d, 1) * n_threads));
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
#endif
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        Scratch scratch(arena.data() + per_thread * tid, pivots.data() + d * tid, d, stride);
        Solver solver(model, opts, known, bounds, lapack, scratch);
        double *x = scratch.x;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int64_t blk = 0; blk < n_blocks; ++blk) {
            const int64_t end = std::min(n, (blk + 1) * kBlock);
            for (int64_t k = blk * kBlock; k < end; ++k) {
                double *row = batch.X + k * d;
                std::memcpy(x, row, sizeof(double) * d);
                const int64_t group = batch.group[k];
                const auto out = solver.solve(batch.C + group * model.width, x, group);
                std::memcpy(row, x, sizeof(double) * d);
                batch.q[k] = out.q;
                batch.n_iter[k] = out.n_iter;
                batch.status[k] = out.status;
                batch.root[k] = out.root;
            }
        }
    }
}

void evaluate_batch(const Model &model, const double *C, const double *X, int64_t n, double *R,
                    double *A) {
    const int64_t d = model.d;
    const int64_t stride = std::max(model.rows, model.d);
    std::vector<double> work(static_cast<size_t>(7 * stride));
    for (int64_t k = 0; k < n; ++k) {
        forward(model, C + k * model.width, X + k * d, R + k * d, work.data(), stride);
        jacobian(model, X + k * d, A + k * d * d, work.data(), stride);
    }
}

}  // namespace newton
}  // namespace neurodyn
