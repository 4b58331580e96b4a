"""Analyzers of trained networks: fixed points and their linearization, phase portraits,
slow manifolds, what a line attractor integrates (its selection vector), limit cycles,
attractors, Lyapunov spectra, continuation, timescales, dimensionality, targeted dimensionality reduction (task-variable axes), robustness,
low-rank networks (:mod:`~neurodyn.analysis.low_rank`: loadings,
latent and mean-field dynamics), comparisons of two systems' geometry and dynamics
(:mod:`~neurodyn.analysis.similarity`: CCA, Procrustes, DSA), and the task variance of
networks trained on many tasks (:mod:`~neurodyn.analysis.multitask`).

Every analyzer takes a :class:`neurodyn.dynamics.Dynamics` (or a model, which
:func:`neurodyn.dynamics.dynamics` adapts), never a model class::

    from neurodyn.analysis import find_fixed_points, sample_initial_states
    x0 = sample_initial_states(simulated_dataset, 1024, noise_scale=0.5)
    fps = find_fixed_points(model, None, x0)
    fps.summary()     # {"stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1, ...}

Figures are in :mod:`neurodyn.plotting` (which imports matplotlib only when a figure is
drawn, so that this package never loads it); the ``plot_*`` functions of the analyzers
are importable from here too. :func:`analyze_run` analyses a run folder.
"""

import importlib

from .analyze_run import analyze_run, run_inputs
from .attractors import Attractors, classify_attractors
from .continuation import Bifurcation, Branch, continue_fixed_points
from .dimensionality import Dimensionality, dimensionality
from .fixed_points import (
    AdamOptions,
    Candidates,
    FixedPoints,
    SolverOptions,
    between_attractors,
    cluster,
    condition_inputs,
    find_fixed_points,
    load_fixed_points,
    sample_initial_states,
    state_scale,
    tile_conditions,
)
from .limit_cycles import LimitCycle, estimate_period, find_limit_cycle
from .line_attractors import line_attractor
from .linearization import Linearization, classify, eigenmodes, linearize, spectrum
from .low_rank import (
    LatentDynamics,
    LoadingMixture,
    LowRankFixedPoints,
    latent_coordinates,
    latent_dynamics,
    loading_mixture,
    loading_population,
    low_rank_fixed_points,
    mean_field_dynamics,
)
from .lyapunov import LyapunovSpectrum, lyapunov_spectrum
from .manifolds import Manifold, SlowManifolds, find_slow_manifolds
from .multitask import (
    cluster_task_variance,
    fractional_task_variance,
    normalize_task_variance,
    task_composition,
    task_representation,
    task_variance,
)
from .phase_portraits import PhasePlane, ProjectedFlow, phase_plane, projected_flow
from .projection import as_trajectories, pca_basis
from .psychometrics import PsychometricFit, fit_psychometric, psychometric
from .robustness import (
    ablate_by_tau,
    perturb_tau,
    perturb_weights,
    silence_units,
    task_accuracy,
)
from .similarity import (
    AlignmentOptions,
    CCASimilarity,
    DSAResult,
    HavokDMD,
    ProcrustesDistance,
    VectorFieldProcrustes,
    cca_similarity,
    delay_embedding,
    dsa,
    havok_dmd,
    procrustes_distance,
    procrustes_vector_field_distance,
)
from .targeted import project_targeted, targeted_axes
from .timescales import (
    JacobianTimescales,
    NetworkTimescales,
    TimescaleFit,
    autocorrelation,
    bernoulli_streams,
    drive,
    fit_exponentials,
    jacobian_timescales,
    network_timescales,
)

__all__ = [
    "AdamOptions",
    "AlignmentOptions",
    "Attractors",
    "Bifurcation",
    "Branch",
    "CCASimilarity",
    "Candidates",
    "DSAResult",
    "Dimensionality",
    "FixedPoints",
    "HavokDMD",
    "JacobianTimescales",
    "LatentDynamics",
    "LimitCycle",
    "Linearization",
    "LoadingMixture",
    "LowRankFixedPoints",
    "LyapunovSpectrum",
    "Manifold",
    "NetworkTimescales",
    "PhasePlane",
    "ProcrustesDistance",
    "ProjectedFlow",
    "PsychometricFit",
    "SlowManifolds",
    "SolverOptions",
    "TimescaleFit",
    "VectorFieldProcrustes",
    "ablate_by_tau",
    "analyze_run",
    "as_trajectories",
    "autocorrelation",
    "bernoulli_streams",
    "between_attractors",
    "cca_similarity",
    "classify",
    "classify_attractors",
    "cluster",
    "cluster_task_variance",
    "condition_inputs",
    "continue_fixed_points",
    "delay_embedding",
    "dimensionality",
    "drive",
    "dsa",
    "eigenmodes",
    "estimate_period",
    "find_fixed_points",
    "find_limit_cycle",
    "find_slow_manifolds",
    "fit_exponentials",
    "fit_psychometric",
    "fractional_task_variance",
    "havok_dmd",
    "jacobian_timescales",
    "latent_coordinates",
    "latent_dynamics",
    "line_attractor",
    "linearize",
    "load_fixed_points",
    "loading_mixture",
    "loading_population",
    "low_rank_fixed_points",
    "lyapunov_spectrum",
    "mean_field_dynamics",
    "network_timescales",
    "normalize_task_variance",
    "pca_basis",
    "perturb_tau",
    "perturb_weights",
    "phase_plane",
    "plot_bifurcation_diagram",
    "plot_lyapunov_spectrum",
    "plot_phase_portrait",
    "plot_projected_portrait",
    "plot_trajectories_3d",
    "procrustes_distance",
    "procrustes_vector_field_distance",
    "project_targeted",
    "projected_flow",
    "psychometric",
    "run_inputs",
    "sample_initial_states",
    "silence_units",
    "spectrum",
    "state_scale",
    "targeted_axes",
    "task_accuracy",
    "task_composition",
    "task_representation",
    "task_variance",
    "tile_conditions",
]

# The figures of the analyzers, importable from here as they always were. They live in
# neurodyn.plotting, whose modules import these analyzers (and matplotlib): importing
# them here, at import time, would be an import cycle, so they load on first use (PEP 562).
_FIGURES = {
    "plot_bifurcation_diagram": "neurodyn.plotting.continuation",
    "plot_lyapunov_spectrum": "neurodyn.plotting.lyapunov",
    "plot_phase_portrait": "neurodyn.plotting.phase_portraits",
    "plot_projected_portrait": "neurodyn.plotting.phase_portraits",
    "plot_trajectories_3d": "neurodyn.plotting.phase_portraits",
}


def __getattr__(name):
    if name in _FIGURES:
        value = getattr(importlib.import_module(_FIGURES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
