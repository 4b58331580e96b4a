"""Every dynamics adapter: its step matches the model's own forward pass, and its
analytic Jacobians match finite differences."""

import copy

import numpy as np
import pytest
import torch

from neurodyn.dynamics import (
    AutogradDynamics,
    Dynamics,
    FunctionDynamics,
    RateDynamics,
    TorchCellDynamics,
    dynamics,
)
from neurodyn.rnn_models import RateRNN, TorchRNN

# Central differences with h = 1e-6 on O(1) quantities: truncation error ~h² ≈ 1e-12 and
# rounding error ~eps/h ≈ 1e-10, so 1e-7 leaves three orders of margin.
FD_ATOL = 1e-7


def fd_jacobian(fun, x, d_out):
    """Central-difference Jacobian of ``fun`` (n, k) -> (n, d_out) at x (n, k)."""
    n, k = x.shape
    jac = np.empty((n, d_out, k))
    h = 1e-6
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        jac[:, :, j] = (fun(x + e) - fun(x - e)) / (2 * h)
    return jac


def check_jacobians(dyn: Dynamics, x, u):
    d, m = dyn.n_state, dyn.n_input
    model_fn = dyn.step if dyn.kind == "map" else dyn.velocity
    jac = dyn.jacobian(x, u)
    np.testing.assert_allclose(jac, fd_jacobian(lambda z: model_fn(z, u), x, d), atol=FD_ATOL)
    a = dyn.residual_jacobian(x, u)
    np.testing.assert_allclose(a, fd_jacobian(lambda z: dyn.residual(z, u), x, d), atol=FD_ATOL)
    if m:
        b = dyn.input_jacobian(x, u)
        np.testing.assert_allclose(b, fd_jacobian(lambda v: model_fn(x, v), u, d), atol=FD_ATOL)
    # vjp is the gradient of q = ½‖r‖² when v = r.
    v = np.random.default_rng(1).normal(size=x.shape)
    np.testing.assert_allclose(dyn.vjp(x, u, v), np.einsum("nij,ni->nj", a, v), atol=1e-12)
    # The torch path computes the same numbers.
    r_t, a_t = dyn.torch_residual_jacobian(x, u)
    np.testing.assert_allclose(r_t.cpu().numpy(), dyn.residual(x, u), atol=1e-12)
    np.testing.assert_allclose(a_t.cpu().numpy(), a, atol=1e-12)


def states(n, d, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(0.0, scale, (n, d))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "softplus", "rectified_tanh"])
@pytest.mark.parametrize("kind", ["ode", "map"])
def test_rate_jacobians(nonlinearity, kind):
    net = RateRNN(3, 7, 2, dt=10.0, tau=np.linspace(20, 80, 7), nonlinearity=nonlinearity, seed=0)
    with torch.no_grad():
        net.bias.normal_()
    dyn = dynamics(net, kind=kind)
    assert isinstance(dyn, RateDynamics) and dyn.kind == kind
    x, u = states(5, 7, seed=2), states(5, 3, seed=3)
    # Keep states off the ReLU kink, where finite differences straddle two slopes.
    x[np.abs(x) < 1e-3] = 0.1
    check_jacobians(dyn, x, u)


def test_rate_map_matches_model_and_ode():
    net = RateRNN(3, 6, 2, dt=10.0, tau=np.linspace(20, 60, 6), dale=True, seed=1)
    with torch.no_grad():
        net.bias.normal_()
    ref = copy.deepcopy(net).double()
    x, u = states(4, 6, seed=0), states(4, 3, seed=1)
    with torch.no_grad():
        out = ref(torch.from_numpy(u[:, None, :]), initial_state=torch.from_numpy(x), noise=False)
    ode, emap = dynamics(net), dynamics(net, kind="map")
    np.testing.assert_allclose(emap.step(x, u), out.states[:, 0].numpy(), atol=1e-12)
    # The Euler map is x + dt·f, so J_map = I + dt·J_ode and the eigenvalues map as 1 + dt·μ.
    np.testing.assert_allclose(emap.step(x, u), x + ode.dt * ode.velocity(x, u), atol=1e-12)
    np.testing.assert_allclose(
        emap.jacobian(x, u), np.eye(6) + 10.0 * ode.jacobian(x, u), atol=1e-12
    )


def torch_cells():
    torch.manual_seed(0)
    return {
        "rnn_tanh": torch.nn.RNN(3, 5, batch_first=True),
        "rnn_relu": torch.nn.RNN(3, 5, nonlinearity="relu"),
        "gru": torch.nn.GRU(3, 5, batch_first=True),
        "lstm": torch.nn.LSTM(3, 5),
        "rnncell": torch.nn.RNNCell(3, 5),
        "rnncell_relu": torch.nn.RNNCell(3, 5, nonlinearity="relu"),
        "grucell": torch.nn.GRUCell(3, 5),
        "lstmcell": torch.nn.LSTMCell(3, 5, bias=False),
    }


def torch_step(module, x, u):
    """One step of the module itself, in float64, on a copy."""
    m = copy.deepcopy(module).double()
    xt, ut = torch.from_numpy(x), torch.from_numpy(u)
    lstm = isinstance(m, (torch.nn.LSTM, torch.nn.LSTMCell))
    h = x.shape[1] // 2 if lstm else x.shape[1]
    with torch.no_grad():
        if isinstance(m, (torch.nn.RNNCell, torch.nn.GRUCell)):
            return m(ut, xt).numpy()
        if isinstance(m, torch.nn.LSTMCell):
            hn, cn = m(ut, (xt[:, :h], xt[:, h:]))
            return torch.cat([hn, cn], 1).numpy()
        seq = ut[:, None] if m.batch_first else ut[None]
        if lstm:
            _, (hn, cn) = m(seq, (xt[None, :, :h].contiguous(), xt[None, :, h:].contiguous()))
            return torch.cat([hn[0], cn[0]], 1).numpy()
        _, hn = m(seq, xt[None].contiguous())
        return hn[0].numpy()


@pytest.mark.parametrize("name", list(torch_cells()))
def test_torch_cell_step_and_jacobians(name):
    module = torch_cells()[name]
    dyn = dynamics(module)
    assert isinstance(dyn, TorchCellDynamics) and dyn.kind == "map"
    assert dyn.n_state == (10 if "lstm" in name else 5)
    x, u = states(4, dyn.n_state, 0.7, seed=4), states(4, 3, seed=5)
    np.testing.assert_allclose(dyn.step(x, u), torch_step(module, x, u), atol=1e-12)
    check_jacobians(dyn, x, u)
    # The module itself is untouched (no dtype change, gradients still on).
    assert all(p.dtype == torch.float32 and p.requires_grad for p in module.parameters())


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_torchrnn_model(cell):
    net = TorchRNN(cell, 3, 4, 2, dt=20.0, seed=0)
    dyn = dynamics(net)
    assert dyn.dt == 20.0 and dyn.time_unit == "ms"
    x = states(3, net.n_state, 0.5)
    u = states(3, 3, seed=1)
    with torch.no_grad():
        out = copy.deepcopy(net).double()(
            torch.from_numpy(u[:, None]), initial_state=torch.from_numpy(x), noise=False
        )
    np.testing.assert_allclose(dyn.step(x, u), out.states[:, 0].numpy(), atol=1e-12)


class GatedCell(torch.nn.Module):
    """A small custom cell(u, h) -> h with a gate, as users write them."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(5, 3)
        self.gate = torch.nn.Linear(3, 3)

    def forward(self, u, h):
        g = torch.sigmoid(self.gate(h))
        return (1 - g) * h + g * torch.tanh(self.lin(torch.cat([u, h], -1)))


class LoopOnlyCell(GatedCell):
    """Data-dependent Python control flow, which vmap refuses: forces the per-output loop."""

    def forward(self, u, h):
        out = super().forward(u, h)
        if bool((out.abs() > 1e6).any()):
            out = out.clamp(-1e6, 1e6)
        return out


@pytest.mark.parametrize("cls", [GatedCell, LoopOnlyCell])
def test_autograd_cell(cls):
    torch.manual_seed(0)
    cell = cls()
    dyn = dynamics(cell, n_state=3, n_input=2)
    assert isinstance(dyn, AutogradDynamics)
    x, u = states(4, 3, seed=6), states(4, 2, seed=7)
    with torch.no_grad():
        expected = cell.double()(torch.from_numpy(u), torch.from_numpy(x)).numpy()
    cell.float()
    np.testing.assert_allclose(dyn.step(x, u), expected, atol=1e-12)
    check_jacobians(dyn, x, u)
    assert dyn._vmap_ok == (cls is GatedCell)


def test_autograd_ode_and_torch_cell_agree():
    """The autograd path on nn.GRUCell gives the analytic adapter's Jacobian."""
    torch.manual_seed(3)
    cell = torch.nn.GRUCell(2, 4)
    auto = AutogradDynamics(cell, n_state=4, n_input=2)
    exact = dynamics(cell)
    x, u = states(6, 4, seed=8), states(6, 2, seed=9)
    np.testing.assert_allclose(auto.jacobian(x, u), exact.jacobian(x, u), atol=1e-12)
    np.testing.assert_allclose(auto.input_jacobian(x, u), exact.input_jacobian(x, u), atol=1e-12)


@pytest.mark.parametrize("kind", ["map", "ode"])
def test_function_dynamics(kind):
    a = np.array([[0.5, -1.0], [2.0, 0.1]])

    def f(x, u):
        return np.tanh(x @ a.T) + u * x[:, ::-1]

    def jac(x, u):
        return (1 - np.tanh(x @ a.T) ** 2)[:, :, None] * a[None] + u[:, :, None] * np.array(
            [[0.0, 1.0], [1.0, 0.0]]
        )

    fd = FunctionDynamics(f, n_state=2, n_input=1, kind=kind)
    exact = dynamics(f, n_state=2, n_input=1, kind=kind, jacobian=jac)
    x, u = states(5, 2, seed=10), states(5, 1, seed=11)
    check_jacobians(fd, x, u)
    check_jacobians(exact, x, u)
    # The user Jacobian is used exactly; finite differences agree to ~1e-10.
    np.testing.assert_allclose(exact.jacobian(x, u), jac(x, u), atol=0)
    np.testing.assert_allclose(fd.jacobian(x, u), jac(x, u), atol=1e-8)
    # Non-vectorised functions are looped over states.
    loop = FunctionDynamics(
        lambda xi, ui: f(xi[None], ui[None])[0], n_state=2, n_input=1, kind=kind, vectorized=False
    )
    np.testing.assert_allclose(loop.residual(x, u), fd.residual(x, u), atol=0)


def test_single_state_and_broadcast_input():
    dyn = dynamics(torch.nn.GRUCell(2, 3))
    x = np.zeros(3)
    assert dyn.step(x, [1.0, 0.0]).shape == (3,)
    assert dyn.jacobian(np.zeros((4, 3)), [1.0, 0.0]).shape == (4, 3, 3)
    assert dyn.input_jacobian(np.zeros((4, 3)), np.ones((1, 2))).shape == (4, 3, 2)


@pytest.mark.parametrize(
    ("x", "u", "message"),
    [
        (np.full(3, np.nan), [0.0, 0.0], "x contains NaN"),
        (np.zeros(4), [0.0, 0.0], "n_state=3"),
        (np.zeros(3), [0.0], "n_input=2"),
        (np.zeros((2, 3)), np.zeros((3, 2)), "expected"),
        (np.zeros(3), [np.inf, 0.0], "u contains NaN"),
    ],
)
def test_bad_arguments(x, u, message):
    dyn = dynamics(torch.nn.GRUCell(2, 3))
    with pytest.raises(ValueError, match=message):
        dyn.step(x, u)


def test_factory_errors():
    with pytest.raises(ValueError, match="n_state"):
        dynamics(lambda x, u: x)
    with pytest.raises(ValueError, match="n_state and n_input"):
        dynamics(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="num_layers"):
        dynamics(torch.nn.GRU(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="discrete map"):
        dynamics(torch.nn.GRU(2, 3), kind="ode")
    with pytest.raises(ValueError, match="cannot describe"):
        dynamics(3.0)
