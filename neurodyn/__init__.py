"""neurodyn: train biologically constrained RNNs on cognitive tasks, then reverse-engineer them.

The main entry points::

    from neurodyn import tasks, rnn_models, fit, simulate, save_model, load_model

Submodules and functions are imported on first use (PEP 562), so ``import neurodyn``
stays fast and loads neither PyTorch nor xarray until they are needed.
"""

import importlib
import logging

from ._version import __version__ as __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

_SUBMODULES = {
    "analysis",
    "dynamics",
    "io",
    "plotting",
    "rnn_models",
    "run_folders",
    "seeding",
    "simulation",
    "spiking",
    "sweeps",
    "tasks",
    "train",
}
_ATTRIBUTES = {
    "Criterion": "neurodyn.train",
    "Curriculum": "neurodyn.train",
    "Stage": "neurodyn.train",
    "fit": "neurodyn.train",
    "simulate": "neurodyn.simulation",
    "load_dataset": "neurodyn.io",
    "load_model": "neurodyn.io",
    "read_nwb": "neurodyn.io",
    "recording": "neurodyn.io",
    "save_dataset": "neurodyn.io",
    "save_model": "neurodyn.io",
    "write_nwb": "neurodyn.io",
    "show_config": "neurodyn.backends",
    "sweep": "neurodyn.sweeps",
    "open_sweep": "neurodyn.sweeps",
}

#: Earlier names of submodules: ``neurodyn.runs`` is the run-folder module, named
#: ``run_folders`` so that it is not taken for analysing or simulating a run.
_RENAMED = {"runs": "run_folders"}

__all__ = sorted(["__version__", *_SUBMODULES, *_ATTRIBUTES])


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _RENAMED:
        return importlib.import_module(f"{__name__}.{_RENAMED[name]}")
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(_ATTRIBUTES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neurodyn' has no attribute {name!r}")


def __dir__():
    return __all__
