// De-duplication of fixed-point candidates by direct comparison (see
// analysis/dedupe.py): candidates are visited in order of increasing q; each one not
// yet assigned becomes the representative of a new cluster and takes every
// unassigned candidate within tol of it (Euclidean). Each cluster formed is complete,
// so a KD-tree can carry on from the candidates left after max_scan clusters.
#pragma once

#include <cstdint>

namespace neurodyn {
namespace dedupe {

// x (n, d) row-major; order (n,) a permutation (increasing q); labels (n,) set to -1
// by the caller and written with each candidate's cluster; reps (max_scan,) written
// with the representatives. Returns the number of clusters formed.
int64_t cluster_scan(const double *x, int64_t n, int64_t d, const int64_t *order, double tol2,
                     int64_t max_scan, int64_t *labels, int64_t *reps);

}  // namespace dedupe
}  // namespace neurodyn
