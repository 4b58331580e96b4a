"""The rate RNN against its equations."""

import math

import numpy as np
import pytest
import torch

from neurodyn import fit
from neurodyn.rnn_models import RateRNN, TorchRNN, build_model
from neurodyn.tasks import FlipFlop


def reference_loop(net: RateRNN, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Euler update written out with NumPy, one trial and one step at a time."""
    W = net.W.detach().double().numpy()
    W_in = net.W_in.detach().double().numpy()
    W_out = net.W_out.detach().double().numpy()
    b = net.bias.detach().double().numpy()
    b_out = net.bias_out.detach().double().numpy()
    alpha = net.alpha.detach().double().numpy()
    phi = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0)}[net.config()["nonlinearity"]]
    ys = np.zeros((*u.shape[:2], net.n_output))
    xs = np.zeros((*u.shape[:2], net.n_hidden))
    for n in range(u.shape[0]):
        x = np.zeros(net.n_hidden)
        for t in range(u.shape[1]):
            x = (1 - alpha) * x + alpha * (W @ phi(x) + W_in @ u[n, t] + b)
            xs[n, t] = x
            ys[n, t] = W_out @ phi(x) + b_out
    return ys, xs


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dale", [False, True])
def test_forward_matches_reference_loop(nonlinearity, dale):
    torch.manual_seed(0)
    net = RateRNN(
        2,
        12,
        3,
        dt=10.0,
        tau=np.linspace(20, 80, 12),
        nonlinearity=nonlinearity,
        dale=dale,
        spectral_radius=1.3,
        seed=1,
    ).double()
    with torch.no_grad():
        net.bias.normal_()
        net.bias_out.normal_()
    u = np.random.default_rng(0).normal(size=(3, 25, 2))
    out = net(torch.from_numpy(u), noise=False)
    ys, xs = reference_loop(net, u)
    # Same float64 arithmetic in a different order: agreement to a few ulps × steps.
    np.testing.assert_allclose(out.states.detach().numpy(), xs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.outputs.detach().numpy(), ys, rtol=1e-10, atol=1e-12)


def test_dale_initialisation_is_balanced_and_scaled():
    net = RateRNN(1, 50, 1, dale=True, e_fraction=0.8, spectral_radius=1.5, seed=3).double()
    W = net.W.detach().numpy()
    sign = net.sign.numpy()
    assert (sign > 0).sum() == 40
    assert np.all(W[:, sign > 0] >= 0) and np.all(W[:, sign < 0] <= 0)
    np.testing.assert_allclose(W.sum(axis=1), 0.0, atol=1e-5)  # float32 storage
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(1.5, rel=1e-5)


def test_dale_tau_and_masks_hold_after_training():
    task = FlipFlop(dt=10.0, timing={"trial": 300.0})
    rec_mask = (np.random.default_rng(0).random((24, 24)) < 0.5).astype(float)
    net = RateRNN(
        3,
        24,
        3,
        dt=10.0,
        tau=np.full(24, 10.5),
        train_tau=True,
        dale=True,
        readout_from_e=True,
        autapses=False,
        recurrent_mask=rec_mask,
        seed=0,
    )
    tau_before = net.tau.detach().clone()
    # A large learning rate pushes parameters hard, including τ towards its bound.
    fit(net, task, n_steps=30, batch_size=16, lr=0.2, val_every=30, n_validation=16, progress=False)
    W = net.W.detach().numpy()
    sign = net.sign.numpy()
    assert np.all(W[:, sign > 0] >= 0), "an excitatory unit has a negative outgoing weight"
    assert np.all(W[:, sign < 0] <= 0), "an inhibitory unit has a positive outgoing weight"
    assert np.all(W[rec_mask == 0] == 0)
    assert np.all(np.diag(W) == 0)
    assert np.all(net.W_out.detach().numpy()[:, sign < 0] == 0)
    tau = net.tau.detach()
    assert torch.all(tau >= net.dt)
    assert not torch.allclose(tau, tau_before), "trainable τ did not move"


def test_fixed_tau_stays_fixed():
    net = RateRNN(3, 16, 3, dt=10.0, tau=40.0, train_tau=False, seed=0)
    task = FlipFlop(dt=10.0, timing={"trial": 200.0})
    fit(net, task, n_steps=5, batch_size=8, lr=0.1, val_every=5, n_validation=8, progress=False)
    assert torch.all(net.tau == 40.0)
    assert "tau_param" not in dict(net.named_parameters())


def _stationary_var(dt, *, noise_rec=0.0, noise_in=0.0, n_steps=20000, tau=100.0):
    net = RateRNN(
        1,
        200,
        1,
        dt=dt,
        tau=tau,
        spectral_radius=0.0,
        noise_rec=noise_rec,
        noise_in=noise_in,
        bias=False,
        seed=0,
    ).double()
    with torch.no_grad():
        net.weight_in.fill_(1.0)
    gen = torch.Generator().manual_seed(0)
    x = (
        net(torch.zeros(1, n_steps, 1, dtype=torch.float64), generator=gen)
        .states[0]
        .detach()
        .numpy()
    )
    burn = int(5 * tau / dt)
    return x[burn:].var()


@pytest.mark.parametrize("dt", [10.0, 5.0])
def test_recurrent_noise_variance_matches_theory(dt):
    # x ← (1-α)x + sqrt(2α)σ η has stationary variance σ²/(1 - α/2).
    sigma, alpha = 0.3, dt / 100.0
    var = _stationary_var(dt, noise_rec=sigma)
    # 200 units × ~(20000 dt / 2τ) effectively independent samples: ~1% standard error.
    assert var == pytest.approx(sigma**2 / (1 - alpha / 2), rel=0.05)


@pytest.mark.parametrize("dt", [10.0, 5.0])
def test_input_noise_variance_matches_theory(dt):
    # x ← (1-α)x + α σ/sqrt(dt) ξ has stationary variance σ²/(τ (2 - α)).
    sigma, tau = 2.0, 100.0
    var = _stationary_var(dt, noise_in=sigma, tau=tau)
    assert var == pytest.approx(sigma**2 / (tau * (2 - dt / tau)), rel=0.05)


def test_noise_statistics_do_not_depend_on_dt():
    for kw in ({"noise_rec": 0.3}, {"noise_in": 2.0}):
        v10, v5 = _stationary_var(10.0, **kw), _stationary_var(5.0, **kw)
        # Theory differs by the O(α) discretisation term only (α ≤ 0.1): < 5 %.
        assert v5 == pytest.approx(v10, rel=0.08)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dt": -1.0}, "dt"),
        ({"dt": 10.0, "tau": 5.0}, "tau"),
        ({"dt": 10.0, "tau": 10.0, "train_tau": True}, "tau_min"),
        ({"dale": True, "e_fraction": 1.5}, "e_fraction"),
        ({"dale": True, "e_fraction": 0.0}, "e_fraction"),
        ({"nonlinearity": "tanhh"}, "tanh"),
        ({"tau": float("nan")}, "tau"),
        ({"readout_from_e": True}, "readout_from_e"),
        ({"recurrent_mask": np.ones((3, 3))}, "recurrent_mask"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RateRNN(2, 8, 1, **kwargs)


def test_bad_inputs_are_refused():
    net = RateRNN(2, 8, 1, seed=0)
    with pytest.raises(ValueError, match="expected \\(trial, time, 2\\)"):
        net(torch.zeros(4, 10, 3))
    bad = torch.zeros(1, 3, 2)
    bad[0, 1, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        net(bad)


def test_build_model_suggests_closest_name():
    with pytest.raises(ValueError, match="'gru'"):
        build_model("gruu", 1, 4, 1)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_torch_adapter_matches_the_torch_module(cell):
    net = TorchRNN(cell, 3, 8, 2, seed=0).double()
    u = torch.randn(4, 9, 3, dtype=torch.float64)
    out = net(u)
    h_ref, _ = net.core(u)
    torch.testing.assert_close(out.rates, h_ref)
    torch.testing.assert_close(out.outputs, net.readout(h_ref))
    assert out.states.shape[-1] == (16 if cell == "lstm" else 8)
    # Restarting from the last state continues the same trajectory.
    tail = net(u[:, 5:], initial_state=out.states[:, 4])
    torch.testing.assert_close(tail.states, out.states[:, 5:])


def test_initialisation_is_seeded():
    a = RateRNN(2, 10, 1, dale=True, seed=4)
    b = RateRNN(2, 10, 1, dale=True, seed=4)
    c = RateRNN(2, 10, 1, dale=True, seed=5)
    assert torch.equal(a.W, b.W) and not torch.equal(a.W, c.W)
    assert torch.equal(
        TorchRNN("gru", 2, 5, 1, seed=1).core.weight_hh_l0,
        TorchRNN("gru", 2, 5, 1, seed=1).core.weight_hh_l0,
    )


def test_rectified_tanh_and_softplus_rates():
    for name, f in (
        ("rectified_tanh", lambda x: np.tanh(np.maximum(x, 0))),
        ("softplus", lambda x: np.log1p(np.exp(x))),
    ):
        net = RateRNN(1, 4, 1, nonlinearity=name, seed=0).double()
        x = torch.linspace(-3, 3, 7, dtype=torch.float64)
        np.testing.assert_allclose(net.phi(x).numpy(), f(x.numpy()), rtol=1e-12)
    assert math.isfinite(float(RateRNN(1, 4, 1, seed=0).alpha[0]))


@pytest.mark.parametrize("cls", [torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM])
def test_wrapping_an_existing_torch_module(cls):
    torch.manual_seed(0)
    module = cls(3, 7, batch_first=False)
    readout = torch.nn.Linear(7, 2)
    net = TorchRNN.from_module(module, readout)
    u = torch.randn(4, 6, 3)
    h_ref, _ = module(u.transpose(0, 1))
    torch.testing.assert_close(net(u).outputs, readout(h_ref.transpose(0, 1)))
    ident = TorchRNN.from_module(module)
    torch.testing.assert_close(ident(u).outputs, h_ref.transpose(0, 1))
    with pytest.raises(ValueError, match="num_layers"):
        TorchRNN.from_module(cls(3, 7, num_layers=2))
    with pytest.raises(ValueError, match="in_features"):
        TorchRNN.from_module(module, torch.nn.Linear(5, 2))


def test_nan_weights_are_refused_before_training_or_simulation():
    from neurodyn import simulate

    net = RateRNN(3, 8, 3, dt=10.0, seed=0)
    with torch.no_grad():
        net.weight_in[0, 0] = float("inf")
    task = FlipFlop(dt=10.0, timing={"trial": 100.0})
    with pytest.raises(ValueError, match="weight_in"):
        fit(net, task, n_steps=1, progress=False)
    with pytest.raises(ValueError, match="weight_in"):
        simulate(net, task, n_trials=2)
