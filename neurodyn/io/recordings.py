"""Recorded population activity as a labelled :class:`xarray.Dataset`.

A *recording* is the data a network is fitted to, laid out like a simulation
(:func:`neurodyn.simulate`) so that the same tools read both:

========================  =============================  ====================================
name                      dims                           meaning
========================  =============================  ====================================
``activity``              (trial, time, neuron)          rates (``kind="rates"``) or spike
                                                         counts per bin (``kind="counts"``),
                                                         float32 (float64 kept); NaN allowed
                                                         where ``mask`` is 0
``inputs`` (optional)     (trial, time, input)           what the animal or network received
``mask``                  (trial, time, neuron)          int8, 1 where a neuron was observed
                                                         in a bin, 0 where it was not (a
                                                         missing neuron, an unobserved time,
                                                         the padding of a short trial)
``trial`` (coordinate)    (trial,)                       int32 labels 0..n-1
``time`` (coordinate)     (time,)                        ms; bin ``k`` ends at ``time[k]``
                                                         and covers ``(time[k] - dt, time[k]]``
                                                         (``time = t0 + (k + 1) dt``)
``neuron``, ``input``     (neuron,), (input,)            labels (ids, channel names)
``length`` (coordinate)   (trial,)                       int32, valid bins of each trial (the
                                                         rest is padding, masked)
trial variables           (trial,)                       coordinates (conditions, choices,
                                                         event times in ms)
========================  =============================  ====================================

``attrs``: ``dt`` (ms, the bin width), ``kind`` (``"rates"`` or ``"counts"``),
``trial_variables`` (JSON list of the trial-variable names) and ``neurodyn_version``;
files read by :func:`neurodyn.io.read_nwb` add what the file says about itself.

An entry takes part in a fit exactly when ``mask`` is 1 there; every such entry is
finite, and for ``kind="counts"`` a non-negative whole number. Every variable uses a
type netCDF3 stores, so a recording round-trips through
:func:`neurodyn.io.save_dataset`.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .._validation import check_choice, check_int, check_positive, check_shape, to_numpy
from .._version import __version__

__all__ = ["KINDS", "as_recording", "check_recording", "first_bins", "recording"]

#: What ``activity`` holds.
KINDS = ("rates", "counts")
_RESERVED = {"trial", "time", "neuron", "input", "length"}
#: Relative tolerance on the spacing of the ``time`` coordinate: times are stored in
#: float64 ms, and sums of a few thousand steps of dt keep ~1e-12 relative error.
_TIME_RTOL = 1e-6


def recording(
    activity,
    inputs=None,
    *,
    dt: float,
    mask=None,
    trial_variables: dict | None = None,
    kind: str = "rates",
    lengths=None,
    neurons=None,
    input_names=None,
) -> xr.Dataset:
    """Build a recorded-activity Dataset from arrays.

    Parameters
    ----------
    activity : array, shape (trial, time, neuron)
        Rates or spike counts per bin of ``dt`` ms.
    inputs : array, shape (trial, time, input), optional
        Inputs in the same bins.
    dt : float
        Bin width (ms), > 0.
    mask : array of bool or 0/1, shape (trial, time, neuron), optional
        1 (True) where the neuron was observed; default: observed everywhere within
        each trial's length. NaN is allowed in ``activity`` where the mask is 0.
    trial_variables : dict of str to array (trial,), optional
        Conditions, choices, event times: stored as ``trial`` coordinates.
    kind : {"rates", "counts"}
        What ``activity`` holds.
    lengths : array of int (trial,), optional
        Valid bins of each trial (default: all); later bins are padding and masked.
    neurons, input_names : sequence, optional
        Labels of the neurons and input channels (default 0..n-1 and ``"u0"``...).

    Returns
    -------
    xarray.Dataset
        The recording (see the module docstring), validated by :func:`check_recording`.

    Examples
    --------
    >>> import numpy as np
    >>> ds = recording(np.ones((2, 5, 3)), dt=10.0, kind="counts")
    >>> ds["activity"].dims, float(ds["time"][0])
    (('trial', 'time', 'neuron'), 10.0)
    """
    kind = check_choice("kind", kind, KINDS)
    dt = check_positive("dt", dt)
    act = _float_array("activity", activity)
    check_shape("activity", act, (None, None, None))
    n_trial, n_time, n_neuron = act.shape
    coords = {
        "trial": np.arange(n_trial, dtype=np.int32),
        "time": (np.arange(n_time) + 1.0) * dt,
        "neuron": _labels("neurons", neurons, n_neuron, None),
        "length": ("trial", _lengths(lengths, n_trial, n_time)),
    }
    observed = _mask("mask", mask, act.shape) & _valid_steps(coords["length"][1], n_time)[..., None]
    data = {
        "activity": (("trial", "time", "neuron"), act),
        "mask": (("trial", "time", "neuron"), observed.astype(np.int8)),
    }
    if inputs is not None:
        inp = _float_array("inputs", inputs)
        check_shape("inputs", inp, (n_trial, n_time, None))
        data["inputs"] = (("trial", "time", "input"), inp)
        coords["input"] = _labels("input_names", input_names, inp.shape[-1], "u")
    names = _trial_coords(trial_variables, n_trial, coords)
    ds = xr.Dataset(data, coords=coords)
    ds["time"].attrs["units"] = "ms"
    ds.attrs.update(
        {
            "dt": dt,
            "kind": kind,
            "trial_variables": json.dumps(names),
            "neurodyn_version": __version__,
        }
    )
    return check_recording(ds)


def as_recording(
    obj,
    *,
    dt: float | None = None,
    kind: str | None = None,
    variable: str | None = None,
    dims: dict | None = None,
) -> xr.Dataset:
    """A recorded-activity Dataset from a trial-aligned xarray object.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        A DataArray of activity, or a Dataset holding it (with optional ``inputs``
        and ``mask``). A simulation from :func:`neurodyn.simulate` is accepted: its
        ``rates`` become the activity and its ``unit`` dim the neurons.
    dt : float, optional
        Bin width (ms); default ``obj.attrs["dt"]``, else the spacing of ``time``.
    kind : {"rates", "counts"}, optional
        Default ``obj.attrs["kind"]``, else ``"rates"``.
    variable : str, optional
        The Dataset's activity variable; default ``"activity"``, else ``"rates"``.
    dims : dict, optional
        Renames of ``obj``'s dims to ``trial``, ``time``, ``neuron``, ``input``,
        e.g. ``{"trials": "trial", "cell": "neuron"}``; ``unit`` becomes ``neuron``
        unless it is named here.

    Returns
    -------
    xarray.Dataset
        The recording; every 1-D coordinate along ``trial`` is kept as a trial
        variable, ``length`` as the trial lengths, ``neuron`` and ``input`` labels and
        other per-neuron coordinates as they were.

    Raises
    ------
    ValueError
        If ``obj`` is not an xarray object, lacks the activity or a dim, or the result
        fails :func:`check_recording`.

    Examples
    --------
    Spike counts held under other dim names, binned at 25 ms:

    >>> import numpy as np
    >>> import xarray as xr
    >>> from neurodyn.io import as_recording
    >>> counts = np.random.default_rng(0).poisson(2.0, size=(4, 10, 3))
    >>> da = xr.DataArray(counts, dims=("trials", "bin", "cell"), attrs={"dt": 25.0})
    >>> rec = as_recording(da, kind="counts",
    ...                    dims={"trials": "trial", "bin": "time", "cell": "neuron"})
    >>> rec["activity"].dims, rec["time"].values[:3].tolist(), int(rec["mask"].sum())
    (('trial', 'time', 'neuron'), [25.0, 50.0, 75.0], 120)

    A simulation's rates, to fit another network to:

    >>> from neurodyn import simulate
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> task = FlipFlop(n_bits=2, timing={"trial": 200})
    >>> ds = simulate(RateRNN(2, 8, 2, dt=10.0, seed=0), task, n_trials=3, seed=1)
    >>> rec = as_recording(ds)
    >>> dict(rec["activity"].sizes), rec.attrs["kind"], list(rec.data_vars)
    ({'trial': 3, 'time': 20, 'neuron': 8}, 'rates', ['activity', 'inputs', 'mask'])
    """
    ds = _as_dataset(obj, variable)
    renames = {"unit": "neuron"} if "unit" in ds.dims and "neuron" not in ds.dims else {}
    renames.update(dict(dims or {}))
    unknown = [k for k in renames if k not in ds.dims and k not in ds.variables]
    if unknown:
        raise ValueError(f"dims names {unknown}, which obj does not have; it has {list(ds.dims)}")
    ds = ds.rename(renames)
    for name in ("trial", "time", "neuron"):
        if name not in ds["activity"].dims:
            raise ValueError(
                f"the activity has dims {ds['activity'].dims}; expected ('trial', 'time', "
                "'neuron') — name the others with dims={...}"
            )
    dt = _infer_dt(ds, dt)
    kind = check_choice("kind", kind if kind is not None else ds.attrs.get("kind", "rates"), KINDS)
    return _complete(ds, dt, kind)


def first_bins(recorded, n_bins: int) -> xr.Dataset:
    """The first ``n_bins`` bins of every trial of a recording, as a recording.

    Each trial's ``length`` becomes ``min(length, n_bins)``: the bins cut off do not
    exist in the result (a stage of a curriculum that fits the start of every trial
    before the whole of it, say), rather than being padding to mask.

    Parameters
    ----------
    recorded : xarray.Dataset
        A recording (checked by :func:`check_recording`).
    n_bins : int
        Bins kept, from 1 to the recording's ``time`` size.

    Examples
    --------
    >>> rec = recording(np.ones((2, 5, 3)), dt=10.0, lengths=[5, 2])
    >>> first_bins(rec, 3)["length"].values.tolist()
    [3, 2]
    """
    check_recording(recorded)
    n_bins = check_int("n_bins", n_bins)
    if n_bins > recorded.sizes["time"]:
        raise ValueError(
            f"n_bins={n_bins} exceeds the recording's {recorded.sizes['time']} time bins"
        )
    out = recorded.isel(time=slice(0, n_bins))
    return out.assign_coords(length=out["length"].clip(max=n_bins))


def check_recording(ds) -> xr.Dataset:
    """Check that ``ds`` is a recorded-activity Dataset; return it unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        The recording to check.

    Raises
    ------
    ValueError
        Naming every problem found: not a Dataset, ``activity`` missing or with other
        dims, ``dt`` missing or not positive, an unknown ``kind``, ``inputs`` or
        ``mask`` whose dims or sizes do not match, a mask with values other than 0/1,
        lengths outside ``0..n_time``, NaN or infinite activity where the mask is 1,
        negative or non-integer counts for ``kind="counts"``, a neuron masked
        everywhere, a ``time`` coordinate not spaced by ``dt``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.io import check_recording, recording
    >>> rates = np.ones((2, 5, 3))
    >>> rates[0, 1, 2] = np.nan  # neuron 2 was not observed in that bin
    >>> rec = recording(rates, dt=10.0, mask=~np.isnan(rates))
    >>> check_recording(rec) is rec
    True
    >>> check_recording(rec.assign(mask=rec["mask"] * 0 + 1))
    Traceback (most recent call last):
    ...
    ValueError: ds is not a valid recording: activity has 1 NaN or infinite value(s) where the mask is 1, first at (trial, time, neuron) index (0, 1, 2); set the mask to 0 there
    """
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"ds must be an xarray.Dataset (a recording), got {type(ds).__name__}")
    problems = _structure_problems(ds)
    if not problems:
        problems = _value_problems(ds)
    if problems:
        raise ValueError("ds is not a valid recording: " + "; ".join(problems))
    return ds


def _structure_problems(ds: xr.Dataset) -> list[str]:
    problems = []
    if "activity" not in ds.data_vars:
        problems.append("the variable 'activity' (trial, time, neuron) is missing")
    elif ds["activity"].dims != ("trial", "time", "neuron"):
        problems.append(f"activity has dims {ds['activity'].dims}; expected (trial, time, neuron)")
    for name, dims in (("inputs", ("trial", "time", "input")), ("mask", None)):
        if name in ds.data_vars:
            want = dims or ("trial", "time", "neuron")
            if ds[name].dims != want:
                problems.append(f"{name} has dims {ds[name].dims}; expected {want}")
    dt = ds.attrs.get("dt")
    try:
        check_positive("attrs['dt']", dt)
    except ValueError:
        problems.append(f"attrs['dt'] must be a bin width in ms > 0, got {dt!r}")
    if ds.attrs.get("kind") not in KINDS:
        problems.append(f"attrs['kind'] must be one of {KINDS}, got {ds.attrs.get('kind')!r}")
    return problems


def _value_problems(ds: xr.Dataset) -> list[str]:
    n_trial, n_time = ds.sizes["trial"], ds.sizes["time"]
    problems = _time_problems(ds)
    lengths = ds["length"].values if "length" in ds.coords else np.full(n_trial, n_time)
    if lengths.dtype.kind not in "iu" or np.any((lengths < 0) | (lengths > n_time)):
        problems.append(f"length must hold whole numbers in [0, {n_time}], got {lengths}")
        return problems
    valid = _valid_steps(lengths, n_time)
    if "mask" in ds.data_vars:
        m = ds["mask"].values
        if m.dtype != bool and not np.all((m == 0) | (m == 1)):
            problems.append("mask must hold 0/1 (or bool)")
            return problems
        observed = m.astype(bool)
    else:
        observed = np.broadcast_to(valid[..., None], ds["activity"].shape)
    problems += _activity_problems(ds, observed)
    if "inputs" in ds.data_vars:
        bad = ~np.isfinite(ds["inputs"].values) & valid[..., None]
        if bad.any():
            problems.append(
                f"inputs has {int(bad.sum())} NaN or infinite value(s) within the trials' "
                f"lengths, first at (trial, time, input) index {_first(bad)}"
            )
    return problems


def _activity_problems(ds: xr.Dataset, observed: np.ndarray) -> list[str]:
    problems = []
    a = ds["activity"].values
    bad = observed & ~np.isfinite(a)
    if bad.any():
        problems.append(
            f"activity has {int(bad.sum())} NaN or infinite value(s) where the mask is 1, "
            f"first at (trial, time, neuron) index {_first(bad)}; set the mask to 0 there"
        )
    if ds.attrs["kind"] == "counts":
        with np.errstate(invalid="ignore"):
            wrong = observed & np.isfinite(a) & ((a < 0) | (a != np.round(a)))
        if wrong.any():
            problems.append(
                f"activity holds {int(wrong.sum())} negative or non-integer count(s) "
                f"(kind='counts'), first at (trial, time, neuron) index {_first(wrong)}"
            )
    silent = ~observed.any(axis=(0, 1))
    if silent.any():
        labels = ds["neuron"].values[silent] if "neuron" in ds.coords else np.flatnonzero(silent)
        problems.append(
            f"neuron(s) {labels[:8].tolist()}{' …' if silent.sum() > 8 else ''} are masked in "
            "every trial and bin; drop them (ds.sel(neuron=...))"
        )
    return problems


def _time_problems(ds: xr.Dataset) -> list[str]:
    if "time" not in ds.coords or ds.sizes["time"] < 2:
        return []
    steps = np.diff(np.asarray(ds["time"].values, dtype=float))
    dt = float(ds.attrs["dt"])
    if np.allclose(steps, dt, rtol=_TIME_RTOL, atol=0.0):
        return []
    return [f"the time coordinate is not spaced by dt={dt} ms (steps {np.unique(steps)[:4]})"]


def _first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _float_array(name: str, value) -> np.ndarray:
    a = to_numpy(value)
    if a.dtype == bool or a.dtype.kind in "iu":
        return a.astype(np.float32)
    if a.dtype.kind != "f":
        raise ValueError(f"{name} must hold numbers, got dtype {a.dtype}")
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)


def _mask(name: str, value, shape: tuple) -> np.ndarray:
    if value is None:
        return np.ones(shape, dtype=bool)
    m = to_numpy(value)
    check_shape(name, m, shape)
    if m.dtype != bool and not (m.dtype.kind in "iuf" and np.all((m == 0) | (m == 1))):
        raise ValueError(f"{name} must hold bool or 0/1 values")
    return m.astype(bool)


def _lengths(value, n_trial: int, n_time: int) -> np.ndarray:
    if value is None:
        return np.full(n_trial, n_time, dtype=np.int32)
    a = to_numpy(value)
    check_shape("lengths", a, (n_trial,))
    if a.dtype.kind not in "iu" or np.any((a < 0) | (a > n_time)):
        raise ValueError(f"lengths must hold whole numbers in [0, {n_time}], got {a}")
    return a.astype(np.int32)


def _valid_steps(lengths: np.ndarray, n_time: int) -> np.ndarray:
    """(trial, time) True on the steps within each trial's length."""
    return np.arange(n_time)[None, :] < np.asarray(lengths)[:, None]


def _labels(name: str, value, n: int, prefix: str | None) -> np.ndarray:
    if value is None:
        default = np.arange(n, dtype=np.int32)
        return default if prefix is None else np.array([f"{prefix}{i}" for i in default])
    a = np.asarray(value)
    check_shape(name, a, (n,))
    if len(set(a.tolist())) != n:
        raise ValueError(f"{name} must be {n} distinct labels, got {a}")
    return a.astype(np.int32) if a.dtype.kind in "iu" else a


def _trial_coords(variables: dict | None, n_trial: int, coords: dict) -> list[str]:
    """Add the trial variables to ``coords``; return their names."""
    names = []
    for k, v in dict(variables or {}).items():
        if k in _RESERVED:
            raise ValueError(f"trial_variables: {k!r} is a reserved name ({sorted(_RESERVED)})")
        a = np.asarray(v)
        if a.shape != (n_trial,):
            raise ValueError(
                f"trial_variables[{k!r}] has shape {a.shape}; expected ({n_trial},), one per trial"
            )
        coords[k] = ("trial", a.astype(np.int8) if a.dtype == bool else a)
        names.append(str(k))
    return names


def _as_dataset(obj, variable: str | None) -> xr.Dataset:
    if isinstance(obj, xr.DataArray):
        ds = obj.to_dataset(name="activity")
        ds.attrs = dict(obj.attrs)
        return ds
    if not isinstance(obj, xr.Dataset):
        raise ValueError(
            f"obj must be an xarray.DataArray or Dataset, got {type(obj).__name__}; "
            "for arrays use neurodyn.io.recording(activity, inputs, dt=...)"
        )
    if variable is None:
        variable = "activity" if "activity" in obj.data_vars else "rates"
    if variable not in obj.data_vars:
        raise ValueError(
            f"obj has no variable {variable!r}; its variables are {list(obj.data_vars)} "
            "(name the activity with variable=...)"
        )
    keep = [v for v in ("inputs", "mask") if v in obj.data_vars and v != variable]
    # A simulation's mask is the loss mask over outputs, not an observation mask.
    if "mask" in keep and "output" in obj["mask"].dims:
        keep.remove("mask")
    ds = obj[[variable, *keep]].rename({variable: "activity"} if variable != "activity" else {})
    ds.attrs = dict(obj.attrs)
    return ds


def _infer_dt(ds: xr.Dataset, dt) -> float:
    if dt is not None:
        return check_positive("dt", dt)
    if "dt" in ds.attrs:
        return check_positive("obj.attrs['dt']", ds.attrs["dt"])
    if "time" in ds.coords and ds.sizes["time"] >= 2:
        steps = np.diff(np.asarray(ds["time"].values, dtype=float))
        if np.allclose(steps, steps[0], rtol=_TIME_RTOL, atol=0.0) and steps[0] > 0:
            return float(steps[0])
    raise ValueError(
        "dt is missing: pass dt=... (ms), or give obj a dt attribute or an evenly spaced "
        "time coordinate"
    )


def _complete(ds: xr.Dataset, dt: float, kind: str) -> xr.Dataset:
    """Fill in what a recording needs that a user's Dataset may lack."""
    ds = ds.transpose("trial", "time", "neuron", ...)
    n_trial, n_time = ds.sizes["trial"], ds.sizes["time"]
    if "length" not in ds.coords:
        ds = ds.assign_coords(length=("trial", np.full(n_trial, n_time, dtype=np.int32)))
    for name, size in (("trial", n_trial), ("time", n_time), ("neuron", ds.sizes["neuron"])):
        if name not in ds.coords:
            values = (np.arange(size) + 1.0) * dt if name == "time" else np.arange(size)
            ds = ds.assign_coords({name: values})
    if "inputs" in ds.data_vars:
        ds["inputs"] = ds["inputs"].transpose("trial", "time", ...)
    valid = _valid_steps(ds["length"].values, n_time)[..., None]
    given = True
    if "mask" in ds.data_vars:
        given = _mask("obj's mask", ds["mask"].values, ds["activity"].shape)
    observed = np.broadcast_to(given & valid, ds["activity"].shape)
    ds["mask"] = (("trial", "time", "neuron"), observed.astype(np.int8))
    names = [k for k, c in ds.coords.items() if c.dims == ("trial",) and k not in _RESERVED]
    ds.attrs.update(
        {
            "dt": dt,
            "kind": kind,
            "trial_variables": json.dumps(names),
            "neurodyn_version": ds.attrs.get("neurodyn_version", __version__),
        }
    )
    return check_recording(ds)
