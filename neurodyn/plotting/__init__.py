"""Figures: every ``plot_*`` function of neurodyn, one module per subject.

=================  =============================================================
module             draws
=================  =============================================================
``tasks``          trials (inputs, targets, outputs), training curves,
                   psychometric curves; :func:`save_figure`
``fixed_points``   fixed points over trajectories, eigenvalue spectra
``waves``          space-time plots, wave and circulant spectra, decoding
``spiking``        rasters, population rates, the liquid's graph
=================  =============================================================

Names are imported on first use (PEP 562): the modules import the analyzers whose
results they draw, and the analyzers must be importable without any of them, so
``import neurodyn.plotting`` loads neither matplotlib nor the analyzers.
"""

import importlib

_ATTRIBUTES = {
    "PsychometricFit": "tasks",
    "fit_psychometric": "tasks",
    "plot_psychometric": "tasks",
    "plot_training_curve": "tasks",
    "plot_trials": "tasks",
    "psychometric": "tasks",
    "save_figure": "tasks",
    "plot_eigenvalues": "fixed_points",
    "plot_fixed_points": "fixed_points",
    "stability_color": "fixed_points",
    "plot_circulant_spectrum": "waves",
    "plot_decoding": "waves",
    "plot_space_time": "waves",
    "plot_wave_spectrum": "waves",
    "plot_liquid": "spiking",
    "plot_raster": "spiking",
    "plot_rates": "spiking",
}

__all__ = sorted(_ATTRIBUTES)


def __getattr__(name):
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
