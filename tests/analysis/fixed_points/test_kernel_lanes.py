"""The compiled kernel's lanes: candidates carried in lockstep give the bits of one at a
time, and the kernel's own tanh is within its stated error of the exact function."""

import pickle

import numpy as np
import pytest
import torch

from neurodyn.analysis import find_fixed_points
from neurodyn.analysis.fixed_points import kernel as kernels
from neurodyn.dynamics import RateDynamics, dynamics
from neurodyn.dynamics.protocol import KernelSpec


def lane_counts():
    """Every lane count this processor runs: 1, then its vectors' widths up to the widest."""
    return [n for n in (1, 4, 8) if n <= kernels.widest_lanes()]


def rate(nonlinearity, kind, d=10, gain=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return RateDynamics(
        W=rng.normal(0, gain / np.sqrt(d), (d, d)),
        W_in=rng.normal(size=(d, 2)),
        bias=0.3 * rng.normal(size=d),
        tau=rng.uniform(10, 50, d),
        dt=5.0,
        nonlinearity=nonlinearity,
        kind=kind,
    )


def cell(cls, gain=2.0, seed=0, **kw):
    torch.manual_seed(seed)
    module = cls(2, 6, **kw)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "weight_hh" in name:
                p.mul_(gain * 2.5)  # PyTorch's init is small: push into the multi-stable regime
    return dynamics(module)


# One system of every model code and nonlinearity the kernel evaluates. The GRU's
# state is bounded (|h| <= 1), so its candidates also pass the state-set checks.
SYSTEMS = {
    "rate_tanh_ode": lambda: rate("tanh", "ode"),
    "rate_rectified_tanh_map": lambda: rate("rectified_tanh", "map"),
    "rate_relu_ode": lambda: rate("relu", "ode", gain=0.8),
    "rate_softplus_map": lambda: rate("softplus", "map", gain=0.8),
    "rnn_tanh": lambda: cell(torch.nn.RNNCell),
    "gru": lambda: cell(torch.nn.GRUCell),
    "lstm": lambda: cell(torch.nn.LSTMCell),
}


#: The kernel itself, whatever a test has put in its place.
SOLVE = kernels.solve


def kernel_calls(monkeypatch, dyn, n=117, seed=1):
    """The arguments of every kernel call of a search from n initial states (two
    passes: a sample, then the rest with the sample's roots known)."""
    calls = []

    def record(spec, C, group, X, opts, known, bounds, threads, out=None, lanes=0):
        calls.append((spec, C.copy(), group.copy(), X.copy(), opts, known, bounds))
        return SOLVE(spec, C, group, X, opts, known, bounds, threads, out, lanes)

    monkeypatch.setattr(kernels, "solve", record)
    x0 = np.random.default_rng(seed).normal(0, 1.5, (n, dyn.n_state))
    fps = find_fixed_points(dyn, np.array([0.2, -0.1]), x0, progress=False, threads=1)
    assert fps.info["share_roots"] and len(calls) == 2
    return calls


def run(call, lanes, threads=1):
    """One kernel call on a copy of its initial states: (x, q, n_iter, status, root)."""
    spec, C, group, X, opts, known, bounds = call
    x = X.copy()
    return (x, *SOLVE(spec, C, group, x, opts, known, bounds, threads, lanes=lanes))


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_every_lane_count_gives_the_bits_of_one_candidate_at_a_time(name, monkeypatch):
    """Each lane's arithmetic is a lone candidate's, in the same order, whatever the
    others do: so every lane count ends every candidate at the same bits, with the same
    iterations, status and known root. The batches (15 and 102 candidates) are not
    multiples of the lane counts, and their candidates end after different numbers of
    iterations, so lanes empty and refill at different times."""
    calls = kernel_calls(monkeypatch, SYSTEMS[name]())
    for call in calls:
        one = run(call, 1)
        for lanes in lane_counts()[1:]:
            for a, b in zip(one, run(call, lanes), strict=True):
                np.testing.assert_array_equal(a, b)
    first, rest = (run(call, 1) for call in calls)
    assert np.ptp(np.concatenate([first[2], rest[2]])) > 0  # lanes end at different iterations
    assert np.any(rest[4] >= 0)  # some candidates stopped at the sample's roots


def test_threads_and_lanes_together_give_the_same_bits(monkeypatch):
    """Two threads share one counter of candidates; which thread and lane takes which
    candidate changes nothing."""
    calls = kernel_calls(monkeypatch, rate("tanh", "ode", d=12, gain=2.5), n=300)
    for call in calls:
        for a, b in zip(run(call, 1), run(call, lane_counts()[-1], threads=2), strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_kernel_takes_any_float64_array(monkeypatch):
    """An array unpickled (or made by another library) has a float64 dtype object of its
    own, equal to NumPy's but not the same object: the kernel takes it all the same."""
    spec, C, group, X, opts, known, bounds = kernel_calls(monkeypatch, rate("tanh", "ode"))[0]
    x = pickle.loads(pickle.dumps(X))
    assert x.dtype == np.float64 and x.dtype is not np.dtype(np.float64)
    SOLVE(spec, C, group, x, opts, known, bounds, 1)
    np.testing.assert_array_equal(x, run((spec, C, group, X, opts, known, bounds), 1)[0])


def test_lanes_must_be_a_vector_width_of_this_processor(monkeypatch):
    call = kernel_calls(monkeypatch, rate("tanh", "ode"), n=20)[0]
    for bad in (2, 3, 16, 2 * lane_counts()[-1]):
        with pytest.raises(ValueError, match="lanes"):
            run(call, bad)


def elman_tanh(c):
    """tanh(c) as the kernel computes it: the Elman residual tanh(W x + c) - x at x = 0
    with W = 0 (exactly tanh(c), since 0 * x + c and tanh(c) - 0 round to themselves)."""
    c = np.ascontiguousarray(c, dtype=np.float64)[:, None]
    spec = KernelSpec(1, 0, np.zeros((1, 1)), np.zeros(1), np.ones(1))
    r, _ = kernels.evaluate(spec, c, np.zeros_like(c))
    return r[:, 0]


@pytest.mark.skipif(
    np.finfo(np.longdouble).eps > 1e-18, reason="no extended precision for the exact tanh"
)
def test_the_kernels_tanh_is_within_two_ulp():
    """The rational approximations behind the kernel's tanh err by under 3e-17
    relative (Cephes' bounds), and the few roundings around them add at most about one
    ulp: so within 2 ulp of tanh, computed exactly enough in extended precision (64-bit
    significand, 2^-11 ulp of a double). Both branches (|x| below and above 0.625),
    tiny and saturated arguments, and the sign are covered."""
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-0.7, 0.7, 20000),
            rng.uniform(-25.0, 25.0, 20000),
            rng.uniform(-1.0, 1.0, 2000) * 2.0 ** -rng.integers(1, 60, 2000),
            [0.625, -0.625, np.nextafter(0.625, 0.0), 19.0, 19.1, 40.0, 1e300, 1e-310],
        ]
    )
    t = elman_tanh(x)
    exact = np.tanh(x.astype(np.longdouble))
    ulp = np.spacing(np.abs(exact.astype(np.float64)))
    err = np.abs(t.astype(np.longdouble) - exact) / ulp
    assert err.max() <= 2.0
    assert np.all(np.abs(t) <= 1.0) and np.array_equal(np.sign(t), np.sign(x))


def test_the_kernels_tanh_at_special_values():
    """tanh(0) = 0, the limits ±1 at ±inf and wherever they round to them, NaN stays NaN
    (a diverged candidate must show a non-finite q)."""
    t = elman_tanh(np.array([0.0, np.inf, -np.inf, np.nan, 30.0, -30.0]))
    np.testing.assert_array_equal(t[[0, 1, 2, 4, 5]], [0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.isnan(t[3])
