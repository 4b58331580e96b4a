r"""A liquid: LIF neurons on a 3-D grid with Maass-style distance-dependent wiring.

Construction (Maass, Natschläger & Markram 2002, as in the NALSM code;
models.md §3.2):

* :math:`N = d_1 d_2 d_3` neurons, one per grid point; the grid points are randomly
  permuted over neurons, the first ``round(e_fraction N)`` are excitatory.
* Each ordered pair :math:`j \to i` (:math:`i \ne j`) is connected independently with

  .. math:: P(j \to i) = C_{\text{type}(j)\,\text{type}(i)} \, e^{-(D_{ij}/\lambda)^2},

  :math:`D_{ij}` the Euclidean grid distance, :math:`\lambda = 3`, and
  :math:`C_{EE} = 0.2, C_{EI} = 0.1, C_{IE} = 0.3, C_{II} = 0.05` (first letter:
  presynaptic type).
* Exactly :math:`\lfloor \rho N N_\text{in} \rfloor` (input, neuron) pairs are drawn
  uniformly without replacement (:math:`\rho = 0.15`), each with a random sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .._validation import check_fraction, check_int, check_positive
from ..seeding import make_rng

__all__ = ["Liquid", "build_liquid"]

#: Maass et al. (2002) scale factors C, keyed by (pre type, post type).
MAASS_C = {"EE": 0.2, "EI": 0.1, "IE": 0.3, "II": 0.05}


@dataclass(frozen=True)
class Liquid:
    """The structure of a liquid (no dynamics): positions, types and synapse lists.

    Attributes
    ----------
    grid : tuple of int
    positions : array (n, 3)
        Grid coordinates of each neuron.
    is_exc : array of bool (n,)
        Excitatory neurons come first (``n_exc`` of them).
    pre, post : array of int (n_synapses,)
        Recurrent synapses ``pre -> post`` (liquid indices), sorted by ``post``.
    input_pre, input_post : array of int
        Input synapses (input index -> liquid index).
    input_sign : array of float
        +1 or -1 per input synapse.
    n_inputs : int
        Number of input channels.

    Examples
    --------
    :func:`build_liquid` draws one; every recurrent synapse is an entry of the
    adjacency matrix, and no neuron connects to itself:

    >>> liq = build_liquid((4, 4, 4), n_inputs=8, seed=0)
    >>> liq.n, liq.n_exc, liq.positions.shape
    (64, 51, (64, 3))
    >>> A = liq.adjacency()
    >>> int(A.sum()) == liq.pre.size, int(A.diagonal().sum())
    (True, 0)
    >>> sorted(liq.density())
    ['EE', 'EI', 'IE', 'II']
    """

    grid: tuple
    positions: np.ndarray = field(repr=False)
    is_exc: np.ndarray = field(repr=False)
    pre: np.ndarray = field(repr=False)
    post: np.ndarray = field(repr=False)
    input_pre: np.ndarray = field(repr=False)
    input_post: np.ndarray = field(repr=False)
    input_sign: np.ndarray = field(repr=False)
    n_inputs: int = 0

    @property
    def n(self) -> int:
        return int(self.is_exc.size)

    @property
    def n_exc(self) -> int:
        return int(self.is_exc.sum())

    def adjacency(self) -> sparse.csr_array:
        """Binary matrix ``A[post, pre]`` of the recurrent synapses."""
        data = np.ones(self.pre.size, dtype=np.int32)
        return sparse.csr_array((data, (self.post, self.pre)), shape=(self.n, self.n))

    def density(self) -> dict[str, float]:
        """Fraction of possible pairs connected, per (pre, post) type."""
        e = self.is_exc
        out = {}
        for key, (a, b) in {"EE": (1, 1), "EI": (1, 0), "IE": (0, 1), "II": (0, 0)}.items():
            n_pre, n_post = int((e == a).sum()), int((e == b).sum())
            n_pairs = n_pre * n_post - (n_pre if a == b else 0)
            hits = int(np.count_nonzero((e[self.pre] == a) & (e[self.post] == b)))
            out[key] = hits / n_pairs if n_pairs else float("nan")
        return out

    def to_networkx(self, weights: np.ndarray | None = None):
        """The recurrent connectivity as a :class:`networkx.DiGraph`.

        Nodes are liquid indices with attributes ``pos`` (grid coordinates) and
        ``ei`` ("E"/"I"); edges ``pre -> post`` carry ``weight``.

        Parameters
        ----------
        weights : array (n_synapses,), optional
            A weight per recurrent synapse, in the order of ``pre``/``post`` (e.g. a
            trained NALSM's liquid weights); default +1 from excitatory and -1 from
            inhibitory neurons.

        Returns
        -------
        networkx.DiGraph

        Examples
        --------
        >>> liq = build_liquid((3, 3, 3), n_inputs=4, seed=0)
        >>> g = liq.to_networkx()
        >>> g.number_of_nodes(), g.number_of_edges() == liq.pre.size
        (27, True)
        >>> sorted(g.nodes[0])
        ['ei', 'pos']
        """
        import networkx as nx

        g = nx.DiGraph(grid=tuple(self.grid))
        for i in range(self.n):
            g.add_node(
                i, pos=tuple(float(c) for c in self.positions[i]), ei="E" if self.is_exc[i] else "I"
            )
        w = np.where(self.is_exc[self.pre], 1.0, -1.0) if weights is None else np.asarray(weights)
        g.add_weighted_edges_from(
            zip(self.pre.tolist(), self.post.tolist(), w.tolist(), strict=True)
        )
        return g


def _check_grid(grid) -> tuple[int, int, int]:
    try:
        dims = tuple(int(d) for d in grid)
    except (TypeError, ValueError):
        raise ValueError(f"grid must be three positive ints, got {grid!r}") from None
    if (
        len(dims) != 3
        or any(d < 1 for d in dims)
        or any(float(d) != float(g) for d, g in zip(dims, grid, strict=True))
    ):
        raise ValueError(f"grid must be three positive ints (d1, d2, d3), got {grid!r}")
    if np.prod(dims) < 2:
        raise ValueError(f"grid {dims} holds fewer than two neurons")
    return dims


def build_liquid(
    grid=(10, 10, 10),
    n_inputs: int = 784,
    *,
    e_fraction: float = 0.8,
    lam: float = 3.0,
    c: dict | None = None,
    input_density: float = 0.15,
    seed=0,
) -> Liquid:
    """Draw a liquid's structure (see the module docstring).

    Parameters
    ----------
    grid : (int, int, int)
        Grid size :math:`d_1 \\times d_2 \\times d_3`.
    n_inputs : int
        Number of input channels (784 for 28x28 images).
    e_fraction : float
        Fraction of excitatory neurons, in (0, 1).
    lam : float
        :math:`\\lambda`, the connection length scale (grid units).
    c : dict, optional
        ``{"EE", "EI", "IE", "II"}`` connection scales in [0, 1] (default Maass et al.).
    input_density : float
        Fraction of (input, neuron) pairs connected, in (0, 1].
    seed : int or Generator

    Returns
    -------
    Liquid

    Examples
    --------
    >>> liq = build_liquid((5, 5, 4), n_inputs=16, seed=0)
    >>> liq.n, liq.n_exc, liq.input_pre.size
    (100, 80, 240)
    """
    dims = _check_grid(grid)
    check_int("n_inputs", n_inputs, low=0)
    e_fraction = check_fraction("e_fraction", e_fraction)
    if e_fraction >= 1.0:
        raise ValueError(f"e_fraction must lie in (0, 1) so both types exist, got {e_fraction}")
    lam = check_positive("lam", lam)
    c = {**MAASS_C, **(c or {})}
    if set(c) != set(MAASS_C):
        raise ValueError(f"c must have the keys {sorted(MAASS_C)}, got {sorted(c)}")
    for key, value in c.items():
        check_fraction(f"c[{key!r}]", value, low_open=False)
    input_density = check_fraction("input_density", input_density)

    rng = make_rng(seed, "init")
    n = int(np.prod(dims))
    coords = np.stack(np.meshgrid(*[np.arange(d) for d in dims], indexing="ij"), -1).reshape(n, 3)
    positions = coords[rng.permutation(n)].astype(float)
    n_exc = int(round(e_fraction * n))
    is_exc = np.arange(n) < n_exc

    # Scale factor per (pre, post) pair; rows are post, columns pre. Blocks of
    # rows keep memory at O(block * n) for 8000-neuron liquids.
    c_pre_e = np.where(is_exc, c["EE"], c["EI"])  # per post: C for an E presynaptic neuron
    c_pre_i = np.where(is_exc, c["IE"], c["II"])
    pre_list, post_list = [], []
    block = max(1, 2_000_000 // n)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        d2 = ((positions[rows, None, :] - positions[None, :, :]) ** 2).sum(-1)
        scale = np.where(is_exc[None, :], c_pre_e[rows, None], c_pre_i[rows, None])
        prob = scale * np.exp(-d2 / lam**2)
        prob[np.arange(rows.size), rows] = 0.0  # no self-connections
        post_i, pre_j = np.nonzero(rng.random(prob.shape) < prob)
        pre_list.append(pre_j)
        post_list.append(rows[post_i])
    pre = np.concatenate(pre_list).astype(np.int64)
    post = np.concatenate(post_list).astype(np.int64)

    n_in_syn = int(np.floor(input_density * n * n_inputs))
    flat = (
        np.sort(rng.choice(n * n_inputs, size=n_in_syn, replace=False))
        if n_in_syn
        else np.zeros(0, np.int64)
    )
    input_post, input_pre = np.divmod(flat, n_inputs) if n_inputs else (flat, flat)
    input_sign = rng.choice(np.array([-1.0, 1.0]), size=n_in_syn)
    return Liquid(
        dims, positions, is_exc, pre, post, input_pre.astype(np.int64),
        input_post.astype(np.int64), input_sign, int(n_inputs),
    )  # fmt: skip
