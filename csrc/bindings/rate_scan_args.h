// The rate scan's NumPy arrays as raw pointers (no copies: neurodyn.rnn_models.rate_scan
// hands over C-contiguous views of its tensors) and SciPy's BLAS gemm routines. The
// checks only turn a programming error into a Python exception instead of a wild
// read or write.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "neurodyn/rate_scan.h"

namespace neurodyn {
namespace binding {

namespace py = pybind11;

// The data of `a` (None gives null where `optional`): `size` C-contiguous values of T.
template <typename T>
T *scan_data(const py::object &obj, const char *name, int64_t size, bool optional = false) {
    if (obj.is_none()) {
        if (optional) return nullptr;
        throw std::invalid_argument(std::string("rate scan: '") + name + "' is required");
    }
    const py::array a = obj.cast<py::array>();
    if (!a.dtype().is(py::dtype::of<T>()) || !(a.flags() & py::array::c_style))
        throw std::invalid_argument(std::string("rate scan: '") + name +
                                    "' must be a C-contiguous array of " +
                                    std::string(py::str(py::dtype::of<T>())));
    if (a.size() != size)
        throw std::invalid_argument(std::string("rate scan: '") + name + "' has " +
                                    std::to_string(a.size()) + " entries; expected " +
                                    std::to_string(size));
    return const_cast<T *>(static_cast<const T *>(a.data()));
}

// A routine of scipy.linalg.cython_blas (the BLAS SciPy already loads), or null.
inline void *blas_pointer(const char *name) {
    try {
        py::dict capi = py::module_::import("scipy.linalg.cython_blas").attr("__pyx_capi__");
        if (!capi.contains(name)) return nullptr;
        py::object cap = capi[name];
        void *p = PyCapsule_GetPointer(cap.ptr(), PyCapsule_GetName(cap.ptr()));
        if (p == nullptr) PyErr_Clear();
        return p;
    } catch (const std::exception &) {
        return nullptr;
    }
}

// SciPy's sgemm and dgemm, looked up once (null where that fails: the scan then
// reports itself unavailable and PyTorch's runs instead).
inline const rate_scan::Blas &scan_blas() {
    static const rate_scan::Blas blas = [] {
        rate_scan::Blas b;
        b.sgemm = reinterpret_cast<rate_scan::gemm_t<float>>(blas_pointer("sgemm"));
        b.dgemm = reinterpret_cast<rate_scan::gemm_t<double>>(blas_pointer("dgemm"));
        return b;
    }();
    return blas;
}

// (trials, steps, units) of the (n, T, m) array `a`.
inline void scan_shape(const py::array &a, int64_t &n, int64_t &steps, int64_t &m) {
    if (a.ndim() != 3) throw std::invalid_argument("rate scan: 'drive' must be 3-D");
    n = a.shape(0);
    steps = a.shape(1);
    m = a.shape(2);
}

template <typename T>
rate_scan::Forward<T> scan_forward(int phi, const py::array &drive, const py::object &eta,
                                   const py::object &scale, const py::object &x0,
                                   const py::object &W, const py::object &alpha,
                                   const py::object &states, const py::object &rates,
                                   const py::object &rise, const py::object &r0,
                                   const py::object &p) {
    rate_scan::Forward<T> f;
    scan_shape(drive, f.n, f.steps, f.m);
    const int64_t big = f.n * f.steps * f.m, row = f.n * f.m;
    f.phi = phi;
    f.drive = scan_data<T>(drive, "drive", big);
    f.eta = scan_data<T>(eta, "eta", big, true);
    f.scale = scan_data<T>(scale, "scale", f.m, f.eta == nullptr);
    f.x0 = scan_data<T>(x0, "x0", row);
    f.W = scan_data<T>(W, "W", f.m * f.m);
    f.alpha = scan_data<T>(alpha, "alpha", f.m);
    f.states = scan_data<T>(states, "states", big);
    f.rates = scan_data<T>(rates, "rates", big);
    f.rise = scan_data<T>(rise, "rise", big, true);
    f.r0 = scan_data<T>(r0, "r0", row);
    f.p = scan_data<T>(p, "p", row);
    return f;
}

template <typename T>
rate_scan::Backward<T> scan_backward(int phi, const py::object &grad_states,
                                     const py::object &grad_rates, const py::array &states,
                                     const py::object &rates, const py::object &rise,
                                     const py::object &eta, const py::object &x0,
                                     const py::object &r0, const py::object &W,
                                     const py::object &alpha, const py::object &delta,
                                     const py::object &grad_alpha, const py::object &grad_scale,
                                     const py::object &grad_x0, const py::object &lam,
                                     const py::object &carry) {
    rate_scan::Backward<T> g;
    scan_shape(states, g.n, g.steps, g.m);
    const int64_t big = g.n * g.steps * g.m, row = g.n * g.m;
    g.phi = phi;
    g.grad_states = scan_data<T>(grad_states, "grad_states", big, true);
    g.grad_rates = scan_data<T>(grad_rates, "grad_rates", big, true);
    g.states = scan_data<T>(states, "states", big);
    g.rates = scan_data<T>(rates, "rates", big);
    g.grad_alpha = scan_data<T>(grad_alpha, "grad_alpha", g.m, true);
    g.rise = scan_data<T>(rise, "rise", big, g.grad_alpha == nullptr);
    g.grad_scale = scan_data<T>(grad_scale, "grad_scale", g.m, true);
    g.eta = scan_data<T>(eta, "eta", big, g.grad_scale == nullptr);
    g.x0 = scan_data<T>(x0, "x0", row);
    g.r0 = scan_data<T>(r0, "r0", row);
    g.W = scan_data<T>(W, "W", g.m * g.m);
    g.alpha = scan_data<T>(alpha, "alpha", g.m);
    g.delta = scan_data<T>(delta, "delta", big);
    g.grad_x0 = scan_data<T>(grad_x0, "grad_x0", row, true);
    g.lam = scan_data<T>(lam, "lam", row);
    g.carry = scan_data<T>(carry, "carry", row);
    return g;
}

// Runs the forward or backward scan in the dtype of `key` (float32 or float64),
// without the GIL.
template <typename Fn32, typename Fn64>
void scan_dispatch(const py::array &key, Fn32 f32, Fn64 f64) {
    const rate_scan::Blas &blas = scan_blas();
    if (key.dtype().is(py::dtype::of<float>())) {
        if (blas.sgemm == nullptr) throw std::runtime_error("rate scan: SciPy's sgemm not found");
        auto args = f32();
        py::gil_scoped_release release;
        rate_scan::run(args, blas);
    } else if (key.dtype().is(py::dtype::of<double>())) {
        if (blas.dgemm == nullptr) throw std::runtime_error("rate scan: SciPy's dgemm not found");
        auto args = f64();
        py::gil_scoped_release release;
        rate_scan::run(args, blas);
    } else {
        throw std::invalid_argument("rate scan: arrays must be float32 or float64");
    }
}

}  // namespace binding
}  // namespace neurodyn
