"""Networks trained by the suite on the 3-bit flip-flop, once per session.

Small (16–32 units), seeded, and trained just long enough that each has the cube's
27 fixed points; 500-ms trials keep training to a few seconds per network.
"""

import numpy as np
import pytest
import torch

import neurodyn
from neurodyn.analysis import sample_initial_states
from neurodyn.rnn_models import RateRNN, TorchRNN
from neurodyn.tasks import FlipFlop

#: name -> (constructor, training steps)
FLIPFLOP_NETWORKS = {
    "rate": (lambda: RateRNN(3, 32, 3, dt=10.0, tau=50.0, seed=0), 400),
    "rnn": (lambda: TorchRNN("rnn", 3, 16, 3, dt=10.0, seed=0), 200),
    "gru": (lambda: TorchRNN("gru", 3, 16, 3, dt=10.0, seed=0), 200),
    "lstm": (lambda: TorchRNN("lstm", 3, 16, 3, dt=10.0, seed=0), 200),
}


class FlipFlopNetwork:
    """A trained network, its evaluation trajectories and 1024 standard initial states."""

    def __init__(self, name):
        make, steps = FLIPFLOP_NETWORKS[name]
        self.name = name
        self.model = make()
        task = FlipFlop(dt=10.0, timing={"trial": 500.0})
        self.fit = neurodyn.fit(
            self.model, task, n_steps=steps, lr=1e-2, seed=0, val_every=steps, progress=False
        )
        self.evaluation = neurodyn.simulate(self.model, FlipFlop(dt=10.0), n_trials=64, seed=1)
        self.initial_states = sample_initial_states(self.evaluation, 1024, noise_scale=0.5, seed=0)

    def readout(self, x):
        """The network's outputs at states x (n, n_state)."""
        with torch.no_grad():
            x = torch.as_tensor(x, dtype=torch.float32)
            if isinstance(self.model, RateRNN):
                return (self.model.phi(x) @ self.model.W_out.T + self.model.bias_out).numpy()
            return self.model.readout(x[:, : self.model.n_hidden]).numpy()


@pytest.fixture(scope="session")
def flipflop():
    """``flipflop(name)`` returns the trained :class:`FlipFlopNetwork` (cached)."""
    cache = {}

    def get(name):
        if name not in cache:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # one thread: bitwise-reproducible training
            try:
                cache[name] = FlipFlopNetwork(name)
            finally:
                torch.set_num_threads(threads)
        return cache[name]

    return get


@pytest.fixture
def rng():
    return np.random.default_rng(0)
