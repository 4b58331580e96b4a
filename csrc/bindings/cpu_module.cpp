// neurodyn._C: the CPU kernels. The only file of the CPU module that includes
// Python headers; it turns NumPy arrays into raw pointers (no copies: the
// arrays are used in place) and releases the GIL while the kernel runs.
#include <pybind11/pybind11.h>

#include <complex>
#include <vector>

#include "eig_args.h"
#include "neurodyn/eig.h"
#include "neurodyn/lif.h"
#include "neurodyn/newton.h"
#include "newton_args.h"
#include "plan.h"
#include "rate_scan_args.h"

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
    m.def(
        "newton_solve",
        [](py::object spec, py::array C, py::array group, py::array X, py::object options,
           py::object known, py::object bounds, py::array q, py::array n_iter, py::array status,
           py::array root, int threads, int lanes) {
            using neurodyn::binding::newton_data;
            if (C.ndim() != 2 || X.ndim() != 2)
                throw std::invalid_argument("newton kernel: 'C' and 'X' must be 2-D");
            const neurodyn::newton::Model m = neurodyn::binding::newton_model(spec, C.shape(1));
            const int64_t n = X.shape(0), d = m.d;
            if (X.shape(1) != d) throw std::invalid_argument("newton kernel: 'X' has the wrong width");
            neurodyn::newton::Batch b;
            b.n = n;
            b.X = newton_data<double>(X, "X", n * d, true);
            b.C = newton_data<double>(C, "C", C.size());
            b.group = newton_data<int64_t>(group, "group", n);
            b.q = newton_data<double>(q, "q", n, true);
            b.n_iter = newton_data<int64_t>(n_iter, "n_iter", n, true);
            b.status = newton_data<int64_t>(status, "status", n, true);
            b.root = newton_data<int64_t>(root, "root", n, true);
            for (int64_t k = 0; k < n; ++k)
                if (b.group[k] < 0 || b.group[k] >= C.shape(0))
                    throw std::invalid_argument("newton kernel: 'group' indexes past 'C'");
            const neurodyn::newton::Known kn = neurodyn::binding::newton_known(known, d);
            const neurodyn::newton::Bounds bd = neurodyn::binding::newton_bounds(bounds, d);
            const neurodyn::newton::Options o = neurodyn::binding::newton_options(options);
            const neurodyn::newton::Lapack lapack = neurodyn::binding::newton_lapack();
            if (!(lanes == 0 || lanes == 1 || lanes == 4 || lanes == 8) ||
                lanes > neurodyn::newton::widest_lanes())
                throw std::invalid_argument("newton kernel: 'lanes' must be 0 or 1, 4, 8 up to " +
                                            std::to_string(neurodyn::newton::widest_lanes()));
            py::gil_scoped_release release;
            neurodyn::newton::solve_batch(m, o, kn, bd, lapack, b, threads, lanes);
        },
        py::arg("spec"), py::arg("C"), py::arg("group"), py::arg("X"), py::arg("options"),
        py::arg("known"), py::arg("bounds"), py::arg("q"), py::arg("n_iter"), py::arg("status"),
        py::arg("root"), py::arg("threads"), py::arg("lanes") = 0,
        "Solve fixed-point candidates X (updated in place) with the Newton/LM kernel: spec a "
        "KernelSpec, options a SolverOptions, known a KnownRoots, bounds None or (lower, "
        "upper); see neurodyn.analysis.fixed_points.kernel.");
    m.def("newton_lanes", &neurodyn::newton::widest_lanes,
          "Candidates the Newton kernel carries in lockstep on this processor (1, 4 or 8).");
    m.def(
        "newton_evaluate",
        [](py::object spec, py::array C, py::array X, py::array R, py::array A) {
            using neurodyn::binding::newton_data;
            if (C.ndim() != 2 || X.ndim() != 2)
                throw std::invalid_argument("newton kernel: 'C' and 'X' must be 2-D");
            const neurodyn::newton::Model m = neurodyn::binding::newton_model(spec, C.shape(1));
            const int64_t n = X.shape(0), d = m.d;
            if (X.shape(1) != d || C.shape(0) != n)
                throw std::invalid_argument("newton kernel: 'X' or 'C' has the wrong shape");
            const double *c = newton_data<double>(C, "C", n * m.width);
            const double *x = newton_data<double>(X, "X", n * d);
            double *r = newton_data<double>(R, "R", n * d, true);
            double *a = newton_data<double>(A, "A", n * d * d, true);
            py::gil_scoped_release release;
            neurodyn::newton::evaluate_batch(m, c, x, n, r, a);
        },
        "Residuals R (n, d) and Jacobians A (n, d, d) of the kernel's model at states X.");
    m.def(
        "eig_modes",
        [](py::array J, py::object B, bool is_map, double dt, py::array lam, py::array growth,
           py::array freq, py::array right, py::object left, py::object proj, py::array info,
           py::array singular, int64_t small_max, int64_t sweeps, int threads) {
            const neurodyn::eig::Batch b = neurodyn::binding::eig_batch_args(
                J, B, is_map, dt, lam, growth, freq, right, left, proj, info, singular);
            const neurodyn::eig::Lapack lapack = neurodyn::binding::eig_lapack();
            py::gil_scoped_release release;
            neurodyn::eig::eig_batch(b, lapack, small_max, sweeps, threads);
        },
        py::arg("J"), py::arg("B"), py::arg("is_map"), py::arg("dt"), py::arg("lam"),
        py::arg("growth"), py::arg("freq"), py::arg("right"), py::arg("left"), py::arg("proj"),
        py::arg("info"), py::arg("singular"), py::arg("small_max"), py::arg("sweeps"),
        py::arg("threads"),
        "Sorted eigenmodes of a batch of real matrices: eigenvalues, growth rates, "
        "frequencies, unit right eigenvectors (standard phase), left eigenvectors and "
        "selection vectors; see neurodyn.analysis.linearization.kernel.");
    m.def(
        "eig_real",
        [](py::array A, py::array wr, py::array wi, py::array V, int64_t sweeps) {
            using neurodyn::binding::newton_data;
            if (A.ndim() != 2 || A.shape(0) != A.shape(1))
                throw std::invalid_argument("eig_real: 'A' must be square");
            const int64_t n = A.shape(0);
            const double *a = newton_data<double>(A, "A", n * n);
            double *pwr = newton_data<double>(wr, "wr", n, true);
            double *pwi = newton_data<double>(wi, "wi", n, true);
            double *pv = newton_data<double>(V, "V", n * n, true);
            std::vector<double> work(static_cast<size_t>(neurodyn::eig::real_eig_doubles(n)));
            std::vector<std::complex<double>> cwork(static_cast<size_t>(n));
            py::gil_scoped_release release;
            return neurodyn::eig::real_eig(n, a, pwr, pwi, pv, work.data(), cwork.data(), sweeps);
        },
        py::arg("A"), py::arg("wr"), py::arg("wi"), py::arg("V"),
        py::arg("sweeps") = neurodyn::eig::kSweepsPerEigenvalue,
        "The small-matrix eigensolver alone on a column-major A (for tests): eigenvalues "
        "(wr, wi) and vectors V (column-major) in dgeev's layout; False if QR did not converge.");
    m.def(
        "eig_standard_2x2",
        [](double a, double b, double c, double d) {
            double cs, sn;
            neurodyn::eig::standard_2x2(a, b, c, d, cs, sn);
            return py::make_tuple(a, b, c, d, cs, sn);
        },
        "Standard Schur form (a, b, c, d, cs, sn) of a 2 x 2 block (for tests).");
    m.def(
        "rate_scan_forward",
        [](int phi, py::array drive, py::object eta, py::object scale, py::object x0,
           py::object W, py::object alpha, py::object states, py::object rates, py::object rise,
           py::object r0, py::object p) {
            using namespace neurodyn::binding;
            scan_dispatch(
                drive,
                [&] {
                    return scan_forward<float>(phi, drive, eta, scale, x0, W, alpha, states,
                                               rates, rise, r0, p);
                },
                [&] {
                    return scan_forward<double>(phi, drive, eta, scale, x0, W, alpha, states,
                                                rates, rise, r0, p);
                });
        },
        py::arg("phi"), py::arg("drive"), py::arg("eta"), py::arg("scale"), py::arg("x0"),
        py::arg("W"), py::arg("alpha"), py::arg("states"), py::arg("rates"), py::arg("rise"),
        py::arg("r0"), py::arg("p"),
        "The rate network's recurrence over all steps (outputs in place); see "
        "neurodyn.rnn_models.rate_scan.");
    m.def(
        "rate_scan_backward",
        [](int phi, py::object grad_states, py::object grad_rates, py::array states,
           py::object rates, py::object rise, py::object eta, py::object x0, py::object r0,
           py::object W, py::object alpha, py::object delta, py::object grad_alpha,
           py::object grad_scale, py::object grad_x0, py::object lam, py::object carry) {
            using namespace neurodyn::binding;
            scan_dispatch(
                states,
                [&] {
                    return scan_backward<float>(phi, grad_states, grad_rates, states, rates,
                                                rise, eta, x0, r0, W, alpha, delta, grad_alpha,
                                                grad_scale, grad_x0, lam, carry);
                },
                [&] {
                    return scan_backward<double>(phi, grad_states, grad_rates, states, rates,
                                                 rise, eta, x0, r0, W, alpha, delta, grad_alpha,
                                                 grad_scale, grad_x0, lam, carry);
                });
        },
        py::arg("phi"), py::arg("grad_states"), py::arg("grad_rates"), py::arg("states"),
        py::arg("rates"), py::arg("rise"), py::arg("eta"), py::arg("x0"), py::arg("r0"),
        py::arg("W"), py::arg("alpha"), py::arg("delta"), py::arg("grad_alpha"),
        py::arg("grad_scale"), py::arg("grad_x0"), py::arg("lam"), py::arg("carry"),
        "The rate scan's backward sweep through time (gradients in place).");
    m.def(
        "rate_scan_phi",
        [](int phi, py::array_t<float, py::array::c_style | py::array::forcecast> x) {
            py::array_t<float> out(x.size());
            const float *in = x.data();
            float *o = out.mutable_data();
            for (py::ssize_t k = 0; k < x.size(); ++k)
                o[k] = neurodyn::rate_scan::phi_value(phi, in[k]);
            return out;
        },
        py::arg("phi"), py::arg("x"),
        "The rate scan's float32 phi of each value of x, flattened (for tests of its tanh).");
    m.def("has_openmp", &neurodyn::cpu_has_openmp, "Whether the kernels were built with OpenMP.");
    m.def("max_threads", &neurodyn::cpu_max_threads, "OpenMP's default number of threads.");
}
