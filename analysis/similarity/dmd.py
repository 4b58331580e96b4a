r"""Reduced-rank dynamic mode decomposition of delay-embedded trajectories (HAVOK DMD).

The embedded states :math:`h_t` of every trial (:mod:`.hankel`) are stacked into the
Hankel matrix :math:`H \in \mathbb{R}^{N \times mn}` (one row per embedded state) and
decomposed, :math:`H = V \Sigma U^\top`. The first :math:`r` columns of :math:`V` are
the states' coordinates in the top :math:`r` modes, scaled to unit norm,
:math:`v_t = \Sigma_r^{-1} U_r^\top h_t`, and the operator is the least-squares linear
map one step ahead within each trial,

.. math::

    A = \arg\min_{A \in \mathbb{R}^{r \times r}}
        \sum_{\text{trials}} \sum_t \lVert v_{t+1} - A v_t \rVert^2 .

These are the coordinates of Ostrow et al. (NeurIPS 2023) and of HAVOK (Brunton et al.,
2017). A rotation :math:`x \mapsto Q x` or a rescaling :math:`x \mapsto \alpha x` of the
state space leaves :math:`V` unchanged (up to the sign of each column, or a rotation
within a repeated singular value), so it changes :math:`A` only by an orthogonal
similarity, which the comparison of :mod:`.vector_fields` removes. For a linear system
:math:`x_{t+1} = M x_t` whose states span :math:`\mathbb{R}^n`, the operator at rank
:math:`n` has exactly the eigenvalues of :math:`M`, for any number of delays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ... import threads as _threads
from ..._validation import check_int
from .hankel import embed, embedded_length
from .trajectories import read_trajectories

__all__ = ["HavokDMD", "havok_dmd", "numerical_rank"]


@dataclass(frozen=True, eq=False)
class HavokDMD:
    r"""What :func:`havok_dmd` returns.

    Attributes
    ----------
    operator : ndarray (rank, rank)
        :math:`A`, the one-step map of the mode coordinates :math:`v_t`.
    modes : ndarray (n_delays · n_units, rank)
        :math:`U_r`, the embedded-state directions of the coordinates.
    singular_values : ndarray (k,)
        Every singular value of the Hankel matrix, largest first.
    rank, n_delays, delay_interval, n_units : int
        :math:`r`, :math:`m`, :math:`\tau` and the units of the trajectories.
    n_samples : int
        Embedded states over all trials (rows of the Hankel matrix).
    residual : float
        Relative one-step residual,
        :math:`\lVert V_+ - V_- A^\top\rVert_F / \lVert V_+\rVert_F`.

    Examples
    --------
    :func:`havok_dmd` returns it. Two trials of the linear map
    :math:`x_{t+1} = \mathrm{diag}(0.9, 0.5)\,x_t`, 30 steps each, embedded with two
    delays: the operator has the map's eigenvalues and fits with no residual:

    >>> from neurodyn.analysis import havok_dmd
    >>> M = np.diag([0.9, 0.5])
    >>> x = np.stack([[np.linalg.matrix_power(M, t) @ x0 for t in range(30)]
    ...               for x0 in ([1.0, 1.0], [1.0, -2.0])])
    >>> fit = havok_dmd(x, n_delays=2)
    >>> fit.rank, fit.n_samples, fit.modes.shape, fit.eigenvalues.real.round(10).tolist()
    (2, 58, (4, 2), [0.9, 0.5])
    >>> fit.residual < 1e-10
    True
    """

    operator: np.ndarray
    modes: np.ndarray
    singular_values: np.ndarray
    rank: int
    n_delays: int
    delay_interval: int
    n_units: int
    n_samples: int
    residual: float

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of :attr:`operator` (complex), largest modulus first."""
        lam = np.linalg.eigvals(self.operator)
        return lam[np.argsort(-np.abs(lam), kind="stable")]

    def to_xarray(self) -> xr.Dataset:
        """Dataset with the operator (mode, mode_to), eigenvalues and singular values."""
        lam = self.eigenvalues
        ds = xr.Dataset(
            {
                "operator": (("mode_to", "mode"), self.operator),
                "modes": (("embedded", "mode"), self.modes),
                "eigenvalue_real": ("mode", lam.real),
                "eigenvalue_imag": ("mode", lam.imag),
                "singular_values": ("component", self.singular_values),
            },
            coords={"mode": np.arange(self.rank), "mode_to": np.arange(self.rank)},
        )
        ds.attrs.update(
            rank=self.rank,
            n_delays=self.n_delays,
            delay_interval=self.delay_interval,
            n_units=self.n_units,
            n_samples=self.n_samples,
            residual=self.residual,
        )
        return ds


def numerical_rank(singular_values: np.ndarray, shape: tuple[int, int]) -> int:
    r"""Singular values above rounding: :math:`\sigma_i > \sigma_1 \max(N, d)\, \epsilon`.

    The threshold is :func:`numpy.linalg.matrix_rank`'s: the rounding error of an
    SVD of an :math:`N \times d` matrix is about :math:`\sigma_1 \max(N, d) \epsilon`.

    Parameters
    ----------
    singular_values : ndarray (k,)
        Singular values of the matrix, largest first.
    shape : (int, int)
        The matrix's shape (N, d).

    Returns
    -------
    int

    Examples
    --------
    >>> numerical_rank(np.array([3.0, 1.0, 1e-17]), (10, 3))
    2
    """
    if singular_values.size == 0 or singular_values[0] == 0:
        return 0
    tol = singular_values[0] * max(shape) * np.finfo(float).eps
    return int(np.count_nonzero(singular_values > tol))


def havok_dmd(
    x,
    *,
    n_delays: int = 1,
    delay_interval: int = 1,
    rank: int | None = None,
    threads: int | None = None,
) -> HavokDMD:
    r"""Fit the reduced-rank linear operator of delay-embedded trajectories.

    Parameters
    ----------
    x : array (time, unit) or (trial, time, unit), list of (time, unit), DataArray or Dataset
        Trajectories sampled at a constant step (a Dataset: ``states``, else ``rates``
        or ``activity``; padding cut by its ``length`` coordinate). Trials are embedded
        separately; no pair of time steps crosses a trial boundary.
    n_delays : int
        :math:`m`, time points per embedded state (1: no delays).
    delay_interval : int
        :math:`\tau`, steps between them.
    rank : int, optional
        :math:`r`, the modes kept. Default: the Hankel matrix's numerical rank
        (:func:`numerical_rank`), so that directions the data never visit do not
        enter the fit as rounding noise.
    threads : int, optional
        Threads; default: :mod:`neurodyn.threads`' policy for the SVD of the Hankel
        matrix, :math:`2 N (m n)^2`.

    Returns
    -------
    HavokDMD

    Examples
    --------
    A rotation by 0.1 rad per step, seen from two starting points:

    >>> c, s = np.cos(0.1), np.sin(0.1)
    >>> m = np.array([[c, -s], [s, c]])
    >>> x = np.stack([[np.linalg.matrix_power(m, t) @ x0 for t in range(50)]
    ...               for x0 in ([1.0, 0.0], [0.3, 0.5])])
    >>> fit = havok_dmd(x, n_delays=3, rank=2)
    >>> np.round(np.sort(np.angle(fit.eigenvalues)), 10)
    array([-0.1,  0.1])
    """
    m = check_int("n_delays", n_delays)
    tau = check_int("delay_interval", delay_interval)
    trajectories = read_trajectories(x, "x")
    lengths = [embedded_length(len(t), m, tau) for t in trajectories]
    if min(lengths) < 2:
        raise ValueError(
            f"n_delays={m} with delay_interval={tau} leaves fewer than 2 embedded states in "
            f"the shortest trajectory of x ({min(len(t) for t in trajectories)} steps); "
            "use fewer delays or longer trials"
        )
    hankel = np.concatenate([embed(t, m, tau) for t in trajectories], axis=0)
    work = 2.0 * hankel.shape[0] * hankel.shape[1] ** 2
    with _threads.limit(threads, work=work, what="havok_dmd"):
        u, s, vt = np.linalg.svd(hankel, full_matrices=False)
        r = _choose_rank(rank, s, hankel.shape, n_pairs=hankel.shape[0] - len(lengths))
        v = u[:, :r]
        ends = np.cumsum(lengths)
        last = np.zeros(len(v), dtype=bool)
        last[ends - 1] = True  # the last state of a trial has no successor in it
        now, ahead = v[~last], v[np.roll(~last, 1)]
        a_t, *_ = np.linalg.lstsq(now, ahead, rcond=None)
    residual = float(np.linalg.norm(ahead - now @ a_t) / max(np.linalg.norm(ahead), 1e-300))
    return HavokDMD(
        operator=a_t.T,
        modes=vt[:r].T,
        singular_values=s,
        rank=r,
        n_delays=m,
        delay_interval=tau,
        n_units=trajectories[0].shape[1],
        n_samples=hankel.shape[0],
        residual=residual,
    )


def _choose_rank(rank, s: np.ndarray, shape: tuple[int, int], n_pairs: int) -> int:
    available = numerical_rank(s, shape)
    if rank is None:
        r = available
    else:
        r = check_int("rank", rank)
        if r > len(s):
            raise ValueError(
                f"rank={r} exceeds the Hankel matrix's {len(s)} columns/rows "
                f"(shape {shape[0]} x {shape[1]})"
            )
        if r > available:
            raise ValueError(
                f"rank={r} exceeds the numerical rank {available} of the Hankel matrix: "
                "the data do not visit that many directions"
            )
    if r < 1:
        raise ValueError("x has no variance to fit: its Hankel matrix is zero")
    if n_pairs < r:
        raise ValueError(f"rank={r} needs at least {r} one-step pairs; x gives {n_pairs}")
    return r
