"""Training: :func:`fit`, curricula, masked losses."""

from .curriculum import Criterion, Curriculum, Stage
from .fit import (
    EnsembleResult,
    FitResult,
    TrainingDiverged,
    check_fit_config,
    fit,
    load_checkpoint,
)
from .fit_metrics import bits_per_spike, co_bps, fit_poisson_readout, rate_r2, state_r2
from .losses import LOSSES, check_targets, masked_cross_entropy, masked_mse
from .objectives import OBJECTIVES, poisson_nll
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
    "OBJECTIVES",
    "Criterion",
    "Curriculum",
    "EnsembleResult",
    "FitResult",
    "ForgettingProbe",
    "MemoryEstimate",
    "Stage",
    "TrainingDiverged",
    "bits_per_spike",
    "check_fit_config",
    "check_targets",
    "co_bps",
    "estimate_training_memory",
    "fit",
    "fit_poisson_readout",
    "load_checkpoint",
    "masked_cross_entropy",
    "masked_mse",
    "multi_head_curriculum",
    "no_curriculum",
    "poisson_nll",
    "rate_r2",
    "single_head_curriculum",
    "sliding_window_curriculum",
    "state_r2",
]
