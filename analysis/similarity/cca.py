r"""How alike two networks' representations are: canonical correlations of their states.

Two networks that solve a task the same way need not use the same units, or even the
same number of them; what can be compared is the geometry of their activity on the
same trials. Singular vector CCA (Raghu, Gilmer, Yosinski & Sohl-Dickstein, NeurIPS
2017; used across RNN architectures by Maheswaranathan et al., NeurIPS 2019) reduces
each network's states to their top ``k`` principal components and then finds the
directions in the two reduced spaces that correlate most. With the reduced, centred
states :math:`A` (n, k) and :math:`B` (n, k) and orthonormal bases of their columns
:math:`A = Q_A R_A`, :math:`B = Q_B R_B`, the canonical correlations are the singular
values of :math:`Q_A^\top Q_B`,

.. math::

    \rho_1 \ge \dots \ge \rho_k, \qquad \rho_i = \sigma_i(Q_A^\top Q_B) \in [0, 1],

and the similarity is their mean. It is 1 when one network's reduced states are an
invertible linear map of the other's (any rotation, scaling or mixing of units), and
near 0 for unrelated activity (about :math:`\sqrt{k / n}` for independent noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..projection import pca_basis
from .trajectories import read_states

__all__ = ["CCASimilarity", "cca_similarity"]


@dataclass(frozen=True)
class CCASimilarity:
    """What :func:`cca_similarity` returns.

    Attributes
    ----------
    correlations : ndarray (k,)
        Canonical correlations, largest first.
    similarity : float
        Their mean.
    n_components : int
        Principal components kept of each network's states.

    Examples
    --------
    :func:`cca_similarity` returns it. Two networks, on 200 time steps around a cycle
    :math:`\\theta`, whose units carry :math:`(\\cos\\theta, \\sin\\theta)` and
    :math:`(\\cos\\theta, \\sin 2\\theta)`: they share one direction exactly, and the
    other two signals are uncorrelated:

    >>> from neurodyn.analysis import cca_similarity
    >>> th = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    >>> x = np.stack([np.cos(th), np.sin(th)], 1)
    >>> y = np.stack([np.cos(th), np.sin(2 * th)], 1) @ [[1.0, 2.0], [0.0, 3.0]]  # mixed
    >>> cca = cca_similarity(x, y, n_components=2)
    >>> cca.correlations.round(6).tolist(), round(cca.similarity, 6), cca.n_components
    ([1.0, 0.0], 0.5, 2)
    """

    correlations: np.ndarray
    similarity: float
    n_components: int


def cca_similarity(x, y, n_components: int = 10) -> CCASimilarity:
    """Singular vector CCA between two sets of states recorded on the same samples.

    Parameters
    ----------
    x, y : array (..., units) or DataArray with a ``unit`` dim
        States of two networks on the same trials and times (leading dims are
        flattened into samples and must match; the unit counts may differ).
    n_components : int
        Principal components kept of each (at most the units and samples of either).

    Returns
    -------
    CCASimilarity

    Examples
    --------
    A network and any invertible mixing of its units are alike:

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 6))
    >>> round(cca_similarity(x, x @ rng.normal(size=(6, 6)), 6).similarity, 12)
    1.0
    """
    x, y = read_states(x, "x"), read_states(y, "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples and y {y.shape[0]}; they must match")
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise ValueError(f"n_components must be an integer >= 1, got {n_components!r}")
    k = int(min(n_components, x.shape[1], y.shape[1], x.shape[0] - 1))
    if k < 1:
        raise ValueError(f"n_components must be >= 1 and x, y need >= 2 samples, got {k}")
    qa, qb = (_orthonormal_pcs(s, k) for s in (x, y))
    rho = np.linalg.svd(qa.T @ qb, compute_uv=False)
    rho = np.clip(rho, 0.0, 1.0)  # rounding can push the largest a hair above 1
    return CCASimilarity(correlations=rho, similarity=float(rho.mean()), n_components=k)


def _orthonormal_pcs(x: np.ndarray, k: int) -> np.ndarray:
    """An orthonormal basis (n, k) of the centred states' top-k principal scores."""
    mean, comps = pca_basis(x, k)
    scores = (x - mean) @ comps.T
    q, _ = np.linalg.qr(scores)
    return q
