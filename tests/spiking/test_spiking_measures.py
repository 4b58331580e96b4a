"""Branching factor, kernel quality, rates and ISIs on spike trains with known answers."""

import numpy as np
import pytest
import xarray as xr

from neurodyn.spiking import branching_factor, firing_rates, isi_statistics, kernel_quality


def _spikes(times, units, samples=None, n_units=None, duration=250.0, n_samples=None):
    times = np.asarray(times, float)
    units = np.asarray(units, np.int32)
    samples = np.zeros(times.size, np.int32) if samples is None else np.asarray(samples, np.int32)
    n_units = int(units.max()) + 1 if n_units is None else n_units
    if n_samples is None:
        n_samples = int(samples.max()) + 1 if samples.size else 1
    counts = np.zeros((n_samples, n_units), np.int32)
    np.add.at(counts, (samples, units), 1)
    return xr.Dataset(
        {
            "counts": (("sample", "unit"), counts),
            "spike_sample": ("spike", samples),
            "spike_time": ("spike", times),
            "spike_unit": ("spike", units),
        },
        coords={"sample": np.arange(n_samples), "unit": np.arange(n_units)},
        attrs={"dt": 1.0, "duration": duration},
    )


def test_branching_factor_of_a_chain():
    times = np.arange(40.0, 200.0, 10.0)
    ds = _spikes(np.r_[times, times + 1, times + 2], np.repeat([0, 1, 2], times.size))
    adj = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]])  # A[post, pre]: 0 -> 1 -> 2
    out = branching_factor(ds, adj, units=[0, 1, 2])
    np.testing.assert_array_equal(out["bf_neuron"].values[0], [1.0, 1.0, 0.0])
    assert out["bf"].values[0] == pytest.approx(2 / 3)
    assert out["n_neurons"].values[0] == 3 and out.attrs["n_samples_excluded"] == 0


def test_branching_factor_of_a_tree_and_of_convergence():
    # 0 -> {1, 2}: each spike of 0 is followed by two descendants: BF_0 = 2.
    # {1, 2} -> 3: 3 has two ancestor spikes before each of its spikes and no
    # descendants; 1 and 2 each see one pre spike (0) and one post spike (3).
    t = np.arange(50.0, 180.0, 20.0)
    ds = _spikes(np.r_[t, t + 1, t + 1, t + 3], np.repeat([0, 1, 2, 3], t.size))
    adj = np.zeros((4, 4), int)
    adj[1, 0] = adj[2, 0] = adj[3, 1] = adj[3, 2] = 1
    out = branching_factor(ds, adj, units=np.arange(4))
    np.testing.assert_array_equal(out["bf_neuron"].values[0], [2.0, 1.0, 1.0, 0.0])


def test_branching_factor_windows_and_buffers():
    # Descendants count only in [t + 1, t + 1 + delta): at t + 5 they fall outside.
    ds = _spikes([100.0, 101.0, 150.0, 155.0], [0, 1, 0, 1])
    out = branching_factor(ds, np.array([[0, 0], [1, 0]]), units=[0, 1])
    assert out["bf_neuron"].values[0, 0] == pytest.approx(0.5)
    # Spikes inside the 25 + 4 ms buffers are not measured: neuron 0 has none left.
    ds = _spikes([10.0, 11.0, 230.0, 231.0], [0, 1, 0, 1])
    out = branching_factor(ds, np.array([[0, 0], [1, 0]]), units=[0, 1])
    assert np.isnan(out["bf_neuron"].values[0]).all() and np.isnan(out.attrs["bf_mean"])
    assert out["n_neurons"].values[0] == 0
    assert (out.attrs["n_samples_measured"], out.attrs["n_samples_excluded"]) == (0, 1)


def test_branching_factor_counts_the_samples_it_leaves_out():
    # Sample 0: 0 -> 1 once in the window (BF_0 = 1, BF_1 = 0: BF 0.5). Sample 1: its only
    # spikes lie in the end buffer, so it has no BF. Sample 2: no spikes at all.
    ds = _spikes([100.0, 101.0, 10.0, 11.0], [0, 1, 0, 1], samples=[0, 0, 1, 1], n_samples=3)
    adj = np.array([[0, 0], [1, 0]])
    out = branching_factor(ds, adj, units=[0, 1])
    np.testing.assert_array_equal(out["n_neurons"].values, [2, 0, 0])
    assert np.isnan(out["bf"].values[1:]).all()
    # The mean is over the one sample with a BF, not a NaN and not diluted by zeros.
    assert out.attrs["bf_mean"] == 0.5
    assert (out.attrs["n_samples_measured"], out.attrs["n_samples_excluded"]) == (1, 2)
    # Choosing samples counts only the chosen ones.
    part = branching_factor(ds, adj, units=[0, 1], samples=[0, 1])
    assert (part.attrs["n_samples_measured"], part.attrs["n_samples_excluded"]) == (1, 1)


def test_branching_factor_averages_samples_and_checks_input():
    t = np.arange(40.0, 200.0, 10.0)
    ds = _spikes(
        np.r_[t, t + 1, t, t + 1, t + 1],
        np.r_[
            np.zeros(t.size), np.ones(t.size), np.zeros(t.size), np.ones(t.size), np.full(t.size, 2)
        ],
        samples=np.repeat([0, 0, 1, 1, 1], t.size),
    )
    adj = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0]])
    out = branching_factor(ds, adj, units=[0, 1, 2])
    # sample 0: BF_0 = 1 (only unit 1 fires after it), BF_1 = 0 -> 0.5; unit 2 silent.
    # sample 1: BF_0 = 2, BF_1 = BF_2 = 0 -> 2/3.
    np.testing.assert_allclose(out["bf"].values, [0.5, 2 / 3])
    assert out.attrs["bf_mean"] == pytest.approx((0.5 + 2 / 3) / 2)
    with pytest.raises(ValueError, match="adjacency"):
        branching_factor(ds, np.zeros((2, 2)), units=[0, 1, 2])
    with pytest.raises(ValueError, match="record_spikes"):
        branching_factor(ds.drop_vars("spike_time"), adj, units=[0, 1, 2])
    with pytest.raises(ValueError, match="too short"):
        branching_factor(ds.assign_attrs(duration=50.0), adj, units=[0, 1, 2])


def test_kernel_quality_ranks():
    rng = np.random.default_rng(0)
    basis = rng.poisson(5.0, (3, 40)).astype(float)
    low_rank = rng.integers(0, 3, (10, 3)) @ basis  # 10 responses spanning 3 dimensions
    full = rng.poisson(5.0, (10, 40)).astype(float)
    out = kernel_quality(full, low_rank)
    assert out == {"separation": 1.0, "generalisation": 0.3, "difference": pytest.approx(0.7)}
    with pytest.raises(ValueError, match="noisy_counts"):
        kernel_quality(full, low_rank[:5])


def test_rates_and_interspike_intervals():
    # unit 0: regular, every 10 ms; unit 1: intervals 5 and 15 alternating; unit 2: one spike
    t0 = np.arange(0.0, 100.0, 10.0)
    t1 = np.cumsum(np.tile([5.0, 15.0], 5))
    ds = _spikes(np.r_[t0, t1, 50.0], np.r_[np.zeros(10), np.ones(10), 2], duration=200.0)
    np.testing.assert_allclose(firing_rates(ds).values, [50.0, 50.0, 5.0])
    isi = isi_statistics(ds)
    np.testing.assert_allclose(isi["isi_mean"].values[:2], [10.0, 95.0 / 9])
    assert isi["isi_cv"].values[0] == 0.0 and isi["isi_cv"].values[1] > 0.4
    assert np.isnan(isi["isi_mean"].values[2]) and isi["n_intervals"].values[2] == 0
