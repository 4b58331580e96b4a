"""Figures: every ``plot_*`` function of neurodyn, one module per subject.

====================  ============================================================
module                draws
====================  ============================================================
``trials``            trials: inputs, targets and outputs
``training``          training curves: losses, accuracy, curriculum stages
``psychometrics``     psychometric curves and their fitted logistic
``fixed_points``      fixed points over trajectories, eigenvalue spectra
``phase_portraits``   exact phase portraits, projected flows, 3-D trajectories
``continuation``      bifurcation diagrams
``lyapunov``          Lyapunov spectra and their convergence
``waves``             space-time plots, wave and circulant spectra, decoding
``spiking``           rasters, population rates, the liquid's graph
``sweeps``            a sweep's metric against a parameter, over seeds
``multitask``         task variance, its clusters, fractional variance, composition
``stability``         the colours and legends of stability classes
``files``             :func:`save_figure`
====================  ============================================================

Plotting modules only draw: what they draw is computed in :mod:`neurodyn.analysis`
(``psychometric``, ``fit_psychometric`` and ``PsychometricFit``, importable from here
as well, come from :mod:`neurodyn.analysis.psychometrics`).

Names are imported on first use (PEP 562): the modules import the analyzers whose
results they draw, and the analyzers must be importable without any of them, so
``import neurodyn.plotting`` loads neither matplotlib nor the analyzers.
"""

from .._lazy import lazy_attributes

_ATTRIBUTES = {
    "plot_trials": ".trials",
    "plot_training_curve": ".training",
    "plot_psychometric": ".psychometrics",
    # Computations, kept importable from here; they load no matplotlib.
    "PsychometricFit": "neurodyn.analysis.psychometrics",
    "fit_psychometric": "neurodyn.analysis.psychometrics",
    "psychometric": "neurodyn.analysis.psychometrics",
    "plot_eigenvalues": ".fixed_points",
    "plot_fixed_points": ".fixed_points",
    "plot_phase_portrait": ".phase_portraits",
    "plot_projected_portrait": ".phase_portraits",
    "plot_trajectories_3d": ".phase_portraits",
    "plot_bifurcation_diagram": ".continuation",
    "plot_lyapunov_spectrum": ".lyapunov",
    "plot_circulant_spectrum": ".waves",
    "plot_decoding": ".waves",
    "plot_space_time": ".waves",
    "plot_wave_spectrum": ".waves",
    "plot_liquid": ".spiking",
    "plot_raster": ".spiking",
    "plot_rates": ".spiking",
    "plot_sweep": ".sweeps",
    "plot_cluster_variance": ".multitask",
    "plot_fractional_variance": ".multitask",
    "plot_silhouette": ".multitask",
    "plot_task_composition": ".multitask",
    "plot_task_representation": ".multitask",
    "plot_task_variance": ".multitask",
    "stability_color": ".stability",
    "save_figure": ".files",
}

__all__ = sorted(_ATTRIBUTES)


__getattr__, __dir__ = lazy_attributes(__name__, _ATTRIBUTES)
