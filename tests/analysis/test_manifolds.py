"""Line and ring attractors detected from fixed and slow points."""

import numpy as np
import pytest
from toolbox_systems import line, ring

from neurodyn.analysis import find_fixed_points, find_slow_manifolds


def test_ring_from_a_fixed_point_search():
    dyn = ring()
    x0 = np.random.default_rng(0).normal(size=(300, 3))
    fps = find_fixed_points(dyn, None, x0, progress=False)
    found = find_slow_manifolds(fps)
    assert len(found) == 1
    m = found[0]
    assert m.kind == "ring"
    # Almost every root lies on the unit circle; the polygon through them has length → 2π.
    assert len(m.indices) >= 0.95 * np.sum(np.abs(np.linalg.norm(fps.x[:, :2], axis=1) - 1) < 1e-6)
    assert m.length == pytest.approx(2 * np.pi, rel=0.01)
    np.testing.assert_allclose(np.linalg.norm(m.points[:, :2], axis=1), 1.0, atol=1e-8)
    assert m.drift_speed < 1e-8 and m.alignment > 0.99
    # Ordered: consecutive points are neighbours around the circle.
    angles = np.unwrap(np.arctan2(m.points[:, 1], m.points[:, 0]))
    assert np.all(np.diff(angles) > 0) or np.all(np.diff(angles) < 0)


def test_line_attractor_from_simulated_end_states():
    dyn, v = line(d=4)
    rng = np.random.default_rng(1)
    # Spread evenly along the line, displaced off it; the flow brings them back.
    noise = rng.normal(size=(120, 4))
    x = rng.uniform(-2, 2, (120, 1)) * v + noise - np.outer(noise @ v, v)
    for _ in range(400):  # relax onto the line (slowest off-line rate 1.5 per unit time)
        x = x + 0.05 * dyn.velocity(x)
    found = find_slow_manifolds(x, dyn)
    assert len(found) == 1 and found[0].kind == "line"
    assert len(found[0].indices) == 120
    s = x @ v
    assert found[0].length == pytest.approx(s.max() - s.min(), rel=1e-3)
    # Ordered along v.
    proj = found[0].points @ v
    assert np.all(np.diff(proj) > 0) or np.all(np.diff(proj) < 0)
    ds = found.to_xarray()
    assert ds["kind"].values.tolist() == ["line"] and ds.sizes["point"] == 120


def test_no_manifold_in_a_cloud_or_at_isolated_points():
    dyn, _ = line(d=4)
    cloud = np.random.default_rng(2).normal(size=(60, 4))
    assert len(find_slow_manifolds(cloud, dyn)) == 0
    # Points on a line of an ODE whose slow mode is *not* along the line.
    from neurodyn.dynamics import FunctionDynamics

    stable = FunctionDynamics(lambda x, u: -x * [1.0, 0.01, 1.0], n_state=3, kind="ode")
    pts = np.stack([np.linspace(-1, 1, 30), 0 * np.arange(30), 0 * np.arange(30)], 1)
    assert len(find_slow_manifolds(pts, stable)) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="dynamics is required"):
        find_slow_manifolds(np.zeros((10, 3)))
    dyn = ring()
    with pytest.raises(ValueError, match="align_tol must lie in"):
        find_slow_manifolds(np.ones((10, 3)), dyn, align_tol=2.0)
    with pytest.raises(ValueError, match="NaN"):
        find_slow_manifolds(np.full((10, 3), np.nan), dyn)


def test_runs_under_the_thread_policy():
    from neurodyn import threads

    dyn, v = line(d=4)
    x = np.linspace(-2, 2, 30)[:, None] * v
    assert len(find_slow_manifolds(x, dyn, threads=1)) == 1
    choice = threads.last_choice()
    assert (choice.what, choice.requested) == ("find_slow_manifolds", 1)
    with pytest.raises(ValueError, match="threads must be None"):
        find_slow_manifolds(x, dyn, threads=-1)


def test_a_ring_thinned_where_it_drifts_is_still_closed_and_an_arc_is_not():
    dyn = ring()
    # Dense on most of the circle (0.01 rad apart), thinner on one side (0.04 rad): the
    # spanning tree drops the largest gap (0.19 rad), beyond the link (5 × the 90th
    # percentile of the edges, 0.05) but about 3 % of the circumference.
    dense = np.arange(0.0, 2 * np.pi - 0.55, 0.01)
    thin = np.arange(2 * np.pi - 0.55, 2 * np.pi - 0.15, 0.04)
    th = np.concatenate([dense, thin])
    pts = np.stack([np.cos(th), np.sin(th), 0 * th], 1)
    found = find_slow_manifolds(pts, dyn)
    closing = np.linalg.norm(pts[0] - pts[-1])
    assert found.info["link_length"] < closing < 0.05 * 2 * np.pi
    assert len(found) == 1 and found[0].kind == "ring"
    assert find_slow_manifolds(pts, dyn, close_fraction=0.0)[0].kind == "line"
    # An arc of 300°: its ends are a sixth of the circle apart, 20 % of its length.
    arc = th[th < np.radians(300)]
    found = find_slow_manifolds(np.stack([np.cos(arc), np.sin(arc), 0 * arc], 1), dyn)
    assert len(found) == 1 and found[0].kind == "line"
