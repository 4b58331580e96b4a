"""Wave-RNN and iRNN dynamics adapters: analytic Jacobians against finite differences."""

import numpy as np
import pytest
import torch

from neurodyn.dynamics import dynamics
from neurodyn.dynamics.wave import ReLUMapDynamics, WaveDynamics, circulant_matrix
from neurodyn.rnn_models import IRNN, WaveRNN


def _wave(seed=0):
    net = WaveRNN(
        3,
        2,
        n_neurons=9,
        n_channels=2,
        shift_init=False,
        source_init=False,
        input_std=0.5,
        seed=seed,
    ).double()
    return net


def _fd_jacobian(f, x, eps=1e-6):
    # Central differences: O(eps²) truncation; states are away from the ReLU kink
    # (checked below), where F is smooth.
    return np.stack([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))], 1)


def test_circulant_matrix_equals_conv1d():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 5))
    h = rng.normal(size=(3, 7))
    conv = torch.nn.Conv1d(3, 3, 5, padding=2, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel))
        expected = conv(torch.from_numpy(h)[None])[0].numpy().reshape(-1)
    np.testing.assert_allclose(circulant_matrix(kernel, 7) @ h.reshape(-1), expected, atol=1e-12)


def test_wave_step_matches_model():
    net = _wave()
    dyn = dynamics(net)
    assert isinstance(dyn, WaveDynamics) and dyn.kind == "map" and dyn.n_state == 18
    h0 = torch.rand(4, 18, dtype=torch.float64)
    x = torch.rand(4, 1, 3, dtype=torch.float64)
    expected = torch.stack([net(x[i : i + 1], initial_state=h0[i]).states[0, 0] for i in range(4)])
    np.testing.assert_allclose(
        dyn.step(h0.numpy(), x[:, 0].numpy()), expected.detach().numpy(), atol=1e-12
    )
    assert set(dyn.state_coords()) == {"channel", "neuron"}


@pytest.mark.parametrize("which", ["wave", "irnn"])
def test_jacobians_match_finite_differences(which):
    model = (
        _wave(1)
        if which == "wave"
        else IRNN(3, 7, 2, init="random", input_std=0.5, seed=1).double()
    )
    dyn = dynamics(model)
    rng = np.random.default_rng(2)
    x = rng.normal(size=dyn.n_state)
    u = rng.normal(size=3)
    pre = dyn.W @ x + dyn.W_in @ u + dyn.bias
    assert np.min(np.abs(pre)) > 1e-4 and np.any(pre < 0) and np.any(pre > 0)
    J = dyn.jacobian(x, u)
    np.testing.assert_allclose(J, _fd_jacobian(lambda z: dyn.step(z, u), x), atol=1e-8)
    B = dyn.input_jacobian(x, u)
    np.testing.assert_allclose(B, _fd_jacobian(lambda v: dyn.step(x, v), u), atol=1e-8)
    np.testing.assert_allclose(dyn.residual_jacobian(x, u), J - np.eye(dyn.n_state), atol=1e-14)
    v = rng.normal(size=dyn.n_state)
    np.testing.assert_allclose(dyn.vjp(x, u, v), (J - np.eye(dyn.n_state)).T @ v, atol=1e-12)
    # The torch path gives the same numbers.
    _, a_t = dyn.torch_residual_jacobian(x, u)
    np.testing.assert_allclose(a_t[0].numpy(), J - np.eye(dyn.n_state), atol=1e-12)


def test_jacobian_is_gate_times_circulant_at_shift_init():
    net = WaveRNN(1, 1, n_neurons=6, n_channels=2, seed=0).double()
    with torch.no_grad():
        net.kernel_bias.zero_()
    dyn = dynamics(net)
    x = np.abs(np.random.default_rng(0).normal(size=12)) + 0.1
    J = dyn.jacobian(x, [0.0])
    # Every unit is active, so J is the permutation itself: all |λ| = 1.
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(J)), 1.0, atol=1e-10)
    assert np.array_equal(J, circulant_matrix(net.kernel.detach().numpy(), 6))


def test_irnn_dynamics_and_bad_arguments():
    dyn = dynamics(IRNN(2, 5, 1, seed=0))
    assert isinstance(dyn, ReLUMapDynamics)
    np.testing.assert_array_equal(dyn.W, np.eye(5))
    with pytest.raises(ValueError, match="kind"):
        dynamics(IRNN(2, 5, 1), kind="ode")
    with pytest.raises(ValueError, match="kind"):
        dynamics(WaveRNN(2, 1, n_neurons=4, n_channels=1), kind="ode")
    with pytest.raises(ValueError, match="kernel"):
        circulant_matrix(np.zeros((2, 3, 3)), 4)
    with pytest.raises(ValueError, match="n_neurons"):
        circulant_matrix(np.zeros((2, 2, 3)), 0)
    with pytest.raises(ValueError, match="W_in"):
        ReLUMapDynamics(W=np.eye(3), W_in=np.zeros((2, 1)))
