"""classify_attractors on systems whose attractors and basins are known."""

import numpy as np
import pytest
from toolbox_systems import hopf, lorenz, ring

from neurodyn.analysis import classify_attractors
from neurodyn.dynamics import FunctionDynamics


def test_double_well_basins():
    dyn = FunctionDynamics(lambda x, u: x - x**3, n_state=1, kind="ode", dt=0.05)
    x0 = np.linspace(-2, 2, 41)[:, None]  # includes the unstable point 0 itself
    att = classify_attractors(dyn, x0, progress=False)
    assert att.kind.tolist() == ["fixed_point"] * 3
    reps = np.sort(att.representative[:, 0])
    np.testing.assert_allclose(reps, [-1.0, 0.0, 1.0], atol=1e-6)
    # 20 states on each side, one exactly at the saddle.
    frac = dict(zip(np.round(att.representative[:, 0]).tolist(), att.basin_fraction, strict=True))
    assert frac[-1.0] == frac[1.0] == pytest.approx(20 / 41) and frac[0.0] == pytest.approx(1 / 41)
    assert att.basin_fraction.sum() == pytest.approx(1.0)


def test_limit_cycle_and_its_basin():
    att = classify_attractors(
        hopf(0.5, 2.0), np.random.default_rng(0).normal(size=(12, 2)), n_steps=2000, progress=False
    )
    assert att.kind.tolist() == ["limit_cycle"] and att.basin_fraction.tolist() == [1.0]
    np.testing.assert_allclose(np.linalg.norm(att.final_state, axis=1), np.sqrt(0.5), rtol=1e-6)
    assert np.all(np.abs(att.lyapunov) < 0.25)


def test_chaos_with_a_diverging_start_reported():
    x0 = np.random.default_rng(1).normal(size=(6, 3)) * 5
    x0[0] = [1e3, 1e3, 1e3]  # leaves |x| <= x_max at once
    att = classify_attractors(lorenz(), x0, n_steps=1500, x_max=1e4, progress=False)
    assert att.label.tolist() == ["diverged"] + ["chaotic"] * 5
    assert att.kind.tolist() == ["chaotic"] and att.basin_fraction.tolist() == [5 / 6]
    assert att.diverged_fraction == pytest.approx(1 / 6)
    assert np.isnan(att.final_state[0]).all() and np.isnan(att.lyapunov[0])
    # Finite-time largest exponents scatter around the published 0.906.
    assert 0.5 < np.mean(att.lyapunov[1:]) < 1.3
    ds = att.to_xarray()
    assert ds["label"].values.tolist()[0] == "diverged"
    assert ds.attrs["diverged_fraction"] == pytest.approx(1 / 6)


def test_ring_attractor_is_recognised():
    att = classify_attractors(
        ring(), np.random.default_rng(2).normal(size=(60, 3)), n_steps=1000, progress=False
    )
    assert att.kind.tolist() == ["ring"] and att.basin_fraction.tolist() == [1.0]
    assert att.summary() == {"ring": 1.0, "diverged": 0.0}


def test_bad_input():
    dyn = FunctionDynamics(lambda x, u: -x, n_state=2, kind="ode")
    with pytest.raises(ValueError, match="initial_states contains NaN"):
        classify_attractors(dyn, [[np.nan, 0.0]], progress=False)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 2"):
        classify_attractors(dyn, [[1.0, 0.0]], n_steps=1, progress=False)
    with pytest.raises(ValueError, match="window must lie in"):
        classify_attractors(dyn, [[1.0, 0.0]], n_steps=10, window=20, progress=False)
    with pytest.raises(ValueError, match="initial_states has shape"):
        classify_attractors(dyn, np.zeros((3, 5)), progress=False)
