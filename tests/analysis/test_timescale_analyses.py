"""Autocorrelation timescales, dimensionality and robustness on signals and models with known answers."""

import math

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.signal import lfilter

from neurodyn.analysis.dimensionality import dimensionality
from neurodyn.analysis.robustness import (
    ablate_by_tau,
    perturb_tau,
    perturb_weights,
    task_accuracy,
)
from neurodyn.analysis.timescales import (
    autocorrelation,
    drive,
    fit_exponentials,
    network_timescales,
)
from neurodyn.rnn_models import RateRNN, TimescaleRNN
from neurodyn.tasks import NParity


def _ar1(tau, shape, rng):
    """AR(1) x_t = φ x_{t-1} + ξ_t with φ = e^{-1/τ}: autocorrelation e^{-ℓ/τ}, unit variance."""
    phi = math.exp(-1.0 / tau)
    xi = rng.standard_normal(shape) * math.sqrt(1 - phi**2)
    return lfilter([1.0], [1.0, -phi], xi, axis=-1)


def test_autocorrelation_of_ar1_is_geometric():
    rng = np.random.default_rng(0)
    x = _ar1(5.0, (10, 20_000), rng)[..., None]  # (trial, time, unit)
    ac = autocorrelation(x, max_lag=20)[:, 0]
    # Standard error of an AC estimate from 2e5 samples of a τ = 5 process is
    # ~sqrt(2τ / n) ≈ 0.007; 4 SE is 0.03.
    np.testing.assert_allclose(ac, np.exp(-np.arange(21) / 5.0), atol=0.03)
    assert ac[0] == 1.0


def test_autocorrelation_matches_the_direct_sum():
    x = np.random.default_rng(1).standard_normal((2, 50, 3))
    ac = autocorrelation(x, max_lag=7)
    expected = np.zeros((8, 3))
    for trial in x:
        d = trial - trial.mean(0)
        c = np.array([(d[: 50 - k] * d[k:]).sum(0) / (50 - k) for k in range(8)])
        expected += c / c[0]
    np.testing.assert_allclose(ac, expected / 2, atol=1e-12)


def test_constant_units_give_nan_not_errors():
    x = np.zeros((2, 100, 2))
    x[:, :, 1] = np.random.default_rng(0).standard_normal((2, 100))
    ac = autocorrelation(x, max_lag=5)
    assert np.all(np.isnan(ac[:, 0])) and np.all(np.isfinite(ac[:, 1]))
    fit = fit_exponentials(ac, fit_lags=4)
    assert fit.model[0] == "none" and np.isnan(fit.tau_net[0])


@pytest.mark.parametrize("tau", [2.0, 8.0])
def test_fit_recovers_the_timescale_of_an_ar1_process(tau):
    errors = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        ac = autocorrelation(_ar1(tau, (10, 40_000), rng)[..., None], max_lag=60)
        fit = fit_exponentials(ac, fit_lags=30)
        errors.append(abs(fit.tau_net[0] - tau) / tau)
    # The relative SE of a single-exponential τ from 4e5 samples is ~2%. AIC sometimes
    # prefers a double fit to the correlated estimation noise of the tail and then
    # reports its slower τ (in 3 of 40 seeds tried, by 9-65%), so the typical error is
    # checked tightly and the worst one loosely.
    assert np.median(errors) < 0.05
    assert max(errors) < 0.7


def test_double_exponential_is_chosen_for_two_timescales_and_the_slow_one_is_tau_net():
    rng = np.random.default_rng(3)
    fast, slow = _ar1(2.0, (20, 50_000), rng), _ar1(20.0, (20, 50_000), rng)
    ac = autocorrelation((fast + slow)[..., None], max_lag=100)  # 0.5 e^{-t/2} + 0.5 e^{-t/20}
    fit = fit_exponentials(ac, fit_lags=60)
    assert fit.model[0] == "double"
    assert abs(fit.tau_slow[0] - 20.0) / 20.0 < 0.15
    assert abs(fit.tau_fast[0] - 2.0) / 2.0 < 0.15
    assert fit.tau_net[0] == fit.tau_slow[0]
    assert fit.aic_double[0] < fit.aic_single[0]
    # One timescale: the single exponential wins on AIC.
    one = fit_exponentials(autocorrelation(slow[..., None], max_lag=100), fit_lags=60)
    assert one.model[0] == "single"


def test_fit_on_exact_curves_and_time_units():
    lags = np.arange(41.0)
    ac = np.stack([np.exp(-lags / 3.0), 0.3 * np.exp(-lags / 1.5) + 0.7 * np.exp(-lags / 12)], 1)
    fit = fit_exponentials(ac, fit_lags=40)
    assert fit.model.tolist() == ["single", "double"]
    np.testing.assert_allclose(fit.tau_net, [3.0, 12.0], rtol=1e-4)
    # Samples 0.25 time units apart: the same curve means τ four times shorter.
    np.testing.assert_allclose(
        fit_exponentials(ac, fit_lags=40, dt=0.25).tau_net, [0.75, 3.0], rtol=1e-4
    )
    assert fit.to_xarray()["tau_net"].dims == ("unit",)


def test_network_timescales_of_a_decoupled_network_equal_its_tau():
    """W = 0, mod form, φ = identity on h > 0: each neuron is an AR(1) of the input with τ̂."""
    tau = np.array([1.5, 3.0, 6.0])
    net = TimescaleRNN(1, 3, form="mod", tau=tau, train_tau=False, seed=0)
    with torch.no_grad():
        net.weight_rec.zero_()
        net.weight_in.fill_(1.0)
        net.bias.fill_(1.0)  # keeps every pre-activation positive: φ is the identity
    ts = network_timescales(net, n_trials=10, n_steps=20_000, max_lag=40, fit_lags=30, seed=0)
    # A leaky integrator of white input has AC (1 - 1/τ̂)^ℓ = e^{-ℓ/τ'} with
    # τ' = -1/ln(1 - 1/τ̂). The per-trial rate p shifts only the mean.
    expected = -1.0 / np.log(1 - 1 / tau)
    np.testing.assert_allclose(ts.tau_net, expected, rtol=0.1)
    ds = ts.to_xarray()
    assert set(ds.dims) == {"unit", "lag"} and "tau" in ds.coords
    assert np.isfinite(ts.population_tau)
    np.testing.assert_allclose(ds["tau"].values, tau)


def test_drive_is_chunk_invariant_and_works_on_other_models():
    net = TimescaleRNN(1, 6, seed=0)
    a = drive(net, n_trials=2, n_steps=300, burn_in=50, chunk=1000, seed=1)
    b = drive(net, n_trials=2, n_steps=300, burn_in=50, chunk=37, seed=1)
    np.testing.assert_allclose(a, b, atol=1e-6)
    rate = RateRNN(1, 5, 1, dt=1.0, tau=4.0, seed=0)
    assert drive(rate, n_trials=2, n_steps=100, burn_in=0, seed=0).shape == (2, 100, 5)
    with pytest.raises(ValueError, match="inputs has shape"):
        drive(net, n_trials=2, n_steps=10, burn_in=0, inputs=np.zeros((2, 5, 1)))


def test_dimensionality_of_data_with_known_spectrum():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    variances = np.array([50.0, 25.0, 12.0, 8.0, 3.0, 2.0])  # sum 100
    z = rng.standard_normal((5000, 6))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T)).T)  # exact identity cov
    x = (z * np.sqrt(variances)) @ q[:6] + 7.0
    d = dimensionality(x, threshold=0.9)
    np.testing.assert_allclose(d.explained_variance_ratio[:6], variances / 100, atol=1e-10)
    assert d.n_components == 4  # 50 + 25 + 12 + 8 = 95% ≥ 90% > 87%
    assert dimensionality(x, threshold=0.87).n_components == 3  # exactly reached
    assert dimensionality(x, threshold=1.0).n_components == 6  # the rank
    da = xr.DataArray(x.reshape(50, 100, 30), dims=("trial", "time", "unit"))
    assert dimensionality(da).n_components == 4
    assert d.to_xarray()["cumulative"].dims == ("component",)
    with pytest.raises(ValueError, match="threshold"):
        dimensionality(x, threshold=1.5)
    with pytest.raises(ValueError, match="zero variance"):
        dimensionality(np.ones((10, 3)))


def _trained_like():
    """A small net and a score that depends on its weights (accuracy on 2-parity)."""
    net = TimescaleRNN(1, 16, seed=0)
    return net, task_accuracy(NParity(n=2), n_trials=64, seed=0)


def test_perturbation_at_zero_is_the_baseline_and_the_model_is_untouched():
    net, score = _trained_like()
    base = score(net)
    w0, tau0 = net.weight_rec.detach().clone(), net.tau.detach().clone()
    pw = perturb_weights(net, score, epsilons=[0.0, 0.3, 3.0], n_repeats=2, seed=0)
    pt = perturb_tau(net, score, epsilons=[0.0, 0.3], n_repeats=2, seed=0)
    assert np.all(pw["accuracy"].sel(epsilon=0.0).values == base)
    assert np.all(pt["accuracy"].sel(epsilon=0.0).values == base)
    assert torch.equal(net.weight_rec, w0) and torch.equal(net.tau, tau0)
    assert pw.attrs["parameter"] == "weight_rec"
    again = perturb_weights(net, score, epsilons=[0.0, 0.3, 3.0], n_repeats=2, seed=0)
    xr.testing.assert_identical(pw, again)


def test_perturbations_have_the_normalised_size():
    net, _ = _trained_like()
    w0 = net.weight_rec.detach().clone()
    tau0 = net.tau.detach().numpy().copy()
    seen = {}

    def record(model):
        seen["w"] = model.weight_rec.detach().clone()
        seen["tau"] = model.tau.detach().numpy().copy()
        return 1.0

    perturb_weights(net, record, epsilons=[0.5], n_repeats=1)
    # ‖ΔW‖_F = ε ‖W‖_F exactly (float32 rounding of the weights, ~1e-7 relative).
    assert torch.linalg.norm(seen["w"] - w0) / torch.linalg.norm(w0) == pytest.approx(0.5, rel=1e-5)
    perturb_tau(net, record, epsilons=[0.2], n_repeats=1)
    d = seen["tau"] - tau0
    assert np.all(d >= 0)  # time constants only grow
    assert np.linalg.norm(d) / np.linalg.norm(tau0) == pytest.approx(0.2, rel=1e-4)


def test_ablation_silences_the_chosen_neurons():
    net, _ = _trained_like()
    tau = net.tau.detach().numpy()
    silenced = {}

    def record(model):
        dead = (model.weight_out.abs().sum(0) == 0) & (model.weight_in.abs().sum(1) == 0)
        dead &= (model.weight_rec.abs().sum(0) == 0) & (model.weight_rec.abs().sum(1) == 0)
        silenced[len(silenced)] = set(np.flatnonzero(dead.numpy()))
        return float(dead.sum())

    ds = ablate_by_tau(net, record, ks=[0, 3], which=["fastest", "slowest"])
    np.testing.assert_array_equal(ds["accuracy"].values, [[0, 3], [0, 3]])
    assert silenced[1] == set(np.argsort(tau)[:3])
    assert silenced[3] == set(np.argsort(tau)[-3:])
    assert ds["tau_ablated"].sel(which="slowest", k=3) > ds["tau_ablated"].sel(which="fastest", k=3)


def test_robustness_bad_input():
    net, score = _trained_like()
    with pytest.raises(ValueError, match="epsilons"):
        perturb_weights(net, score, epsilons=[-1.0])
    with pytest.raises(ValueError, match="n_repeats"):
        perturb_weights(net, score, n_repeats=0)
    with pytest.raises(ValueError, match="parameter"):
        perturb_weights(net, score, parameter="weight_nope")
    with pytest.raises(ValueError, match="ks"):
        ablate_by_tau(net, score, ks=[100])
    with pytest.raises(ValueError, match="settable time constants"):
        perturb_tau(RateRNN(1, 4, 2, dt=1.0, tau=5.0, seed=0), score)
