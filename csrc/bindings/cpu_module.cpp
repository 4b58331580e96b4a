// neurodyn._C: the CPU kernels. The only file of the CPU module that includes
// Python headers; it turns NumPy arrays into raw pointers (no copies: the
// arrays are used in place) and releases the GIL while the kernel runs.
#include <pybind11/pybind11.h>

#include "neurodyn/lif.h"
#include "plan.h"

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
    m.doc() = "neurodyn CPU kernels (C++, OpenMP where the compiler supports it)";
    m.def(
        "lif_run",
        [](py::dict plan) {
            neurodyn::LifPlan p = neurodyn::binding::plan_from_dict(plan);
            py::gil_scoped_release release;
            neurodyn::lif_run_cpu(p);
        },
        py::arg("plan"),
        "Run the LIF engine on a plan built by neurodyn.spiking._plan (outputs in place).");
    m.def("has_openmp", &neurodyn::cpu_has_openmp, "Whether the kernels were built with OpenMP.");
    m.def("max_threads", &neurodyn::cpu_max_threads, "OpenMP's default number of threads.");
}
