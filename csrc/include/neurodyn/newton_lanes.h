// Lanes of the fixed-point kernel: L candidates carried in lockstep, one per lane of
// a SIMD vector (GCC's vector extensions: operators on a vector act on every lane,
// and each lane rounds exactly as a lone double would). L = 1 is a plain double.
//
// Layout: entry i of a lane-interleaved vector is one V, entry i of lane l the double
// at [i * L + l] of the same memory (a vector type may alias its element type). The
// buffers are aligned to a whole V.
//
// Every function takes and returns vectors by reference: passing a 64-byte vector
// by value through a call is an ABI question that depends on the instruction set.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace neurodyn {
namespace newton {

template <int L>
struct Lanes {
    typedef double V __attribute__((vector_size(sizeof(double) * L)));
    typedef int64_t M __attribute__((vector_size(sizeof(double) * L)));
};

template <>
struct Lanes<1> {
    using V = double;
    using M = int64_t;
};

// Per-lane flags for the solver's decisions.
template <int L>
struct LaneMask {
    bool on[L];
};

#define NEURODYN_LANE_INLINE inline __attribute__((always_inline))

// m = all ones on the lanes of `on`, zeros elsewhere.
template <int L>
NEURODYN_LANE_INLINE void lane_bits(const LaneMask<L> &on, typename Lanes<L>::M &m) {
    if constexpr (L == 1) {
        m = on.on[0] ? -1 : 0;
    } else {
        for (int l = 0; l < L; ++l) m[l] = on.on[l] ? -1 : 0;
    }
}

// dst = a on the lanes of m (all ones there), dst unchanged elsewhere: a blend of
// bits, so no lane is computed or stored conditionally.
template <int L>
NEURODYN_LANE_INLINE void blend(typename Lanes<L>::V &dst, const typename Lanes<L>::M &m,
                                const typename Lanes<L>::V &a) {
    using M = typename Lanes<L>::M;
    using V = typename Lanes<L>::V;
    if constexpr (L == 1) {
        if (m) dst = a;
    } else {
        dst = (V)(((M)a & m) | ((M)dst & ~m));
    }
}

// The bits of v as integers, and back: a reinterpretation, for L = 1 as for vectors.
template <int L>
NEURODYN_LANE_INLINE void to_bits(const typename Lanes<L>::V &v, typename Lanes<L>::M &m) {
    std::memcpy(&m, &v, sizeof(m));
}
template <int L>
NEURODYN_LANE_INLINE void from_bits(const typename Lanes<L>::M &m, typename Lanes<L>::V &v) {
    std::memcpy(&v, &m, sizeof(v));
}

// The double at entry i of lane l of the lane-interleaved vector v.
template <int L>
NEURODYN_LANE_INLINE double &lane(typename Lanes<L>::V *v, int64_t i, int l) {
    return reinterpret_cast<double *>(v)[i * L + l];
}
template <int L>
NEURODYN_LANE_INLINE double lane(const typename Lanes<L>::V *v, int64_t i, int l) {
    return reinterpret_cast<const double *>(v)[i * L + l];
}

}  // namespace newton
}  // namespace neurodyn
