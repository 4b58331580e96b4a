"""Analyzers of trained networks: fixed points and their linearization, timescales,
dimensionality and robustness.

Every analyzer takes a :class:`neurodyn.dynamics.Dynamics` (or a model, which
:func:`neurodyn.dynamics.dynamics` adapts), never a model class::

    from neurodyn.analysis import find_fixed_points, sample_initial_states
    x0 = sample_initial_states(simulated_dataset, 1024, noise_scale=0.5)
    fps = find_fixed_points(model, None, x0)
    fps.summary()     # {"stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1, ...}

Figures are in :mod:`neurodyn.analysis.plotting` (imported on its own, so that this
package never loads matplotlib); :func:`analyze_run` analyses a run folder.
"""

from .dedupe import cluster, state_scale
from .dimensionality import Dimensionality, dimensionality
from .fixed_points import AdamOptions, SolverOptions, find_fixed_points
from .linearization import Linearization, classify, eigenmodes, linearize
from .results import Candidates, FixedPoints, load_fixed_points
from .robustness import ablate_by_tau, perturb_tau, perturb_weights, task_accuracy
from .run import analyze_run, run_inputs
from .seeds import condition_inputs, sample_initial_states, tile_conditions
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
    "Candidates",
    "Dimensionality",
    "FixedPoints",
    "JacobianTimescales",
    "Linearization",
    "NetworkTimescales",
    "SolverOptions",
    "TimescaleFit",
    "ablate_by_tau",
    "analyze_run",
    "autocorrelation",
    "bernoulli_streams",
    "classify",
    "cluster",
    "condition_inputs",
    "dimensionality",
    "drive",
    "eigenmodes",
    "find_fixed_points",
    "fit_exponentials",
    "jacobian_timescales",
    "linearize",
    "load_fixed_points",
    "network_timescales",
    "perturb_tau",
    "perturb_weights",
    "run_inputs",
    "sample_initial_states",
    "state_scale",
    "task_accuracy",
    "tile_conditions",
]
