r"""Procrustes distance: how far apart two sets of states are after the best rotation.

The geometric comparison of two systems' activity on matched samples (the same trials
and time steps). Each set of states is centred and scaled to unit Frobenius norm,
:math:`\hat X = (X - \bar X) / \lVert X - \bar X\rVert_F`, the one with fewer units is
padded with zero columns, and an orthogonal map is applied to one side only (a
rotation of points, not the conjugation of :mod:`.vector_fields`):

.. math::

    d_E = \min_{R \in O(n)} \lVert \hat X - \hat Y R \rVert_F
        = \sqrt{2 - 2\lVert \hat X^\top \hat Y\rVert_*}, \qquad
    \theta = \arccos \lVert \hat X^\top \hat Y\rVert_* = 2 \arcsin(d_E / 2),

with :math:`\lVert\cdot\rVert_*` the nuclear norm (the sum of singular values) and
:math:`R` from :func:`scipy.linalg.orthogonal_procrustes` (Schönemann, 1966). The
angular form is the shape metric of Williams et al. (NeurIPS 2021). Both are zero
exactly when one set of states is a rotation, reflection, translation and uniform
rescaling of the other; they see where the states are, not how they move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes

from ..._validation import check_choice
from .trajectories import read_states

__all__ = ["ProcrustesDistance", "procrustes_distance"]


@dataclass(frozen=True, eq=False)
class ProcrustesDistance:
    """What :func:`procrustes_distance` returns.

    Attributes
    ----------
    distance : float
        In the requested ``score``.
    score : str
        ``"angular"`` or ``"euclidean"``: which of ``angle`` and ``euclidean`` is the
        ``distance``.
    angle : float
        :math:`\\theta \\in [0, \\pi/2]`.
    euclidean : float
        :math:`d_E \\in [0, \\sqrt 2]`.
    rotation : ndarray (n, n)
        The orthogonal :math:`R` with :math:`\\hat X \\approx \\hat Y R` (units padded to n).

    Examples
    --------
    :func:`procrustes_distance` returns it. States on a circle,
    :math:`(\\cos\\theta, \\sin\\theta)`, and their projection on a line,
    :math:`(\\cos\\theta, 0)`, have :math:`\\lVert \\hat X^\\top\\hat Y\\rVert_* = 1/\\sqrt 2`:
    they are π/4 apart, at Euclidean distance :math:`\\sqrt{2 - \\sqrt 2}`:

    >>> from neurodyn.analysis import procrustes_distance
    >>> th = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    >>> circle, line = np.stack([np.cos(th), np.sin(th)], 1), np.stack([np.cos(th), 0 * th], 1)
    >>> d = procrustes_distance(circle, line)
    >>> d.score, bool(np.isclose(d.distance, np.pi / 4)), d.distance == d.angle
    ('angular', True, True)
    >>> bool(np.isclose(d.euclidean, np.sqrt(2 - np.sqrt(2)))), d.rotation.shape
    (True, (2, 2))
    """

    distance: float
    score: str
    angle: float
    euclidean: float
    rotation: np.ndarray


def procrustes_distance(x, y, *, score: str = "angular", variable: str | None = None):
    r"""Procrustes distance between two sets of states on the same samples.

    Parameters
    ----------
    x, y : array (..., unit), list of (time, unit), DataArray or Dataset
        States of two systems on the same trials and time steps (leading dims are
        flattened into samples and must match in number; the unit counts may differ).
    score : {"angular", "euclidean"}
        :math:`\theta` or :math:`d_E` (module docstring).
    variable : str, optional
        The Dataset variable to read (default ``states``, else ``rates``, ``activity``).

    Returns
    -------
    ProcrustesDistance

    Examples
    --------
    States and a rotated, shifted, rescaled copy of them are at distance zero:

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    >>> procrustes_distance(x, 2.5 * x @ q + 1.0).distance < 1e-7
    True
    """
    score = check_choice("score", score, ("angular", "euclidean"))
    x_hat, y_hat = (_unit_centred(read_states(v, n, variable), n) for n, v in (("x", x), ("y", y)))
    if len(x_hat) != len(y_hat):
        raise ValueError(f"x has {len(x_hat)} samples and y {len(y_hat)}; they must match")
    n = max(x_hat.shape[1], y_hat.shape[1])
    x_hat, y_hat = _pad(x_hat, n), _pad(y_hat, n)
    rotation, _ = orthogonal_procrustes(y_hat, x_hat)
    euclidean = float(np.linalg.norm(x_hat - y_hat @ rotation))
    angle = chord_angle(euclidean)
    return ProcrustesDistance(
        distance=angle if score == "angular" else euclidean,
        score=score,
        angle=angle,
        euclidean=euclidean,
        rotation=rotation,
    )


def _unit_centred(states: np.ndarray, name: str) -> np.ndarray:
    centred = states - states.mean(axis=0)
    norm = np.linalg.norm(centred)
    if len(states) < 2 or norm == 0:
        raise ValueError(f"{name} has no variance across samples; its shape is undefined")
    return centred / norm


def chord_angle(euclidean: float) -> float:
    """The angle between two unit-norm objects at Euclidean distance ``d_E``:
    θ = 2 arcsin(d_E / 2), accurate near zero, where arccos of the inner product is not."""
    return float(2.0 * np.arcsin(min(euclidean / 2.0, 1.0)))


def _pad(states: np.ndarray, n: int) -> np.ndarray:
    return np.hstack([states, np.zeros((len(states), n - states.shape[1]))])
