// Fill a LifPlan from the dict of NumPy arrays that neurodyn/spiking/_plan.py
// builds. Shared by the CPU and CUDA bindings. The Python side already made
// every array C-contiguous with the right dtype; the checks here only turn a
// programming error into a Python exception instead of a wild read.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "neurodyn/lif.h"

namespace neurodyn {
namespace binding {

namespace py = pybind11;

template <typename T>
T *array_ptr(const py::dict &d, const char *key, bool optional = false) {
    if (!d.contains(key) || d[key].is_none()) {
        if (optional) return nullptr;
        throw std::invalid_argument(std::string("plan is missing the array '") + key + "'");
    }
    py::object o = d[key];
    py::array a = py::isinstance<py::array>(o) ? py::reinterpret_borrow<py::array>(o) : py::array();
    if (!py::isinstance<py::array>(o) || !a.dtype().is(py::dtype::of<T>()) ||
        !(a.flags() & py::array::c_style)) {
        throw std::invalid_argument(std::string("plan array '") + key +
                                    "' must be a C-contiguous array of " +
                                    std::string(py::str(py::dtype::of<T>())));
    }
    return const_cast<T *>(static_cast<const T *>(a.data()));
}

template <typename T>
T scalar(const py::dict &d, const char *key) {
    if (!d.contains(key))
        throw std::invalid_argument(std::string("plan is missing the value '") + key + "'");
    return d[key].cast<T>();
}

inline LifPlan plan_from_dict(const py::dict &d) {
    LifPlan p;
    p.n_samples = scalar<int64_t>(d, "n_samples");
    p.n_steps = scalar<int64_t>(d, "n_steps");
    p.n_src = scalar<int64_t>(d, "n_src");
    p.n_neu = scalar<int64_t>(d, "n_neu");
    p.n_syn = scalar<int64_t>(d, "n_syn");
    p.max_delay = scalar<int64_t>(d, "max_delay");
    p.has_delta = scalar<int>(d, "has_delta");

    p.n_pop = scalar<int64_t>(d, "n_pop");
    p.pop_ptr = array_ptr<int64_t>(d, "pop_ptr");
    p.neuron_pop = array_ptr<int32_t>(d, "neuron_pop");
    p.k_m = array_ptr<double>(d, "k_m");
    p.v_rest = array_ptr<double>(d, "v_rest");
    p.v_th = array_ptr<double>(d, "v_th");
    p.v_reset = array_ptr<double>(d, "v_reset");
    p.bias = array_ptr<double>(d, "bias");
    p.decay_e = array_ptr<double>(d, "decay_e");
    p.decay_i = array_ptr<double>(d, "decay_i");
    p.ref_steps = array_ptr<int32_t>(d, "ref_steps");
    p.clamp = array_ptr<int8_t>(d, "clamp");
    p.v0 = array_ptr<double>(d, "v0");
    p.astro_sign = array_ptr<int8_t>(d, "astro_sign");

    p.out_ptr = array_ptr<int64_t>(d, "out_ptr");
    p.syn_pre = array_ptr<int32_t>(d, "syn_pre");
    p.syn_post = array_ptr<int32_t>(d, "syn_post");
    p.syn_proj = array_ptr<int32_t>(d, "syn_proj");
    p.syn_delay = array_ptr<int32_t>(d, "syn_delay");
    p.in_ptr = array_ptr<int64_t>(d, "in_ptr");
    p.in_syn = array_ptr<int64_t>(d, "in_syn");
    p.w0 = array_ptr<double>(d, "w0");
    p.w0_per_sample = scalar<int>(d, "w0_per_sample");

    p.proj_receptor = array_ptr<int32_t>(d, "proj_receptor");
    p.proj_gain = array_ptr<double>(d, "proj_gain");
    p.proj_wmin = array_ptr<double>(d, "proj_wmin");
    p.proj_wmax = array_ptr<double>(d, "proj_wmax");
    p.proj_plastic = array_ptr<int8_t>(d, "proj_plastic");
    p.proj_mirror = array_ptr<int8_t>(d, "proj_mirror");

    p.src_p = array_ptr<double>(d, "src_p");
    p.ev_ptr = array_ptr<int64_t>(d, "ev_ptr", true);
    p.ev_unit = array_ptr<int32_t>(d, "ev_unit", true);
    p.seed = scalar<uint64_t>(d, "seed");
    p.sample_ids = array_ptr<int64_t>(d, "sample_ids");

    p.stdp_on = scalar<int>(d, "stdp_on");
    p.pre_decay = scalar<double>(d, "pre_decay");
    p.pre_inc = scalar<double>(d, "pre_inc");
    p.post_decay = scalar<double>(d, "post_decay");
    p.post_inc = scalar<double>(d, "post_inc");
    p.rate_plus0 = scalar<double>(d, "rate_plus0");
    p.rate_minus0 = scalar<double>(d, "rate_minus0");
    p.astro_on = scalar<int>(d, "astro_on");
    p.astro_w = scalar<double>(d, "astro_w");
    p.astro_b = scalar<double>(d, "astro_b");
    p.astro_tau = scalar<double>(d, "astro_tau");
    p.lr_decay = scalar<double>(d, "lr_decay");
    p.ap_on = scalar<int>(d, "ap_on");
    p.ap_theta = scalar<double>(d, "ap_theta");
    p.ap_width = scalar<double>(d, "ap_width");
    p.calcium_decay = scalar<double>(d, "calcium_decay");
    p.carry_weights = scalar<int>(d, "carry_weights");

    p.counts = array_ptr<int32_t>(d, "counts");
    p.record_spikes = scalar<int>(d, "record_spikes");
    p.spike_cap = scalar<int64_t>(d, "spike_cap");
    p.spike_step = array_ptr<int32_t>(d, "spike_step");
    p.spike_unit = array_ptr<int32_t>(d, "spike_unit");
    p.n_spikes = array_ptr<int64_t>(d, "n_spikes");
    p.n_vrec = scalar<int64_t>(d, "n_vrec");
    p.vrec_every = scalar<int64_t>(d, "vrec_every");
    p.vrec_idx = array_ptr<int32_t>(d, "vrec_idx");
    p.vrec = array_ptr<double>(d, "vrec");
    p.rate_trace = array_ptr<double>(d, "rate_trace", true);
    p.w_out = array_ptr<double>(d, "w_out", true);
    p.num_threads = scalar<int>(d, "num_threads");
    return p;
}

}  // namespace binding
}  // namespace neurodyn
