"""STDP and the astrocyte against hand-computed updates.

A "drive" source makes the postsynaptic neuron spike on the step after each
drive spike (a delta synapse above threshold); the plastic synapse under test
has gain 0, so it never changes the neuron's dynamics, only its own weight.
"""

import math

import numpy as np
import pytest
from spiking_nets import FAST_BACKENDS

from neurodyn.spiking import LIF, STDP, ActivityGate, Astrocyte, Network

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


# -- activity-dependent STDP ------------------------------------------------------------
# The postsynaptic calcium is C <- e^{-1/tau_C} C + S: 1 at the step of a lone post
# spike, e^{-k/tau_C} k steps later. The windows are (theta - width, theta) for
# depression and (theta, theta + width) for potentiation.
C_TAU = 5.0


def _gated(theta, width=1.0, tau=C_TAU):
    return STDP(
        rate_plus=0.2, rate_minus=0.3, activity=ActivityGate(threshold=theta, width=width, tau=tau)
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_passes_potentiation_only_in_its_window(backend):
    # pre 10, post 14: the causal term (+) is evaluated at 14, when C = 1
    causal = 1.0 + 0.2 * 0.1 * D**4
    assert _pair([10], [14], stdp=_gated(0.5), backend=backend) == pytest.approx(causal, rel=1e-14)
    assert _pair([10], [14], stdp=_gated(1.2), backend=backend) == 1.0  # C = 1 in (0.2, 1.2)
    assert _pair([10], [14], stdp=_gated(10.0), backend=backend) == 1.0  # outside both


@pytest.mark.parametrize("backend", BACKENDS)
def test_gate_passes_depression_only_in_its_window(backend):
    # post 14, pre 20: the anti-causal term (-) is evaluated at 20, when C = e^{-6/5} = 0.30
    anti = 1.0 - 0.3 * 0.1 * D**6
    c = math.exp(-6.0 / C_TAU)
    assert 0.2 < c < 0.5
    assert _pair([20], [14], stdp=_gated(1.2), backend=backend) == pytest.approx(anti, rel=1e-14)
    assert _pair([20], [14], stdp=_gated(0.2, width=0.3), backend=backend) == 1.0  # C in (0.2, 0.5)


def test_gate_on_a_mirrored_synapse():
    # causal pairing strengthens inhibition (a decrease of w): it passes in the
    # depression window only; anti-causal pairing weakens it: the potentiation window
    kw = dict(mirror=True, w0=-1.0, bounds=(-10.0, 0.0))
    w = _pair([10], [14], stdp=_gated(1.2), **kw)
    assert w == pytest.approx(-1.0 - 0.3 * 0.1 * D**4, rel=1e-14)
    assert _pair([10], [14], stdp=_gated(0.5), **kw) == -1.0
    assert _pair([20], [14], stdp=_gated(0.2, width=0.3), **kw) == pytest.approx(
        -1.0 + 0.2 * 0.1 * D**6, rel=1e-14
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_calcium_carries_across_samples_with_the_weights(backend):
    # Sample 0: a lone post spike at 14 (C = 1). Sample 1: pre 10, post 14. Carried,
    # the calcium at sample 1's step 14 is e^{-60/tau_C} + 1, in the potentiation
    # window (1.5, 2.5); reset per sample it is 1, in the depression window.
    n, tau_c = 60, 1000.0
    net = Network(dt=1.0)
    net.add_source("pre", 1)
    net.add_source("drive", 1)
    net.add_lif("post", 1, LIF(tau_m=10.0, v_th=1.0, t_ref=1.0))
    net.connect("drive", "post", one_to_one=True, weight=5.0, receptor="delta")
    net.connect("pre", "post", one_to_one=True, weight=1.0, gain=0.0, plastic=True,
                w_min=-10.0, w_max=10.0)  # fmt: skip
    pre = np.zeros((2, n, 1))
    pre[1, 10] = 1
    drive = np.zeros((2, n, 1))
    drive[:, 13] = 1
    stdp = _gated(1.5, tau=tau_c)
    run = dict(spikes={"pre": pre, "drive": drive}, stdp=stdp, return_weights=True, backend=backend)
    carried = net.run(float(n), carry_weights=True, **run)["weights"].values
    assert 1.5 < math.exp(-n / tau_c) + 1.0 < 2.5
    assert carried[1] == pytest.approx(1.0 + 0.2 * 0.1 * D**4, rel=1e-14)
    separate = net.run(float(n), **run)["weights"].values
    assert separate[1, 1] == 1.0


def test_activity_gate_validates_its_arguments():
    with pytest.raises(ValueError, match="activity must be an ActivityGate"):
        STDP(activity=37.0)
    with pytest.raises(ValueError, match="astrocyte must be an Astrocyte"):
        STDP(astrocyte={"w": 0.1})
    with pytest.raises(ValueError, match="width"):
        ActivityGate(width=0.0)
    with pytest.raises(ValueError, match="tau"):
        ActivityGate(tau=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        ActivityGate(threshold=float("nan"))


def test_sparse_astrocyte_counts_only_its_units():
    # the astrocyte listens to units 0 and 2 of "up" only
    rng = np.random.default_rng(1)
    n = 50
    up = rng.random((n, 3)) < 0.3
    net = Network(dt=1.0)
    net.add_source("up", 3)
    net.add_lif("post", 1, LIF())
    net.connect("up", "post", pairs=([0], [0]), weight=0.0, plastic=True)
    astro = Astrocyte(w=0.05, b=0.1, tau=7.0, populations={"up": 1}, units={"up": [0, 2]})
    ds = net.run(float(n), spikes={"up": up}, stdp=STDP(rate_minus=0.2, astrocyte=astro))
    a, expected = 0.2, []
    for t in range(n):
        a = a + (0.05 * float(up[t, [0, 2]].sum()) + 0.1 - a) / 7.0
        expected.append(a)
    np.testing.assert_allclose(ds["depression_rate"].values[0], expected, rtol=1e-13)


def test_sparse_astrocyte_validates_its_units():
    with pytest.raises(ValueError, match="not in populations"):
        Astrocyte(populations={"up": 1}, units={"down": [0]})
    with pytest.raises(ValueError, match="non-negative ints"):
        Astrocyte(populations={"up": 1}, units={"up": [-1]})
    net = Network(dt=1.0)
    net.add_source("up", 3)
    net.add_lif("post", 1, LIF())
    net.connect("up", "post", pairs=([0], [0]), weight=0.0, plastic=True)
    astro = Astrocyte(populations={"up": 1}, units={"up": [3]})
    with pytest.raises(ValueError, match=r"units\['up'\] must lie in \[0, 3\)"):
        net.run(5.0, stdp=STDP(astrocyte=astro))
