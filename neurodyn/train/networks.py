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

    Parameters
    ----------
    index, seed, checkpoint
        As the attributes below.
    device : str or torch.device
        The training device, recorded in its result; :meth:`use_stage` moves the
        validation set to the plan's device.

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

    Examples
    --------
    A network takes up the plan's first stage, counts its steps, and goes back to
    its last good state:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train.config import FitConfig
    >>> from neurodyn.train.plan import plan_fit
    >>> model = RateRNN(1, 8, 1, seed=0)
    >>> cfg = FitConfig(n_steps=4, batch_size=4, n_validation=8, device="cpu",
    ...                 progress=False)
    >>> plan = plan_fit(model, FlipFlop(n_bits=1), None, cfg)
    >>> net = NetworkRun(0, seed=0, checkpoint=None, device=plan.device)
    >>> net.use_stage(0, plan, cfg)
    >>> net.loss_name, [tuple(t.shape) for t in net.val_tensors]  # inputs, targets, mask
    ('mse', [(8, 100, 1), (8, 100, 1), (8, 100, 1)])
    >>> good = net.scalars()
    >>> net.took_step(0.5)
    >>> net.took_step(0.3)
    >>> net.step, net.running, net.result.stage_steps
    (2, (0.8, 2), [2])
    >>> net.restore(good)
    >>> net.step, net.running
    (0, (0.0, 0))
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
        """Make stage ``i`` current: its batches, its loss and its validation set.

        Parameters
        ----------
        i : int
            The stage's index in ``plan.stages``.
        plan : FitPlan
            The run's plan.
        cfg : FitConfig
            The run's settings (batch size, validation split, ``n_validation``).

        Raises
        ------
        ValueError
            If the stage's validation targets do not suit its loss.
        """
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
        """A batch's inputs, targets and mask as tensors on ``device``.

        Parameters
        ----------
        batch : Batch
            Trials of a task or a Dataset (:class:`~neurodyn.tasks.Batch`).
        device : torch.device
            Where the tensors go.
        """
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
        """ValueError unless its checkpoint ``state`` was written with its seed.

        Parameters
        ----------
        state : dict
            A checkpoint (:func:`~neurodyn.train.load_checkpoint`).
        """
        if state["seed"] != self.seed:
            raise ValueError(
                f"checkpoint {self.checkpoint} was written with seed={state['seed']}; this "
                f"run has seed={self.seed}"
            )

    def load(self, state: dict) -> None:
        """Its step, running loss and record from its checkpoint (``load_checkpoint``).

        Parameters
        ----------
        state : dict
            A checkpoint (:func:`~neurodyn.train.load_checkpoint`).
        """
        self.step = int(state["step"])
        r = self.result
        r.history, r.stage = list(state["history"]), int(state["stage"])
        r.stage_steps, r.stage_log = list(state["stage_steps"]), list(state["stage_log"])
        self.running = tuple(state["running"])


def _outputs(out):
    """What a task's loss compares with its targets: the model's outputs."""
    return out.outputs
