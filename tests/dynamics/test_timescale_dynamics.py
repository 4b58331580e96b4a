"""TimescaleDynamics: the model as a map (and the "mod" form as an ODE) with analytic Jacobians."""

import numpy as np
import pytest
import torch

from neurodyn.analysis import find_fixed_points
from neurodyn.analysis.timescales import jacobian_timescales
from neurodyn.dynamics.timescale import TimescaleDynamics
from neurodyn.rnn_models import TimescaleRNN

CASES = [
    (form, nl, dt)
    for form in ("default", "mod")
    for nl in ("leaky_relu", "relu", "tanh", "sigmoid")
    for dt in (1.0, 0.25)
]


def _net(form, nl, dt, n=10):
    return TimescaleRNN(2, n, n_heads=1, form=form, nonlinearity=nl, dt=dt, seed=7)


@pytest.mark.parametrize("form, nl, dt", CASES)
def test_step_reproduces_the_model(form, nl, dt):
    net = _net(form, nl, dt).double()
    dyn = TimescaleDynamics.from_model(net)
    x = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    h0 = torch.rand(3, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    states = net(x, initial_state=h0).states.detach().numpy()
    h = h0.numpy()
    for t in range(6):
        h = dyn.step(h, x[:, t].numpy())
        # Both in float64; the formulas differ only in operation order.
        np.testing.assert_allclose(h, states[:, t], rtol=0, atol=1e-13)


@pytest.mark.parametrize("form, nl, dt", CASES)
def test_jacobians_match_central_differences(form, nl, dt):
    dyn = TimescaleDynamics.from_model(_net(form, nl, dt))
    rng = np.random.default_rng(0)
    h, u = rng.standard_normal((5, 10)), rng.standard_normal((5, 2))
    eps = 1e-6
    # Central differences: truncation O(eps² f''') ≈ 1e-12, rounding O(1e-16/eps) ≈ 1e-10.
    # LeakyReLU kinks are met with probability ~0 at these random points.
    fd_j = np.stack(
        [(dyn.step(h + eps * e, u) - dyn.step(h - eps * e, u)) / (2 * eps) for e in np.eye(10)],
        axis=-1,
    )
    fd_b = np.stack(
        [(dyn.step(h, u + eps * e) - dyn.step(h, u - eps * e)) / (2 * eps) for e in np.eye(2)],
        axis=-1,
    )
    np.testing.assert_allclose(dyn.jacobian(h, u), fd_j, atol=1e-8)
    np.testing.assert_allclose(dyn.input_jacobian(h, u), fd_b, atol=1e-8)
    a = dyn.residual_jacobian(h, u)
    v = rng.standard_normal((5, 10))
    np.testing.assert_allclose(dyn.vjp(h, u, v), np.einsum("nij,ni->nj", a, v), atol=1e-12)
    r_t, a_t = dyn.torch_residual_jacobian(h, u)
    np.testing.assert_allclose(a_t.numpy(), a, atol=1e-14)
    np.testing.assert_allclose(r_t.numpy(), dyn.residual(h, u), atol=1e-14)


def test_paper_jacobian_in_the_linear_regime():
    """Where every pre-activation is positive, J = diag(1 - 1/τ̂) + diag(1/τ̂) W (default)."""
    net = _net("default", "leaky_relu", 1.0)
    with torch.no_grad():
        net.weight_rec.abs_()  # non-negative weights and a large positive state: φ' = 1
    dyn = TimescaleDynamics.from_model(net)
    h = np.full((1, 10), 50.0)
    s = 1 / net.tau_hat.detach().numpy().astype(float)
    W = net.W.detach().numpy().astype(float)
    assert np.all(dyn.residual(h, [0.0, 0.0]) + h > 0)
    np.testing.assert_allclose(dyn.jacobian(h, [0.0, 0.0])[0], np.diag(1 - s) + s[:, None] * W)


def test_ode_form_and_its_euler_map_share_fixed_points():
    net = _net("mod", "tanh", 0.1)
    ode = TimescaleDynamics.from_model(net, kind="ode")
    euler = TimescaleDynamics.from_model(net, kind="map")
    h = np.random.default_rng(1).standard_normal((4, 10))
    # The map's residual is dt × the ODE's velocity.
    np.testing.assert_allclose(euler.residual(h), 0.1 * ode.velocity(h), atol=1e-13)
    with pytest.raises(ValueError, match="form='mod'"):
        TimescaleDynamics.from_model(_net("default", "tanh", 1.0), kind="ode")


def test_known_timescales_of_a_decoupled_network():
    """W = 0, no input: each unit decays by (1 - 1/τ̂) per step in its positive branch."""
    tau = np.array([1.5, 2.0, 4.0, 10.0])
    dyn = TimescaleDynamics(W=np.zeros((4, 4)), W_in=np.zeros((4, 1)), bias=np.zeros(4), tau=tau)
    jt = jacobian_timescales(dyn, np.ones((1, 4)))
    expected = np.sort(-1.0 / np.log(1 - 1 / tau))[::-1]  # slowest first
    np.testing.assert_allclose(jt.time_constant[0], expected, rtol=1e-12)
    assert jt.to_xarray()["time_constant"].dims == ("state", "mode")
    # The model path (adapter chosen for a TimescaleRNN) gives the same numbers.
    net = TimescaleRNN(1, 4, tau=tau, train_tau=False, seed=0)
    with torch.no_grad():
        net.weight_rec.zero_()
        net.bias.zero_()
    got = jacobian_timescales(net, np.ones((1, 4)), np.zeros((1, 1)))
    np.testing.assert_allclose(got.time_constant[0], expected, rtol=1e-6)


def test_fixed_point_finder_runs_on_a_timescale_rnn():
    net = _net("default", "leaky_relu", 1.0, n=12)
    dyn = TimescaleDynamics.from_model(net)
    x0 = np.random.default_rng(0).uniform(0, 0.5, (16, 12))
    fps = find_fixed_points(dyn, inputs=[0.0, 0.0], initial_states=x0, progress=False)
    assert len(fps.roots) >= 1
    x = fps.roots.x
    np.testing.assert_allclose(dyn.step(x, [0.0, 0.0]), x, atol=1e-8)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="tau"):
        TimescaleDynamics(W=np.zeros((2, 2)), W_in=np.zeros((2, 1)), tau=[0.5, 1.0])
    with pytest.raises(ValueError, match="W has shape"):
        TimescaleDynamics(W=np.zeros((2, 3)), W_in=np.zeros((2, 1)), tau=1.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        TimescaleDynamics(W=np.zeros((2, 2)), W_in=np.zeros((2, 1)), tau=1.0, nonlinearity="elu")
