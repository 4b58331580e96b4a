"""The plan of a training run: its stages, its length and what it needs, checked before it starts."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..devices import resolve_device
from ..seeding import resolve_seed
from .config import EPOCH, FitConfig
from .curriculum import Criterion, Curriculum, Stage
from .data import split_sizes, steps_per_epoch, validate_dataset
from .recorded import Observation, is_recording, recorded_data
from .resources import estimate_training_memory

__all__ = ["FitPlan", "plan_fit"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitPlan:
    """What :func:`~neurodyn.train.fit` will do, resolved from its arguments.

    Attributes
    ----------
    stages : list of Stage
        One stage for a task or a Dataset; a curriculum's stages.
    curriculum : Curriculum or None
        The curriculum, when training on one (tasks draw fresh trials; a Dataset has
        ``None`` here).
    validation : xarray.Dataset or None
        A held-out Dataset to validate on instead of a split of the training Dataset.
    seed : int
    device : torch.device
    n_steps : int
        Optimisation steps in total (``epochs`` × steps per epoch when training in epochs).
    val_every : int
        Steps between validations.
    observation : Observation or None
        For a recording, how its neurons are read from the model (the stage's Dataset
        is then the recording as inputs/targets/mask); None otherwise.
    """

    stages: list
    curriculum: Curriculum | None
    validation: Any
    seed: int
    device: torch.device
    n_steps: int
    val_every: int
    observation: Observation | None = None


def plan_fit(model, data, validation, cfg: FitConfig) -> FitPlan:
    """Check the model and the data against each other and ``cfg``; resolve the run's length.

    Raises
    ------
    ValueError
        Data that does not suit the model or the settings, or a run that needs more
        memory than the device has.
    """
    model.check_weights()
    observation = None
    if is_recording(data):
        data, validation, observation = recorded_data(
            model, data, validation, objective=cfg.objective, observed=cfg.observed, loss=cfg.loss
        )
    elif cfg.objective is not None or cfg.observed is not None:
        what = "objective" if cfg.objective is not None else "observed"
        raise ValueError(
            f"{what} is for fitting a recording (a Dataset with 'activity'); tasks and "
            "inputs/targets Datasets are trained with loss="
        )
    n_output = None if observation is not None else model.n_output
    stages, curriculum = _stages(model, data, cfg.target_loss, n_output)
    if curriculum is not None and (cfg.epochs is not None or validation is not None):
        what = "epochs" if cfg.epochs is not None else "validation"
        raise ValueError(
            f"{what} is for training on an xarray.Dataset; a task draws fresh trials every "
            "step (use n_steps and n_validation)"
        )
    if validation is not None:
        _check_dataset(model, validation, "validation", n_output)
    n_steps, val_every = cfg.n_steps, cfg.val_every
    if cfg.epochs is not None:
        per_epoch = steps_per_epoch(_train_trials(stages[0].task, validation, cfg), cfg.batch_size)
        n_steps = cfg.epochs * per_epoch
        val_every = per_epoch if val_every == EPOCH else val_every
    plan = FitPlan(
        stages=stages,
        curriculum=curriculum,
        validation=validation,
        seed=resolve_seed(cfg.seed),
        device=resolve_device(cfg.device),
        n_steps=n_steps,
        val_every=val_every,
        observation=observation,
    )
    _check_memory(model, plan, cfg)
    return plan


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


def _check_dataset(model, ds, what: str, n_output: int | None) -> None:
    validate_dataset(ds, n_input=model.n_input, n_output=n_output)
    if not math.isclose(float(ds.attrs["dt"]), model.dt):
        raise ValueError(
            f"{what} dataset dt={ds.attrs['dt']} ms differs from the model's dt={model.dt} ms"
        )


def _stages(model, data, target_loss, n_output) -> tuple[list[Stage], Curriculum | None]:
    curriculum = _as_curriculum(data, target_loss)
    if curriculum is None:
        _check_dataset(model, data, "training", n_output)
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


def _train_trials(ds, validation, cfg: FitConfig) -> int:
    """Training trials of a Dataset (all of them when a validation Dataset is given)."""
    n = ds.sizes["trial"]
    return n if validation is not None else split_sizes(n, cfg.val_fraction)[0]


def _check_memory(model, plan: FitPlan, cfg: FitConfig) -> None:
    """Refuse, before training, a run that needs more memory than the device has."""
    if plan.curriculum is None:
        ds, val = plan.stages[0].task, plan.validation
        n_train = _train_trials(ds, val, cfg)
        n_val = ds.sizes["trial"] - n_train if val is None else val.sizes["trial"]
        n_time = max(ds.sizes["time"], 0 if val is None else val.sizes["time"])
        batch = min(cfg.batch_size, n_train)
    else:
        # A few trials of each stage give its (padded) length; only the estimate uses them.
        probe = np.random.default_rng(0)
        n_time = max(st.task.batch(4, seed=probe).n_steps for st in plan.stages)
        batch, n_val = cfg.batch_size, cfg.n_validation
    estimate = estimate_training_memory(
        model, batch_size=batch, n_time=n_time, n_validation=n_val, device=plan.device
    )
    logger.debug("training memory: %s", estimate.describe())
    estimate.check()
