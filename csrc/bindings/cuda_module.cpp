// neurodyn._C_cuda: the CUDA kernels. Compiled by the host compiler and linked
// with the nvcc-compiled objects and the static CUDA runtime, so it imports on
// machines without a GPU (device_count() is then 0).
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "neurodyn/lif.h"
#include "neurodyn/rate_scan.h"
#include "plan.h"

namespace py = pybind11;

namespace {

// A device pointer handed over as an integer (a tensor's data_ptr(); 0 for none).
template <typename T>
T *dev(uintptr_t p) {
    return reinterpret_cast<T *>(p);
}

void check(const char *err, const char *what) {
    if (err != nullptr) throw std::runtime_error(std::string(what) + " failed: " + err);
}

template <typename T>
void scan_forward(int phi, int64_t n, int64_t steps, int64_t m, const py::tuple &ptr,
                  int device, uintptr_t stream) {
    neurodyn::rate_scan::Forward<T> f;
    f.n = n, f.steps = steps, f.m = m, f.phi = phi;
    f.drive = dev<T>(ptr[0].cast<uintptr_t>());
    f.eta = dev<T>(ptr[1].cast<uintptr_t>());
    f.scale = dev<T>(ptr[2].cast<uintptr_t>());
    f.x0 = dev<T>(ptr[3].cast<uintptr_t>());
    f.W = dev<T>(ptr[4].cast<uintptr_t>());
    f.alpha = dev<T>(ptr[5].cast<uintptr_t>());
    f.states = dev<T>(ptr[6].cast<uintptr_t>());
    f.rates = dev<T>(ptr[7].cast<uintptr_t>());
    f.rise = dev<T>(ptr[8].cast<uintptr_t>());
    f.r0 = dev<T>(ptr[9].cast<uintptr_t>());
    const char *err;
    {
        py::gil_scoped_release release;
        err = neurodyn::rate_scan::forward_cuda(f, device, reinterpret_cast<void *>(stream));
    }
    check(err, "CUDA rate scan (forward)");
}

template <typename T>
void scan_backward(int phi, int64_t n, int64_t steps, int64_t m, const py::tuple &ptr,
                   int device, uintptr_t stream) {
    neurodyn::rate_scan::Backward<T> g;
    g.n = n, g.steps = steps, g.m = m, g.phi = phi;
    g.grad_states = dev<T>(ptr[0].cast<uintptr_t>());
    g.grad_rates = dev<T>(ptr[1].cast<uintptr_t>());
    g.states = dev<T>(ptr[2].cast<uintptr_t>());
    g.rates = dev<T>(ptr[3].cast<uintptr_t>());
    g.rise = dev<T>(ptr[4].cast<uintptr_t>());
    g.eta = dev<T>(ptr[5].cast<uintptr_t>());
    g.x0 = dev<T>(ptr[6].cast<uintptr_t>());
    g.r0 = dev<T>(ptr[7].cast<uintptr_t>());
    g.W = dev<T>(ptr[8].cast<uintptr_t>());
    g.alpha = dev<T>(ptr[9].cast<uintptr_t>());
    g.delta = dev<T>(ptr[10].cast<uintptr_t>());
    g.grad_alpha = dev<T>(ptr[11].cast<uintptr_t>());
    g.grad_scale = dev<T>(ptr[12].cast<uintptr_t>());
    g.grad_x0 = dev<T>(ptr[13].cast<uintptr_t>());
    g.lam = dev<T>(ptr[14].cast<uintptr_t>());
    g.acc = dev<T>(ptr[15].cast<uintptr_t>());
    const char *err;
    {
        py::gil_scoped_release release;
        err = neurodyn::rate_scan::backward_cuda(g, device, reinterpret_cast<void *>(stream));
    }
    check(err, "CUDA rate scan (backward)");
}

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
    m.doc() = "neurodyn CUDA kernels (CUDA runtime linked statically)";
    m.def(
        "lif_run",
        [](py::dict plan) {
            neurodyn::LifPlan p = neurodyn::binding::plan_from_dict(plan);
            std::string err;
            {
                py::gil_scoped_release release;
                err = neurodyn::lif_run_cuda(p);
            }
            if (!err.empty()) throw std::runtime_error("CUDA LIF kernel failed: " + err);
        },
        py::arg("plan"),
        "Run the LIF engine on the GPU; same plan and outputs as neurodyn._C.lif_run.");
    m.def(
        "rate_scan_forward",
        [](int phi, bool double_precision, int64_t n, int64_t steps, int64_t m, py::tuple ptr,
           int device, uintptr_t stream) {
            if (ptr.size() != 10) throw std::invalid_argument("rate scan: 10 pointers expected");
            if (double_precision)
                scan_forward<double>(phi, n, steps, m, ptr, device, stream);
            else
                scan_forward<float>(phi, n, steps, m, ptr, device, stream);
        },
        py::arg("phi"), py::arg("double_precision"), py::arg("n"), py::arg("steps"), py::arg("m"),
        py::arg("pointers"), py::arg("device"), py::arg("stream"),
        "The rate scan's forward sweep on device memory (data pointers of drive, eta, scale, "
        "x0, W, alpha, states, rates, rise, r0; 0 for none), on the given CUDA stream.");
    m.def(
        "rate_scan_backward",
        [](int phi, bool double_precision, int64_t n, int64_t steps, int64_t m, py::tuple ptr,
           int device, uintptr_t stream) {
            if (ptr.size() != 16) throw std::invalid_argument("rate scan: 16 pointers expected");
            if (double_precision)
                scan_backward<double>(phi, n, steps, m, ptr, device, stream);
            else
                scan_backward<float>(phi, n, steps, m, ptr, device, stream);
        },
        py::arg("phi"), py::arg("double_precision"), py::arg("n"), py::arg("steps"), py::arg("m"),
        py::arg("pointers"), py::arg("device"), py::arg("stream"),
        "The rate scan's backward sweep on device memory (grad_states, grad_rates, states, "
        "rates, rise, eta, x0, r0, W, alpha, delta, grad_alpha, grad_scale, grad_x0, lam, acc).");
    m.def("device_count", &neurodyn::cuda_device_count,
          "Number of CUDA devices visible (0 without a GPU or driver).");
}
