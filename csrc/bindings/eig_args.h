// The batched eigendecomposition's arguments: SciPy's LAPACK routines and the NumPy
// arrays of neurodyn.analysis.linearization.kernel as eig::Batch (no copies).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <complex>
#include <cstdint>
#include <stdexcept>

#include "neurodyn/eig.h"
#include "newton_args.h"

namespace neurodyn {
namespace binding {

// dgeev and the LU routines, looked up once (null pointers where missing: real_eig
// and the hand-written LU for every size).
inline eig::Lapack eig_lapack() {
    static const eig::Lapack lapack = [] {
        eig::Lapack l;
        l.geev = reinterpret_cast<eig::dgeev_t>(lapack_pointer("dgeev"));
        l.lu = newton_lapack();
        return l;
    }();
    return lapack;
}

// The batch of J (k, d, d) float64 with B (k, d, nb) float64 or None, and the
// outputs lam, growth, freq (k, d), right (k, d, d), left (k, d, d) and proj
// (k, d, nb) or None (both or neither), info (k,) int32 and singular (k,) uint8.
inline eig::Batch eig_batch_args(const py::array &J, const py::object &B, bool is_map,
                                 double dt, const py::array &lam, const py::array &growth,
                                 const py::array &freq, const py::array &right,
                                 const py::object &left, const py::object &proj,
                                 const py::array &info, const py::array &singular) {
    using cplx = std::complex<double>;
    if (J.ndim() != 3 || J.shape(1) != J.shape(2))
        throw std::invalid_argument("eig kernel: 'J' must have shape (k, d, d)");
    eig::Batch b;
    b.k = J.shape(0);
    b.d = J.shape(1);
    b.is_map = is_map;
    b.dt = dt;
    const int64_t k = b.k, d = b.d;
    b.J = newton_data<double>(J, "J", k * d * d);
    b.lam = newton_data<cplx>(lam, "lam", k * d, true);
    b.growth = newton_data<double>(growth, "growth", k * d, true);
    b.freq = newton_data<double>(freq, "freq", k * d, true);
    b.right = newton_data<cplx>(right, "right", k * d * d, true);
    if (left.is_none() != proj.is_none() || left.is_none() != B.is_none())
        throw std::invalid_argument("eig kernel: 'B', 'left' and 'proj' go together");
    if (!left.is_none()) {
        const py::array Ba = B.cast<py::array>();
        if (Ba.ndim() != 3) throw std::invalid_argument("eig kernel: 'B' must be 3-D");
        b.nb = Ba.shape(2);
        b.B = newton_data<double>(Ba, "B", k * d * b.nb);
        b.left = newton_data<cplx>(left.cast<py::array>(), "left", k * d * d, true);
        b.proj = newton_data<cplx>(proj.cast<py::array>(), "proj", k * d * b.nb, true);
    }
    b.info = newton_data<int32_t>(info, "info", k, true);
    b.singular = newton_data<uint8_t>(singular, "singular", k, true);
    return b;
}

}  // namespace binding
}  // namespace neurodyn
