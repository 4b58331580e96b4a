"""Contraction certificates: what certify() accepts, what it catches, and what it promises."""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from neurodyn.analysis import find_fixed_points
from neurodyn.analysis.contraction import Certificate, certify
from neurodyn.dynamics import dynamics
from neurodyn.rnn_models.rnns_of_rnns import (
    Assembly,
    RNNofRNNs,
    SparseComboNet,
    SparseModule,
    SVDComboNet,
    SVDModule,
    unconstrained_baseline,
)


def _nested(seed=0):
    inner = [Assembly([SparseModule(6, density=0.2, seed=2 * k + s) for s in range(2)],
                      "feed_forward", seed=k) for k in range(2)]  # fmt: skip
    outer = Assembly([*inner, SVDModule(8, seed=seed)], "random", p=0.7, seed=seed)
    return RNNofRNNs(outer, 2, 3, tau=2.0, dt=0.5, seed=seed)


LIBRARY_MODELS = {
    "sparse": lambda: SparseComboNet(
        2, 48, 3, n_modules=4, density=0.15, coupling_scale=2.0, seed=0
    ),
    "sparse_feed_forward": lambda: SparseComboNet(
        2, 32, 3, n_modules=4, density=0.2, graph="feed_forward", seed=1
    ),
    "svd": lambda: SVDComboNet(2, 48, 3, n_modules=4, coupling_scale=2.0, seed=0),
    "nested": _nested,
    "euler": lambda: SparseComboNet(
        2,
        32,
        3,
        n_modules=4,
        density=0.2,
        coupling_scale=0.5,
        integrator="euler",
        tau=5.0,
        dt=0.002,
        seed=2,
    ),
}


def _train_a_few_steps(model, n_steps=5):
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(0)
    for _ in range(n_steps):
        x = torch.randn(8, 10, model.n_input, generator=gen)
        y = torch.randint(0, model.n_output, (8,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x).outputs[:, -1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("name", sorted(LIBRARY_MODELS))
def test_library_models_certify_before_and_after_training(name):
    model = LIBRARY_MODELS[name]()
    before = certify(model, n_samples=50)
    assert before.success, before.details
    w0 = model.network.coupling().detach().clone()
    _train_a_few_steps(model)
    assert not torch.allclose(model.network.coupling(), w0)  # training moved the couplings
    after = certify(model, n_samples=50)
    assert after.success, after.details
    # The sampled Jacobians never contract slower than the structural rate.
    # (The bound is attained at some vertex slopes, so allow float64 rounding.)
    assert after.numerical_rate >= after.rate * (1 - 1e-9) and after.rate > 0
    assert after.step["admissible"] and after.step["factor"] < 1


def test_identity_metric_feedback_is_caught():
    # The known failure (research notes §4.5): L = B - B^T with Theorem-1 modules whose
    # certificate needs a non-identity metric.
    bad = SparseComboNet(1, 64, 2, n_modules=4, density=0.1, coupling_scale=5.0,
                         feedback_metric="identity", seed=0)  # fmt: skip
    cert = certify(bad)
    assert not cert.success and cert.rate == 0.0
    assert not cert.checks["feedback_skew_in_metric"]
    assert not cert.checks["numerical_negative_definite"]
    assert cert.numerical_rate < 0
    # The correct model with the same modules and B passes; checked in the identity
    # metric instead of its own, it fails.
    good = SparseComboNet(1, 64, 2, n_modules=4, density=0.1, coupling_scale=5.0, seed=0)
    assert certify(good).success
    assert not certify(good, metric="identity").success


def test_unconstrained_baseline_is_not_certified():
    base = unconstrained_baseline(SparseComboNet(1, 32, 2, n_modules=4, density=0.2, seed=0),
                                  spectral_radius=1.5)  # fmt: skip
    cert = certify(base)
    assert not cert.success and not cert.checks["certified_structure"]
    assert not cert.checks["numerical_negative_definite"]


def _rate_rnn_with(w, tau=4.0):
    from neurodyn.rnn_models import RateRNN

    model = RateRNN(1, w.shape[0], 2, dt=1.0, tau=tau, nonlinearity="relu", seed=0)
    with torch.no_grad():
        model.weight_rec.copy_(torch.as_tensor(w))
    return model


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_numerical_rate_of_a_rate_rnn_follows_the_norm_bound(scale):
    # For J = (-I + W D)/tau with D in [0, I]: lambda_max(sym(tau J)) <= -1 + ||W||_2, so a
    # network with ||W||_2 < 1 contracts in the identity metric at >= (1 - ||W||_2)/tau;
    # at D = I (one of the extreme samples) lambda_max = -1 + lambda_max(sym W) exactly, so
    # the measured rate is at most (1 - lambda_max(sym W))/tau, negative when that exceeds 1.
    rng = np.random.default_rng(3)
    w = rng.normal(size=(24, 24))
    w *= scale / np.linalg.norm(w, 2)
    tau = 4.0
    cert = certify(_rate_rnn_with(w, tau), n_samples=40)
    top = np.linalg.eigvalsh(0.5 * (w + w.T))[-1]
    eps = 1e-12  # float64 eigenvalues of O(1) matrices
    assert cert.numerical_rate >= (1 - scale) / tau - eps
    assert cert.numerical_rate <= (1 - top) / tau + eps
    # The numerical check says yes or no from the measurement; nothing certifies the
    # structure of a dense network, so the certificate itself is never granted.
    assert cert.checks["numerical_negative_definite"] == (scale < 1)
    assert not cert.success and cert.rate == 0.0


def _m_distance(a, b, m):
    d = a - b
    return np.sqrt(np.sum(m * d * d, axis=-1))


def test_two_trajectories_converge_at_least_at_the_certified_rate_ode():
    model = SparseComboNet(1, 32, 2, n_modules=4, density=0.2, coupling_scale=3.0, tau=2.0,
                           seed=3)  # fmt: skip
    cert = certify(model)
    dyn = dynamics(model, kind="ode")
    m = cert.metric

    def f(t, z):
        u = np.array([np.sin(t) + 0.5])
        x = z.reshape(2, 32)
        return dyn.velocity(x, np.broadcast_to(u, (2, 1))).ravel()

    rng = np.random.default_rng(0)
    z0 = rng.normal(0, 3, (2, 32)).ravel()
    t = np.linspace(0, 30, 61)
    sol = solve_ivp(f, (0, 30), z0, t_eval=t, rtol=1e-10, atol=1e-12, method="LSODA")
    xs = sol.y.T.reshape(len(t), 2, 32)
    dist = _m_distance(xs[:, 0], xs[:, 1], m)
    bound = dist[0] * np.exp(-cert.rate * t)
    # Integration tolerance 1e-10 relative: far below the 1e-6 slack allowed here.
    assert np.all(dist <= bound * (1 + 1e-6) + 1e-9)
    assert dist[-1] < 0.5 * dist[0]  # and they do approach


def test_two_trajectories_of_the_forward_pass_contract_per_step():
    model = SVDComboNet(1, 32, 2, n_modules=4, coupling_scale=4.0, tau=2.0, dt=1.0, seed=4)
    cert = certify(model)
    factor = cert.step["factor"]
    model = model.double()
    u = torch.randn(1, 40, 1, dtype=torch.float64).expand(2, 40, 1)
    x0 = torch.randn(2, 32, dtype=torch.float64) * 5
    xs = model(u, initial_state=x0).states.detach().numpy()
    dist = _m_distance(xs[0], xs[1], model.metric())
    d0 = _m_distance(x0[0].numpy(), x0[1].numpy(), model.metric())
    k = np.arange(1, 41)
    assert np.all(dist <= d0 * factor**k * (1 + 1e-9))


def test_euler_too_coarse_diverges_where_the_splitting_integrator_contracts():
    # Research notes §4.5: strong skew coupling plus explicit Euler at a coarse step
    # blows up; the Cayley splitting at the same step contracts.
    kw = {"n_modules": 4, "density": 0.2, "coupling_scale": 40.0, "tau": 1.0, "seed": 0}
    split = SparseComboNet(1, 32, 2, dt=0.2, **kw).double()
    euler = SparseComboNet(1, 32, 2, dt=1e-6, integrator="euler", **kw).double()
    euler.dt = 0.2  # bypass the constructor's refusal to show why it refuses
    u = torch.zeros(2, 60, 1, dtype=torch.float64)
    x0 = torch.randn(2, 32, dtype=torch.float64)
    m = split.metric()
    d0 = _m_distance(x0[0].numpy(), x0[1].numpy(), m)
    with torch.no_grad():
        d_split = _m_distance(*split(u, initial_state=x0).states[:, -1].numpy(), m)
        with pytest.warns(RuntimeWarning, match="exceeds the admissible Euler step"):
            d_euler = _m_distance(*euler(u, initial_state=x0).states[:, -1].numpy(), m)
    assert d_split < d0 < d_euler


def test_constant_input_has_exactly_one_stable_fixed_point():
    model = SparseComboNet(2, 32, 2, n_modules=4, density=0.2, coupling_scale=3.0, seed=5)
    with torch.no_grad():
        model.bias.normal_()
    rng = np.random.default_rng(1)
    x0 = rng.normal(0, 5, (64, 32))
    fps = find_fixed_points(model, np.array([0.7, -0.3]), x0, progress=False)
    assert len(fps) == 1 and fps.status[0] == "root"
    assert fps.summary()["stable"] == 1
    assert np.all(fps.eigenvalues[0].real < 0)
    assert fps.n_candidates[0] == 64  # every start converged to it


def test_certificate_to_xarray():
    cert = certify(SVDComboNet(1, 16, 2, n_modules=2, seed=0), n_samples=10)
    assert isinstance(cert, Certificate) and "success=True" in repr(cert)
    ds = cert.to_xarray()
    assert ds.sizes == {"unit": 16, "module": 2, "sample": 32}
    np.testing.assert_array_equal(ds["module_of_unit"].values, np.repeat([0, 1], 8))
    assert ds.attrs["success"] == 1 and ds.attrs["rate"] == pytest.approx(cert.rate)
    assert set(np.unique(ds["sample_kind"].values)) == {"state", "uniform", "vertex", "extreme"}


def test_certify_rejects_bad_arguments():
    model = SVDComboNet(1, 16, 2, n_modules=2, seed=0)
    with pytest.raises(ValueError, match=r"metric must be a positive array of shape \(16,\)"):
        certify(model, metric=np.ones(3))
    with pytest.raises(ValueError, match="metric='eye' is not recognised"):
        certify(model, metric="eye")
    with pytest.raises(ValueError, match="n_samples"):
        certify(model, n_samples=0)
    with pytest.raises(ValueError, match="certify needs"):
        certify(torch.nn.Linear(2, 2))
