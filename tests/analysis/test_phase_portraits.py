"""The numbers behind phase portraits: exact flows on a window, projected flows on a plane."""

import numpy as np
import pytest
from planar_systems import van_der_pol_like

from neurodyn.analysis import phase_plane, projected_flow
from neurodyn.dynamics import FunctionDynamics
from neurodyn.dynamics.integrate import trajectory


def test_projected_flow_of_a_linear_system_is_the_projected_matrix():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6)) - 3 * np.eye(6)
    dyn = FunctionDynamics(lambda x, u: x @ A.T, n_state=6, kind="ode")
    C = np.linalg.qr(rng.normal(size=(6, 2)))[0].T
    mean = rng.normal(size=6)
    flow = projected_flow(dyn, basis=(mean, C), ylim=((-1, 1), (-2, 2)), n_grid=5)
    g1, g2 = np.meshgrid(flow.y1, flow.y2)
    y = np.stack([g1, g2], -1)
    # ẏ = C A (mean + Cᵀ y) for an orthonormal C.
    expected = (mean @ A.T @ C.T) + y @ (C @ A @ C.T).T
    np.testing.assert_allclose(flow.velocity, expected, atol=1e-12)
    speed = np.linalg.norm((mean + y @ C) @ A.T, axis=-1)
    np.testing.assert_allclose(flow.speed, speed, atol=1e-12)
    np.testing.assert_allclose(flow.project(mean + [0.3, -0.2] @ C), [[0.3, -0.2]], atol=1e-12)
    assert flow.to_xarray()["velocity"].dims == ("y2", "y1", "axis")
    # The thread policy: an explicit count is used as it is; 25 states of 6 variables
    # are too little work for a second thread.
    from neurodyn import threads

    projected_flow(dyn, basis=(mean, C), ylim=((-1, 1), (-2, 2)), n_grid=5, threads=2)
    assert (threads.last_choice().what, threads.last_choice().threads) == ("projected_flow", 2)
    projected_flow(dyn, basis=(mean, C), ylim=((-1, 1), (-2, 2)), n_grid=5)
    assert threads.last_choice().threads == 1


def test_pca_plane_of_planar_trajectories_contains_them():
    rng = np.random.default_rng(1)
    plane = np.linalg.qr(rng.normal(size=(5, 2)))[0].T
    trajs = rng.normal(size=(4, 30, 2)) @ plane
    dyn = FunctionDynamics(lambda x, u: -x, n_state=5, kind="ode")
    flow = projected_flow(dyn, trajs)
    # The PCA basis spans the trajectories' plane: projecting and lifting loses nothing.
    x = trajs.reshape(-1, 5)
    np.testing.assert_allclose(flow.mean + flow.project(x) @ flow.components, x, atol=1e-10)


@pytest.mark.parametrize(
    ("basis", "match"),
    [
        (np.ones((3, 5)), "expected 2 vectors spanning a plane"),
        (np.ones(5), "expected 2 vectors spanning a plane"),
        (np.ones((2, 5)), "parallel"),
        (np.full((2, 5), np.nan), "NaN"),
    ],
)
def test_bad_basis(basis, match):
    dyn = FunctionDynamics(lambda x, u: -x, n_state=5, kind="ode")
    with pytest.raises(ValueError, match=match):
        projected_flow(dyn, np.zeros((2, 3, 5)), basis=basis)


def test_phase_plane_of_a_2d_system():
    dyn = van_der_pol_like()
    plane = phase_plane(dyn, xlim=(-3, 3), ylim=(-2, 2), n_grid=7, initial_states=[[0.1, 0.0]],
                        t_max=20.0)  # fmt: skip
    x, y = plane.grid
    np.testing.assert_array_equal(x, np.linspace(-3, 3, 7))
    np.testing.assert_array_equal(y, np.linspace(-2, 2, 7))
    # velocity[j, i] is f at (x[i], y[j]): here (y - (x³/3 - x), -x).
    X, Y = np.meshgrid(x, y)
    np.testing.assert_allclose(plane.velocity[..., 0], Y - (X**3 / 3 - X), rtol=1e-14)
    np.testing.assert_allclose(plane.velocity[..., 1], -X, rtol=1e-14)
    np.testing.assert_allclose(plane.speed, np.hypot(Y - (X**3 / 3 - X), X), rtol=1e-14)
    # The nullclines' field on the finer grid; the one fixed point, the origin, is an
    # unstable focus (trace 1, determinant 1).
    assert [len(g) for g in plane.fine] == [28, 28]
    assert plane.fine_velocity.shape == (28, 28, 2)
    np.testing.assert_allclose(plane.fixed_points.x, [[0.0, 0.0]], atol=1e-10)
    assert list(plane.fixed_points.stability) == ["unstable_2"]
    # Sample trajectories: 400 points by RK4 over t_max, as the integrator gives them.
    expected = trajectory(dyn, [[0.1, 0.0]], n_steps=399, h=20.0 / 399)
    np.testing.assert_array_equal(plane.trajectories, expected)
    assert plane.xlim == (-3.0, 3.0) and plane.ylim == (-2.0, 2.0)


def test_phase_plane_of_a_1d_system_and_a_map():
    dyn = FunctionDynamics(lambda x, u: x - x**3 + u, n_state=1, n_input=1, kind="ode")
    plane = phase_plane(dyn, xlim=(-1.5, 1.5), inputs=[0.0])
    xs = plane.fine[0]
    np.testing.assert_allclose(plane.fine_velocity[:, 0], xs - xs**3, rtol=1e-14)
    np.testing.assert_allclose(np.sort(plane.fixed_points.x[:, 0]), [-1.0, 0.0, 1.0], atol=1e-8)
    assert plane.ylim is None
    # Given fixed points are kept as they are; none are searched for with False.
    assert phase_plane(dyn, xlim=(-1, 1), fixed_points=False).fixed_points is None
    # A map's trajectories are its own steps, t_max / dt of them.
    half = FunctionDynamics(lambda x, u: 0.5 * x, n_state=1, kind="map", dt=2.0)
    plane = phase_plane(half, xlim=(-1, 1), initial_states=[[1.0]], t_max=8.0)
    np.testing.assert_array_equal(plane.trajectories[0, :, 0], 0.5 ** np.arange(5))


def test_phase_plane_rejects_what_it_cannot_draw():
    with pytest.raises(ValueError, match="1 or 2 state variables"):
        phase_plane(FunctionDynamics(lambda x, u: -x, n_state=3, kind="ode"), xlim=(0, 1))
    with pytest.raises(ValueError, match="xlim must be"):
        phase_plane(van_der_pol_like(), xlim=(1, -1), ylim=(0, 1))
    with pytest.raises(ValueError, match="ylim must be"):
        phase_plane(van_der_pol_like(), xlim=(0, 1))
    with pytest.raises(ValueError, match="n_grid"):
        phase_plane(van_der_pol_like(), xlim=(0, 1), ylim=(0, 1), n_grid=2)
