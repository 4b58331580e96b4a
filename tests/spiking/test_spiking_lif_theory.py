"""The LIF engine against closed-form solutions.

Tolerances: the discrete solutions below are exact, so they are compared to a
few ulps (rtol 1e-12 covers the ~T accumulated roundings of T <= 1000 steps);
continuous-time formulas are met up to the time step, the error of locating a
threshold crossing on a grid of step dt.
"""

import math

import numpy as np
import pytest
from spiking_nets import FAST_BACKENDS

from neurodyn.spiking import LIF, Network

BACKENDS = ["numpy", *FAST_BACKENDS]


def _single(dt, params, duration, backend="numpy", **kw):
    net = Network(dt=dt)
    net.add_lif("n", 1, params)
    kw.setdefault("record_v", True)
    return net.run(duration, backend=backend, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_subthreshold_trajectory_exponential_euler_is_exact(backend):
    # tau dV/dt = V_inf - V with constant input: V(t) = V_inf + (V0 - V_inf) e^{-t/tau},
    # which exponential Euler reproduces exactly at every step.
    p = LIF(tau_m=20.0, v_rest=-70.0, v_th=0.0, v_reset=-80.0, bias=15.0, v_init=-65.0,
            method="exponential")  # fmt: skip
    ds = _single(0.1, p, 100.0, backend)
    t = ds["time"].values
    expected = -55.0 + (-65.0 + 55.0) * np.exp(-t / 20.0)
    np.testing.assert_allclose(ds["v"].values[0, :, 0], expected, rtol=1e-12)


def test_subthreshold_trajectory_euler_is_geometric():
    p = LIF(tau_m=10.0, v_rest=0.0, v_th=100.0, bias=8.0, method="euler")
    ds = _single(0.5, p, 50.0)
    n = np.arange(ds.sizes["time"])
    np.testing.assert_allclose(ds["v"].values[0, :, 0], 8.0 * (1 - (1 - 0.05) ** n), rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("t_ref", [2.0, 5.0])
def test_firing_rate_matches_the_analytic_formula(backend, t_ref):
    # Clamped for t_ref after each spike, then charging from V_reset towards
    # V_inf = V_rest + I: the interval is t_ref + tau ln((V_inf - V_r)/(V_inf - V_th)).
    tau, v_r, v_th, drive = 20.0, 0.0, 15.0, 25.0
    p = LIF(tau_m=tau, v_rest=0.0, v_th=v_th, v_reset=v_r, t_ref=t_ref, bias=drive,
            method="exponential")  # fmt: skip
    dt, duration = 0.05, 1000.0
    ds = _single(dt, p, duration, backend, record_v=None)
    isi = t_ref + tau * math.log((drive - v_r) / (drive - v_th))
    n = int(ds["counts"].values.sum())
    # Each interval is the analytic one rounded up to the grid, at most dt longer;
    # the first starts at rest, the last is cut by the end of the run.
    assert duration / (isi + dt) - 1 <= n <= duration / isi + 1
    rate, theory = n / (duration / 1000.0), 1000.0 / isi
    assert abs(rate - theory) / theory < dt / isi + isi / duration


@pytest.mark.parametrize("backend", BACKENDS)
def test_synaptic_current_decays_exponentially(backend):
    # One spike at step 0 through weight w: I_n = w d^n and, with k = dt/tau_m,
    # V_n = k w ((1 - k)^n - d^n) / ((1 - k) - d) for n >= 1 (discrete convolution).
    dt, tau_m, tau_s, w = 0.1, 10.0, 3.0, 4.0
    net = Network(dt=dt)
    net.add_source("s", 1)
    net.add_lif("n", 1, LIF(tau_m=tau_m, v_th=100.0, tau_syn_e=tau_s))
    net.connect("s", "n", one_to_one=True, weight=w)
    raster = np.zeros((300, 1))
    raster[0] = 1
    ds = net.run(30.0, spikes={"s": raster}, record_v=True, backend=backend)
    k, d = dt / tau_m, math.exp(-dt / tau_s)
    n = np.arange(300)
    expected = k * w * ((1 - k) ** n - d**n) / ((1 - k) - d)
    np.testing.assert_allclose(ds["v"].values[0, :, 0], expected, rtol=1e-10, atol=1e-14)
    # and the continuous-time PSP, w tau_s/(tau_s - tau_m) (e^{-t/tau_s} - e^{-t/tau_m}), to O(dt)
    t = n * dt
    cont = w * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))
    assert np.max(np.abs(ds["v"].values[0, :, 0] - cont)) < 2 * dt * w / tau_m


def test_delta_synapse_with_delay_jumps_the_potential_exactly_then():
    net = Network(dt=0.5)
    net.add_source("s", 1)
    net.add_lif("n", 1, LIF(tau_m=10.0, v_th=100.0))
    net.connect("s", "n", one_to_one=True, weight=7.0, receptor="delta", delay=2.0)
    raster = np.zeros((40, 1))
    raster[3] = 1
    v = net.run(20.0, spikes={"s": raster}, record_v=True, backend="numpy")["v"].values[0, :, 0]
    # Spike at step 3, delay 4 steps: the jump enters during step 7, seen at step 8.
    assert np.all(v[:8] == 0.0) and v[8] == 7.0
    np.testing.assert_allclose(v[9:12], 7.0 * 0.95 ** np.arange(1, 4), rtol=1e-14)


@pytest.mark.parametrize("clamp", [True, False])
def test_refractory_period_is_the_minimum_interval(clamp):
    p = LIF(tau_m=5.0, v_th=1.0, bias=50.0, t_ref=3.0, clamp_refractory=clamp)
    ds = _single(1.0, p, 60.0)
    times = ds["spike_time"].values
    assert np.all(np.diff(times) == 3.0)  # driven hard, it fires as soon as it may


def test_inhibition_lowers_the_rate():
    def rate(w_inh):
        net = Network(dt=0.5)
        net.add_source("drive", 50)
        net.add_source("inhib", 50)
        net.add_lif("n", 10, LIF(tau_m=10.0, v_th=10.0))
        net.connect("drive", "n", p=0.5, weight=2.0, seed=0)
        net.connect("inhib", "n", p=0.5, weight=w_inh, receptor="i", seed=1)
        ds = net.run(500.0, rates={"drive": np.full(50, 40.0), "inhib": np.full(50, 40.0)})
        return ds["counts"].values.sum()

    assert rate(-2.0) < rate(0.0)
