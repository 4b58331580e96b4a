r"""Sequential (and permuted sequential) 8x8 digits: the CPU-sized sequential MNIST.

scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes) fed to a
network one pixel per step (64 steps, one input) or one row per step
(``per_step="row"``: 8 steps, 8 inputs), and classified from the output at the
last step. It stands in for sequential MNIST (784 steps) in the RNNs-of-RNNs and
wave-RNN reproductions, where the full data set would need a GPU.

API
---
``SequentialDigits(per_step="pixel"|"row", permuted=False, permutation_seed=0,
split="train"|"test"|"all", test_fraction=0.25, split_seed=0)``

* Channels: inputs ``pixel`` (or ``row_px0`` … ``row_px7``), values in [0, 1];
  outputs ``digit0`` … ``digit9``, trained with cross-entropy
  (:attr:`~SequentialDigits.loss`), the loss mask is 1 on the last step only.
* Trial variables: ``index`` (row of the image in scikit-learn's array; fix it to
  choose images) and ``label`` (derived, the digit).
* ``permuted=True`` applies one fixed pixel permutation, drawn from
  ``permutation_seed`` (psMNIST); the same seed gives the same permutation everywhere.
* Splits are deterministic and stratified: each class puts ``round(test_fraction *
  n_class)`` of its images (chosen by ``split_seed``) in ``"test"``, the rest in
  ``"train"``; ``"all"`` is every image. Train and test never overlap.
* :meth:`~SequentialDigits.batch` draws random images of the split (the usual task
  interface, for :func:`neurodyn.fit`); :meth:`~SequentialDigits.arrays` returns the
  whole split as arrays and :meth:`~SequentialDigits.full_batch` as one
  :class:`~neurodyn.tasks.Batch`, for epoch-based training on the fixed data set.
* :meth:`~SequentialDigits.evaluate` scores the last step (``correct``, ``choice``);
  accuracy is ``correct.mean()``.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validation import check_choice, check_int
from ..seeding import make_rng
from .base import Batch, Task, TrialBuilder

__all__ = ["SequentialDigits", "digit_permutation", "digit_split", "load_digits"]

SIDE = 8
N_CLASSES = 10


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_digits()
    images = images.reshape(len(images), SIDE * SIDE).astype(np.float32)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits(upsample: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits, optionally resized (bilinear).

    Parameters
    ----------
    upsample : int or None
        Side length of the returned images (bilinear); ``None`` keeps 8x8, the
        default (the NALSM keeps 8x8 for its input rate: see :mod:`neurodyn.spiking.data`).

    Returns
    -------
    images : array (1797, side, side), float in [0, 1]
    labels : array (1797,) of int

    Raises
    ------
    ImportError
        If scikit-learn (which ships the data file) is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.spiking import load_digits
    >>> images, labels = load_digits()
    >>> images.shape, float(images.min()), float(images.max())
    ((1797, 8, 8), 0.0, 1.0)
    >>> np.bincount(labels).tolist()
    [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    >>> load_digits(upsample=16)[0].shape
    (1797, 16, 16)
    """
    # scikit-learn and scipy.ndimage take about 2.5 s to import together, twenty times
    # ``import neurodyn.tasks``; only the digits (and their resizing) need them.
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as exc:
        raise ImportError(
            "the default digits data set ships with scikit-learn: pip install scikit-learn, "
            "or pass your own image array"
        ) from exc
    bunch = _load()
    images = bunch.images.astype(np.float64) / 16.0
    if upsample is not None:
        from scipy.ndimage import zoom  # see above: imported where it is needed

        side = check_int("upsample", upsample)
        images = np.clip(zoom(images, (1, side / 8, side / 8), order=1), 0.0, 1.0)
    return images, bunch.target.astype(np.int64)


def digit_permutation(seed: int) -> np.ndarray:
    """The fixed pixel permutation of the permuted task for ``seed`` (64 indices).

    Parameters
    ----------
    seed : int
        The permutation's seed (``SequentialDigits(permutation_seed=...)``); the same
        seed gives the same permutation on every machine.

    Returns
    -------
    ndarray of int, shape (64,)
        A permutation of 0 ... 63: step ``t`` of a permuted sequence shows pixel
        ``perm[t]`` of the row-major image.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks.digits import digit_permutation
    >>> perm = digit_permutation(0)
    >>> perm.shape, bool(np.array_equal(np.sort(perm), np.arange(64)))
    ((64,), True)
    >>> [bool(np.array_equal(perm, digit_permutation(seed))) for seed in (0, 1)]
    [True, False]
    """
    return make_rng(seed, "data", 1).permutation(SIDE * SIDE)


def digit_split(labels: np.ndarray, split: str, test_fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a stratified split of ``labels`` (see the module docstring).

    Each class puts ``round(test_fraction * n_class)`` of its items, chosen by
    ``seed``, in the test split and the rest in the train split.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        The class of every item.
    split : {"train", "test", "all"}
        Which part to return (``"all"``: every index).
    test_fraction : float
        Fraction of every class in the test split, in (0, 1).
    seed : int
        Seed of the choice of test items; the same seed gives the same split.

    Returns
    -------
    ndarray of int
        Sorted indices into ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurodyn.tasks.digits import digit_split
    >>> labels = np.repeat([0, 1, 2], 20)
    >>> test = digit_split(labels, "test", 0.25, seed=0)
    >>> train = digit_split(labels, "train", 0.25, seed=0)
    >>> np.bincount(labels[test]).tolist(), train.size
    ([5, 5, 5], 45)
    >>> len(np.intersect1d(train, test))
    0
    """
    rng = make_rng(seed, "data", 0)
    test = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[: int(round(test_fraction * idx.size))])
    test_idx = np.sort(np.concatenate(test))
    if split == "test":
        return test_idx
    if split == "train":
        return np.setdiff1d(np.arange(labels.size), test_idx)
    return np.arange(labels.size)


class SequentialDigits(Task):
    r"""Classify an 8x8 digit presented one pixel (or one row) per step.

    The image :math:`I \in [0, 1]^{8\times 8}` is flattened row by row (after the
    fixed permutation :math:`\pi` when ``permuted``) into :math:`p_1, \dots, p_{64}`;
    step :math:`t` shows :math:`p_t` (``per_step="pixel"``) or row :math:`t`
    (``per_step="row"``). The target is the one-hot digit at the last step only.

    Parameters
    ----------
    per_step : {"pixel", "row"}
        64 steps of one pixel, or 8 steps of 8 pixels.
    permuted : bool
        Apply the fixed permutation (permuted sequential digits).
    permutation_seed : int
        Seed of the permutation.
    split : {"train", "test", "all"}
        Which images trials are drawn from.
    test_fraction : float in (0, 1)
        Fraction of every class in the test split.
    split_seed : int
        Seed of the split.

    Channels
    --------
    inputs : ``pixel``, or ``row_px0`` … ``row_px7``
    outputs : ``digit0`` … ``digit9`` (cross-entropy, scored at the last step)

    Trial variables
    ---------------
    index : row of the image in scikit-learn's digits array.
    label : derived, the digit.

    Examples
    --------
    >>> task = SequentialDigits(per_step="row")
    >>> b = task.batch(4, seed=0)
    >>> b.inputs.shape, b.output_names[:2]
    ((4, 8, 8), ('digit0', 'digit1'))
    >>> x, y = task.arrays()
    >>> x.shape, bool(task.evaluate(task.oracle(b), b)["correct"].all())
    ((1347, 8, 8), True)
    """

    name = "seq_digits"
    description = "sequential 8x8 digits: classify an image shown one pixel (or row) per step"
    metadata = {
        "paper": "Kozachkov, Ennis & Slotine (2022). RNNs of RNNs: Recursive construction of "
        "stable assemblies of recurrent neural networks. NeurIPS 2022 (sequential MNIST, "
        "here on scikit-learn's 8x8 digits).",
        "link": "https://arxiv.org/abs/2106.08928",
        "tags": ("classification", "sequence", "memory"),
    }
    loss = "cross_entropy"
    default_dt = 1.0
    default_params = {
        "per_step": "pixel",
        "permuted": False,
        "permutation_seed": 0,
        "split": "train",
        "test_fraction": 0.25,
        "split_seed": 0,
    }

    def _validate(self) -> None:
        p = self.params
        check_choice("per_step", p["per_step"], ("pixel", "row"))
        check_choice("split", p["split"], ("train", "test", "all"))
        if not isinstance(p["permuted"], bool):
            raise ValueError(f"permuted must be True or False, got {p['permuted']!r}")
        for key in ("permutation_seed", "split_seed"):
            check_int(key, p[key], low=0)
        f = p["test_fraction"]
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 < f < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {f!r}")
        _, labels = _digits()
        self._indices = digit_split(labels, p["split"], float(f), int(p["split_seed"]))
        self._in_split = np.zeros(labels.size, dtype=bool)
        self._in_split[self._indices] = True
        self._perm = digit_permutation(int(p["permutation_seed"])) if p["permuted"] else None

    # -- channels and shapes --------------------------------------------------------------
    @property
    def input_names(self):
        if self.params["per_step"] == "row":
            return tuple(f"row_px{k}" for k in range(SIDE))
        return ("pixel",)

    @property
    def output_names(self):
        return tuple(f"digit{k}" for k in range(N_CLASSES))

    @property
    def n_steps(self) -> int:
        """Steps per trial: 64 (pixels) or 8 (rows)."""
        return SIDE * SIDE // self.n_inputs

    @property
    def indices(self) -> np.ndarray:
        """The images of this split (rows of scikit-learn's array), sorted."""
        return self._indices.copy()

    def sequences(self, index) -> np.ndarray:
        """Input sequences (k, n_steps, n_inputs) of the images ``index``.

        Parameters
        ----------
        index : sequence of int
            Rows of scikit-learn's digits array (any image, in or out of this
            task's split).

        Returns
        -------
        ndarray, shape (k, n_steps, n_inputs), float32
            Pixel values in [0, 1], permuted when ``permuted`` is set.
        """
        images, _ = _digits()
        x = images[np.asarray(index)]
        if self._perm is not None:
            x = x[:, self._perm]
        return x.reshape(len(x), self.n_steps, self.n_inputs)

    # -- trials -------------------------------------------------------------------------------
    def sample_variables(self, rng):
        return {"index": int(rng.choice(self._indices))}

    def build_trial(self, trial: TrialBuilder, v, rng):
        index = v["index"]
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"index must be an integer, got {index!r}")
        if not (0 <= index < self._in_split.size and self._in_split[index]):
            raise ValueError(
                f"index={index} is not an image of the {self.params['split']!r} split "
                f"({self._indices.size} images; see SequentialDigits.indices)"
            )
        _, labels = _digits()
        label = int(labels[index])
        v["label"] = label
        trial.add_period("image", self.n_steps * self.dt)
        trial.inputs[:] = self.sequences([index])[0]
        trial.mask[:] = 0.0
        trial.mask[-1] = 1.0
        trial.targets[-1, label] = 1.0

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole split: inputs (n, n_steps, n_inputs) float32 and labels (n,) int64."""
        _, labels = _digits()
        return self.sequences(self._indices).astype(np.float32), labels[self._indices].copy()

    def full_batch(self) -> Batch:
        """Every image of the split, in index order, as one :class:`Batch`."""
        # Seeded only because batch() takes a seed: every trial variable is fixed here.
        return self.batch(self._indices.size, seed=0, index=self._indices)

    def oracle(self, batch: Batch) -> np.ndarray:
        """The digit of each trial's ``index``, one-hot at its last step.

        Parameters
        ----------
        batch : Batch
            Trials made by this task.

        Returns
        -------
        ndarray, shape (trial, time, 10)
            Zero except a one for the trial's digit at its last step.
        """
        _, labels = _digits()
        out = np.zeros_like(batch.targets)
        index = np.asarray(batch.variables["index"]).astype(np.int64)
        out[np.arange(batch.n_trials), batch.lengths - 1, labels[index]] = 1.0
        return out

    def evaluate(self, outputs, batch: Batch):
        """``choice`` (argmax of the last step's outputs) and ``correct``.

        Parameters
        ----------
        outputs : ndarray, shape (trial, time, n_outputs)
            A network's outputs on ``batch`` (for example :meth:`oracle`'s).
        batch : Batch
            Trials made by this task.

        Returns
        -------
        dict of str to ndarray
            ``choice`` (int, shape (trial,)): the arg-max output at each trial's last
            step; ``correct`` (bool, shape (trial,)): ``choice`` is the digit.
        """
        rows = np.arange(batch.n_trials)
        y = np.asarray(outputs)[rows, batch.lengths - 1]
        choice = np.argmax(y, axis=-1)
        label = np.argmax(batch.targets[rows, batch.lengths - 1], axis=-1)
        return {"correct": choice == label, "choice": choice}
