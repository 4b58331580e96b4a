"""Match-to-sample, Romo comparison, go/no-go and pro/anti against their definitions."""

import numpy as np
import pytest

from neurodyn.tasks import DelayedMatchToSample, GoNoGo, ParametricWorkingMemory, ProAntiSaccade


def _steps(b, period, i):
    on, off = b.periods[period]
    return slice(int(round(on[i] / b.dt)), int(round(off[i] / b.dt)))


def _angle(v):
    return np.rad2deg(np.arctan2(v[..., 1], v[..., 0])) % 360


def test_dms_match_means_same_direction():
    task = DelayedMatchToSample(sigma=0.0)
    b = task.batch(64, seed=0)
    m = b.variables["match"]
    assert 0 < m.mean() < 1
    for i in range(64):
        sample = b.inputs[i, _steps(b, "sample", i), 1:3]
        test = b.inputs[i, _steps(b, "test", i), 1:3]
        assert np.all(b.inputs[i, _steps(b, "delay", i), 1:] == 0)
        same = np.allclose(sample[0], test[0], atol=1e-6)
        assert same == bool(m[i])
        np.testing.assert_allclose(_angle(sample[0]), b.variables["sample_angle"][i], atol=1e-3)
        dec = _steps(b, "decision", i)
        assert b.targets[i, dec.stop - 1, 1 if m[i] else 2] == 1
    r = task.evaluate(task.oracle(b), b)
    np.testing.assert_array_equal(r["choice"], np.where(m == 1, 1, -1))


def test_romo_levels_and_ground_truth():
    task = ParametricWorkingMemory(sigma=0.0)
    b = task.batch(64, seed=0)
    f1, f2, df = b.variables["f1"], b.variables["f2"], b.variables["df"]
    np.testing.assert_array_equal(f2, f1 + df)
    assert np.all(np.abs(df) == 8)
    assert np.all((f2 >= 10) & (f2 <= 34))
    np.testing.assert_array_equal(b.variables["ground_truth"], np.where(f1 > f2, 1, -1))
    for i in range(64):
        s1 = b.inputs[i, _steps(b, "stimulus1", i), 1]
        s2 = b.inputs[i, _steps(b, "stimulus2", i), 1]
        np.testing.assert_allclose(s1, f1[i] / 34, rtol=1e-6)
        np.testing.assert_allclose(s2, f2[i] / 34, rtol=1e-6)
        assert np.all(b.inputs[i, _steps(b, "delay", i), 1] == 0)
    delays = b.periods["delay"][1] - b.periods["delay"][0]
    assert delays.min() >= 1000 and delays.max() <= 3000 and delays.std() > 100
    fixed = task.batch(4, seed=0, f1=26.0, df=[-4.0, 4.0, -1.0, 1.0])
    np.testing.assert_array_equal(fixed.variables["ground_truth"], [1, -1, 1, -1])


def test_go_nogo_withholding_is_the_no_go_response():
    task = GoNoGo(sigma=0.0)
    b = task.batch(32, seed=0)
    go = b.variables["go"]
    assert 0 < go.mean() < 1
    for i in range(32):
        stim = b.inputs[i, _steps(b, "stimulus", i)]
        assert np.all(stim[:, 1 if go[i] else 2] == 1) and np.all(stim[:, 2 if go[i] else 1] == 0)
        dec = _steps(b, "decision", i)
        assert np.all(b.targets[i, dec, 1] == go[i])
        assert np.all(b.targets[i, dec, 0] == 1 - go[i])
    always_go = task.oracle(task.batch(32, seed=0, go=1))
    r = task.evaluate(always_go, b)
    np.testing.assert_array_equal(r["correct"], go == 1)


def test_pro_anti_target_direction():
    task = ProAntiSaccade(sigma=0.0)
    b = task.batch(64, seed=0)
    theta, anti = b.variables["stimulus_angle"], b.variables["anti"]
    np.testing.assert_allclose(b.variables["target_angle"], (theta + 180 * anti) % 360)
    for i in range(64):
        dec = _steps(b, "decision", i)
        np.testing.assert_allclose(
            _angle(b.targets[i, dec.stop - 1, 1:3]), (theta[i] + 180 * anti[i]) % 360, atol=1e-3
        )
        assert np.all(b.inputs[i, : b.lengths[i], 4 if anti[i] else 3] == 1)
        assert np.all(b.targets[i, : dec.start, 1:] == 0)


@pytest.mark.parametrize(("rotation", "ok"), [(30.0, True), (-30.0, True), (40.0, False)])
def test_pro_anti_tolerance(rotation, ok):
    task = ProAntiSaccade(tolerance_deg=36.0, sigma=0.0)
    b = task.batch(16, seed=0)
    out = task.oracle(b)
    c, s = np.cos(np.deg2rad(rotation)), np.sin(np.deg2rad(rotation))
    x, y = out[:, :, 1].copy(), out[:, :, 2].copy()
    out[:, :, 1], out[:, :, 2] = c * x - s * y, s * x + c * y
    r = task.evaluate(out, b)
    assert r["correct"].all() == ok and (~r["correct"]).all() == (not ok)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="n_angles"):
        DelayedMatchToSample(n_angles=1)
    with pytest.raises(ValueError, match="match"):
        DelayedMatchToSample().batch(1, seed=0, match=2)
    with pytest.raises(ValueError, match="f1_values"):
        ParametricWorkingMemory(f1_values=[])
    with pytest.raises(ValueError, match="delta"):
        ParametricWorkingMemory(delta=0)
    with pytest.raises(ValueError, match="df"):
        ParametricWorkingMemory().batch(1, seed=0, df=0.0)
    with pytest.raises(ValueError, match="go"):
        GoNoGo().batch(1, seed=0, go=3)
    with pytest.raises(ValueError, match="tolerance_deg"):
        ProAntiSaccade(tolerance_deg=200)
    with pytest.raises(ValueError, match="n_directions"):
        ProAntiSaccade(n_directions=0)
