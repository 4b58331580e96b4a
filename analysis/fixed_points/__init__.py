"""Fixed points and slow points: the search, its solvers, de-duplication and the result.

=====================  ==========================================================
module                 holds
=====================  ==========================================================
``search``             :func:`find_fixed_points`: validate, plan the passes, run a
                       solver, de-duplicate, linearize, label
``options``            :class:`SolverOptions` of the Newton/LM solvers and the known
                       roots candidates may stop at
``kernel``             the Newton/LM solver compiled (``csrc/cpu/newton_cpu.cpp``),
                       for the models it knows, and the roots' balls of convergence
``batched``            the same method on arrays (NumPy or torch), for every dynamics
``reference``          the plain Newton/LM solver every fast path is tested against
``adam``               the gradient-descent alternative (``method="adam"``)
``outcomes``           the status codes a candidate ends with and their reasons
``dedupe``             merging candidates that found the same point
``initial_states``     where the search starts: samples of visited states, inputs
                       per condition
``result``             :class:`FixedPoints` and :class:`Candidates`, to and from
                       xarray
=====================  ==========================================================
"""

from .adam import AdamOptions
from .dedupe import cluster, state_scale
from .initial_states import (
    between_attractors,
    condition_inputs,
    sample_initial_states,
    tile_conditions,
)
from .options import SolverOptions
from .result import Candidates, FixedPoints, load_fixed_points
from .search import find_fixed_points

__all__ = [
    "AdamOptions",
    "Candidates",
    "FixedPoints",
    "SolverOptions",
    "between_attractors",
    "cluster",
    "condition_inputs",
    "find_fixed_points",
    "load_fixed_points",
    "sample_initial_states",
    "state_scale",
    "tile_conditions",
]
