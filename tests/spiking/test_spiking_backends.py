"""Every fast backend reproduces the NumPy reference spike for spike.

The kernels evaluate the same expressions in the same order (csrc/include/
neurodyn/lif_rules.h), so results must be *equal*, not close: a single
different rounding would move a threshold crossing and change the spikes.
"""

import numpy as np
import pytest
from spiking_nets import ASTRO_STDP, FAST_BACKENDS, mixed_inputs, mixed_network

import neurodyn.spiking.lif as lif_module
from neurodyn.spiking import STDP, ActivityGate, Astrocyte
from neurodyn.spiking._reference import counter_uniform

VARIABLES = ("counts", "spike_sample", "spike_time", "spike_unit", "v", "weights")
VARIABLES += ("depression_rate",)

pytestmark = pytest.mark.skipif(not FAST_BACKENDS, reason="no compiled or Numba backend here")


def _run(backend, net=None, **kw):
    net = net or mixed_network()
    rates, spikes = mixed_inputs()
    args = dict(rates=rates, spikes=spikes, record_v=True, return_weights=True, seed=7)
    args.update(kw)
    return net.run(60.0, backend=backend, **args)


def _assert_same(a, b):
    for var in VARIABLES:
        if var in a:
            np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)
    assert set(VARIABLES) & set(a.data_vars) == set(VARIABLES) & set(b.data_vars)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_static_network_matches_reference(backend):
    ref = _run("numpy")
    assert ref["counts"].values.sum() > 50  # the comparison means something only if it spikes
    _assert_same(_run(backend), ref)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_astro_stdp_matches_reference(backend):
    ref = _run("numpy", stdp=ASTRO_STDP)
    w0 = mixed_network().synapses()["weight"]
    assert np.any(ref["weights"].values != w0)  # plasticity did act
    _assert_same(_run(backend, stdp=ASTRO_STDP), ref)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_carried_weights_match_reference(backend):
    kw = dict(stdp=STDP(rate_plus=0.3, rate_minus=0.2), carry_weights=True, record_v=None)
    _assert_same(_run(backend, **kw), _run("numpy", **kw))


# Over a 60-ms run with tau_C = 1 s the calcium is about a neuron's spike count so
# far, so the windows (1, 3) and (3, 5) gate every neuron at some point of the run.
AP_STDP = STDP(rate_plus=0.3, rate_minus=0.2, activity=ActivityGate(threshold=3.0, width=2.0))


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("carry", [False, True])
def test_activity_gated_stdp_matches_reference(backend, carry):
    kw = dict(stdp=AP_STDP, carry_weights=carry)
    ref = _run("numpy", **kw)
    plain = _run("numpy", stdp=STDP(rate_plus=0.3, rate_minus=0.2), carry_weights=carry)
    w0 = mixed_network().synapses()["weight"]
    assert np.any(ref["weights"].values != w0)  # the gate let some updates through
    assert np.any(ref["weights"].values != plain["weights"].values)  # and held some back
    _assert_same(_run(backend, **kw), ref)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_sparse_astrocyte_matches_reference(backend):
    units = {"exc": (0, 2, 5), "src": (1,)}
    astro = Astrocyte(w=0.02, tau=20.0, populations={"exc": 1, "inh": 1, "src": -1}, units=units)
    kw = dict(stdp=STDP(rate_plus=0.2, rate_minus=0.1, astrocyte=astro))
    ref = _run("numpy", **kw)
    assert np.any(
        ref["depression_rate"].values != _run("numpy", stdp=ASTRO_STDP)["depression_rate"].values
    )
    _assert_same(_run(backend, **kw), ref)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_per_sample_weights_match_reference(backend):
    w = mixed_network().synapses()["weight"]
    per_sample = np.stack([w, 0.5 * w, 1.5 * w])
    _assert_same(_run(backend, weights=per_sample), _run("numpy", weights=per_sample))


def test_batches_and_sample_ids_do_not_change_results():
    backend = FAST_BACKENDS[0]
    whole = _run(backend, stdp=ASTRO_STDP)
    split = _run(backend, stdp=ASTRO_STDP, batch_size=2)
    _assert_same(split, whole)
    # A sample's input spikes depend on its id, not on its position in the batch.
    rates, spikes = mixed_inputs()
    one = mixed_network().run(
        60.0,
        rates={"src": rates["src"][2:]},
        spikes={"tick": spikes["tick"][2:]},
        sample_ids=[2],
        seed=7,
        backend=backend,
    )
    np.testing.assert_array_equal(one["counts"].values[0], whole["counts"].values[2])


def test_spike_buffer_overflow_is_rerun(monkeypatch):
    backend = FAST_BACKENDS[0]
    full = _run(backend)
    monkeypatch.setattr(lif_module, "_SPIKE_FRACTION", 1e-6)  # a buffer of 64 spikes
    assert full.sizes["spike"] > 64 * full.sizes["sample"]
    _assert_same(_run(backend), full)


def test_counter_generator_is_uniform_and_reproducible():
    u = counter_uniform(123, 4, 5, np.arange(200_000))
    assert u.min() >= 0.0 and u.max() < 1.0
    # mean and variance of U(0, 1) within 5 standard errors
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
    np.testing.assert_array_equal(u[:10], counter_uniform(123, 4, 5, np.arange(10)))
    assert not np.array_equal(u[:10], counter_uniform(123, 4, 6, np.arange(10)))
