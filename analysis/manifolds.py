r"""Line and ring attractors from fixed and slow points: :func:`find_slow_manifolds`.

A continuous attractor appears in a fixed-point search as many roots or slow points
strung along a curve. This module finds such curves and checks that the dynamics
agree:

1. **chain.** Points are linked when closer than ``link_scale`` × the 90th percentile
   of the edge lengths of their minimum spanning tree; each connected component is ordered along the longest
   path of its minimum spanning tree. A component is a 1-D chain when that path holds
   at least ``chain_fraction`` of its points, and a **ring** when the chain's two ends
   are themselves linked, or no farther apart than ``close_fraction`` of the chain's
   length: on a ring the spanning tree drops its largest gap, and points relaxed onto
   a ring thin out where it drifts fastest, so that gap can exceed the link length
   while being a small part of the ring;
2. **marginal mode along the chain.** At each point the tangent :math:`t` is the
   normalised difference of its neighbours along the chain. The point supports the
   manifold when its slowest mode (smallest :math:`|\gamma_0|`, growth rate per time unit)
   is separated from the next, :math:`|\gamma_0| \le` ``gap`` :math:`|\gamma_1|`, and its
   right eigenvector is aligned with the chain, :math:`|\cos(\operatorname{Re} v_0, t)|
   \ge` ``align_tol``. A chain is a manifold when at least ``support`` of its points
   support it.

Each manifold reports its ordered points, its length :math:`\sum_i \|x_{i+1} - x_i\|`
(plus the closing segment for rings), and its drift speed :math:`\|\dot x\|` along it
(state units per ms; zero for an exact continuous attractor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import threads as _threads
from .._validation import check_fraction, check_int, check_positive
from ..dynamics import Dynamics
from ..dynamics import dynamics as as_dynamics
from .linearization.linearize import linearize

__all__ = ["Manifold", "SlowManifolds", "find_slow_manifolds"]


@dataclass
class Manifold:
    """One line or ring of slow points.

    Attributes
    ----------
    kind : {"line", "ring"}
    indices : ndarray of int (n,)
        Indices of its points in the input, in order along the manifold.
    points : ndarray (n, d)
        The ordered points.
    length : float
        Arc length in state units (closed for rings).
    drift_speed : float
        Mean speed of the points (state units per time unit).
    max_speed : float
        Largest speed among the points (state units per time unit).
    alignment : float
        Mean ``|cos|`` between the slowest mode and the chain's tangent.
    slow_growth : float
        Mean growth rate of the slowest mode (≈ 0 for a continuous attractor).
    support : float
        Fraction of the points that support the manifold.

    Examples
    --------
    The manifolds of a :class:`SlowManifolds`. Forty points on the ring attractor of
    :math:`\\dot r = r(1 - r^2)`, :math:`\\dot\\theta = 0`, :math:`\\dot z = -z` form a closed
    chain whose length is the perimeter of the 40-gon, :math:`80\\sin(\\pi/40)`; its
    slowest mode, with zero growth rate, points along it:

    >>> from neurodyn.analysis import find_slow_manifolds
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0]**2 + x[:, 1]**2
    ...     return np.stack([x[:, 0]*(1 - r2), x[:, 1]*(1 - r2), -x[:, 2]], 1)
    >>> th = np.linspace(0, 2*np.pi, 40, endpoint=False)
    >>> ring = np.stack([np.cos(th), np.sin(th), 0*th], 1)
    >>> points = np.r_[ring, [[3.0, 3.0, 3.0]]]  # 40 points on the ring, one off it
    >>> found = find_slow_manifolds(points, FunctionDynamics(f, n_state=3, kind="ode"))
    >>> ring_found = found[0]
    >>> ring_found.kind, len(ring_found.indices), ring_found.points.shape
    ('ring', 40, (40, 3))
    >>> bool(np.isclose(ring_found.length, 80 * np.sin(np.pi / 40)))
    True
    >>> round(ring_found.alignment, 6), ring_found.support, abs(ring_found.slow_growth) < 1e-8
    (1.0, 1.0, True)
    >>> bool(ring_found.max_speed < 1e-12)  # every point is a fixed point
    True
    """

    kind: str
    indices: np.ndarray
    points: np.ndarray
    length: float
    drift_speed: float
    max_speed: float
    alignment: float
    slow_growth: float
    support: float


@dataclass
class SlowManifolds:
    """Line and ring attractors found among a set of points.

    Attributes
    ----------
    manifolds : list of Manifold
        The lines and rings found (also ``result[i]`` and ``len(result)``).
    label : ndarray of int (n_points,)
        Manifold index of each input point (-1: none).
    x : ndarray (n_points, d)
        The points examined.
    info : dict
        The settings, ``link_scale``, ``gap``, ``align_tol``, ``support`` and
        ``close_fraction``, and the distance below which points are linked,
        ``link_length`` (state units).

    Examples
    --------
    :func:`find_slow_manifolds` returns it, usually for the points of
    :func:`~neurodyn.analysis.find_fixed_points`. Forty points on the ring attractor of
    :math:`\\dot r = r(1 - r^2)`, :math:`\\dot\\theta = 0`, :math:`\\dot z = -z`, and an
    isolated point:

    >>> from neurodyn.analysis import find_slow_manifolds
    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0]**2 + x[:, 1]**2
    ...     return np.stack([x[:, 0]*(1 - r2), x[:, 1]*(1 - r2), -x[:, 2]], 1)
    >>> th = np.linspace(0, 2*np.pi, 40, endpoint=False)
    >>> ring = np.stack([np.cos(th), np.sin(th), 0*th], 1)
    >>> points = np.r_[ring, [[3.0, 3.0, 3.0]]]  # 40 points on the ring, one off it
    >>> found = find_slow_manifolds(points, FunctionDynamics(f, n_state=3, kind="ode"))
    >>> found
    SlowManifolds([ring(40 points, length 6.28)])
    >>> len(found), found.label[:3].tolist(), int(found.label[-1])
    (1, [0, 0, 0], -1)
    >>> found.info["link_scale"], bool(found.info["link_length"] > 2 * np.sin(np.pi / 40))
    (5.0, True)
    """

    manifolds: list
    label: np.ndarray
    x: np.ndarray
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.manifolds)

    def __getitem__(self, i) -> Manifold:
        return self.manifolds[i]

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{m.kind}({len(m.indices)} points, length {m.length:.3g})" for m in self.manifolds
        )
        return f"SlowManifolds([{parts}])"

    def to_xarray(self):
        """A Dataset with dims ``manifold`` and ``point`` (with its order along its manifold)."""
        import json

        import xarray as xr

        n = len(self.x)
        order = np.full(n, -1, dtype=np.int32)
        for m in self.manifolds:
            order[m.indices] = np.arange(len(m.indices), dtype=np.int32)
        k = len(self.manifolds)

        def col(name, dtype=float):
            return (
                ("manifold",),
                np.array([getattr(m, name) for m in self.manifolds], dtype=dtype).reshape(k),
            )

        return xr.Dataset(
            {
                "kind": col("kind", str),
                "length": col("length"),
                "drift_speed": col("drift_speed"),
                "max_speed": col("max_speed"),
                "alignment": col("alignment"),
                "slow_growth": col("slow_growth"),
                "support": col("support"),
                "n_points": (
                    ("manifold",),
                    np.array([len(m.indices) for m in self.manifolds], dtype=np.int32).reshape(k),
                ),
                "x": (("point", "state"), self.x),
                "manifold_id": (("point",), self.label.astype(np.int32)),
                "order": (("point",), order),
            },
            coords={
                "manifold": np.arange(k, dtype=np.int32),
                "point": np.arange(n, dtype=np.int32),
            },
            attrs={"info": json.dumps(self.info, default=str)},
        )


def _longest_path(tree, nodes):
    """Nodes of the longest path (by edge count) of a tree given as a sparse matrix."""
    from scipy.sparse.csgraph import breadth_first_order

    def farthest(src):
        order, pred = breadth_first_order(tree, src, directed=False, return_predecessors=True)
        depth = {src: 0}
        for v in order[1:]:
            depth[v] = depth[pred[v]] + 1
        end = max(order, key=lambda v: depth[v])
        return end, pred

    a, _ = farthest(nodes[0])
    b, pred = farthest(a)
    path = [b]
    while path[-1] != a:
        path.append(pred[path[-1]])
    return np.array(path[::-1])


def find_slow_manifolds(
    points,
    dynamics=None,
    *,
    inputs=None,
    link_scale: float = 5.0,
    min_points: int = 5,
    chain_fraction: float = 0.8,
    gap: float = 0.2,
    align_tol: float = 0.8,
    support: float = 0.7,
    close_fraction: float = 0.05,
    threads=None,
) -> SlowManifolds:
    r"""Detect line and ring attractors among fixed and slow points.

    Parameters
    ----------
    points : FixedPoints, Candidates or array (n, d)
        Roots and slow points, e.g. from :func:`find_fixed_points` (whose
        linearization is reused); its ``.candidates`` (every converged candidate, useful
        because de-duplication chains a dense continuum of roots into one point); or
        plain states.
    dynamics : Dynamics or model, optional
        Needed for plain states (speeds and Jacobians are evaluated there).
    inputs : array (m,) or (n, m), optional
        The constant input of plain states (zero when omitted).
    link_scale : float
        Points closer than this × the 90th percentile of the edge lengths of the points'
        minimum spanning tree are neighbours.
    min_points : int
        Smallest chain considered.
    chain_fraction : float
        Fraction of a component's points that its longest spanning-tree path must hold.
    gap : float
        The slowest mode must be at least 1/gap times slower than the next.
    align_tol : float
        Smallest ``|cos|`` between the slowest mode and the chain tangent.
    support : float
        Fraction of the points that must pass both tests.
    close_fraction : float
        A chain whose ends are at most this fraction of its length apart is a ring even
        where its ends are not linked (0 keeps the link as the only test).
    threads : int, optional
        Threads for the linearizations and distances (default: chosen by
        :mod:`neurodyn.threads` from the work).

    Returns
    -------
    SlowManifolds

    Raises
    ------
    ValueError
        On plain states without ``dynamics``, NaN states, or parameters out of range.

    Examples
    --------
    A ring of fixed points, :math:`\dot r = r(1 - r^2)`, :math:`\dot\theta = 0`, with a
    stable third direction:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(x, u):
    ...     r2 = x[:, 0]**2 + x[:, 1]**2
    ...     return np.stack([x[:, 0]*(1 - r2), x[:, 1]*(1 - r2), -x[:, 2]], 1)
    >>> th = np.linspace(0, 2*np.pi, 40, endpoint=False)
    >>> ring = np.stack([np.cos(th), np.sin(th), 0*th], 1)
    >>> found = find_slow_manifolds(ring, FunctionDynamics(f, n_state=3, kind="ode"))
    >>> found[0].kind, round(found[0].length, 2)
    ('ring', 6.28)
    """
    for name, v in (
        ("chain_fraction", chain_fraction),
        ("align_tol", align_tol),
        ("support", support),
        ("gap", gap),
    ):
        check_fraction(name, v)
    check_fraction("close_fraction", close_fraction, low_open=False)
    check_positive("link_scale", link_scale)
    check_int("min_points", min_points, low=3)
    shape = np.shape(getattr(points, "x", points))
    # Work per parallel operation: the eigendecompositions of the linearizations.
    work = 10.0 * shape[0] * shape[-1] ** 3 if len(shape) == 2 else None
    with _threads.limit(threads, work=work, what="find_slow_manifolds"):
        return _find(
            points, dynamics, inputs, link_scale, min_points, chain_fraction, gap, align_tol,
            support, close_fraction,
        )  # fmt: skip


def _find(
    points, dynamics, inputs, link_scale, min_points, chain_fraction, gap, align_tol, support,
    close_fraction,
):  # fmt: skip
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
    from scipy.spatial.distance import cdist

    if hasattr(points, "fixed_point") and hasattr(points, "x_init"):
        # Every converged candidate of a search: a continuum of roots survives here even
        # where de-duplication merged it into one point.
        keep = np.asarray(points.status) != "failed"
        points, inputs = np.asarray(points.x)[keep], np.asarray(points.inputs)[keep]
    if hasattr(points, "linearization") and hasattr(points, "speed"):
        x = np.asarray(points.x, dtype=float)
        speed = np.asarray(points.speed, dtype=float)
        lin = points.linearization
        if lin is None:
            if dynamics is None:
                raise ValueError("points has no linearization; pass dynamics to compute it")
            dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
            lin = linearize(dyn, x, points.inputs)
    else:
        if dynamics is None:
            raise ValueError("dynamics is required when points is an array of states")
        dyn = dynamics if isinstance(dynamics, Dynamics) else as_dynamics(dynamics)
        x = dyn.check_states(points, "points")
        u = dyn.check_inputs(inputs, len(x))
        speed = np.linalg.norm(dyn.velocity(x, u), axis=1)
        lin = linearize(dyn, x, u)
    n = len(x)
    label = np.full(n, -1, dtype=np.int64)
    info = {"link_scale": link_scale, "gap": gap, "align_tol": align_tol, "support": support,
            "close_fraction": close_fraction}  # fmt: skip
    if n < min_points:
        return SlowManifolds([], label, x, info)

    D = cdist(x, x)
    # Gaps between points along a randomly sampled curve are roughly exponential; a
    # multiple of the 90th percentile of the spanning tree's edges keeps a curve whole
    # while cutting the long jumps between separate curves and isolated points.
    mst = minimum_spanning_tree(csr_matrix(np.maximum(D, 1e-300) * (1 - np.eye(n))))
    link = float(link_scale) * float(np.percentile(mst.data, 90))
    np.fill_diagonal(D, np.inf)
    adj = np.where(link >= D, np.maximum(D, 1e-300), 0.0)
    n_comp, comp = connected_components(csr_matrix(adj), directed=False)
    growth = np.asarray(lin.growth_rate)
    order_abs = np.argsort(np.abs(growth), axis=1)
    manifolds = []
    for c in range(n_comp):
        nodes = np.flatnonzero(comp == c)
        if len(nodes) < min_points:
            continue
        sub = adj[np.ix_(nodes, nodes)]
        tree = minimum_spanning_tree(csr_matrix(sub))
        path = nodes[_longest_path(tree, np.arange(len(nodes)))]
        if len(path) < chain_fraction * len(nodes):
            continue
        pts = x[path]
        ends = np.linalg.norm(pts[0] - pts[-1])
        arc = np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
        closed = len(path) > 3 and (ends <= link or ends <= close_fraction * arc)
        nxt = np.roll(pts, -1, axis=0)
        prv = np.roll(pts, 1, axis=0)
        if not closed:
            nxt[-1], prv[0] = pts[-1], pts[0]
        tangent = nxt - prv
        tangent /= np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-300
        slow = order_abs[path, 0]
        nxt_mode = order_abs[path, 1] if growth.shape[1] > 1 else slow
        g0 = growth[path, slow]
        g1 = growth[path, nxt_mode]
        v0 = np.real(lin.right[path, :, slow])
        v0 /= np.linalg.norm(v0, axis=1, keepdims=True) + 1e-300
        align = np.abs(np.sum(v0 * tangent, axis=1))
        ok = (np.abs(g0) <= gap * np.abs(g1)) & (align >= align_tol)
        if np.mean(ok) < support:
            continue
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
        if closed:
            seg += np.linalg.norm(pts[-1] - pts[0])
        label[path] = len(manifolds)
        manifolds.append(
            Manifold(
                kind="ring" if closed else "line",
                indices=path,
                points=pts,
                length=float(seg),
                drift_speed=float(np.mean(speed[path])),
                max_speed=float(np.max(speed[path])),
                alignment=float(np.mean(align)),
                slow_growth=float(np.mean(g0)),
                support=float(np.mean(ok)),
            )
        )
    info["link_length"] = link
    return SlowManifolds(manifolds, label, x, info)
