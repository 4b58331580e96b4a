"""Where training batches come from: a task, or a user's xarray Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..io.datasets import dataset_to_batch
from ..seeding import make_rng

__all__ = ["DatasetSource", "TaskSource", "validate_dataset"]


class TaskSource:
    """Fresh trials from a task; the batch of step ``k`` depends only on ``(seed, k)``."""

    def __init__(self, task, *, seed: int, n_validation: int, stage: int = 0):
        self.task = task
        self.seed = seed
        self.stage = stage
        self.loss = task.loss
        self._val = task.batch(n_validation, seed=make_rng(seed, "validation", stage))

    def train_batch(self, step: int, batch_size: int):
        return self.task.batch(batch_size, seed=make_rng(self.seed, "data", self.stage, step))

    def validation_batch(self):
        return self._val

    def evaluate(self, outputs, batch):
        return self.task.evaluate(outputs, batch)


def validate_dataset(ds, *, n_input: int | None = None, n_output: int | None = None) -> None:
    """Check that ``ds`` can be trained on; raise ValueError naming what is wrong.

    Requires ``inputs`` (trial, time, input) and ``targets`` (trial, time, output);
    ``mask`` is optional with the dims of ``targets``. Inputs and mask must be finite;
    targets may be NaN (gaps in recorded data) where the mask is 0, and must be finite
    wherever it is positive.
    """
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"data must be a Task, a Curriculum or an xarray.Dataset, got {type(ds)}")
    for var, dims in (
        ("inputs", ("trial", "time", "input")),
        ("targets", ("trial", "time", "output")),
    ):
        if var not in ds:
            raise ValueError(
                f"dataset is missing the variable {var!r}; expected {var} with dims {dims} "
                f"(found variables {sorted(ds.data_vars)})"
            )
        if tuple(ds[var].dims) != dims:
            raise ValueError(f"dataset variable {var!r} has dims {ds[var].dims}; expected {dims}")
    if not np.all(np.isfinite(ds["inputs"].values)):
        raise ValueError("dataset variable 'inputs' contains NaN or infinite values")
    if "mask" in ds:
        if tuple(ds["mask"].dims) != tuple(ds["targets"].dims):
            raise ValueError(
                f"dataset variable 'mask' has dims {ds['mask'].dims}; expected those of "
                f"'targets' {ds['targets'].dims}"
            )
        m = ds["mask"].values
        if not np.all(np.isfinite(m)) or np.any(m < 0):
            raise ValueError("dataset variable 'mask' must be finite and non-negative")
    _check_missing_targets(ds)
    if "dt" not in ds.attrs:
        raise ValueError("dataset attrs must contain 'dt' (the time step in ms)")
    if n_input is not None and ds.sizes["input"] != n_input:
        raise ValueError(
            f"dataset has {ds.sizes['input']} input channels; the model expects n_input={n_input}"
        )
    if n_output is not None and ds.sizes["output"] != n_output:
        raise ValueError(
            f"dataset has {ds.sizes['output']} output channels; the model expects "
            f"n_output={n_output}"
        )
    if ds.sizes["trial"] < 2:
        raise ValueError("dataset needs at least 2 trials (some are held out for validation)")


def _check_missing_targets(ds) -> None:
    """Targets may be missing (NaN) only where a mask gives them zero weight."""
    targets = ds["targets"].values
    bad = ~np.isfinite(targets)
    if not bad.any():
        return
    if "mask" not in ds:
        raise ValueError(
            f"dataset variable 'targets' contains {int(bad.sum())} NaN or infinite values "
            "and the dataset has no 'mask'; add a mask (dims of 'targets') that is 0 "
            "wherever a target is missing"
        )
    counted = bad & (ds["mask"].values > 0)
    if counted.any():
        i, t, o = np.argwhere(counted)[0]
        raise ValueError(
            f"dataset variable 'targets' contains {int(counted.sum())} NaN or infinite "
            f"values where 'mask' is positive (first at trial {i}, time index {t}, output "
            f"{o}); set the mask to 0 wherever a target is missing"
        )


class DatasetSource:
    """Mini-batches of a user's Dataset, with a seeded train/validation split."""

    def __init__(self, ds, *, seed: int, val_fraction: float, loss: str = "mse"):
        if "mask" not in ds:
            ds = ds.assign(mask=xr.ones_like(ds["targets"]))
        if "input" not in ds.coords:
            ds = ds.assign_coords(input=[f"in{i}" for i in range(ds.sizes["input"])])
        if "output" not in ds.coords:
            ds = ds.assign_coords(output=[f"out{i}" for i in range(ds.sizes["output"])])
        if "time" not in ds.coords:
            ds = ds.assign_coords(time=(np.arange(ds.sizes["time"]) + 1) * float(ds.attrs["dt"]))
        self.batch = dataset_to_batch(ds)
        # Missing targets (NaN under a zero mask) become 0 once here, so no batch
        # carries a NaN; the losses ignore them either way.
        self.batch.targets = np.where(self.batch.mask > 0, self.batch.targets, 0.0).astype(
            np.float32
        )
        self.loss = loss
        self.seed = seed
        n = self.batch.n_trials
        order = make_rng(seed, "validation").permutation(n)
        n_val = min(max(int(round(val_fraction * n)), 1), n - 1)
        self.val_index = np.sort(order[:n_val])
        self.train_index = np.sort(order[n_val:])
        self._val = self.batch.subset(self.val_index)

    def train_batch(self, step: int, batch_size: int):
        rng = make_rng(self.seed, "data", 0, step)
        k = min(batch_size, len(self.train_index))
        return self.batch.subset(np.sort(rng.choice(self.train_index, size=k, replace=False)))

    def validation_batch(self):
        return self._val

    def evaluate(self, outputs, batch):
        return {}
