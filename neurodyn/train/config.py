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

    Parameters
    ----------
    n_steps : int
        Maximum number of optimisation steps (default 1000).
    epochs : int, optional
        Train on a Dataset in this many epochs instead of ``n_steps``.
    batch_size : int
        Trials per mini-batch (default 64).
    lr : float
        Learning rate, > 0 (default 1e-3).
    lr_schedule : {"constant", "cosine"}
        How the learning rate changes over the run (:data:`LR_SCHEDULES`).
    optimizer : {"adam", "sgd", "sgd_nesterov"}
        The optimiser (:data:`OPTIMIZERS`).
    momentum : float
        Momentum of the SGD optimisers, in [0, 1) (> 0 for ``"sgd_nesterov"``).
    clip_grad : float or None
        Gradient-norm clipping threshold (default 1.0); None disables clipping.
    loss : {"mse", "cross_entropy"}, optional
        Loss for tasks and inputs/targets Datasets (default: the task's own).
    objective : {"poisson", "mse"}, optional
        Objective for recordings (default: by the recording's kind).
    observed : {"units", "readout"} or array of int, optional
        How recorded neurons map onto the model (recordings only).
    l2_rate, l2_weight : float
        Penalties, >= 0, on mean squared rates and mean squared weights (default 0).
    val_every : int or "epoch"
        Steps between validations (default 50), or ``"epoch"`` (:data:`EPOCH`; needs
        ``epochs``).
    n_validation : int
        Validation trials drawn per task stage (default 256).
    val_fraction : float
        Fraction of a Dataset's trials held out, in (0, 1) (default 0.2).
    target_loss : float, optional
        Stop once the validation loss is at or below this (>= 0).
    checkpoint : path or sequence of path, optional
        Checkpoint file (one per network of an ensemble).
    checkpoint_every : int
        Steps between checkpoint writes (default 100).
    resume : bool
        Continue from ``checkpoint`` (which must then be given).
    seed : int, numpy.random.Generator, sequence of int or None
        Training seed (one per network of an ensemble; default 0).
    device : str or torch.device
        ``"auto"`` (default), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``;
        checked to be usable here.
    threads : int, optional
        CPU threads (default: the policy of :mod:`neurodyn.threads`).
    progress : bool or {"auto", "never", "always"}
        When to show a progress bar (default True: when interactive).

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

    Parameters
    ----------
    config : dict
        Keyword arguments of :func:`~neurodyn.train.fit` by name (any subset of the
        fields of :class:`FitConfig`).

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
