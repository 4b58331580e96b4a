"""Analyzers of trained networks: fixed points and their linearization, phase portraits,
slow manifolds, limit cycles, attractors, Lyapunov spectra, continuation, timescales,
dimensionality and robustness.

Every analyzer takes a :class:`neurodyn.dynamics.Dynamics` (or a model, which
:func:`neurodyn.dynamics.dynamics` adapts), never a model class::

    from neurodyn.analysis import find_fixed_points, sample_initial_states
    x0 = sample_initial_states(simulated_dataset, 1024, noise_scale=0.5)
    fps = find_fixed_points(model, None, x0)
    fps.summary()     # {"stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1, ...}

Figures are in :mod:`neurodyn.plotting` (which imports matplotlib only when a figure is
drawn, so that this package never loads it);
:func:`analyze_run` analyses a run folder.
"""

from .analyze_run import analyze_run, run_inputs
from .attractors import Attractors, classify_attractors
from .continuation import Bifurcation, Branch, continue_fixed_points, plot_bifurcation_diagram
from .dimensionality import Dimensionality, dimensionality
from .fixed_points import (
    AdamOptions,
    Candidates,
    FixedPoints,
    SolverOptions,
    cluster,
    condition_inputs,
    find_fixed_points,
    load_fixed_points,
    sample_initial_states,
    state_scale,
    tile_conditions,
)
from .limit_cycles import LimitCycle, estimate_period, find_limit_cycle
from .linearization import Linearization, classify, eigenmodes, linearize, spectrum
from .lyapunov import LyapunovSpectrum, lyapunov_spectrum, plot_lyapunov_spectrum
from .manifolds import Manifold, SlowManifolds, find_slow_manifolds
from .phase_portraits import (
    ProjectedFlow,
    plot_phase_portrait,
    plot_projected_portrait,
    plot_trajectories_3d,
    projected_flow,
)
from .robustness import ablate_by_tau, perturb_tau, perturb_weights, task_accuracy
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
    "Attractors",
    "Bifurcation",
    "Branch",
    "Candidates",
    "Dimensionality",
    "FixedPoints",
    "JacobianTimescales",
    "LimitCycle",
    "Linearization",
    "LyapunovSpectrum",
    "Manifold",
    "NetworkTimescales",
    "ProjectedFlow",
    "SlowManifolds",
    "SolverOptions",
    "TimescaleFit",
    "ablate_by_tau",
    "analyze_run",
    "autocorrelation",
    "bernoulli_streams",
    "classify",
    "classify_attractors",
    "cluster",
    "condition_inputs",
    "continue_fixed_points",
    "dimensionality",
    "drive",
    "eigenmodes",
    "estimate_period",
    "find_fixed_points",
    "find_limit_cycle",
    "find_slow_manifolds",
    "fit_exponentials",
    "jacobian_timescales",
    "linearize",
    "load_fixed_points",
    "lyapunov_spectrum",
    "network_timescales",
    "perturb_tau",
    "perturb_weights",
    "plot_bifurcation_diagram",
    "plot_lyapunov_spectrum",
    "plot_phase_portrait",
    "plot_projected_portrait",
    "plot_trajectories_3d",
    "projected_flow",
    "run_inputs",
    "sample_initial_states",
    "spectrum",
    "state_scale",
    "task_accuracy",
    "tile_conditions",
]
