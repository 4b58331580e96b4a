"""What training returns, and the error it raises when the loss diverges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["DIVERGED_LOSS", "EnsembleResult", "FitResult", "TrainingDiverged"]

#: A training loss above this (or not finite) means the run has diverged.
DIVERGED_LOSS = 1e12


class TrainingDiverged(FloatingPointError):
    """The training loss or its gradient became non-finite, or exceeded :data:`~neurodyn.train.result.DIVERGED_LOSS`.

    The model holds the weights from the start of the last step whose loss and
    gradient were finite; so does the checkpoint, when there is one.

    Parameters
    ----------
    message : str
        What diverged, when, and what the model now holds.

    Attributes
    ----------
    step : int
        The step whose loss (or gradient) diverged.
    loss : float
        Its loss.
    restored_step : int
        The step whose starting weights the model (and checkpoint) now hold.

    Examples
    --------
    Targets of the order of 10^7 give a loss above :data:`DIVERGED_LOSS` at the very
    first step:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train import fit
    >>> ds = FlipFlop(n_bits=1).batch(8, seed=0).to_xarray()
    >>> huge = ds.assign(targets=ds["targets"] * 1e7)
    >>> try:
    ...     fit(RateRNN(1, 8, 1, seed=0), huge, n_steps=5, batch_size=4, device="cpu",
    ...         progress=False)
    ... except TrainingDiverged as err:
    ...     print(err.step, err.restored_step, err.loss > DIVERGED_LOSS)
    ...     print(str(err)[:55])
    0 0 True
    training diverged: the training loss became 1e+14 at st
    """

    def __init__(self, message: str, *, step: int, loss: float, restored_step: int):
        super().__init__(message)
        self.step, self.loss, self.restored_step = step, loss, restored_step


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    model : Model
        The trained model (the same object that was passed in, on the training device).
    history : list of dict
        One record per validation: ``step``, ``stage``, ``train_loss`` (mean since the
        previous record), ``val_loss``, ``val_accuracy`` (when the task scores trials).
    steps : int
        Optimisation steps taken in total.
    success : bool
        Whether the last stage's criteria were met (always False when it has none).
    stage : int
        Index of the stage training ended in.
    seed : int
    message : str
        Why training stopped.
    stage_steps : list of int
        Steps spent in each stage reached.
    stage_log : list of dict
        One record per finished stage that has an ``on_end``: ``stage``, ``name``,
        ``step`` and whatever the stage's ``on_end`` returned (e.g. accuracy on every
        earlier task, to measure forgetting).
    device : str
        The device training ran on.
    diverged : bool
        The network's training diverged and it keeps its last good weights (a network
        of an ensemble; a single model raises :class:`TrainingDiverged` instead).

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train import fit
    >>> result = fit(RateRNN(1, 8, 1, seed=0), FlipFlop(n_bits=1), n_steps=4, batch_size=4,
    ...              val_every=2, n_validation=8, device="cpu", progress=False)
    >>> result.steps, result.success, result.stage_steps, result.message
    (4, False, [4], 'reached n_steps=4')
    >>> log = result.to_xarray()
    >>> log["step"].values.tolist(), sorted(log.data_vars)
    ([2, 4], ['stage', 'train_loss', 'val_accuracy', 'val_loss', 'val_mse'])
    """

    model: Any
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    success: bool = False
    stage: int = 0
    seed: int = 0
    message: str = ""
    stage_steps: list[int] = field(default_factory=list)
    stage_log: list[dict] = field(default_factory=list)
    device: str = "cpu"
    diverged: bool = False

    def to_xarray(self):
        """The training log as a Dataset along ``step``."""
        keys = sorted({k for rec in self.history for k in rec} - {"step"})
        steps = np.array([rec["step"] for rec in self.history], dtype=np.int32)
        data = {
            k: ("step", np.array([rec.get(k, np.nan) for rec in self.history], dtype=float))
            for k in keys
            if k != "stage"
        }
        data["stage"] = ("step", np.array([rec["stage"] for rec in self.history], dtype=np.int32))
        ds = xr.Dataset(data, coords={"step": steps})
        ds.attrs.update({"seed": self.seed, "success": int(self.success), "message": self.message})
        return ds


@dataclass
class EnsembleResult:
    """What :func:`fit` returns for a :class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble`.

    Attributes
    ----------
    model : RateEnsemble
        The trained ensemble (the object that was passed in).
    networks : list of FitResult
        One per network, as :func:`fit` of that network alone with its seed returns
        it; its ``model`` is the network as a RateRNN of its own, and ``steps`` the
        steps it trained (fewer than the run's where it stopped early). A network that
        diverged keeps its last good weights, and its ``message`` says so.
    device : str
        The device training ran on.

    Examples
    --------
    Two networks trained together, each with its own seed:

    >>> from neurodyn.rnn_models import RateEnsemble
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train import fit
    >>> ens = RateEnsemble.from_seeds([0, 1], 1, 8, 1)
    >>> result = fit(ens, FlipFlop(n_bits=1), n_steps=4, batch_size=4, val_every=2,
    ...              n_validation=8, seed=[0, 1], device="cpu", progress=False)
    >>> result.steps, [r.seed for r in result.networks], type(result.networks[0].model).__name__
    (4, [0, 1], 'RateRNN')
    >>> dict(result.to_xarray()["val_loss"].sizes)
    {'network': 2, 'step': 2}
    """

    model: Any
    networks: list[FitResult] = field(default_factory=list)
    device: str = "cpu"

    @property
    def steps(self) -> int:
        """Optimisation steps of the run (of its longest-training network)."""
        return max((r.steps for r in self.networks), default=0)

    @property
    def success(self) -> bool:
        """Whether every network met its last stage's criteria."""
        return bool(self.networks) and all(r.success for r in self.networks)

    def to_xarray(self):
        """The networks' training logs as one Dataset along ``network`` and ``step``
        (NaN where a network had stopped), with each network's ``seed``, ``success``
        and ``message`` as coordinates along ``network``."""
        logs = [r.to_xarray() for r in self.networks]
        ds = xr.concat([log.drop_attrs() for log in logs], dim="network", join="outer")
        return ds.assign_coords(
            network=np.arange(len(logs)),
            seed=("network", np.array([r.seed for r in self.networks], dtype=np.int64)),
            success=("network", np.array([r.success for r in self.networks], dtype=bool)),
            message=("network", np.array([r.message for r in self.networks], dtype=str)),
        )
