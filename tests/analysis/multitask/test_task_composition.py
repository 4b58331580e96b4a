"""Task representations and their composition, on planted representations."""

import doctest
import importlib

import numpy as np
import pytest
import xarray as xr
from multitask_activity import DT

from neurodyn.analysis import task_composition, task_representation

TASKS = ["go", "dlygo", "anti", "dlyanti", "dm1", "dm2"]
# float64 sums of a handful of O(1) numbers: rounding ~1e-15 relative.
ATOL = 1e-12


def planted_representations(seed=0, n_unit=50, exact=True, noise=0.0):
    """Representations where dly-anti = anti - go + dly-go (exactly, or up to noise)."""
    rng = np.random.default_rng(seed)
    v = {t: rng.normal(size=n_unit) for t in TASKS}
    if exact:
        v["dlyanti"] = v["anti"] - v["go"] + v["dlygo"]
    v["dlyanti"] = v["dlyanti"] + noise * rng.normal(size=n_unit)
    return v


def activity_from(representations, n_trials=6, n_steps=12, stim=(3, 8), seed=1):
    """Trials whose activity settles to the task's representation by the end of the stimulus."""
    rng = np.random.default_rng(seed)
    rates, rule = [], []
    for task, v in representations.items():
        r = rng.normal(size=(n_trials, n_steps, len(v)))  # anything, except ...
        r[:, stim[1] - 1] = v + rng.normal(size=(n_trials, len(v))) * 0.1
        r[:, stim[1] - 1] -= r[:, stim[1] - 1].mean(axis=0) - v  # ... the mean at the end is v
        rates.append(r)
        rule += [task] * n_trials
    n = len(rule)
    return xr.Dataset(
        {"rates": (("trial", "time", "unit"), np.concatenate(rates))},
        coords={
            "rule": ("trial", rule),
            "stimulus_on": ("trial", np.full(n, stim[0] * DT)),
            "stimulus_off": ("trial", np.full(n, stim[1] * DT)),
        },
        attrs={"dt": DT},
    )


def test_docstring_examples_run():
    module = importlib.import_module("neurodyn.analysis.multitask.composition")
    assert doctest.testmod(module).failed == 0


def test_representation_is_the_mean_activity_at_the_end_of_the_stimulus():
    v = planted_representations()
    ds = activity_from(v)
    rep = task_representation(ds, tasks=TASKS)
    for task in TASKS:
        np.testing.assert_allclose(rep.sel(task=task).values, v[task], atol=ATOL)
    assert rep.dims == ("task", "unit") and rep["n_trials"].values.tolist() == [6] * 6
    # The mean over the stimulus period, by its definition.
    mean = task_representation(ds, at="mean")
    rates = ds["rates"].values
    for task in TASKS:
        expected = rates[ds["rule"].values == task][:, 3:8].mean(axis=(0, 1))
        np.testing.assert_allclose(mean.sel(task=task).values, expected, atol=ATOL)


def test_exact_composition_lands_on_its_target_and_ranks_it_first():
    v = planted_representations()
    rep = task_representation(activity_from(v))
    c = task_composition(rep, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
    # The representations are recovered to rounding, so the distance is rounding too.
    assert c["distance"].sel(task="dlyanti").item() < ATOL * 10
    assert c.attrs["target_rank"] == 1 and c.attrs["nearest"] == "dlyanti"
    assert c.attrs["margin"] < 1e-10 and c.attrs["relative_error"] < 1e-10
    assert c.attrs["expression"] == "+1 anti -1 go +1 dlygo"
    # Distances are Euclidean norms of the differences.
    composed = v["anti"] - v["go"] + v["dlygo"]
    for task in TASKS:
        np.testing.assert_allclose(
            c["distance"].sel(task=task).item(), np.linalg.norm(composed - v[task]), atol=ATOL * 10
        )


def test_a_composition_that_does_not_hold_is_not_ranked_first():
    # Independent random representations: anti - go + dlygo is far from dlyanti (norm
    # about sqrt(4 · 50)), nearer anti or dlygo (about sqrt(2 · 50)).
    v = planted_representations(exact=False)
    c = task_composition(
        xr.DataArray(
            np.array([v[t] for t in TASKS]), dims=("task", "unit"), coords={"task": TASKS}
        ),
        {"anti": 1, "go": -1, "dlygo": 1},
        "dlyanti",
    )
    assert c.attrs["target_rank"] > 1 and c.attrs["margin"] > 1
    assert c.attrs["nearest"] in ("anti", "dlygo")
    assert c["rank"].values.min() == 1 and sorted(c["rank"].values) == list(range(1, 7))


def test_a_noisy_composition_still_ranks_its_target_first():
    v = planted_representations(noise=0.3)
    rep = xr.DataArray(
        np.array([v[t] for t in TASKS]), dims=("task", "weight"), coords={"task": TASKS}
    )
    c = task_composition(rep, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
    assert c.attrs["target_rank"] == 1 and 0 < c.attrs["margin"] < 1
    assert c["composed"].dims == ("weight",)


def test_bad_input_is_refused_naming_the_argument():
    v = planted_representations()
    ds = activity_from(v)
    rep = task_representation(ds)
    with pytest.raises(ValueError, match="terms and target must name tasks"):
        task_composition(rep, {"anti": 1, "nogo": -1}, "dlyanti")
    with pytest.raises(ValueError, match="terms must be"):
        task_composition(rep, {}, "dlyanti")
    with pytest.raises(ValueError, match="representation must be a DataArray"):
        task_composition(rep.values, {"anti": 1}, "dlyanti")
    with pytest.raises(ValueError, match="at='last' is not recognised"):
        task_representation(ds, at="last")
    with pytest.raises(ValueError, match="period 'delay' is not known"):
        task_representation(ds, period="delay")
    gaps = ds.assign_coords(stimulus_on=ds["stimulus_on"].where(ds["trial"] != 0))
    with pytest.raises(ValueError, match="1 trial\\(s\\) of task 'go' have no step in period"):
        task_representation(gaps)
