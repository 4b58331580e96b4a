"""TimescaleRNN: the update equations, the τ bound and its gradient, fixed τ, no autapses."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurodyn.io import load_model, save_model
from neurodyn.rnn_models import MODELS, TimescaleRNN, build_model
from neurodyn.tasks import NParity
from neurodyn.train import Criterion, Curriculum, Stage, fit


def _phi(name):
    return {
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "relu": F.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
    }[name]


def _reference(net, x, h0):
    """The paper's update written out neuron by neuron (no vectorised shortcuts)."""
    W, U, b = net.W.detach(), net.W_in.detach(), net.bias.detach()
    tau_hat = (net.tau / net.dt).detach()
    phi = _phi(net.nonlinearity)
    n_trials, n_steps, _ = x.shape
    hs = torch.zeros(n_trials, n_steps, net.n_hidden, dtype=torch.float64)
    for k in range(n_trials):
        h = h0[k].clone()
        for t in range(n_steps):
            new = torch.empty_like(h)
            for i in range(net.n_hidden):
                pre = sum(W[i, j] * h[j] for j in range(net.n_hidden)) + U[i] @ x[k, t] + b[i]
                a = 1.0 / tau_hat[i]
                if net.form == "default":
                    new[i] = phi((1 - a) * h[i] + a * pre)
                else:
                    new[i] = (1 - a) * h[i] + a * phi(pre)
            h = new
            hs[k, t] = h
    return hs


@pytest.mark.parametrize(
    "form, nonlinearity, dt",
    [("default", "leaky_relu", 1.0), ("mod", "leaky_relu", 1.0), ("mod", "tanh", 0.25),
     ("default", "sigmoid", 0.5), ("mod", "relu", 1.0)],
)  # fmt: skip
def test_forward_matches_the_reference_loop(form, nonlinearity, dt):
    torch.set_default_dtype(torch.float64)
    try:
        net = TimescaleRNN(2, 6, n_heads=2, form=form, nonlinearity=nonlinearity, dt=dt, seed=3)
        x = torch.randn(2, 5, 2, generator=torch.Generator().manual_seed(0))
        h0 = torch.rand(2, 6, generator=torch.Generator().manual_seed(1))
        out = net(x, initial_state=h0)
        ref = _reference(net, x, h0)
        # float64 throughout: the two differ only by summation order (~10 ulp).
        torch.testing.assert_close(out.states, ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(
            out.outputs, ref @ net.W_out.detach().T + net.bias_out.detach(), rtol=1e-12, atol=1e-12
        )
    finally:
        torch.set_default_dtype(torch.float32)


def test_continuous_variant_uses_tau_times_k_steps():
    k = 8
    net = TimescaleRNN(1, 5, form="mod", dt=1 / k, tau=[1.0, 1.5, 2.0, 3.0, 1.25], seed=0)
    np.testing.assert_allclose(net.tau_hat.detach().numpy(), k * np.array([1, 1.5, 2, 3, 1.25]))
    # With W = 0 and zero input, a mod unit decays by (1 - 1/τ̂) per sub-step: after k
    # sub-steps (one bit) by ≈ e^{-1/τ} as in continuous time.
    with torch.no_grad():
        net.weight_rec.zero_()
        net.bias.zero_()
    h0 = torch.ones(1, 5)
    out = net(torch.zeros(1, k, 1), initial_state=h0)
    expected = (1 - 1 / net.tau_hat.detach()) ** k
    torch.testing.assert_close(out.states[0, -1], expected.float(), rtol=1e-5, atol=0)
    # The task holds each bit for k steps at the same dt, so fit accepts the pair.
    task = NParity(ns=[2], dt=1 / k)
    b = task.batch(4, seed=0)
    assert net(torch.from_numpy(b.inputs)).outputs.shape == (4, b.n_steps, 2)


def test_tau_initial_range_and_bound_under_every_parametrisation():
    net = TimescaleRNN(1, 500, seed=0)
    t = net.tau.detach().numpy()
    assert t.min() >= 1.0 and t.max() <= 2.0 and t.std() > 0.2  # U(1, 2)
    for param in ("softplus", "clamp"):
        net = TimescaleRNN(1, 8, tau_parametrization=param, seed=0)
        with torch.no_grad():
            net.tau_param.fill_(-50.0)  # far below any valid τ
        assert torch.all(net.tau >= 1.0) and torch.all(net.tau_hat >= 1.0)


def test_tau_gradient_at_the_bound():
    """softplus keeps a gradient at the bound; the paper's clamp has none below it."""
    x = torch.ones(4, 6, 1)
    for param, expect_grad in (("softplus", True), ("clamp", False)):
        net = TimescaleRNN(1, 8, tau_parametrization=param, h0="zeros", seed=1)
        with torch.no_grad():
            net.tau_param.fill_(-3.0 if param == "softplus" else 0.5)  # τ near / below 1
        net(x).outputs.pow(2).sum().backward()
        g = net.tau_param.grad
        assert torch.isfinite(g).all()
        assert bool((g.abs() > 0).all()) is expect_grad, param


def test_fixed_tau_stays_fixed_and_autapses_stay_zero_through_training():
    torch.manual_seed(0)
    fixed = TimescaleRNN(1, 16, n_heads=2, tau=3.0, train_tau=False, seed=0)
    trained = TimescaleRNN(1, 16, n_heads=2, seed=0)
    assert "tau_param" not in dict(fixed.named_parameters())
    task = NParity(ns=[2, 3], n_heads=2)
    before_fixed = fixed.tau.clone()
    before_trained = trained.tau.detach().clone()
    for net in (fixed, trained):
        fit(net, task, n_steps=30, lr=0.05, val_every=30, n_validation=32, progress=False)
        # The raw diagonal is still exactly zero, not merely masked.
        assert torch.count_nonzero(net.weight_rec.diagonal()) == 0
        assert torch.count_nonzero(net.W.diagonal()) == 0
    assert torch.equal(fixed.tau, before_fixed)
    assert not torch.allclose(trained.tau.detach(), before_trained)


def test_initial_state_is_random_but_reproducible():
    net = TimescaleRNN(1, 10, seed=0)
    x = torch.zeros(3, 1, 1)
    a, b = net.initial_states(3), net.initial_states(3)
    torch.testing.assert_close(a, b)  # no generator: the model's own fixed stream
    assert a.min() >= 0 and a.max() <= 0.1 and a.std() > 0
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    torch.testing.assert_close(net(x, generator=g1).states, net(x, generator=g2).states)
    g3 = torch.Generator().manual_seed(6)
    assert not torch.allclose(net(x, generator=g1).states, net(x, generator=g3).states)
    zeros = TimescaleRNN(1, 10, h0="zeros", seed=0)
    assert torch.count_nonzero(zeros.initial_states(2)) == 0


def test_save_load_round_trip_and_registry(tmp_path):
    net = TimescaleRNN(1, 12, n_heads=3, form="mod", train_tau=False, seed=4)
    path = save_model(net, tmp_path / "net")
    back = load_model(path)
    assert isinstance(back, TimescaleRNN) and back.config() == net.config()
    x = torch.rand(2, 7, 1)
    torch.testing.assert_close(back(x).outputs, net(x).outputs)
    assert "timescale" in MODELS
    assert build_model("timescale", 1, 8, 6).n_heads == 3


def test_multi_head_training_step_uses_only_active_heads():
    net = TimescaleRNN(1, 8, n_heads=4, seed=0)
    task = NParity(ns=[2, 3], heads=[0, 2], n_heads=4)
    cur = Curriculum([Stage(task, Criterion("val_mean_correct", ">", 2.0), max_steps=1)])
    w0 = net.weight_out.detach().clone()
    fit(net, cur, n_steps=1, val_every=1, n_validation=8, progress=False)
    changed = (net.weight_out.detach() != w0).any(dim=1).numpy()
    np.testing.assert_array_equal(changed, [1, 1, 0, 0, 1, 1, 0, 0])


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="tau must be >= 1"):
        TimescaleRNN(1, 4, tau=0.5)
    with pytest.raises(ValueError, match="tau_range"):
        TimescaleRNN(1, 4, tau_range=(0.5, 2.0))
    with pytest.raises(ValueError, match="n_output"):
        TimescaleRNN(1, 4, 3)
    with pytest.raises(ValueError, match="disagrees with n_heads"):
        TimescaleRNN(1, 4, 6, n_heads=2)
    with pytest.raises(ValueError, match="n_heads"):
        TimescaleRNN(1, 4, n_heads=0)
    with pytest.raises(ValueError, match="form"):
        TimescaleRNN(1, 4, form="stack")
    with pytest.raises(ValueError, match="tau_parametrization"):
        TimescaleRNN(1, 4, tau_parametrization="exp")
    with pytest.raises(ValueError, match="dt"):
        TimescaleRNN(1, 4, dt=2.0)
    with pytest.raises(ValueError, match="tau"):
        TimescaleRNN(1, 4).set_tau(np.full(4, 0.5))
    with pytest.raises(ValueError, match="inputs"):
        TimescaleRNN(1, 4)(torch.zeros(2, 3, 2))
    # A task with more heads than the model allocates cannot be trained on it.
    with pytest.raises(ValueError, match="n_output"):
        fit(TimescaleRNN(1, 4, n_heads=2), NParity(ns=[2, 3, 4]), n_steps=1, progress=False)
