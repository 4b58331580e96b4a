"""Training: ``fit(model, task_or_data, ...)``.

:func:`fit` validates its settings (:class:`~neurodyn.train.config.FitConfig`),
plans the run (:func:`~neurodyn.train.plan.plan_fit`: stages, length, memory) and
executes it (:class:`~neurodyn.train.loop.TrainingRun`) under the thread policy
(:class:`~neurodyn.train.schedules.ThreadSchedule`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .checkpoint import load_checkpoint
from .config import FitConfig, check_fit_config
from .loop import TrainingRun
from .plan import plan_fit
from .resources import step_flops
from .result import DIVERGED_LOSS, EnsembleResult, FitResult, TrainingDiverged
from .schedules import ThreadSchedule

__all__ = [
    "DIVERGED_LOSS",
    "EnsembleResult",
    "FitResult",
    "TrainingDiverged",
    "check_fit_config",
    "fit",
    "load_checkpoint",
]


def fit(
    model,
    data,
    *,
    validation=None,
    n_steps: int = 1000,
    epochs: int | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    lr_schedule: str = "constant",
    optimizer: str = "adam",
    momentum: float = 0.0,
    clip_grad: float | None = 1.0,
    loss: str | None = None,
    objective: str | None = None,
    observed=None,
    l2_rate: float = 0.0,
    l2_weight: float = 0.0,
    val_every: int | str = 50,
    n_validation: int = 256,
    val_fraction: float = 0.2,
    target_loss: float | None = None,
    checkpoint: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    seed: int | np.random.Generator | Sequence[int] | None = 0,
    device="auto",
    threads: int | None = None,
    progress: bool = True,
) -> FitResult | EnsembleResult:
    r"""Train ``model`` with Adam on a task, a curriculum, a user's Dataset or a recording.

    The loss at each step is

    .. math:: L = \ell(y, y^*; m) + \lambda_r\,\overline{\phi(x)^2} + \lambda_w\,\overline{W^2},

    where :math:`\ell` is the masked MSE or cross-entropy
    (:mod:`neurodyn.train.losses`), then gradients are clipped to norm ``clip_grad``.

    Main arguments
    --------------
    model : Model or RateEnsemble
        A neurodyn model (see :mod:`neurodyn.rnn_models`). It is moved to ``device``.
        A :class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble` trains its K
        networks together, each exactly as ``fit`` would train it alone with its seed
        (its own batches, noise, validation set, clipping, early stopping, record and
        checkpoint; :mod:`neurodyn.train.models`), the loss being the sum of theirs. A
        network whose criteria are met stops (frozen, its weights kept) while the others
        go on; one that diverges stops with its last good weights instead of raising.
    data : Task, Curriculum or xarray.Dataset
        What the model is trained on:

        - a task: fresh trials every step;
        - a Dataset with ``inputs`` (trial, time, input), ``targets`` (trial, time,
          output), optional ``mask`` and ``attrs["dt"]``. Targets may be NaN where
          the mask is 0 (gaps in recorded data); such entries never reach the loss;
        - a recording (:mod:`neurodyn.io.recordings`, recognised by its ``activity``
          variable; checked by :func:`~neurodyn.io.check_recording`): the model is
          fitted to the activity with ``objective`` through ``observed``
          (:mod:`neurodyn.train.recorded`), with the same splits, validation, early
          stopping, checkpoints and resume;
        - a :class:`Curriculum` of :class:`Stage`\ s, each on a task, a Dataset or a
          recording (mixed as needed): e.g. the first bins of every trial of a
          recording until ``val_loss`` is low enough, then whole trials. Every
          stage's data is checked against the model before training starts (errors
          name the stage); a Dataset stage validates on its held-out trials (held out
          by trial label, so stages of the same trials hold out the same ones), a
          task stage on ``n_validation`` trials; every recording stage must hold the
          same neurons, and a Stage's ``loss`` names its objective.
    validation : xarray.Dataset, optional
        A held-out Dataset (same variables as ``data``) to validate on, instead of
        holding out ``val_fraction`` of a training Dataset (not with a curriculum:
        each of its stages validates on its own data).
    n_steps : int
        Maximum number of optimisation steps in total.
    epochs : int, optional
        Train on a Dataset in this many epochs (overrides ``n_steps``): each epoch is
        a fresh seeded permutation of the training trials cut into mini-batches of
        ``batch_size`` (the last one holds the remainder), so every training trial is
        seen exactly once per epoch. Not with a curriculum, whose stages end on
        their criteria or ``max_steps``.
    target_loss : float, optional
        Stop once the validation loss is at or below this (tasks and datasets; a
        curriculum carries its own criteria).

    Other arguments
    ---------------
    batch_size, lr, clip_grad : training hyper-parameters (``clip_grad=None`` disables clipping).
    lr_schedule : {"constant", "cosine"}
        ``"cosine"`` decays the learning rate to zero over the run,
        :math:`\eta_k = \tfrac{\eta}{2}(1 + \cos(\pi k / K))` at step :math:`k` of
        :math:`K` (:func:`~neurodyn.train.schedules.learning_rate`); the history then
        records each validation's ``lr``.
    optimizer : {"adam", "sgd", "sgd_nesterov"}
        Adam (default), or stochastic gradient descent with ``momentum`` (Nesterov
        momentum for ``"sgd_nesterov"``, as in Khajehabdollahi et al. 2024).
    momentum : float
        Momentum of the SGD optimisers.
    loss : {"mse", "cross_entropy"}, optional
        Default: the task's own loss (MSE for datasets); a Stage's ``loss`` overrides
        it for that stage. The cross-entropy needs
        targets that are class probabilities at every counted step; on a Dataset it
        also scores validation trials (``val_accuracy``: the arg-max output is the
        target class at every counted step). A classifier read out at the last step
        is a Dataset whose mask counts only that step.
    objective : {"poisson", "mse"}, optional
        Recordings only: the Poisson negative log-likelihood of spike counts per bin
        (:func:`~neurodyn.train.objectives.poisson_nll`, :math:`\log k!` included) or
        the MSE of rates. Default: ``"poisson"`` for ``kind="counts"``, else ``"mse"``;
        a recording Stage's ``loss`` overrides it for that stage.
    observed : {"units", "readout"} or array of int, optional
        Recordings only: how the recorded neurons relate to the model. ``"units"``
        (default): neuron :math:`i` is unit :math:`i` (an array: unit ``observed[i]``),
        its rate :math:`\phi(x)` compared with the activity (spikes per ms for
        ``"poisson"``: :math:`\lambda = \phi(x)\Delta t`). ``"readout"``: the model's
        outputs (``n_output`` = number of neurons), linear for ``"mse"``,
        :math:`\lambda = e^{y}\Delta t` counts per bin for ``"poisson"``.
    l2_rate, l2_weight : float
        Penalties :math:`\lambda_r` on mean squared rates and :math:`\lambda_w` on
        mean squared weights.
    val_every : int or "epoch"
        Validate (and log, and check criteria) every this many steps, or at the end of
        every epoch (with ``epochs``).
    n_validation : int
        Validation trials drawn per task stage (fixed for the whole run).
    val_fraction : float
        Fraction of a Dataset's (or a recording's) trials held out for validation.
    checkpoint : path, optional
        Checkpoint file, written atomically every ``checkpoint_every`` steps, at the
        end, when the run is interrupted (Ctrl-C) and when it diverges. An ensemble
        takes one path per network, each file the checkpoint a lone run of that
        network would write (written last when the network stops).
    checkpoint_every : int
        Steps between checkpoint writes (default 100); also written at the end.
    resume : bool
        Continue from ``checkpoint`` if it exists. The batch and noise of step ``k``
        depend only on ``(seed, k)``, so a resumed run ends with exactly the weights
        of an uninterrupted run.
    seed : int or sequence of int
        Seeds the training data, the noise and the validation set. An ensemble takes
        one seed per network (an int: the same for all).
    device : str or torch.device
        ``"auto"`` (a GPU when ``torch.cuda.is_available()``, else the CPU),
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (see :func:`neurodyn.devices.resolve_device`).
        Trials are drawn on the CPU with the seeded NumPy generator and moved; the
        noise is drawn from a CPU generator seeded per step, so a given seed trains
        on the same data and noise on every device. A stage's ``on_end`` receives the
        model on this device.
    threads : int, optional
        CPU threads (torch, BLAS); default :func:`neurodyn.threads.limit`'s policy for
        a step's work :math:`2 B g H (H + m)` (:func:`~neurodyn.train.resources.step_flops`),
        re-evaluated every :data:`~neurodyn.train.schedules.THREAD_RECHECK_S` seconds.
    progress : bool or {"auto", "never", "always"}
        Show a progress bar: True (when the output is a terminal or a notebook), False,
        or "always" (also in a log, refreshed every 30 s); see :mod:`neurodyn.progress`.

    Returns
    -------
    FitResult, or EnsembleResult for an ensemble (one FitResult per network)

    Raises
    ------
    ValueError
        Bad arguments or data (before anything is written), or a run whose memory
        (:func:`~neurodyn.train.resources.estimate_training_memory`) exceeds what is
        available.
    TrainingDiverged
        The loss became non-finite or exceeded :data:`DIVERGED_LOSS`, or a gradient
        became non-finite. The model keeps the last good weights, and the checkpoint
        holds them. (A network of an ensemble stops with its last good weights instead,
        and its result's ``message`` says why.)

    Examples
    --------
    A small rate network learns a one-bit flip-flop for 40 steps; the validation loss,
    measured every 20 steps on 32 fixed trials, goes down:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> model = RateRNN(1, 16, 1, seed=0)
    >>> result = fit(model, FlipFlop(n_bits=1), n_steps=40, batch_size=16, lr=1e-2,
    ...              val_every=20, n_validation=32, device="cpu", progress=False)
    >>> result.steps, result.message
    (40, 'reached n_steps=40')
    >>> [rec["step"] for rec in result.history]
    [20, 40]
    >>> result.history[-1]["val_loss"] < 0.9 * result.history[0]["val_loss"]
    True
    >>> result.model is model, result.to_xarray()["val_loss"].dims
    (True, ('step',))
    """
    settings = {k: v for k, v in locals().items() if k not in ("model", "data", "validation")}
    cfg = FitConfig(**settings)
    plan = plan_fit(model, data, validation, cfg)
    model.to(plan.device)
    run = TrainingRun(model, plan, cfg)
    with ThreadSchedule(cfg.threads, step_flops(model, cfg.batch_size)) as schedule:
        return run.train(schedule)
