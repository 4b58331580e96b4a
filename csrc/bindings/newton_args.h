// Turn the arrays and configuration objects of neurodyn.analysis.fixed_points.kernel
// into the fixed-point kernel's structs (no copies: the arrays are used in place).
// The Python side already made
// every array C-contiguous with the right dtype and shape; the checks here only turn
// a programming error into a Python exception instead of a wild read or write.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "neurodyn/newton.h"

namespace neurodyn {
namespace binding {

namespace py = pybind11;

// The data of `a`, which must hold `size` C-contiguous values of type T (and be
// writeable when `out`).
template <typename T>
T *newton_data(const py::array &a, const char *name, int64_t size, bool out = false) {
    // Equivalent dtypes, not the same object: an unpickled float64 array has its own.
    if (!a.dtype().equal(py::dtype::of<T>()) || !(a.flags() & py::array::c_style))
        throw std::invalid_argument(std::string("newton kernel: '") + name +
                                    "' must be a C-contiguous array of " +
                                    std::string(py::str(py::dtype::of<T>())));
    if (a.size() != size)
        throw std::invalid_argument(std::string("newton kernel: '") + name + "' has " +
                                    std::to_string(a.size()) + " entries; expected " +
                                    std::to_string(size));
    if (out && !a.writeable())
        throw std::invalid_argument(std::string("newton kernel: '") + name + "' is read-only");
    return const_cast<T *>(static_cast<const T *>(a.data()));
}

// A structured model from its codes and arrays: W (rows, cols), bias (rows,),
// scale (d,), and the width of one prepared input.
inline newton::Model newton_model(int code, int phi, const py::array &W, const py::array &bias,
                                  const py::array &scale, int64_t width) {
    if (W.ndim() != 2) throw std::invalid_argument("newton kernel: 'W' must be 2-D");
    if (code < newton::RATE || code > newton::LSTM || phi < newton::TANH ||
        phi > newton::RECTIFIED_TANH)
        throw std::invalid_argument("newton kernel: unknown model or nonlinearity code");
    newton::Model m;
    m.code = code;
    m.phi = phi;
    m.rows = W.shape(0);
    m.cols = W.shape(1);
    m.d = code == newton::LSTM ? 2 * m.cols : m.cols;
    const int64_t gates[] = {1, 1, 3, 4};
    if (m.rows != gates[code] * m.cols)
        throw std::invalid_argument("newton kernel: 'W' has the wrong number of rows");
    m.W = newton_data<double>(W, "W", m.rows * m.cols);
    m.bias = newton_data<double>(bias, "bias", m.rows);
    m.scale = newton_data<double>(scale, "scale", m.cols);
    m.width = width;
    const int64_t need = code == newton::RATE || code == newton::ELMAN ? m.d : m.rows;
    if (width != need)
        throw std::invalid_argument("newton kernel: the prepared inputs have the wrong width");
    return m;
}

// The model of a KernelSpec (neurodyn.dynamics.protocol: model, phi, weight, bias,
// scale) for prepared inputs of `width` entries.
inline newton::Model newton_model(const py::object &spec, int64_t width) {
    return newton_model(spec.attr("model").cast<int>(), spec.attr("phi").cast<int>(),
                        spec.attr("weight").cast<py::array>(), spec.attr("bias").cast<py::array>(),
                        spec.attr("scale").cast<py::array>(), width);
}

// The solver's settings from a SolverOptions (neurodyn.analysis.fixed_points.options).
inline newton::Options newton_options(const py::object &opts) {
    newton::Options o;
    auto f = [&](const char *key) { return opts.attr(key).cast<double>(); };
    auto i = [&](const char *key) { return opts.attr(key).cast<int64_t>(); };
    o.tol_q = f("tol_q");
    o.xtol = f("xtol");
    o.root_xtol = f("root_xtol");
    o.gtol = f("gtol");
    o.gtol_stall = f("gtol_stall");
    o.length = f("length");
    o.max_iter = i("max_iter");
    o.max_step = f("max_step");
    o.x_max = f("x_max");
    o.n_backtrack = i("n_backtrack");
    o.lm_tries = i("lm_tries");
    o.patience = i("patience");
    o.armijo = f("armijo");
    o.chord_steps = i("chord_steps");
    o.chord_ratio = f("chord_ratio");
    o.state_margin = f("state_margin");
    o.state_tol = f("state_tol");
    return o;
}

// The known roots of a KnownRoots (neurodyn.analysis.fixed_points.options) with states
// of d entries; its arrays are used in place, so `known` must outlive the result.
inline newton::Known newton_known(const py::object &known, int64_t d) {
    newton::Known k;
    const py::array q = known.attr("q").cast<py::array>();
    k.K = q.size();
    k.x = newton_data<double>(known.attr("x").cast<py::array>(), "known.x", k.K * d);
    k.q = newton_data<double>(q, "known.q", k.K);
    k.group = newton_data<int64_t>(known.attr("group").cast<py::array>(), "known.group", k.K);
    k.radii = newton_data<double>(known.attr("radii").cast<py::array>(), "known.radii", 2 * k.K);
    const double *gate = newton_data<double>(known.attr("gate").cast<py::array>(), "known.gate", 2);
    k.q_gate = gate[0];
    k.reach = gate[1];
    k.snap_tol = known.attr("snap_tol").cast<double>();
    return k;
}

// The state set from None or a pair (lower, upper) of arrays of d entries.
inline newton::Bounds newton_bounds(const py::object &bounds, int64_t d) {
    newton::Bounds b;
    if (bounds.is_none()) return b;
    const py::tuple pair = bounds.cast<py::tuple>();
    b.lower = newton_data<double>(pair[0].cast<py::array>(), "bounds[0]", d);
    b.upper = newton_data<double>(pair[1].cast<py::array>(), "bounds[1]", d);
    return b;
}

// A routine of scipy.linalg.cython_lapack (the LAPACK NumPy and SciPy already load),
// or null where SciPy or the routine is missing.
inline void *lapack_pointer(const char *name) {
    try {
        py::dict capi = py::module_::import("scipy.linalg.cython_lapack").attr("__pyx_capi__");
        if (!capi.contains(name)) return nullptr;
        py::object cap = capi[name];
        void *p = PyCapsule_GetPointer(cap.ptr(), PyCapsule_GetName(cap.ptr()));
        if (p == nullptr) PyErr_Clear();
        return p;
    } catch (const std::exception &) {
        return nullptr;
    }
}

// SciPy's LAPACK LU routines, looked up once; null where that fails, and the kernel
// then uses its own LU for every size.
inline newton::Lapack newton_lapack() {
    static const newton::Lapack lapack = [] {
        newton::Lapack l;
        void *getrf = lapack_pointer("dgetrf"), *getrs = lapack_pointer("dgetrs");
        if (getrf != nullptr && getrs != nullptr) {
            l.getrf = reinterpret_cast<newton::dgetrf_t>(getrf);
            l.getrs = reinterpret_cast<newton::dgetrs_t>(getrs);
        }
        return l;
    }();
    return lapack;
}

}  // namespace binding
}  // namespace neurodyn
