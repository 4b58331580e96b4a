"""Where training batches come from: a task, or a user's xarray Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..io.datasets import dataset_to_batch
from ..seeding import make_rng

__all__ = ["DatasetSource", "TaskSource", "trial_ranks", "validate_dataset"]


class TaskSource:
    """Fresh trials from a task; the batch of step ``k`` depends only on ``(seed, k)``.

    Training batches come from the ``data`` stream of ``seed`` keyed by stage and
    step; the validation trials, drawn once, from its ``validation`` stream
    (:mod:`neurodyn.seeding`).

    Parameters
    ----------
    task : Task
        The task trials are drawn from.
    seed : int
        The training seed.
    n_validation : int
        Validation trials, drawn once at construction.
    stage : int
        Index of the curriculum stage (a sub-key of the streams, so stages on the same
        task draw different trials).

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks import FlipFlop
    >>> src = TaskSource(FlipFlop(n_bits=1), seed=0, n_validation=8)
    >>> src.train_batch(3, 4).n_trials, src.validation_batch().n_trials, src.loss
    (4, 8, 'mse')
    >>> again = TaskSource(FlipFlop(n_bits=1), seed=0, n_validation=8)
    >>> np.array_equal(src.train_batch(3, 4).inputs, again.train_batch(3, 4).inputs)
    True
    """

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
    wherever it is positive. ``attrs["dt"]`` (ms) and at least 2 trials are required.

    Parameters
    ----------
    ds : xarray.Dataset
        The Dataset to train on.
    n_input, n_output : int, optional
        The model's input and output sizes, checked against the ``input`` and
        ``output`` dimensions when given.

    Raises
    ------
    ValueError
        Naming the first problem found.

    Examples
    --------
    >>> from neurodyn.tasks import FlipFlop
    >>> ds = FlipFlop(n_bits=1).batch(4, seed=0).to_xarray()
    >>> validate_dataset(ds, n_input=1, n_output=1)  # no error: it can be trained on
    >>> validate_dataset(ds.drop_vars("targets"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: dataset is missing the variable 'targets'; expected targets with dims ...
    >>> validate_dataset(ds, n_output=2)
    Traceback (most recent call last):
    ...
    ValueError: dataset has 1 output channels; the model expects n_output=2
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


def dataset_batch(ds):
    """A validated training Dataset as a :class:`~neurodyn.tasks.Batch` with a mask,
    channel and time coordinates, and 0 wherever a target is missing."""
    if "mask" not in ds:
        ds = ds.assign(mask=xr.ones_like(ds["targets"]))
    if "input" not in ds.coords:
        ds = ds.assign_coords(input=[f"in{i}" for i in range(ds.sizes["input"])])
    if "output" not in ds.coords:
        ds = ds.assign_coords(output=[f"out{i}" for i in range(ds.sizes["output"])])
    if "time" not in ds.coords:
        ds = ds.assign_coords(time=(np.arange(ds.sizes["time"]) + 1) * float(ds.attrs["dt"]))
    batch = dataset_to_batch(ds)
    # Missing targets (NaN under a zero mask) become 0 once here, so no batch
    # carries a NaN; the losses ignore them either way.
    batch.targets = np.where(batch.mask > 0, batch.targets, 0.0).astype(np.float32)
    return batch


def split_sizes(n_trials: int, val_fraction: float) -> tuple[int, int]:
    """(training, validation) trials of a Dataset split by ``val_fraction``: at least
    one of each."""
    n_val = min(max(int(round(val_fraction * n_trials)), 1), n_trials - 1)
    return n_trials - n_val, n_val


def trial_ranks(datasets, seed: int) -> list[np.ndarray]:
    """A seeded rank for every trial of each Dataset, shared by trial label.

    The labels (``trial`` coordinate; positions where a Dataset has none) of all
    ``datasets`` are ranked once by a seeded permutation, so a label has the same
    rank in every Dataset that holds it. :class:`DatasetSource` holds out a Dataset's
    lowest-ranked trials: Datasets of the same trials hold out the same ones. For one
    Dataset labelled ``0..n-1`` the held-out trials are those of the default split.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        The Datasets whose trials are ranked together.
    seed : int
        The training seed (its ``validation`` stream makes the ranking).

    Returns
    -------
    list of ndarray of int
        For each Dataset, the rank of each of its trials.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.Dataset(coords={"trial": [0, 1, 2, 3]})
    >>> ranks = trial_ranks([a, a.isel(trial=[3, 1])], seed=0)
    >>> ranks[1].tolist() == ranks[0][[3, 1]].tolist()
    True
    """
    labels = [_trial_labels(ds) for ds in datasets]
    kinds = {lab.dtype.kind for lab in labels}
    if len(kinds) > 1 and not kinds <= set("iu"):
        # Integer positions and text labels meet only as text.
        labels = [lab.astype(str) for lab in labels]
    union = np.unique(np.concatenate(labels))
    order = make_rng(seed, "validation").permutation(union.size)
    rank_of = np.empty(union.size, dtype=np.int64)
    rank_of[order] = np.arange(union.size)
    return [rank_of[np.searchsorted(union, lab)] for lab in labels]


def _trial_labels(ds) -> np.ndarray:
    if "trial" in ds.coords:
        return np.asarray(ds["trial"].values)
    return np.arange(ds.sizes["trial"])


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Mini-batches in one pass over ``n_train`` trials (the last may be smaller)."""
    return -(-n_train // batch_size)


class DatasetSource:
    r"""Mini-batches of a user's Dataset, validated on held-out trials.

    Validation uses ``validation`` (a separate Dataset) when given, else a seeded
    ``val_fraction`` of ``ds``'s trials. Mini-batches are either drawn independently
    at every step (``epochs=False``: ``batch_size`` distinct trials), or, with
    ``epochs=True``, taken in order from a fresh seeded permutation of the training
    trials every epoch, so that each epoch sees every training trial exactly once
    (the last mini-batch of an epoch holds the remainder). Either way the batch of
    step ``k`` depends only on ``(seed, k)``, so a resumed run is exact.

    The held-out trials are the first ``val_fraction`` of a seeded permutation of the
    trials, or, given ``ranks`` (one per trial, :func:`trial_ranks`), the
    lowest-ranked ones.

    With ``loss="cross_entropy"`` a trial is scored ``correct`` when the arg-max of
    the outputs is the target class at every step its mask counts (for a classifier
    read out at the last step, the usual accuracy).

    Parameters
    ----------
    ds : xarray.Dataset
        A validated training Dataset (:func:`validate_dataset`).
    seed : int
        The training seed: the split and every mini-batch come from it.
    val_fraction : float
        Fraction of the trials held out for validation (at least one trial is held
        out and one kept), when ``validation`` is not given.
    loss : {"mse", "cross_entropy"}
        The loss trained with (``"cross_entropy"`` scores validation accuracy).
    validation : xarray.Dataset, optional
        A separate validation Dataset; every trial of ``ds`` is then trained on.
    batch_size : int, optional
        Trials per mini-batch in epochs (required with ``epochs=True``).
    epochs : bool
        Take mini-batches in epochs (each training trial once per epoch) rather than
        draw them independently at every step.
    ranks : ndarray of int, optional
        A rank per trial (:func:`trial_ranks`): the lowest-ranked are held out.

    Examples
    --------
    Six trials, two held out; in epochs of mini-batches of 2, each epoch covers the
    four training trials once:

    >>> from neurodyn.tasks import FlipFlop
    >>> ds = FlipFlop(n_bits=1).batch(6, seed=0).to_xarray()
    >>> src = DatasetSource(ds, seed=0, val_fraction=0.34, batch_size=2, epochs=True)
    >>> len(src.train_index), src.validation_batch().n_trials, src.steps_per_epoch
    (4, 2, 2)
    >>> epoch = np.concatenate([src.batch_index(k, 2) for k in range(2)])
    >>> sorted(epoch.tolist()) == src.train_index.tolist()
    True
    """

    def __init__(
        self,
        ds,
        *,
        seed: int,
        val_fraction: float,
        loss: str = "mse",
        validation=None,
        batch_size: int | None = None,
        epochs: bool = False,
        ranks: np.ndarray | None = None,
    ):
        self.batch = dataset_batch(ds)
        self.loss = loss
        self.seed = seed
        n = self.batch.n_trials
        if validation is None:
            if ranks is None:
                order = make_rng(seed, "validation").permutation(n)
            else:
                order = np.argsort(ranks, kind="stable")
            n_val = split_sizes(n, val_fraction)[1]
            self.val_index = np.sort(order[:n_val])
            self.train_index = np.sort(order[n_val:])
            self._val = self.batch.subset(self.val_index)
        else:
            self.val_index = np.arange(0)
            self.train_index = np.arange(n)
            self._val = dataset_batch(validation)
        self.epochs = bool(epochs)
        self.batch_size = batch_size
        if self.epochs and batch_size is None:
            raise ValueError("epochs=True needs batch_size")

    @property
    def steps_per_epoch(self) -> int:
        return steps_per_epoch(len(self.train_index), self.batch_size)

    def batch_index(self, step: int, batch_size: int) -> np.ndarray:
        """The trials (rows of the Dataset) of step ``step``'s mini-batch, sorted.

        Parameters
        ----------
        step : int
            The optimisation step (0-based).
        batch_size : int
            Trials per mini-batch when they are drawn independently (at most the
            training trials); in epochs the source's own ``batch_size`` is used.
        """
        if self.epochs:
            epoch, k = divmod(step, self.steps_per_epoch)
            # Sub-key 1 keeps the epochs' permutations apart from the independent
            # draws (sub-key 0) of the same seed.
            order = make_rng(self.seed, "data", 1, epoch).permutation(self.train_index)
            b = self.batch_size
            return np.sort(order[k * b : (k + 1) * b])
        rng = make_rng(self.seed, "data", 0, step)
        k = min(batch_size, len(self.train_index))
        return np.sort(rng.choice(self.train_index, size=k, replace=False))

    def train_batch(self, step: int, batch_size: int):
        return self.batch.subset(self.batch_index(step, batch_size))

    def validation_batch(self):
        return self._val

    def evaluate(self, outputs, batch):
        if self.loss != "cross_entropy":
            return {}
        return {"correct": class_correct(outputs, batch.targets, batch.mask)}


def class_correct(outputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per trial: 1.0 when the arg-max output is the target class at every counted step,
    0.0 when it is not at one of them, NaN when the mask counts no step.

    Examples
    --------
    >>> t = np.zeros((2, 2, 3)); t[:, 1, 2] = 1.0
    >>> m = np.zeros_like(t); m[:, 1] = 1.0
    >>> y = np.zeros_like(t); y[0, 1, 2] = 1.0; y[1, 1, 0] = 1.0
    >>> class_correct(y, t, m).tolist()
    [1.0, 0.0]
    """
    counted = mask.max(axis=-1) > 0
    hit = outputs.argmax(axis=-1) == targets.argmax(axis=-1)
    wrong = (counted & ~hit).any(axis=-1)
    return np.where(counted.any(axis=-1), np.where(wrong, 0.0, 1.0), np.nan)
