"""Psychometric points and their logistic fit, against hand counts and known curves."""

import numpy as np
import pytest
import xarray as xr
from decision_data import decision_dataset

import neurodyn
from neurodyn.analysis import fit_psychometric, psychometric
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import PerceptualDecisionMaking


def test_psychometric_points_match_hand_computation():
    ds, signed, chose_pos = decision_dataset()
    pts = psychometric(ds)
    levels = [-25.6, -12.8, -6.4, 0.0, 6.4, 12.8, 25.6]
    np.testing.assert_array_equal(pts["coherence"].values, levels)
    for lev in levels:
        at = signed == lev
        n, k = at.sum(), (chose_pos & at).sum()
        p = k / n
        row = pts.sel(coherence=lev)
        assert int(row["n_trials"]) == n and int(row["n_choice"]) == k
        assert float(row["p_choice"]) == pytest.approx(p, rel=1e-12)
        assert float(row["sem"]) == pytest.approx(np.sqrt(p * (1 - p) / n), rel=1e-12)
    assert pts["coherence"].attrs == {"long_name": "signed coherence", "units": "%"}
    assert pts.attrs["positive"] == "1" and pts.attrs["n_excluded"] == 0


def test_psychometric_of_a_decision_task_oracle_is_a_step():
    # The oracle always picks the ground truth, so P(right) is 0 at every negative
    # signed coherence and 1 at every positive one; at 0 % the ground truth is a
    # fair coin, and so is the oracle's choice.
    task = PerceptualDecisionMaking(dt=20.0, timing={"stimulus": 200.0})
    batch = task.batch(200, seed=0)
    ds = batch.to_xarray().assign_coords(
        choice=("trial", task.evaluate(task.oracle(batch), batch)["choice"])
    )
    pts = psychometric(ds)
    x, p = pts["coherence"].values, pts["p_choice"].values
    np.testing.assert_array_equal(p[x < 0], 0.0)
    np.testing.assert_array_equal(p[x > 0], 1.0)
    gt = ds["ground_truth"].values[ds["coherence"].values == 0]
    assert float(pts["p_choice"].sel(coherence=0.0)) == pytest.approx(np.mean(gt == 1))
    assert int(pts["n_trials"].sum()) == 200


def test_psychometric_of_a_simulated_decision_task(tmp_path):
    task = PerceptualDecisionMaking(dt=20.0, timing={"stimulus": 200.0})
    net = RateRNN(task.n_inputs, 16, task.n_outputs, dt=20.0, seed=0)
    ds = neurodyn.simulate(net, task, n_trials=40, seed=0)
    pts = psychometric(ds)
    # An untrained network often makes no choice (0); those trials are excluded.
    assert int(pts["n_trials"].sum()) + pts.attrs["n_excluded"] == 40
    assert pts.attrs["n_excluded"] == int((ds["choice"] == 0).sum())


def test_psychometric_tiny_case_by_hand():
    # Zero coherence pools both sides; -1 is "no response" and is excluded.
    ds = xr.Dataset(
        coords={
            "coherence": ("trial", [0.0, 0.0, 0.0, 50.0, 50.0, 50.0, 50.0, 50.0]),
            "ground_truth": ("trial", [1, 2, 1, 2, 2, 2, 1, 2]),
            "choice": ("trial", [2, 2, 1, 2, 1, 2, -1, 2]),
        }
    )
    pts = psychometric(ds)
    # By hand: level 0 has trials 1-3 (choices 2, 2, 1); level +50 has trials
    # 4, 5, 6, 8 (choices 2, 1, 2, 2); trial 7 (-50) gave no response.
    np.testing.assert_array_equal(pts["coherence"], [0.0, 50.0])
    np.testing.assert_array_equal(pts["n_trials"], [3, 4])
    np.testing.assert_array_equal(pts["n_choice"], [2, 3])
    np.testing.assert_allclose(pts["p_choice"], [2 / 3, 3 / 4], rtol=1e-15)
    np.testing.assert_allclose(pts["sem"], [np.sqrt(2 / 27), np.sqrt(3 / 64)], rtol=1e-15)
    assert pts.attrs["positive"] == "2" and pts.attrs["n_excluded"] == 1


def test_psychometric_presigned_variable_and_errors():
    ds = xr.Dataset(
        coords={
            "evidence": ("trial", [-1.0, -1.0, 1.0, 1.0, 1.0]),
            "choice": ("trial", [0, 1, 1, 1, np.nan]),
        }
    )
    pts = psychometric(ds, variable="evidence", signed_by=None, choices=(0, 1))
    np.testing.assert_array_equal(pts["p_choice"], [0.5, 1.0])
    np.testing.assert_array_equal(pts["n_trials"], [2, 2])
    assert pts.attrs["n_excluded"] == 1  # the NaN choice
    # The default coding is neurodyn's -1 / +1 with 0 = no response.
    lr = ds.assign_coords(choice=("trial", [-1, 1, 0, 1, 1]))
    pts = psychometric(lr, variable="evidence", signed_by=None)
    np.testing.assert_array_equal(pts["n_trials"], [2, 2])
    np.testing.assert_array_equal(pts["p_choice"], [0.5, 1.0])
    assert pts.attrs["choices"] == "[-1, 1]" and pts.attrs["positive"] == "1"
    with pytest.raises(ValueError, match="positive=2 must be one of"):
        psychometric(lr, variable="evidence", signed_by=None, positive=2)
    assert pts["evidence"].attrs["long_name"] == "evidence"
    with pytest.raises(ValueError, match="already signed"):
        psychometric(ds.assign_coords(ground_truth=("trial", [0, 0, 1, 1, 1])), variable="evidence")
    with pytest.raises(ValueError, match="per-trial variables are"):
        psychometric(ds, variable="coherence", signed_by=None)
    with pytest.raises(ValueError, match="exactly two values"):
        psychometric(
            ds.assign_coords(side=("trial", [0, 1, 2, 0, 1])),
            variable="evidence",
            signed_by="side",
        )


def test_fit_psychometric_recovers_a_known_logistic():
    bias, slope = 2.0, 0.1
    x = np.array([-25.6, -12.8, -6.4, 0.0, 6.4, 12.8, 25.6])
    n = np.full(x.size, 1000.0)
    # Expected (not sampled) counts: the likelihood's score equations then hold
    # exactly at the true parameters, so the MLE is the truth.
    k = n / (1 + np.exp(-slope * (x - bias)))
    pts = xr.Dataset({"n_trials": ("x", n), "n_choice": ("x", k)}, coords={"x": x})
    f = fit_psychometric(pts)
    assert f.success
    # L-BFGS-B stops on a relative change of the NLL of ~1e-9 (factr*eps); on this
    # well-conditioned problem that leaves the parameters good to ~1e-4.
    assert f.bias == pytest.approx(bias, abs=1e-3)
    assert f.slope == pytest.approx(slope, rel=1e-3)
    np.testing.assert_allclose(f(x), k / n, atol=1e-4)


def test_fit_psychometric_flags_separated_choices():
    pts = xr.Dataset(
        {"n_trials": ("x", [10, 10, 10, 10]), "n_choice": ("x", [0, 0, 10, 10])},
        coords={"x": [-2.0, -1.0, 1.0, 2.0]},
    )
    f = fit_psychometric(pts)
    assert not f.success and "separated" in f.message
    assert abs(f.bias) < 1.0 and f.slope > 10  # a step between -1 and 1
