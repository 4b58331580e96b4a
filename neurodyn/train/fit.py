"""Training: ``fit(model, task_or_data, ...)``."""

from __future__ import annotations

import copy
import inspect
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import threads as _threads
from .._validation import check_choice, check_int, check_positive
from ..devices import resolve_device, to_device
from ..io.atomic import atomic_path
from ..progress import check_progress, progress_bar
from ..seeding import resolve_seed, torch_generator
from .curriculum import Criterion, Curriculum, Stage
from .data import DatasetSource, TaskSource, validate_dataset
from .losses import LOSSES, check_targets, get_loss
from .resources import estimate_training_memory, step_flops

__all__ = ["FitResult", "TrainingDiverged", "check_fit_config", "fit", "load_checkpoint"]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1

#: A training loss above this (or not finite) means the run has diverged.
DIVERGED_LOSS = 1e12

#: Seconds between re-evaluations of the thread count during training, so that load
#: that starts or stops on the machine mid-run changes it.
THREAD_RECHECK_S = 10.0


class TrainingDiverged(FloatingPointError):
    """The training loss or its gradient became non-finite, or exceeded :data:`DIVERGED_LOSS`.

    The model holds the weights from the start of the last step whose loss and
    gradient were finite; so does the checkpoint, when there is one.

    Attributes
    ----------
    step : int
        The step whose loss (or gradient) diverged.
    loss : float
        Its loss.
    restored_step : int
        The step whose starting weights the model (and checkpoint) now hold.
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
        One record per finished stage: ``stage``, ``name``, ``step`` and whatever the
        stage's ``on_end`` returned (e.g. accuracy on every earlier task, to measure
        forgetting).
    device : str
        The device training ran on.
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

    def to_xarray(self):
        """The training log as a Dataset along ``step``."""
        import xarray as xr

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


def _as_curriculum(data, target_loss) -> Curriculum | None:
    if isinstance(data, Curriculum):
        if target_loss is not None:
            raise ValueError(
                "target_loss cannot be combined with a Curriculum; give each Stage criteria"
            )
        return data
    if hasattr(data, "batch") and hasattr(data, "evaluate") and hasattr(data, "input_names"):
        crit = None if target_loss is None else Criterion("val_loss", "<=", float(target_loss))
        return Curriculum([Stage(data, crit)])
    return None


def fit(
    model,
    data,
    *,
    n_steps: int = 1000,
    batch_size: int = 64,
    lr: float = 1e-3,
    optimizer: str = "adam",
    momentum: float = 0.0,
    clip_grad: float | None = 1.0,
    loss: str | None = None,
    l2_rate: float = 0.0,
    l2_weight: float = 0.0,
    val_every: int = 50,
    n_validation: int = 256,
    val_fraction: float = 0.2,
    target_loss: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    resume: bool = False,
    seed: int | np.random.Generator | None = 0,
    device="auto",
    threads: int | None = None,
    progress: bool = True,
) -> FitResult:
    r"""Train ``model`` with Adam on a task, a curriculum or a user's Dataset.

    The loss at each step is

    .. math:: L = \ell(y, y^*; m) + \lambda_r\,\overline{\phi(x)^2} + \lambda_w\,\overline{W^2},

    where :math:`\ell` is the masked MSE or cross-entropy
    (:mod:`neurodyn.train.losses`), then gradients are clipped to norm ``clip_grad``.

    Main arguments
    --------------
    model : Model
        A neurodyn model (see :mod:`neurodyn.rnn_models`). It is moved to ``device``.
    data : Task, Curriculum or xarray.Dataset
        A task (fresh trials every step), a :class:`Curriculum` of stages, or a
        Dataset with ``inputs`` (trial, time, input), ``targets`` (trial, time,
        output), optional ``mask`` and ``attrs["dt"]``. Targets may be NaN where the
        mask is 0 (gaps in recorded data); such entries never reach the loss.
    n_steps : int
        Maximum number of optimisation steps in total.
    target_loss : float, optional
        Stop once the validation loss is at or below this (tasks and datasets; a
        curriculum carries its own criteria).

    Other arguments
    ---------------
    batch_size, lr, clip_grad : training hyper-parameters (``clip_grad=None`` disables clipping).
    optimizer : {"adam", "sgd", "sgd_nesterov"}
        Adam (default), or stochastic gradient descent with ``momentum`` (Nesterov
        momentum for ``"sgd_nesterov"``, as in Khajehabdollahi et al. 2024).
    momentum : float
        Momentum of the SGD optimisers.
    loss : {"mse", "cross_entropy"}, optional
        Default: the task's own loss (MSE for datasets). The cross-entropy needs
        targets that are class probabilities at every counted step.
    l2_rate, l2_weight : float
        Penalties :math:`\lambda_r` on mean squared rates and :math:`\lambda_w` on
        mean squared weights.
    val_every : int
        Validate (and log, and check criteria) every this many steps.
    n_validation : int
        Validation trials drawn per task stage (fixed for the whole run).
    val_fraction : float
        Fraction of a Dataset's trials held out for validation.
    checkpoint : path, optional
        Checkpoint file, written atomically every ``checkpoint_every`` steps, at the
        end, when the run is interrupted (Ctrl-C) and when it diverges.
    resume : bool
        Continue from ``checkpoint`` if it exists. The batch and noise of step ``k``
        depend only on ``(seed, k)``, so a resumed run ends with exactly the weights
        of an uninterrupted run.
    seed : int
        Seeds the training data, the noise and the validation set.
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
        re-evaluated every :data:`THREAD_RECHECK_S` seconds.
    progress : bool or {"auto", "never", "always"}
        Show a progress bar: True (when the output is a terminal or a notebook), False,
        or "always" (also in a log, refreshed every 30 s); see :mod:`neurodyn.progress`.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        Bad arguments or data (before anything is written), or a run whose memory
        (:func:`~neurodyn.train.resources.estimate_training_memory`) exceeds what is
        available.
    TrainingDiverged
        The loss became non-finite or exceeded :data:`DIVERGED_LOSS`, or a gradient
        became non-finite. The model keeps the last good weights, and the checkpoint
        holds them.
    """
    args = _check_arguments(**{k: v for k, v in locals().items() if k not in ("model", "data")})
    seed = resolve_seed(seed)
    model.check_weights()
    stages, curriculum = _stages(model, data, target_loss)
    dev = resolve_device(device)
    _check_memory(model, stages, curriculum, args, dev)
    model.to(dev)
    run = _Run(model, stages, curriculum, args, seed, dev)
    with _ThreadSchedule(threads, step_flops(model, batch_size)) as schedule:
        return run.train(schedule)


def _check_arguments(**a) -> dict:
    """Validate fit's arguments (all but the model and the data); returns them."""
    check_int("n_steps", a["n_steps"])
    check_int("batch_size", a["batch_size"])
    check_positive("lr", a["lr"])
    if a["clip_grad"] is not None:
        check_positive("clip_grad", a["clip_grad"])
    check_positive("l2_rate", a["l2_rate"], allow_zero=True)
    check_positive("l2_weight", a["l2_weight"], allow_zero=True)
    check_int("val_every", a["val_every"])
    check_int("n_validation", a["n_validation"])
    check_int("checkpoint_every", a["checkpoint_every"])
    if not 0 < float(a["val_fraction"]) < 1:
        raise ValueError(f"val_fraction must lie in (0, 1), got {a['val_fraction']!r}")
    if a["target_loss"] is not None:
        check_positive("target_loss", a["target_loss"], allow_zero=True)
    if a["loss"] is not None:
        check_choice("loss", a["loss"], LOSSES)
    _check_optimizer(a["optimizer"], a["momentum"])
    if a["resume"] and a["checkpoint"] is None:
        raise ValueError("resume=True needs a checkpoint path")
    _threads.check_threads(a["threads"])
    check_progress(a["progress"])
    resolve_device(a["device"])
    return a


def check_fit_config(config: dict) -> dict:
    """Validate keyword arguments for :func:`fit` (not the model and data) without training.

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
    params = inspect.signature(fit).parameters
    defaults = {k: p.default for k, p in params.items() if k not in ("model", "data")}
    unknown = set(config) - set(defaults)
    if unknown:
        check_choice("fit argument", sorted(unknown)[0], defaults)
    return _check_arguments(**{**defaults, **config})


def _stages(model, data, target_loss) -> tuple[list[Stage], Curriculum | None]:
    curriculum = _as_curriculum(data, target_loss)
    if curriculum is None:
        validate_dataset(data, n_input=model.n_input, n_output=model.n_output)
        if not math.isclose(float(data.attrs["dt"]), model.dt):
            raise ValueError(
                f"dataset dt={data.attrs['dt']} ms differs from the model's dt={model.dt} ms"
            )
        crit = None if target_loss is None else Criterion("val_loss", "<=", target_loss)
        return [Stage(data, crit, name="data")], None
    for i, st in enumerate(curriculum.stages):
        if st.task.n_inputs != model.n_input or st.task.n_outputs != model.n_output:
            raise ValueError(
                f"stage {i} ({st.name}) has {st.task.n_inputs} inputs and "
                f"{st.task.n_outputs} outputs; the model has n_input={model.n_input}, "
                f"n_output={model.n_output}"
            )
        if not math.isclose(st.task.dt, model.dt):
            raise ValueError(
                f"stage {i} ({st.name}) has dt={st.task.dt} ms; the model has dt={model.dt} ms"
            )
    return curriculum.stages, curriculum


def _check_memory(model, stages, curriculum, args, device) -> None:
    """Refuse, before training, a run that needs more memory than ``device`` has."""
    if curriculum is None:
        ds = stages[0].task
        n = ds.sizes["trial"]
        n_val = min(max(int(round(args["val_fraction"] * n)), 1), n - 1)  # as DatasetSource
        batch, n_time = min(args["batch_size"], n - n_val), ds.sizes["time"]
    else:
        # A few trials of each stage give its (padded) length; only the estimate uses them.
        probe = np.random.default_rng(0)
        n_time = max(st.task.batch(4, seed=probe).n_steps for st in stages)
        batch, n_val = args["batch_size"], args["n_validation"]
    estimate = estimate_training_memory(
        model, batch_size=batch, n_time=n_time, n_validation=n_val, device=device
    )
    logger.debug("training memory: %s", estimate.describe())
    estimate.check()


def _check_optimizer(name, momentum) -> None:
    name = check_choice("optimizer", name, OPTIMIZERS)
    if name != "adam" and not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    if name == "sgd_nesterov" and momentum == 0:
        raise ValueError("optimizer='sgd_nesterov' needs momentum > 0")


OPTIMIZERS = ("adam", "sgd", "sgd_nesterov")


def _make_optimizer(name, params, *, lr, momentum):
    _check_optimizer(name, momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "sgd_nesterov")


class _ThreadSchedule:
    """The thread policy for a training run, re-evaluated every :data:`THREAD_RECHECK_S` s.

    An explicit count stays fixed; the policy's choice is re-made (pools restored,
    then set again) so that load that starts or stops mid-run changes it.
    """

    def __init__(self, threads, work):
        self.threads, self.work = threads, work
        self._cm = None
        self.count = 0

    def __enter__(self):
        self._enter()
        return self

    def _enter(self):
        self._cm = _threads.limit(self.threads, work=self.work, what="fit")
        self.count = self._cm.__enter__()
        self._since = time.monotonic()

    def renew(self):
        if self.threads is None and time.monotonic() - self._since >= THREAD_RECHECK_S:
            before = self.count
            self._cm.__exit__(None, None, None)
            self._enter()
            if self.count != before:
                logger.info("training now runs on %d thread(s) (was %d)", self.count, before)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


class _LastGood:
    """The training state at the start of the last step whose loss and gradient were finite.

    Weights and optimiser state are copied into buffers kept between steps (a copy
    of the parameters costs far less than a step's backpropagation through time).
    """

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params: list[torch.Tensor] | None = None
        self.optim: dict = {}
        self.scalars: tuple = ()

    def save(self, scalars: tuple) -> None:
        params = [p.detach() for p in self.model.parameters()]
        if self.params is None:
            self.params = [p.clone() for p in params]
        else:
            for buf, p in zip(self.params, params, strict=True):
                buf.copy_(p)
        for p, state in self.optimizer.state.items():
            saved = self.optim.setdefault(p, {})
            for k, v in state.items():
                if (
                    torch.is_tensor(v)
                    and torch.is_tensor(saved.get(k))
                    and saved[k].shape == v.shape
                ):
                    saved[k].copy_(v)
                else:
                    saved[k] = v.detach().clone() if torch.is_tensor(v) else copy.deepcopy(v)
        self.scalars = scalars

    def restore(self) -> tuple:
        with torch.no_grad():
            for p, buf in zip(self.model.parameters(), self.params, strict=True):
                p.copy_(buf)
        self.optimizer.state.clear()
        for p, saved in self.optim.items():
            self.optimizer.state[p] = {
                k: v.clone() if torch.is_tensor(v) else copy.deepcopy(v) for k, v in saved.items()
            }
        return self.scalars


class _Run:
    """The state of one call of :func:`fit` and its training loop."""

    def __init__(self, model, stages, curriculum, args, seed, device):
        self.model, self.stages, self.curriculum = model, stages, curriculum
        self.a, self.seed, self.device = args, seed, device
        self.optimizer = _make_optimizer(
            args["optimizer"], model.parameters(), lr=args["lr"], momentum=args["momentum"]
        )
        self.result = FitResult(model=model, seed=seed, stage_steps=[0], device=str(device))
        self.step, self.running = 0, (0.0, 0)
        self.last_good = _LastGood(model, self.optimizer)

    # -- set-up ------------------------------------------------------------------------
    def _resume(self) -> None:
        ckpt = self.a["checkpoint"]
        if not (self.a["resume"] and Path(ckpt).is_file()):
            return
        state = load_checkpoint(ckpt)
        if state["seed"] != self.seed:
            raise ValueError(
                f"checkpoint was written with seed={state['seed']}; this run has seed={self.seed}"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        r = self.result
        r.history, r.stage = list(state["history"]), int(state["stage"])
        r.stage_steps, r.stage_log = list(state["stage_steps"]), list(state["stage_log"])
        self.running = tuple(state["running"])
        logger.info("resumed from %s at step %d (stage %d)", ckpt, self.step, r.stage)

    def _source(self, i: int):
        st = self.stages[i]
        if self.curriculum is None:
            src = DatasetSource(st.task, seed=self.seed, val_fraction=self.a["val_fraction"])
        else:
            src = TaskSource(st.task, seed=self.seed, n_validation=self.a["n_validation"], stage=i)
        self.groups = getattr(st.task, "output_groups", None)
        self.loss_name = st.loss or self.a["loss"] or src.loss
        self.loss_fn = get_loss(self.loss_name, self.groups)
        val = src.validation_batch()
        self._check_targets(val, f"the validation targets of stage {i} ({st.name})")
        self.val_tensors = self._tensors(val)
        self.src = src

    def _check_targets(self, batch, what: str) -> None:
        check_targets(self.loss_name, batch.targets, batch.mask, self.groups, what=what)

    def _tensors(self, batch):
        return tuple(to_device(a, self.device) for a in (batch.inputs, batch.targets, batch.mask))

    def _save(self) -> None:
        if self.a["checkpoint"] is not None:
            _save_checkpoint(
                self.a["checkpoint"],
                self.model,
                self.optimizer,
                self.step,
                self.result,
                self.running,
            )

    # -- the loop ----------------------------------------------------------------------
    def train(self, schedule) -> FitResult:
        self._resume()
        self._source(self.result.stage)
        n_steps, r = self.a["n_steps"], self.result
        bar = progress_bar(
            total=n_steps, initial=self.step, progress=self.a["progress"], desc="training",
            unit="step",
        )
        try:
            stopped = False
            while self.step < n_steps and not stopped:
                self._one_step()
                bar.update(1)
                stopped = self._after_step(bar)
                schedule.renew()
            if not stopped:
                self._check_final_weights()
                r.message = f"reached n_steps={n_steps}"
        except KeyboardInterrupt:
            self._save()
            logger.warning(
                "training interrupted at step %d; checkpoint saved to %s",
                self.step,
                self.a["checkpoint"],
            )
            raise
        finally:
            bar.close()
        r.steps = self.step
        self._save()
        self.model.eval()
        return r

    def _one_step(self) -> None:
        model, a = self.model, self.a
        model.train()
        batch = self.src.train_batch(self.step, a["batch_size"])
        self._check_targets(batch, f"the training targets of step {self.step}")
        inputs, targets, mask = self._tensors(batch)
        out = model(inputs, generator=torch_generator(self.seed, "noise", self.step))
        objective = self.loss_fn(out.outputs, targets, mask)
        if a["l2_rate"] or a["l2_weight"]:
            reg = model.regularization(out.rates)
            objective = objective + a["l2_rate"] * reg["rate"] + a["l2_weight"] * reg["weight"]
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        params = [p for p in model.parameters() if p.grad is not None]
        if a["clip_grad"] is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, a["clip_grad"])
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        # One transfer for both numbers.
        value, grad_norm = torch.stack([objective.detach(), norm.to(objective.dtype)]).tolist()
        self._check_divergence(value, grad_norm)
        self.optimizer.step()
        self.running = (self.running[0] + value, self.running[1] + 1)
        self.step += 1
        self.result.stage_steps[-1] += 1

    def _scalars(self) -> tuple:
        r = self.result
        return (
            self.step,
            self.running,
            r.stage,
            list(r.stage_steps),
            len(r.history),
            len(r.stage_log),
        )

    def _check_divergence(self, value: float, grad_norm: float) -> None:
        """Stop with the last good state if this step's loss or gradient diverged."""
        if math.isfinite(value) and abs(value) <= DIVERGED_LOSS:
            if math.isfinite(grad_norm):
                self.last_good.save(self._scalars())
                return
            # The loss is fine, so the current weights are the last good ones.
            self.last_good.save(self._scalars())
            what = f"its gradient norm became {grad_norm}"
        else:
            what = f"the training loss became {value:.4g}"
        self._diverged(f"{what} at step {self.step}", value)

    def _check_final_weights(self) -> None:
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            self._diverged(f"the weights became non-finite at step {self.step}", math.nan)

    def _diverged(self, what: str, value: float) -> None:
        step = self.step
        if self.last_good.params is None:
            raise TrainingDiverged(
                f"training diverged: {what}, before any update (the initial weights give "
                "it); check the data's scale and the model's initialisation",
                step=step,
                loss=value,
                restored_step=step,
            )
        self.step, self.running, stage, stage_steps, n_hist, n_log = self.last_good.restore()
        r = self.result
        r.stage, r.stage_steps = stage, stage_steps
        del r.history[n_hist:], r.stage_log[n_log:]
        self._save()
        kept = f"; checkpoint {self.a['checkpoint']} holds them" if self.a["checkpoint"] else ""
        raise TrainingDiverged(
            f"training diverged: {what} (lr={self.a['lr']}). The model keeps the weights "
            f"from the start of step {self.step}, the last with a finite loss and gradient"
            f"{kept}. Lower lr, or clip gradients harder (clip_grad)",
            step=step,
            loss=value,
            restored_step=self.step,
        )

    def _after_step(self, bar) -> bool:
        """Validate, log, advance stages, checkpoint; True when training should stop."""
        step, r, a = self.step, self.result, self.a
        stop = False
        if step % a["val_every"] == 0 or step == a["n_steps"]:
            metrics = _validate(self.model, self.src, self.loss_fn, self.seed, self.val_tensors)
            total, n = self.running
            rec = {"step": step, "stage": r.stage, "train_loss": total / n, **metrics}
            r.history.append(rec)
            self.running = (0.0, 0)
            bar.set_postfix({k: f"{v:.3g}" for k, v in rec.items() if k.startswith("val")})
            logger.debug("step %d: %s", step, rec)
            stop = self._advance_stage(metrics)
        if not stop and step % a["checkpoint_every"] == 0:
            self._save()
        return stop

    def _advance_stage(self, metrics) -> bool:
        r, step = self.result, self.step
        st = self.stages[r.stage]
        stage_over = st.max_steps is not None and r.stage_steps[-1] >= st.max_steps
        if not (st.done(metrics) or stage_over):
            return False
        if st.on_end is not None:
            with torch.no_grad():
                extra = st.on_end(self.model)
            self.model.train()
            r.stage_log.append({"stage": r.stage, "name": st.name, "step": step, **extra})
        if r.stage + 1 == len(self.stages):
            r.success = st.done(metrics)
            r.message = (
                f"criteria met ({', '.join(map(str, st.criteria))}) at step {step}"
                if r.success
                else f"last stage reached max_steps={st.max_steps}"
            )
            return True
        logger.info("stage %d (%s) done at step %d", r.stage, st.name, step)
        r.stage += 1
        r.stage_steps.append(0)
        self._source(r.stage)
        return False


@torch.no_grad()
def _validate(model, src, loss_fn, seed, tensors) -> dict[str, float]:
    model.eval()
    batch = src.validation_batch()
    inputs, targets, mask = tensors
    out = model(inputs, generator=torch_generator(seed, "eval"))
    metrics = {"val_loss": float(loss_fn(out.outputs, targets, mask))}
    # Every per-trial boolean or real-valued score becomes a mean validation metric
    # (``correct`` is reported as ``val_accuracy``); integer codes such as choices are not.
    for key, values in src.evaluate(out.outputs.cpu().numpy(), batch).items():
        values = np.asarray(values)
        if values.dtype == bool or values.dtype.kind == "f":
            name = "val_accuracy" if key == "correct" else f"val_{key}"
            metrics[name] = _mean_of_defined(values)
    return metrics


def _mean_of_defined(values: np.ndarray) -> float:
    """Mean over the trials where a score is defined (a response time exists only for
    trials with a response: early in training there may be none, and the mean is NaN)."""
    defined = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return float(defined.mean()) if defined.size else math.nan


def _save_checkpoint(path, model, optimizer, step, result, running) -> None:
    state = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "stage": result.stage,
        "stage_steps": list(result.stage_steps),
        "stage_log": list(result.stage_log),
        "history": list(result.history),
        "seed": result.seed,
        "running": [float(running[0]), int(running[1])],
        "model_config": dict(model.config()),
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (tensors and plain data only; no code is unpickled)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt files
        raise ValueError(f"{str(path)!r} is not a readable neurodyn checkpoint: {err}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a neurodyn checkpoint of format {CHECKPOINT_FORMAT}"
        )
    return state
