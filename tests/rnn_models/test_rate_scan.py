"""The rate network's fused scan against the reference step, for every option of the model."""

import copy
import functools
import itertools
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import torch

from neurodyn.backends import available_backends, get_module
from neurodyn.rnn_models import RateRNN
from neurodyn.rnn_models import rate as rate_module
from neurodyn.rnn_models.rate_scan import (
    SCAN_NONLINEARITIES,
    RateScan,
    rate_scan,
    scan_implementation,
)

N_IN, N_HIDDEN, N_OUT, TRIALS, STEPS = 3, 10, 2, 4, 25
EPS32 = torch.finfo(torch.float32).eps
EPS64 = torch.finfo(torch.float64).eps

#: The implementations built here: the PyTorch sweeps always, the C++ ones with neurodyn._C.
COMPILED = scan_implementation(torch.zeros(1, 1, 1), "tanh") == "compiled"
COMPILED_PHI = ("tanh", "relu", "rectified_tanh")
needs_compiled = pytest.mark.skipif(
    not COMPILED, reason="neurodyn._C without the rate scan (or SciPy missing)"
)
IMPLEMENTATIONS = ["torch", pytest.param("compiled", marks=needs_compiled)]
CUDA = "cuda" in available_backends() and hasattr(get_module("cuda"), "rate_scan_forward")
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a GPU and neurodyn._C_cuda")
CSRC = Path(__file__).resolve().parents[2] / "csrc"

#: Every combination of the options the scan fuses: Dale's law, a recurrent mask,
#: trainable τ, the nonlinearity and noise (recurrent and input together).
OPTIONS = list(
    itertools.product([False, True], [False, True], [False, True], SCAN_NONLINEARITIES,
                      [False, True])
)  # fmt: skip


@pytest.fixture(autouse=True)
def _compiled_kernels_are_built():
    # CI builds neurodyn._C: there the compiled scan must be what the tests exercise.
    if os.environ.get("CI") == "true":
        assert COMPILED


def make_net(dale, mask, train_tau, nonlinearity, noise, dtype=torch.float64):
    rng = np.random.default_rng(7)
    net = RateRNN(
        N_IN,
        N_HIDDEN,
        N_OUT,
        dt=10.0,
        tau=np.linspace(25.0, 90.0, N_HIDDEN),
        train_tau=train_tau,
        nonlinearity=nonlinearity,
        dale=dale,
        spectral_radius=1.4,
        recurrent_mask=(rng.random((N_HIDDEN, N_HIDDEN)) < 0.6) if mask else None,
        noise_rec=0.2 if noise else 0.0,
        noise_in=0.1 if noise else 0.0,
        seed=3,
    ).to(dtype)
    with torch.no_grad():
        net.bias.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(1))
    return net


@pytest.fixture
def implementation(request, monkeypatch):
    """Make RateRNN's forward pass use one implementation of the scan."""
    chosen = functools.partial(rate_scan, implementation=request.param)
    monkeypatch.setattr(rate_module, "rate_scan", chosen)
    return request.param


def run(net, use_scan, u, x0, seed=11):
    """Outputs and the gradients of a loss touching outputs, rates and states."""
    net = copy.deepcopy(net)
    net.use_scan = use_scan
    x0 = x0.clone().requires_grad_(True)
    out = net(u, initial_state=x0, generator=torch.Generator().manual_seed(seed))
    loss = (out.outputs**2).mean() + out.rates.pow(2).mean() + 0.1 * out.states.mean()
    loss.backward()
    grads = {name: p.grad for name, p in net.named_parameters()}
    grads["initial_state"] = x0.grad
    return out, grads


def inputs(dtype):
    g = torch.Generator().manual_seed(5)
    u = torch.randn(TRIALS, STEPS, N_IN, generator=g, dtype=dtype)
    x0 = 0.5 * torch.randn(TRIALS, N_HIDDEN, generator=g, dtype=dtype)
    return u, x0


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, indirect=True)
@pytest.mark.parametrize(("dale", "mask", "train_tau", "nonlinearity", "noise"), OPTIONS)
def test_scan_matches_reference_step(implementation, dale, mask, train_tau, nonlinearity, noise):
    if implementation == "compiled" and nonlinearity not in COMPILED_PHI:
        pytest.skip("the compiled scan has no softplus (the torch scan runs it)")
    for dtype, eps in ((torch.float64, EPS64), (torch.float32, EPS32)):
        net = make_net(dale, mask, train_tau, nonlinearity, noise, dtype)
        u, x0 = inputs(dtype)
        (a, ga), (b, gb) = run(net, True, u, x0), run(net, False, u, x0)
        # Each step rounds the lerp and φ (the compiled float32 tanh within 2 ulp) where
        # the reference rounds them its way: a few ulps per step, carried through at most
        # STEPS steps of a map whose Lipschitz constant here is below 2; 8·STEPS·eps.
        tol = 8 * STEPS * eps
        for name in ("outputs", "rates", "states"):
            torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=tol, atol=tol)
        # Gradients: the same terms summed in another order (over trials and steps at
        # once instead of step by step): relative to the largest entry, eps times the
        # number of terms summed (trials·steps), with a factor 8 to spare.
        assert ga.keys() == gb.keys()
        for name in ga:
            scale = gb[name].abs().max().clamp_min(torch.finfo(dtype).tiny)
            torch.testing.assert_close(
                ga[name] / scale, gb[name] / scale, rtol=0, atol=8 * TRIALS * STEPS * eps,
                msg=lambda m, name=name: f"{name}: {m}",
            )  # fmt: skip


def _gradcheck_inputs(noise):
    g = torch.Generator().manual_seed(2)
    n, T, m = 2, 6, 4

    def rand(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).requires_grad_()

    drive, x0, W = rand(n, T, m), rand(n, m, scale=0.5), rand(m, m, scale=0.6)
    # Leaks on both sides of 1/2, where PyTorch's lerp switches formula.
    alpha = (0.1 + 0.8 * torch.rand(m, generator=g, dtype=torch.float64)).requires_grad_()
    eta = torch.randn(n, T, m, generator=g, dtype=torch.float64) if noise else None
    scale = rand(m, scale=0.3) if noise else None
    return (drive, x0, W, alpha, scale), eta


@pytest.mark.parametrize("implementation", ["torch", "compiled"])
@pytest.mark.parametrize("nonlinearity", SCAN_NONLINEARITIES)
@pytest.mark.parametrize("noise", [False, True])
def test_scan_gradcheck_all_inputs(implementation, nonlinearity, noise):
    if implementation == "compiled" and (not COMPILED or nonlinearity not in COMPILED_PHI):
        pytest.skip("no compiled scan for this nonlinearity here")
    args, eta = _gradcheck_inputs(noise)
    # gradcheck compares the hand-written backward pass with central finite differences
    # of the forward pass (eps 1e-6, float64) for every input and both outputs.
    assert torch.autograd.gradcheck(
        lambda d, x, w, a, s: RateScan.apply(d, eta, s, x, w, a, nonlinearity, implementation),
        args,
    )


@pytest.mark.parametrize("implementation", ["torch", "compiled"])
def test_closed_form_decay_and_linear_drive(implementation):
    if implementation == "compiled" and not COMPILED:
        pytest.skip("no compiled scan here")
    # With W = 0 every unit is a leaky integrator of its drive, x_t = x_{t-1} + α(d - x_{t-1}),
    # solved by x_t = d + (x_0 - d)(1 - α)^t (α = 1/2 and 1 take lerp's second formula).
    alpha = torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64)
    x0 = torch.tensor([[1.0, -2.0, 3.0]], dtype=torch.float64)
    d = torch.full((1, 7, 3), 0.25, dtype=torch.float64)
    W = torch.zeros(3, 3, dtype=torch.float64)
    x, r = rate_scan(d, x0, W, alpha, "relu", implementation=implementation)
    t = torch.arange(1, 8, dtype=torch.float64)[:, None]
    want = 0.25 + (x0 - 0.25) * (1 - alpha) ** t
    torch.testing.assert_close(x[0], want, rtol=0, atol=10 * EPS64)
    torch.testing.assert_close(r, x.clamp_min(0.0), rtol=0, atol=0)


@needs_compiled
def test_compiled_float32_tanh_is_within_two_ulp():
    # Every float32 in [-12, 12] on a fine grid, tiny values and the branch point of
    # the approximation (0.625), against tanh in float64 rounded to float32.
    x = np.concatenate([
        np.linspace(-12.0, 12.0, 400_001), np.geomspace(1e-30, 1.0, 2000),
        -np.geomspace(1e-30, 1.0, 2000), np.nextafter(np.float32(0.625), [0, 1]), [0.0],
    ]).astype(np.float32)  # fmt: skip
    got = get_module("cpp").rate_scan_phi(0, x).astype(np.float64)
    exact = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - exact) / ulp) <= 2.0
    np.testing.assert_array_equal(np.abs(got[np.abs(x) > 9.1]), 1.0)
    relu = get_module("cpp").rate_scan_phi(3, x).astype(np.float64)
    np.testing.assert_array_equal(relu[x <= 0], 0.0)
    np.testing.assert_array_equal(relu[x > 0], got[x > 0])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, indirect=True)
def test_retained_graph_gives_the_same_gradients_twice(implementation):
    # The first backward pass overwrites the scan's record of p_t - x_{t-1} (trainable
    # τ); the second must make it again and give the same gradients, bit for bit.
    net = make_net(True, True, True, "tanh", True)
    u, x0 = inputs(torch.float64)
    out = net(u, initial_state=x0, generator=torch.Generator().manual_seed(0))
    loss = out.outputs.pow(2).sum()
    first = torch.autograd.grad(loss, list(net.parameters()), retain_graph=True)
    second = torch.autograd.grad(loss, list(net.parameters()))
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, indirect=True)
def test_gradient_of_one_output_only(implementation):
    # Only states, or only rates, reach the loss: the other output's gradient is None.
    net = make_net(False, False, True, "relu", False)
    u, x0 = inputs(torch.float64)
    for which in ("states", "rates"):
        grads = []
        for use_scan in (True, False):
            model = copy.deepcopy(net)
            model.use_scan = use_scan
            getattr(model(u, initial_state=x0), which).sum().backward()
            grads.append([p.grad for p in model.parameters()])
        for a, b in zip(*grads, strict=True):
            if b is None:
                assert a is None
            else:
                torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def train(net, use_scan, steps=20):
    """Losses of ``steps`` Adam steps on a fixed regression batch (noise drawn per step)."""
    net = copy.deepcopy(net)
    net.use_scan = use_scan
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(3)
    u = torch.randn(8, 30, N_IN, generator=g)
    target = torch.sin(torch.linspace(0, 6, 30))[None, :, None].expand(8, 30, N_OUT)
    noise = torch.Generator().manual_seed(4)
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(net(u, generator=noise).outputs, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), net


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, indirect=True)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_short_training_follows_the_reference_loss_curve(implementation, nonlinearity):
    net = make_net(True, True, True, nonlinearity, True, torch.float32)
    (fused, trained), (ref, _) = train(net, True), train(net, False)
    assert fused[-1] < 0.8 * fused[0]  # it learns
    # float32: outputs and gradients differ in the last bits; Adam moves each weight by
    # at most lr per step whatever the gradient's size, so after 20 steps the losses
    # stay within a few ulps of rounding amplified by the steps: 1e-4 relative.
    np.testing.assert_allclose(fused, ref, rtol=1e-4)
    W = trained.W.detach()
    sign = trained.sign
    assert torch.all(W[:, sign > 0] >= 0) and torch.all(W[:, sign < 0] <= 0)
    assert torch.all(W[trained.mask_rec == 0] == 0)
    assert torch.all(trained.tau >= trained.dt)


def test_model_picks_the_implementation_by_the_stated_condition():
    small, large = torch.zeros(64, 2, 128), torch.zeros(64, 2, 600)
    want = "compiled" if COMPILED else "torch"
    assert scan_implementation(small, "tanh") == want
    assert scan_implementation(small.double(), "rectified_tanh") == want
    # softplus, half precision and products big enough for threads: the torch scan.
    assert scan_implementation(small, "softplus") == "torch"
    assert scan_implementation(small.half(), "tanh") == "torch"
    assert scan_implementation(large, "tanh") == "torch"


def test_bad_arguments():
    d, x0, W, a = torch.zeros(1, 2, 3), torch.zeros(1, 3), torch.zeros(3, 3), torch.ones(3)
    with pytest.raises(ValueError, match="eta and noise_scale"):
        rate_scan(d, x0, W, a, "tanh", eta=torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match="drive has shape"):
        rate_scan(torch.zeros(1, 0, 3), x0, W, a, "tanh")
    with pytest.raises(ValueError, match="W has shape"):
        rate_scan(d, x0, torch.zeros(3, 2), a, "tanh")
    with pytest.raises(ValueError, match="noise_scale has shape"):
        rate_scan(d, x0, W, a, "tanh", eta=torch.zeros(1, 2, 3), noise_scale=torch.ones(2))
    with pytest.raises(ValueError, match="implementation"):
        rate_scan(d, x0, W, a, "tanh", implementation="cuda")
    with pytest.raises(ValueError, match="implementation='compiled'"):
        rate_scan(d, x0, W, a, "softplus", implementation="compiled")
    with pytest.raises(ValueError, match="implementation='cuda'"):
        rate_scan(d, x0, W, a, "tanh", implementation="cuda")


@needs_cuda
@pytest.mark.parametrize("nonlinearity", COMPILED_PHI)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cuda_scan_matches_the_torch_scan_on_the_gpu(nonlinearity, dtype):
    args, eta = _gradcheck_inputs(noise=True)
    args = [a.detach().to("cuda", dtype).requires_grad_() for a in args]
    eta = eta.to("cuda", dtype)
    eps = torch.finfo(dtype).eps
    results = []
    for implementation in ("cuda", "torch"):
        x, r = RateScan.apply(args[0], eta, args[4], args[1], args[2], args[3], nonlinearity,
                              implementation)  # fmt: skip
        loss = x.pow(2).sum() + r.sum()
        results.append((x, r, torch.autograd.grad(loss, args)))
    (xa, ra, ga), (xb, rb, gb) = results
    # Same update, sums in another order and the GPU's tanh: a few ulps per step over
    # 6 steps, 64 eps to spare; gradients relative to their largest entry.
    torch.testing.assert_close(xa, xb, rtol=64 * eps, atol=64 * eps)
    torch.testing.assert_close(ra, rb, rtol=64 * eps, atol=64 * eps)
    for a, b in zip(ga, gb, strict=True):
        scale = b.abs().max()
        torch.testing.assert_close(a / scale, b / scale, rtol=0, atol=64 * eps)
    if dtype == torch.float64:
        assert torch.autograd.gradcheck(
            lambda d, x, w, a, s: RateScan.apply(d, eta, s, x, w, a, nonlinearity, "cuda"),
            tuple(args),
        )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_cuda_scan_compiles(tmp_path):
    # Compile-only here (no GPU): the kernel with nvcc, as setup.py does, and the
    # host side of neurodyn._C_cuda that binds it.
    cu = CSRC / "cuda" / "rate_scan_cuda.cu"
    cmd = ["nvcc", "-c", str(cu), "-o", str(tmp_path / "scan.o"), "--fmad=false", "-std=c++17",
           f"-I{CSRC / 'include'}", "-gencode", "arch=compute_90,code=sm_90", "-Xcompiler", "-fPIC"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    pybind11 = pytest.importorskip("pybind11")
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no host C++ compiler")
    cmd = [cxx, "-fsyntax-only", "-std=c++17", f"-I{pybind11.get_include()}",
           f"-I{sysconfig.get_paths()['include']}", f"-I{CSRC / 'include'}",
           f"-I{CSRC / 'bindings'}", str(CSRC / "bindings" / "cuda_module.cpp")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
