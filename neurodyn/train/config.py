"""The settings of one call of :func:`~neurodyn.train.fit`, validated as a whole."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import threads as _threads
from .._validation import check_choice, check_int, check_positive
from ..devices import resolve_device
from ..progress import check_progress
from .losses import LOSSES
from .objectives import OBJECTIVES
from .recorded import OBSERVED

__all__ = ["EPOCH", "LR_SCHEDULES", "OPTIMIZERS", "FitConfig", "check_fit_config"]

#: The optimisers :func:`~neurodyn.train.fit` knows.
OPTIMIZERS = ("adam", "sgd", "sgd_nesterov")

#: Learning-rate schedules: constant, or the cosine decay of
#: :func:`neurodyn.train.schedules.learning_rate`.
LR_SCHEDULES = ("constant", "cosine")

#: ``val_every`` value that validates at the end of every epoch.
EPOCH = "epoch"


@dataclass(frozen=True, kw_only=True)
class FitConfig:
    """Every setting of :func:`~neurodyn.train.fit` but the model and the data.

    The fields are fit's keyword arguments, with the same defaults and meaning (see
    :func:`~neurodyn.train.fit`); construction validates them and raises ValueError
    naming the first bad one.

    Examples
    --------
    >>> FitConfig(lr=0.01, lr_schedule="cosine").batch_size
    64
    >>> FitConfig(val_every="epoch")
    Traceback (most recent call last):
    ...
    ValueError: val_every='epoch' needs epochs (training in epochs over a Dataset)
    """

    n_steps: int = 1000
    epochs: int | None = None
    batch_size: int = 64
    lr: float = 1e-3
    lr_schedule: str = "constant"
    optimizer: str = "adam"
    momentum: float = 0.0
    clip_grad: float | None = 1.0
    loss: str | None = None
    objective: str | None = None
    observed: Any = None
    l2_rate: float = 0.0
    l2_weight: float = 0.0
    val_every: int | str = 50
    n_validation: int = 256
    val_fraction: float = 0.2
    target_loss: float | None = None
    checkpoint: str | os.PathLike | Sequence[str | os.PathLike] | None = None
    checkpoint_every: int = 100
    resume: bool = False
    seed: int | np.random.Generator | Sequence[int] | None = 0
    device: Any = "auto"
    threads: int | None = None
    progress: bool | str = True

    def __post_init__(self):
        self._check_sizes()
        self._check_rates()
        check_optimizer(self.optimizer, self.momentum)
        if self.resume and self.checkpoint is None:
            raise ValueError("resume=True needs a checkpoint path")
        _threads.check_threads(self.threads)
        check_progress(self.progress)
        resolve_device(self.device)

    def _check_sizes(self) -> None:
        check_int("n_steps", self.n_steps)
        if self.epochs is not None:
            check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        if self.val_every == EPOCH:
            if self.epochs is None:
                raise ValueError(
                    "val_every='epoch' needs epochs (training in epochs over a Dataset)"
                )
        else:
            check_int("val_every", self.val_every)
        check_int("n_validation", self.n_validation)
        check_int("checkpoint_every", self.checkpoint_every)
        if not 0 < float(self.val_fraction) < 1:
            raise ValueError(f"val_fraction must lie in (0, 1), got {self.val_fraction!r}")

    def _check_rates(self) -> None:
        check_positive("lr", self.lr)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if self.clip_grad is not None:
            check_positive("clip_grad", self.clip_grad)
        check_positive("l2_rate", self.l2_rate, allow_zero=True)
        check_positive("l2_weight", self.l2_weight, allow_zero=True)
        if self.target_loss is not None:
            check_positive("target_loss", self.target_loss, allow_zero=True)
        if self.loss is not None:
            check_choice("loss", self.loss, LOSSES)
        if self.objective is not None:
            check_choice("objective", self.objective, OBJECTIVES)
        if isinstance(self.observed, str):
            check_choice("observed", self.observed, OBSERVED)

    def as_dict(self) -> dict:
        """Every setting by name (values as given, not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def check_optimizer(name, momentum) -> None:
    """Raise ValueError unless ``name`` is an optimiser and ``momentum`` suits it."""
    name = check_choice("optimizer", name, OPTIMIZERS)
    if name != "adam" and not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    if name == "sgd_nesterov" and momentum == 0:
        raise ValueError("optimizer='sgd_nesterov' needs momentum > 0")


def check_fit_config(config: dict) -> dict:
    """Validate keyword arguments for :func:`~neurodyn.train.fit` (not the model and the
    data) without training.

    Run folders call this before they write anything, so a bad setting never leaves
    a folder behind.

    Returns
    -------
    dict
        Every argument: ``config`` over fit's defaults.

    Raises
    ------
    ValueError
        Naming an unknown key or a bad value.

    Examples
    --------
    >>> check_fit_config({"lr": 0.01})["batch_size"]
    64
    """
    names = [f.name for f in dataclasses.fields(FitConfig)]
    unknown = set(config) - set(names)
    if unknown:
        check_choice("fit argument", sorted(unknown)[0], names)
    return FitConfig(**config).as_dict()
