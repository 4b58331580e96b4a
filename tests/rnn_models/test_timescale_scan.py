"""The timescale network's fused scan against the reference step, for every option of the model."""

import copy
import doctest
import itertools

import numpy as np
import pytest
import torch

from neurodyn.rnn_models import TimescaleRNN
from neurodyn.rnn_models import timescale as timescale_module
from neurodyn.rnn_models import timescale_scan as timescale_scan_module
from neurodyn.rnn_models.timescale_scan import FORMS, TimescaleScan, timescale_scan

N_IN, N_HIDDEN, N_HEADS, TRIALS, STEPS = 2, 10, 2, 4, 25
PHIS = ("leaky_relu", "relu", "tanh", "sigmoid")

#: How τ is held: a fixed buffer, or trained through either parametrisation.
TAU_MODES = {
    "fixed": {"train_tau": False},
    "softplus": {"train_tau": True, "tau_parametrization": "softplus"},
    "clamp": {"train_tau": True, "tau_parametrization": "clamp"},
}

#: Every combination of the options the scan sees: the form, the step (k = 1/dt Euler
#: sub-steps per bit, 1 and 4), how τ is held, φ, and the bias. The network has no
#: noise; its one random stream, the initial state, is drawn before the recurrence
#: (checked in test_random_initial_state_is_the_same_draw).
OPTIONS = list(itertools.product(FORMS, [1.0, 0.25], TAU_MODES, PHIS, [True, False]))


def make_net(form, dt, tau_mode, nonlinearity, bias, dtype=torch.float64):
    net = TimescaleRNN(
        N_IN,
        N_HIDDEN,
        n_heads=N_HEADS,
        form=form,
        nonlinearity=nonlinearity,
        dt=dt,
        # τ = 1 (a = 1 at dt = 1: nothing kept) up to 3 time units.
        tau=np.linspace(1.0, 3.0, N_HIDDEN),
        bias=bias,
        seed=3,
        **TAU_MODES[tau_mode],
    ).to(dtype)
    with torch.no_grad():
        # Spectral norm 0.9: the step is a contraction (a‖W‖ + c < 1, φ' ≤ 1), so a
        # rounding difference made at one step is carried, not amplified.
        W = net.W
        net.weight_rec.mul_(0.9 / torch.linalg.matrix_norm(W, ord=2))
    return net


def run(net, use_scan, u, h0=None, seed=11):
    """Outputs and the gradients of a loss touching the outputs and the states."""
    net = copy.deepcopy(net)
    net.use_scan = use_scan
    if h0 is not None:
        h0 = h0.clone().requires_grad_(True)
    out = net(u, initial_state=h0, generator=torch.Generator().manual_seed(seed))
    loss = (out.outputs**2).mean() + 0.5 * out.states.pow(2).mean() + 0.1 * out.states.mean()
    loss.backward()
    grads = {name: p.grad for name, p in net.named_parameters()}
    if h0 is not None:
        grads["initial_state"] = h0.grad
    return out, grads


def inputs(dtype):
    g = torch.Generator().manual_seed(5)
    u = torch.randn(TRIALS, STEPS, N_IN, generator=g, dtype=dtype)
    h0 = 0.5 * torch.rand(TRIALS, N_HIDDEN, generator=g, dtype=dtype)
    return u, h0


def assert_matches(a, ga, b, gb, eps):
    # The scan runs the reference step's operators in its order; they can differ only
    # where the product rounds otherwise on the scan's strided rows: a sum of N_HIDDEN
    # terms (within N_HIDDEN eps of the sum of their moduli) plus the elementwise
    # roundings of the step, carried without growth by a contraction over STEPS steps.
    tol = (N_HIDDEN + 2) * STEPS * eps
    for name in ("outputs", "states"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=tol, atol=tol)
    # Gradients: the same terms summed in another order (over trials and steps at once
    # instead of step by step) and the backward recursion's products: relative to the
    # largest entry, eps times the terms summed, (TRIALS + N_HIDDEN)·STEPS, 8 to spare.
    assert ga.keys() == gb.keys()
    for name in ga:
        scale = gb[name].abs().max().clamp_min(torch.finfo(gb[name].dtype).tiny)
        torch.testing.assert_close(
            ga[name] / scale, gb[name] / scale, rtol=0,
            atol=8 * (TRIALS + N_HIDDEN) * STEPS * eps,
            msg=lambda m, name=name: f"{name}: {m}",
        )  # fmt: skip


@pytest.mark.parametrize(("form", "dt", "tau_mode", "nonlinearity", "bias"), OPTIONS)
def test_scan_matches_reference_step(form, dt, tau_mode, nonlinearity, bias):
    for dtype in (torch.float64, torch.float32):
        net = make_net(form, dt, tau_mode, nonlinearity, bias, dtype)
        u, h0 = inputs(dtype)
        (a, ga), (b, gb) = run(net, True, u, h0), run(net, False, u, h0)
        assert_matches(a, ga, b, gb, torch.finfo(dtype).eps)


@pytest.mark.parametrize("form", FORMS)
def test_random_initial_state_is_the_same_draw(form):
    # h0 = 0.1 U(0, 1) from the generator passed to forward: the scan and the step see
    # the same draw, so their outputs agree as closely as with a given initial state.
    net = make_net(form, 0.25, "softplus", "leaky_relu", True)
    u, _ = inputs(torch.float64)
    (a, ga), (b, gb) = run(net, True, u), run(net, False, u)
    assert_matches(a, ga, b, gb, torch.finfo(torch.float64).eps)
    # A different seed is a different initial state (the comparison above can fail).
    c, _ = run(net, True, u, seed=12)
    assert not torch.allclose(a.states[:, 0], c.states[:, 0])


def _gradcheck_inputs(form):
    g = torch.Generator().manual_seed(2)
    n, T, m = 2, 6, 4

    def rand(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).requires_grad_()

    def leak():
        # Leaks on both sides of 1/2, away from 0 and 1.
        return (0.1 + 0.8 * torch.rand(m, generator=g, dtype=torch.float64)).requires_grad_()

    drive, h0, W, keep = rand(n, T, m), rand(n, m, scale=0.5), rand(m, m, scale=0.6), leak()
    gain = leak() if form == "mod" else None
    return drive, h0, W, keep, gain


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("nonlinearity", PHIS)
def test_scan_gradcheck_all_inputs(form, nonlinearity):
    drive, h0, W, keep, gain = _gradcheck_inputs(form)
    # Central finite differences of the forward pass (eps 1e-6, float64) against the
    # hand-written backward pass, for every input; keep and gain are independent here
    # (the model passes c = 1 - a), so each gradient is checked on its own.
    if form == "mod":
        args = (drive, h0, W, keep, gain)

        def f(d, h, w, c, a):
            return TimescaleScan.apply(d, h, w, c, a, form, nonlinearity)
    else:
        args = (drive, h0, W, keep)

        def f(d, h, w, c):
            return TimescaleScan.apply(d, h, w, c, None, form, nonlinearity)

    assert torch.autograd.gradcheck(f, args)


@pytest.mark.parametrize("form", FORMS)
def test_gradcheck_through_the_wrapper(form):
    # The wrapper folds a into the drive and W (default) and passes c = 1 - a: the
    # gradient of a comes back through both.
    drive, h0, W, _, _ = _gradcheck_inputs(form)
    alpha = (0.2 + 0.6 * torch.rand(4, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda d, h, w, a: timescale_scan(d, h, w, a, "tanh", form=form), (drive, h0, W, alpha)
    )


@pytest.mark.parametrize("form", FORMS)
def test_closed_form_decay_towards_the_drive(form):
    # W = 0 and a constant drive d ≥ 0 with ReLU: a mod unit relaxes to φ(d) = d,
    # h_t = d + (h_0 - d) c^t; a default unit sees a positive argument, φ is the
    # identity, and h_t = c h_{t-1} + a d has the same solution.
    alpha = torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64)
    h0 = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    d = torch.full((1, 7, 3), 0.25, dtype=torch.float64)
    h = timescale_scan(d, h0, torch.zeros(3, 3, dtype=torch.float64), alpha, "relu", form=form)
    t = torch.arange(1, 8, dtype=torch.float64)[:, None]
    want = 0.25 + (h0 - 0.25) * (1 - alpha) ** t
    torch.testing.assert_close(h[0], want, rtol=0, atol=10 * torch.finfo(torch.float64).eps)


@pytest.mark.parametrize("form", FORMS)
def test_retained_graph_gives_the_same_gradients_twice(form):
    net = make_net(form, 0.25, "softplus", "tanh", True)
    u, h0 = inputs(torch.float64)
    loss = net(u, initial_state=h0).outputs.pow(2).sum()
    first = torch.autograd.grad(loss, list(net.parameters()), retain_graph=True)
    second = torch.autograd.grad(loss, list(net.parameters()))
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_model_uses_the_scan(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs["form"])
        return timescale_scan(*args, **kwargs)

    monkeypatch.setattr(timescale_module, "timescale_scan", spy)
    for form in FORMS:
        TimescaleRNN(1, 8, form=form, seed=0)(torch.zeros(2, 3, 1))
    assert calls == list(FORMS)
    reference = TimescaleRNN(1, 8, seed=0)
    reference.use_scan = False
    reference(torch.zeros(2, 3, 1))
    assert calls == list(FORMS)


def train(net, use_scan, steps=20):
    """Losses of ``steps`` Adam steps on a fixed regression batch (h0 drawn per step)."""
    net = copy.deepcopy(net)
    net.use_scan = use_scan
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(3)
    u = torch.randn(8, 30, N_IN, generator=g)
    target = torch.sin(torch.linspace(0, 6, 30))[None, :, None].expand(8, 30, 2 * N_HEADS)
    draws = torch.Generator().manual_seed(4)
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(net(u, generator=draws).outputs, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), net


@pytest.mark.parametrize(("form", "nonlinearity"), [("default", "leaky_relu"), ("mod", "tanh")])
def test_short_training_follows_the_reference_loss_curve(form, nonlinearity):
    net = make_net(form, 0.25, "softplus", nonlinearity, True, torch.float32)
    (fused, trained), (ref, _) = train(net, True), train(net, False)
    assert fused[-1] < 0.8 * fused[0]  # it learns
    # float32: outputs and gradients differ in the last bits; Adam moves each weight by
    # at most lr per step whatever the gradient's size, so after 20 steps the losses
    # stay within a few ulps of rounding amplified by the steps: 1e-4 relative.
    np.testing.assert_allclose(fused, ref, rtol=1e-4)
    assert torch.all(trained.W.detach().diagonal() == 0)
    assert torch.all(trained.tau >= trained.dt)


def test_bad_arguments():
    d, h0, W, a = torch.zeros(1, 2, 3), torch.zeros(1, 3), torch.zeros(3, 3), torch.ones(3)
    with pytest.raises(ValueError, match="drive has shape"):
        timescale_scan(torch.zeros(1, 0, 3), h0, W, a, "tanh")
    with pytest.raises(ValueError, match="h0 has shape"):
        timescale_scan(d, torch.zeros(2, 3), W, a, "tanh")
    with pytest.raises(ValueError, match="W has shape"):
        timescale_scan(d, h0, torch.zeros(3, 2), a, "tanh")
    with pytest.raises(ValueError, match="alpha has shape"):
        timescale_scan(d, h0, W, torch.ones(2), "tanh")
    with pytest.raises(ValueError, match="form"):
        timescale_scan(d, h0, W, a, "tanh", form="continuous")
    with pytest.raises(ValueError, match="phi_name"):
        timescale_scan(d, h0, W, a, "softplus")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("form", FORMS)
def test_scan_matches_reference_step_on_the_gpu(form):
    net = make_net(form, 0.25, "softplus", "leaky_relu", True).to("cuda")
    u, h0 = (x.to("cuda") for x in inputs(torch.float64))
    (a, ga), (b, gb) = run(net, True, u, h0), run(net, False, u, h0)
    assert_matches(a, ga, b, gb, torch.finfo(torch.float64).eps)


def test_docstring_examples():
    assert doctest.testmod(timescale_scan_module).failed == 0
