"""The low-rank rate network against its equations."""

import doctest

import numpy as np
import pytest
import torch
from torch.func import functional_call

from neurodyn import fit
from neurodyn.dynamics import LowRankDynamics, dynamics
from neurodyn.dynamics import low_rank as dynamics_module
from neurodyn.io import load_model, save_model
from neurodyn.rnn_models import MODELS, LowRankRNN, build_model
from neurodyn.rnn_models import low_rank as model_module
from neurodyn.tasks import FlipFlop

PHI = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def _net(*, rank=2, n_hidden=40, dale=False, nonlinearity="tanh", seed=1, **kw):
    return LowRankRNN(
        2, n_hidden, 3, rank, dt=10.0, tau=40.0, nonlinearity=nonlinearity, dale=dale,
        seed=seed, **kw,
    ).double()  # fmt: skip


def reference_loop(net: LowRankRNN, u: np.ndarray, x0: np.ndarray):
    """The Euler update with NumPy, one trial and one step at a time, through J itself."""
    m, n = net.m.detach().numpy(), net.n.detach().numpy()
    J = m @ n.T / net.n_hidden
    W_in, W_out = net.W_in.detach().numpy(), net.W_out.detach().numpy()
    b_out, alpha, phi = net.bias_out.detach().numpy(), net.dt / net.tau, PHI[net.nonlinearity]
    xs = np.zeros((*u.shape[:2], net.n_hidden))
    ys = np.zeros((*u.shape[:2], net.n_output))
    for k in range(u.shape[0]):
        x = x0[k].copy()
        for t in range(u.shape[1]):
            x = (1 - alpha) * x + alpha * (J @ phi(x) + W_in @ u[k, t])
            xs[k, t], ys[k, t] = x, W_out @ phi(x) + b_out
    return xs, ys


@pytest.mark.parametrize("rank", [1, 3])
@pytest.mark.parametrize("dale", [False, True])
def test_connectivity_has_exactly_rank_r(rank, dale):
    J = _net(rank=rank, dale=dale).J.detach().numpy()
    sv = np.linalg.svd(J, compute_uv=False)
    # R singular values of order |m||n|/N ~ 1; the rest are float64 round-off of an N × N
    # product: below N ε σ_1.
    assert sv[rank - 1] > 1e-3 * sv[0]
    assert sv[rank] < 40 * np.finfo(float).eps * sv[0]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dale", [False, True])
def test_forward_matches_reference_loop(nonlinearity, dale):
    net = _net(dale=dale, nonlinearity=nonlinearity)
    with torch.no_grad():
        net.bias_out.normal_(generator=torch.Generator().manual_seed(0))
    rng = np.random.default_rng(0)
    u, x0 = rng.normal(size=(3, 30, 2)), rng.normal(size=(3, 40))
    out = net(torch.from_numpy(u), initial_state=torch.from_numpy(x0), noise=False)
    xs, ys = reference_loop(net, u, x0)
    # float64, the same sums in another order (m(nᵀφ) against (mnᵀ)φ): a few ulps per step.
    np.testing.assert_allclose(out.states.detach().numpy(), xs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.outputs.detach().numpy(), ys, rtol=1e-10, atol=1e-12)


def test_dale_signs_and_balance():
    net = _net(rank=2, n_hidden=50, dale=True, e_fraction=0.8)
    J, sign = net.J.detach().numpy(), net.sign.numpy()
    assert (sign > 0).sum() == 40
    assert np.all(J[:, sign > 0] >= 0) and np.all(J[:, sign < 0] <= 0)
    # Σ_j n_jr = 0 at initialisation, so every row of J sums to zero, up to the float32
    # storage of the loadings: ε₃₂ ≈ 6e-8 relative to the row's absolute sum.
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-6 * np.abs(J).sum(1).max())


@pytest.mark.parametrize("nonlinearity", ["tanh", "softplus"])
@pytest.mark.parametrize("kind", ["ode", "map"])
def test_jacobian_matches_formula_and_finite_differences(nonlinearity, kind):
    net = _net(rank=2, nonlinearity=nonlinearity)
    dyn = net.as_dynamics(kind=kind)
    assert isinstance(dyn, LowRankDynamics) and isinstance(dynamics(net), LowRankDynamics)
    rng = np.random.default_rng(3)
    x, u = rng.normal(size=(4, 40)), rng.normal(size=(4, 2))
    m, n = net.m.detach().numpy(), net.n.detach().numpy()
    s = 1.0 / net.tau if kind == "ode" else net.dt / net.tau
    dphi = {"tanh": lambda z: 1 - np.tanh(z) ** 2, "softplus": lambda z: 1 / (1 + np.exp(-z))}
    a = dyn.residual_jacobian(x, u)
    for k in range(4):
        formula = s * (m @ n.T @ np.diag(dphi[nonlinearity](x[k])) / 40 - np.eye(40))
        np.testing.assert_allclose(a[k], formula, rtol=1e-12, atol=1e-15)
    # Central differences: truncation h² |r'''| + round-off ε|r|/h, h = 1e-5 → ~1e-10 · s.
    h, fd = 1e-5, np.zeros((40, 40))
    for j in range(40):
        e = np.zeros(40)
        e[j] = h
        fd[:, j] = (dyn.residual(x[0] + e, u[0]) - dyn.residual(x[0] - e, u[0])) / (2 * h)
    np.testing.assert_allclose(a[0], fd, atol=1e-8 * s)
    # The factored residual and Aᵀv equal the dense ones of a rate network with W = mnᵀ/N.
    v = rng.normal(size=(4, 40))
    np.testing.assert_allclose(dyn.vjp(x, u, v), np.einsum("nij,ni->nj", a, v), atol=1e-14)
    xt = torch.from_numpy(x)
    torch_r = dyn.torch_residual(xt, torch.from_numpy(u)).numpy()
    np.testing.assert_allclose(torch_r, dyn.residual(x, u), rtol=1e-12, atol=1e-15)
    step = net(torch.from_numpy(u[:, None]), initial_state=xt, noise=False).states[:, 0]
    np.testing.assert_allclose(dyn.step(x, u) if kind == "map" else x + net.dt * dyn.velocity(x, u),
                               step.detach().numpy(), rtol=1e-12, atol=1e-14)  # fmt: skip


def test_gradients_match_float64_gradcheck():
    net = _net(rank=2, n_hidden=8, dale=True)
    u = torch.randn(2, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    names = ["weight_m", "weight_n", "weight_in", "weight_out"]
    params = {k: v.detach().clone().requires_grad_(True) for k, v in net.named_parameters()}

    def loss(*tensors):
        p = {**params, **dict(zip(names, tensors, strict=True))}
        return functional_call(net, p, (u,), {"noise": False}).outputs

    # |x| > 0 almost surely at the random loadings, so |·| of Dale's law is smooth there.
    assert torch.autograd.gradcheck(loss, tuple(params[k] for k in names), eps=1e-6, atol=1e-7)


def test_save_load_round_trip(tmp_path):
    net = LowRankRNN(2, 20, 1, 2, dt=5.0, tau=30.0, dale=True, train_inputs=False,
                     output_mask=np.eye(1, 20), seed=4)  # fmt: skip
    path = save_model(net, tmp_path / "low_rank")
    back = load_model(path)
    assert isinstance(back, LowRankRNN) and back.config() == net.config()
    u = torch.randn(3, 7, 2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(back(u, noise=False).outputs, net(u, noise=False).outputs,
                               rtol=0, atol=0)  # fmt: skip
    assert "weight_in" not in dict(back.named_parameters())


def test_registered_by_name():
    assert MODELS["low_rank"] is LowRankRNN
    net = build_model("low_rank", 3, 16, 2, rank=2, seed=0)
    assert net.rank == 2 and net.kind == "low_rank"


def test_dale_holds_after_training():
    task = FlipFlop(n_bits=1, dt=10.0, timing={"trial": 200.0})
    net = LowRankRNN(1, 24, 1, 2, dt=10.0, tau=50.0, dale=True, seed=0)
    # A large learning rate pushes loadings through zero: the parameterisation holds.
    fit(net, task, n_steps=20, batch_size=8, lr=0.3, val_every=20, n_validation=8, progress=False)
    J, sign = net.J.detach().numpy(), net.sign.numpy()
    assert np.all(J[:, sign > 0] >= 0) and np.all(J[:, sign < 0] <= 0)
    assert np.linalg.matrix_rank(J.astype(np.float64), tol=1e-5 * np.abs(J).max()) <= 2


def test_rank_one_network_learns_one_bit_flip_flop():
    task = FlipFlop(n_bits=1, dt=10.0, timing={"trial": 500.0})
    net = LowRankRNN(1, 64, 1, 1, dt=10.0, tau=50.0, seed=0)
    fit(net, task, n_steps=200, batch_size=32, lr=1e-2, val_every=200, n_validation=32,
        progress=False, seed=0)  # fmt: skip
    batch = task.batch(200, seed=5)
    y = net(torch.tensor(batch.inputs, dtype=torch.float32), noise=False).outputs
    trained = task.evaluate(y.detach().numpy(), batch)["correct"].mean()
    # Chance: the better of the two constant outputs (right whenever a trial holds one sign).
    ones = np.ones_like(batch.targets)
    chance = max(task.evaluate(s * ones, batch)["correct"].mean() for s in (1.0, -1.0))
    assert chance < 0.6
    assert trained > chance + 0.25, (trained, chance)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rank": 0}, "rank"),
        ({"rank": 9}, "rank"),
        ({"tau": 5.0}, "tau"),
        ({"dale": True, "e_fraction": 1.5}, "e_fraction"),
        ({"nonlinearity": "tanhh"}, "nonlinearity"),
        ({"input_mask": np.ones((3, 3))}, "input_mask"),
        ({"noise_rec": -1.0}, "noise_rec"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    kwargs = {"rank": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        LowRankRNN(2, 8, 1, dt=10.0, **kwargs)


@pytest.mark.parametrize("module", [model_module, dynamics_module])
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0
