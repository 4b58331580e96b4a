// neurodyn._C_cuda: the CUDA kernels. Compiled by the host compiler and linked
// with the nvcc-compiled objects and the static CUDA runtime, so it imports on
// machines without a GPU (device_count() is then 0).
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "neurodyn/lif.h"
#include "plan.h"

namespace py = pybind11;

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
    m.def("device_count", &neurodyn::cuda_device_count,
          "Number of CUDA devices visible (0 without a GPU or driver).");
}
