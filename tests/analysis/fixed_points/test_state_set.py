"""Candidates that leave the state set the model can reach are stopped and reported.

A GRU's state stays in [-1, 1] (h' = (1 - z) n + z h, n = tanh(...)), a tanh RNN's
too, a ReLU RNN's in [0, inf); no fixed point lies outside. Newton candidates that
wander off (failed GRU candidates were seen at |h| = 28 to 195) end as
``failed``/``left_state_set`` in every solver, the plain reference included, while
roots on the boundary (silent ReLU units, saturated tanh units) are kept.
"""

import numpy as np
import pytest
import torch

from neurodyn.analysis import SolverOptions, cluster, find_fixed_points
from neurodyn.analysis.fixed_points.outcomes import LEFT_STATE_SET, ROOT
from neurodyn.analysis.fixed_points.reference import solve_reference
from neurodyn.dynamics import RateDynamics, TorchCellDynamics, dynamics


def excursion(dyn, x):
    lower, upper = dyn.state_bounds()
    return np.max(np.maximum(np.maximum(lower - x, x - upper), 0.0), axis=1)


def test_state_bounds_of_each_model():
    torch.manual_seed(0)
    gru, lstm = dynamics(torch.nn.GRUCell(2, 3)), dynamics(torch.nn.LSTMCell(2, 3))
    rnn, relu = (
        dynamics(torch.nn.RNNCell(2, 3)),
        dynamics(torch.nn.RNNCell(2, 3, nonlinearity="relu")),
    )
    for dyn, lower, upper in (
        (gru, [-1.0] * 3, [1.0] * 3),
        (rnn, [-1.0] * 3, [1.0] * 3),
        (relu, [0.0] * 3, [np.inf] * 3),
        (lstm, [-1.0] * 3 + [-np.inf] * 3, [1.0] * 3 + [np.inf] * 3),  # h bounded, c not
    ):
        lo, hi = dyn.state_bounds()
        np.testing.assert_array_equal(lo, lower)
        np.testing.assert_array_equal(hi, upper)
    # The sets are invariant: one step of each map from anywhere in its box stays in it.
    rng = np.random.default_rng(0)
    for dyn in (gru, rnn, relu, lstm):
        lo, hi = dyn.state_bounds()
        x = np.clip(rng.normal(0, 3, (500, dyn.n_state)), lo, hi)
        step = dyn.step(x, rng.normal(0, 3, (500, 2)))
        assert np.all((step >= lo) & (step <= hi))
    rate = RateDynamics(W=np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    assert rate.state_bounds() is None  # the rate state (an input current) is unbounded


@pytest.fixture(scope="module")
def wandering_gru():
    """A GRU with strong recurrence at zero input: without the state set, most Newton
    candidates from the box drift far outside it and fail there."""
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 12)
    with torch.no_grad():
        cell.weight_hh.mul_(8.0)
    x0 = np.random.default_rng(0).uniform(-1, 1, (256, 12))
    return dynamics(cell), x0


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_candidates_that_wander_off_are_stopped(wandering_gru, monkeypatch, backend):
    dyn, x0 = wandering_gru
    fps = find_fixed_points(dyn, np.zeros(3), x0, backend=backend, progress=False)
    c = fps.candidates
    left = c.reason == "left_state_set"
    assert np.sum(left) > 100 and fps.summary()["left_state_set"] == np.sum(left)
    assert fps.info["failures"]["left_state_set"] == np.sum(left)
    # Each was stopped once it was state_margin outside the box (its start was inside),
    # within one iteration's move of that line: a Newton step of at most max_step and
    # chord steps each at most chord_ratio (3/4) of the one before, so 4 max_step in
    # all. No root or slow point lies outside.
    opts = fps.info["options"]
    e = excursion(dyn, c.x)
    assert np.all(e[left] > opts["state_margin"])
    assert np.all(e[left] <= opts["state_margin"] + 4 * opts["max_step"])
    assert np.all(e[c.status != "failed"] <= opts["state_tol"])
    # Without the state set the same candidates drift on, far outside, for many more
    # iterations, and fail anyway; the distinct roots are the same.
    monkeypatch.setattr(type(dyn), "state_bounds", lambda self: None)
    free = find_fixed_points(dyn, np.zeros(3), x0, backend=backend, progress=False)
    assert np.all(free.candidates.status[left] == "failed")
    drift = np.abs(free.candidates.x[left]).max(axis=1)
    assert np.median(drift) > 5.0 and np.max(drift) > 20.0
    assert free.candidates.n_iter.sum() > 3 * c.n_iter.sum()
    assert len(free.roots) == len(fps.roots) >= 1
    np.testing.assert_allclose(
        np.sort(free.roots.x, axis=0), np.sort(fps.roots.x, axis=0), atol=1e-10
    )


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_the_reference_stops_the_same_wanderers(wandering_gru, backend):
    """The plain reference solver ends where the fast paths end: most candidates leave
    the state set in both (the paths to that line differ, so not necessarily the
    same ones), and the roots found are the same."""
    dyn, x0 = wandering_gru
    fast = find_fixed_points(dyn, np.zeros(3), x0, backend=backend, progress=False)
    U = np.zeros((len(x0), 3))
    x, q, _, code = solve_reference(dyn, x0, U, SolverOptions(**fast.info["options"]))
    left = code == LEFT_STATE_SET
    n_fast = fast.summary()["left_state_set"]
    assert abs(np.sum(left) - n_fast) <= 0.1 * n_fast
    e = excursion(dyn, x)
    assert np.all(e[left] > fast.info["options"]["state_margin"])
    root = code == ROOT
    _, reps = cluster(x[root], q[root], fast.info["unique_tol"] * fast.info["state_scale"])
    assert len(reps) == len(fast.roots) >= 1
    for xr in x[root][reps]:
        assert np.min(np.linalg.norm(fast.roots.x - xr, axis=1)) < 1e-6 * (1 + np.linalg.norm(xr))


def test_a_tiny_margin_stops_more_candidates(wandering_gru):
    """state_margin is what separates an overshooting iterate from a wandering one."""
    dyn, x0 = wandering_gru
    base = find_fixed_points(dyn, np.zeros(3), x0, progress=False)
    tight = SolverOptions(**{**base.info["options"], "state_margin": 1e-6})
    strict = find_fixed_points(dyn, np.zeros(3), x0, options=tight, progress=False)
    n_base = base.summary()["left_state_set"]
    assert strict.summary()["left_state_set"] > n_base
    e = excursion(dyn, strict.candidates.x)
    assert np.all(e[strict.candidates.reason == "left_state_set"] > 1e-6)


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_roots_on_the_boundary_are_kept(backend):
    """Silent ReLU units sit exactly on the bound 0 and tanh units driven far into
    saturation exactly on 1.0 or -1.0 (tanh rounds to ±1 beyond 19): such roots are
    roots, and candidates that start outside the box (noise around visited states) may
    move in."""
    rng = np.random.default_rng(0)
    d = 8
    W = 0.5 * rng.normal(size=(d, d)) / np.sqrt(d)  # contracting: one root
    b = rng.normal(size=d)
    b[:3] = -3.0  # three silent units
    relu = TorchCellDynamics(
        "rnn", weight_ih=np.ones((d, 1)), weight_hh=W, bias_hh=b, nonlinearity="relu"
    )
    x0 = rng.normal(0, 1, (64, d))
    assert np.mean(excursion(relu, x0) > 0) > 0.9  # most start outside
    fps = find_fixed_points(relu, [0.0], x0, backend=backend, progress=False)
    assert set(fps.candidates.status) == {"root"} and len(fps) == 1
    assert np.all(fps.x[0, :3] == 0.0)
    np.testing.assert_allclose(fps.x[0], np.maximum(W @ fps.x[0] + b, 0.0), atol=1e-14)

    b2 = 0.3 * rng.normal(size=d)
    b2[0], b2[1] = 40.0, -40.0  # saturated units
    tanh = TorchCellDynamics("rnn", weight_ih=np.ones((d, 1)), weight_hh=W, bias_hh=b2)
    fps = find_fixed_points(
        tanh, [0.0], rng.uniform(-1, 1, (64, d)), backend=backend, progress=False
    )
    assert set(fps.candidates.status) == {"root"} and len(fps) == 1
    assert fps.x[0, 0] == 1.0 and fps.x[0, 1] == -1.0
