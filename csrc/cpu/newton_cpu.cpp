// CPU kernel of the fixed-point search (see include/neurodyn/newton.h for the
// algorithm's steps, newton_model.h for the models and newton_lu.h for the LU).
//
// Each thread carries as many candidates in lockstep as the processor's widest SIMD
// vector holds doubles (one for states above kLaneMaxState entries): every step of
// the algorithm (a factorisation, a triangular solve, a residual) runs for all its
// lanes at once, each operation on a vector of lanes, so that the long chains of
// dependent operations of one small candidate (the pivot search, the substitutions,
// the tanh of each entry) become one chain for all. Measured on the 16-unit
// flip-flop network (AVX-512, one thread), the search took 2.4 ms against 5.2 ms one
// candidate at a time. Each lane follows its own candidate's decisions; its
// arithmetic is exactly that of one candidate alone (see newton_model.h), so the lane
// count changes no result. A lane whose candidate ends takes the next one from a
// counter the threads share, so converged candidates cost nothing while stragglers
// finish, and a thread held up by another process leaves its candidates to the others.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "neurodyn/newton.h"
#include "neurodyn/newton_lanes.h"
#include "neurodyn/newton_lu.h"
#include "neurodyn/newton_model.h"

// Lanes of four and eight doubles: AVX2 and AVX-512 versions of the solver, picked at
// run time from what the processor has (one lane elsewhere).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NEURODYN_WIDE_LANES 1
#else
#define NEURODYN_WIDE_LANES 0
#endif

namespace neurodyn {
namespace newton {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The rows of forward()'s work that hold its intermediates, per model code: what a
// lane's evaluation at a point leaves behind, copied when a chord step is taken.
constexpr int64_t kWorkRows[4] = {3, 3, 4, 7};

// The heavy steps, one compiled copy per lane count, each for the instruction set of
// its lanes (AVX2 for four, AVX-512 for eight): the solver's phases call them from
// several places, where inlining each would multiply the code.
#if NEURODYN_WIDE_LANES
#define NEURODYN_ISA_4 __attribute__((target("avx2"), noinline))
#define NEURODYN_ISA_8 __attribute__((target("avx512f"), noinline))
#else
#define NEURODYN_ISA_4 __attribute__((noinline))
#define NEURODYN_ISA_8 __attribute__((noinline))
#endif
template <int L>
struct Steps {
    using V = typename Lanes<L>::V;
    static void residual(const Model &m, const V *c, const V *x, V *r, V *work, int64_t stride,
                         const LaneMask<L> &live);
    static void jacobian(const Model &m, const V *x, V *A, const V *work, int64_t stride,
                         const LaneMask<L> &keep);
    static void factor(const V *M, const LaneFactors<L> &f, bool *ok);
    static void solve(const LaneFactors<L> &f, const V *b, V *out, bool *ok);
};

#define NEURODYN_STEPS(L, ISA)                                                                 \
    template <>                                                                                \
    ISA void Steps<L>::residual(const Model &m, const V *c, const V *x, V *r, V *work,         \
                                int64_t stride, const LaneMask<L> &live) {                     \
        forward<L>(m, c, x, r, work, stride, live);                                            \
    }                                                                                          \
    template <>                                                                                \
    ISA void Steps<L>::jacobian(const Model &m, const V *x, V *A, const V *work,               \
                                int64_t stride, const LaneMask<L> &keep) {                     \
        newton::jacobian<L>(m, x, A, work, stride, keep);                                      \
    }                                                                                          \
    template <>                                                                                \
    ISA void Steps<L>::factor(const V *M, const LaneFactors<L> &f, bool *ok) {                 \
        lanes_factor<L>(M, f, ok);                                                             \
    }                                                                                          \
    template <>                                                                                \
    ISA void Steps<L>::solve(const LaneFactors<L> &f, const V *b, V *out, bool *ok) {          \
        lanes_solve<L>(f, b, out, ok);                                                         \
    }
NEURODYN_STEPS(4, NEURODYN_ISA_4)
NEURODYN_STEPS(8, NEURODYN_ISA_8)
#undef NEURODYN_STEPS

template <>
void Steps<1>::residual(const Model &m, const double *c, const double *x, double *r,
                        double *work, int64_t stride, const LaneMask<1> &live) {
    forward<1>(m, c, x, r, work, stride, live);
}
template <>
void Steps<1>::jacobian(const Model &m, const double *x, double *A, const double *work,
                        int64_t stride, const LaneMask<1> &keep) {
    newton::jacobian<1>(m, x, A, work, stride, keep);
}

// Factors of the lanes' matrices: LAPACK or the hand-written LU for one lane
// (newton_lu.h), the lane-interleaved LU for several.
template <int L>
struct Factors {
    using V = typename Lanes<L>::V;
    LaneFactors<L> f;
    static int64_t size(int64_t d) { return (d + 1) * d; }  // in V
    Factors(V *p, int *piv, int64_t d) {
        f.d = d;
        f.lu = p;
        f.rdiag = p + d * d;
        f.piv = piv;
    }
    NEURODYN_LANE_INLINE void factor(const V *M, const Lapack &, bool *ok) {
        Steps<L>::factor(M, f, ok);
    }
    NEURODYN_LANE_INLINE void solve(const V *b, V *out, const Lapack &, bool *ok) const {
        Steps<L>::solve(f, b, out, ok);
    }
};

template <>
struct Factors<1> {
    LuScratch s;
    static int64_t size(int64_t d) { return (d + 1) * d; }
    Factors(double *p, int *piv, int64_t d) {
        s.d = d;
        s.lu = p;
        s.piv = piv;
    }
    void factor(const double *M, const Lapack &l, bool *ok) { ok[0] = lu_factor(M, s, l); }
    void solve(const double *b, double *out, const Lapack &l, bool *ok) const {
        ok[0] = lu_solve(s, l, b, out);
    }
};

// One thread's buffers, lane-interleaved, carved from one allocation made before the
// parallel region.
template <int L>
struct Scratch {
    using V = typename Lanes<L>::V;
    V *x, *r, *neg, *dx, *g, *xn, *rn, *xc, *rc, *hdiag, *c;
    V *A, *H, *work, *work2;
    Factors<L> newton, lm;  // the Newton steps' factors; the LM steps'

    static int64_t size(int64_t d, int64_t stride, int64_t width) {  // in V
        return 10 * d + width + 2 * d * d + 14 * stride + 2 * Factors<L>::size(d);
    }
    static int64_t ints(int64_t d) { return 2 * std::max<int64_t>(d, 1) * L; }

    Scratch(V *p, int *ints, int64_t d, int64_t stride, int64_t width)
        : newton(p, ints, d), lm(p + Factors<L>::size(d), ints + d * L, d) {
        p += 2 * Factors<L>::size(d);
        V **vecs[] = {&x, &r, &neg, &dx, &g, &xn, &rn, &xc, &rc, &hdiag};
        for (V **v : vecs) {
            *v = p;
            p += d;
        }
        c = p;
        A = c + width;
        H = A + d * d;
        work = H + d * d;
        work2 = work + 7 * stride;
    }
};

// The solver: the steps of newton.h for L candidates in lockstep, each lane with its
// own decisions. Every phase of an iteration runs for the lanes that take it (a mask);
// its arithmetic runs on all lanes, and the others' results are either recomputed
// unchanged (their inputs did not change since their last evaluation into the same
// buffers) or scratch, so only the C library's functions, one call per value, skip
// the lanes outside the mask.
template <int L>
class Solver {
   public:
    using V = typename Lanes<L>::V;
    using Bits = typename Lanes<L>::M;

    NEURODYN_LANE_INLINE Solver(const Model &m, const Options &o, const Known &k, const Bounds &b,
                                const Lapack &l, const Batch &batch, Scratch<L> &s,
                                std::atomic<int64_t> &next)
        : m_(m), o_(o), k_(k), b_(b), l_(l), batch_(batch), s_(s), next_(next), d_(m.d),
          stride_(std::max(m.rows, m.d)), bounded_(b.lower != nullptr) {
        for (int l = 0; l < L; ++l) cand_[l] = -1;
        for (int64_t i = 0; i < d_; ++i) s.x[i] = V{};
    }

    // Carry candidates to their ends until the batch has none left.
    NEURODYN_LANE_INLINE void run() {
        while (refill()) {
            checks();
            finish_small();
            gradient_checks();
            if (!any(active_)) continue;
            newton_step();
            chord_steps();
            lm_steps();
            accept();
        }
    }

   private:
    using Mask = LaneMask<L>;

    const Model &m_;
    const Options &o_;
    const Known &k_;
    const Bounds &b_;
    const Lapack &l_;
    const Batch &batch_;
    Scratch<L> &s_;
    std::atomic<int64_t> &next_;
    const int64_t d_, stride_;
    const bool bounded_;
    bool exhausted_ = false;

    // Per lane: the candidate (-1: none) and its state.
    int64_t cand_[L], group_[L], it_[L], stall_[L];
    double q_[L], qn_[L], mu_[L], mu_floor_[L], last_full_[L], prev_full_[L], allowed_[L];
    double dnorm_[L], slope_[L];
    bool small_[L], factored_[L], singular_[L], newton_factors_[L], newton_failed_[L];
    bool capped_[L], accepted_[L];
    Mask active_{};

    NEURODYN_LANE_INLINE static bool any(const Mask &m) {
        for (int l = 0; l < L; ++l)
            if (m.on[l]) return true;
        return false;
    }
    // dst = src on the lanes of m, for n entries.
    NEURODYN_LANE_INLINE static void select(const Mask &m, const V *src, V *dst, int64_t n) {
        Bits bits;
        lane_bits<L>(m, bits);
        for (int64_t i = 0; i < n; ++i) blend<L>(dst[i], bits, src[i]);
    }
    // out[l] = |v_l|^2 / 2 over n entries, summed in order.
    NEURODYN_LANE_INLINE static void half_sq(const V *v, int64_t n, double *out) {
        V s = {};
        for (int64_t i = 0; i < n; ++i) s += v[i] * v[i];
        s = 0.5 * s;
        for (int l = 0; l < L; ++l) out[l] = lane<L>(&s, 0, l);
    }
    NEURODYN_LANE_INLINE void norms(const V *v, double *out) const {
        half_sq(v, d_, out);
        for (int l = 0; l < L; ++l) out[l] = std::sqrt(2.0 * out[l]);
    }
    NEURODYN_LANE_INLINE double x_at(const V *v, int64_t i, int l) const {
        return lane<L>(v, i, l);
    }
    NEURODYN_LANE_INLINE double norm(const V *v, int l) const {
        double s = 0.0;
        for (int64_t i = 0; i < d_; ++i) s += x_at(v, i, l) * x_at(v, i, l);
        return std::sqrt(2.0 * (0.5 * s));
    }
    // The largest |x_i| of lane l; NaN if any entry is NaN.
    NEURODYN_LANE_INLINE double maxabs(const V *x, int l) const {
        double m = 0.0;
        for (int64_t i = 0; i < d_; ++i) {
            const double v = std::fabs(x_at(x, i, l));
            if (!(v <= m)) m = v;
        }
        return m;
    }
    // How far lane l lies outside lower <= x <= upper.
    NEURODYN_LANE_INLINE double excursion(const V *x, int l) const {
        double e = 0.0;
        for (int64_t i = 0; i < d_; ++i) {
            const double v = x_at(x, i, l);
            e = std::max(e, std::max(b_.lower[i] - v, v - b_.upper[i]));
        }
        return e;
    }
    // Whether the last two full steps of lane l locate the root at x: their geometric
    // tail delta2^2 / (delta1 - delta2) is below root_xtol (1 + |x|).
    NEURODYN_LANE_INLINE bool located(int l, const V *x) const {
        const double last = last_full_[l], prev = prev_full_[l];
        return last < prev && prev < kInf &&
               last * last <= o_.root_xtol * (1.0 + norm(x, l)) * (prev - last);
    }
    NEURODYN_LANE_INLINE void eval(const V *x, V *r, V *work, const Mask &live) const {
        Steps<L>::residual(m_, s_.c, x, r, work, stride_, live);
    }

    bool refill();
    void load(int l, int64_t k);
    void emit(int l, int64_t status, int64_t root);
    void finish(int l, int64_t status);
    void finish_known(int l, int64_t j);
    int64_t known_root(const V *x, int l, double q) const;
    void checks();
    void polish(const Mask &pol);
    void finish_small();
    void factor_newton();
    void gradient_checks();
    void newton_step();
    void line_search(Mask search);
    void chord_steps();
    void gram();
    void lm_steps();
    void accept();
};

// Give every empty lane the next candidate, with its residual and Jacobian; false
// when no lane has a candidate left.
template <int L>
NEURODYN_LANE_INLINE bool Solver<L>::refill() {
    Mask fresh{};
    for (int l = 0; l < L && !exhausted_; ++l) {
        if (cand_[l] >= 0) continue;
        const int64_t k = next_.fetch_add(1, std::memory_order_relaxed);
        if (k >= batch_.n) {
            exhausted_ = true;
            break;
        }
        load(l, k);
        fresh.on[l] = true;
    }
    if (any(fresh)) {
        eval(s_.x, s_.rn, s_.work, fresh);
        select(fresh, s_.rn, s_.r, d_);
        Steps<L>::jacobian(m_, s_.x, s_.A, s_.work, stride_, fresh);
        double q[L];
        half_sq(s_.r, d_, q);
        for (int l = 0; l < L; ++l)
            if (fresh.on[l]) q_[l] = q[l];
    }
    return any(active_);
}

template <int L>
NEURODYN_LANE_INLINE void Solver<L>::load(int l, int64_t k) {
    const int64_t g = batch_.group[k];
    cand_[l] = k;
    group_[l] = g;
    for (int64_t i = 0; i < d_; ++i) lane<L>(s_.x, i, l) = batch_.X[k * d_ + i];
    const double *c = batch_.C + g * m_.width;
    for (int64_t i = 0; i < m_.width; ++i) lane<L>(s_.c, i, l) = c[i];
    it_[l] = stall_[l] = 0;
    mu_[l] = -1.0;
    mu_floor_[l] = 0.0;
    last_full_[l] = prev_full_[l] = kInf;
    factored_[l] = singular_[l] = newton_factors_[l] = newton_failed_[l] = false;
    allowed_[l] = bounded_ ? excursion(s_.x, l) + o_.state_margin : kInf;
    active_.on[l] = true;
}

// Write lane l's outcome (its x and q) and empty the lane.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::emit(int l, int64_t status, int64_t root) {
    const int64_t k = cand_[l];
    for (int64_t i = 0; i < d_; ++i) {
        batch_.X[k * d_ + i] = lane<L>(s_.x, i, l);
        lane<L>(s_.x, i, l) = 0.0;  // an empty lane computes on zeros, never on a diverged state
    }
    batch_.q[k] = q_[l];
    batch_.n_iter[k] = it_[l];
    batch_.status[k] = status;
    batch_.root[k] = root;
    cand_[l] = -1;
    active_.on[l] = false;
}

// End lane l's candidate with `status`. A root or slow point must lie in the state
// set, up to rounding (state_tol).
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::finish(int l, int64_t status) {
    const bool result = status == ROOT || status == SLOW;
    if (bounded_ && result && excursion(s_.x, l) > o_.state_tol) status = LEFT_STATE_SET;
    emit(l, status, -1);
}

// End lane l's candidate at known root j, which it takes with its q.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::finish_known(int l, int64_t j) {
    for (int64_t i = 0; i < d_; ++i) lane<L>(s_.x, i, l) = k_.x[j * d_ + i];
    q_[l] = k_.q[j];
    emit(l, ROOT, j);
}

// Index of the first known root of lane l's input group that the lane at x, with
// residual q, has reached, or -1 (step 0 of newton.h): within its ball of convergence
// rho, or the tail bound placing the candidate's own root within snap_tol of it or
// within its ball of uniqueness. The gate (q_gate, reach) spares the scan over the
// roots when neither can hold.
template <int L>
NEURODYN_LANE_INLINE int64_t Solver<L>::known_root(const V *x, int l, double q) const {
    if (k_.K == 0) return -1;
    const double last = last_full_[l], prev = prev_full_[l];
    double tail = kInf;
    if (last < prev && prev < kInf) tail = last * last / (prev - last);
    const bool in_gate = q <= k_.q_gate;
    if (!(in_gate || tail < std::max(k_.snap_tol, k_.reach))) return -1;
    const double r_snap = tail < k_.snap_tol ? (k_.snap_tol - tail) * (k_.snap_tol - tail) : -1.0;
    for (int64_t k = 0; k < k_.K; ++k) {
        if (k_.group[k] != group_[l]) continue;
        const double rho = k_.radii[2 * k], unique = k_.radii[2 * k + 1];
        const double r_ball = in_gate ? rho * rho : 0.0;
        const double r_unique = tail < unique ? (unique - tail) * (unique - tail) : 0.0;
        const double reach = std::max(r_snap, std::max(r_ball, r_unique));
        const double *xk = k_.x + k * d_;
        double s = 0.0;
        for (int64_t i = 0; i < d_; ++i) {
            const double t = x_at(x, i, l) - xk[i];
            s += t * t;
            if (s > reach) break;  // most roots are far: one or two coordinates show it
        }
        if (s <= r_snap || s < r_ball || s < r_unique) return k;
    }
    return -1;
}

// Before every step: a candidate that diverged, left the state set or reached a known
// root ends. Newton's iterates are not states of the network and may overshoot the
// set the network reaches, and a candidate may start outside it (noise added to
// visited states); it is stopped once it is state_margin farther out than it began,
// where no root lies.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::checks() {
    for (int l = 0; l < L; ++l) {
        if (!active_.on[l]) continue;
        if (!std::isfinite(q_[l]) || !(maxabs(s_.x, l) <= o_.x_max)) {
            finish(l, DIVERGED);
        } else if (bounded_ && excursion(s_.x, l) > allowed_[l]) {
            finish(l, LEFT_STATE_SET);
        } else {
            const int64_t j = known_root(s_.x, l, q_[l]);
            if (j >= 0) finish_known(l, j);
        }
    }
    for (int64_t i = 0; i < d_; ++i) s_.neg[i] = -s_.r[i];
    for (int l = 0; l < L; ++l) small_[l] = active_.on[l] && q_[l] <= o_.tol_q;
}

// Move the lanes of `pol` by dx where that lowers q.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::polish(const Mask &pol) {
    if (!any(pol)) return;
    for (int64_t i = 0; i < d_; ++i) s_.xn[i] = s_.x[i] + s_.dx[i];
    eval(s_.xn, s_.rn, s_.work, pol);
    double qn[L];
    half_sq(s_.rn, d_, qn);
    Mask lower{};
    for (int l = 0; l < L; ++l) {
        lower.on[l] = pol.on[l] && qn[l] < q_[l];
        if (lower.on[l]) q_[l] = qn[l];
    }
    select(lower, s_.xn, s_.x, d_);
}

// Step 1 of newton.h: a candidate with q <= tol_q ends as a root once the root is
// located. Where A is nearly singular, a tiny q says nothing about position
// (saturated gates flatten the residual far from any root). Two full steps that
// locate it spare another factorisation: the factors of the last Newton step then
// polish it. Otherwise the Newton step must be below root_xtol (1 + |x|), and is
// taken as the polish.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::finish_small() {
    Mask tail{}, pol{};
    for (int l = 0; l < L; ++l) tail.on[l] = small_[l] && located(l, s_.x);
    if (any(tail)) {
        bool ok[L];
        s_.newton.solve(s_.neg, s_.dx, l_, ok);
        for (int l = 0; l < L; ++l) pol.on[l] = tail.on[l] && ok[l] && newton_factors_[l];
        polish(pol);
        for (int l = 0; l < L; ++l)
            if (tail.on[l]) finish(l, ROOT);
    }
    Mask rest{};
    for (int l = 0; l < L; ++l) rest.on[l] = small_[l] && active_.on[l];
    if (!any(rest)) return;
    factor_newton();
    bool ok[L];
    s_.newton.solve(s_.neg, s_.dx, l_, ok);
    double step[L], size[L];
    norms(s_.dx, step);
    norms(s_.x, size);
    for (int l = 0; l < L; ++l)
        pol.on[l] = rest.on[l] && factored_[l] && ok[l] &&
                    step[l] <= o_.root_xtol * (1.0 + size[l]);
    polish(pol);
    for (int l = 0; l < L; ++l)
        if (pol.on[l]) finish(l, ROOT);
}

// Factor every lane's Jacobian (the same factors wherever a lane's were already
// taken this iteration).
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::factor_newton() {
    bool ok[L];
    s_.newton.factor(s_.A, l_, ok);
    for (int l = 0; l < L; ++l) {
        if (!active_.on[l]) continue;
        factored_[l] = newton_factors_[l] = ok[l];
        singular_[l] = !ok[l];
    }
}

// Steps 1 and 2 of newton.h past the root test: the iteration cap, slow points (the
// first-order decrease of q over a move of one state scale, relative to q) and stalls.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::gradient_checks() {
    for (int l = 0; l < L; ++l)
        if (active_.on[l] && it_[l] >= o_.max_iter) finish(l, small_[l] ? SINGULAR : MAX_ITER);
    if (!any(active_)) return;
    for (int64_t k = 0; k < d_; ++k) s_.g[k] = V{};  // g = A^T r
    for (int64_t i = 0; i < d_; ++i) {
        const V *a = s_.A + i * d_;
        const V ri = s_.r[i];
        for (int64_t k = 0; k < d_; ++k) s_.g[k] += a[k] * ri;
    }
    double ng[L];
    norms(s_.g, ng);
    for (int l = 0; l < L; ++l) {
        if (!active_.on[l]) continue;
        const double q = q_[l];
        const double rel_grad = q > 0.0 ? ng[l] * o_.length / (2.0 * q) : 0.0;
        if (rel_grad <= o_.gtol) {
            double a2 = 0.0;  // |A|_F^2
            for (int64_t e = 0; e < d_ * d_; ++e) a2 += x_at(s_.A, e, l) * x_at(s_.A, e, l);
            finish(l, 0.5 * a2 > 0.0 && !small_[l] ? SLOW : SINGULAR);
        } else if (stall_[l] >= o_.patience) {
            if (small_[l]) {
                finish(l, SINGULAR);
            } else if (rel_grad <= o_.gtol_stall) {
                finish(l, SLOW);
            } else {
                finish(l, newton_failed_[l] ? SINGULAR : STALLED);
            }
        } else {
            ++it_[l];
            accepted_[l] = false;
            qn_[l] = q;
        }
    }
}

// Step 3 of newton.h: the Newton step -A^{-1} r, capped at max_step, with Armijo
// backtracking; a step at rounding level ends the candidate as a root.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::newton_step() {
    bool need = false;
    for (int l = 0; l < L; ++l) need = need || (active_.on[l] && !(factored_[l] || singular_[l]));
    if (need) factor_newton();
    bool ok[L];
    s_.newton.solve(s_.neg, s_.dx, l_, ok);
    double size[L];
    norms(s_.dx, dnorm_);
    norms(s_.x, size);
    Mask done{}, search{};
    for (int l = 0; l < L; ++l) {
        newton_failed_[l] = !(factored_[l] && ok[l]);
        const bool go = active_.on[l] && !newton_failed_[l];
        done.on[l] = go && dnorm_[l] <= o_.xtol * (1.0 + size[l]);
        search.on[l] = go && !done.on[l];
    }
    if (any(done)) {
        for (int64_t i = 0; i < d_; ++i) s_.xc[i] = s_.x[i] + s_.dx[i];
        select(done, s_.xc, s_.x, d_);
        eval(s_.x, s_.rn, s_.work, done);
        double q[L];
        half_sq(s_.rn, d_, q);
        for (int l = 0; l < L; ++l)
            if (done.on[l]) {
                q_[l] = q[l];
                finish(l, ROOT);
            }
    }
    Mask capped{};
    V scale = {};
    scale += 1.0;
    for (int l = 0; l < L; ++l) {
        capped_[l] = dnorm_[l] > o_.max_step;
        capped.on[l] = search.on[l] && capped_[l];
        if (capped.on[l]) lane<L>(&scale, 0, l) = o_.max_step / dnorm_[l];
    }
    if (any(capped))
        for (int64_t i = 0; i < d_; ++i) {
            const V scaled = s_.dx[i] * scale;
            select(capped, &scaled, s_.dx + i, 1);
        }
    V slope = {};
    for (int64_t i = 0; i < d_; ++i) slope += s_.g[i] * s_.dx[i];
    for (int l = 0; l < L; ++l) slope_[l] = lane<L>(&slope, 0, l);
    line_search(search);
}

// Armijo backtracking from x along dx for the lanes of `search`: each halves its step
// until q falls enough, at most n_backtrack times.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::line_search(Mask search) {
    V t = {};
    t += 1.0;
    for (int64_t b = 0; b < o_.n_backtrack && any(search); ++b) {
        Bits bits;
        lane_bits<L>(search, bits);
        for (int64_t i = 0; i < d_; ++i) {
            const V trial = s_.x[i] + t * s_.dx[i];
            blend<L>(s_.xn[i], bits, trial);
        }
        eval(s_.xn, s_.rn, s_.work, search);
        double qn[L];
        half_sq(s_.rn, d_, qn);
        for (int l = 0; l < L; ++l) {
            if (!search.on[l]) continue;
            qn_[l] = qn[l];
            double &tl = lane<L>(&t, 0, l);
            if (std::isfinite(qn[l]) && qn[l] <= q_[l] + o_.armijo * tl * slope_[l]) {
                accepted_[l] = true;
                search.on[l] = false;
                const bool full = tl == 1.0 && !capped_[l];
                prev_full_[l] = full ? last_full_[l] : kInf;
                last_full_[l] = full ? dnorm_[l] : kInf;
            } else {
                tl *= 0.5;
            }
        }
    }
}

// Chord steps -A^{-1} r(x) with the Newton step's factors after a full step, while
// each contracts by chord_ratio: near a root each costs a residual and two triangular
// solves, and the error falls from e to about e e0 (order 3 per factorisation). Past
// tol_q they go on until they locate the root.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::chord_steps() {
    Mask chord{};
    for (int l = 0; l < L; ++l) chord.on[l] = active_.on[l] && accepted_[l] && last_full_[l] < kInf;
    for (int64_t cs = 0; cs < o_.chord_steps && any(chord); ++cs) {
        for (int l = 0; l < L; ++l) {
            if (!chord.on[l]) continue;
            const int64_t j = known_root(s_.xn, l, qn_[l]);
            if (j >= 0) {
                chord.on[l] = false;
                finish_known(l, j);
            } else if (qn_[l] <= o_.tol_q && located(l, s_.xn)) {
                chord.on[l] = false;
            }
        }
        if (!any(chord)) break;
        for (int64_t i = 0; i < d_; ++i) s_.neg[i] = -s_.rn[i];
        bool ok[L];
        s_.newton.solve(s_.neg, s_.dx, l_, ok);
        double cnorm[L];
        norms(s_.dx, cnorm);
        for (int l = 0; l < L; ++l)
            chord.on[l] = chord.on[l] && ok[l] && cnorm[l] <= o_.chord_ratio * last_full_[l];
        if (!any(chord)) break;
        for (int64_t i = 0; i < d_; ++i) s_.xc[i] = s_.xn[i] + s_.dx[i];
        eval(s_.xc, s_.rc, s_.work2, chord);
        double qc[L];
        half_sq(s_.rc, d_, qc);
        for (int l = 0; l < L; ++l) {
            if (!chord.on[l]) continue;
            if (!(std::isfinite(qc[l]) && qc[l] < qn_[l])) {
                chord.on[l] = false;
                continue;
            }
            qn_[l] = qc[l];
            prev_full_[l] = last_full_[l];
            last_full_[l] = cnorm[l];
        }
        // The taken steps' points, residuals and intermediates become the lanes' own.
        select(chord, s_.xc, s_.xn, d_);
        select(chord, s_.rc, s_.rn, d_);
        select(chord, s_.work2, s_.work, kWorkRows[m_.code] * stride_);
    }
}

// H = A^T A per lane, accumulated row by row of A; the upper triangle is computed and
// mirrored, so H is exactly symmetric.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::gram() {
    const int64_t d = d_;
    V *H = s_.H;
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = i; j < d; ++j) H[i * d + j] = V{};
    for (int64_t k = 0; k < d; ++k) {
        const V *a = s_.A + k * d;
        for (int64_t i = 0; i < d; ++i) {
            const V aki = a[i];
            V *h = H + i * d;
            for (int64_t j = i; j < d; ++j) h[j] += aki * a[j];
        }
    }
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < i; ++j) H[i * d + j] = H[j * d + i];
}

// Step 4 of newton.h, where the Newton step failed: Levenberg-Marquardt steps
// (A^T A + mu I) dx = -A^T r, raising mu tenfold until q decreases and lowering it
// tenfold after a success. Their factors are kept apart from the Newton step's, which
// a located root's polish uses (step 1).
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::lm_steps() {
    Mask trying{};
    for (int l = 0; l < L; ++l) trying.on[l] = active_.on[l] && !accepted_[l];
    if (!any(trying)) return;
    gram();
    for (int64_t i = 0; i < d_; ++i) s_.hdiag[i] = s_.H[i * d_ + i];
    for (int l = 0; l < L; ++l) {
        if (!trying.on[l]) continue;
        factored_[l] = false;
        if (mu_[l] < 0.0) {
            double hmax = 0.0;
            for (int64_t i = 0; i < d_; ++i) hmax = std::max(hmax, x_at(s_.hdiag, i, l));
            hmax = std::max(hmax, 1e-300);
            mu_[l] = 1e-3 * hmax;
            mu_floor_[l] = 1e-12 * hmax;
        }
    }
    for (int64_t i = 0; i < d_; ++i) s_.neg[i] = -s_.g[i];
    for (int64_t tr = 0; tr < o_.lm_tries && any(trying); ++tr) {
        V mu = {};
        for (int l = 0; l < L; ++l) lane<L>(&mu, 0, l) = mu_[l];
        for (int64_t i = 0; i < d_; ++i) s_.H[i * d_ + i] = s_.hdiag[i] + mu;
        bool fok[L], sok[L];
        s_.lm.factor(s_.H, l_, fok);
        s_.lm.solve(s_.neg, s_.dx, l_, sok);
        Mask step{};
        for (int l = 0; l < L; ++l) step.on[l] = trying.on[l] && fok[l] && sok[l];
        if (any(step)) {
            double nd[L];
            norms(s_.dx, nd);
            V scale = {};
            scale += 1.0;
            for (int l = 0; l < L; ++l)
                if (step.on[l] && nd[l] > o_.max_step) lane<L>(&scale, 0, l) = o_.max_step / nd[l];
            Bits bits;
            lane_bits<L>(step, bits);
            for (int64_t i = 0; i < d_; ++i) {
                const V trial = s_.x[i] + s_.dx[i] * scale;
                blend<L>(s_.xn[i], bits, trial);
            }
            eval(s_.xn, s_.rn, s_.work, step);
            double qn[L];
            half_sq(s_.rn, d_, qn);
            for (int l = 0; l < L; ++l) {
                if (!step.on[l]) continue;
                qn_[l] = qn[l];
                if (std::isfinite(qn[l]) && qn[l] < q_[l]) {
                    accepted_[l] = true;
                    trying.on[l] = false;
                    last_full_[l] = prev_full_[l] = kInf;
                    mu_[l] = std::max(0.1 * mu_[l], mu_floor_[l]);
                }
            }
        }
        for (int l = 0; l < L; ++l)
            if (trying.on[l]) mu_[l] *= 10.0;
    }
}

// Take the accepted points: progress below one part in 10^6 counts towards a stall.
// The last evaluation was at the accepted point: its residual and the intermediates
// in work give the Jacobian without another forward pass. A candidate without an
// accepted step has stalled.
template <int L>
NEURODYN_LANE_INLINE void Solver<L>::accept() {
    Mask acc{};
    for (int l = 0; l < L; ++l) {
        if (!active_.on[l]) continue;
        if (!accepted_[l]) {
            stall_[l] = o_.patience;
            continue;
        }
        acc.on[l] = true;
        stall_[l] = qn_[l] > q_[l] * (1.0 - 1e-6) ? stall_[l] + 1 : 0;
        q_[l] = qn_[l];
        factored_[l] = singular_[l] = false;
    }
    if (!any(acc)) return;
    select(acc, s_.xn, s_.x, d_);
    select(acc, s_.rn, s_.r, d_);
    Steps<L>::jacobian(m_, s_.x, s_.A, s_.work, stride_, acc);
}

// What every thread of a batch shares: the problem and the counter of candidates.
struct Job {
    const Model &model;
    const Options &opts;
    const Known &known;
    const Bounds &bounds;
    const Lapack &lapack;
    const Batch &batch;
    std::atomic<int64_t> next{0};
};

// One thread's part: a solver with L lanes on its scratch (aligned to a whole lane
// vector) takes candidates from the shared counter until none are left.
template <int L>
NEURODYN_LANE_INLINE void run_lanes(Job &job, double *arena, int *ints) {
    using V = typename Lanes<L>::V;
    const Model &m = job.model;
    Scratch<L> scratch(reinterpret_cast<V *>(arena), ints, m.d, std::max(m.rows, m.d), m.width);
    Solver<L>(m, job.opts, job.known, job.bounds, job.lapack, job.batch, scratch, job.next).run();
}

// The solver for each lane count, compiled for the instruction set whose vectors hold
// that many doubles (the build itself targets the baseline x86-64): the solver's
// phases inline into these, and call the heavy steps compiled for the same set
// (Steps).
// Contraction stays off (setup.py), so no instruction set changes a result. The
// baseline's SSE2 vectors hold two doubles, but two lanes took 0.8x the time of one in
// the flip-flop's search, far from what a path of its own must earn (1.3x end to
// end): without AVX2, candidates go one at a time.
void run_1(Job &job, double *arena, int *ints) { run_lanes<1>(job, arena, ints); }
#if NEURODYN_WIDE_LANES
__attribute__((target("avx2"))) void run_4(Job &job, double *arena, int *ints) {
    run_lanes<4>(job, arena, ints);
}
__attribute__((target("avx512f"))) void run_8(Job &job, double *arena, int *ints) {
    run_lanes<8>(job, arena, ints);
}
#endif

// Scratch per thread for L lanes, in doubles and ints.
void scratch_size(const Model &m, int lanes, int64_t &doubles, int64_t &ints) {
    const int64_t d = m.d, stride = std::max(m.rows, m.d);
    auto sizes = [&](auto lanes_v) {
        constexpr int L = decltype(lanes_v)::value;
        doubles = Scratch<L>::size(d, stride, m.width) * L;
        ints = Scratch<L>::ints(d);
    };
    switch (lanes) {
        case 1: sizes(std::integral_constant<int, 1>{}); break;
        case 4: sizes(std::integral_constant<int, 4>{}); break;
        default: sizes(std::integral_constant<int, 8>{});
    }
}

// A block of 64 bytes: the arena's unit, so that every lane vector in it is aligned.
struct alignas(64) Block {
    double v[8];
};

}  // namespace

int widest_lanes() {
#if NEURODYN_WIDE_LANES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 8;
    if (__builtin_cpu_supports("avx2")) return 4;
#endif
    return 1;
}

void solve_batch(const Model &model, const Options &opts, const Known &known,
                 const Bounds &bounds, const Lapack &lapack, const Batch &batch, int threads,
                 int lanes) {
    if (batch.n == 0) return;
    int n_threads = std::max(1, threads);
    const int64_t most = (batch.n + kBlock - 1) / kBlock;  // threads with work to share
    if (n_threads > most) n_threads = static_cast<int>(most);
#ifndef _OPENMP
    n_threads = 1;
#endif
    if (lanes == 0) lanes = model.d <= kLaneMaxState ? widest_lanes() : 1;
    void (*run)(Job &, double *, int *) = run_1;
#if NEURODYN_WIDE_LANES
    if (lanes == 4) run = run_4;
    if (lanes == 8) run = run_8;
#endif
    // Every thread's scratch, allocated here so that an allocation failure is an
    // exception in the caller, not in a parallel region.
    int64_t doubles = 0, ints = 0;
    scratch_size(model, lanes, doubles, ints);
    const int64_t blocks = (doubles + 7) / 8;
    std::vector<Block> arena(static_cast<size_t>(blocks * n_threads));
    std::vector<int> pivots(static_cast<size_t>(ints * n_threads));
    Job job{model, opts, known, bounds, lapack, batch};
#ifdef _OPENMP
#pragma omp parallel num_threads(n_threads)
#endif
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        run(job, arena[blocks * tid].v, pivots.data() + ints * tid);
    }
}

void evaluate_batch(const Model &model, const double *C, const double *X, int64_t n, double *R,
                    double *A) {
    const int64_t d = model.d;
    const int64_t stride = std::max(model.rows, model.d);
    std::vector<double> work(static_cast<size_t>(7 * stride));
    const LaneMask<1> all{{true}};
    for (int64_t k = 0; k < n; ++k) {
        forward<1>(model, C + k * model.width, X + k * d, R + k * d, work.data(), stride, all);
        jacobian<1>(model, X + k * d, A + k * d * d, work.data(), stride, all);
    }
}

}  // namespace newton
}  // namespace neurodyn
