"""A task batch as a labelled :class:`xarray.Dataset`, and back.

The Dataset has dims ``trial, time, input, output`` (time in ms); every trial variable
and period onset/offset is a coordinate along ``trial``; ``attrs`` hold ``dt``, the
seed, the neurodyn version and the task's configuration as JSON. Every variable uses a
type the netCDF3 format stores (float32/float64, int32, int8, strings), so a batch
round-trips through :func:`neurodyn.io.save_dataset`.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .._version import __version__
from .base import Batch

__all__ = ["batch_to_dataset", "dataset_to_batch"]


def _netcdf_safe(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values)
    if v.dtype == bool:
        return v.astype(np.int8)
    if v.dtype.kind in "iu":
        return v.astype(np.int32)
    if v.dtype.kind == "U":
        return v.astype(str)
    return v


def batch_to_dataset(batch, **extra_vars) -> xr.Dataset:
    """Convert a :class:`~neurodyn.tasks.Batch` to a Dataset.

    ``extra_vars`` are more ``name=(dims, values)`` entries (for example ``rates``).

    Parameters
    ----------
    batch : Batch
        The trials.
    **extra_vars
        More data variables, each ``(dims, values)`` as :class:`xarray.Dataset`
        takes them, with dims among ``trial``, ``time``, ``input``, ``output`` or
        new ones (``unit``).

    Returns
    -------
    xarray.Dataset
        Variables ``inputs`` (trial, time, input), ``targets`` and ``mask`` (trial,
        time, output) and ``extra_vars``; coordinates ``time`` (ms, the end of each
        step), the channel names, ``length`` and every trial variable and
        ``<period>_on``/``<period>_off`` (ms) along ``trial``; ``attrs`` ``dt``,
        ``seed`` (-1 for none), ``neurodyn_version`` and, as JSON, ``task``,
        ``trial_variables`` and ``periods``.

    Raises
    ------
    ValueError
        If ``batch`` is not a Batch, or a trial variable has the name of a
        coordinate (``length``, ``trial``, a period's ``<name>_on`` ...).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.io import batch_to_dataset
    >>> from neurodyn.tasks import PerceptualDecisionMaking
    >>> batch = PerceptualDecisionMaking(dt=20).batch(4, seed=0, coherence=12.8)
    >>> rates = np.zeros((4, batch.n_steps, 5))
    >>> ds = batch_to_dataset(batch, rates=(("trial", "time", "unit"), rates))
    >>> dict(ds.sizes)
    {'trial': 4, 'time': 120, 'input': 3, 'output': 3, 'unit': 5}
    >>> ds["coherence"].values.tolist(), float(ds["decision_on"][0]), ds.attrs["dt"]
    ([12.8, 12.8, 12.8, 12.8], 2100.0, 20.0)
    """
    if not isinstance(batch, Batch):
        raise ValueError(
            f"batch must be a neurodyn.tasks.Batch (task.batch(...)), got {type(batch).__name__}"
        )
    coords = {
        "trial": np.arange(batch.n_trials, dtype=np.int32),
        "time": batch.time,
        "input": list(batch.input_names),
        "output": list(batch.output_names),
        "length": ("trial", batch.lengths.astype(np.int32)),
    }
    reserved = (
        set(coords)
        | {"unit", "state"}
        | {f"{p}_{edge}" for p in batch.periods for edge in ("on", "off")}
    )
    for k, v in batch.variables.items():
        if k in reserved:
            raise ValueError(
                f"trial variable {k!r} would overwrite the coordinate of the same name; "
                "rename the variable"
            )
        coords[k] = ("trial", _netcdf_safe(v))
    for p, (on, off) in batch.periods.items():
        coords[f"{p}_on"] = ("trial", on.astype(float))
        coords[f"{p}_off"] = ("trial", off.astype(float))
    data_vars = {
        "inputs": (("trial", "time", "input"), batch.inputs),
        "targets": (("trial", "time", "output"), batch.targets),
        "mask": (("trial", "time", "output"), batch.mask),
    }
    data_vars.update(extra_vars)
    ds = xr.Dataset(data_vars, coords=coords)
    ds["time"].attrs["units"] = "ms"
    ds.attrs.update(
        {
            "dt": float(batch.dt),
            "seed": -1 if batch.seed is None else int(batch.seed),
            "neurodyn_version": __version__,
            "task": json.dumps(batch.task),
            "trial_variables": json.dumps(list(batch.variables)),
            "periods": json.dumps(list(batch.periods)),
        }
    )
    return ds


def dataset_to_batch(ds: xr.Dataset):
    """Rebuild a :class:`~neurodyn.tasks.Batch` from a Dataset made by :func:`batch_to_dataset`.

    Parameters
    ----------
    ds : xarray.Dataset
        A Dataset made by :func:`batch_to_dataset`.

    Raises
    ------
    ValueError
        If ``ds`` is not a Dataset or lacks what a batch needs: the variables
        ``inputs`` and ``targets`` (trial, time, channel), the ``input`` and ``output``
        coordinates and the ``dt`` attribute.

    Notes
    -----
    A Dataset from elsewhere (a simulation, a user's data) needs only what is listed
    under *Raises*: a missing ``mask`` is all ones, a missing ``length`` the full
    ``time`` size, and every 1-D coordinate along ``trial`` becomes a trial variable.

    Examples
    --------
    A batch survives a round trip through a netCDF file:

    >>> import numpy as np
    >>> from neurodyn.io import batch_to_dataset, dataset_to_batch, load_dataset, save_dataset
    >>> from neurodyn.tasks import PerceptualDecisionMaking
    >>> batch = PerceptualDecisionMaking(dt=20).batch(4, seed=0, coherence=12.8)
    >>> path = save_dataset(batch_to_dataset(batch), "trials.nc")
    >>> back = dataset_to_batch(load_dataset(path))
    >>> bool(np.array_equal(back.inputs, batch.inputs)), back.seed, back.task["name"]
    (True, 0, 'perceptual_dm')
    >>> list(back.periods), back.variables["ground_truth"].tolist()
    (['fixation', 'stimulus', 'delay', 'decision'], [1, 1, 1, 1])
    """
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    missing = [k for k in ("inputs", "targets") if k not in ds.data_vars]
    missing += [k for k in ("input", "output") if k not in ds.coords]
    missing += ["attrs['dt']"] if "dt" not in ds.attrs else []
    if missing:
        raise ValueError(
            f"ds lacks {', '.join(missing)}; expected a Dataset made by batch_to_dataset or "
            "neurodyn.simulate (variables inputs and targets, coordinates input and output, "
            "attribute dt)"
        )

    if "trial_variables" in ds.attrs:
        names = json.loads(ds.attrs["trial_variables"])
    else:
        # A user's data set: every 1-D coordinate along ``trial`` is a trial variable.
        names = [
            k for k, c in ds.coords.items() if c.dims == ("trial",) and k not in ("trial", "length")
        ]
    variables = {k: ds[k].values for k in names}
    periods = {
        p: (ds[f"{p}_on"].values, ds[f"{p}_off"].values)
        for p in json.loads(ds.attrs.get("periods", "[]"))
    }
    seed = int(ds.attrs.get("seed", -1))
    lengths = (
        ds["length"].values.astype(np.int64)
        if "length" in ds.coords
        else np.full(ds.sizes["trial"], ds.sizes["time"], dtype=np.int64)
    )
    return Batch(
        ds["inputs"].values.astype(np.float32),
        ds["targets"].values.astype(np.float32),
        ds["mask"].values.astype(np.float32)
        if "mask" in ds
        else np.ones(ds["targets"].shape, dtype=np.float32),
        lengths,
        variables,
        periods,
        float(ds.attrs["dt"]),
        tuple(str(x) for x in ds["input"].values),
        tuple(str(x) for x in ds["output"].values),
        json.loads(ds.attrs.get("task", "{}")),
        None if seed < 0 else seed,
    )
