r"""Negative-feedback assemblies of contracting modules ("RNNs of RNNs").

Given modules :math:`i = 1..k` that contract in diagonal metrics :math:`M_i` at rates
:math:`c_i`, the assembly

.. math:: \dot x = -x + W\phi(x) + Lx + \text{(input)}, \qquad
          W = \operatorname{blockdiag}(W_i),\quad M = \operatorname{blockdiag}(M_i),

.. math:: L = \operatorname{blockdiag}(L_i) + B - M^{-1}B^\top M,

with :math:`B` free but zero outside the blocks :math:`B_{ij}` of the edges
``j -> i`` of a module graph, satisfies :math:`ML + L^\top M = 0` for the coupling
part, so :math:`MJ + J^\top M = \operatorname{blockdiag}(M_iJ_i + J_i^\top M_i)
\preceq -2\min_i c_i\,M`: the assembly contracts in :math:`M` at the slowest
module's rate, whatever :math:`B` is (Kozachkov, Ennis & Slotine 2022). It is
itself a module with a diagonal metric, so assemblies nest (RNNs of RNNs of RNNs).

The coupling must use each module's own metric: with :math:`L = B - B^\top` (the
identity metric) and modules certified in a non-identity :math:`P`, trajectories
can diverge (research notes §4.5). ``feedback_metric="identity"`` builds exactly
that mistake, for demonstrations and tests; :func:`neurodyn.analysis.contraction.certify`
catches it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_finite, check_positive
from ...seeding import make_rng, resolve_seed
from .graphs import graph_from_edges, module_graph
from .modules import ContractingModule, SparseModule, SVDModule

__all__ = ["Assembly", "build_module"]

FEEDBACK_METRICS = ("module", "identity")


class Assembly(ContractingModule):
    r"""Modules coupled by negative feedback over a module graph (see the module docstring).

    Parameters
    ----------
    modules : sequence of ContractingModule
        The subnetworks (leaf modules or assemblies), in unit order.
    graph : networkx.DiGraph or {"all_to_all", "feed_forward", "random"}, optional
        Which modules couple: edge ``j -> i`` frees block :math:`B_{ij}`. Nodes are
        taken in order, one per module; a node attribute ``size`` is checked against
        the module's size. Default all-to-all.
    coupling_scale : float
        Initial :math:`B_{ij}` entries are :math:`N(0, s^2/n)` on the edges' blocks
        (:math:`n` the assembly size); 0 starts uncoupled.
    coupling : array (n, n), optional
        Initial :math:`B` instead of a random one; it must be zero off the edges' blocks.
    train_coupling : bool
        Make :math:`B` a trainable parameter.
    p : float
        Edge probability when ``graph="random"``.
    feedback_metric : {"module", "identity"}
        ``"module"`` (correct): :math:`L = B - M^{-1}B^\top M`. ``"identity"``:
        :math:`L = B - B^\top`, which is only certified when every :math:`M_i \propto I`.
    seed : int, optional
        Seeds :math:`B` (and a random graph).

    Examples
    --------
    >>> from neurodyn.rnn_models.rnns_of_rnns import SparseModule
    >>> mods = [SparseModule(8, density=0.2, seed=s) for s in range(3)]
    >>> net = Assembly(mods, "feed_forward", seed=0)
    >>> net.size, round(net.rate(), 6) == round(min(m.rate() for m in mods), 6)
    (24, True)
    """

    def __init__(
        self,
        modules: Sequence[ContractingModule],
        graph: nx.DiGraph | str | None = None,
        *,
        coupling_scale: float = 1.0,
        coupling=None,
        train_coupling: bool = True,
        p: float = 0.5,
        feedback_metric: str = "module",
        seed: int | None = None,
    ):
        super().__init__()
        modules = list(modules)
        if not modules or not all(isinstance(m, ContractingModule) for m in modules):
            raise ValueError(
                "modules must be a non-empty sequence of contracting modules (SparseModule, "
                "SVDModule or Assembly)"
            )
        self.feedback_metric = check_choice("feedback_metric", feedback_metric, FEEDBACK_METRICS)
        check_positive("coupling_scale", coupling_scale, allow_zero=True)
        seed = resolve_seed(seed)
        self.graph = module_graph(graph, len(modules), p=p, seed=seed)
        if isinstance(graph, nx.DiGraph):
            for k, (node, attrs) in enumerate(graph.nodes(data=True)):
                if "size" in attrs and int(attrs["size"]) != modules[k].size:
                    raise ValueError(
                        f"graph node {node!r} has size={attrs['size']} but module {k} has "
                        f"{modules[k].size} units; module sizes must match the graph"
                    )
        self.subnetworks = nn.ModuleList(modules)
        self.sizes = [m.size for m in modules]
        self.size = int(sum(self.sizes))
        gs = {m.g for m in modules}
        if len(gs) != 1:
            raise ValueError(f"modules are certified for different slope bounds g={sorted(gs)}")
        self.g = gs.pop()
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        mask = np.zeros((self.size, self.size))
        for j, i in self.graph.edges:
            mask[self.offsets[i] : self.offsets[i + 1], self.offsets[j] : self.offsets[j + 1]] = 1
        n = self.size
        if coupling is not None:
            b = check_finite("coupling", coupling).astype(np.float64)
            if b.shape != (n, n):
                raise ValueError(f"coupling has shape {b.shape}; expected ({n}, {n})")
            off = np.abs(b) * (1 - mask)
            if np.any(off > 0):
                i, j = np.unravel_index(np.argmax(off), off.shape)
                mi = int(np.searchsorted(self.offsets, i, side="right") - 1)
                mj = int(np.searchsorted(self.offsets, j, side="right") - 1)
                raise ValueError(
                    f"coupling has non-zero entries on non-existent edges, e.g. [{i}, {j}] "
                    f"(module {mj} -> module {mi}, not an edge of the graph); expected zeros "
                    "outside the blocks of the graph's edges"
                )
        else:
            rng = make_rng(seed, "init")
            b = rng.normal(0.0, coupling_scale / np.sqrt(n), (n, n)) * mask
        self._config = {
            "type": "assembly",
            "modules": [m.config() for m in modules],
            "edges": [list(e) for e in self.graph.edges],
            "coupling_scale": float(coupling_scale),
            "train_coupling": bool(train_coupling),
            "feedback_metric": self.feedback_metric,
            "seed": seed,
        }
        f = torch.get_default_dtype()
        self.register_buffer("mask", torch.tensor(mask, dtype=f))
        if train_coupling:
            self.B = nn.Parameter(torch.tensor(b, dtype=f))
        else:
            self.register_buffer("B", torch.tensor(b, dtype=f))

    # -- the module interface --------------------------------------------------------------
    def weight(self) -> torch.Tensor:
        return torch.block_diag(*(m.weight() for m in self.subnetworks))

    def metric(self) -> torch.Tensor:
        return torch.cat([m.metric() for m in self.subnetworks])

    def feedback(self) -> torch.Tensor:
        r"""The coupling added by this level: :math:`B - M^{-1}B^\top M` (masked :math:`B`)."""
        b = self.B * self.mask
        if self.feedback_metric == "identity":
            return b - b.T
        m = self.metric()
        return b - (b.T * m[None, :]) / m[:, None]

    def coupling(self) -> torch.Tensor:
        inner = torch.block_diag(*(m.coupling() for m in self.subnetworks))
        return inner + self.feedback()

    def rate(self) -> float:
        return min(m.rate() for m in self.subnetworks)

    def checks(self) -> dict[str, tuple[bool, str]]:
        out: dict[str, tuple[bool, str]] = {}
        for k, m in enumerate(self.subnetworks):
            for name, val in m.checks().items():
                out[f"module{k}.{name}"] = val
        with torch.no_grad():
            lf = self.feedback().double()
            m = self.metric().double()
        sym = m[:, None] * lf + lf.T * m[None, :]
        # Relative to the coupling's size: exact zero in exact arithmetic.
        scale = float((m[:, None] * lf).abs().max()) or 1.0
        err = float(sym.abs().max()) / scale
        out["feedback_skew_in_metric"] = (
            err < 1e-5,
            f"max|ML + L^T M| / max|ML| = {err:.2e} (0 required)",
        )
        outside = float((self.B.detach().double() * (1 - self.mask.double())).abs().max())
        out["coupling_on_graph_edges"] = (
            outside == 0.0,
            f"max |B| outside the graph's edge blocks = {outside:.2e}",
        )
        return out

    def leaves(self, offset: int = 0) -> Iterator[tuple[int, ContractingModule]]:
        for k, m in enumerate(self.subnetworks):
            yield from m.leaves(offset + int(self.offsets[k]))

    def module_index(self) -> np.ndarray:
        """Index of the leaf module of every unit, shape (size,)."""
        out = np.zeros(self.size, dtype=np.int64)
        for k, (start, leaf) in enumerate(self.leaves()):
            out[start : start + leaf.size] = k
        return out

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, modules={len(self.sizes)}, edges={self.graph.number_of_edges()}, "
            f"feedback_metric={self.feedback_metric!r}"
        )


def build_module(config: dict[str, Any]) -> ContractingModule:
    """Rebuild a module or assembly from its :meth:`~ContractingModule.config`.

    Parameters
    ----------
    config : dict
        What :meth:`~ContractingModule.config` returned: ``type`` (``"sparse"``,
        ``"svd"`` or ``"assembly"``) and the constructor's arguments (for an assembly,
        its ``modules``' configs and the graph's ``edges``).

    Returns
    -------
    ContractingModule

    Raises
    ------
    ValueError
        If ``config["type"]`` is not ``"sparse"``, ``"svd"`` or ``"assembly"``.

    Examples
    --------
    >>> from neurodyn.rnn_models.rnns_of_rnns import SparseModule, SVDModule
    >>> net = Assembly([SparseModule(8, density=0.2, seed=0), SVDModule(4, seed=1)],
    ...                "all_to_all", seed=2)
    >>> copy = build_module(net.config())
    >>> type(copy).__name__, bool(torch.equal(copy.weight(), net.weight()))
    ('Assembly', True)
    >>> bool(torch.equal(copy.coupling(), net.coupling()))
    True
    """
    cfg = dict(config)
    kind = check_choice("module type", cfg.pop("type", None), ("sparse", "svd", "assembly"))
    if kind == "sparse":
        return SparseModule(**cfg)
    if kind == "svd":
        return SVDModule(**cfg)
    subs = [build_module(c) for c in cfg.pop("modules")]
    graph = graph_from_edges(len(subs), cfg.pop("edges"))
    return Assembly(subs, graph, **cfg)
