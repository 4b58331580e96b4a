r"""De-duplication of solver results in O(n log n): KD-tree balls, lowest q first.

Candidates are visited in order of increasing q; each one not yet assigned becomes
the representative of a new cluster and takes every unassigned candidate within
``tol`` of it (one ball query on a KD-tree). Hence

* among duplicates the one with the lowest q is kept (as FixedPointFinder does, and
  unlike the keep-first rule of CTD and BrainPy);
* clusters are balls of radius ``tol`` around their representative, so a densely
  sampled line attractor is not chained into one point (union-find on
  :math:`\|x_i - x_j\| <` tol would merge a whole line);
* nothing is removed for being far from the others: every cluster survives.

Candidates in different ``groups`` (different inputs, or roots versus slow points)
are never merged.

When there are few clusters (the usual case: a few dozen fixed points from thousands
of candidates), comparing the candidates still unassigned with each new
representative, O(n K d), is faster than building and querying a tree, and KD-trees
degrade in hundreds of dimensions: each cluster costs a few NumPy array operations.
The scan gives the same clusters; after ``max_scan`` clusters the KD-tree carries on
with the candidates still unassigned, so the bound stays O(n log n).

A group of at most ``PAIRWISE`` candidates (the sample of a search, a few hundred
distinct results) is first tried in one step: with all pairwise distances at hand,
let :math:`f(j)` be the first candidate in q order within ``tol`` of j (j itself, or
an earlier one). Where :math:`f(f(j)) = f(j)` for every j (the usual case: the
clusters lie more than ``tol`` apart), the greedy visit gives exactly
:math:`\text{label}(j) = f(j)`: a j with :math:`f(j) = j` has no earlier neighbour,
so nothing has taken it and it becomes a representative; any other j is still free
when :math:`f(j)`, a representative, takes it, since no earlier candidate is within
``tol`` of j. Otherwise (a chain of candidates) the scan runs as above.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..._validation import check_int

__all__ = ["PAIRWISE", "cluster", "state_scale"]

EPS = np.finfo(np.float64).eps

#: Groups of at most this many candidates try the pairwise step first (module
#: docstring): its n² distances cost less than the scan's NumPy calls per cluster up
#: to a few hundred candidates (0.06 ms against 0.35 ms for 128 flip-flop roots in 27
#: clusters), and grow past it beyond.
PAIRWISE = 256


def state_scale(x) -> float:
    """RMS distance of states from their mean (1.0 when they all coincide).

    The de-duplication tolerance is relative to this, so it follows the size of the
    network's state space rather than its number of units or its units of activity.
    Two passes (the mean, then the squared deviations): the one-pass
    :math:`\\overline{\\|x\\|^2} - \\|\\bar x\\|^2` cancels catastrophically when the
    states sit far from the origin compared with their spread. One state, or several
    equal ones, give the RMS norm of the rows instead.

    Parameters
    ----------
    x : array_like
        States, shape (n, d).

    Examples
    --------
    >>> state_scale(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    1.0
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return 1.0
    # einsum's sums run along contiguous rows (x.mean(axis=0) visits the rows one by one,
    # 3x slower) and, unlike BLAS, in an order that does not depend on threads.
    c = x - np.einsum("ij->j", x) / n
    spread = float(np.sqrt(np.einsum("ij,ij->", c, c) / n))
    if n > 1 and spread > 0:
        return spread
    norm = float(np.sqrt(np.einsum("ij,ij->", x, x) / n))
    return norm if norm > 0 else 1.0


def _scan(x, order, tol2: float, max_scan: int):
    """Greedy clustering by direct comparison, in the order ``order`` (increasing q).

    Forms at most ``max_scan`` clusters; each is complete (it holds every candidate
    within tol of its representative that no earlier cluster took), so the KD-tree
    can carry on from the unassigned rest. Returns ``(labels, reps)``, labels -1 for
    the candidates left.
    """
    labels = np.full(len(x), -1, dtype=np.int64)
    reps = []
    rest = order  # unassigned, in q order: the next representative is the first
    while len(rest) and len(reps) < max_scan:
        i = rest[0]
        delta = x[rest] - x[i]
        near = np.einsum("ij,ij->i", delta, delta) <= tol2
        labels[rest[near]] = len(reps)
        reps.append(i)
        rest = rest[~near]
    return labels, np.asarray(reps, dtype=np.int64)


def cluster(x, q, tol: float, groups=None, *, max_scan: int = 32):
    """Cluster states within ``tol`` of a lower-q representative.

    Parameters
    ----------
    x : array (n, d)
    q : array (n,)
        Lower is better; the representative of each cluster has its lowest q.
    tol : float
        Radius (Euclidean) of a cluster around its representative.
    groups : array (n,), optional
        Candidates with different group labels are never merged.
    max_scan : int
        Clusters per group formed by direct comparison; the KD-tree forms the rest
        (0: all of them, without the pairwise step). The result is the same.

    Returns
    -------
    labels : ndarray of int (n,)
        Cluster index of every candidate.
    representatives : ndarray of int (k,)
        Index of each cluster's representative; clusters are numbered in order of
        increasing q of their representative within each group.

    Examples
    --------
    >>> labels, reps = cluster(np.array([[0.0], [1e-9], [5.0]]), np.array([1.0, 0.5, 2.0]), 1e-6)
    >>> labels.tolist(), reps.tolist()
    ([0, 0, 1], [1, 2])
    """
    check_int("max_scan", max_scan, low=0)
    x = np.ascontiguousarray(x, dtype=float)
    q = np.ascontiguousarray(q, dtype=float)
    n = len(x)
    tol2 = float(tol) ** 2
    if groups is not None:
        groups = np.asarray(groups)
    if groups is None or n == 0 or groups.min() == groups.max():
        # One group (the common case: one input for all candidates): no gathering.
        order, labels, reps = _scan_sorted(x, q, tol2, max_scan)
        if n == 0 or labels.min() >= 0:
            return labels, reps
        reps = list(reps)
        _finish_with_tree(x, np.arange(n), order, labels, reps, tol)
        return labels, np.asarray(reps, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    reps: list[int] = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        order, sub, first = _scan_sorted(x[members], q[members], tol2, max_scan)
        labels[members] = np.where(sub >= 0, sub + len(reps), -1)
        reps.extend(members[first].tolist())
        if sub.min() < 0:
            _finish_with_tree(x, members, order, labels, reps, tol)
    return labels, np.asarray(reps, dtype=np.int64)


def _scan_sorted(x, q, tol2: float, max_scan: int):
    """:func:`_scan` of all of x in order of increasing q (ties in index order).

    Returns ``(order, labels, reps)``: labels -1 for the candidates left after
    ``max_scan`` clusters.
    """
    order = np.argsort(q, kind="stable")
    if max_scan > 0 and 0 < len(x) <= PAIRWISE:
        first = _first_neighbours(x[order], tol2)
        if first is not None:
            is_rep = first == np.arange(len(x))
            labels = np.empty(len(x), dtype=np.int64)
            labels[order] = (np.cumsum(is_rep) - 1)[first]
            return order, labels, order[is_rep]
    labels, reps = _scan(x, order, tol2, max_scan)
    return order, labels, reps


def _first_neighbours(xs, tol2: float):
    r"""For states xs (n, d) in q order, the first one within ``sqrt(tol2)`` of each,
    ``f`` (n,), where ``f[f] == f`` (then f labels the clusters, see the module
    docstring); None where it does not, or where rounding could decide a pair.

    Squared distances come from one product, :math:`\|a\|^2 + \|b\|^2 - 2a^\top b` of
    the centred states. Each dot product errs by at most :math:`d\,\varepsilon\|a\|\|b\|`,
    so the sum by less than :math:`4(d + 1)\,\varepsilon\max\|a\|^2` (centring
    included); where a pair lies within twice that of ``tol2``, the scan, which
    subtracts the states, decides instead.
    """
    c = xs - np.einsum("ij->j", xs) / len(xs)
    sq = np.einsum("ij,ij->i", c, c)
    d2 = c @ c.T
    d2 *= -2.0
    d2 += sq
    d2 += sq[:, None]
    margin = 8.0 * (xs.shape[1] + 2) * EPS * float(sq.max())
    near = d2 <= tol2 - margin
    # Equal counts: no pair within the margin. Then each state is near itself too
    # (its computed d2 lies within half the margin of 0), so f(j) <= j.
    if np.count_nonzero(near) != np.count_nonzero(d2 <= tol2 + margin):
        return None
    first = np.argmax(near, axis=1)
    return first if (first[first] == first).all() else None


def _finish_with_tree(x, members, order, labels, reps, tol):
    """Form the remaining clusters of ``members`` (visited in ``order``, positions in
    members) with a KD-tree, updating ``labels`` (indexed like x) and the list ``reps``
    in place."""
    tree = cKDTree(x[members])
    for i in members[order]:
        if labels[i] >= 0:
            continue
        near = members[tree.query_ball_point(x[i], tol)]
        labels[near[labels[near] < 0]] = len(reps)
        reps.append(int(i))
