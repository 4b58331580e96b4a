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


def _class_constant(patterns, sizes):
    """Responses where every sample of class k is ``patterns[k]``, ``sizes[k]`` of them."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return patterns[labels], labels


def _combinations(basis, labels, rng):
    """One response per label, each a random non-negative combination of ``basis``'s rows."""
    return rng.uniform(0.1, 1.0, (labels.size, basis.shape[0])) @ basis


def test_kernel_quality_ranks_of_known_matrices():
    rng = np.random.default_rng(0)
    patterns = rng.poisson(5.0, (5, 30)).astype(float)
    assert np.linalg.matrix_rank(patterns) == 5  # five linearly independent classes
    counts, labels = _class_constant(patterns, [7, 4, 6, 5, 9])
    # Noisy responses: every class spans the same two directions, so any 15 of them
    # have rank exactly 2.
    noisy_labels = np.repeat(np.arange(5), [6, 6, 3, 6, 6])
    noisy = _combinations(rng.poisson(5.0, (2, 30)).astype(float), noisy_labels, rng)
    out = kernel_quality(counts, labels, noisy, noisy_labels, resamples=30, seed=1)
    # The smallest class of either set (noisy class 2, 3 responses) sets per_class; the
    # draws are stratified, so every draw holds every class's pattern: rank 5.
    assert out["per_class"] == 3 and out["n_columns"] == 15 and out["resamples"] == 30
    assert (out["sp"], out["ap"]) == (5.0, 2.0)
    assert (out["sp_sd"], out["ap_sd"]) == (0.0, 0.0)
    assert out["quality"] == (out["sp"] - out["ap"]) / out["n_columns"]


def test_kernel_quality_of_generic_responses_is_full_rank():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(4), 10)
    # Continuous responses of 40 neurons: any 4 * 3 = 12 of them are independent.
    counts = rng.gamma(2.0, 3.0, (labels.size, 40))
    noisy = _combinations(rng.gamma(2.0, 3.0, (3, 40)), labels, rng)
    out = kernel_quality(counts, labels, noisy, labels, per_class=3, resamples=20)
    assert (out["n_columns"], out["sp"], out["ap"]) == (12, 12.0, 3.0)
    assert out["quality"] == pytest.approx((12 - 3) / 12, rel=1e-15)
    # Labels of any kind: named classes (drawn in another order) give the same ranks.
    named = np.array(["zero", "one", "two", "three"])[labels]
    assert kernel_quality(counts, named, noisy, named, per_class=3, resamples=20) == out


def _two_patterns_one_class():
    """One class whose three responses are a, a and b: two of them have rank 1 or 2."""
    a, b = np.array([1.0, 0.0, 2.0]), np.array([0.0, 3.0, 1.0])
    return np.stack([a, a, b]), np.zeros(3, int)


def test_kernel_quality_draws_without_replacement_and_independently():
    counts, labels = _two_patterns_one_class()
    n = 2000
    out = kernel_quality(counts, labels, counts, labels, per_class=2, resamples=n, seed=0)
    # Without replacement, 1 of the 3 pairs is {a, a} (rank 1), so the mean rank is 5/3
    # (drawing with replacement would give rank 1 with probability 5/9, mean 13/9).
    # Tolerance: 5 standard errors of a mean of n Bernoulli(2/3) draws.
    p = 2 / 3
    se = np.sqrt(p * (1 - p) / n)
    for key in ("sp", "ap"):
        assert abs(out[key] - (1 + p)) < 5 * se
        # the SD of a Bernoulli(p) rank, within 5 standard errors of a sample SD
        assert abs(out[f"{key}_sd"] - np.sqrt(p * (1 - p))) < 5 * np.sqrt(p * (1 - p) / (2 * n))
    # The same matrices for SP and AP: only independent draws make the means differ.
    assert out["sp"] != out["ap"]
    assert out["quality"] == (out["sp"] - out["ap"]) / 2


def test_kernel_quality_is_reproducible_and_depends_on_the_seed():
    counts, labels = _two_patterns_one_class()
    kw = dict(per_class=2, resamples=50)
    first = kernel_quality(counts, labels, counts, labels, **kw, seed=3)
    assert kernel_quality(counts, labels, counts, labels, **kw, seed=3) == first
    means = {kernel_quality(counts, labels, counts, labels, **kw, seed=s)["sp"] for s in range(6)}
    assert len(means) > 1
    one = kernel_quality(counts, labels, counts, labels, per_class=2, resamples=1)
    assert (one["sp_sd"], one["ap_sd"]) == (0.0, 0.0) and one["sp"] in (1.0, 2.0)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"counts": np.ones(6)}, r"^counts must be a non-empty \(n_samples, n_neurons\)"),
        ({"counts": np.full((6, 4), np.nan)}, r"^counts contains 24 NaN"),
        ({"counts": -np.ones((6, 4))}, r"^counts must be non-negative"),
        ({"counts": np.array([["a"] * 4] * 6)}, r"^counts must be an array of spike counts"),
        ({"labels": np.zeros(5, int)}, r"^labels has shape \(5,\); expected \(6,\)"),
        ({"labels": np.zeros((6, 1), int)}, r"^labels has shape \(6, 1\)"),
        ({"noisy_counts": np.ones((6, 4, 1))}, r"^noisy_counts must be a non-empty"),
        ({"noisy_counts": -np.ones((6, 4))}, r"^noisy_counts must be non-negative"),
        ({"noisy_counts": np.ones((6, 3))}, r"^noisy_counts has 3 neurons .* expected 4"),
        ({"noisy_labels": np.zeros(4, int)}, r"^noisy_labels has shape \(4,\); expected \(6,\)"),
        ({"noisy_labels": np.repeat([0, 1, 5], 2)}, r"only in labels: \[2\], only in noisy_labels: \[5\]"),
        ({"resamples": 0}, r"^resamples must be an integer >= 1"),
        ({"resamples": 2.5}, r"^resamples must be an integer"),
        ({"per_class": 0}, r"^per_class must be an integer >= 1"),
        ({"per_class": 3}, r"^per_class=3 is larger than the smallest class: class 2 has 1 response\(s\) in noisy_labels"),
        ({"seed": -1}, r"^seed must be"),
    ],
)  # fmt: skip
def test_kernel_quality_bad_input(change, match):
    args = {
        "counts": np.ones((6, 4)),
        "labels": np.repeat([0, 1, 2], 2),
        "noisy_counts": np.ones((6, 4)),
        "noisy_labels": np.array([0, 0, 0, 1, 1, 2]),
    } | change
    options = {k: args.pop(k) for k in ("per_class", "resamples", "seed") if k in args}
    with pytest.raises(ValueError, match=match):
        kernel_quality(*args.values(), **options)


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
