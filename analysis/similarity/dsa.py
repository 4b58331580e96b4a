r"""Dynamical Similarity Analysis: how alike two systems' dynamics are.

Ostrow, Eisen, Kozachkov & Fiete, "Beyond Geometry: Comparing the Temporal Structure
of Computation in Neural Circuits with Dynamical Similarity Analysis", NeurIPS 2023.
Each system's trajectories are delay-embedded (:mod:`.hankel`) and summarised by the
reduced-rank linear operator that advances them one step (:mod:`.dmd`); the two
operators are then compared up to an orthogonal change of coordinates
(:mod:`.vector_fields`):

.. math::

    d_\text{DSA}(x, y) = \min_{C \in O(r)}
        \Bigl\lVert \frac{A_x}{\lVert A_x\rVert_F} - C \frac{A_y}{\lVert A_y\rVert_F} C^\top
        \Bigr\rVert_F
    \quad (\text{or its angle } 2 \arcsin(d/2)).

Because a rotation or uniform rescaling of a system's state space changes its operator
only by an orthogonal similarity, the distance is invariant to both; because the
operator describes how states move rather than where they are, two systems whose
states fill the same set but move differently are told apart, which the geometric
comparisons (:mod:`.procrustes`, :mod:`.cca`) cannot do.

Parameters follow the authors' implementation (github.com/mitchellostrow/DSA):
``n_delays=1``, ``delay_interval=1``, the full rank, the angular score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ... import threads as _threads
from ..._validation import check_choice
from .dmd import HavokDMD, havok_dmd
from .hankel import embedded_length
from .trajectories import read_trajectories
from .vector_fields import (
    SCORES,
    AlignmentOptions,
    VectorFieldProcrustes,
    procrustes_vector_field_distance,
)

__all__ = ["DSAResult", "dsa"]


@dataclass(frozen=True, eq=False)
class DSAResult:
    """What :func:`dsa` returns.

    Attributes
    ----------
    distance : float
        The DSA distance in the requested ``score`` (``angle`` in [0, π] or
        ``euclidean`` in [0, 2]).
    score : str
        ``"angular"`` or ``"euclidean"``: what ``distance`` measures.
    x, y : HavokDMD
        Each system's embedding and operator (``x.operator``: :math:`A_x`).
    alignment : VectorFieldProcrustes
        The orthogonal :math:`C`, both distances and the optimiser's convergence.

    Examples
    --------
    :func:`dsa` returns it. A damped rotation (0.2 rad per step) is at distance zero from
    itself in rotated, rescaled coordinates, and far from a node that decays without
    turning:

    >>> from neurodyn.analysis import dsa
    >>> def run(M, T=40):
    ...     return np.stack([[np.linalg.matrix_power(M, t) @ x0 for t in range(T)]
    ...                      for x0 in ([1.0, 0.0], [0.3, -0.8])])
    >>> rotation = 0.99 * np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]])
    >>> x, y = run(rotation), run(np.diag([0.9, 0.5]))
    >>> q = np.array([[0.6, -0.8], [0.8, 0.6]])
    >>> dsa(x, 2.0 * x @ q.T).distance < 1e-8
    True
    >>> res = dsa(x, y)
    >>> res.score, round(res.distance, 3), res.alignment.converged
    ('angular', 0.307, True)
    >>> np.angle(res.x.eigenvalues).round(6).tolist(), res.y.eigenvalues.real.round(6).tolist()
    ([0.2, -0.2], [0.9, 0.5])
    """

    distance: float
    score: str
    x: HavokDMD
    y: HavokDMD
    alignment: VectorFieldProcrustes

    @property
    def operators(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`(A_x, A_y)`."""
        return self.x.operator, self.y.operator

    def to_xarray(self) -> xr.Dataset:
        """Operators, their eigenvalues and the alignment, with the distances as attrs."""
        data = {"alignment": (("mode_to", "mode"), self.alignment.alignment)}
        for side, fit in (("x", self.x), ("y", self.y)):
            lam = fit.eigenvalues
            data[f"operator_{side}"] = ((f"mode_to_{side}", f"mode_{side}"), fit.operator)
            data[f"eigenvalue_real_{side}"] = (f"mode_{side}", lam.real)
            data[f"eigenvalue_imag_{side}"] = (f"mode_{side}", lam.imag)
        ds = xr.Dataset(data)
        ds.attrs.update(
            distance=self.distance,
            score=self.score,
            angle=self.alignment.angle,
            euclidean=self.alignment.euclidean,
            converged=int(self.alignment.converged),
            n_delays=self.x.n_delays,
            delay_interval=self.x.delay_interval,
            rank_x=self.x.rank,
            rank_y=self.y.rank,
        )
        return ds


def dsa(
    x,
    y,
    *,
    n_delays: int = 1,
    delay_interval: int = 1,
    rank: int | None = None,
    score: str = "angular",
    options: AlignmentOptions | None = None,
    variable: str | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> DSAResult:
    r"""Dynamical Similarity Analysis between two systems' trajectories.

    Parameters
    ----------
    x, y : array (time, unit) or (trial, time, unit), list of (time, unit), DataArray or Dataset
        Trajectories of each system at one time step (a :func:`neurodyn.simulate`
        Dataset: ``states``, else ``rates``; a recording: ``activity``). Trials, lengths
        and unit counts may differ between the two systems.
    n_delays : int
        Time points per delay-embedded state (:func:`delay_embedding`).
    delay_interval : int
        Steps between them.
    rank : int, optional
        Modes kept of each system's Hankel matrix (default: its numerical rank). With
        different ranks the smaller operator is padded with zeros.
    score : {"angular", "euclidean"}
        Angle :math:`\theta \in [0, \pi]` or distance :math:`d_E \in [0, 2]` between the
        unit-norm operators, :math:`d_E = 2 \sin(\theta / 2)`.
    options : AlignmentOptions, optional
        Restarts, iterations and tolerance of the orthogonal alignment.
    variable : str, optional
        The Dataset variable to read.
    seed : int
        Seeds the alignment's random starts.
    threads : int, optional
        Threads; default: :mod:`neurodyn.threads`' policy for the SVD of the larger
        Hankel matrix, :math:`2 N (m n)^2`.

    Returns
    -------
    DSAResult

    Examples
    --------
    A damped rotation and the same system in rotated, rescaled coordinates:

    >>> rng = np.random.default_rng(0)
    >>> m = 0.99 * np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]])
    >>> x = np.zeros((4, 60, 2))
    >>> x[:, 0] = rng.normal(size=(4, 2))
    >>> for t in range(1, 60):
    ...     x[:, t] = x[:, t - 1] @ m.T + 0.01 * rng.normal(size=(4, 2))
    >>> q = np.linalg.qr(rng.normal(size=(2, 2)))[0]
    >>> dsa(x, 3.0 * x @ q.T, n_delays=2).distance < 1e-6
    True
    """
    score = check_choice("score", score, SCORES)
    tx, ty = read_trajectories(x, "x", variable), read_trajectories(y, "y", variable)
    work = max(_svd_work(t, n_delays, delay_interval) for t in (tx, ty))
    with _threads.limit(threads, work=work, what="dsa"):
        fit_x = havok_dmd(tx, n_delays=n_delays, delay_interval=delay_interval, rank=rank)
        fit_y = havok_dmd(ty, n_delays=n_delays, delay_interval=delay_interval, rank=rank)
        alignment = procrustes_vector_field_distance(
            fit_x.operator, fit_y.operator, score=score, options=options, seed=seed
        )
    return DSAResult(
        distance=alignment.distance, score=score, x=fit_x, y=fit_y, alignment=alignment
    )


def _svd_work(trajectories: list[np.ndarray], n_delays, delay_interval) -> float:
    """Floating-point operations of the Hankel SVD, 2 N d² (0 if the arguments are bad)."""
    if not isinstance(n_delays, (int, np.integer)) or not isinstance(
        delay_interval, (int, np.integer)
    ):
        return 0.0
    rows = sum(embedded_length(len(t), int(n_delays), int(delay_interval)) for t in trajectories)
    return 2.0 * rows * float(int(n_delays) * trajectories[0].shape[1]) ** 2
