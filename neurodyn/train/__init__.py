"""Training: :func:`fit`, curricula, masked losses."""

from .curricula import (
    ForgettingProbe,
    multi_head_curriculum,
    no_curriculum,
    single_head_curriculum,
    sliding_window_curriculum,
)
from .curriculum import Criterion, Curriculum, Stage
from .fit import FitResult, fit, load_checkpoint
from .losses import LOSSES, masked_cross_entropy, masked_mse

__all__ = [
    "LOSSES",
    "Criterion",
    "Curriculum",
    "FitResult",
    "ForgettingProbe",
    "Stage",
    "fit",
    "load_checkpoint",
    "masked_cross_entropy",
    "masked_mse",
    "multi_head_curriculum",
    "no_curriculum",
    "single_head_curriculum",
    "sliding_window_curriculum",
]
