// The fixed-point kernel: damped Newton with a Levenberg-Marquardt safeguard, a few
// candidates in lockstep per thread (see analysis/fixed_points/kernel.py for the
// algorithm in full;
// analysis/fixed_points/reference.py is the plain solver the tests compare it with).
// Plain structs of raw pointers and sizes in, results written in place; no Python
// here, and the kernels never validate: the wrapper
// (neurodyn.analysis.fixed_points.kernel) guarantees shapes, dtypes and contiguity.
//
// For each candidate x with residual r(x), its Jacobian A = dr/dx and
// q = |r|^2 / 2, every iteration
//   0. stops at a known root x* (found in an earlier pass, same input group) when
//      x is in its ball of convergence |x - x*| < rho, or when the geometric tail
//      delta2^2 / (delta1 - delta2) of the last two full steps puts the candidate's
//      own root within snap_tol of x*, or within 3 rho of it;
//   1. stops as a root when q <= tol_q and the root is located (the tail, or the
//      Newton step, below root_xtol (1 + |x|)), or when a Newton step is at
//      rounding level (xtol);
//   2. stops as a slow point when |A^T r| L <= gtol |r|^2 (or gtol_stall once
//      stalled);
//   3. else tries the Newton step -A^{-1} r (capped at max_step, Armijo
//      backtracking), then up to chord_steps chord steps with the same factors;
//   4. else Levenberg-Marquardt steps (A^T A + mu I) dx = -A^T r.
// Before all of these, a candidate with a non-finite q or a coordinate beyond x_max
// has diverged, and one whose excursion outside the model's reachable state set
// grew past where it started by more than state_margin has left the state set; so
// has a root or slow point that ends outside the set by more than state_tol.
#pragma once

#include <cstdint>

namespace neurodyn {
namespace newton {

// Model codes (the residual r of state x for a prepared input drive c):
//   RATE:  r = s * (-x + W phi(x) + c)
//   ELMAN: r = phi(W x + c) - x
//   GRU:   r = (1 - z) * (n - x), PyTorch's gates, bias = b_hh
//   LSTM:  r = [o * tanh(c') - h, c' - c], state [h, c]
enum ModelCode : int { RATE = 0, ELMAN = 1, GRU = 2, LSTM = 3 };

// Nonlinearity codes (as neurodyn.dynamics.nonlinearities.PHI_CODES).
enum PhiCode : int { TANH = 0, RELU = 1, SOFTPLUS = 2, RECTIFIED_TANH = 3 };

// Candidate outcomes (as neurodyn.analysis.fixed_points.outcomes).
enum Status : int64_t {
    ROOT = 0,
    SLOW = 1,
    DIVERGED = 2,
    SINGULAR = 3,
    STALLED = 4,
    MAX_ITER = 5,
    LEFT_STATE_SET = 6,
};

// A structured model. W has `rows` rows of `cols` entries, row-major:
// (d, d) for rate and Elman maps, (3h, h) for the GRU, (4h, h) for the LSTM,
// whose state has d = 2h entries.
struct Model {
    int code = RATE;
    int phi = TANH;
    int64_t d = 0;     // state size
    int64_t rows = 0;  // rows of W
    int64_t cols = 0;  // columns of W
    const double *W = nullptr;
    const double *bias = nullptr;   // (rows,): the GRU's b_hh; zeros otherwise
    const double *scale = nullptr;  // (d,): the rate residual's row scale; ones otherwise
    int64_t width = 0;              // entries of one prepared input c
};

// The solver's settings (the fields of neurodyn.analysis.SolverOptions).
struct Options {
    double tol_q = 1e-20, xtol = 1e-14, root_xtol = 1e-8, gtol = 1e-10, gtol_stall = 1e-4;
    double length = 1.0;
    int64_t max_iter = 200;
    double max_step = 1.0, x_max = 1e6;
    int64_t n_backtrack = 6, lm_tries = 8, patience = 10;
    double armijo = 1e-4;
    int64_t chord_steps = 4;
    double chord_ratio = 0.75;
    double state_margin = 2.0, state_tol = 1e-6;
};

// Roots found in an earlier pass (K = 0 for none), at which candidates may stop.
struct Known {
    int64_t K = 0;
    const double *x = nullptr;       // (K, d)
    const double *q = nullptr;       // (K,)
    const int64_t *group = nullptr;  // (K,) input group of each root
    const double *radii = nullptr;   // (K, 2): balls of convergence and uniqueness (rho, 3 rho)
    double q_gate = 0.0;             // no candidate with a larger q is in a ball of convergence
    double reach = 0.0;              // the largest 3 rho
    double snap_tol = 0.0;           // the de-duplication radius
};

// The reachable state set lower <= x <= upper (entries may be infinite), or none.
struct Bounds {
    const double *lower = nullptr;  // (d,), or nullptr for no bounds
    const double *upper = nullptr;  // (d,)
};

// LAPACK's LU routines (Fortran calling convention), used above the size where the
// hand-written LU is faster; null pointers mean the hand-written LU for every size.
using dgetrf_t = void (*)(int *m, int *n, double *a, int *lda, int *ipiv, int *info);
using dgetrs_t = void (*)(char *trans, int *n, int *nrhs, double *a, int *lda, int *ipiv,
                          double *b, int *ldb, int *info);
struct Lapack {
    dgetrf_t getrf = nullptr;
    dgetrs_t getrs = nullptr;
};

// A batch of candidates: X (n, d) is updated in place; candidate k has the prepared
// input C[group[k]] (C: (groups, width)). Writes q, iterations, status and the index
// of the known root it stopped at (-1 if none).
struct Batch {
    int64_t n = 0;
    double *X = nullptr;
    const double *C = nullptr;
    const int64_t *group = nullptr;
    double *q = nullptr;
    int64_t *n_iter = nullptr;
    int64_t *status = nullptr;
    int64_t *root = nullptr;
};

// Candidates per thread at least: fewer threads where the batch is smaller.
constexpr int64_t kBlock = 16;

// Candidates each thread carries in lockstep: as many as one SIMD vector of the
// processor holds doubles (8 with AVX-512, 4 with AVX2; one otherwise, widest_lanes()),
// for states of up to kLaneMaxState entries; one at a time above, where the loops over
// one candidate's entries are long enough to vectorise by themselves, LAPACK's blocked
// LU beats eight unblocked ones, and eight candidates' matrices leave the cache. On
// random rate networks (AVX-512, one thread) eight lanes took 0.68x the time of one
// at 64 units and 1.25x at 96.
constexpr int64_t kLaneMaxState = 64;
int widest_lanes();

// Solve every candidate of the batch on `threads` OpenMP threads, each carrying
// `lanes` candidates at a time (0: as above; else 1, 4 or 8, at most
// widest_lanes()) and taking the next from a counter the threads share whenever one
// ends (a thread held up by another process leaves its candidates to the others).
// Allocates every thread's scratch before the parallel region; nothing is allocated
// per candidate. The lane count changes no result: each lane's arithmetic is a lone
// candidate's.
void solve_batch(const Model &model, const Options &opts, const Known &known,
                 const Bounds &bounds, const Lapack &lapack, const Batch &batch, int threads,
                 int lanes = 0);

// Residuals R (n, d) and Jacobians A (n, d, d) of the states X (n, d) with prepared
// inputs C (n, width): the kernel's own model evaluation, for tests.
void evaluate_batch(const Model &model, const double *C, const double *X, int64_t n, double *R,
                    double *A);

}  // namespace newton
}  // namespace neurodyn
