"""Exact and projected phase portraits: the numbers behind them and the figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from neurodyn.analysis import (
    find_fixed_points,
    plot_phase_portrait,
    plot_projected_portrait,
    plot_trajectories_3d,
    projected_flow,
)
from neurodyn.dynamics import FunctionDynamics


def van_der_pol_like():
    # A 2-D system with nullclines y = x³/3 - x (x-nullcline) and x = 0 (y-nullcline).
    return FunctionDynamics(
        lambda z, u: np.stack([z[:, 1] - (z[:, 0] ** 3 / 3 - z[:, 0]), -z[:, 0]], 1),
        n_state=2,
        kind="ode",
        dt=0.05,
    )


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


def test_exact_2d_portrait_has_nullclines_fixed_points_and_trajectories():
    dyn = van_der_pol_like()
    ax = plot_phase_portrait(
        dyn, xlim=(-3, 3), ylim=(-3, 3), initial_states=[[0.1, 0.0]], t_max=20.0
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # One fixed point (the origin, an unstable focus) and both nullclines.
    assert labels == ["unstable_2", "x-nullcline", "y-nullcline"]
    # The contour of the x-nullcline passes through y = x³/3 - x.
    from matplotlib.contour import ContourSet

    xc, yc = (c for c in ax.collections if isinstance(c, ContourSet))
    vx = np.concatenate([p.vertices for p in xc.get_paths()])
    vy = np.concatenate([p.vertices for p in yc.get_paths()])
    # Contours are linear interpolations on a 100 × 100 grid: accurate to ~1e-2 here.
    np.testing.assert_allclose(vx[:, 1], vx[:, 0] ** 3 / 3 - vx[:, 0], atol=0.05)
    np.testing.assert_allclose(vy[:, 0], 0.0, atol=1e-9)
    assert ax.get_xlabel() == "x" and len(ax.figure.axes) == 2  # plus the speed colour bar
    plt.close(ax.figure)


def test_exact_1d_portrait():
    dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode")
    ax = plot_phase_portrait(dyn, xlim=(-1.5, 1.5))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["stable", "unstable_1"]
    xs = sorted(float(c.get_offsets()[0, 0]) for c in ax.collections)
    np.testing.assert_allclose(xs, [-1.0, 0.0, 1.0], atol=1e-8)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="1 or 2 state variables"):
        plot_phase_portrait(
            FunctionDynamics(lambda x, u: -x, n_state=3, kind="ode"), xlim=(0, 1), ylim=(0, 1)
        )
    with pytest.raises(ValueError, match="xlim must be"):
        plot_phase_portrait(dyn, xlim=(1, -1))


def test_projected_portrait_and_3d_trajectories():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(8, 8)) * 0.3
    dyn = FunctionDynamics(lambda x, u: -x + np.tanh(x @ W.T), n_state=8, kind="ode", dt=0.1)
    x = rng.normal(size=(6, 8))
    trajs = [x]
    for _ in range(40):
        x = x + 0.1 * dyn.velocity(x)
        trajs.append(x)
    trajs = np.stack(trajs, 1)
    fps = find_fixed_points(dyn, None, trajs.reshape(-1, 8)[::7], progress=False)
    coherence = np.linspace(-1, 1, 6)
    ax = plot_projected_portrait(dyn, trajs, fixed_points=fps, color_by=coherence)
    assert ax.get_xlabel() == "PC 1" and len(ax.figure.axes) == 3  # speed and coherence bars
    assert "fixed points" in ax.get_title()
    plt.close(ax.figure)
    ax = plot_trajectories_3d(trajs, color_by=coherence, fixed_points=fps)
    assert ax.name == "3d" and len(ax.lines) == 6
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="one value per trial"):
        plot_projected_portrait(dyn, trajs, color_by=[1, 2])
