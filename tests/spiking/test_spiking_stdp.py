"""STDP and the astrocyte against hand-computed updates.

A "drive" source makes the postsynaptic neuron spike on the step after each
drive spike (a delta synapse above threshold); the plastic synapse under test
has gain 0, so it never changes the neuron's dynamics, only its own weight.
"""

import math

import numpy as np
import pytest
from spiking_nets import FAST_BACKENDS

from neurodyn.spiking import LIF, STDP, Astrocyte, Network

BACKENDS = ["numpy", *FAST_BACKENDS]
D = math.exp(-1.0 / 10.0)  # trace decay per 1-ms step with tau = 10 ms


def _pair(
    pre_steps, post_steps, *, mirror=False, w0=1.0, bounds=(-10.0, 10.0), stdp=None, backend="numpy"
):
    net = Network(dt=1.0)
    net.add_source("pre", 1)
    net.add_source("drive", 1)
    net.add_lif("post", 1, LIF(tau_m=10.0, v_th=1.0, t_ref=1.0))
    net.connect("drive", "post", one_to_one=True, weight=5.0, receptor="delta")
    net.connect("pre", "post", one_to_one=True, weight=w0, gain=0.0, plastic=True, mirror=mirror,
                w_min=bounds[0], w_max=bounds[1])  # fmt: skip
    n = 60
    pre = np.zeros((n, 1))
    pre[list(pre_steps)] = 1
    drive = np.zeros((n, 1))
    drive[[s - 1 for s in post_steps]] = 1
    stdp = stdp or STDP(rate_plus=0.2, rate_minus=0.3)
    ds = net.run(float(n), spikes={"pre": pre, "drive": drive}, stdp=stdp, return_weights=True,
                 backend=backend)  # fmt: skip
    post_times = ds["spike_time"].values[ds["spike_unit"].values == 2]
    np.testing.assert_array_equal(post_times, sorted(post_steps))  # the set-up works
    return ds["weights"].values[0, 1]  # the plastic synapse (second projection)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pre_before_post_potentiates(backend):
    w = _pair([10], [14], backend=backend)
    assert w == pytest.approx(1.0 + 0.2 * 0.1 * D**4, rel=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_post_before_pre_depresses(backend):
    w = _pair([20], [14], backend=backend)
    assert w == pytest.approx(1.0 - 0.3 * 0.1 * D**6, rel=1e-14)


def test_same_step_and_distant_pairs():
    assert _pair([14], [14]) == 1.0  # traces only hold earlier steps
    # Traces add linearly: pre at 10, 20, 35 and post at 14, 40 give
    # +(14: pre 10), -(20: post 14), -(35: post 14), +(40: pre 35, 20, 10).
    w = _pair([10, 20, 35], [14, 40])
    expected = 1.0 + 0.02 * D**4 - 0.03 * D**6 - 0.03 * D**21 + 0.02 * (D**5 + D**20 + D**30)
    assert w == pytest.approx(expected, rel=1e-13)


def test_mirrored_rule_for_inhibitory_synapses():
    # causal pairing strengthens inhibition at rate_minus, anti-causal weakens it at rate_plus
    w = _pair([10], [14], mirror=True, w0=-1.0, bounds=(-10.0, 0.0))
    assert w == pytest.approx(-1.0 - 0.3 * 0.1 * D**4, rel=1e-14)
    w = _pair([20], [14], mirror=True, w0=-1.0, bounds=(-10.0, 0.0))
    assert w == pytest.approx(-1.0 + 0.2 * 0.1 * D**6, rel=1e-14)


def test_weights_are_clipped_to_their_bounds():
    strong = STDP(rate_plus=100.0, rate_minus=100.0)
    assert _pair([10], [14], stdp=strong, w0=1.0, bounds=(0.0, 2.0)) == 2.0
    assert _pair([20], [14], stdp=strong, w0=1.0, bounds=(0.0, 2.0)) == 0.0


def test_learning_rate_decays_per_millisecond():
    stdp = STDP(rate_plus=0.2, rate_minus=0.3, lr_decay=0.99)
    w = _pair([10], [14], stdp=stdp)
    assert w == pytest.approx(1.0 + 0.2 * 0.99**14 * 0.1 * D**4, rel=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
def test_astrocyte_follows_its_equation(backend):
    # A <- A + (w_A (spikes of "up" - spikes of "down") + b_A - A) / tau_A, then decay.
    rng = np.random.default_rng(0)
    n = 80
    up, down = rng.random((n, 3)) < 0.3, rng.random((n, 2)) < 0.4
    net = Network(dt=1.0)
    net.add_source("up", 3)
    net.add_source("down", 2)
    net.add_lif("post", 1, LIF())
    net.connect("up", "post", pairs=([0], [0]), weight=0.0, plastic=True)
    astro = Astrocyte(w=0.05, b=0.1, tau=7.0, populations={"up": 1, "down": -1})
    stdp = STDP(rate_plus=0.15, rate_minus=0.2, lr_decay=0.98, astrocyte=astro)
    ds = net.run(float(n), spikes={"up": up, "down": down}, stdp=stdp, backend=backend)
    a, w_a, b_a, expected = 0.2, 0.05, 0.1, []
    for t in range(n):
        drive = float(up[t].sum()) - float(down[t].sum())
        a = a + (w_a * drive + b_a - a) / 7.0
        a, w_a, b_a = a * 0.98, w_a * 0.98, b_a * 0.98
        expected.append(a)
    np.testing.assert_allclose(ds["depression_rate"].values[0], expected, rtol=1e-13)


def test_stdp_needs_a_plastic_projection():
    net = Network(dt=1.0)
    net.add_lif("n", 2, LIF())
    with pytest.raises(ValueError, match="plastic=True"):
        net.run(10.0, stdp=STDP())
    with pytest.raises(ValueError, match="carry_weights"):
        net.run(10.0, carry_weights=True)
