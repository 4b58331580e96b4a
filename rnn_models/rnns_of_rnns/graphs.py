"""Module graphs: which modules may couple in an assembly.

A module graph is a :class:`networkx.DiGraph` whose nodes are the modules, in
order, and whose edge ``j -> i`` lets module ``j`` drive module ``i`` through the
free block :math:`B_{ij}` of the coupling. Negative feedback then adds the
reciprocal block :math:`-M_j^{-1}B_{ij}^\\top M_i` (see :mod:`.assembly`), so an edge
always couples both ways. Self-loops are not allowed: a module's own recurrence is
its :math:`W`.

Generators: :func:`all_to_all`, :func:`random_graph`, :func:`feed_forward`
(lower-triangular blocks, as in the authors' ``create_random_A``).
"""

from __future__ import annotations

import networkx as nx

from ..._validation import check_choice, check_fraction, check_int
from ...seeding import make_rng

__all__ = [
    "GRAPHS",
    "all_to_all",
    "feed_forward",
    "graph_from_edges",
    "module_graph",
    "random_graph",
]


def all_to_all(n_modules: int) -> nx.DiGraph:
    """Every ordered pair of distinct modules.

    Parameters
    ----------
    n_modules : int
        Number of modules (nodes).

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> all_to_all(3).number_of_edges()
    6
    """
    n = check_int("n_modules", n_modules)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((j, i) for i in range(n) for j in range(n) if i != j)
    return g


def feed_forward(n_modules: int) -> nx.DiGraph:
    """Edges ``j -> i`` for ``j < i``: lower-triangular coupling blocks.

    Parameters
    ----------
    n_modules : int
        Number of modules (nodes).

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> sorted(feed_forward(3).edges())
    [(0, 1), (0, 2), (1, 2)]
    """
    n = check_int("n_modules", n_modules)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((j, i) for i in range(n) for j in range(i))
    return g


def random_graph(n_modules: int, p: float = 0.5, *, seed=None) -> nx.DiGraph:
    """Each ordered pair of distinct modules is an edge with probability ``p``.

    Parameters
    ----------
    n_modules : int
        Number of modules (nodes).
    p : float in [0, 1]
        Probability of each edge.
    seed : int, optional
        Seeds the draw (the ``init`` stream of :mod:`neurodyn.seeding`).

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> random_graph(4, 1.0, seed=0).number_of_edges()
    12
    """
    n = check_int("n_modules", n_modules)
    p = check_fraction("p", p, low_open=False)
    rng = make_rng(seed, "init")
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((j, i) for i in range(n) for j in range(n) if i != j and rng.random() < p)
    return g


def graph_from_edges(n_modules: int, edges) -> nx.DiGraph:
    """A graph on ``range(n_modules)`` with the given ``(source, target)`` edges.

    Parameters
    ----------
    n_modules : int
        Number of modules (nodes ``0 … n_modules - 1``).
    edges : iterable of (int, int)
        ``(j, i)``: module j drives module i.

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    ValueError
        If an edge names a module outside ``0 … n_modules - 1``.

    Examples
    --------
    A chain of three modules, 0 → 1 → 2:

    >>> g = graph_from_edges(3, [(0, 1), (1, 2)])
    >>> sorted(g.edges()), g.number_of_nodes()
    ([(0, 1), (1, 2)], 3)
    """
    n = check_int("n_modules", n_modules)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for e in edges:
        j, i = (int(v) for v in e)
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"graph edge {e!r} names a module outside 0..{n - 1}")
        g.add_edge(j, i)
    return g


#: Graph generators by name (each takes ``n_modules``; ``random`` also ``p`` and ``seed``).
GRAPHS = {"all_to_all": all_to_all, "feed_forward": feed_forward, "random": random_graph}


def module_graph(graph, n_modules: int, *, p: float = 0.5, seed=None) -> nx.DiGraph:
    """Resolve ``graph`` (a DiGraph, a generator name or ``None`` = all-to-all) for ``n_modules``.

    Parameters
    ----------
    graph : networkx.DiGraph, {"all_to_all", "feed_forward", "random"} or None
        The graph, or the name of its generator (None: all-to-all). A given graph's
        nodes, in order, are relabelled ``0 … n_modules - 1``.
    n_modules : int
        Number of modules.
    p : float
        Edge probability of ``"random"``.
    seed : int, optional
        Seeds ``"random"``.

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    ValueError
        If a given graph's node count differs from ``n_modules``, if it has self-loops,
        or if a name is unknown.

    Examples
    --------
    >>> import networkx as nx
    >>> module_graph(None, 3).number_of_edges(), sorted(module_graph("feed_forward", 3).edges())
    (6, [(0, 1), (0, 2), (1, 2)])
    >>> named = nx.DiGraph([("visual", "motor")])  # any node names, relabelled in order
    >>> sorted(module_graph(named, 2).edges())
    [(0, 1)]
    """
    n = check_int("n_modules", n_modules)
    if graph is None:
        return all_to_all(n)
    if isinstance(graph, str):
        name = check_choice("graph", graph, GRAPHS)
        return random_graph(n, p, seed=seed) if name == "random" else GRAPHS[name](n)
    if not isinstance(graph, nx.DiGraph):
        raise ValueError(
            f"graph must be a networkx.DiGraph or one of {sorted(GRAPHS)}, got {type(graph).__name__}"
        )
    if graph.number_of_nodes() != n:
        raise ValueError(
            f"graph has {graph.number_of_nodes()} nodes but there are {n} modules; "
            "expected one node per module"
        )
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise ValueError(
            f"graph has self-loops {loops}; a module's own recurrence is its W, not a coupling"
        )
    # Relabel to 0..n-1 in node order, so any hashable node names work.
    index = {node: k for k, node in enumerate(graph.nodes)}
    out = nx.DiGraph()
    out.add_nodes_from(range(n))
    out.add_edges_from((index[a], index[b]) for a, b in graph.edges)
    return out
