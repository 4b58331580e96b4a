"""The recorded-activity Dataset: construction, conversion, validation, netCDF round trip."""

import json

import numpy as np
import pytest
import xarray as xr

import neurodyn
from neurodyn.io import (
    as_recording,
    check_recording,
    first_bins,
    load_dataset,
    recording,
    save_dataset,
)
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop


def _counts(seed=0, shape=(3, 8, 4)):
    return np.random.default_rng(seed).poisson(2.0, shape)


def test_recording_from_arrays_labels_and_masks_padding():
    counts = _counts()
    inputs = np.random.default_rng(1).normal(size=(3, 8, 2))
    mask = np.ones(counts.shape, dtype=bool)
    mask[0, 2, 1] = False
    ds = recording(
        counts,
        inputs,
        dt=5.0,
        mask=mask,
        kind="counts",
        lengths=[8, 6, 3],
        trial_variables={"coherence": [0.1, 0.2, 0.3], "choice": np.array([True, False, True])},
        neurons=[10, 11, 12, 13],
        input_names=["stim", "go"],
    )
    assert ds["activity"].dims == ("trial", "time", "neuron")
    assert ds["inputs"].dims == ("trial", "time", "input")
    np.testing.assert_array_equal(ds["time"], 5.0 * np.arange(1, 9))  # bins end at (k+1) dt
    np.testing.assert_array_equal(ds["activity"], counts)
    # The mask is the given one and the padding after each trial's length.
    want = mask & (np.arange(8)[None, :] < np.array([8, 6, 3])[:, None])[..., None]
    np.testing.assert_array_equal(ds["mask"], want.astype(np.int8))
    assert ds["mask"].dtype == np.int8
    assert list(ds["neuron"].values) == [10, 11, 12, 13]
    assert list(ds["input"].values) == ["stim", "go"]
    assert ds["choice"].dtype == np.int8
    assert ds.attrs["dt"] == 5.0 and ds.attrs["kind"] == "counts"
    assert json.loads(ds.attrs["trial_variables"]) == ["coherence", "choice"]


def test_recording_round_trips_through_netcdf(tmp_path):
    act = np.random.default_rng(2).random((2, 6, 3)).astype(np.float32)
    act[1, 4:] = np.nan  # padding, masked
    ds = recording(act, dt=10.0, lengths=[6, 4], trial_variables={"cond": np.array(["a", "b"])})
    back = load_dataset(save_dataset(ds, tmp_path / "r.nc"))
    xr.testing.assert_identical(check_recording(back), ds)


def test_as_recording_from_a_simulation_keeps_rates_inputs_and_trial_variables():
    sim = neurodyn.simulate(RateRNN(3, 8, 3, dt=10.0, seed=0), FlipFlop(dt=10.0), n_trials=3)
    rec = as_recording(sim)
    np.testing.assert_array_equal(rec["activity"], sim["rates"])
    np.testing.assert_array_equal(rec["inputs"], sim["inputs"])
    np.testing.assert_array_equal(rec["n_pulses"], sim["n_pulses"])
    np.testing.assert_array_equal(rec["tau"], sim["tau"])  # per-unit labels follow the units
    assert rec.attrs["kind"] == "rates" and rec.attrs["dt"] == 10.0
    assert rec.attrs["model"] == sim.attrs["model"]
    # The task's loss mask (over outputs) is not an observation mask.
    assert int(rec["mask"].sum()) == rec["activity"].size


def test_as_recording_from_a_dataarray_with_other_dim_names_infers_dt():
    values = np.arange(24.0).reshape(2, 3, 4)
    da = xr.DataArray(
        values,
        dims=("trials", "t", "cell"),
        coords={"t": [2.5, 5.0, 7.5], "rule": ("trials", [1, 2])},
    )
    rec = as_recording(da, dims={"trials": "trial", "t": "time", "cell": "neuron"}, kind="counts")
    assert rec.attrs["dt"] == 2.5  # the spacing of time
    np.testing.assert_array_equal(rec["activity"], values)
    np.testing.assert_array_equal(rec["rule"], [1, 2])
    assert json.loads(rec.attrs["trial_variables"]) == ["rule"]


def test_as_recording_reorders_dims():
    da = xr.DataArray(np.zeros((4, 2, 3)), dims=("neuron", "trial", "time"))
    rec = as_recording(da, dt=1.0)
    assert rec["activity"].dims == ("trial", "time", "neuron")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"obj": np.zeros((2, 3, 4))}, "obj must be an xarray"),
        ({"obj": xr.Dataset({"x": ("a", [1.0])})}, "obj has no variable 'rates'"),
        ({"obj": xr.DataArray(np.zeros((2, 3)), dims=("trial", "time"))}, "expected ('trial'"),
        ({"obj": xr.DataArray(np.zeros((1, 2, 1)), dims=("trial", "time", "neuron"))}, "dt is"),
        (
            {
                "obj": xr.DataArray(np.zeros((1, 2, 1)), dims=("a", "time", "neuron")),
                "dims": {"b": 1},
            },
            "dims names ['b']",
        ),
    ],
)
def test_as_recording_errors_name_the_problem(kwargs, message):
    obj = kwargs.pop("obj")
    with pytest.raises(ValueError) as err:
        as_recording(obj, **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "spikes"}, "kind='spikes' is not recognised"),
        ({"dt": 0.0}, "dt must be finite and > 0"),
        ({"activity": np.zeros((2, 3))}, "activity has shape (2, 3)"),
        ({"activity": np.array([["a"]] * 2, dtype=object)[None]}, "activity must hold numbers"),
        ({"inputs": np.zeros((2, 4, 1))}, "inputs has shape (2, 4, 1); expected (2, 3, any)"),
        ({"mask": np.zeros((2, 3))}, "mask has shape (2, 3)"),
        ({"mask": np.full((2, 3, 2), 2)}, "mask must hold bool or 0/1"),
        ({"lengths": [3, 4]}, "lengths must hold whole numbers in [0, 3]"),
        ({"lengths": [3]}, "lengths has shape (1,)"),
        ({"trial_variables": {"c": [1, 2, 3]}}, "trial_variables['c'] has shape (3,)"),
        ({"trial_variables": {"length": [1, 2]}}, "'length' is a reserved name"),
        ({"neurons": [1, 1]}, "neurons must be 2 distinct labels"),
    ],
)
def test_recording_argument_errors_name_the_argument(kwargs, message):
    args = {"activity": np.ones((2, 3, 2)), "dt": 1.0, **kwargs}
    with pytest.raises(ValueError) as err:
        recording(**args)
    assert message in str(err.value)


def _valid():
    return recording(_counts(), np.zeros((3, 8, 1)), dt=2.0, kind="counts")


def _with_activity(values, mask=None):
    ds = _valid()
    ds["activity"] = (("trial", "time", "neuron"), values)
    if mask is not None:
        ds["mask"] = (("trial", "time", "neuron"), mask)
    return ds


def _nan_unmasked():
    a = _counts().astype(float)
    a[1, 2, 3] = np.nan
    return _with_activity(a)


def _negative():
    a = _counts().astype(float)
    a[2, 0, 1] = -1.0
    return _with_activity(a)


def _fractional():
    a = _counts().astype(float)
    a[0, 5, 0] = 1.5
    return _with_activity(a)


def _silent_neuron():
    m = np.ones((3, 8, 4), dtype=np.int8)
    m[..., 2] = 0
    return _with_activity(_counts().astype(float), m)


def _drop(name):
    return _valid().drop_vars(name)


def _attrs(**attrs):
    ds = _valid()
    ds.attrs.update(attrs)
    return ds


def _bad_time():
    return _valid().assign_coords(time=np.arange(8) * 3.0)


def _bad_inputs():
    ds = _valid()
    ds["inputs"] = ds["inputs"].transpose("trial", "input", "time")
    return ds


def _nan_inputs():
    ds = _valid()
    ds["inputs"][0, 3, 0] = np.nan
    return ds


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: _drop("activity"), "the variable 'activity' (trial, time, neuron) is missing"),
        (lambda: _valid().transpose("time", ...), "activity has dims ('time', 'trial', 'neuron')"),
        (lambda: _attrs(dt=-1.0), "attrs['dt'] must be a bin width in ms > 0, got -1.0"),
        (lambda: _valid().drop_attrs(), "attrs['dt'] must be a bin width in ms > 0, got None"),
        (lambda: _attrs(kind="spikes"), "attrs['kind'] must be one of"),
        (_bad_inputs, "inputs has dims ('trial', 'input', 'time')"),
        (_nan_inputs, "inputs has 1 NaN or infinite value(s)"),
        (_nan_unmasked, "1 NaN or infinite value(s) where the mask is 1, first at"),
        (_negative, "negative or non-integer count(s) (kind='counts'), first at (trial, time, "),
        (_fractional, "index (0, 5, 0)"),
        (_silent_neuron, "neuron(s) [2] are masked in every trial and bin"),
        (_bad_time, "the time coordinate is not spaced by dt=2.0 ms"),
        (lambda: xr.DataArray([1.0]), "ds must be an xarray.Dataset"),
    ],
)
def test_check_recording_names_what_is_wrong(make, message):
    with pytest.raises(ValueError) as err:
        check_recording(make())
    assert message in str(err.value)


def test_nan_and_fractional_values_are_allowed_where_masked():
    a = _counts().astype(float)
    m = np.ones(a.shape, dtype=np.int8)
    a[0, 0, 0], a[1, 1, 1] = np.nan, 0.5
    m[0, 0, 0] = m[1, 1, 1] = 0
    assert check_recording(_with_activity(a, m)) is not None
    # The same entries unmasked are refused, so the mask is what allowed them.
    with pytest.raises(ValueError, match="where the mask is 1"):
        check_recording(_with_activity(a))


def test_first_bins_keeps_the_start_of_every_trial_as_a_recording():
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, size=(3, 8, 4)).astype(float)
    rec = recording(counts, rng.normal(size=(3, 8, 2)), dt=10.0, kind="counts",
                    lengths=[8, 5, 2])  # fmt: skip
    first = first_bins(rec, 4)
    check_recording(first)
    assert first["length"].values.tolist() == [4, 4, 2]
    np.testing.assert_array_equal(first["activity"].values[0], counts[0, :4])
    np.testing.assert_array_equal(first["inputs"].values, rec["inputs"].values[:, :4])
    with pytest.raises(ValueError, match="n_bins=9 exceeds the recording's 8 time bins"):
        first_bins(rec, 9)
    with pytest.raises(ValueError, match="n_bins"):
        first_bins(rec, 0)
