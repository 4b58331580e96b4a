"""Analyses of low-rank networks: loadings, latent dynamics and mean-field fixed points."""

import doctest

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from neurodyn.analysis import phase_plane
from neurodyn.analysis.low_rank import (
    LoadingMixture,
    latent_coordinates,
    latent_dynamics,
    loading_mixture,
    loading_population,
    low_rank_fixed_points,
    mean_field_dynamics,
)
from neurodyn.analysis.low_rank import latent as latent_module
from neurodyn.analysis.low_rank import mean_field as mean_field_module
from neurodyn.analysis.low_rank import population as population_module
from neurodyn.rnn_models import LowRankRNN


def _network(m, n, inputs, *, tau=100.0, dt=10.0, nonlinearity="tanh"):
    """A float64 LowRankRNN holding the given loadings."""
    net = LowRankRNN(inputs.shape[1], len(m), 1, m.shape[1], dt=dt, tau=tau,
                     nonlinearity=nonlinearity, seed=0).double()  # fmt: skip
    with torch.no_grad():
        net.weight_m.copy_(torch.from_numpy(m))
        net.weight_n.copy_(torch.from_numpy(n))
        net.weight_in.copy_(torch.from_numpy(inputs))
    return net


def _random_network(n_hidden=60, rank=2, n_input=2, seed=0, **kw):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n_hidden, rank))
    n = 1.5 * m + rng.normal(size=(n_hidden, rank))
    return _network(m, n, rng.normal(size=(n_hidden, n_input)), **kw)


def test_loading_population_labels_the_loadings():
    net = LowRankRNN(2, 30, 1, 2, dale=True, seed=0)
    ds = loading_population(net)
    np.testing.assert_array_equal(ds["m"].values, net.m.detach().numpy())
    np.testing.assert_array_equal(ds["n"].values, net.n.detach().numpy())
    np.testing.assert_array_equal(ds["I"].values, net.W_in.detach().numpy())
    assert set(ds["ei"].values) == {"E", "I"} and ds.attrs["rank"] == 2
    # y = wᵀφ/N: w at the scale of m and n (float32 storage, ε₃₂ relative).
    np.testing.assert_allclose(ds["w"].values.T / 30, net.W_out.detach().numpy(), rtol=1e-6)


def test_mixture_recovers_planted_populations():
    rng = np.random.default_rng(0)
    sizes, centres = (150, 250), (np.array([2.0, -1.0, 0.5]), np.array([-2.0, 1.5, -1.0]))
    feats = np.concatenate(
        [c + 0.4 * rng.normal(size=(k, 3)) for k, c in zip(sizes, centres, strict=True)]
    )
    truth = np.repeat([0, 1], sizes)
    net = _network(feats[:, :1], feats[:, 1:2], feats[:, 2:])
    mix = loading_mixture(net, max_populations=4, seed=0)
    assert mix.n_populations == 2
    # Centres 8 standard deviations apart: every unit is assigned to its own population.
    assert adjusted_rand_score(truth, mix.labels) == 1.0
    order = np.argsort(mix.means[:, 0])[::-1]
    np.testing.assert_allclose(mix.weights[order], np.array(sizes) / 400, atol=1e-6)
    # Sample means of 150+ points with σ = 0.4: standard error ≤ 0.033; 4 of them.
    np.testing.assert_allclose(mix.means[order], np.stack(centres), atol=0.13)
    single = loading_mixture(_network(*np.split(rng.normal(size=(300, 3)), 3, axis=1)), seed=0)
    assert single.n_populations == 1


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_latent_velocity_is_the_network_velocity_in_the_span(nonlinearity):
    net = _random_network(nonlinearity=nonlinearity)
    full, lat = net.as_dynamics(), latent_dynamics(net)
    rng = np.random.default_rng(1)
    kappa, v, u = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    m, inputs = full.m, full.W_in
    x = kappa @ m.T + v @ inputs.T
    z_dot = lat.velocity(np.concatenate([kappa, v], 1), u)
    # x' = m κ' + I v' exactly: float64 round-off of sums over N = 60 units.
    np.testing.assert_allclose(full.velocity(x, u), z_dot[:, :2] @ m.T + z_dot[:, 2:] @ inputs.T,
                               rtol=1e-11, atol=1e-13)  # fmt: skip
    clamped = latent_dynamics(net, clamp_inputs=True).velocity(kappa, u)
    xu = kappa @ m.T + u @ inputs.T
    np.testing.assert_allclose(full.velocity(xu, u), clamped @ m.T, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("clamp", [False, True])
def test_latent_jacobians_match_finite_differences(clamp):
    lat = latent_dynamics(_random_network(), clamp_inputs=clamp)
    rng = np.random.default_rng(2)
    z, u, h = rng.normal(size=lat.n_state), rng.normal(size=2), 1e-6
    eye_z, eye_u = np.eye(lat.n_state) * h, np.eye(2) * h
    fd = np.stack([lat.velocity(z + e, u) - lat.velocity(z - e, u) for e in eye_z], 1) / (2 * h)
    fd_u = np.stack([lat.velocity(z, u + e) - lat.velocity(z, u - e) for e in eye_u], 1) / (2 * h)
    # Central differences: h² |f'''| + ε|f|/h ≈ 1e-10 relative to |f'| ~ 1/τ = 1e-2.
    np.testing.assert_allclose(lat.jacobian(z, u), fd, atol=1e-11)
    np.testing.assert_allclose(lat.input_jacobian(z, u), fd_u, atol=1e-11)
    _, a = lat.torch_residual_jacobian(torch.from_numpy(z), torch.from_numpy(u))
    np.testing.assert_allclose(a[0].numpy(), lat.jacobian(z, u), rtol=1e-12, atol=1e-16)


def test_latent_map_reproduces_the_forward_pass():
    net = _random_network(n_hidden=80)
    lat = latent_dynamics(net, kind="map")
    rng = np.random.default_rng(3)
    u = rng.normal(size=(1, 50, 2))
    z = np.concatenate([rng.normal(size=2), rng.normal(size=2)])
    x0 = latent_dynamics(net).m @ z[:2] + net.W_in.detach().numpy() @ z[2:]
    xs = net(torch.from_numpy(u), initial_state=torch.from_numpy(x0), noise=False).states[0]
    kappa, v = latent_coordinates(net, xs.detach().numpy())
    for t in range(50):
        z = lat.step(z, u[0, t])
        # The same Euler step in coordinates: round-off growing at most linearly in t.
        np.testing.assert_allclose(z, np.r_[kappa[t], v[t]], rtol=1e-9, atol=1e-11)


def _gaussian_integral_mc(mix, kappa, u, n_samples, seed):
    """G(κ, u) by Monte Carlo over the mixture, with its standard error."""
    rng = np.random.default_rng(seed)
    pop = rng.choice(mix.n_populations, size=n_samples, p=mix.weights)
    draws = [rng.multivariate_normal(mu, c, size=n_samples) for mu, c in
             zip(mix.means, mix.covariances, strict=True)]  # fmt: skip
    ell = np.where((pop == 0)[:, None], draws[0], draws[1])
    r = mix.rank
    x = ell[:, :r] @ kappa + ell[:, 2 * r :] @ u
    terms = ell[:, r : 2 * r] * np.tanh(x)[:, None]
    return terms.mean(0), terms.std(0) / np.sqrt(n_samples)


def test_mean_field_integral_matches_monte_carlo():
    # Two populations, rank 2, one input, non-zero means and cross-covariances.
    rng = np.random.default_rng(4)
    means = rng.normal(scale=0.7, size=(2, 5))
    a = rng.normal(size=(2, 5, 5)) * 0.5
    covs = a @ a.transpose(0, 2, 1) + 0.2 * np.eye(5)
    mix = LoadingMixture(weights=[0.3, 0.7], means=means, covariances=covs, rank=2, n_input=1)
    mf = mean_field_dynamics(mix, tau=1.0)
    for kappa, u in [(np.array([0.8, -0.5]), np.array([0.3])), (np.zeros(2), np.zeros(1))]:
        g = mf.velocity(kappa, u) + kappa  # τ = 1: G = κ' + κ
        mc, se = _gaussian_integral_mc(mix, kappa, u, 400_000, seed=5)
        # Quadrature is exact to ~1e-12 for tanh; the Monte Carlo carries ≤ 5 standard errors.
        np.testing.assert_allclose(g, mc, atol=5 * se.max() + 1e-12)


def test_mean_field_fixed_points_match_a_large_network():
    n_hidden, rng = 2000, np.random.default_rng(1)
    m = rng.normal(size=(n_hidden, 1))
    n = 2.0 * m + 0.5 * rng.normal(size=(n_hidden, 1))
    net = _network(m, n, rng.normal(size=(n_hidden, 1)))
    cov = np.array([[1.0, 2.0, 0.0], [2.0, 4.25, 0.0], [0.0, 0.0, 1.0]])
    mix = LoadingMixture(weights=[1.0], means=np.zeros(3), covariances=cov, rank=1, n_input=1)
    res = low_rank_fixed_points(net, mixture=mix)
    # σ_mn = 2 > 1: the trivial state is a saddle and two symmetric stable states appear.
    assert len(res.mean_field) == len(res.network) == 3
    assert sorted(res.mean_field.n_unstable) == sorted(res.network.n_unstable) == [0, 0, 1]
    kappa_mf = np.sort(res.mean_field.x[:, 0])
    kappa_net = np.sort(res.network_kappa[:, 0])
    # Every network fixed point is a fixed point of the full network (round-off speed).
    assert np.all(res.network_speed < 1e-12)
    # Finite N: κ_N − κ* ≈ (G_N − G)(κ*)/(1 − G'(κ*)), where G_N − G is the mean of N terms
    # n_i φ(m_i κ*) minus their expectation: standard error sd/√N (O(1/√N)). 4 of them.
    k_star = kappa_mf[2]
    slope = 1.0 + 100.0 * res.mean_field.eigenvalues[np.argmax(res.mean_field.x[:, 0])].real
    se = np.std(n[:, 0] * np.tanh(m[:, 0] * k_star)) / np.sqrt(n_hidden)
    tol = 4 * se / abs(1.0 - slope.max())
    np.testing.assert_allclose(kappa_net, kappa_mf, atol=tol)
    assert kappa_mf[1] == 0.0 and kappa_mf[2] == pytest.approx(-kappa_mf[0], abs=1e-10)


def test_network_search_and_phase_portrait_agree_with_the_latent_search():
    net = _random_network(n_hidden=150, rank=2, n_input=1, seed=3)
    u = np.array([0.2])
    latent = low_rank_fixed_points(net, u, search="latent", seed=0)
    network = low_rank_fixed_points(net, u, search="network", mixture=latent.mixture)
    assert len(latent.network) == len(network.network) >= 1
    # The same points found in N and in R variables: both searches converge to round-off.
    d = np.linalg.norm(latent.network_kappa[:, None] - network.network_kappa[None], axis=-1)
    assert np.all(d.min(axis=1) < 1e-8)
    order = lambda r: np.lexsort(r.network_kappa.T)  # noqa: E731
    assert np.array_equal(latent.network.n_unstable[order(latent)],
                          network.network.n_unstable[order(network)])  # fmt: skip
    lim = 1.2 * np.abs(latent.network_kappa).max() + 0.5
    plane = phase_plane(latent_dynamics(net, clamp_inputs=True), inputs=u, xlim=(-lim, lim),
                        ylim=(-lim, lim), n_grid=9)  # fmt: skip
    assert len(plane.fixed_points) == len(latent.network)


def test_bad_arguments_are_named():
    net = _random_network()
    with pytest.raises(ValueError, match="search"):
        low_rank_fixed_points(net, search="full")
    with pytest.raises(ValueError, match="low-rank"):
        latent_dynamics(object())
    with pytest.raises(ValueError, match="weights"):
        LoadingMixture(weights=[0.5], means=np.zeros(5), covariances=np.eye(5), rank=2, n_input=1)
    with pytest.raises(ValueError, match="states"):
        latent_coordinates(net, np.zeros((3, 7)))


@pytest.mark.parametrize("module", [population_module, latent_module, mean_field_module])
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0
