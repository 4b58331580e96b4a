"""Contract tests run on every registered task."""

import json

import numpy as np
import pytest

from neurodyn.tasks import TASKS, Task, make_task

NAMES = sorted(TASKS)
CROSS_ENTROPY = [n for n in NAMES if TASKS[n].loss == "cross_entropy"]
N_TRIALS = 16


def _same_batch(a, b):
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert a.variables.keys() == b.variables.keys()
    for k in a.variables:
        np.testing.assert_array_equal(a.variables[k], b.variables[k])


def _fixable_variable(task):
    """A trial variable that is not a period duration, if the task has one."""
    names = list(task.sample_variables(np.random.default_rng(0)))
    return next((k for k in names if not k.endswith("_ms")), names[0])


@pytest.mark.parametrize("name", NAMES)
def test_registry_entry_is_complete(name):
    cls = TASKS[name]
    assert issubclass(cls, Task)
    assert cls.name == name
    assert cls.description
    assert cls.metadata.get("paper") and cls.metadata.get("link", "").startswith("https://")
    assert cls.metadata.get("tags")
    assert cls.loss in ("mse", "cross_entropy")
    assert cls.__doc__ and "Parameters" in cls.__doc__


@pytest.mark.parametrize("name", NAMES)
def test_batch_shapes_and_padding(name):
    task = make_task(name)
    b = task.batch(N_TRIALS, seed=0)
    n, t = N_TRIALS, b.n_steps
    assert b.inputs.shape == (n, t, task.n_inputs) and b.inputs.dtype == np.float32
    assert b.targets.shape == (n, t, task.n_outputs) and b.targets.dtype == np.float32
    assert b.mask.shape == b.targets.shape and b.mask.dtype == np.float32
    assert b.input_names == task.input_names and b.output_names == task.output_names
    assert len(set(task.input_names)) == task.n_inputs
    assert len(set(task.output_names)) == task.n_outputs
    assert b.dt == task.dt
    assert b.lengths.shape == (n,) and b.lengths.max() == t and b.lengths.min() > 0
    pad = ~b.valid()
    assert np.all(b.mask[pad] == 0) and np.all(b.inputs[pad] == 0)
    assert np.all(np.isfinite(b.inputs)) and np.all(np.isfinite(b.targets))
    assert np.all(b.mask >= 0) and np.any(b.mask > 0, axis=(1, 2)).all()
    for k, v in b.variables.items():
        assert v.shape == (n,), k
    for p, (on, off) in b.periods.items():
        assert np.all(on <= off), p
        assert np.all(off <= b.lengths * b.dt + 1e-9), p


@pytest.mark.parametrize("name", NAMES)
def test_oracle_and_targets_score_perfectly(name):
    task = make_task(name)
    b = task.batch(N_TRIALS, seed=1)
    out = task.oracle(b)
    assert out.shape == b.targets.shape
    result = task.evaluate(out, b)
    assert result["correct"].dtype == bool and result["correct"].shape == (N_TRIALS,)
    assert result["correct"].all()
    for v in result.values():
        assert np.shape(v) == (N_TRIALS,)
    assert task.evaluate(b.targets, b)["correct"].all()
    # An all-zero output must fail somewhere, or evaluate cannot tell good from bad.
    assert not task.evaluate(np.zeros_like(b.targets), b)["correct"].all()


@pytest.mark.parametrize("name", CROSS_ENTROPY)
def test_cross_entropy_targets_are_one_hot(name):
    task = make_task(name)
    b = task.batch(N_TRIALS, seed=2)
    scored = b.mask.max(axis=-1) > 0
    np.testing.assert_array_equal(b.targets[scored].sum(axis=-1), 1.0)
    assert set(np.unique(b.targets[scored])) <= {0.0, 1.0}


@pytest.mark.parametrize("name", NAMES)
def test_fixed_variable_is_respected(name):
    task = make_task(name)
    key = _fixable_variable(task)
    value = task.sample_variables(np.random.default_rng(123))[key]
    b = task.batch(N_TRIALS, seed=0, **{key: value})
    assert np.all(b.variables[key] == value)
    assert task.evaluate(task.oracle(b), b)["correct"].all()
    # One value per trial.
    rng = np.random.default_rng(7)
    values = [task.sample_variables(rng)[key] for _ in range(N_TRIALS)]
    b = task.batch(N_TRIALS, seed=0, **{key: values})
    np.testing.assert_array_equal(b.variables[key], np.asarray(values))


@pytest.mark.parametrize("name", NAMES)
def test_unknown_variable_is_rejected(name):
    with pytest.raises(ValueError, match="trial variable"):
        make_task(name).batch(2, seed=0, no_such_variable=1)


@pytest.mark.parametrize("name", NAMES)
def test_seed_determines_the_batch(name):
    task = make_task(name)
    _same_batch(task.batch(N_TRIALS, seed=3), task.batch(N_TRIALS, seed=3))
    a, b = task.batch(N_TRIALS, seed=3), task.batch(N_TRIALS, seed=4)
    assert a.inputs.shape != b.inputs.shape or not np.array_equal(a.inputs, b.inputs)
    assert a.seed == 3


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trips(name):
    task = make_task(name)
    config = task.config()
    json.dumps(config)
    clone = type(task)(**json.loads(json.dumps(config)))
    assert clone.config() == config
    _same_batch(task.batch(N_TRIALS, seed=5), clone.batch(N_TRIALS, seed=5))


@pytest.mark.parametrize("name", NAMES)
def test_batch_converts_to_xarray(name):
    b = make_task(name).batch(4, seed=0)
    ds = b.to_xarray()
    # Trial variables and period coordinates must not shadow the batch's own coordinates.
    np.testing.assert_array_equal(ds["length"].values, b.lengths)
    for k, v in b.variables.items():
        np.testing.assert_array_equal(ds[k].values, v)
    for p, (on, off) in b.periods.items():
        np.testing.assert_array_equal(ds[f"{p}_on"].values, on)
        np.testing.assert_array_equal(ds[f"{p}_off"].values, off)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter_is_rejected(name):
    with pytest.raises(ValueError, match="not_a_parameter"):
        make_task(name, not_a_parameter=1)


def test_unknown_task_name_suggests_the_closest():
    with pytest.raises(ValueError, match="flip_flop"):
        make_task("flip_flp")
    with pytest.raises(ValueError, match="perceptual_dm"):
        make_task("perceptual_dn")
