"""The dynamics protocol: every model as state size, step/velocity and Jacobians.

Analyzers (:mod:`neurodyn.analysis`) depend on :class:`Dynamics` only, never on a
model class; :func:`dynamics` builds the right adapter for a model. Adapters write
their formulas once against the array namespaces of :mod:`neurodyn.dynamics.ops`, so the
same code runs on NumPy and on torch.
"""

from .contracting import ContractingDynamics
from .factory import dynamics
from .function import FunctionDynamics
from .low_rank import LowRankDynamics
from .protocol import Dynamics, KernelSpec
from .rate import RateDynamics
from .timescale import TimescaleDynamics
from .torch_cells import AutogradDynamics, TorchCellDynamics
from .wave import ReLUMapDynamics, WaveDynamics

__all__ = [
    "AutogradDynamics",
    "ContractingDynamics",
    "Dynamics",
    "FunctionDynamics",
    "KernelSpec",
    "LowRankDynamics",
    "RateDynamics",
    "ReLUMapDynamics",
    "TimescaleDynamics",
    "TorchCellDynamics",
    "WaveDynamics",
    "dynamics",
]
