"""Training: :func:`fit`, curricula, masked losses."""

from .curriculum import Criterion, Curriculum, Stage
from .fit import FitResult, TrainingDiverged, check_fit_config, fit, load_checkpoint
from .losses import LOSSES, check_targets, masked_cross_entropy, masked_mse
from .resources import MemoryEstimate, estimate_training_memory
from .timescale_curricula import (
    ForgettingProbe,
    multi_head_curriculum,
    no_curriculum,
    single_head_curriculum,
    sliding_window_curriculum,
)

__all__ = [
    "LOSSES",
    "Criterion",
    "Curriculum",
    "FitResult",
    "ForgettingProbe",
    "MemoryEstimate",
    "Stage",
    "TrainingDiverged",
    "check_fit_config",
    "check_targets",
    "estimate_training_memory",
    "fit",
    "load_checkpoint",
    "masked_cross_entropy",
    "masked_mse",
    "multi_head_curriculum",
    "no_curriculum",
    "single_head_curriculum",
    "sliding_window_curriculum",
]
