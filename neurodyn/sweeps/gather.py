"""A sweep's runs gathered into one labelled Dataset (``DIR/sweep.nc``), and reading it back."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import xarray as xr

from .._version import __version__
from ..io.datasets import load_dataset, save_dataset
from .point import read_summary
from .spec import SweepSpec

__all__ = ["SWEEP_FILE", "gather", "open_sweep"]

#: The gathered results in a sweep's folder.
SWEEP_FILE = "sweep.nc"


def gather(spec: SweepSpec, out: Path, scheduler: str) -> xr.Dataset:
    """One Dataset along ``run`` from the summaries of ``spec``'s run folders, written
    atomically to ``out/sweep.nc``.

    Each swept parameter is a coordinate along ``run`` (its resolved value, also for
    points that leave it at the base run's), beside ``run_dir``; each metric a variable
    (NaN where a run has no such number, e.g. a stability class it does not have: the
    counts are 0 there instead). ``status`` is ``"done"`` or ``"failed"`` with the
    ``error``. Only runs with a summary are read, so an interrupted gather never sees a
    half-written run.

    Parameters
    ----------
    spec : SweepSpec
        The sweep (:func:`~neurodyn.sweeps.load_spec`); its points name the run folders.
    out : Path
        The sweep's folder, holding ``runs/<point>/summary.json``.
    scheduler : str
        A description of where the runs ran, stored in ``attrs["scheduler"]``.

    Returns
    -------
    xarray.Dataset
        One entry per point along ``run``, also written to ``out/sweep.nc``.

    Raises
    ------
    ValueError
        When a run has no summary yet.

    Examples
    --------
    The summaries that two finished runs wrote, gathered:

    >>> import json
    >>> from pathlib import Path
    >>> from neurodyn.sweeps import load_spec
    >>> spec = load_spec({"model_config": {"n_hidden": 8}, "grid": {"seed": [0, 1]}})
    >>> for point, loss in zip(spec.points, [0.12, 0.08]):
    ...     run_dir = Path("sweep", "runs", point.name)
    ...     run_dir.mkdir(parents=True)
    ...     summary = {"status": "done", "error": "", "val_loss": loss, "n_stable": 2}
    ...     _ = (run_dir / "summary.json").write_text(json.dumps(summary))
    >>> ds = gather(spec, Path("sweep"), "this process (serial)")
    >>> ds["seed"].values.tolist(), ds["val_loss"].values.tolist()
    ([0, 1], [0.12, 0.08])
    >>> ds["run_dir"].values.tolist(), (Path("sweep") / "sweep.nc").is_file()
    (['runs/seed=0', 'runs/seed=1'], True)
    """
    summaries = []
    for p in spec.points:
        s = read_summary(out / "runs" / p.name)
        if s is None:
            raise ValueError(f"run {p.name!r} has no summary; it has not finished")
        summaries.append(s)
    names = [p.name for p in spec.points]
    ds = xr.Dataset(coords={"run": np.arange(len(names))})
    ds = ds.assign_coords(run_dir=("run", np.array([f"runs/{n}" for n in names], dtype=str)))
    for param in spec.parameters:
        values = [_resolved(p.run, param) for p in spec.points]
        ds = ds.assign_coords({param: ("run", _column(values))})
    keys = list(dict.fromkeys(k for s in summaries for k in s))
    for key in keys:
        values = [s.get(key) for s in summaries]
        if key in ("status", "error"):
            ds[key] = ("run", np.array([v or "" for v in values], dtype=str))
        else:
            fill = 0 if key.startswith("n_") else math.nan
            ds[key] = ("run", _column([fill if v is None else v for v in values]))
    ds.attrs.update(
        spec=json.dumps(spec.spec, sort_keys=True),
        analyses=json.dumps(spec.analyses, sort_keys=True),
        neurodyn_version=__version__,
        scheduler=scheduler,
    )
    save_dataset(ds, out / SWEEP_FILE)
    return ds


def _resolved(run: dict, param: str):
    if param in run:
        return run[param]
    for section in ("model_config", "fit", "task_config"):
        if param in run[section]:
            return run[section][param]
    return None


def _column(values: list) -> np.ndarray:
    """A coordinate or variable: numbers as numbers, anything else as text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array(["none" if v is None else str(v) for v in values], dtype=str)


def open_sweep(out: str | os.PathLike, *, evaluations: bool = False):
    """The gathered results of the sweep in folder ``out``.

    Parameters
    ----------
    out : path-like
        The sweep's folder (``--out``).
    evaluations : bool
        Also attach each run's evaluation Dataset (``evaluation.nc``, read lazily).

    Returns
    -------
    xarray.Dataset or xarray.DataTree
        The Dataset of :func:`gather`; with ``evaluations``, a DataTree whose root is
        that Dataset and whose node ``runs/<run_dir name>`` holds each finished run's
        evaluation Dataset.

    Examples
    --------
    Reading back what :func:`~neurodyn.sweep` gathered (here from two summaries
    written as finished runs write them):

    >>> import json
    >>> from pathlib import Path
    >>> from neurodyn.sweeps import load_spec
    >>> spec = load_spec({"model_config": {"n_hidden": 8}, "grid": {"seed": [0, 1]}})
    >>> for point, loss in zip(spec.points, [0.12, 0.08]):
    ...     run_dir = Path("sweep", "runs", point.name)
    ...     run_dir.mkdir(parents=True)
    ...     summary = {"status": "done", "error": "", "val_loss": loss, "n_stable": 2}
    ...     _ = (run_dir / "summary.json").write_text(json.dumps(summary))
    >>> _ = gather(spec, Path("sweep"), "this process (serial)")
    >>> ds = open_sweep("sweep")
    >>> ds.sizes["run"], ds["status"].values.tolist(), ds.attrs["scheduler"]
    (2, ['done', 'done'], 'this process (serial)')
    """
    out = Path(out)
    path = out / SWEEP_FILE
    if not path.is_file():
        raise ValueError(f"{str(out)!r} has no {SWEEP_FILE}; run `neurodyn sweep` into it first")
    ds = load_dataset(path)
    if not evaluations:
        return ds
    children = {}
    for run_dir, status in zip(ds["run_dir"].values, ds["status"].values, strict=True):
        file = out / str(run_dir) / "evaluation.nc"
        if status == "done" and file.is_file():
            # Lazily, without a memory map (see neurodyn.io.datasets.load_dataset).
            children[str(run_dir)] = xr.open_dataset(file, engine="scipy", mmap=False)
    return xr.DataTree.from_dict({"/": ds, **children})
