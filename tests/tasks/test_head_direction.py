"""The head-direction task against its definition: the heading integrates the velocity the
network sees, still bouts hold it, bouts follow their statistics, and the evaluation reads
angles."""

import numpy as np
import pytest

from neurodyn.tasks import HeadDirection


def test_the_heading_integrates_the_velocity_from_the_cue():
    task = HeadDirection()
    b = task.batch(16, seed=0)
    dt = task.dt
    for i in range(16):
        n = b.lengths[i]
        cue_end = int(round(b.periods["cue"][1][i] / dt))
        theta0 = b.variables["theta0"][i]
        # The cue shows the initial heading, then goes; velocity only after it.
        np.testing.assert_allclose(b.inputs[i, :cue_end, 0], np.cos(theta0), rtol=1e-6)
        np.testing.assert_allclose(b.inputs[i, :cue_end, 1], np.sin(theta0), rtol=1e-6)
        assert np.all(b.inputs[i, cue_end:n, :2] == 0) and np.all(b.inputs[i, :cue_end, 2] == 0)
        theta = theta0 + np.cumsum(b.inputs[i, :n, 2].astype(float)) * dt / 1000.0
        # float32 targets of cos and sin: 1e-6.
        np.testing.assert_allclose(b.targets[i, :n, 0], np.cos(theta), atol=1e-6)
        np.testing.assert_allclose(b.targets[i, :n, 1], np.sin(theta), atol=1e-6)
        final = np.angle(np.exp(1j * theta[-1]))
        assert b.variables["final"][i] == pytest.approx(final, abs=1e-12)


def test_still_bouts_hold_the_heading_and_bouts_have_their_statistics():
    task = HeadDirection(bout_ms=200.0, p_still=0.4, sigma_velocity=2.0,
                         timing={"move": 20_000.0})  # fmt: skip
    b = task.batch(40, seed=1)
    v = b.inputs[:, 5:, 2].astype(float)  # the move period (cue: 5 steps)
    changes = np.diff(v, axis=1) != 0
    # A new bout starts at a step with probability dt / bout = 0.1; a new bout keeps the
    # velocity only when both are still (0.4² of them), so the velocity changes with
    # probability 0.1 × (1 − 0.16) = 0.084. 40 × 999 steps: standard error 0.0014.
    assert changes.mean() == pytest.approx(0.084, abs=0.005)
    # The fraction of still steps is p_still (bouts of equal mean length), within the
    # spread of about 4000 bouts of ~10 steps: 0.4 ± 0.01.
    assert (v == 0).mean() == pytest.approx(0.4, abs=0.03)
    # Turning velocities are N(0, σ²): the distinct bouts' values.
    turning = np.concatenate([np.unique(row[row != 0]) for row in v])
    assert turning.std() == pytest.approx(2.0, rel=0.05)
    # A still bout holds the target heading exactly.
    still = np.concatenate([[False], (v[0, 1:] == 0) & (v[0, :-1] == 0)])
    heading = np.arctan2(b.targets[0, 5:, 1], b.targets[0, 5:, 0])
    held = np.diff(heading)[still[1:]]
    assert np.all(np.abs(held) < 1e-6)


def test_evaluation_reads_angles_and_its_tolerance():
    task = HeadDirection(tolerance_deg=10.0)
    b = task.batch(4, seed=0)
    perfect = task.evaluate(task.oracle(b), b)
    assert perfect["correct"].all() and np.all(perfect["error_deg"] < 1e-4)

    def turned(deg):
        a = np.radians(deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return 3.0 * b.targets @ rot.T  # any length: only the angle counts

    assert task.evaluate(turned(9.0), b)["correct"].all()
    r = task.evaluate(turned(-11.0), b)
    assert not r["correct"].any()
    np.testing.assert_allclose(r["final_error_deg"], 11.0, rtol=1e-4)
    np.testing.assert_allclose(r["error_deg"], 11.0, rtol=1e-4)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="p_still"):
        HeadDirection(p_still=1.5)
    assert (HeadDirection(p_still=0.0).batch(2, seed=0).inputs[:, 5:, 2] != 0).all()
    with pytest.raises(ValueError, match="bout_ms"):
        HeadDirection(bout_ms=0)
    with pytest.raises(ValueError, match="sigma_velocity"):
        HeadDirection(sigma_velocity=-1)
    with pytest.raises(ValueError, match="theta0"):
        HeadDirection().batch(1, seed=0, theta0=float("nan"))
