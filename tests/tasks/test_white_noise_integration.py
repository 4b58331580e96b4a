"""White-noise integration against its definition."""

import numpy as np
import pytest

from neurodyn.tasks import WhiteNoiseIntegration


def test_target_is_the_running_integral_then_held():
    task = WhiteNoiseIntegration()
    b = task.batch(8, seed=0)
    dt = task.dt
    for i in range(8):
        n = b.lengths[i]
        stim_end = int(round(b.periods["stimulus"][1][i] / dt))
        u = b.inputs[i, :n, 0].astype(float)
        expected = np.cumsum(u) * dt / 1000.0
        np.testing.assert_allclose(b.targets[i, :n, 0], expected, rtol=1e-5, atol=1e-6)
        assert np.all(u[stim_end:] == 0)
        assert np.all(b.targets[i, stim_end:n, 0] == b.targets[i, stim_end - 1, 0])
        np.testing.assert_allclose(b.variables["final"][i], b.targets[i, n - 1, 0], rtol=1e-6)


def test_final_value_statistics_do_not_depend_on_dt():
    # final = mu + noise with sd sigma * sqrt(T) / T_norm = 2 * sqrt(1000) / 1000 ~ 0.063.
    sd = 2.0 * np.sqrt(1000.0) / 1000.0
    n = 400
    for dt in (5.0, 20.0):
        b = WhiteNoiseIntegration(dt=dt).batch(n, seed=0)
        err = b.variables["final"] - b.variables["mu"]
        assert abs(err.mean()) < 4 * sd / np.sqrt(n)
        assert abs(err.std() / sd - 1) < 0.2  # relative sd of the sd estimate ~ 3.5 %


def test_evaluate_tolerance():
    task = WhiteNoiseIntegration(tolerance=0.1)
    b = task.batch(4, seed=0)
    assert task.evaluate(b.targets + 0.09, b)["correct"].all()
    r = task.evaluate(b.targets + 0.11, b)
    assert not r["correct"].any()
    np.testing.assert_allclose(r["final_error"], 0.11, rtol=1e-5)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="mu_range"):
        WhiteNoiseIntegration(mu_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="norm_ms"):
        WhiteNoiseIntegration(norm_ms=0)
    with pytest.raises(ValueError, match="sigma"):
        WhiteNoiseIntegration(sigma=-0.1)
    with pytest.raises(ValueError, match="mu"):
        WhiteNoiseIntegration().batch(1, seed=0, mu=float("nan"))
