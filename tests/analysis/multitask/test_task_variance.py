"""Task variance, its normalisation, the active units and the fractional task variance,
on activity whose answer is known by construction (tests/support/multitask_activity.py)."""

import doctest
import importlib

import numpy as np
import pytest
import xarray as xr
from multitask_activity import DT, group_selectivity, planted_activity

import neurodyn
from neurodyn.analysis import (
    fractional_task_variance,
    normalize_task_variance,
    task_variance,
)
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import make_task

# Sums of a few hundred float64 terms of order 1 agree to ~1e-13 whatever their order.
RTOL = 1e-12
# np.var of equal values leaves rounding of order eps² (~1e-32) where the exact answer is 0.
ATOL = 1e-15


def direct_task_variance(rates, mask):
    """TV by its definition, one time step at a time: (unit,)."""
    per_time = [
        np.var(rates[mask[:, t], t, :], axis=0)
        for t in range(rates.shape[1])
        if mask[:, t].sum() >= 2
    ]
    return np.mean(per_time, axis=0)


def test_docstring_examples_run():
    for name in ("variance", "activity"):
        module = importlib.import_module(f"neurodyn.analysis.multitask.{name}")
        assert doctest.testmod(module).failed == 0


def test_task_variance_matches_the_definition_on_a_small_case():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 4, 3)), rng.normal(size=(5, 4, 3)) * 2
    tv = task_variance({"A": a, "B": b})
    for name, r in (("A", a), ("B", b)):
        # With every trial in the window the definition is var over trials, mean over time.
        expected = r.var(axis=0).mean(axis=0)
        np.testing.assert_allclose(tv["task_variance"].sel(task=name), expected, rtol=RTOL)
    assert tv["n_trials"].values.tolist() == [6, 5] and tv["n_times"].values.tolist() == [4, 4]


def test_task_variance_with_a_ragged_window_matches_the_definition():
    rng = np.random.default_rng(2)
    r = rng.normal(size=(7, 9, 4))
    window = rng.random((7, 9)) < 0.5
    window[:, 0] = False
    window[0, 0] = True  # one trial only at step 0: that time carries no variance
    tv = task_variance({"A": r}, window={"A": window})
    np.testing.assert_allclose(
        tv["task_variance"].sel(task="A"), direct_task_variance(r, window), rtol=RTOL, atol=ATOL
    )
    used = int(np.sum(window.sum(axis=0) >= 2))
    assert tv["n_times"].item() == used


def test_fixation_is_excluded_by_default_and_on_request_included():
    ds = planted_activity(np.ones((3, 2), dtype=bool), n_trials=10)
    ds["rates"][:, :5, 0] = np.random.default_rng(0).normal(size=(20, 5))  # varies in fixation only
    ds["rates"][:, 5:, 0] = 0.3
    tv = task_variance(ds)
    np.testing.assert_array_equal(tv["task_variance"].sel(unit=0), 0.0)
    assert tv.attrs["exclude"] == "fixation where recorded"
    rates = ds["rates"].values
    full = task_variance(ds, exclude=())
    for task in ("T0", "T1"):
        r = rates[ds["rule"].values == task]
        np.testing.assert_allclose(
            full["task_variance"].sel(task=task), r.var(axis=0).mean(axis=0), rtol=RTOL, atol=ATOL
        )
    stim = task_variance(ds, periods="stimulus", exclude=())
    xr.testing.assert_allclose(stim["task_variance"], tv["task_variance"], rtol=RTOL)


def test_padding_never_counts():
    ds = planted_activity(group_selectivity([(2, [0]), (2, [1])], 2), n_trials=12)
    padded = ds.copy(deep=True)
    # Cut every other trial short by 4 steps and put huge values in its padding.
    length = padded["length"].values.copy()
    length[::2] -= 4
    padded = padded.assign_coords(length=("trial", length))
    r = padded["rates"].values
    for k in range(0, r.shape[0], 2):
        r[k, length[k] :] = 1e6
    tv = task_variance(padded)
    for task in ("T0", "T1"):
        sel = ds["rule"].values == task
        mask = np.arange(r.shape[1])[None, :] < length[sel][:, None]
        mask[:, :5] = False  # fixation
        np.testing.assert_allclose(
            tv["task_variance"].sel(task=task),
            direct_task_variance(r[sel], mask),
            rtol=RTOL,
            atol=ATOL,
        )
    assert np.all(tv["task_variance"].values < 10)


def test_aligning_on_the_stimulus_removes_variance_from_its_timing():
    rng = np.random.default_rng(3)
    n, n_steps, onset = 16, 30, rng.integers(3, 10, 16)
    response = np.exp(-np.arange(n_steps) / 4.0)  # the same stimulus-locked response
    rates = np.zeros((n, n_steps, 1))
    for k in range(n):
        rates[k, onset[k] :, 0] = response[: n_steps - onset[k]]
    ds = xr.Dataset(
        {"rates": (("trial", "time", "unit"), rates)},
        coords={"rule": ("trial", ["A"] * n), "stimulus_on": ("trial", onset * DT)},
        attrs={"dt": DT},
    )
    aligned = task_variance(ds, align="stimulus_on")
    # After alignment every trial has the same value at each time: no variance at all
    # (identical float64 values have exactly zero variance).
    assert aligned["task_variance"].item() == 0.0
    assert task_variance(ds)["task_variance"].item() > 1e-3


def test_active_threshold_excludes_planted_silent_units_and_counts_them():
    selective = group_selectivity([(4, [0]), (3, []), (5, [1]), (2, [])], 2)
    ds = planted_activity(selective, n_trials=30)
    tv = task_variance(ds)
    silent = ~selective.any(axis=1)
    np.testing.assert_array_equal(tv["active"].values, ~silent)
    assert tv.attrs["n_excluded"] == 5 and tv.attrs["n_active"] == 9
    # The silent units have exactly zero variance; the others about var(cos) = 1/2.
    np.testing.assert_array_equal(tv["task_variance"].values[silent], 0.0)
    assert tv["task_variance"].values[~silent].max(axis=1).min() > 0.2
    # Normalised variance: 1 in the preferred task, 0 (exactly) where never selective.
    norm = tv["normalized"].values
    np.testing.assert_allclose(np.nanmax(norm[~silent], axis=1), 1.0, rtol=0)
    np.testing.assert_array_equal(norm[~silent & ~selective[:, 0], 0], 0.0)
    assert np.all(np.isnan(norm[silent]))
    higher = task_variance(ds, threshold=10.0)
    assert higher.attrs["n_active"] == 0 and higher.attrs["n_excluded"] == 14


def test_unit_coordinates_are_kept():
    ds = planted_activity(np.ones((5, 2), dtype=bool), n_trials=5)
    tv = task_variance(ds)
    np.testing.assert_array_equal(tv["ei"].values, ds["ei"].values)


def test_invariant_to_unit_permutation_and_trial_order():
    ds = planted_activity(group_selectivity([(3, [0]), (3, [1, 2])], 3), noise=0.1)
    tv = task_variance(ds)
    rng = np.random.default_rng(4)
    units, trials = rng.permutation(ds.sizes["unit"]), rng.permutation(ds.sizes["trial"])
    shuffled = task_variance(ds.isel(unit=units, trial=trials))
    np.testing.assert_allclose(
        shuffled["task_variance"].values, tv["task_variance"].values[units], rtol=RTOL
    )
    np.testing.assert_array_equal(shuffled["unit"].values, units)


def test_a_dataset_with_a_task_coordinate_and_a_mapping_agree():
    ds = planted_activity(group_selectivity([(2, [0]), (2, [1, 2])], 3), noise=0.05)
    tv = task_variance(ds)
    by_task = {t: ds.isel(trial=ds["rule"].values == t) for t in ("T0", "T1", "T2")}
    xr.testing.assert_allclose(task_variance(by_task)["task_variance"], tv["task_variance"])
    # A DataArray of rates (dt from its time coordinate) and a chosen order of tasks.
    ordered = task_variance(ds["rates"], tasks=["T2", "T0"])
    assert ordered["task"].values.tolist() == ["T2", "T0"]
    xr.testing.assert_allclose(ordered["task_variance"], tv["task_variance"].sel(task=["T2", "T0"]))


def test_bad_input_is_refused_naming_the_argument():
    ds = planted_activity(np.ones((3, 2), dtype=bool), n_trials=4)
    with pytest.raises(ValueError, match="by='task' is not a trial coordinate"):
        task_variance(ds, by="task")
    with pytest.raises(ValueError, match="period 'delay' is not known"):
        task_variance(ds, periods="delay")
    with pytest.raises(ValueError, match=r"tasks=.*missing \['T9'\]"):
        task_variance(ds, tasks=["T0", "T9"])
    with pytest.raises(ValueError, match="no variable 'states'"):
        task_variance(ds, variable="states")
    with pytest.raises(ValueError, match="threshold"):
        task_variance(ds, threshold=-1.0)
    with pytest.raises(ValueError, match="window for activity must be a boolean array"):
        task_variance(ds, window=np.ones((3, 3), dtype=bool))
    with pytest.raises(ValueError, match="task 'T0' has no time at which two or more trials"):
        task_variance(ds.isel(trial=[0, 4, 5]))
    bad = ds.copy(deep=True)
    bad["rates"][0, 10, 0] = np.nan
    with pytest.raises(ValueError, match="task 'T0' has NaN"):
        task_variance(bad)
    with pytest.raises(ValueError, match="activity must be a Dataset"):
        task_variance(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="different numbers of units"):
        task_variance({"A": np.zeros((2, 3, 4)), "B": np.zeros((2, 3, 5))})


def test_fractional_task_variance_of_identical_tasks_is_zero():
    ds = planted_activity(group_selectivity([(4, [0]), (3, [0, 1])], 2), noise=0.05)
    a = ds.isel(trial=ds["rule"].values == "T0")
    tv = task_variance({"A": a, "A again": a.copy(), "B": ds.isel(trial=ds["rule"].values == "T1")})
    ftv = fractional_task_variance(tv, ("A", "A again"))
    np.testing.assert_array_equal(ftv["ftv"].values, 0.0)
    # Every unit lands in the bin holding 0 (the bin [0, 0.1) of 20 bins over [-1, 1]).
    assert ftv["count"].isel(bin=10).item() == 7 and ftv["count"].sum().item() == 7


def test_fractional_task_variance_is_plus_one_for_units_of_one_task():
    selective = group_selectivity([(4, [0]), (3, [1]), (2, [0, 1]), (2, [])], 2)
    tv = task_variance(planted_activity(selective, n_trials=30))
    ftv = fractional_task_variance(tv, [("T0", "T1"), ("T1", "T0")], bins=4)
    # Silent units are not active and do not appear.
    assert ftv.sizes["unit"] == 9 and ftv["n_units"].values.tolist() == [9, 9]
    f = ftv["ftv"].sel(pair="T0 vs T1").values
    np.testing.assert_array_equal(f[:4], 1.0)
    np.testing.assert_array_equal(f[4:7], -1.0)
    assert np.all(np.abs(f[7:]) < 0.5)  # about equal variance in both
    np.testing.assert_array_equal(ftv["ftv"].sel(pair="T1 vs T0").values, -f)
    np.testing.assert_array_equal(
        ftv["count"].sel(pair="T0 vs T1").values, np.histogram(f, bins=4, range=(-1, 1))[0]
    )
    assert ftv["task_a"].values.tolist() == ["T0", "T1"]
    assert ftv.attrs["n_excluded"] == 2 and ftv.attrs["threshold"] == 1e-3


def test_fractional_task_variance_is_nan_where_neither_task_varies():
    v = xr.DataArray([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], dims=("unit", "task"),
                     coords={"task": ["A", "B", "C"]})  # fmt: skip
    ftv = fractional_task_variance(normalize_task_variance(v), ("A", "B"))
    assert ftv["ftv"].values[0, 0] == 1.0 and np.isnan(ftv["ftv"].values[0, 1])
    assert ftv["n_units"].item() == 1 and ftv["count"].sum().item() == 1
    with pytest.raises(ValueError, match="pairs must be"):
        fractional_task_variance(normalize_task_variance(v), ("A", "D"))
    with pytest.raises(ValueError, match="tv must be the Dataset"):
        fractional_task_variance(v, ("A", "B"))


def test_a_simulated_dataset_is_read_as_simulate_labels_it():
    # Romo trials vary in length (padding at the end) and have a fixation period.
    net = RateRNN(2, 16, 3, dt=20.0, seed=0)
    ds = neurodyn.simulate(net, make_task("romo", dt=20.0), n_trials=24, seed=1)
    ds = ds.assign_coords(rule=("trial", np.repeat(["A", "B"], 12)))
    assert len(np.unique(ds["length"].values)) > 1
    tv = task_variance(ds)
    steps = np.arange(ds.sizes["time"])[None, :]
    rates = ds["rates"].values.astype(np.float64)
    # Step s is in the window when it is past fixation (s·dt >= fixation_off) and real.
    window = (steps * ds.attrs["dt"] >= ds["fixation_off"].values[:, None]) & (
        steps < ds["length"].values[:, None]
    )
    for task in ("A", "B"):
        sel = ds["rule"].values == task
        np.testing.assert_allclose(
            tv["task_variance"].sel(task=task),
            direct_task_variance(rates[sel], window[sel]),
            rtol=RTOL,
            atol=ATOL,
        )
    np.testing.assert_array_equal(tv["tau"].values, ds["tau"].values)
