"""Fixed points and slow points: the search, its solvers, de-duplication and the result.

=====================  ==========================================================
module                 holds
=====================  ==========================================================
``search``             :func:`find_fixed_points`: validate, plan the passes, run a
                       solver, de-duplicate, linearize, label
``batched``            the Newton/LM solver on arrays (NumPy or torch), for every
                       dynamics, with its :class:`SolverOptions`
``kernel``             the same solver compiled (``csrc/cpu/newton_cpu.cpp``), for
                       the models it knows, and the roots' balls of convergence
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
from .batched import SolverOptions
from .dedupe import cluster, state_scale
from .initial_states import condition_inputs, sample_initial_states, tile_conditions
from .result import Candidates, FixedPoints, load_fixed_points
from .search import find_fixed_points

__all__ = [
    "AdamOptions",
    "Candidates",
    "FixedPoints",
    "SolverOptions",
    "cluster",
    "condition_inputs",
    "find_fixed_points",
    "load_fixed_points",
    "sample_initial_states",
    "state_scale",
    "tile_conditions",
]
