"""Metrics of a fit on held-out trials: rate R², bits per spike, co-bps, state R²."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from neurodyn.io import recording
from neurodyn.rnn_models import RateRNN
from neurodyn.train import bits_per_spike, co_bps, fit_poisson_readout, rate_r2, state_r2


def test_rate_r2_closed_form():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(4, 6, 3))
    err = rng.normal(size=true.shape)
    pred = true + err
    mean = true.reshape(-1, 3).mean(axis=0)
    want = 1 - (err**2).sum() / ((true - mean) ** 2).sum()
    # float64 sums of 72 terms: agreement to ~1e-15 relative.
    assert rate_r2(pred, true) == pytest.approx(want, rel=1e-12)
    assert rate_r2(true, true) == 1.0
    assert rate_r2(np.broadcast_to(mean, true.shape), true) == pytest.approx(0.0, abs=1e-12)


def test_rate_r2_ignores_masked_entries():
    rng = np.random.default_rng(1)
    true = rng.normal(size=(5, 4, 2))
    pred = true + 0.1 * rng.normal(size=true.shape)
    mask = rng.random(true.shape) > 0.3
    pred_bad = np.where(mask, pred, 1e6)
    assert rate_r2(pred_bad, true, mask) == pytest.approx(rate_r2(pred, true, mask), rel=1e-14)


def test_bits_per_spike_matches_scipy():
    rng = np.random.default_rng(2)
    lam = rng.uniform(0.2, 3.0, size=(5, 7, 4))
    k = rng.poisson(lam).astype(float)
    null = k.reshape(-1, 4).mean(axis=0)
    ll = stats.poisson.logpmf(k, lam).sum()
    ll0 = stats.poisson.logpmf(k, np.broadcast_to(null, k.shape)).sum()
    want = (ll - ll0) / (k.sum() * math.log(2))
    assert bits_per_spike(lam, k) == pytest.approx(want, rel=1e-10)
    # The null model scores 0; the truth scores more than 0 on this sample.
    assert bits_per_spike(np.broadcast_to(null, k.shape), k) == pytest.approx(0.0, abs=1e-12)
    assert want > 0


def test_poisson_readout_recovers_a_known_glm():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(200, 50, 3))
    W = np.array([[0.5, -0.3, 0.2], [0.0, 0.4, -0.6]])
    b = np.array([0.1, -0.5])
    k = rng.poisson(np.exp(r @ W.T + b))
    W_hat, b_hat = fit_poisson_readout(r, k, ridge=0.0)
    # 10 000 samples per neuron: the MLE's standard error is ~1/sqrt(n λ) ≈ 0.01;
    # 0.05 is five of them.
    np.testing.assert_allclose(W_hat, W, atol=0.05)
    np.testing.assert_allclose(b_hat, b, atol=0.05)
    # Intercept only (no regressors): the MLE is log of the mean count exactly.
    _, b0 = fit_poisson_readout(np.zeros((200, 50, 1)), k, ridge=1.0)
    np.testing.assert_allclose(b0, np.log(k.reshape(-1, 2).mean(axis=0)), rtol=1e-9)


def test_poisson_readout_threads_change_only_rounding():
    # The thread count splits the same BLAS sums differently: the coefficients agree
    # to rounding amplified by the Hessian's condition (a few thousand here, with
    # float64 eps 2e-16 and sums of 10^4 terms: far below 1e-8).
    rng = np.random.default_rng(4)
    r = rng.normal(size=(60, 40, 6))
    k = rng.poisson(np.exp(r @ rng.normal(size=(6, 3)) * 0.3 - 0.5))
    one = fit_poisson_readout(r, k, threads=1)
    two = fit_poisson_readout(r, k, threads=2)
    np.testing.assert_allclose(one[0], two[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(one[1], two[1], rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match="threads must be"):
        fit_poisson_readout(r, k, threads=0)


def test_a_neuron_with_too_few_spikes_gets_its_mean_rate_not_an_exploding_readout():
    # One spike cannot determine 8 weights: with cross-validated ridges the readout
    # used to put a weight of ~100 on the spike's bin and predict e^70 elsewhere.
    rng = np.random.default_rng(0)
    r = rng.normal(size=(6, 30, 8))
    k = np.zeros((6, 30, 2))
    k[2, 7, 0] = 1.0  # one spike
    k[..., 1] = rng.poisson(np.exp(r @ rng.normal(size=8) * 0.3))  # plenty
    W, b = fit_poisson_readout(r, k)
    np.testing.assert_array_equal(W[0], 0.0)
    assert b[0] == pytest.approx(math.log(1 / 180), rel=1e-12)  # the mean count per bin
    assert np.abs(W[1]).max() > 0.05  # the well-sampled neuron keeps its weights


def test_poisson_readout_is_equivariant_to_the_scale_of_the_rates():
    """Without a ridge, rates scaled by c give weights scaled by 1/c and the same
    intercept. At c = 200 the first Newton steps overshoot far enough that exp would
    overflow; the line search must reject them without a warning (the suite turns
    warnings into errors) and still converge."""
    rng = np.random.default_rng(4)
    r = rng.normal(size=(100, 40, 3))
    W = np.array([[0.5, -0.3, 0.2]])
    k = rng.poisson(np.exp(r @ W.T + 0.2))
    W1, b1 = fit_poisson_readout(r, k, ridge=0.0)
    W2, b2 = fit_poisson_readout(200.0 * r, k, ridge=0.0)
    # Both converge to the same optimum to the solver's step tolerance; 1e-6 relative is
    # far above it and far below the MLE's standard error (~0.01).
    np.testing.assert_allclose(200.0 * W2, W1, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b2, b1, rtol=1e-6, atol=1e-8)


def test_the_cross_validated_ridge_restrains_a_readout_of_many_irrelevant_rates():
    """Few training bins and 40 units of which one matters: the unpenalised readout fits
    the noise of the other 39 and predicts held-out trials worse than the truth; the
    ridge chosen by cross-validation over the training trials predicts them nearly as
    well as the truth. With plenty of data, it leaves a known GLM unbiased."""
    rng = np.random.default_rng(6)
    rates = rng.normal(size=(40, 10, 40))
    lam = np.exp(0.4 * rates[..., :1] - 0.5)
    k = rng.poisson(lam)
    train, test = np.arange(20), np.arange(20, 40)
    truth = bits_per_spike(lam[test], k[test])

    def score(ridge):
        W, b = fit_poisson_readout(rates[train], k[train], ridge=ridge)
        return bits_per_spike(np.exp(rates[test] @ W.T + b), k[test])

    # 40 fitted weights on 200 bins: the overfit costs far more than sampling error
    # (about 0.02 bits here), so this is the failure the choice guards against.
    assert score(0.0) < truth - 0.1
    assert score("cv") > score(0.0) + 0.05
    # Cross-validation is over trials: rates without enough of them are refused.
    with pytest.raises(ValueError, match="ridge='cv' needs rates with a trial axis"):
        fit_poisson_readout(rates[:2], k[:2])
    with pytest.raises(ValueError, match="ridge='cv' needs rates with a trial axis"):
        fit_poisson_readout(rates[0], k[0])
    # The known GLM of test_poisson_readout_recovers_a_known_glm, 10 000 bins: the
    # chosen penalty leaves the estimate within its standard error (~0.01) of the truth.
    r = rng.normal(size=(200, 50, 3))
    W = np.array([[0.5, -0.3, 0.2]])
    W_hat, _ = fit_poisson_readout(r, rng.poisson(np.exp(r @ W.T + 0.1)))
    np.testing.assert_allclose(W_hat, W, atol=0.05)


def test_co_bps_predicts_held_out_neurons_from_the_models_rates():
    rng = np.random.default_rng(4)
    net = RateRNN(2, 8, 2, dt=10.0, tau=20.0, nonlinearity="softplus", seed=1)
    u = rng.normal(size=(60, 20, 2)).astype(np.float32)
    with torch.no_grad():
        rates = net(torch.as_tensor(u), noise=False).rates.numpy()
    W = rng.normal(scale=1.0, size=(3, 8))
    lam = np.exp(rates @ W.T - 1.0)
    held_out = rng.poisson(lam)
    rec = recording(held_out.astype(np.float32), u, dt=10.0, kind="counts")
    train, test = np.arange(40), np.arange(40, 60)
    score = co_bps(net, rec, [0, 1, 2], train, test)
    truth = bits_per_spike(lam[test], held_out[test])
    # The fitted readout can do no better than the true one up to sampling error and
    # must recover most of its gain.
    assert 0.8 * truth < score < truth + 0.05, (score, truth)
    # A network deaf to the inputs has constant rates: its readout is a constant rate
    # fitted on other trials, within sampling error of the null model (0 bits).
    deaf = RateRNN(2, 8, 2, dt=10.0, tau=20.0, input_mask=np.zeros((8, 2)), seed=1)
    assert abs(co_bps(deaf, rec, [0, 1, 2], train, test)) < 0.05


def test_state_r2_closed_form():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 10, 4))
    A = rng.normal(size=(4, 2))
    z = x @ A + 3.0
    train, test = np.arange(20), np.arange(20, 30)
    assert state_r2(x, z, train, test) == pytest.approx(1.0, abs=1e-12)
    # One latent seen through noise of variance s²: R² = 1 / (1 + s²) in expectation,
    # with a sampling error of ~sqrt(2 / n) ≈ 0.045 on 1 000 test samples.
    s = 0.5
    z1 = x[..., :1] + s * rng.normal(size=x[..., :1].shape)
    assert state_r2(x[..., :1], z1, train, test) == pytest.approx(1 / (1 + s**2), abs=0.15)
