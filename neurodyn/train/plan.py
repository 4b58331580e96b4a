"""The plan of a training run: its stages, its length and what it needs, checked before it starts."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from ..devices import resolve_device
from ..seeding import resolve_seed
from .config import EPOCH, FitConfig
from .curriculum import Criterion, Curriculum, Stage
from .data import split_sizes, steps_per_epoch, trial_ranks, validate_dataset
from .losses import check_targets
from .objectives import OBJECTIVES
from .recorded import Observation, is_recording, recorded_data, recorded_validation
from .resources import estimate_training_memory

__all__ = ["FitPlan", "StagePlan", "plan_fit"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StagePlan:
    """One stage as the training loop runs it, resolved from a :class:`Stage`.

    Attributes
    ----------
    stage : Stage
        The stage as given: its criteria, ``max_steps``, name and ``on_end``.
    data : Task or xarray.Dataset
        What batches come from: the task, or an inputs/targets Dataset (for a
        recording, the one :func:`~neurodyn.train.recorded.recorded_data` makes of it).
    loss : str
        What the stage minimises: a loss of :data:`~neurodyn.train.losses.LOSSES`, or,
        for a recording, its observation's objective.
    observation : Observation or None
        For a recording, how its neurons are read from the model; None otherwise.
    ranks : ndarray of int or None
        For a Dataset stage of a curriculum, each trial's rank in the curriculum's
        seeded ranking of trial labels (:func:`~neurodyn.train.data.trial_ranks`);
        the lowest-ranked trials are held out. None: the default split.

    Examples
    --------
    :func:`plan_fit` resolves each stage of a curriculum; a task stage trains with
    the task's own loss:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train import Criterion, Curriculum, Stage
    >>> cur = Curriculum([Stage(FlipFlop(n_bits=1), Criterion("val_loss", "<=", 0.05)),
    ...                   Stage(FlipFlop(n_bits=1, pulse_rate=8.0), max_steps=10)])
    >>> plan = plan_fit(RateRNN(1, 8, 1), cur, None, FitConfig(device="cpu"))
    >>> [(sp.stage.name, sp.loss, sp.on_dataset, sp.observation) for sp in plan.stages]
    [('flip_flop', 'mse', False, None), ('flip_flop', 'mse', False, None)]
    """

    stage: Stage
    data: Any
    loss: str
    observation: Observation | None = None
    ranks: np.ndarray | None = None

    @property
    def on_dataset(self) -> bool:
        """Whether the stage trains on a Dataset (else on a task)."""
        return isinstance(self.data, xr.Dataset)


@dataclass(frozen=True)
class FitPlan:
    """What :func:`~neurodyn.train.fit` will do, resolved from its arguments.

    Attributes
    ----------
    stages : list of StagePlan
        One stage for a task, a Dataset or a recording; a curriculum's stages.
    validation : xarray.Dataset or None
        A held-out inputs/targets Dataset to validate on instead of a split of the
        training Dataset (never with a curriculum).
    seed : int
        The training seed (of the first network of an ensemble).
    seeds : tuple of int
        One training seed per network trained: ``(seed,)`` for a single model, one per
        network of a :class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble`.
    checkpoints : tuple of path or None
        One checkpoint file (or None) per network, in the order of ``seeds``.
    device : torch.device
    n_steps : int
        Optimisation steps in total (``epochs`` × steps per epoch when training in epochs).
    val_every : int
        Steps between validations.

    Examples
    --------
    Training on 10 trials of a Dataset in 3 epochs of mini-batches of 4: 8 trials
    train (2 are held out), so 2 steps per epoch and 6 in all:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> ds = FlipFlop(n_bits=1).batch(10, seed=0).to_xarray()
    >>> cfg = FitConfig(epochs=3, batch_size=4, val_every="epoch", device="cpu")
    >>> plan = plan_fit(RateRNN(1, 8, 1), ds, None, cfg)
    >>> plan.n_steps, plan.val_every, plan.seeds, plan.checkpoints, str(plan.device)
    (6, 2, (0,), (None,), 'cpu')
    """

    stages: list[StagePlan]
    validation: Any
    seed: int
    device: torch.device
    n_steps: int
    val_every: int
    seeds: tuple[int, ...]
    checkpoints: tuple

    def stage_ranks(self, i: int, seed: int) -> np.ndarray | None:
        """The trial ranks of stage ``i`` for a network trained with ``seed``.

        A curriculum's Dataset stages hold out trials by the seeded ranking of their
        labels (:func:`~neurodyn.train.data.trial_ranks`); the stages hold it for
        :attr:`seed`, and the ranking is made again for another network's seed.

        Parameters
        ----------
        i : int
            The stage's index.
        seed : int
            The network's training seed.

        Returns
        -------
        ndarray of int or None
            A rank per trial of the stage's Dataset; None for a task stage or a
            Dataset trained on without a curriculum (the default split).
        """
        sp = self.stages[i]
        if sp.ranks is None or seed == self.seed:
            return sp.ranks
        ranked = [j for j, other in enumerate(self.stages) if other.ranks is not None]
        ranks = trial_ranks([self.stages[j].data for j in ranked], seed)
        return ranks[ranked.index(i)]


def plan_fit(model, data, validation, cfg: FitConfig) -> FitPlan:
    """Check the model and every stage's data against each other and ``cfg``; resolve
    the run's length.

    Everything :func:`~neurodyn.train.fit` can check before training is checked here,
    before anything is written: the model's weights, each stage's data against the
    model (inputs, outputs, ``dt``, targets that suit the loss), the settings against
    the data, the seeds and checkpoints against an ensemble, and the memory the run
    needs against what the device has.

    Parameters
    ----------
    model : Model or RateEnsemble
        The model to train.
    data : Task, Curriculum, xarray.Dataset or recording
        What it trains on, as :func:`~neurodyn.train.fit` takes it.
    validation : xarray.Dataset or None
        A held-out Dataset (or recording) to validate on (not with a task or a
        curriculum).
    cfg : FitConfig
        The run's settings.

    Returns
    -------
    FitPlan

    Raises
    ------
    ValueError
        Data that does not suit the model or the settings (naming the stage in a
        curriculum), or a run that needs more memory than the device has.

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> cfg = FitConfig(n_steps=200, val_every=20, device="cpu")
    >>> plan = plan_fit(RateRNN(1, 8, 1), FlipFlop(n_bits=1), None, cfg)
    >>> plan.n_steps, plan.val_every, len(plan.stages), plan.stages[0].loss
    (200, 20, 1, 'mse')
    >>> plan_fit(RateRNN(2, 8, 1), FlipFlop(n_bits=1), None, cfg)
    Traceback (most recent call last):
    ...
    ValueError: stage 0 (flip_flop): the task has 1 inputs and 1 outputs; the model has n_input=2, n_output=1
    """
    model.check_weights()
    curriculum = _as_curriculum(data, cfg.target_loss)
    trained_on = [data] if curriculum is None else [st.task for st in curriculum.stages]
    _check_settings(trained_on, data, validation, cfg)
    n_networks = getattr(model, "n_networks", None)
    seeds = _seeds(cfg.seed, n_networks)
    checkpoints = _checkpoints(cfg.checkpoint, n_networks)
    seed = seeds[0]
    if curriculum is None:
        stages, validation = _dataset_stage(model, data, validation, cfg)
    else:
        stages = _curriculum_stages(model, curriculum, cfg, seed)
    n_steps, val_every = cfg.n_steps, cfg.val_every
    if cfg.epochs is not None:
        per_epoch = steps_per_epoch(_train_trials(stages[0].data, validation, cfg), cfg.batch_size)
        n_steps = cfg.epochs * per_epoch
        val_every = per_epoch if val_every == EPOCH else val_every
    plan = FitPlan(
        stages=stages,
        validation=validation,
        seed=seed,
        device=resolve_device(cfg.device),
        n_steps=n_steps,
        val_every=val_every,
        seeds=seeds,
        checkpoints=checkpoints,
    )
    _check_memory(model, plan, cfg)
    return plan


def _seeds(seed, n_networks: int | None) -> tuple[int, ...]:
    """One training seed per network: ``seed`` for a single model; for an ensemble a
    sequence of one seed per network, or one int for all, or None / a Generator for
    fresh ones."""
    many = isinstance(seed, (list, tuple, np.ndarray, range))
    if n_networks is None:
        if many:
            raise ValueError(
                "seed is a sequence, which trains the networks of a RateEnsemble (one seed "
                f"each); a single model takes one seed, got {list(seed)!r}"
            )
        return (resolve_seed(seed),)
    if not many:
        return tuple(resolve_seed(seed) for _ in range(n_networks))
    seeds = list(seed)
    if len(seeds) != n_networks:
        raise ValueError(
            f"seed holds {len(seeds)} seeds for an ensemble of {n_networks} networks; "
            "give one per network"
        )
    return tuple(resolve_seed(s) for s in seeds)


def _checkpoints(checkpoint, n_networks: int | None) -> tuple:
    """One checkpoint path (or None) per network."""
    many = isinstance(checkpoint, (list, tuple))
    if n_networks is None:
        if many:
            raise ValueError(
                "checkpoint is a sequence, which is for the networks of a RateEnsemble (one "
                "file each); a single model takes one path"
            )
        return (checkpoint,)
    if checkpoint is None:
        return (None,) * n_networks
    if not many or len(checkpoint) != n_networks:
        raise ValueError(
            f"an ensemble of {n_networks} networks checkpoints each network to its own file: "
            f"checkpoint must be a sequence of {n_networks} paths, got {checkpoint!r}"
        )
    if len({str(c) for c in checkpoint}) != n_networks:
        raise ValueError("checkpoint must name a different file for each network")
    return tuple(checkpoint)


def _as_curriculum(data, target_loss) -> Curriculum | None:
    """A user's curriculum, or a task as a curriculum of one stage; None for data."""
    if isinstance(data, Curriculum):
        if target_loss is not None:
            raise ValueError(
                "target_loss cannot be combined with a Curriculum; give each Stage criteria"
            )
        return data
    if _is_task(data):
        crit = None if target_loss is None else Criterion("val_loss", "<=", float(target_loss))
        return Curriculum([Stage(data, crit)])
    return None


def _is_task(data) -> bool:
    return hasattr(data, "batch") and hasattr(data, "evaluate") and hasattr(data, "input_names")


def _check_settings(datas: list, data, validation, cfg: FitConfig) -> None:
    """Refuse settings that do not apply to what is trained on (``datas``: each stage's)."""
    n_recordings = sum(is_recording(d) for d in datas)
    if n_recordings == 0 and (cfg.objective is not None or cfg.observed is not None):
        what = "objective" if cfg.objective is not None else "observed"
        raise ValueError(
            f"{what} is for fitting a recording (a Dataset with 'activity'); tasks and "
            "inputs/targets Datasets are trained with loss="
        )
    if n_recordings == len(datas) and cfg.loss is not None:
        raise ValueError(
            f"loss={cfg.loss!r} is for tasks and inputs/targets Datasets; a recording is fitted "
            f"with objective= one of {tuple(OBJECTIVES)} (in a curriculum a Stage's loss= "
            "names its objective)"
        )
    if cfg.epochs is None and validation is None:
        return
    what = "epochs" if cfg.epochs is not None else "validation"
    if isinstance(data, Curriculum):
        why = (
            "its stages end when their criteria hold or after max_steps, not after whole "
            "passes over the data (use n_steps)"
            if what == "epochs"
            else "each Dataset stage validates on its own held-out trials (val_fraction) "
            "and each task stage on n_validation fresh trials"
        )
        raise ValueError(f"{what} is for training on an xarray.Dataset, not a Curriculum: {why}")
    if _is_task(data):
        raise ValueError(
            f"{what} is for training on an xarray.Dataset; a task draws fresh trials every "
            "step (use n_steps and n_validation)"
        )


def _dataset_stage(model, data, validation, cfg: FitConfig) -> tuple[list[StagePlan], Any]:
    """The one stage of a Dataset or a recording, and its validation Dataset (or None)."""
    if not isinstance(data, xr.Dataset):
        raise ValueError(
            f"data must be a Task, a Curriculum, an xarray.Dataset or a recording, got {type(data)}"
        )
    crit = None if cfg.target_loss is None else Criterion("val_loss", "<=", cfg.target_loss)
    sp = _plan_stage(model, Stage(data, crit), cfg)
    if validation is not None:
        if sp.observation is not None:
            validation = recorded_validation(model, validation, data)
        _check_dataset(model, validation, "validation", sp)
    return [sp], validation


def _curriculum_stages(model, curriculum: Curriculum, cfg: FitConfig, seed) -> list[StagePlan]:
    """Every stage planned and checked, Dataset stages holding out trials by label."""
    plans = []
    for i, st in enumerate(curriculum.stages):
        try:
            plans.append(_plan_stage(model, st, cfg))
        except ValueError as err:
            raise ValueError(f"stage {i} ({st.name}): {err}") from err
    _check_same_neurons(curriculum.stages)
    on_data = [i for i, sp in enumerate(plans) if sp.on_dataset]
    ranks = trial_ranks([plans[i].data for i in on_data], seed) if on_data else []
    for i, r in zip(on_data, ranks, strict=True):
        plans[i] = dataclasses.replace(plans[i], ranks=r)
    return plans


def _plan_stage(model, st: Stage, cfg: FitConfig) -> StagePlan:
    """A stage's training data and loss, checked against the model."""
    data = st.task
    if is_recording(data):
        objective = st.loss if st.loss is not None else cfg.objective
        train, obs = recorded_data(model, data, objective=objective, observed=cfg.observed)
        sp = StagePlan(st, train, obs.objective, obs)
        _check_dataset(model, train, "training", sp)
        return sp
    if isinstance(data, xr.Dataset):
        sp = StagePlan(st, data, st.loss or cfg.loss or "mse")
        _check_dataset(model, data, "training", sp)
        return sp
    if not _is_task(data):
        raise ValueError(
            f"a stage trains on a Task, an xarray.Dataset or a recording, got {type(data)}"
        )
    if data.n_inputs != model.n_input or data.n_outputs != model.n_output:
        raise ValueError(
            f"the task has {data.n_inputs} inputs and {data.n_outputs} outputs; the model "
            f"has n_input={model.n_input}, n_output={model.n_output}"
        )
    if not math.isclose(data.dt, model.dt):
        raise ValueError(f"the task has dt={data.dt} ms; the model has dt={model.dt} ms")
    return StagePlan(st, data, st.loss or cfg.loss or data.loss)


def _check_dataset(model, ds, what: str, sp: StagePlan) -> None:
    """A stage's (or its validation) Dataset against the model and the stage's loss."""
    # A recording's neurons meet the model through its observation, not its outputs.
    n_output = model.n_output if sp.observation is None else None
    validate_dataset(ds, n_input=model.n_input, n_output=n_output)
    if not math.isclose(float(ds.attrs["dt"]), model.dt):
        raise ValueError(
            f"{what} dataset dt={ds.attrs['dt']} ms differs from the model's dt={model.dt} ms"
        )
    if sp.observation is None:
        mask = ds["mask"].values if "mask" in ds else np.ones(ds["targets"].shape)
        targets = np.where(mask > 0, ds["targets"].values, 0.0)
        check_targets(sp.loss, targets, mask, what=f"the {what} targets")


def _check_same_neurons(stages: list[Stage]) -> None:
    """Every recording stage must hold the first one's neurons, in its order."""
    first = None
    for i, st in enumerate(stages):
        if not is_recording(st.task):
            continue
        neurons = np.asarray(st.task["neuron"].values)
        if first is None:
            first = (i, st.name, neurons)
            continue
        j, name, want = first
        if neurons.shape != want.shape or not np.array_equal(neurons, want):
            raise ValueError(
                f"stage {i} ({st.name}) records the neurons {_labels(neurons)}; stage {j} "
                f"({name}) records {_labels(want)}. Every recording stage of a curriculum "
                "must hold the same neurons in the same order (observed= maps them to the "
                "model once); mask a neuron out (mask = 0) rather than dropping it"
            )


def _labels(values: np.ndarray, shown: int = 6) -> str:
    items = values.tolist()
    if len(items) <= shown:
        return str(items)
    return f"{items[:shown]} and {len(items) - shown} more ({len(items)} in all)"


def _train_trials(ds, validation, cfg: FitConfig) -> int:
    """Training trials of a Dataset (all of them when a validation Dataset is given)."""
    n = ds.sizes["trial"]
    return n if validation is not None else split_sizes(n, cfg.val_fraction)[0]


def _stage_size(sp: StagePlan, validation, cfg: FitConfig, probe) -> tuple[int, int, int]:
    """(batch trials, time steps, validation trials) of a stage."""
    if not sp.on_dataset:
        # A few trials of a task give its (padded) length; only the estimate uses them.
        return cfg.batch_size, sp.data.batch(4, seed=probe).n_steps, cfg.n_validation
    ds = sp.data
    n_train = _train_trials(ds, validation, cfg)
    n_val = ds.sizes["trial"] - n_train if validation is None else validation.sizes["trial"]
    n_time = max(ds.sizes["time"], 0 if validation is None else validation.sizes["time"])
    return min(cfg.batch_size, n_train), n_time, n_val


def _check_memory(model, plan: FitPlan, cfg: FitConfig) -> None:
    """Refuse, before training, a run that needs more memory than the device has.

    The estimate takes the largest batch, trial length and validation set of any
    stage: an upper bound on every stage's need.
    """
    probe = np.random.default_rng(0)
    sizes = [_stage_size(sp, plan.validation, cfg, probe) for sp in plan.stages]
    batch, n_time, n_val = (max(column) for column in zip(*sizes, strict=True))
    estimate = estimate_training_memory(
        model, batch_size=batch, n_time=n_time, n_validation=n_val, device=plan.device
    )
    # The activations and weights were measured on the whole model; every network of an
    # ensemble has a batch and a validation set of its own.
    n = len(plan.seeds)
    if n > 1:
        estimate = dataclasses.replace(
            estimate, data=n * estimate.data, validation=n * estimate.validation
        )
    logger.debug("training memory: %s", estimate.describe())
    estimate.check()
