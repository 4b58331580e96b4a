"""RNNs of RNNs: certified-stable assemblies of recurrent networks.

Kozachkov, Ennis & Slotine, "RNNs of RNNs: Recursive construction of stable
assemblies of recurrent neural networks", NeurIPS 2022 (arXiv:2106.08928).

* :mod:`.modules`: Theorem 1 sparse modules and Theorem 5 SVD modules, each with
  its contraction metric and rate;
* :mod:`.assembly`: negative-feedback assemblies over a module graph (they nest);
* :mod:`.graphs`: module-graph generators;
* :mod:`.stepping`: the admissible time step and the integrator that keeps the
  guarantee;
* :mod:`.network`: trainable models (:class:`SparseComboNet`, :class:`SVDComboNet`,
  the general :class:`RNNofRNNs`);
* :mod:`.baseline`: the unconstrained rate RNN of the same size.

Certificates are checked by :func:`neurodyn.analysis.contraction.certify`.
"""

from .assembly import Assembly, build_module
from .baseline import unconstrained_baseline
from .graphs import GRAPHS, all_to_all, feed_forward, module_graph, random_graph
from .modules import ContractingModule, SparseModule, SVDModule, perron_metric, theorem1_rate
from .network import SLOPE_BOUNDS, RNNofRNNs, SparseComboNet, SVDComboNet
from .stepping import INTEGRATORS, StepBound, cayley, euler_step_bound

__all__ = [
    "GRAPHS",
    "INTEGRATORS",
    "SLOPE_BOUNDS",
    "Assembly",
    "ContractingModule",
    "RNNofRNNs",
    "SVDComboNet",
    "SVDModule",
    "SparseComboNet",
    "SparseModule",
    "StepBound",
    "all_to_all",
    "build_module",
    "cayley",
    "euler_step_bound",
    "feed_forward",
    "module_graph",
    "perron_metric",
    "random_graph",
    "theorem1_rate",
    "unconstrained_baseline",
]
