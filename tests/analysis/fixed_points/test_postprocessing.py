"""De-duplication, linearization, seeding helpers and the labelled result."""

import numpy as np
import pytest
import torch

from neurodyn.analysis import (
    FixedPoints,
    between_attractors,
    classify,
    cluster,
    condition_inputs,
    eigenmodes,
    find_fixed_points,
    linearize,
    load_fixed_points,
    sample_initial_states,
    spectrum,
    state_scale,
    tile_conditions,
)
from neurodyn.analysis.fixed_points import dedupe
from neurodyn.analysis.linearization.kernel import order_modes as _order_modes
from neurodyn.dynamics import FunctionDynamics, dynamics

# -- de-duplication ---------------------------------------------------------------------


def test_cluster_keeps_the_lowest_q():
    x = np.array([[0.0, 0.0], [1e-7, 0.0], [-1e-7, 0.0], [5.0, 5.0]])
    q = np.array([3.0, 1.0, 2.0, 9.0])
    labels, reps = cluster(x, q, tol=1e-6)
    assert reps.tolist() == [1, 3] and labels.tolist() == [0, 0, 0, 1]


def test_cluster_never_drops_isolated_points():
    """Far-away points are their own clusters (no outlier rule), even among thousands."""
    rng = np.random.default_rng(0)
    dense = rng.normal(0, 1e-9, (5000, 3))
    far = np.array([[100.0, 0, 0], [0, -1e4, 0]])
    labels, reps = cluster(np.vstack([dense, far]), np.zeros(5002), tol=1e-6)
    assert len(reps) == 3 and labels[-1] != labels[-2] != labels[0]


def test_cluster_does_not_chain_a_line():
    """Points 0.6·tol apart along a line form balls of radius tol, not one chain."""
    x = np.linspace(0, 60, 101)[:, None]  # spacing 0.6
    labels, reps = cluster(x, np.zeros(101), tol=1.0)
    assert 30 <= len(reps) <= 60
    for k, rep in enumerate(reps):
        assert np.all(np.abs(x[labels == k] - x[rep]) <= 1.0)


def test_cluster_respects_groups():
    x = np.zeros((4, 2))
    labels, reps = cluster(x, np.arange(4.0), tol=1.0, groups=[0, 1, 0, 1])
    assert len(reps) == 2 and labels.tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize("n_centres", [3, 40, 300])  # below, around and above max_scan
def test_direct_scan_and_kd_tree_give_the_same_clusters(n_centres):
    rng = np.random.default_rng(n_centres)
    centres = rng.normal(size=(n_centres, 5))
    x = centres[rng.integers(n_centres, size=2000)] + rng.normal(scale=0.05, size=(2000, 5))
    q = rng.random(2000)
    groups = rng.integers(2, size=2000)
    ref = cluster(x, q, tol=0.1, groups=groups, max_scan=0)  # KD-tree only
    for max_scan in (1, 32, 10_000):  # hand-over after 1 or 32 clusters, or none
        labels, reps = cluster(x, q, tol=0.1, groups=groups, max_scan=max_scan)
        np.testing.assert_array_equal(labels, ref[0])
        np.testing.assert_array_equal(reps, ref[1])
    # Every member lies within tol of its representative, which has the lowest q.
    labels, reps = ref
    assert np.all(np.linalg.norm(x - x[reps[labels]], axis=1) <= 0.1)
    assert np.all(q >= q[reps[labels]])


@pytest.mark.parametrize("noise", [1e-6, 0.05])  # clusters far apart, or chained
def test_pairwise_step_gives_the_greedy_clusters(noise):
    """Small groups (the pairwise step, or the scan where candidates chain) cluster as
    the KD-tree alone does, and every member lies within tol of its lowest-q
    representative."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, 4)) * 10.0
    x = centres[rng.integers(20, size=300)] + rng.normal(scale=noise, size=(300, 4))
    q = rng.random(300)
    groups = rng.integers(2, size=300)  # two groups of about 150 <= PAIRWISE
    assert np.bincount(groups).max() <= dedupe.PAIRWISE
    labels, reps = cluster(x, q, tol=0.1, groups=groups)
    ref = cluster(x, q, tol=0.1, groups=groups, max_scan=0)  # KD-tree only
    np.testing.assert_array_equal(labels, ref[0])
    np.testing.assert_array_equal(reps, ref[1])
    assert np.all(np.linalg.norm(x - x[reps[labels]], axis=1) <= 0.1)
    assert np.all(q >= q[reps[labels]])
    # The pairwise step decides the separated clusters itself and leaves chains to the
    # scan (a candidate near a later representative only through another candidate).
    order = np.argsort(q[groups == 0], kind="stable")
    first = dedupe._first_neighbours(x[groups == 0][order], 0.1**2)
    assert (first is not None) == (noise < 0.01)


def test_pairwise_step_leaves_a_pair_at_the_tolerance_to_the_scan():
    """At a distance equal to tol, the product's rounding could decide: the scan, which
    subtracts, does (``<=``: one cluster). The numbers are exact in binary."""
    x = np.array([[0.0, 0.0], [0.75, 1.0], [9.0, 9.0]])  # |x1 - x0| = 1.25
    assert dedupe._first_neighbours(x, 1.25**2) is None
    labels, reps = cluster(x, np.array([0.0, 1.0, 2.0]), tol=1.25)
    assert labels.tolist() == [0, 0, 1] and reps.tolist() == [0, 2]


def test_state_scale():
    assert state_scale(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(1.0)
    assert state_scale(np.full((3, 2), 2.0)) == pytest.approx(np.sqrt(8.0))
    assert state_scale(np.zeros((3, 2))) == 1.0


def test_state_scale_is_the_rms_distance_from_the_mean(rng):
    x = rng.normal(size=(500, 7)) * np.arange(1, 8)
    ref = np.sqrt(np.mean(np.sum((x - x.mean(0)) ** 2, axis=1)))
    assert state_scale(x) == pytest.approx(ref, rel=1e-13)
    # Far from the origin the spread survives (no one-pass cancellation) ...
    assert state_scale(x * 1e-3 + 1e6) == pytest.approx(ref * 1e-3, rel=1e-7)
    # ... and one state, or several equal ones, fall back to the RMS norm.
    assert state_scale(x[:1]) == pytest.approx(np.linalg.norm(x[0]), rel=1e-13)
    assert state_scale(np.tile(x[:1], (4, 1))) == pytest.approx(np.linalg.norm(x[0]), rel=1e-13)


def test_cluster_groups_are_never_merged_and_one_group_takes_the_fast_path(rng):
    """The same points in one group or split in two: the split keeps each group's own
    clusters, with the one-group result's representatives within each group."""
    x = np.repeat(rng.normal(size=(6, 3)), 5, axis=0) + 1e-9 * rng.normal(size=(30, 3))
    q = rng.random(30)
    labels, reps = cluster(x, q, 1e-6)
    assert len(reps) == 6 and all(q[labels == k].min() == q[r] for k, r in enumerate(reps))
    groups = np.arange(30) % 2
    labels2, reps2 = cluster(x, q, 1e-6, groups)
    assert len(reps2) == 12
    for k, r in enumerate(reps2):
        members = labels2 == k
        assert np.all(groups[members] == groups[r]) and q[members].min() == q[r]


# -- linearization -------------------------------------------------------------------------


def test_left_and_right_eigenvectors_are_biorthonormal(rng):
    J = rng.normal(size=(5, 7, 7))
    lam, R, L, growth, _ = eigenmodes(J, kind="map", dt=2.0)
    eye = np.broadcast_to(np.eye(7), (5, 7, 7))
    np.testing.assert_allclose(np.conj(np.swapaxes(L, 1, 2)) @ R, eye, atol=1e-10)
    np.testing.assert_allclose(J @ R, R * lam[:, None, :], atol=1e-10)
    np.testing.assert_allclose(
        np.conj(np.swapaxes(L, 1, 2)) @ J,
        lam[:, :, None] * np.conj(np.swapaxes(L, 1, 2)),
        atol=1e-10,
    )
    # Sorted by growth rate, ln|λ|/dt for a map.
    assert np.all(np.diff(growth, axis=1) <= 1e-12)
    np.testing.assert_allclose(growth, np.log(np.abs(lam)) / 2.0)


@pytest.mark.parametrize("kind", ["map", "ode"])
def test_spectrum_is_eigenmodes_without_the_vectors(rng, kind):
    """Same eigenvalues in the same order (complex pairs included), growth rates and
    frequencies, for random matrices and a real one whose eigenvalues tie in growth."""
    J = np.concatenate([rng.normal(size=(6, 5, 5)), np.diag([0.5, -0.5, 0.2, -0.2, 0.1])[None]])
    lam, _, _, growth, freq = eigenmodes(J, kind=kind, dt=2.0)
    lam_s, growth_s, freq_s = spectrum(J, kind=kind, dt=2.0)
    assert lam_s.dtype == np.complex128 and np.any(lam.imag != 0)
    np.testing.assert_allclose(lam_s, lam, atol=1e-12)
    np.testing.assert_allclose(growth_s, growth, atol=1e-12)
    np.testing.assert_allclose(freq_s, freq, atol=1e-9)
    with pytest.raises(np.linalg.LinAlgError):
        spectrum(np.full((1, 2, 2), np.nan), kind=kind)


def test_selection_vectors_with_complex_modes():
    """For oscillatory modes too, the selection vectors are l_jᴴ B with the returned
    left vectors, and lᴴ r = I (both formed in one kernel from R⁻¹)."""
    rng = np.random.default_rng(3)
    A = rng.normal(size=(3, 6, 6))
    B = rng.normal(size=(3, 6, 2))
    dyn = FunctionDynamics(
        lambda x, u: x,
        n_state=6,
        n_input=2,
        kind="map",
        jacobian=lambda x, u: A,
        input_jacobian=lambda x, u: B,
    )
    lin = linearize(dyn, np.zeros((3, 6)))
    assert np.any(lin.eigenvalues.imag != 0)
    lh = np.conj(np.swapaxes(lin.left, -1, -2))
    np.testing.assert_allclose(lin.input_projection, lh @ B, atol=1e-12)
    np.testing.assert_allclose(lh @ lin.right, np.broadcast_to(np.eye(6), (3, 6, 6)), atol=1e-10)


def test_selection_vectors_of_a_line_attractor():
    """ẋ = Ax + Bu with A = R diag(0, -1, -2) R⁻¹: the line-attractor mode integrates
    the input along l₀ᵀB (Mante et al. 2013's selection vector)."""
    R = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    A = R @ np.diag([0.0, -0.1, -0.2]) @ np.linalg.inv(R)
    B = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    dyn = FunctionDynamics(
        lambda x, u: x @ A.T + u @ B.T,
        n_state=3,
        n_input=2,
        kind="ode",
        jacobian=lambda x, u: np.broadcast_to(A, (len(x), 3, 3)),
        input_jacobian=lambda x, u: np.broadcast_to(B, (len(x), 3, 2)),
    )
    lin = linearize(dyn, np.zeros((1, 3)))
    assert lin.stability[0] == "marginal" and lin.n_marginal[0] == 1 and lin.n_unstable[0] == 0
    np.testing.assert_allclose(lin.eigenvalues[0].real, [0.0, -0.1, -0.2], atol=1e-12)
    # Eigenvectors are defined up to scale; r_k (l_kᴴ B), the input's push along mode
    # k in state space, is not. With L = R⁻ᵀ it is R[:, k] (R⁻¹B)[k].
    sel = np.linalg.inv(R) @ B
    for k in range(3):
        got = np.outer(lin.right[0][:, k], lin.input_projection[0][k])
        np.testing.assert_allclose(got, np.outer(R[:, k], sel[k]), atol=1e-12)
    # The line attractor's mode has an (up to rounding) infinite time constant; the
    # others 10 and 5 ms.
    assert lin.time_constant[0][0] > 1e12
    np.testing.assert_allclose(lin.time_constant[0][1:], [10.0, 5.0], rtol=1e-12)


def test_classify_band():
    g = np.array([[1e-3, -1e-6, -1.0], [-1e-5, -1.0, -2.0], [-1.0, -2.0, -3.0]])
    n_unstable, n_marginal, labels = classify(g, 1e-4)
    assert n_unstable.tolist() == [1, 0, 0] and n_marginal.tolist() == [1, 1, 0]
    assert labels.tolist() == ["unstable_1", "marginal", "stable"]


def test_classify_keeps_the_shape_of_the_states(rng):
    """One label per state for a stack of states (..., d), a 0-d array for one state,
    each by the rule: unstable_<n> with n modes above the band, else marginal with a
    mode inside it, else stable."""
    g = rng.choice([-1.0, -1e-6, 1.0], size=(3, 4, 5))
    n_unstable, n_marginal, labels = classify(g, 1e-4)
    assert labels.shape == n_unstable.shape == (3, 4)
    for idx in np.ndindex(3, 4):
        u, m = int(np.sum(g[idx] > 1e-4)), int(np.sum(np.abs(g[idx]) <= 1e-4))
        assert (n_unstable[idx], n_marginal[idx]) == (u, m)
        assert labels[idx] == (f"unstable_{u}" if u else ("marginal" if m else "stable"))
    one = classify(np.array([0.5, -1e-6, -2.0]), 1e-4)[2]
    assert one.shape == () and str(one) == "unstable_1"
    assert classify(np.zeros((0, 3)), 1e-4)[2].shape == (0,)


# -- seeds -------------------------------------------------------------------------------


def test_sample_initial_states_recipe():
    states = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    valid = np.zeros((2, 5), dtype=bool)
    valid[0, :2] = True
    x = sample_initial_states(states, 50, noise_scale=0.0, valid=valid, seed=3)
    assert {tuple(r) for r in x} <= {tuple(states[0, 0]), tuple(states[0, 1])}
    noisy = sample_initial_states(states, 20000, noise_scale=0.5, valid=valid, seed=3)
    base = np.where(
        np.abs(noisy - states[0, 0]).sum(1, keepdims=True)
        < np.abs(noisy - states[0, 1]).sum(1, keepdims=True),
        states[0, 0],
        states[0, 1],
    )
    # The noise is N(0, 0.5²) per coordinate: its sample std is 0.5 to ~1 %.
    assert np.std(noisy - base) == pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(
        sample_initial_states(states, 7, seed=1), sample_initial_states(states, 7, seed=1)
    )
    x, u = sample_initial_states(states, 5, noise_scale=0.0, inputs=states[..., :2] * 10, seed=0)
    np.testing.assert_array_equal(u, x[:, :2] * 10)


def _cube_memory(x, u):
    """Three independent bistable bits, dx/dt = x − x³: 27 fixed points at {−1, 0, 1}³,
    the 8 corners stable, and a point with k zero coordinates a saddle with k unstable
    modes (12 + 6 + 1)."""
    return x - x**3


def test_states_between_the_corners_of_a_cube_are_its_saddles():
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    between = between_attractors(corners)
    # Pairs (28), quadruples (70) and all eight (1), each a centroid.
    assert len(between) == 28 + 70 + 1
    saddles = {p for p in np.ndindex(3, 3, 3) if 1 in p}  # indices into {-1, 0, 1}
    found = {tuple(int(v) + 1 for v in b) for b in between if np.all(np.isin(b, (-1, 0, 1)))}
    assert saddles <= found
    # With a cap, subsets are drawn (distinct, seeded) instead of enumerated.
    capped = between_attractors(corners, max_per_size=10, seed=4)
    assert len(capped) == 10 + 10 + 1
    assert len({tuple(r) for r in capped[:10]}) == 10
    np.testing.assert_array_equal(capped, between_attractors(corners, max_per_size=10, seed=4))
    assert between_attractors(corners[:1]).shape == (0, 3)


def test_a_search_between_attractors_finds_the_saddles_trajectories_miss():
    """Trajectories of the cube memory rest at its corners; started there (with a little
    noise), the search finds the 8 memories and none of the saddles. Started between
    the memories found, it finds all 19 saddles, each with its count of unstable modes."""
    dyn = FunctionDynamics(_cube_memory, n_state=3, kind="ode")
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    x0 = sample_initial_states(corners, 256, noise_scale=0.05, seed=0)
    first = find_fixed_points(dyn, None, x0, progress=False)
    assert np.asarray(first.roots.n_unstable).tolist() == [0] * 8
    stable = np.asarray(first.roots.x)
    second = find_fixed_points(dyn, None, np.vstack([stable, between_attractors(stable)]),
                               progress=False)  # fmt: skip
    counts = np.bincount(np.asarray(second.roots.n_unstable), minlength=4).tolist()
    assert counts == [8, 12, 6, 1]


def test_sample_initial_states_skips_padding():
    from neurodyn.rnn_models import RateRNN
    from neurodyn.simulation import simulate
    from neurodyn.tasks import make_task

    task = make_task("context_dm", dt=20.0)
    ds = simulate(RateRNN(7, 8, 3, dt=20.0, seed=0), task, n_trials=6, seed=0)
    padded = ds["length"].values < ds.sizes["time"]
    assert padded.any()  # variable delays pad the shorter trials
    x = sample_initial_states(ds, 500, noise_scale=0.0, seed=0)
    valid = np.concatenate([ds["states"].values[i, :n] for i, n in enumerate(ds["length"].values)])
    assert np.all(np.min(np.abs(x[:, None, :] - valid[None]).sum(-1), axis=1) < 1e-6)


def test_condition_inputs_of_context_task():
    from neurodyn.rnn_models import RateRNN
    from neurodyn.simulation import simulate
    from neurodyn.tasks import make_task

    task = make_task("context_dm", dt=20.0, sigma=0.0)
    ds = simulate(RateRNN(7, 8, 3, dt=20.0, seed=0), task, n_trials=200, seed=0)
    u, names = condition_inputs(ds, by="context", period="stimulus")
    assert names == ["context=0", "context=1"]
    names_in = list(ds["input"].values)
    np.testing.assert_allclose(u[:, names_in.index("fixation")], [1.0, 1.0])
    np.testing.assert_allclose(u[:, names_in.index("context_motion")], [1.0, 0.0])
    np.testing.assert_allclose(u[:, names_in.index("context_color")], [0.0, 1.0])
    # Coherence signs are random, so the mean evidence is near the zero-coherence 0.5.
    assert np.all(np.abs(u[:, 1:5] - 0.5) < 0.05)
    one, names = condition_inputs(ds, by=None)
    assert one.shape == (1, 7) and names == ["all"]


def test_tile_conditions():
    x, u, c = tile_conditions(np.arange(6.0).reshape(3, 2), np.array([[1.0], [2.0]]))
    assert (
        x.shape == (6, 2)
        and u[:, 0].tolist() == [1, 1, 1, 2, 2, 2]
        and c.tolist() == [0, 0, 0, 1, 1, 1]
    )


def test_conditions_are_kept_apart():
    """The same state at two inputs is two fixed points, labelled by condition."""
    dyn = FunctionDynamics(
        lambda x, u: -x + u,
        n_state=1,
        n_input=1,
        kind="ode",
        jacobian=lambda x, u: -np.ones((len(x), 1, 1)),
    )
    x0, u, c = tile_conditions(np.zeros((4, 1)), np.array([[1.0], [1.0 + 1e-12]]))
    fps = find_fixed_points(dyn, u, x0, conditions=c, condition_names=["a", "b"], progress=False)
    assert len(fps) == 2 and sorted(fps.condition.tolist()) == [0, 1]
    assert fps.condition_names == ["a", "b"]


# -- the labelled result ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lstm_fps():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(2, 3)
    with torch.no_grad():
        cell.weight_hh.mul_(4.0)
    x0 = np.random.default_rng(0).normal(0, 1, (40, 6))
    return find_fixed_points(dynamics(cell), [0.1, 0.0], x0, input_names=["a", "b"], progress=False)


def test_to_xarray_labels(lstm_fps):
    ds = lstm_fps.to_xarray()
    k = len(lstm_fps)
    assert ds["x"].dims == ("fixed_point", "state") and ds.sizes["fixed_point"] == k
    assert ds["jacobian"].dims == ("fixed_point", "state", "source")
    assert ds["right"].dims == ("fixed_point", "state", "mode")
    assert ds["input_projection"].dims == ("fixed_point", "mode", "input")
    assert list(ds["input"].values) == ["a", "b"]
    assert list(ds["component"].values) == ["h"] * 3 + ["c"] * 3
    assert ds.sizes["candidate"] == 40 and ds.attrs["kind"] == "map"
    assert ds["growth_rate"].attrs["units"] == "1/step"


def test_netcdf_round_trip(lstm_fps, tmp_path):
    path = lstm_fps.save(tmp_path / "fps.nc")
    back = load_fixed_points(path)
    assert isinstance(back, FixedPoints) and back.summary() == lstm_fps.summary()
    for name in ("x", "q", "eigenvalues", "right", "left", "input_projection", "jacobian"):
        np.testing.assert_array_equal(getattr(back, name), getattr(lstm_fps, name))
    assert back.stability.tolist() == lstm_fps.stability.tolist()
    assert back.candidates.reason.tolist() == lstm_fps.candidates.reason.tolist()
    assert back.input_names == ["a", "b"] and back.state_dim == "state"
    assert back.info["method"] == "newton"
    np.testing.assert_array_equal(
        back.state_coords["component"], lstm_fps.state_coords["component"]
    )


def test_indexing_and_summary(lstm_fps):
    sub = lstm_fps[lstm_fps.stability == "stable"]
    assert np.all(sub.stability == "stable") and len(sub) == lstm_fps.summary().get("stable", 0)
    assert sub.eigenvalues.shape == (len(sub), 6)
    assert "FixedPoints(" in repr(lstm_fps)
    with pytest.raises(AttributeError):
        _ = lstm_fps.no_such_field


@pytest.mark.parametrize("kind", ["map", "ode"])
def test_mode_order_is_the_lexicographic_sort(rng, kind):
    """The insertion sort of the modes against np.lexsort on (-growth, -imag), stable,
    with ties: complex pairs, repeated eigenvalues and (for maps) zeros, of growth -inf;
    growth rates and frequencies as NumPy computes them."""
    lam = rng.normal(size=(40, 12)) + 1j * rng.normal(size=(40, 12))
    lam[:, 1] = np.conj(lam[:, 0])  # pairs: equal growth, opposite frequency
    lam[:, 2] = lam[:, 3]  # exact repeats
    lam[::3, 4:7] = 0.0  # several zeros (log 0 = -inf for a map)
    lam[::2, 8] = -np.abs(lam[::2, 8].real)  # real and negative: angle π
    order, lam_s, growth, freq = _order_modes(lam, kind == "map", 2.0)
    rows = np.arange(len(lam))[:, None]
    # The keys as the kernel computed them (its log may differ from NumPy's in the last
    # bit), in the original order, sorted by NumPy.
    keys = np.empty_like(growth)
    keys[rows, order] = growth
    ref = np.lexsort((-lam.imag, -keys), axis=-1)
    np.testing.assert_array_equal(order, ref)
    np.testing.assert_array_equal(lam_s, lam[rows, ref])
    if kind == "map":
        with np.errstate(divide="ignore"):
            g = np.log(np.abs(lam)) / 2.0
        f = np.angle(lam) / (2 * np.pi * 2.0) * 1000.0
    else:
        g, f = lam.real, lam.imag / (2 * np.pi) * 1000.0
    # ln|λ| is good to an absolute ε (its relative error grows near |λ| = 1).
    np.testing.assert_allclose(growth, g[rows, ref], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(freq, f[rows, ref], rtol=1e-15, atol=1e-12)
