// Eigenvalues and right eigenvectors of a small real matrix (real_eig of eig.h).
//
// The textbook algorithm (Golub & Van Loan, Matrix Computations, 7.4-7.6), in three
// stages, on a copy scaled by a power of two to a largest entry near 1 (exact in
// binary floating point, so squares formed along the way neither overflow nor
// underflow; the eigenvalues are scaled back at the end):
//
// 1. Hessenberg form H = Q^T A Q by Householder reflectors P_k = I - beta_k v_k v_k^T,
//    with Q = P_0 P_1 ... P_{n-3} accumulated backwards (each P_k touches only the
//    trailing block).
// 2. Real Schur form T = Z^T A Z by Francis double-shift QR sweeps on the active
//    window of H, each chasing a 3 x 3 reflector bulge down the subdiagonal, with
//    the eigenvalues of the window's trailing 2 x 2 block as shifts (an exceptional
//    shift every 10 sweeps without deflation breaks the cycles of the standard ones,
//    e.g. on a cyclic permutation). A subdiagonal entry deflates when
//    |h_{l,l-1}| <= eps (|h_{l-1,l-1}| + |h_{ll}|). Each 2 x 2 diagonal block left is
//    put in standard form (standard_2x2).
// 3. Eigenvectors of T by back substitution, (T - lambda I) y = 0 with y_k = 1 (and
//    the 2 x 2 block's null vector for a complex pair), then v = Z y with unit norm.
//    Near-zero pivots T_ii - lambda are raised to eps max(|lambda|, 1) (T having
//    entries of order 1, a perturbation within rounding), and y is rescaled whenever
//    it grows past 1e150, so a defective eigenvalue gives a finite, nearly repeated
//    vector instead of an overflow.
//
// Matrices are column-major (M(i, j) = M[i + j n]), so the long loops run down
// contiguous columns.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>

#include "neurodyn/eig.h"

namespace neurodyn {
namespace eig {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
// Back substitution rescales the eigenvector once an entry passes this.
constexpr double kBig = 1e150;

using cplx = std::complex<double>;

// |a| with the sign of b (Fortran's SIGN; +0 counts as positive).
inline double sign(double a, double b) { return b >= 0.0 ? std::fabs(a) : -std::fabs(a); }

// M <- P_k M on columns k+1..n-1, P_k = I - beta v v^T with v = vs[k+1.., k].
inline void reflect_left(double *M, const double *vs, int64_t n, int64_t k, double beta) {
    const double *v = vs + k * n;
    for (int64_t j = k + 1; j < n; ++j) {
        double *m = M + j * n;
        double s = 0.0;
        for (int64_t i = k + 1; i < n; ++i) s += v[i] * m[i];
        s *= beta;
        for (int64_t i = k + 1; i < n; ++i) m[i] -= s * v[i];
    }
}

// T <- Q^T T Q upper Hessenberg and Z <- Q, in place. Column k of vs keeps the
// reflector v_k (rows k+1..), which the backward accumulation of Q reuses.
void hessenberg(double *T, double *Z, double *vs, double *betas, double *w, int64_t n) {
    for (int64_t k = 0; k + 2 < n; ++k) {
        double *tk = T + k * n;
        double *v = vs + k * n;
        // P_k maps x = T[k+1.., k] to -+|x| e_1 (sign opposite to x_0: no cancellation).
        double big = 0.0;
        for (int64_t i = k + 1; i < n; ++i) big = std::max(big, std::fabs(tk[i]));
        betas[k] = 0.0;
        if (big == 0.0) continue;
        double ss = 0.0;
        for (int64_t i = k + 1; i < n; ++i) {
            const double t = tk[i] / big;
            ss += t * t;
        }
        const double x0 = tk[k + 1];
        const double alpha = x0 >= 0.0 ? -std::sqrt(ss) * big : std::sqrt(ss) * big;
        v[k + 1] = x0 - alpha;
        for (int64_t i = k + 2; i < n; ++i) v[i] = tk[i];
        double vtv = 0.0;
        for (int64_t i = k + 1; i < n; ++i) vtv += v[i] * v[i];
        const double beta = 2.0 / vtv;
        betas[k] = beta;
        tk[k + 1] = alpha;
        for (int64_t i = k + 2; i < n; ++i) tk[i] = 0.0;
        reflect_left(T, vs, n, k, beta);
        // From the right, on columns k+1..: w = T v, then T -= beta w v^T.
        for (int64_t i = 0; i < n; ++i) w[i] = 0.0;
        for (int64_t j = k + 1; j < n; ++j) {
            const double vj = v[j];
            const double *t = T + j * n;
            for (int64_t i = 0; i < n; ++i) w[i] += t[i] * vj;
        }
        for (int64_t j = k + 1; j < n; ++j) {
            const double f = beta * v[j];
            double *t = T + j * n;
            for (int64_t i = 0; i < n; ++i) t[i] -= f * w[i];
        }
    }
    // Q = P_0 P_1 ... P_{n-3}, built from the right end: P_k touches rows and
    // columns k+1.. only.
    std::fill(Z, Z + n * n, 0.0);
    for (int64_t i = 0; i < n; ++i) Z[i + i * n] = 1.0;
    for (int64_t k = n - 3; k >= 0; --k)
        if (betas[k] != 0.0) reflect_left(Z, vs, n, k, betas[k]);
}

// Columns (j-1, j) of M, rows 0..rows-1, times the rotation [[cs, -sn], [sn, cs]].
inline void rotate_columns(double *M, int64_t n, int64_t rows, int64_t j, double cs, double sn) {
    double *a = M + (j - 1) * n, *b = M + j * n;
    for (int64_t r = 0; r < rows; ++r) {
        const double x = a[r], y = b[r];
        a[r] = cs * x + sn * y;
        b[r] = cs * y - sn * x;
    }
}

// Apply the rotation of a standardised block at rows/columns (i-1, i) to the rest of
// T (the rows to its right, the columns above it) and to Z's columns.
void rotate_pair(double *T, double *Z, int64_t n, int64_t i, double cs, double sn) {
    for (int64_t j = i + 1; j < n; ++j) {
        const double x = T[i - 1 + j * n], y = T[i + j * n];
        T[i - 1 + j * n] = cs * x + sn * y;
        T[i + j * n] = cs * y - sn * x;
    }
    rotate_columns(T, n, i - 1, i, cs, sn);
    rotate_columns(Z, n, n, i, cs, sn);
}

// Columns k, k+1 (and k+2 if three) of M, rows 0..rows-1, times the reflector
// I - tau u u^T, u = (1, u1, u2).
inline void reflect_columns(double *M, int64_t n, int64_t rows, int64_t k, double u1, double u2,
                            double tau, bool three) {
    double *a = M + k * n, *b = M + (k + 1) * n;
    if (three) {
        double *c = M + (k + 2) * n;
        for (int64_t r = 0; r < rows; ++r) {
            const double s = tau * (a[r] + u1 * b[r] + u2 * c[r]);
            a[r] -= s;
            b[r] -= s * u1;
            c[r] -= s * u2;
        }
    } else {
        for (int64_t r = 0; r < rows; ++r) {
            const double s = tau * (a[r] + u1 * b[r]);
            a[r] -= s;
            b[r] -= s * u1;
        }
    }
}

// Francis double-shift QR: T (upper Hessenberg) <- its real Schur form, Z <- Z Q.
// Writes the eigenvalues to (wr, wi); false if they needed more than `sweeps` sweeps
// per eigenvalue on average.
bool schur(double *T, double *Z, double *wr, double *wi, int64_t n, int64_t sweeps_allowed) {
    auto at = [T, n](int64_t i, int64_t j) -> double & { return T[i + j * n]; };
    double norm = 0.0;  // fallback scale of the deflation test where both diagonals vanish
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < std::min(j + 2, n); ++i) norm += std::fabs(at(i, j));
    int64_t ihi = n - 1, its = 0, sweeps = 0;
    while (ihi >= 0) {
        // The active window is l..ihi: look for a negligible subdiagonal entry.
        int64_t l = ihi;
        while (l > 0) {
            double s = std::fabs(at(l - 1, l - 1)) + std::fabs(at(l, l));
            if (s == 0.0) s = norm;
            if (std::fabs(at(l, l - 1)) <= kEps * s) {
                at(l, l - 1) = 0.0;
                break;
            }
            --l;
        }
        if (l == ihi) {  // a 1 x 1 block has converged
            wr[ihi] = at(ihi, ihi);
            wi[ihi] = 0.0;
            --ihi;
            its = 0;
            continue;
        }
        if (l == ihi - 1) {  // a 2 x 2 block: standard form
            const int64_t i = ihi;
            double a = at(i - 1, i - 1), b = at(i - 1, i), c = at(i, i - 1), d = at(i, i);
            double cs, sn;
            standard_2x2(a, b, c, d, cs, sn);
            at(i - 1, i - 1) = a;
            at(i - 1, i) = b;
            at(i, i - 1) = c;
            at(i, i) = d;
            rotate_pair(T, Z, n, i, cs, sn);
            wr[i - 1] = a;
            wr[i] = d;
            // Real eigenvalues get +0 imaginary parts: -0 would put a negative one at
            // angle -pi instead of pi.
            const double w = c == 0.0 ? 0.0 : std::sqrt(std::fabs(b)) * std::sqrt(std::fabs(c));
            wi[i - 1] = w;
            wi[i] = c != 0.0 ? -w : 0.0;
            ihi -= 2;
            its = 0;
            continue;
        }
        if (++sweeps > sweeps_allowed * n) return false;
        ++its;
        const int64_t m = ihi;
        double h11, h12, h21, h22;
        if (its % 10 == 0) {  // exceptional shift: break a cycle of the standard shifts
            const double s = std::fabs(at(m, m - 1)) + std::fabs(at(m - 1, m - 2));
            h11 = 0.75 * s + at(m, m);
            h12 = -0.4375 * s;
            h21 = s;
            h22 = h11;
        } else {
            h11 = at(m - 1, m - 1);
            h12 = at(m - 1, m);
            h21 = at(m, m - 1);
            h22 = at(m, m);
        }
        const double tr = h11 + h22, det = h11 * h22 - h12 * h21;
        // First column of (T - s1)(T - s2), s the shifts: (x, y, z, 0, ...).
        const double h00 = at(l, l), h10 = at(l + 1, l);
        double x = h00 * h00 + at(l, l + 1) * h10 - tr * h00 + det;
        double y = h10 * (h00 + at(l + 1, l + 1) - tr);
        double z = h10 * at(l + 2, l + 1);
        for (int64_t k = l; k < ihi; ++k) {
            const bool three = k < ihi - 1;
            if (k > l) {
                x = at(k, k - 1);
                y = at(k + 1, k - 1);
                z = three ? at(k + 2, k - 1) : 0.0;
            }
            const double scale = std::fabs(x) + std::fabs(y) + std::fabs(z);
            if (scale == 0.0) continue;
            const double xs = x / scale, ys = y / scale, zs = z / scale;
            double alpha = std::sqrt(xs * xs + ys * ys + zs * zs) * scale;
            if (x >= 0.0) alpha = -alpha;
            // P = I - tau u u^T, u = (1, u1, u2), maps (x, y, z) to alpha e_1.
            const double u0 = x - alpha, u1 = y / u0, u2 = z / u0, tau = -u0 / alpha;
            if (k > l) {
                at(k, k - 1) = alpha;
                at(k + 1, k - 1) = 0.0;
                if (three) at(k + 2, k - 1) = 0.0;
            }
            for (int64_t j = k; j < n; ++j) {
                double *t = T + j * n;
                double s = t[k] + u1 * t[k + 1];
                if (three) s += u2 * t[k + 2];
                s *= tau;
                t[k] -= s;
                t[k + 1] -= s * u1;
                if (three) t[k + 2] -= s * u2;
            }
            reflect_columns(T, n, std::min(k + 3, ihi) + 1, k, u1, u2, tau, three);
            reflect_columns(Z, n, n, k, u1, u2, tau, three);
        }
    }
    return true;
}

template <typename S>
inline double magnitude(const S &v) {
    return std::abs(v);
}

// Back substitution for the eigenvector of the eigenvalue lam at T's columns
// first..k (k = first + 1 for a pair): y (zero below k) with (T - lam) y = 0 on rows
// 0..first-1, given y[first..k]. S is double for a real eigenvalue, complex otherwise.
template <typename S>
void back_substitute(const double *T, int64_t n, int64_t first, int64_t k, S lam, S *y) {
    auto at = [T, n](int64_t i, int64_t j) { return T[i + j * n]; };
    // Right-hand sides of the rows above: y[i] = -sum_j T[i, j] y[j].
    for (int64_t j = first; j <= k; ++j)
        for (int64_t i = 0; i < first; ++i) y[i] -= at(i, j) * y[j];
    // T has entries of order 1 (real_eig scales it), so eps max(|lam|, 1) is a
    // perturbation of T within rounding: backward stable, and no overflow.
    const double smin =
        kEps * std::max(std::fabs(std::real(lam)) + std::fabs(std::imag(lam)), 1.0);
    auto rescale = [y, k](double big) {
        for (int64_t t = 0; t <= k; ++t) y[t] /= big;
    };
    int64_t i = first - 1;
    while (i >= 0) {
        if (i > 0 && at(i, i - 1) != 0.0) {
            // A 2 x 2 block above: solve for (y[i-1], y[i]) together.
            const S a11 = at(i - 1, i - 1) - lam, a22 = at(i, i) - lam;
            const double a12 = at(i - 1, i), a21 = at(i, i - 1);
            S det = a11 * a22 - a12 * a21;
            if (magnitude(det) < smin) det = smin;
            const S r1 = y[i - 1], r2 = y[i];
            y[i - 1] = (a22 * r1 - a12 * r2) / det;
            y[i] = (a11 * r2 - a21 * r1) / det;
            const double big = std::max(magnitude(y[i - 1]), magnitude(y[i]));
            if (big > kBig) rescale(big);
            for (int64_t j = i - 1; j <= i; ++j)
                for (int64_t r = 0; r < i - 1; ++r) y[r] -= at(r, j) * y[j];
            i -= 2;
        } else {
            S piv = at(i, i) - lam;
            if (magnitude(piv) < smin) piv = smin;
            y[i] = y[i] / piv;
            if (magnitude(y[i]) > kBig) rescale(magnitude(y[i]));
            for (int64_t r = 0; r < i; ++r) y[r] -= at(r, i) * y[i];
            i -= 1;
        }
    }
}

// Right eigenvectors of Z T Z^T from the Schur form, into V (dgeev's layout), each
// of unit norm. y (n real) and cy (n complex) are scratch.
void eigenvectors(const double *T, const double *Z, const double *wr, const double *wi,
                  double *V, double *y, cplx *cy, int64_t n) {
    int64_t k = n - 1;
    while (k >= 0) {
        const bool pair = k > 0 && T[k + (k - 1) * n] != 0.0;
        const int64_t first = pair ? k - 1 : k;
        double *vr = V + first * n;
        for (int64_t r = 0; r < n; ++r) vr[r] = 0.0;
        double ss = 0.0;
        if (!pair) {
            std::fill(y, y + n, 0.0);
            y[k] = 1.0;
            back_substitute<double>(T, n, first, k, wr[k], y);
            // v = Z y (y is zero below k), then unit length.
            for (int64_t j = 0; j <= k; ++j) {
                const double yj = y[j];
                const double *zj = Z + j * n;
                for (int64_t r = 0; r < n; ++r) vr[r] += zj[r] * yj;
            }
            for (int64_t r = 0; r < n; ++r) ss += vr[r] * vr[r];
            const double f = 1.0 / std::sqrt(ss);
            for (int64_t r = 0; r < n; ++r) vr[r] *= f;
        } else {
            double *vi = V + k * n;
            for (int64_t r = 0; r < n; ++r) vi[r] = 0.0;
            std::fill(cy, cy + n, cplx(0.0, 0.0));
            // Null vector of the standard block [[a, b], [c, a]] - lam, lam = a + i w:
            // (1, i w / b), or (-w / c, i) when |c| > |b|, for accuracy.
            const double b = T[first + k * n], c = T[k + first * n];
            if (std::fabs(b) >= std::fabs(c)) {
                cy[first] = 1.0;
                cy[k] = cplx(0.0, wi[first] / b);
            } else {
                cy[first] = -wi[first] / c;
                cy[k] = cplx(0.0, 1.0);
            }
            back_substitute<cplx>(T, n, first, k, cplx(wr[first], wi[first]), cy);
            for (int64_t j = 0; j <= k; ++j) {
                const double yr = cy[j].real(), yi = cy[j].imag();
                const double *zj = Z + j * n;
                for (int64_t r = 0; r < n; ++r) {
                    vr[r] += zj[r] * yr;
                    vi[r] += zj[r] * yi;
                }
            }
            for (int64_t r = 0; r < n; ++r) ss += vr[r] * vr[r] + vi[r] * vi[r];
            const double f = 1.0 / std::sqrt(ss);
            for (int64_t r = 0; r < n; ++r) {
                vr[r] *= f;
                vi[r] *= f;
            }
        }
        k = first - 1;
    }
}

// v[i] 2^e for i < n, exactly (also where 2^e alone would overflow or underflow):
// one multiplication by a power of two, or two where 2^e is not a normal number.
void scale_pow2(const double *v, double *out, int64_t n, int e) {
    const int e1 = e / 2, e2 = e - e1;
    if (e > -1000 && e < 1000) {
        const double f = std::ldexp(1.0, e);
        for (int64_t i = 0; i < n; ++i) out[i] = v[i] * f;
    } else {  // |e| <= 1074 for finite entries: each half is a normal power of two
        const double f1 = std::ldexp(1.0, e1), f2 = std::ldexp(1.0, e2);
        for (int64_t i = 0; i < n; ++i) out[i] = (v[i] * f1) * f2;
    }
}

}  // namespace

void standard_2x2(double &a, double &b, double &c, double &d, double &cs, double &sn) {
    cs = 1.0;
    sn = 0.0;
    if (c == 0.0) return;
    if (b == 0.0) {  // swap rows and columns
        std::swap(a, d);
        b = -c;
        c = 0.0;
        cs = 0.0;
        sn = 1.0;
        return;
    }
    if (a == d && (b > 0.0) != (c > 0.0)) return;  // already standard
    const double temp = a - d;
    double p = 0.5 * temp;
    const double bcmax = std::max(std::fabs(b), std::fabs(c));
    const double bcmis = std::min(std::fabs(b), std::fabs(c)) * sign(1.0, b) * sign(1.0, c);
    const double scale = std::max(std::fabs(p), bcmax);
    double z = p / scale * p + bcmax / scale * bcmis;
    if (z >= 4.0 * kEps) {
        // Real eigenvalues, well apart: one rotation makes the block triangular.
        z = p + sign(std::sqrt(scale) * std::sqrt(z), p);
        a = d + z;
        d = d - bcmax / z * bcmis;
        const double tau = std::hypot(c, z);
        cs = z / tau;
        sn = c / tau;
        b = b - c;
        c = 0.0;
        return;
    }
    // Complex or nearly equal real eigenvalues: first equalise the diagonal.
    const double sigma = b + c;
    const double tau = std::hypot(sigma, temp);
    cs = std::sqrt(0.5 * (1.0 + std::fabs(sigma) / tau));
    sn = -(p / (tau * cs)) * sign(1.0, sigma);
    const double aa = a * cs + b * sn, bb = -a * sn + b * cs;
    const double cc = c * cs + d * sn, dd = -c * sn + d * cs;
    b = bb * cs + dd * sn;
    c = -aa * sn + cc * cs;
    const double mid = 0.5 * ((aa * cs + cc * sn) + (-bb * sn + dd * cs));
    a = mid;
    d = mid;
    if (c != 0.0) {
        if (b == 0.0) {
            b = -c;
            c = 0.0;
            const double t = cs;
            cs = -sn;
            sn = t;
        } else if ((b > 0.0) == (c > 0.0)) {
            // bc > 0: real eigenvalues mid +- sqrt(bc) after all; triangularise.
            const double sab = std::sqrt(std::fabs(b)), sac = std::sqrt(std::fabs(c));
            p = sign(sab * sac, c);
            const double t = 1.0 / std::sqrt(std::fabs(b + c));
            a = mid + p;
            d = mid - p;
            b = b - c;
            c = 0.0;
            const double cs1 = sab * t, sn1 = sac * t;
            const double cs0 = cs;
            cs = cs0 * cs1 - sn * sn1;
            sn = cs0 * sn1 + sn * cs1;
        }
    }
}

bool real_eig(int64_t n, const double *A, double *wr, double *wi, double *V, double *work,
              cplx *cwork, int64_t sweeps) {
    double big = 0.0;
    for (int64_t i = 0; i < n * n; ++i) big = std::max(big, std::fabs(A[i]));
    if (big == 0.0) {
        std::fill(wr, wr + n, 0.0);
        std::fill(wi, wi + n, 0.0);
        std::fill(V, V + n * n, 0.0);
        for (int64_t i = 0; i < n; ++i) V[i + i * n] = 1.0;
        return true;
    }
    // A power of two near 1 / max|A|: scaling by it is exact.
    const int e = -static_cast<int>(std::ceil(std::log2(big)));
    double *T = work, *Z = work + n * n, *vs = work + 2 * n * n, *betas = work + 3 * n * n;
    double *w = betas + n;
    scale_pow2(A, T, n * n, e);
    hessenberg(T, Z, vs, betas, w, n);
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = j + 2; i < n; ++i) T[i + j * n] = 0.0;
    if (!schur(T, Z, wr, wi, n, sweeps)) return false;
    // vs is free now: the real back substitutions use it.
    eigenvectors(T, Z, wr, wi, V, vs, cwork, n);
    scale_pow2(wr, wr, n, -e);
    scale_pow2(wi, wi, n, -e);
    return true;
}

}  // namespace eig
}  // namespace neurodyn
