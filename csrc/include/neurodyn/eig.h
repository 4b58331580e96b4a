// Eigendecomposition of a batch of real matrices for linearization at fixed points
// (neurodyn.analysis.linearization): eigenvalues, unit right eigenvectors R with a
// fixed phase, and R^{-1}, whose rows are the left eigenvectors l_j^H with
// l_j^H r_i = delta_ij. The matrices are shared among OpenMP threads.
//
// Each matrix goes to one of two solvers, which agree to rounding:
//   * up to `small_max` (64 from Python): real_eig below (hqr_cpu.cpp), Hessenberg
//     reduction, Francis double-shift QR and back substitution written out for
//     small orders, where LAPACK's dgeev spends most of its time in calls and
//     workspace handling (about 75 us for a 16 x 16 matrix, against 15-20 here);
//   * above it, or where real_eig's QR iteration does not converge, LAPACK's
//     dgeev (the one SciPy ships, passed in as a pointer).
// Both give dgeev's layout: eigenvalues (wr, wi) with a complex pair in consecutive
// places, positive imaginary part first, and V column-major with a real
// eigenvector as one column and the pair's vector v_r + i v_i as columns (v_r, v_i).
// Every eigenvector is then scaled to unit norm with its largest component real and
// positive (the "standard phase"), so the result does not depend on the solver.
//
// R^{-1} comes from V's real LU factors: R = V S with S = [[1, 1], [i, -i]] on each
// pair's columns, so R^{-1} = S^{-1} V^{-1}, S^{-1} = [[1, -i], [1, i]] / 2 mixing the
// pair's rows of V^{-1}. A matrix whose R is singular to working precision
// (|R|_inf |R^{-1}|_inf >= 1/eps, or an LU that fails: a defective matrix) is
// flagged; the caller then takes the pseudo-inverse.
#pragma once

#include <complex>
#include <cstdint>

#include "neurodyn/newton.h"

namespace neurodyn {
namespace eig {

// LAPACK's dgeev (Fortran calling convention).
using dgeev_t = void (*)(char *jobvl, char *jobvr, int *n, double *a, int *lda, double *wr,
                         double *wi, double *vl, int *ldvl, double *vr, int *ldvr, double *work,
                         int *lwork, int *info);

// The LAPACK routines used: dgeev for large matrices, and the LU of newton.h
// (dgetrf/dgetrs) for the inverse of large eigenvector matrices. Null pointers:
// real_eig for every size (info 1 where it fails) and the hand-written LU.
struct Lapack {
    dgeev_t geev = nullptr;
    newton::Lapack lu;
};

// Status of one matrix (info).
enum Info : int32_t {
    OK = 0,
    NOT_FINITE = -1,    // NaN or infinite entries
    NO_CONVERGENCE = 1  // neither real_eig nor dgeev (or no dgeev) converged
};

// A batch of k real d x d matrices J (row-major, (k, d, d)) and the eigenmodes of
// each, sorted by growth rate, most unstable first: growth = Re(lam) and frequency
// Im(lam) / (2 pi) x 1000 (Hz) for an ODE (is_map false), growth = ln|lam| / dt and
// frequency arg(lam) / (2 pi dt) x 1000 for a map; ties (a complex pair, repeated
// eigenvalues) put the larger imaginary part first and otherwise keep the solver's
// order (as neurodyn.analysis.linearization's lexicographic sort).
//
// Outputs, in that order: lam, growth, freq (k, d); right (k, d, d), column j of
// right[m] the unit eigenvector of lam[m, j]; and, where left is not null, left
// (k, d, d) with l_j = column j, l_j^H r_i = delta_ij (the conjugate transpose of
// R^{-1}), and proj (k, d, nb) = R^{-1} B (the selection vectors l_j^H B) of the
// real B (k, d, nb). info (k,) and singular (k,): R singular to working precision,
// where left and proj are left unwritten. Where info != OK nothing else is written.
struct Batch {
    int64_t k = 0, d = 0, nb = 0;
    bool is_map = false;
    double dt = 1.0;
    const double *J = nullptr;
    const double *B = nullptr;
    std::complex<double> *lam = nullptr;
    double *growth = nullptr;
    double *freq = nullptr;
    std::complex<double> *right = nullptr;
    std::complex<double> *left = nullptr;
    std::complex<double> *proj = nullptr;
    int32_t *info = nullptr;
    uint8_t *singular = nullptr;
};

// QR sweeps per eigenvalue, on average, after which real_eig gives up (and dgeev
// takes the matrix); Francis QR needs about two.
constexpr int64_t kSweepsPerEigenvalue = 30;

// Decompose every matrix of the batch on up to `threads` OpenMP threads (one matrix
// at a time from a shared counter), with real_eig (allowed `sweeps` sweeps per
// eigenvalue) up to order small_max.
void eig_batch(const Batch &batch, const Lapack &lapack, int64_t small_max, int64_t sweeps,
               int threads);

// Scratch of real_eig for order n: doubles and complex numbers.
inline int64_t real_eig_doubles(int64_t n) { return 3 * n * n + 2 * n; }

// Eigenvalues (wr, wi) and right eigenvectors V (column-major, ldv = n) of the real
// n x n matrix A, given column-major (lda = n) and finite, in dgeev's layout with
// every vector of unit norm. `work` holds real_eig_doubles(n) doubles and `cwork` n
// complex numbers. Returns false where the QR iteration did not converge within
// `sweeps` sweeps per eigenvalue on average (wr, wi and V are then undefined).
bool real_eig(int64_t n, const double *A, double *wr, double *wi, double *V, double *work,
              std::complex<double> *cwork, int64_t sweeps = kSweepsPerEigenvalue);

// Standard Schur form of the 2 x 2 block [[a, b], [c, d]] (LAPACK's dlanv2):
// overwrites it with G^T [[a, b], [c, d]] G, G = [[cs, -sn], [sn, cs]], which is
// either upper triangular (c = 0: real eigenvalues a, d) or has a = d and bc < 0 (the
// pair a +- i sqrt(|bc|)).
void standard_2x2(double &a, double &b, double &c, double &d, double &cs, double &sn);

}  // namespace eig
}  // namespace neurodyn
