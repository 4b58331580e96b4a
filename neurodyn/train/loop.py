"""The training loop of :func:`~neurodyn.train.fit`: steps, validation, stages, recovery.

One loop trains a single model or the networks of an ensemble
(:mod:`neurodyn.train.models`); every network keeps its own seed, data, record and
checkpoint (:class:`~neurodyn.train.networks.NetworkRun`), steps while it has not
stopped, and stops on its own criteria.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from ..progress import progress_bar
from ..seeding import torch_generator
from .checkpoint import LastGood, load_checkpoint, save_checkpoint
from .config import FitConfig
from .models import trained_model
from .networks import NetworkRun
from .plan import FitPlan
from .result import DIVERGED_LOSS, EnsembleResult, FitResult, TrainingDiverged
from .schedules import learning_rate, make_optimizer

__all__ = ["TrainingRun"]

logger = logging.getLogger(__name__)


class TrainingRun:
    """The state of one call of :func:`~neurodyn.train.fit` and its training loop.

    Every step draws each network's batch and noise from ``(seed, step)`` alone, so a
    run resumed from a checkpoint ends with the weights of an uninterrupted one, and
    a network of an ensemble trains on what it would train on alone.

    Parameters
    ----------
    model : Model or RateEnsemble
        The model to train, already on ``plan.device``.
    plan : FitPlan
        The run's stages, length and device (:func:`~neurodyn.train.plan.plan_fit`).
    cfg : FitConfig
        The settings (optimiser, learning rate, clipping, penalties, checkpoints).

    Examples
    --------
    What :func:`~neurodyn.train.fit` does, step by step: validate the settings, plan,
    then train under a thread schedule:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train.config import FitConfig
    >>> from neurodyn.train.plan import plan_fit
    >>> from neurodyn.train.resources import step_flops
    >>> from neurodyn.train.schedules import ThreadSchedule
    >>> model = RateRNN(1, 8, 1, seed=0)
    >>> cfg = FitConfig(n_steps=4, batch_size=4, val_every=2, n_validation=8,
    ...                 device="cpu", progress=False)
    >>> run = TrainingRun(model, plan_fit(model, FlipFlop(n_bits=1), None, cfg), cfg)
    >>> with ThreadSchedule(1, step_flops(model, cfg.batch_size)) as schedule:
    ...     result = run.train(schedule)
    >>> run.step, result.steps, len(result.history), len(run.networks)
    (4, 4, 2, 1)
    """

    def __init__(self, model, plan: FitPlan, cfg: FitConfig):
        self.model, self.plan, self.cfg = model, plan, cfg
        self.stages = plan.stages
        self.device = plan.device
        self.optimizer = make_optimizer(
            cfg.optimizer, model.parameters(), lr=cfg.lr, momentum=cfg.momentum
        )
        self.trained = trained_model(model, self.optimizer)
        self.networks = [
            NetworkRun(k, seed, path, self.device)
            for k, (seed, path) in enumerate(zip(plan.seeds, plan.checkpoints, strict=True))
        ]
        self.step = 0
        self.last_good = LastGood(model, self.optimizer)

    @property
    def live(self) -> list[NetworkRun]:
        """The networks still training."""
        return [net for net in self.networks if not net.stopped]

    # -- set-up ------------------------------------------------------------------------
    def _resume(self) -> None:
        if not self.cfg.resume:
            return
        states = {
            net.index: load_checkpoint(net.checkpoint)
            for net in self.networks
            if net.checkpoint is not None and Path(net.checkpoint).is_file()
        }
        if not states:
            return
        # Everything is checked before the model is touched.
        stopped = {k for k, state in states.items() if self._stays_stopped(state)}
        for k, state in states.items():
            self.networks[k].check_seed(state)
        steps = sorted(
            {
                states[k]["step"] if k in states else 0
                for k in range(len(self.networks))
                if k not in stopped
            }
        )
        if len(steps) > 1:
            raise ValueError(
                f"the checkpoints of the networks still training are at steps {steps}; an "
                "ensemble resumes networks at one step (resume the others on their own)"
            )
        for k, state in states.items():
            self.networks[k].load(state)
        self.trained.load(states)
        for k in stopped:
            net, state = self.networks[k], states[k]
            net.result.diverged = bool(state.get("diverged", False))
            self._stop(net, state["message"], bool(state["success"]))
        self.step = steps[0] if steps else max(net.step for net in self.networks)
        logger.info("resumed at step %d", self.step)

    def _stays_stopped(self, state: dict) -> bool:
        """A network that had stopped stays stopped; a single model that diverged goes
        on from its last good state (with, say, a lower lr)."""
        diverged = bool(state.get("diverged", False))
        return bool(state.get("stopped")) and not (diverged and self.trained.raises)

    def _save(self, nets=None) -> None:
        """Write the checkpoint of each of ``nets`` (default: those still training)."""
        for net in self.live if nets is None else nets:
            if net.checkpoint is not None:
                save_checkpoint(
                    net.checkpoint,
                    **self.trained.state(net.index),
                    step=net.step,
                    result=net.result,
                    running=net.running,
                    stopped=net.stopped,
                )

    # -- the loop ----------------------------------------------------------------------
    def train(self, schedule) -> FitResult | EnsembleResult:
        self._resume()
        for net in self.live:
            net.use_stage(net.result.stage, self.plan, self.cfg)
        n_steps = self.plan.n_steps
        bar = progress_bar(
            total=n_steps,
            initial=self.step,
            progress=self.cfg.progress,
            desc="training",
            unit="step",
        )
        try:
            while self.step < n_steps and self.live:
                self._one_step()
                bar.update(1)
                self._after_step(bar)
                schedule.renew()
            if self.live:
                self._check_final_weights()
            for net in self.live:
                net.result.message = f"reached n_steps={n_steps}"
        except KeyboardInterrupt:
            self._save()
            logger.warning(
                "training interrupted at step %d; checkpoint saved to %s",
                self.step,
                ", ".join(str(net.checkpoint) for net in self.live),
            )
            raise
        finally:
            bar.close()
        for net in self.live:
            net.result.steps = net.step
        self._save()
        self.model.eval()
        return self._result()

    def _result(self) -> FitResult | EnsembleResult:
        for net in self.networks:
            net.result.model = self.trained.network_model(net.index)
        if self.trained.raises:
            return self.networks[0].result
        results = [net.result for net in self.networks]
        return EnsembleResult(model=self.model, networks=results, device=str(self.device))

    def _one_step(self) -> None:
        live, a = self.live, self.cfg
        self.model.train()
        batches = []
        for net in live:
            batch = net.src.train_batch(self.step, a.batch_size)
            net.check_targets(batch, f"the training targets of step {self.step}")
            batches.append(net.tensors(batch, self.device))
        generators = [torch_generator(net.seed, "noise", self.step) for net in live]
        outs = self.trained.forward([b[0] for b in batches], generators, live)
        losses = [
            net.loss_fn(net.predict(out), targets, mask)
            for net, out, (_, targets, mask) in zip(live, outs, batches, strict=True)
        ]
        if a.l2_rate or a.l2_weight:
            penalties = self.trained.penalties(outs, live)
            losses = [
                loss + a.l2_rate * reg["rate"] + a.l2_weight * reg["weight"]
                for loss, reg in zip(losses, penalties, strict=True)
            ]
        self.optimizer.zero_grad(set_to_none=True)
        # The sum of the networks' losses: each network's parameters get its own gradient.
        (losses[0] if len(losses) == 1 else torch.stack(losses).sum()).backward()
        norms = self.trained.grad_norms(a.clip_grad, live)
        # One transfer for all the numbers.
        values = torch.cat([torch.stack(losses).detach(), norms.to(losses[0].dtype)]).tolist()
        n = len(live)
        diverged = self._check_divergence(live, values[:n], values[n:])
        self._set_learning_rate()
        self.optimizer.step()
        self.trained.after_update()
        for net, value in zip(live, values[:n], strict=True):
            if net not in diverged:
                net.took_step(value)
        self.step += 1

    def _set_learning_rate(self) -> None:
        """This step's learning rate (a function of the step alone, so resuming is exact)."""
        if self.cfg.lr_schedule == "constant":
            return
        lr = learning_rate(self.cfg.lr, self.cfg.lr_schedule, self.step, self.plan.n_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _check_divergence(self, live, losses, norms) -> list[NetworkRun]:
        """Keep the state of this step as the last good one for each network whose loss
        and gradient are finite; stop each other one with its last good state.

        A network whose loss diverged goes back to the start of its previous step (its
        current weights gave the loss); one whose loss is fine but gradient is not keeps
        its current weights. Returns the networks stopped.
        """
        bad = []
        for net, value, grad_norm in zip(live, losses, norms, strict=True):
            if not (math.isfinite(value) and abs(value) <= DIVERGED_LOSS):
                bad.append((net, f"the training loss became {value:.4g}", value, True))
            elif not math.isfinite(grad_norm):
                bad.append((net, f"its gradient norm became {grad_norm}", value, False))
        first = self.last_good.params is None
        back = [net for net, _, _, loss_bad in bad if loss_bad]
        if back and not first:
            self.last_good.restore(None if self.trained.raises else [n.index for n in back])
            for net in back:
                net.restore(net.good)
        self.last_good.save()
        for net in live:
            if net not in back:
                net.good = net.scalars()
        for net, what, value, loss_bad in bad:
            self._diverged(net, f"{what} at step {self.step}", value, first and loss_bad)
        return [net for net, *_ in bad]

    def _check_final_weights(self) -> None:
        live = self.live
        bad = self.trained.nonfinite(live)
        if not bad:
            return
        self.last_good.restore(None if self.trained.raises else [n.index for n in bad])
        for net in bad:
            net.restore(net.good)
            self._diverged(net, f"the weights became non-finite at step {self.step}", math.nan)

    def _diverged(self, net, what: str, value: float, initial: bool = False) -> None:
        """Stop ``net`` with its last good state (restored by the caller): a single
        model raises TrainingDiverged, a network of an ensemble is frozen."""
        step, cfg = self.step, self.cfg
        if initial:
            message = (
                f"training diverged: {what}, before any update (the initial weights give "
                "it); check the data's scale and the model's initialisation"
            )
        else:
            kept = f"; checkpoint {net.checkpoint} holds them" if net.checkpoint else ""
            message = (
                f"training diverged: {what} (lr={cfg.lr}). The model keeps the weights "
                f"from the start of step {net.step}, the last with a finite loss and "
                f"gradient{kept}. Lower lr, or clip gradients harder (clip_grad)"
            )
        if self.trained.raises:
            if not initial:
                self.step = net.step
                self._save([net])
            raise TrainingDiverged(message, step=step, loss=value, restored_step=net.step)
        logger.warning("network %d (seed %d): %s", net.index, net.seed, message)
        net.result.diverged = True
        self._stop(net, message, success=False)
        self._save([net])

    def _stop(self, net, message: str, success: bool) -> None:
        """Freeze ``net`` where it is: it takes no more steps."""
        net.stopped = True
        net.result.steps = net.step
        net.result.success, net.result.message = success, message
        self.trained.freeze(net.index)

    def _after_step(self, bar) -> None:
        """Validate, log, advance stages, stop the networks done, checkpoint."""
        step = self.step
        if step % self.plan.val_every == 0 or step == self.plan.n_steps:
            live = self.live
            for net, metrics in zip(live, self._validate(live), strict=True):
                total, n = net.running
                rec = {"step": step, "stage": net.result.stage, "train_loss": total / n}
                rec.update(metrics)
                if self.cfg.lr_schedule != "constant":
                    rec["lr"] = self.optimizer.param_groups[0]["lr"]
                net.result.history.append(rec)
                net.running = (0.0, 0)
                logger.debug("step %d, network %d: %s", step, net.index, rec)
                self._advance_stage(net, metrics)
            bar.set_postfix(_postfix(live))
        if self.live and step % self.cfg.checkpoint_every == 0:
            self._save()

    def _validate(self, nets) -> list[dict[str, float]]:
        """Each network's validation metrics on its own validation set and eval noise."""
        self.model.eval()
        generators = [torch_generator(net.seed, "eval") for net in nets]
        with torch.no_grad():
            outs = self.trained.forward([net.val_tensors[0] for net in nets], generators, nets)
            return [validation_metrics(net, out) for net, out in zip(nets, outs, strict=True)]

    def _advance_stage(self, net, metrics) -> None:
        r, step = net.result, self.step
        st = self.stages[r.stage].stage
        stage_over = st.max_steps is not None and r.stage_steps[-1] >= st.max_steps
        if not (st.done(metrics) or stage_over):
            return
        if st.on_end is not None:
            with torch.no_grad():
                extra = st.on_end(self.trained.network_model(net.index))
            self.model.train()
            r.stage_log.append({"stage": r.stage, "name": st.name, "step": step, **extra})
        if r.stage + 1 == len(self.stages):
            success = st.done(metrics)
            message = (
                f"criteria met ({', '.join(map(str, st.criteria))}) at step {step}"
                if success
                else f"last stage reached max_steps={st.max_steps}"
            )
            self._stop(net, message, success)
            self._save([net])
            return
        logger.info("network %d: stage %d (%s) done at step %d", net.index, r.stage, st.name, step)
        r.stage += 1
        r.stage_steps.append(0)
        net.use_stage(r.stage, self.plan, self.cfg)


def _postfix(nets) -> dict[str, str]:
    """The progress bar's numbers: one network's validation metrics; for several, the
    best validation loss and how many still train."""
    recs = [net.result.history[-1] for net in nets]
    if len(recs) == 1:
        return {k: f"{v:.3g}" for k, v in recs[0].items() if k.startswith("val")}
    best = min((rec["val_loss"] for rec in recs), default=math.nan)
    return {"best val_loss": f"{best:.3g}", "training": str(sum(not n.stopped for n in nets))}


def validation_metrics(net, out) -> dict[str, float]:
    """The validation loss of ``out`` (the forward pass on ``net``'s validation set) and
    the mean of every per-trial score of its task."""
    _, targets, mask = net.val_tensors
    metrics = {"val_loss": float(net.loss_fn(net.predict(out), targets, mask))}
    # Every per-trial boolean or real-valued score becomes a mean validation metric
    # (``correct`` is reported as ``val_accuracy``); integer codes such as choices are not.
    batch = net.src.validation_batch()
    for key, values in net.src.evaluate(out.outputs.cpu().numpy(), batch).items():
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
