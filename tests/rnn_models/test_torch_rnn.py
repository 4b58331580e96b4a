"""TorchRNN's input and state noise: what it adds, reproducibly, and nothing when off."""

import math

import pytest
import torch

from neurodyn.rnn_models import TorchRNN, build_model


def _gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_state_noise_is_added_after_each_step(cell):
    """Stepping the cell by hand and adding the same draws gives the noisy run exactly."""
    net = TorchRNN(cell, 2, 5, 1, noise_rec=0.3, seed=0).double()
    u = torch.randn(3, 6, 2, dtype=torch.float64, generator=_gen(1))
    out = net(u, generator=_gen(7))
    g = _gen(7)
    state, hs = None, []
    for t in range(u.shape[1]):
        _, state = net.core(u[:, t : t + 1], state)
        h = state[0] if cell == "lstm" else state
        h = h + 0.3 * torch.randn(h.shape, generator=g, dtype=h.dtype)
        state = (h, state[1]) if cell == "lstm" else h
        hs.append(h[0])
    torch.testing.assert_close(out.rates, torch.stack(hs, 1), rtol=0, atol=0)
    torch.testing.assert_close(out.outputs, net.readout(out.rates), rtol=0, atol=0)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_input_noise_scales_with_the_time_step(cell):
    net = TorchRNN(cell, 2, 4, 1, noise_in=0.5, dt=4.0, seed=0).double()
    u = torch.zeros(2, 5, 2, dtype=torch.float64)
    xi = torch.randn(u.shape, generator=_gen(3), dtype=torch.float64)
    noisy = net(u, generator=_gen(3))
    by_hand = net(u + 0.5 / math.sqrt(4.0) * xi, noise=False)
    torch.testing.assert_close(noisy.states, by_hand.states, rtol=0, atol=0)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_noise_off_is_the_deterministic_network(cell):
    noisy = TorchRNN(cell, 2, 4, 1, noise_in=0.2, noise_rec=0.2, seed=0)
    plain = TorchRNN(cell, 2, 4, 1, seed=0)
    u = torch.randn(2, 7, 2, generator=_gen(0))
    torch.testing.assert_close(noisy(u, noise=False).states, plain(u).states, rtol=0, atol=0)
    a, b = noisy(u, generator=_gen(5)).states, noisy(u, generator=_gen(5)).states
    torch.testing.assert_close(a, b, rtol=0, atol=0)  # the generator decides the draws
    assert not torch.equal(a, noisy(u, generator=_gen(6)).states)


def test_noise_options_are_validated_and_stored():
    with pytest.raises(ValueError, match="noise_rec"):
        TorchRNN("gru", 2, 4, 1, noise_rec=-0.1)
    net = build_model("lstm", 2, 4, 1, noise_in=0.1, noise_rec=0.2)
    assert net.config()["noise_in"] == 0.1 and net.config()["noise_rec"] == 0.2
