"""The 3-bit flip-flop: trained networks have exactly the 27 fixed points of a cube.

8 stable points (the corners: one per stored bit pattern) and saddles with 1, 2 and
3 unstable modes (12 edges, 6 faces, 1 centre), for a rate RNN, torch.nn.RNN, GRU
and LSTM alike.
"""

import itertools

import numpy as np
import pytest

from neurodyn.analysis import find_fixed_points
from neurodyn.dynamics import dynamics as fps_dynamics

CUBE = {"stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1}


@pytest.mark.parametrize("name", ["rate", "rnn", "gru", "lstm"])
def test_flipflop_has_the_cube_of_fixed_points(flipflop, name):
    net = flipflop(name)
    assert net.fit.history[-1]["val_accuracy"] > 0.9
    fps = find_fixed_points(net.model, None, net.initial_states, progress=False)
    roots = fps.roots
    counts = {k: v for k, v in roots.summary().items() if k not in ("slow", "failed")}
    assert counts == CUBE
    assert len(roots) == 27 and np.all(roots.n_marginal == 0)
    # Every root is exact to rounding (the bar: q below 1e-20).
    assert np.max(roots.q) < 1e-20
    # The stable points are the memories: their read-outs carry all 8 sign patterns.
    signs = np.sign(net.readout(roots.x[roots.stability == "stable"]))
    assert {tuple(s) for s in signs} == set(itertools.product([-1.0, 1.0], repeat=3))
    # A saddle with k unstable modes has k undecided bits: the centre is the point
    # whose read-out is closest to zero.
    mags = np.abs(net.readout(roots.x)).max(axis=1)
    assert roots.stability[np.argmin(mags)] == "unstable_3"


@pytest.mark.parametrize("name", ["rate", "rnn", "gru", "lstm"])
def test_flipflop_backends_find_the_reference_points(flipflop, name, same_as_reference):
    """Every backend that serves the network finds the plain reference solver's 27
    points, with the same stability and eigenvalues."""
    net = flipflop(name)
    x0 = net.initial_states
    for backend in ("cpp", "numpy", "torch"):
        fps = find_fixed_points(net.model, None, x0, backend=backend, progress=False)
        assert fps.info["backend"] == backend and len(fps.roots) == 27
        same_as_reference(fps_dynamics(net.model), None, x0, fps)


def test_flipflop_adam_finds_the_same_points(flipflop):
    """Adam converges on this network and finds the same 27 points, less precisely."""
    net = flipflop("rnn")
    newton = find_fixed_points(net.model, None, net.initial_states, progress=False)
    adam = find_fixed_points(net.model, None, net.initial_states, method="adam", progress=False)
    assert adam.summary() == newton.summary()
    for x in adam.roots.x:
        # q < 1e-12 means |r| < 1.5e-6; near these well-conditioned roots that puts
        # Adam's points within ~1e-5 of Newton's.
        assert np.min(np.linalg.norm(newton.roots.x - x, axis=1)) < 1e-4
    assert np.median(adam.candidates.n_iter) > 10 * np.median(newton.candidates.n_iter)
