"""neurodyn: train biologically constrained RNNs on cognitive tasks, then reverse-engineer them.

The main entry points::

    from neurodyn import tasks, rnn_models, fit, simulate, save_model, load_model
"""

import logging

from . import io, rnn_models, tasks, train
from ._version import __version__
from .io import load_dataset, load_model, save_dataset, save_model
from .simulate import simulate
from .train import Criterion, Curriculum, Stage, fit

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Criterion",
    "Curriculum",
    "Stage",
    "__version__",
    "fit",
    "io",
    "load_dataset",
    "load_model",
    "rnn_models",
    "save_dataset",
    "save_model",
    "simulate",
    "tasks",
    "train",
]
