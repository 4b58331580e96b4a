"""Labelled results: batches and simulations as :class:`xarray.Dataset`.

Schema (DESIGN.md, principle 4): dims ``trial, time, unit`` plus ``input`` and
``output``; ``time`` in ms; every trial variable and period onset/offset is a
coordinate along ``trial``; per-unit labels (``ei``, ``tau``) are coordinates along
``unit``; ``attrs`` hold ``dt``, the seed, the neurodyn version and the full
configuration as a JSON string. Every variable uses a type that the netCDF3 format
can store (float32/float64, int32, int8, strings), so the datasets round-trip with
the SciPy engine that needs no extra dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from ..tasks.labelled import batch_to_dataset, dataset_to_batch
from ._formats import check_path, describe_file, suffix_format
from .atomic import atomic_path

__all__ = ["batch_to_dataset", "dataset_to_batch", "load_dataset", "save_dataset"]


_NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")


def _check_dataset(ds, path) -> None:
    """Refuse anything but an :class:`xarray.Dataset`, saying what to pass instead."""
    if isinstance(ds, xr.Dataset):
        return
    if isinstance(ds, (str, os.PathLike)) and isinstance(path, xr.Dataset):
        hint = "the arguments are in the wrong order: save_dataset(ds, path)"
    elif isinstance(ds, xr.DataArray):
        hint = f"make it one first: ds.to_dataset(name={ds.name or 'values'!r})"
    elif hasattr(ds, "to_xarray") and hasattr(ds, "save"):
        hint = "an analysis result saves itself: result.save(path)"
    elif hasattr(ds, "to_xarray"):
        hint = "convert it first: save_dataset(obj.to_xarray(), path)"
    else:
        hint = "for example the result of neurodyn.simulate"
    raise ValueError(f"ds must be an xarray.Dataset, got {type(ds).__name__}; {hint}")


def _dataset_path(path) -> Path:
    """The file :func:`save_dataset` writes: ``.nc`` appended when ``path`` has no file suffix;
    a suffix naming another format is refused."""
    path = check_path("path", path)
    if path.is_dir():
        raise ValueError(
            f"path {str(path)!r} is a folder; expected a file name such as "
            f"{str(path / 'data.nc')!r}"
        )
    if path.suffix.lower() in _NETCDF_SUFFIXES:
        return path
    fmt = suffix_format(path)
    if fmt is not None:
        raise ValueError(
            f"path {str(path)!r} ends in {path.suffix!r} ({fmt}), but save_dataset writes "
            f"netCDF; expected a path ending in .nc, e.g. {str(path.with_suffix('.nc'))!r}"
        )
    return path.with_name(path.name + ".nc")


def save_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to netCDF atomically (xarray's default engine) and return the path.

    Parameters
    ----------
    ds : xarray.Dataset
        For example the result of :func:`neurodyn.simulate` or
        :func:`batch_to_dataset`.
    path : path-like
        Destination. A path ending in ``.nc`` (or ``.nc4``, ``.cdf``, ``.netcdf``) is
        written as given; ``.nc`` is appended to one without a file suffix; a path whose
        suffix names another format (``.csv``, ``.npz``, ``.h5``…) is refused.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If ``ds`` is not a Dataset, ``path`` is unusable, or ``ds`` holds values netCDF
        cannot store (complex numbers, nested attributes); an existing file at ``path``
        is then left as it was.

    Examples
    --------
    >>> from neurodyn import simulate
    >>> from neurodyn.io import load_dataset, save_dataset
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> task = FlipFlop(n_bits=2, timing={"trial": 200})
    >>> ds = simulate(RateRNN(2, 8, 2, dt=10.0, seed=0), task, n_trials=3, seed=1)
    >>> path = save_dataset(ds, "flipflop_run")
    >>> path.name
    'flipflop_run.nc'
    >>> load_dataset(path).identical(ds)
    True
    """
    _check_dataset(ds, path)
    path = _dataset_path(path)
    try:
        with atomic_path(path, suffix=".nc") as tmp:
            ds.to_netcdf(tmp)
    except (TypeError, ValueError) as err:
        raise ValueError(f"ds cannot be stored as netCDF: {err}") from None
    return path


def _folder_message(folder: Path) -> str:
    head = f"{str(folder)!r} is a folder; load_dataset expects a netCDF file (.nc)"
    found = sorted(p.name for p in folder.glob("*.nc") if p.is_file())
    if not found:
        return f"{head}, and it holds none"
    return (
        f"{head}. netCDF files in it: "
        + ", ".join(repr(n) for n in found[:8])
        + (", …" if len(found) > 8 else "")
    )


def load_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Load a netCDF file fully into memory (the file is closed on return).

    Parameters
    ----------
    path : str or os.PathLike
        The netCDF file.

    Raises
    ------
    ValueError
        If ``path`` is a folder (the message lists the netCDF files in it), does not
        exist, or is not a readable netCDF file (the message names the format found,
        e.g. a CSV table or a PyTorch checkpoint).

    Returns
    -------
    xarray.Dataset
        The file's contents, every array in memory.

    Examples
    --------
    >>> from neurodyn.io import batch_to_dataset, load_dataset, save_dataset
    >>> from neurodyn.tasks import FlipFlop
    >>> ds = batch_to_dataset(FlipFlop(n_bits=2).batch(3, seed=0))
    >>> loaded = load_dataset(save_dataset(ds, "flipflop.nc"))
    >>> dict(loaded.sizes), float(loaded.attrs["dt"])
    ({'trial': 3, 'time': 100, 'input': 2, 'output': 2}, 10.0)
    >>> from pathlib import Path
    >>> _ = Path("notes.csv").write_text("trial,choice")
    >>> load_dataset("notes.csv")
    Traceback (most recent call last):
    ...
    ValueError: 'notes.csv' is not a netCDF file: it is a text file (CSV?)
    """
    path = check_path("path", path)
    if path.is_dir():
        raise ValueError(_folder_message(path))
    if not path.is_file():
        raise ValueError(f"dataset file {str(path)!r} does not exist")
    found = describe_file(path)
    readable = {"a netCDF-3 file"}
    if {"netcdf4", "h5netcdf"} & set(xr.backends.list_engines()):
        readable.add(found if found.startswith("an HDF5 file") else "a netCDF-3 file")
    if found not in readable:
        hint = ""
        if found.startswith("an HDF5 file"):
            hint = (
                "; this installation reads netCDF-3 only (neurodyn writes netCDF-3): install "
                "h5netcdf or netCDF4 to read netCDF-4"
            )
        raise ValueError(f"{str(path)!r} is not a netCDF file: it is {found}{hint}")
    # A netCDF-3 file is read without a memory map: the arrays are then copies, and the
    # file closes cleanly wherever it is read (SciPy warns otherwise when arrays still
    # refer to the mapped file, as happens in dask worker processes).
    kwargs = {"engine": "scipy", "mmap": False} if found == "a netCDF-3 file" else {}
    try:
        return xr.load_dataset(path, **kwargs)
    except (OSError, ValueError, TypeError, KeyError, IndexError) as err:
        raise ValueError(f"{str(path)!r} is {found} that cannot be read: {err}") from None
