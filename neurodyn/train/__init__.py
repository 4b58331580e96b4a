"""Training: :func:`fit`, curricula, masked losses."""

from .curriculum import Criterion, Curriculum, Stage
from .fit import FitResult, fit, load_checkpoint
from .losses import LOSSES, masked_cross_entropy, masked_mse

__all__ = [
    "LOSSES",
    "Criterion",
    "Curriculum",
    "FitResult",
    "Stage",
    "fit",
    "load_checkpoint",
    "masked_cross_entropy",
    "masked_mse",
]
