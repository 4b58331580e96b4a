"""The training loop of :func:`~neurodyn.train.fit`: steps, validation, stages, recovery."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from ..devices import to_device
from ..progress import progress_bar
from ..seeding import torch_generator
from .checkpoint import LastGood, load_checkpoint, save_checkpoint
from .config import FitConfig
from .data import DatasetSource, TaskSource
from .losses import check_targets, get_loss
from .objectives import get_objective
from .plan import FitPlan
from .result import DIVERGED_LOSS, FitResult, TrainingDiverged
from .schedules import learning_rate, make_optimizer

__all__ = ["TrainingRun"]

logger = logging.getLogger(__name__)


class TrainingRun:
    """The state of one call of :func:`~neurodyn.train.fit` and its training loop.

    Every step draws its batch and noise from ``(seed, step)`` alone, so a run resumed
    from a checkpoint ends with the weights of an uninterrupted one.
    """

    def __init__(self, model, plan: FitPlan, cfg: FitConfig):
        self.model, self.plan, self.cfg = model, plan, cfg
        self.stages = plan.stages
        self.seed, self.device = plan.seed, plan.device
        self.optimizer = make_optimizer(
            cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum
        )
        self.result = FitResult(
            model=model, seed=self.seed, stage_steps=[0], device=str(self.device)
        )
        self.step, self.running = 0, (0.0, 0)
        self.last_good = LastGood(model, self.optimizer)

    # -- set-up ------------------------------------------------------------------------
    def _resume(self) -> None:
        ckpt = self.cfg.checkpoint
        if not (self.cfg.resume and Path(ckpt).is_file()):
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
        """Make stage ``i`` current: its batches, its loss and its validation set."""
        sp, cfg = self.stages[i], self.cfg
        if sp.on_dataset:
            src = DatasetSource(
                sp.data,
                seed=self.seed,
                val_fraction=cfg.val_fraction,
                loss=sp.loss,
                validation=self.plan.validation,
                batch_size=cfg.batch_size,
                epochs=cfg.epochs is not None,
                ranks=sp.ranks,
            )
            self.groups = None
        else:
            src = TaskSource(sp.data, seed=self.seed, n_validation=cfg.n_validation, stage=i)
            self.groups = getattr(sp.data, "output_groups", None)
        self.loss_name = sp.loss
        if sp.observation is None:
            self.loss_fn, self.predict = get_loss(sp.loss, self.groups), _outputs
        else:
            self.loss_fn, self.predict = get_objective(sp.loss), sp.observation.predict
        val = src.validation_batch()
        self._check_targets(val, f"the validation targets of stage {i} ({sp.stage.name})")
        self.val_tensors = self._tensors(val)
        self.src = src

    def _check_targets(self, batch, what: str) -> None:
        check_targets(self.loss_name, batch.targets, batch.mask, self.groups, what=what)

    def _tensors(self, batch):
        return tuple(to_device(a, self.device) for a in (batch.inputs, batch.targets, batch.mask))

    def _save(self) -> None:
        if self.cfg.checkpoint is not None:
            save_checkpoint(
                self.cfg.checkpoint,
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
        n_steps, r = self.plan.n_steps, self.result
        bar = progress_bar(
            total=n_steps,
            initial=self.step,
            progress=self.cfg.progress,
            desc="training",
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
                self.cfg.checkpoint,
            )
            raise
        finally:
            bar.close()
        r.steps = self.step
        self._save()
        self.model.eval()
        return r

    def _one_step(self) -> None:
        model, a = self.model, self.cfg
        model.train()
        batch = self.src.train_batch(self.step, a.batch_size)
        self._check_targets(batch, f"the training targets of step {self.step}")
        inputs, targets, mask = self._tensors(batch)
        out = model(inputs, generator=torch_generator(self.seed, "noise", self.step))
        objective = self.loss_fn(self.predict(out), targets, mask)
        if a.l2_rate or a.l2_weight:
            reg = model.regularization(out.rates)
            objective = objective + a.l2_rate * reg["rate"] + a.l2_weight * reg["weight"]
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        params = [p for p in model.parameters() if p.grad is not None]
        if a.clip_grad is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, a.clip_grad)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        # One transfer for both numbers.
        value, grad_norm = torch.stack([objective.detach(), norm.to(objective.dtype)]).tolist()
        self._check_divergence(value, grad_norm)
        self._set_learning_rate()
        self.optimizer.step()
        self.running = (self.running[0] + value, self.running[1] + 1)
        self.step += 1
        self.result.stage_steps[-1] += 1

    def _set_learning_rate(self) -> None:
        """This step's learning rate (a function of the step alone, so resuming is exact)."""
        if self.cfg.lr_schedule == "constant":
            return
        lr = learning_rate(self.cfg.lr, self.cfg.lr_schedule, self.step, self.plan.n_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

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
        kept = f"; checkpoint {self.cfg.checkpoint} holds them" if self.cfg.checkpoint else ""
        raise TrainingDiverged(
            f"training diverged: {what} (lr={self.cfg.lr}). The model keeps the weights "
            f"from the start of step {self.step}, the last with a finite loss and gradient"
            f"{kept}. Lower lr, or clip gradients harder (clip_grad)",
            step=step,
            loss=value,
            restored_step=self.step,
        )

    def _after_step(self, bar) -> bool:
        """Validate, log, advance stages, checkpoint; True when training should stop."""
        step, r = self.step, self.result
        stop = False
        if step % self.plan.val_every == 0 or step == self.plan.n_steps:
            metrics = validate(
                self.model, self.src, self.loss_fn, self.seed, self.val_tensors, self.predict
            )
            total, n = self.running
            rec = {"step": step, "stage": r.stage, "train_loss": total / n, **metrics}
            if self.cfg.lr_schedule != "constant":
                rec["lr"] = self.optimizer.param_groups[0]["lr"]
            r.history.append(rec)
            self.running = (0.0, 0)
            bar.set_postfix({k: f"{v:.3g}" for k, v in rec.items() if k.startswith("val")})
            logger.debug("step %d: %s", step, rec)
            stop = self._advance_stage(metrics)
        if not stop and step % self.cfg.checkpoint_every == 0:
            self._save()
        return stop

    def _advance_stage(self, metrics) -> bool:
        r, step = self.result, self.step
        st = self.stages[r.stage].stage
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


def _outputs(out):
    """What a task's loss compares with its targets: the model's outputs."""
    return out.outputs


@torch.no_grad()
def validate(model, src, loss_fn, seed, tensors, predict=_outputs) -> dict[str, float]:
    """The validation loss and the mean of every per-trial score of the source's task.

    ``predict`` maps the forward pass to what ``loss_fn`` compares with the targets
    (the outputs for a task; see :class:`~neurodyn.train.recorded.Observation`).
    """
    model.eval()
    batch = src.validation_batch()
    inputs, targets, mask = tensors
    out = model(inputs, generator=torch_generator(seed, "eval"))
    metrics = {"val_loss": float(loss_fn(predict(out), targets, mask))}
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
