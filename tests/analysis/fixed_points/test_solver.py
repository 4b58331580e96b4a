"""The solver: every backend against the plain reference on outcomes, statuses, bad input."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from neurodyn.analysis import SolverOptions, cluster, find_fixed_points
from neurodyn.analysis.fixed_points import kernel as kernels
from neurodyn.analysis.fixed_points.outcomes import ROOT, SLOW
from neurodyn.dynamics import FunctionDynamics, RateDynamics, dynamics
from neurodyn.dynamics.nonlinearities import PHI_CURVATURE
from neurodyn.dynamics.ops import NUMPY

EPS = np.finfo(np.float64).eps


def random_rate(nonlinearity, kind, d=10, gain=2.0, seed=0):
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


def random_cell(cls, gain=2.0, seed=0, **kw):
    torch.manual_seed(seed)
    cell = cls(2, 6, **kw)
    with torch.no_grad():
        for name, p in cell.named_parameters():
            if "weight_hh" in name:
                p.mul_(gain * 2.5)  # PyTorch's init is small: push into the multi-stable regime
    return dynamics(cell)


SYSTEMS = {
    # ReLU and softplus rates are unbounded: keep their gain below the runaway regime.
    **{
        f"rate_{f}_{k}": (lambda f=f, k=k, g=g: random_rate(f, k, gain=g))
        for f, g in (("tanh", 2.0), ("relu", 0.8), ("softplus", 0.8), ("rectified_tanh", 2.0))
        for k in ("ode", "map")
    },
    "rnn_tanh": lambda: random_cell(torch.nn.RNNCell),
    "rnn_relu": lambda: random_cell(torch.nn.RNNCell, gain=0.6, nonlinearity="relu"),
    "gru": lambda: random_cell(torch.nn.GRUCell),
    "lstm": lambda: random_cell(torch.nn.LSTMCell),
    # Larger networks.
    "gru_large": lambda: dynamics(torch.nn.GRU(2, 40)),
    "lstm_large": lambda: dynamics(torch.nn.LSTM(2, 30)),
    "rate_tanh_large": lambda: random_rate("tanh", "ode", d=60, gain=1.5),
}


def seeds(dyn, n=120, scale=1.5, seed=1):
    return np.random.default_rng(seed).normal(0, scale, (n, dyn.n_state))


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_compiled_kernel_evaluates_the_model(name):
    """The kernel's residuals and Jacobians equal the adapters' (the reference formulas)."""
    dyn = SYSTEMS[name]()
    x = seeds(dyn, 7)
    c = np.ascontiguousarray(dyn._prepare(NUMPY, np.random.default_rng(2).normal(size=(7, 2))))
    r, a = kernels.evaluate(dyn.kernel_spec(), c, x)
    r_ref, a_ref = dyn._residual_jacobian(NUMPY, x, c)
    # Same formulas, different summation order: agreement to a few ulps of O(1) values.
    np.testing.assert_allclose(r, r_ref, atol=1e-13)
    np.testing.assert_allclose(a, a_ref, atol=1e-13)


@pytest.mark.parametrize("name", list(SYSTEMS))
@pytest.mark.parametrize("backend", ["cpp", "numpy", "torch"])
def test_backends_find_the_reference_roots(name, backend, same_as_reference):
    """Every fast path ends where the plain reference solver ends: the same distinct
    roots with the same stability (however each gets there)."""
    dyn = SYSTEMS[name]()
    x0 = seeds(dyn)
    u = np.array([0.2, -0.1])
    fast = find_fixed_points(dyn, u, x0, backend=backend, progress=False)
    assert fast.info["backend"] == backend
    same_as_reference(dyn, u, x0, fast)


def test_every_root_is_a_root_and_nothing_is_dropped():
    dyn = random_rate("tanh", "ode", d=12, gain=2.5)
    x0 = seeds(dyn, 300, scale=3.0)
    fps = find_fixed_points(dyn, None, x0, progress=False)
    c = fps.candidates
    assert len(c) == 300 and np.array_equal(c.x_init, x0)
    assert set(np.unique(c.status)) <= {"root", "slow", "failed"}
    # Every non-failed candidate belongs to a fixed point within the de-duplication radius.
    ok = c.status != "failed"
    assert np.all(c.fixed_point[ok] >= 0) and np.all(c.fixed_point[~ok] == -1)
    tol = fps.info["unique_tol"] * fps.info["state_scale"]
    assert np.all(np.linalg.norm(c.x[ok] - fps.x[c.fixed_point[ok]], axis=1) <= tol + 1e-12)
    assert fps.n_candidates.sum() == ok.sum()
    # Each representative has the lowest q of its cluster.
    for k in range(len(fps)):
        assert fps.q[k] == c.q[c.fixed_point == k].min()
    # The speed is the residual norm in state units per ms.
    r = dyn.residual(fps.x)
    np.testing.assert_allclose(fps.speed, np.linalg.norm(r, axis=1), rtol=1e-10, atol=1e-300)
    assert np.all(np.linalg.norm(dyn.residual(fps.roots.x), axis=1) < 1e-10)


def test_slow_point_is_reported_separately():
    """ẋ = μ + x² (μ > 0) has no root; q = ½(μ + x²)² has its minimum μ²/2 at x = 0."""
    mu = 0.01
    dyn = FunctionDynamics(
        lambda x, u: mu + x**2, n_state=1, kind="ode", jacobian=lambda x, u: 2 * x[:, :, None]
    )
    x0 = np.linspace(-1, 1, 21)[:, None] + 0.003
    for backend in ("numpy", "torch"):
        fps = find_fixed_points(dyn, None, x0, backend=backend, progress=False)
        assert list(fps.status) == ["slow"]
        assert abs(fps.x[0, 0]) < 1e-6
        np.testing.assert_allclose(fps.q[0], mu**2 / 2, rtol=1e-9)
        assert fps.summary()["slow"] == 1 and "stable" not in fps.summary()


def test_vanishing_residual_without_root_is_not_a_root():
    """ẋ = eˣ: q → 0 as x → −∞ but there is no root; candidates must fail (singular),
    not be reported as roots because q fell below tol_q."""
    dyn = FunctionDynamics(
        lambda x, u: np.exp(x), n_state=1, kind="ode", jacobian=lambda x, u: np.exp(x)[:, :, None]
    )
    fps = find_fixed_points(
        dyn, None, np.linspace(-2, 2, 9)[:, None], backend="numpy", progress=False
    )
    assert len(fps.roots) == 0
    assert set(fps.candidates.status) == {"failed"}
    assert set(fps.candidates.reason) <= {"singular", "max_iter"}


def test_divergence_and_nan_are_per_candidate_statuses():
    """ẋ = x/(1 + x²) is NaN outside |x| < 4 here; the only root is 0. Newton pushes
    candidates with |x| > 1 outwards, so they leave the box (diverged) or hit NaN."""

    def f(x, u):
        return np.where(np.abs(x) < 4, x / (1 + x**2), np.nan)

    dyn = FunctionDynamics(f, n_state=1, kind="ode")
    x0 = np.array([[0.5], [-0.3], [1.5], [3.0], [5.0]])
    opts = SolverOptions(x_max=3.5)
    for backend in ("numpy", "torch"):
        fps = find_fixed_points(dyn, None, x0, backend=backend, options=opts, progress=False)
        c = fps.candidates
        assert list(c.status[:2]) == ["root", "root"]
        assert np.all(np.abs(c.x[:2]) < 1e-12)
        assert list(c.status[2:]) == ["failed"] * 3
        assert c.reason[4] == "diverged"  # starts where the residual is NaN
        assert len(fps) == 1


def test_singular_jacobian_is_a_status_not_a_crash():
    """f(x) = x² + 1 - 1 has a double root (singular Jacobian); a seed exactly there has
    A = 0 and q = 0: no error, one located root or a singular failure, never a crash."""
    dyn = FunctionDynamics(
        lambda x, u: x**2, n_state=1, kind="ode", jacobian=lambda x, u: 2 * x[:, :, None]
    )
    fps = find_fixed_points(
        dyn, None, np.array([[0.0], [1.0], [-0.5]]), backend="numpy", progress=False
    )
    c = fps.candidates
    assert c.status[0] == "failed" and c.reason[0] == "singular"
    assert list(c.status[1:]) == ["root", "root"] and np.all(np.abs(c.x[1:]) < 1e-7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_states": None}, "initial_states is required"),
        ({"initial_states": np.full((3, 4), np.nan)}, "initial_states contains NaN"),
        ({"initial_states": np.zeros((3, 5))}, "n_state=4"),
        ({"inputs": np.zeros(3)}, "inputs has 3 entries"),
        ({"inputs": np.zeros((2, 2))}, "inputs has shape"),
        ({"inputs": [np.nan, 0.0]}, "inputs contains NaN"),
        ({"initial_states": np.zeros((0, 4))}, r"initial_states has shape \(0, 4\)"),
        ({"method": "adma"}, "Did you mean 'adam'"),
        ({"backend": "cuda"}, "backend='cuda' is not recognised"),
        ({"backend": "numba"}, 'use backend="cpp"'),
        ({"method": "adam", "backend": "cpp"}, 'backend="cpp" serves method="newton" only'),
        ({"threads": 0}, "threads must be"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"unique_tol": -1.0}, "unique_tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"conditions": [0, 1]}, "conditions has shape"),
        ({"share_roots": 1}, "share_roots must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    dyn = dynamics(torch.nn.GRUCell(2, 4))
    args = {"inputs": None, "initial_states": np.zeros((3, 4)), **kwargs}
    with pytest.raises(ValueError, match=message):
        find_fixed_points(
            dyn, args.pop("inputs"), args.pop("initial_states"), progress=False, **args
        )


def test_the_thread_count_changes_nothing():
    """Each candidate is solved alone, by the same operations on any thread: one thread
    or two give the same result to the bit (whichever thread takes which block)."""
    dyn = random_rate("tanh", "map", d=10, gain=3.0, seed=0)
    x0 = seeds(dyn, 400, scale=1.0, seed=4)
    one = find_fixed_points(dyn, None, x0, threads=1, progress=False)
    two = find_fixed_points(dyn, None, x0, threads=2, progress=False)
    assert (one.info["threads"], two.info["threads"]) == (1, 2)
    assert one.info["backend"] == two.info["backend"] == "cpp"
    for name in ("x", "q", "n_iter", "status", "fixed_point"):
        np.testing.assert_array_equal(getattr(one.candidates, name), getattr(two.candidates, name))


def test_without_the_compiled_extension_numpy_runs_and_says_so_once(monkeypatch):
    """A build without a compiler: "auto" falls back to the NumPy reference with one
    warning per process, and asking for "cpp" says why it cannot run."""
    import functools

    from neurodyn import backends

    real = backends._load

    def load(name):
        return (None, "ImportError: built without a compiler") if name == "_C" else real(name)

    monkeypatch.setattr(backends, "_load", load)
    monkeypatch.setattr(
        backends, "_log_fallback", functools.cache(backends._log_fallback.__wrapped__)
    )
    dyn = random_rate("tanh", "ode", d=6)
    x0 = seeds(dyn, 20)
    with pytest.warns(backends.SlowPathWarning) as record:
        first = find_fixed_points(dyn, None, x0, progress=False)
        second = find_fixed_points(dyn, None, x0, progress=False)
    assert first.info["backend"] == second.info["backend"] == "numpy"
    assert len(record) == 1 and "built without a compiler" in str(record[0].message)
    with pytest.raises(ValueError, match="built without a compiler"):
        find_fixed_points(dyn, None, x0, backend="cpp", progress=False)


def test_compiled_backend_needs_a_kernel():
    dyn = FunctionDynamics(lambda x, u: -x, n_state=2, kind="ode")
    with pytest.raises(ValueError, match="no compiled kernel"):
        find_fixed_points(dyn, None, np.zeros((2, 2)), backend="cpp", progress=False)
    assert find_fixed_points(dyn, None, np.ones((2, 2)), progress=False).info["backend"] == "numpy"


def test_the_kernel_refuses_known_roots_in_another_layout():
    """The kernel reads the known roots without a copy: float64 and C-contiguous, or a
    ValueError naming the array (never a silent misreading)."""
    from neurodyn.analysis.fixed_points.options import KnownRoots

    dyn = random_rate("tanh", "map", d=4)
    x = seeds(dyn, 3, scale=1.0)
    C = np.ascontiguousarray(dyn._prepare(NUMPY, np.zeros((1, 2))))
    args = (dyn.kernel_spec(), C, np.zeros(3, dtype=np.int64))
    radii, gate = np.zeros((2, 2)), np.zeros(2)
    good = KnownRoots(x[:2].copy(), np.zeros(2), np.zeros(2, dtype=np.int64), 0.1, radii, gate)
    kernels.solve(*args, x.copy(), SolverOptions(), good, None, 1)
    for bad in (
        replace(good, x=good.x.astype(np.float32)),
        replace(good, x=np.asfortranarray(good.x)),  # the same values, column-major
        replace(good, group=good.group.astype(np.int32)),
    ):
        with pytest.raises(ValueError, match="known"):
            kernels.solve(*args, x.copy(), SolverOptions(), bad, None, 1)


def test_models_are_accepted_directly():
    from neurodyn.rnn_models import RateRNN

    net = RateRNN(2, 6, 1, dt=10.0, tau=30.0, seed=0)
    fps = find_fixed_points(net, [0.5, 0.0], np.zeros((4, 6)), progress=False)
    assert fps.kind == "ode" and fps.info["backend"] == "cpp" and len(fps.roots) >= 1
    assert all(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_adam_finds_the_same_set(backend):
    """Adam (FixedPointFinder's algorithm) finds the pitchfork's three roots, as Newton
    does, but only to its tolerance q < 1e-12 (Newton polishes to rounding level)."""
    dyn = FunctionDynamics(
        lambda x, u: x - x**3,
        n_state=1,
        kind="ode",
        jacobian=lambda x, u: (1 - 3 * x**2)[:, :, None],
    )
    x0 = np.linspace(-1.6, 1.6, 33)[:, None] + 0.01
    newton = find_fixed_points(dyn, None, x0, progress=False)
    adam = find_fixed_points(dyn, None, x0, method="adam", backend=backend, progress=False)
    assert adam.info["method"] == "adam"
    np.testing.assert_allclose(np.sort(adam.roots.x[:, 0]), [-1, 0, 1], atol=1e-5)
    np.testing.assert_allclose(np.sort(newton.roots.x[:, 0]), [-1, 0, 1], atol=1e-15)
    assert list(adam.roots.stability[np.argsort(adam.roots.x[:, 0])]) == [
        "stable",
        "unstable_1",
        "stable",
    ]
    assert np.max(newton.roots.q) < 1e-28 and np.max(adam.roots.q) < 1e-12
    assert np.all(adam.candidates.n_iter > np.max(newton.candidates.n_iter))


@pytest.mark.parametrize(("d", "gain", "seed"), [(10, 3.0, 0), (40, 1.5, 2)])
@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_chord_steps_find_the_same_roots_with_fewer_factorisations(d, gain, seed, backend):
    """Chord steps reuse each factorisation; they change the cost, not the answer."""
    dyn = random_rate("tanh", "map", d=d, gain=gain, seed=seed)
    x0 = seeds(dyn, 200, scale=1.0, seed=4)
    base = SolverOptions(length=1.0, max_step=2.0)
    kw = {"backend": backend, "share_roots": False, "progress": False}
    newton = find_fixed_points(dyn, None, x0, options=replace(base, chord_steps=0), **kw)
    chord = find_fixed_points(dyn, None, x0, options=base, **kw)
    assert len(chord.roots) == len(newton.roots) >= 3
    for x in chord.roots.x:
        assert np.min(np.linalg.norm(newton.roots.x - x, axis=1)) < 1e-8 * (1 + np.linalg.norm(x))
    assert np.all(chord.roots.q <= 1e-20)
    # n_iter counts factorisations: chord steps replace some of them.
    both = (newton.candidates.status == "root") & (chord.candidates.status == "root")
    assert np.mean(both) > 0.9
    assert chord.candidates.n_iter[both].sum() < 0.9 * newton.candidates.n_iter[both].sum()


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_shared_roots_change_the_cost_not_the_answer(backend):
    """With share_roots, candidates may stop at a root of the first-solved sample once
    the tail bound places their own root within the de-duplication radius of it: each ends within
    that radius of where it would have converged alone, at a root of its own input, and
    the distinct fixed points are the same."""
    dyn = random_rate("tanh", "map", d=10, gain=3.0, seed=0)
    x0 = seeds(dyn, 240, scale=1.0, seed=4)
    u = np.repeat([[0.0, 0.0], [0.3, -0.2]], 120, axis=0)  # two inputs: two sets of roots
    own = find_fixed_points(dyn, u, x0, backend=backend, share_roots=False, progress=False)
    shared = find_fixed_points(dyn, u, x0, backend=backend, progress=False)
    assert shared.info["share_roots"] and not own.info["share_roots"]
    assert len(shared.roots) == len(own.roots) >= 4
    for x, inp in zip(shared.roots.x, shared.roots.inputs, strict=True):
        mine = np.all(own.roots.inputs == inp, axis=1)
        gap = np.min(np.linalg.norm(own.roots.x[mine] - x, axis=1))
        assert gap < 1e-8 * (1 + np.linalg.norm(x))
    c_own, c_sh = own.candidates, shared.candidates
    both = (c_own.status == "root") & (c_sh.status == "root")
    assert np.sum(both) >= 0.97 * np.sum(c_own.status == "root") > 120
    tol = shared.info["unique_tol"] * shared.info["state_scale"]
    assert np.all(np.linalg.norm(c_own.x - c_sh.x, axis=1)[both] <= tol)
    # Every candidate root is a root of its own input: q = ½‖r‖² ≤ tol_q = 1e-20.
    r = dyn.residual(c_sh.x[both], u[both])
    assert np.all(0.5 * np.sum(r**2, axis=1) <= 1e-20)
    # Candidates outside the sample (every 8th) that stopped at a sample root end exactly
    # there; they are many, and they save iterations.
    sample = np.arange(240) % 8 == 0
    stopped = np.array(
        [
            not sample[i]
            and np.any(
                np.all(c_sh.x[sample] == c_sh.x[i], axis=1) & np.all(u[sample] == u[i], axis=1)
            )
            for i in range(240)
        ]
    )
    assert np.mean(stopped[~sample]) > 0.3
    assert c_sh.n_iter[stopped].sum() < c_own.n_iter[stopped].sum()
    # Those copies are not compared again in the de-duplication, yet the clusters are
    # those of every candidate compared with every other, with the same representatives.
    ok = c_sh.status != "failed"
    inputs = np.unique(u, axis=0, return_inverse=True)[1].ravel()
    labels, reps = cluster(
        c_sh.x[ok], c_sh.q[ok], tol, inputs[ok] * 2 + (c_sh.status[ok] == "slow")
    )
    pairs = set(zip(labels.tolist(), c_sh.fixed_point[ok].tolist(), strict=True))
    assert len(pairs) == len(reps) == len(shared)  # one to one: the same partition
    np.testing.assert_array_equal(np.sort(c_sh.q[ok][reps]), np.sort(shared.q))
    assert {tuple(r) for r in c_sh.x[ok][reps]} == {tuple(r) for r in shared.x}


def test_shared_roots_keep_close_roots_and_inputs_apart():
    """Roots 3.4 de-duplication radii apart, and a second input that moves every root by
    1e-5: a candidate may stop only where its own root is within the radius of a known
    root of its own input, so each still ends at its own root."""
    delta = 2e-3

    def f(x, u):
        return -(x - u) * (x - u - delta) * (x - u - 1.0)

    def jac(x, u):
        a, b, c = x - u, x - u - delta, x - u - 1.0
        return -(b * c + a * c + a * b)[:, :, None]

    dyn = FunctionDynamics(f, n_state=1, n_input=1, kind="ode", jacobian=jac)
    x0 = np.tile(np.linspace(-0.5, 1.5, 101), 2)[:, None]
    u = np.repeat([[0.0], [1e-5]], 101, axis=0)
    own = find_fixed_points(dyn, u, x0, share_roots=False, progress=False)
    shared = find_fixed_points(dyn, u, x0, progress=False)
    tol = shared.info["unique_tol"] * shared.info["state_scale"]
    assert 3 * tol < delta < 4 * tol
    assert len(shared.roots) == len(own.roots) == 6
    c_own, c_sh = own.candidates, shared.candidates
    assert np.array_equal(c_own.status, c_sh.status)
    root = c_sh.status == "root"
    assert np.all(np.abs(c_own.x - c_sh.x)[root] <= tol)
    assert np.all(0.5 * dyn.residual(c_sh.x[root], u[root]) ** 2 <= 1e-20)
    assert c_sh.n_iter.sum() < c_own.n_iter.sum()
    # Fewer than two samples' worth of candidates make one pass: nothing is shared.
    few = find_fixed_points(dyn, u[:15], x0[:15], progress=False)
    assert not few.info["share_roots"]
    alone = find_fixed_points(dyn, u[:15], x0[:15], share_roots=False, progress=False)
    assert np.array_equal(few.candidates.x, alone.candidates.x)


# -- balls of convergence and uniqueness around known roots (share_roots) ---------------


def test_spectral_norm_bound_is_an_upper_bound_within_its_stated_factor():
    rng = np.random.default_rng(5)
    u = rng.normal(size=12)
    cases = [rng.normal(size=(d, d)) for d in (1, 2, 16, 64, 200)] + [
        rng.normal(size=(48, 16)),  # stacked gates
        np.outer(u, u),  # rank one: the bound is exact up to rounding
        np.diag(np.linspace(1.0, 1.0 + 1e-9, 12)),  # nearly equal singular values
        1e-150 * rng.normal(size=(8, 8)),  # tiny entries, no underflow
        1e150 * rng.normal(size=(8, 8)),  # huge entries, no overflow
    ]
    for W in cases:
        exact = np.linalg.norm(W, 2)
        bound = kernels.spectral_norm_bound(W)
        assert exact <= bound <= exact * W.shape[1] ** (1 / 32) * (1 + 1e-9)
    assert kernels.spectral_norm_bound(np.zeros((4, 4))) == 0.0


SMOOTH = ["rate_tanh_ode", "rate_tanh_map", "rate_softplus_ode", "rnn_tanh"]


@pytest.mark.parametrize("name", SMOOTH)
def test_jacobian_lipschitz_bounds_how_fast_the_jacobian_changes(name):
    """‖A(x) - A(y)‖₂ ≤ L ‖x - y‖ for far and near pairs, and the bound is not vacuous."""
    dyn = SYSTEMS[name]()
    lip = kernels.jacobian_lipschitz(dyn.kernel_spec())
    assert 0 < lip < np.inf
    rng = np.random.default_rng(3)
    n, d = 400, dyn.n_state
    x = rng.normal(0, 1.5, (n, d))
    y = x + rng.normal(size=(n, d)) * np.logspace(-6, 0.5, n)[:, None]
    c = np.ascontiguousarray(dyn._prepare(NUMPY, rng.normal(size=(n, 2))))
    _, A = dyn._residual_jacobian(NUMPY, x, c)
    _, B = dyn._residual_jacobian(NUMPY, y, c)
    ratio = np.linalg.norm(A - B, ord=2, axis=(1, 2)) / np.linalg.norm(x - y, axis=1)
    assert np.all(ratio <= lip)
    assert np.max(ratio) > 0.02 * lip


@pytest.mark.parametrize("name", ["rate_relu_ode", "rate_rectified_tanh_map", "gru", "lstm"])
def test_no_lipschitz_bound_where_none_is_derived(name):
    assert kernels.jacobian_lipschitz(SYSTEMS[name]().kernel_spec()) == np.inf


@pytest.mark.parametrize("name", ["rate_tanh_ode", "rnn_tanh"])
def test_root_radii_are_balls_of_convergence_and_uniqueness(name):
    """From anywhere within ρ of a root, Newton's iteration converges to it (the error
    falls at every step), q there stays below the gate, and no other root of the same
    input lies within 3ρ; β bounds ‖A⁻¹‖₂ from above."""
    dyn = random_rate("tanh", "ode", d=10, gain=3.0) if name == "rate_tanh_ode" else SYSTEMS[name]()
    u = np.zeros(2)
    fps = find_fixed_points(dyn, u, seeds(dyn, 400, scale=1.5), share_roots=False, progress=False)
    roots = fps.roots.x
    assert len(roots) >= 3
    c = dyn._prepare(NUMPY, np.tile(u, (len(roots), 1)))
    spec = dyn.kernel_spec()
    radii, gate = kernels.root_radii(dyn, spec, roots, c)
    lip = kernels.jacobian_lipschitz(dyn.kernel_spec())
    _, A = dyn._residual_jacobian(NUMPY, roots, c)
    exact = 2.0 / (3.0 * np.linalg.norm(np.linalg.inv(A), ord=2, axis=(1, 2)) * lip)
    assert np.all(radii[:, 0] > 0) and np.all(radii[:, 0] <= exact)
    np.testing.assert_allclose(radii[:, 1], 3 * radii[:, 0], rtol=1e-15)
    assert gate[1] == radii[:, 1].max()
    for k, root in enumerate(roots):
        others = np.delete(roots, k, axis=0)
        assert np.min(np.linalg.norm(others - root, axis=1)) >= radii[k, 1]
    rng = np.random.default_rng(0)
    for k, root in enumerate(roots):
        step = rng.normal(size=(20, dyn.n_state))
        x = root + 0.999 * radii[k, 0] * step / np.linalg.norm(step, axis=1, keepdims=True)
        ck = np.tile(c[k], (20, 1))
        r, _ = dyn._residual_jacobian(NUMPY, x, ck)
        assert np.all(0.5 * np.sum(r**2, axis=1) <= gate[0])
        err = np.linalg.norm(x - root, axis=1)
        for _ in range(8):
            r, J = dyn._residual_jacobian(NUMPY, x, ck)
            x = x - np.linalg.solve(J, r[..., None])[..., 0]
            new = np.linalg.norm(x - root, axis=1)
            assert np.all((new < err) | (new < 1e-13))
            err = new
        assert np.all(err < 1e-12 * (1 + np.linalg.norm(root)))


def test_root_radii_of_affine_and_singular_cases():
    """An affine residual (W = 0, Lipschitz constant 0) has one root and infinite
    balls; a singular Jacobian gives none."""
    rng = np.random.default_rng(2)
    d = 6
    affine = RateDynamics(
        W=np.zeros((d, d)),
        W_in=rng.normal(size=(d, 2)),
        bias=np.zeros(d),
        tau=20.0,
        dt=5.0,
        nonlinearity="tanh",
        kind="ode",
    )
    x = rng.normal(size=(3, d))
    c = affine._prepare(NUMPY, np.zeros((3, 2)))
    radii, gate = kernels.root_radii(affine, affine.kernel_spec(), x, c)
    assert np.all(radii == np.inf) and np.all(gate == np.inf)
    # A rate ODE with A = diag(s)(W diag φ'(x) - I) = 0 where W φ'(x) = I: φ'(0) = 1 and
    # W = I make the Jacobian at x = 0 exactly zero.
    flat = RateDynamics(
        W=np.eye(d),
        W_in=rng.normal(size=(d, 2)),
        bias=np.zeros(d),
        tau=20.0,
        dt=5.0,
        nonlinearity="tanh",
        kind="ode",
    )
    x = np.vstack([np.zeros(d), np.full(d, 0.5)])
    radii, gate = kernels.root_radii(
        flat, flat.kernel_spec(), x, flat._prepare(NUMPY, np.zeros((2, 2)))
    )
    assert np.all(radii[0] == 0.0) and np.all(radii[1] > 0)
    assert gate[1] == radii[1, 1] and 0 < gate[0] < np.inf


def test_balls_of_convergence_save_iterations_not_roots(monkeypatch):
    """Candidates stop at a known root once inside its ball of convergence: fewer
    factorisations than with the tail test alone, the same candidates' roots."""
    from neurodyn.analysis.fixed_points import search as fixed_points

    dyn = random_rate("tanh", "map", d=10, gain=3.0, seed=0)
    x0 = seeds(dyn, 400, scale=1.0, seed=4)
    with_balls = find_fixed_points(dyn, None, x0, progress=False)
    monkeypatch.setattr(
        fixed_points,
        "_root_radii",
        lambda dyn, x, C: (np.zeros((len(x), 2)), np.zeros(2), None, None),
    )
    tail_only = find_fixed_points(dyn, None, x0, progress=False)
    a, b = with_balls.candidates, tail_only.candidates
    assert np.array_equal(a.status, b.status)
    tol = with_balls.info["unique_tol"] * with_balls.info["state_scale"]
    assert np.all(np.linalg.norm(a.x - b.x, axis=1) <= tol)
    assert len(with_balls.roots) == len(tail_only.roots)
    # The same iterations up to the stop: a ball can only end a candidate earlier.
    assert np.all(a.n_iter <= b.n_iter)
    assert np.mean(a.n_iter < b.n_iter) > 0.05


def test_jacobian_lipschitz_is_kept_per_network():
    """The constant is derived once per network and found again by its weights and row
    scale: the same value for a copy of the network, a new one for other weights (2W
    gives exactly 2L: every product scales by a power of two) or another scale, and
    the table stays bounded."""
    dyn = random_rate("tanh", "ode", d=12, gain=2.0, seed=8)
    spec = dyn.kernel_spec()
    lip = kernels.jacobian_lipschitz(spec)
    c = PHI_CURVATURE[spec.phi]
    expected = c * np.max(np.abs(spec.scale)) * kernels.spectral_norm_bound(spec.weight)
    assert lip == expected
    copy = spec._replace(weight=spec.weight.copy(), scale=spec.scale.copy())
    assert kernels.jacobian_lipschitz(copy) == lip
    assert kernels.jacobian_lipschitz(spec._replace(weight=2.0 * spec.weight)) == 2.0 * lip
    slower = spec._replace(scale=0.5 * spec.scale)
    assert kernels.jacobian_lipschitz(slower) == 0.5 * lip
    for seed in range(kernels.LIPSCHITZ_KEPT + 3):
        kernels.jacobian_lipschitz(random_rate("tanh", "map", d=4, seed=100 + seed).kernel_spec())
    assert len(kernels._LIPSCHITZ) == kernels.LIPSCHITZ_KEPT
    assert kernels.jacobian_lipschitz(spec) == lip  # derived again, the same


def _sample_clusters_apply(solved) -> bool:
    """Whether the de-duplication takes the sample's clusters: the candidates that did
    not fail and stopped at no sample root are exactly the sample's roots."""
    good = np.flatnonzero((solved.code == ROOT) | (solved.code == SLOW))
    own = good[solved.source[good] < 0]
    return solved.sample is not None and np.array_equal(own, solved.sample.members)


SHARED_CASES = {
    # one input; an Elman network with a Lipschitz bound (balls and their Jacobians)
    "flipflop_rnn": lambda flipflop: (
        flipflop("rnn").model,
        None,
        flipflop("rnn").initial_states,
    ),
    # three roots of one input
    "rate_map": lambda _: (random_rate("tanh", "map", d=10, gain=3.0, seed=0), None, 400),
    # three inputs: three input groups, numbered as the sample numbered them
    "rate_map_three_inputs": lambda _: (
        random_rate("tanh", "map", d=10, gain=2.0, seed=1),
        np.repeat([[0.0, 0.0], [0.3, -0.2], [-0.2, 0.1]], 200, axis=0),
        600,
    ),
    # no Lipschitz bound: the tail test only, no Jacobians from the search
    "gru": lambda _: (SYSTEMS["gru"](), np.array([0.2, -0.1]), 400),
    # slow points beside the roots: the candidates are clustered afresh
    "with_slow_points": lambda _: (random_rate("tanh", "map", d=10, gain=3.0, seed=1), None, 400),
}


def _shared_case(name, flipflop):
    dyn, u, x0 = SHARED_CASES[name](flipflop)
    dyn = dynamics(dyn)
    if np.ndim(x0) == 0:
        x0 = seeds(dyn, x0, scale=1.0, seed=4)
    return dyn, u, x0


@pytest.mark.parametrize("name", list(SHARED_CASES))
def test_the_sample_clusters_are_those_of_a_fresh_de_duplication(name, flipflop, monkeypatch):
    """Where the de-duplication takes the clusters the search formed of its sample, it
    gives what clustering every candidate afresh gives: the same cluster of every
    candidate, numbered alike, with the same representatives."""
    from neurodyn.analysis.fixed_points import search

    dyn, u, x0 = _shared_case(name, flipflop)
    taken = []
    distinct = search._distinct

    def both(solved, group, tol):
        out = distinct(solved, group, tol)
        fresh = distinct(replace(solved, sample=None), group, tol)
        for a, b in zip(out, fresh, strict=True):
            np.testing.assert_array_equal(a, b)
        taken.append(_sample_clusters_apply(solved))
        return out

    monkeypatch.setattr(search, "_distinct", both)
    fps = find_fixed_points(dyn, u, x0, progress=False)
    assert fps.info["share_roots"] and len(taken) == 1
    assert taken[0] == (name != "with_slow_points")
    assert len(fps.roots) >= {"flipflop_rnn": 27, "rate_map": 3, "rate_map_three_inputs": 3}.get(
        name, 1
    )


@pytest.mark.parametrize("name", ["flipflop_rnn", "rate_map", "rate_ode"])
def test_the_search_linearizes_with_the_jacobians_of_its_balls(name, flipflop, monkeypatch):
    """Where the distinct points are the sample's roots, the linearization takes the
    residuals and Jacobians from which the balls of convergence were derived: they are
    the Jacobians at those points (central differences of the residual agree to their
    error bound) and give linearize's eigenmodes."""
    from neurodyn.analysis import linearize
    from neurodyn.analysis.fixed_points import search

    if name == "rate_ode":
        dyn, u, x0 = random_rate("tanh", "ode", d=10, gain=3.0, seed=0), None, 400
        x0 = seeds(dyn, x0, scale=1.0, seed=4)
    else:
        dyn, u, x0 = _shared_case(name, flipflop)
    reused = []
    evaluated = search._evaluated

    def spy(sample, reps):
        out = evaluated(sample, reps)
        reused.append(out is not None)
        return out

    monkeypatch.setattr(search, "_evaluated", spy)
    fps = find_fixed_points(dyn, u, x0, progress=False)
    assert reused == [True] and len(fps) >= 3
    lin = linearize(dyn, fps.x, fps.inputs)
    # One formula at the same points: the same matrices up to the summation order of
    # the BLAS product inside (its thread count may differ), a few ulps of entries of
    # order max|J|; the eigenvalues then move by at most κ(R) d times that.
    scale = np.max(np.abs(lin.jacobian))
    np.testing.assert_allclose(fps.jacobian, lin.jacobian, rtol=0, atol=64 * EPS * scale)
    np.testing.assert_array_equal(fps.stability, lin.stability)
    kappa = np.linalg.cond(lin.right)[:, None]
    gap = np.abs(fps.eigenvalues - lin.eigenvalues)
    assert np.all(gap <= 64 * EPS * scale * kappa * dyn.n_state)
    # Central differences of the residual with step h err by at most h²/6 · M₃
    # (truncation; M₃ bounds the third derivative along a coordinate) plus about
    # 4 ε max|r| / h (rounding of residuals of size max|r|).
    h = 1e-5
    spec = dyn.kernel_spec()
    if name == "flipflop_rnn":  # r = tanh(W x + c) - x: ∂³r_i/∂x_j³ = tanh‴ · W_ij³
        m3 = 2.0 * np.max(np.abs(spec.weight)) ** 3  # |tanh‴| ≤ 2
    else:  # r = s ⊙ (W tanh(x) + c - x): ∂³r_i/∂x_j³ = s_i W_ij tanh‴(x_j)
        m3 = 2.0 * np.max(np.abs(spec.scale)) * np.max(np.abs(spec.weight))
    d, identity = dyn.n_state, np.eye(dyn.n_state)
    for k in range(len(fps)):
        inputs = np.tile(fps.inputs[k], (d, 1))
        ahead = dyn.residual(fps.x[k] + h * identity, inputs)
        back = dyn.residual(fps.x[k] - h * identity, inputs)
        central = ((ahead - back) / (2 * h)).T  # column j: ∂r/∂x_j
        A = fps.jacobian[k] - (identity if dyn.kind == "map" else 0.0)
        bound = h**2 / 6 * m3 + 4 * EPS * max(1.0, np.max(np.abs(ahead))) / h
        np.testing.assert_allclose(A, central, rtol=0, atol=bound)


# -- thread counts -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rate_tanh_ode", "rnn_tanh", "gru", "lstm", "rate_tanh_large"])
def test_results_do_not_depend_on_the_thread_count(name):
    """Each candidate and eigendecomposition is computed by the same code whichever
    thread takes it, LAPACK's on one BLAS thread: identical results on one and two
    threads."""
    dyn = SYSTEMS[name]()
    u = np.array([0.3, -0.2])
    x0 = seeds(dyn, 160, scale=1.0)
    one = find_fixed_points(dyn, u, x0, progress=False, threads=1)
    two = find_fixed_points(dyn, u, x0, progress=False, threads=2)
    assert one.info["threads"] == 1 and two.info["threads"] == 2
    assert one.info["share_roots"] and len(one.roots) >= 1
    a, b = one.candidates, two.candidates
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.fixed_point, b.fixed_point)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.n_iter, b.n_iter)
    for field in ("eigenvalues", "right", "left", "input_projection", "stability"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))


def test_linearization_in_the_search_is_linearize():
    """find_fixed_points linearizes its points with the residual Jacobians it already
    has: the same as linearize at those points, to the last bit."""
    from neurodyn.analysis import linearize

    for name in ("rate_tanh_map", "gru"):
        dyn = SYSTEMS[name]()
        u = np.array([0.1, 0.4])
        fps = find_fixed_points(dyn, u, seeds(dyn, 64, scale=1.0), progress=False, threads=1)
        lin = linearize(dyn, fps.x, fps.inputs, threads=1)
        for field in (
            "jacobian",
            "input_jacobian",
            "eigenvalues",
            "right",
            "left",
            "input_projection",
            "growth_rate",
            "frequency",
            "stability",
        ):
            np.testing.assert_array_equal(getattr(fps, field), getattr(lin, field))
        np.testing.assert_allclose(
            fps.speed, np.linalg.norm(dyn.residual(fps.x, fps.inputs), axis=1) / dyn.dt, rtol=1e-12
        )
