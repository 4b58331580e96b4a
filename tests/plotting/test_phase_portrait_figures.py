"""Figures of phase portraits: what they draw is what the flow holds."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from planar_systems import van_der_pol_like

from neurodyn.analysis import find_fixed_points
from neurodyn.dynamics import FunctionDynamics
from neurodyn.plotting import plot_phase_portrait, plot_projected_portrait, plot_trajectories_3d


def test_exact_2d_portrait_has_nullclines_fixed_points_and_trajectories():
    dyn = van_der_pol_like()
    ax = plot_phase_portrait(
        dyn, xlim=(-3, 3), ylim=(-3, 3), initial_states=[[0.1, 0.0]], t_max=20.0
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # One fixed point (the origin, an unstable focus) and both nullclines.
    assert labels == ["unstable_2", "x-nullcline", "y-nullcline"]
    # The contour of the x-nullcline passes through y = x³/3 - x.
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


def test_quiver_field_and_bad_field():
    ax = plot_phase_portrait(van_der_pol_like(), xlim=(-1, 1), ylim=(-1, 1), field="quiver",
                             n_grid=5, nullclines=False, fixed_points=False)  # fmt: skip
    (q,) = ax.collections
    # One arrow per grid point, pointing along the field: (y - x³/3 + x, -x).
    np.testing.assert_allclose(q.U.reshape(5, 5)[0, 0], -1 - (-1 / 3 + 1))
    np.testing.assert_allclose(q.V.reshape(5, 5)[0, 0], 1.0)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="field must be"):
        plot_phase_portrait(van_der_pol_like(), xlim=(-1, 1), ylim=(-1, 1), field="arrows")
