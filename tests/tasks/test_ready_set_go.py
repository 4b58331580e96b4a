"""Ready-Set-Go against its definition."""

import numpy as np
import pytest

from neurodyn.tasks import ReadySetGo


def test_ramp_reaches_one_at_gain_times_interval_after_set():
    task = ReadySetGo()
    b = task.batch(32, seed=0)
    dt = task.dt
    ts, g = b.variables["interval_ms"], b.variables["gain"]
    assert set(g) == {1.0, 1.5}
    for i in range(32):
        # Set onset computed from the variables, not from the periods.
        t_set = int(round((b.variables["fixation_ms"][i] + ts[i]) / dt))
        assert b.inputs[i, t_set, 1] == 1 and b.inputs[i, t_set - 1, 1] == 0
        t_ready = int(round(b.variables["fixation_ms"][i] / dt))
        assert b.inputs[i, t_ready, 0] == 1
        assert np.all(b.inputs[i, : b.lengths[i], 2] == g[i])
        y = b.targets[i, :, 0]
        assert np.all(y[:t_set] == 0) and y[t_set] == 0
        go = t_set + int(round(g[i] * ts[i] / dt))
        np.testing.assert_allclose(y[go], 1.0, rtol=1e-6)
        np.testing.assert_allclose(np.diff(y[t_set : b.lengths[i]]), dt / (g[i] * ts[i]), rtol=1e-4)
        assert y[b.lengths[i] - 1] > 1  # the threshold is crossed, not approached
        assert b.periods["production"][1][i] == go * dt
    assert np.all(b.mask[b.valid()] == 1)


def test_evaluate_measures_the_produced_interval():
    task = ReadySetGo(tolerance=0.15)
    b = task.batch(16, seed=0)
    out = task.oracle(b)
    r = task.evaluate(out, b)
    np.testing.assert_allclose(r["produced_ms"], r["target_ms"], rtol=1e-5)
    np.testing.assert_allclose(r["target_ms"], b.variables["gain"] * b.variables["interval_ms"])
    slow = out / 1.1  # crosses threshold 10 % late
    r = task.evaluate(slow, b)
    np.testing.assert_allclose(r["produced_ms"], 1.1 * r["target_ms"], rtol=1e-3)
    assert r["correct"].all()
    assert not ReadySetGo(tolerance=0.05).evaluate(slow, b)["correct"].any()
    early = out.copy()
    early[:, 0, 0] = 1.0
    r = task.evaluate(early, b)
    assert r["early"].all() and not r["correct"].any()
    r = task.evaluate(np.zeros_like(out), b)
    assert np.isnan(r["produced_ms"]).all() and not r["correct"].any()


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="gains"):
        ReadySetGo(gains=[0.0])
    with pytest.raises(ValueError, match="tolerance"):
        ReadySetGo(tolerance=2)
    with pytest.raises(ValueError, match="pulse_ms"):
        ReadySetGo(pulse_ms=1.0)
    with pytest.raises(ValueError, match="interval"):
        ReadySetGo(timing={"interval": ("uniform", 800)})
    with pytest.raises(ValueError, match="interval_ms"):
        ReadySetGo().batch(1, seed=0, interval_ms=10.0)
