"""Every model takes an initial state of shape (n,) or (trial, n), and refuses others."""

import pytest
import torch

from neurodyn.rnn_models import IRNN, RateRNN, SparseComboNet, TimescaleRNN, TorchRNN, WaveRNN

MODELS = {
    "rate": lambda: RateRNN(2, 6, 1, seed=0),
    "gru": lambda: TorchRNN("gru", 2, 6, 1, seed=0),
    "lstm": lambda: TorchRNN("lstm", 2, 3, 1, seed=0),  # state [h, c]: 6 values
    "timescale": lambda: TimescaleRNN(2, 6, 2, seed=0),
    "wave": lambda: WaveRNN(2, 1, n_neurons=3, n_channels=2, seed=0),
    "irnn": lambda: IRNN(2, 6, 1, seed=0),
    "combo": lambda: SparseComboNet(2, 6, 1, n_modules=2, seed=0),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_initial_state_shapes(name):
    net = MODELS[name]()
    u = torch.randn(3, 4, 2, generator=torch.Generator().manual_seed(0))
    h0 = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        batch = net(u, initial_state=h0, noise=False).outputs
        # A shared state (n,) is the same as that state given to every trial.
        shared = net(u, initial_state=h0[1], noise=False).outputs
        single = net(u[1:2], initial_state=h0[1:2], noise=False).outputs
    torch.testing.assert_close(batch[1:2], single)
    torch.testing.assert_close(shared[1:2], single)
    for bad in (torch.zeros(5), torch.zeros(2, 6), torch.zeros(3, 6, 1)):
        with pytest.raises(ValueError, match=r"initial_state has shape .*expected \(6,\) or \(3, 6\)"):
            net(u, initial_state=bad, noise=False)
