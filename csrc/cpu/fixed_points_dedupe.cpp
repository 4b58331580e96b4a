// De-duplication scan of fixed-point candidates (see include/neurodyn/fixed_points_dedupe.h).
// O(n K d) for K clusters, with an early exit per pair: most candidates are far from
// most representatives, and one or two coordinates show it.
#include "neurodyn/fixed_points_dedupe.h"

namespace neurodyn {
namespace dedupe {

int64_t cluster_scan(const double *x, int64_t n, int64_t d, const int64_t *order, double tol2,
                     int64_t max_scan, int64_t *labels, int64_t *reps) {
    int64_t k = 0;
    for (int64_t a = 0; a < n; ++a) {
        const int64_t i = order[a];
        if (labels[i] >= 0) continue;
        if (k == max_scan) break;
        reps[k] = i;
        const double *xi = x + i * d;
        // Candidates before position a in q order are all assigned already.
        for (int64_t b = a; b < n; ++b) {
            const int64_t j = order[b];
            if (labels[j] >= 0) continue;
            const double *xj = x + j * d;
            double s = 0.0;
            for (int64_t c = 0; c < d; ++c) {
                const double t = xj[c] - xi[c];
                s += t * t;
                if (s > tol2) break;
            }
            if (s <= tol2) labels[j] = k;
        }
        ++k;
    }
    return k;
}

}  // namespace dedupe
}  // namespace neurodyn
