"""One network's part of a training run: its seed, data, loss, record and checkpoint.

:class:`~neurodyn.train.loop.TrainingRun` trains one model, or the networks of an
ensemble together; each network keeps here what it would keep training alone, so that
its batches, noise, validation set, record and checkpoint are those of a lone run with
its seed.
"""

from __future__ import annotations

from ..devices import to_device
from .data import DatasetSource, TaskSource
from .losses import check_targets, get_loss
from .objectives import get_objective
from .result import FitResult

__all__ = ["NetworkRun"]


class NetworkRun:
    """The training state of one network.

    Attributes
    ----------
    index : int
        The network's row in an ensemble (0 for a single model).
    seed : int
        Its training seed: batches, noise and validation set come from it alone.
    checkpoint : path or None
        Its checkpoint file.
    result : FitResult
        Its record (history, stages, message).
    step : int
        Optimisation steps it has taken.
    running : tuple of (float, int)
        Sum and count of its training losses since its last validation.
    stopped : bool
        It stopped before the run did (criteria met, or diverged); no step changes it.
    good : tuple
        Its scalars at the start of its last step with a finite loss and gradient.
    """

    def __init__(self, index: int, seed: int, checkpoint, device):
        self.index, self.seed, self.checkpoint = index, seed, checkpoint
        self.result = FitResult(model=None, seed=seed, stage_steps=[0], device=str(device))
        self.step = 0
        self.running = (0.0, 0)
        self.stopped = False
        self.good: tuple = ()

    # -- the current stage ---------------------------------------------------------------
    def use_stage(self, i: int, plan, cfg) -> None:
        """Make stage ``i`` current: its batches, its loss and its validation set."""
        sp = plan.stages[i]
        if sp.on_dataset:
            self.src = DatasetSource(
                sp.data,
                seed=self.seed,
                val_fraction=cfg.val_fraction,
                loss=sp.loss,
                validation=plan.validation,
                batch_size=cfg.batch_size,
                epochs=cfg.epochs is not None,
                ranks=plan.stage_ranks(i, self.seed),
            )
            self.groups = None
        else:
            self.src = TaskSource(sp.data, seed=self.seed, n_validation=cfg.n_validation, stage=i)
            self.groups = getattr(sp.data, "output_groups", None)
        self.loss_name = sp.loss
        if sp.observation is None:
            self.loss_fn, self.predict = get_loss(sp.loss, self.groups), _outputs
        else:
            self.loss_fn, self.predict = get_objective(sp.loss), sp.observation.predict
        val = self.src.validation_batch()
        self.check_targets(val, f"the validation targets of stage {i} ({sp.stage.name})")
        self.val_tensors = self.tensors(val, plan.device)

    def check_targets(self, batch, what: str) -> None:
        check_targets(self.loss_name, batch.targets, batch.mask, self.groups, what=what)

    @staticmethod
    def tensors(batch, device):
        """A batch's inputs, targets and mask as tensors on ``device``."""
        return tuple(to_device(a, device) for a in (batch.inputs, batch.targets, batch.mask))

    # -- the record ----------------------------------------------------------------------
    def scalars(self) -> tuple:
        """What :meth:`restore` puts back: steps, running loss, stage, record lengths."""
        r = self.result
        return (
            self.step,
            self.running,
            r.stage,
            list(r.stage_steps),
            len(r.history),
            len(r.stage_log),
        )

    def restore(self, scalars: tuple) -> None:
        self.step, self.running, stage, stage_steps, n_hist, n_log = scalars
        r = self.result
        r.stage, r.stage_steps = stage, stage_steps
        del r.history[n_hist:], r.stage_log[n_log:]

    def took_step(self, loss: float) -> None:
        self.running = (self.running[0] + loss, self.running[1] + 1)
        self.step += 1
        self.result.stage_steps[-1] += 1

    def check_seed(self, state: dict) -> None:
        """ValueError unless its checkpoint ``state`` was written with its seed."""
        if state["seed"] != self.seed:
            raise ValueError(
                f"checkpoint {self.checkpoint} was written with seed={state['seed']}; this "
                f"run has seed={self.seed}"
            )

    def load(self, state: dict) -> None:
        """Its step, running loss and record from its checkpoint (``load_checkpoint``)."""
        self.step = int(state["step"])
        r = self.result
        r.history, r.stage = list(state["history"]), int(state["stage"])
        r.stage_steps, r.stage_log = list(state["stage_steps"]), list(state["stage_log"])
        self.running = tuple(state["running"])


def _outputs(out):
    """What a task's loss compares with its targets: the model's outputs."""
    return out.outputs
