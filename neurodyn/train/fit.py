"""Training: ``fit(model, task_or_data, ...)``."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from .._validation import check_choice, check_int, check_positive
from ..io.atomic import atomic_path
from ..seeding import resolve_seed, torch_generator
from .curriculum import Criterion, Curriculum, Stage
from .data import DatasetSource, TaskSource, validate_dataset
from .losses import get_loss

__all__ = ["FitResult", "fit", "load_checkpoint"]

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    model : Model
        The trained model (the same object that was passed in).
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
        A neurodyn model (see :mod:`neurodyn.rnn_models`).
    data : Task, Curriculum or xarray.Dataset
        A task (fresh trials every step), a :class:`Curriculum` of stages, or a
        Dataset with ``inputs`` (trial, time, input), ``targets`` (trial, time,
        output), optional ``mask`` and ``attrs["dt"]``.
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
        Default: the task's own loss (MSE for datasets).
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
        end, and when the run is interrupted (Ctrl-C).
    resume : bool
        Continue from ``checkpoint`` if it exists. The batch and noise of step ``k``
        depend only on ``(seed, k)``, so a resumed run ends with exactly the weights
        of an uninterrupted run.
    seed : int
        Seeds the training data, the noise and the validation set.
    progress : bool
        Show a progress bar.

    Returns
    -------
    FitResult
    """
    check_int("n_steps", n_steps, low=0)
    check_int("batch_size", batch_size)
    check_positive("lr", lr)
    if clip_grad is not None:
        check_positive("clip_grad", clip_grad)
    check_positive("l2_rate", l2_rate, allow_zero=True)
    check_positive("l2_weight", l2_weight, allow_zero=True)
    check_int("val_every", val_every)
    check_int("checkpoint_every", checkpoint_every)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    seed = resolve_seed(seed)
    model.check_weights()

    curriculum = _as_curriculum(data, target_loss)
    if curriculum is None:
        validate_dataset(data, n_input=model.n_input, n_output=model.n_output)
        if not math.isclose(float(data.attrs["dt"]), model.dt):
            raise ValueError(
                f"dataset dt={data.attrs['dt']} ms differs from the model's dt={model.dt} ms"
            )
        stages = [
            Stage(
                data,
                None if target_loss is None else Criterion("val_loss", "<=", target_loss),
                name="data",
            )
        ]
    else:
        stages = curriculum.stages
        for i, st in enumerate(stages):
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

    def source(i):
        st = stages[i]
        if curriculum is None:
            src = DatasetSource(st.task, seed=seed, val_fraction=val_fraction)
        else:
            src = TaskSource(st.task, seed=seed, n_validation=n_validation, stage=i)
        groups = getattr(st.task, "output_groups", None)
        return src, get_loss(st.loss or loss or src.loss, groups)

    optimizer = _make_optimizer(optimizer, model.parameters(), lr=lr, momentum=momentum)
    result = FitResult(model=model, seed=seed, stage_steps=[0])
    step = 0
    if resume and Path(checkpoint).is_file():
        state = load_checkpoint(checkpoint)
        if state["seed"] != seed:
            raise ValueError(
                f"checkpoint was written with seed={state['seed']}; this run has seed={seed}"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        result.history = list(state["history"])
        result.stage = int(state["stage"])
        result.stage_steps = list(state["stage_steps"])
        result.stage_log = list(state["stage_log"])
        logger.info("resumed from %s at step %d (stage %d)", checkpoint, step, result.stage)

    running, n_running = 0.0, 0
    if resume and Path(checkpoint).is_file():
        running, n_running = state["running"]

    def save():
        if checkpoint is not None:
            _save_checkpoint(checkpoint, model, optimizer, step, result, (running, n_running))

    src, loss_fn = source(result.stage)
    bar = tqdm(total=n_steps, initial=step, disable=not progress, desc="training", unit="step")
    try:
        while step < n_steps:
            model.train()
            batch = src.train_batch(step, batch_size)
            gen = torch_generator(seed, "noise", step)
            out = model(torch.from_numpy(batch.inputs), generator=gen)
            targets, mask = torch.from_numpy(batch.targets), torch.from_numpy(batch.mask)
            objective = loss_fn(out.outputs, targets, mask)
            if l2_rate or l2_weight:
                reg = model.regularization(out.rates)
                objective = objective + l2_rate * reg["rate"] + l2_weight * reg["weight"]
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            if clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
            value = float(objective.detach())
            if not math.isfinite(value):
                save_path = f" (last good checkpoint: {checkpoint})" if checkpoint else ""
                raise FloatingPointError(f"training loss became {value} at step {step}{save_path}")
            running += value
            n_running += 1
            step += 1
            result.stage_steps[-1] += 1
            bar.update(1)
            if step % val_every == 0 or step == n_steps:
                metrics = _validate(model, src, loss_fn, seed)
                rec = {
                    "step": step,
                    "stage": result.stage,
                    "train_loss": running / n_running,
                    **metrics,
                }
                result.history.append(rec)
                running, n_running = 0.0, 0
                bar.set_postfix({k: f"{v:.3g}" for k, v in rec.items() if k.startswith("val")})
                logger.debug("step %d: %s", step, rec)
                st = stages[result.stage]
                stage_over = st.max_steps is not None and result.stage_steps[-1] >= st.max_steps
                if st.done(metrics) or stage_over:
                    if st.on_end is not None:
                        with torch.no_grad():
                            extra = st.on_end(model)
                        model.train()
                        result.stage_log.append(
                            {"stage": result.stage, "name": st.name, "step": step, **extra}
                        )
                    if result.stage + 1 == len(stages):
                        result.success = st.done(metrics)
                        result.message = (
                            f"criteria met ({', '.join(map(str, st.criteria))}) at step {step}"
                            if result.success
                            else f"last stage reached max_steps={st.max_steps}"
                        )
                        break
                    logger.info("stage %d (%s) done at step %d", result.stage, st.name, step)
                    result.stage += 1
                    result.stage_steps.append(0)
                    src, loss_fn = source(result.stage)
            if step % checkpoint_every == 0:
                save()
        else:
            result.message = f"reached n_steps={n_steps}"
    except KeyboardInterrupt:
        save()
        logger.warning("training interrupted at step %d; checkpoint saved to %s", step, checkpoint)
        raise
    finally:
        bar.close()
    result.steps = step
    save()
    model.eval()
    return result


OPTIMIZERS = ("adam", "sgd", "sgd_nesterov")


def _make_optimizer(name, params, *, lr, momentum):
    name = check_choice("optimizer", name, OPTIMIZERS)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    if name == "sgd_nesterov" and momentum == 0:
        raise ValueError("optimizer='sgd_nesterov' needs momentum > 0")
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=name == "sgd_nesterov")


@torch.no_grad()
def _validate(model, src, loss_fn, seed) -> dict[str, float]:
    model.eval()
    batch = src.validation_batch()
    out = model(torch.from_numpy(batch.inputs), generator=torch_generator(seed, "eval"))
    val_loss = float(
        loss_fn(out.outputs, torch.from_numpy(batch.targets), torch.from_numpy(batch.mask))
    )
    metrics = {"val_loss": val_loss}
    # Every per-trial boolean or real-valued score becomes a mean validation metric
    # (``correct`` is reported as ``val_accuracy``); integer codes such as choices are not.
    for key, values in src.evaluate(out.outputs.numpy(), batch).items():
        values = np.asarray(values)
        if values.dtype == bool or values.dtype.kind == "f":
            name = "val_accuracy" if key == "correct" else f"val_{key}"
            metrics[name] = float(np.nanmean(values))
    return metrics


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
