r"""Delay (Hankel) embedding of trajectories.

A trajectory :math:`x_0, \dots, x_{T-1} \in \mathbb{R}^n` observed through too few
coordinates, or driven by a nonlinear vector field, becomes closer to linear in the
coordinates of its recent past (Takens; the HAVOK analysis of Brunton et al., 2017).
With ``n_delays`` :math:`m` and ``delay_interval`` :math:`\tau`, the embedded state at
time :math:`t` stacks the present first and the oldest last,

.. math::

    h_t = \bigl(x_t,\; x_{t-\tau},\; \dots,\; x_{t-(m-1)\tau}\bigr) \in \mathbb{R}^{m n},
    \qquad t = (m-1)\tau, \dots, T-1,

so a trajectory of :math:`T` steps gives :math:`T - (m-1)\tau` embedded states, the
rows of its Hankel matrix. :math:`m = 1` is the trajectory itself.
"""

from __future__ import annotations

import numpy as np

from ..._validation import check_int
from .trajectories import read_trajectories

__all__ = ["delay_embedding", "embedded_length"]


def embedded_length(n_steps: int, n_delays: int, delay_interval: int) -> int:
    """Embedded states of a trajectory of ``n_steps``: :math:`T - (m-1)\\tau` (0 if negative).

    Parameters
    ----------
    n_steps : int
        :math:`T`, time steps of the trajectory.
    n_delays : int
        :math:`m`, time points per embedded state.
    delay_interval : int
        :math:`\\tau`, steps between them.

    Returns
    -------
    int

    Examples
    --------
    >>> embedded_length(100, 5, 2)
    92
    """
    return max(0, n_steps - (n_delays - 1) * delay_interval)


def delay_embedding(x, n_delays: int, delay_interval: int = 1) -> list[np.ndarray]:
    r"""The Hankel matrix of each trajectory: rows :math:`h_t`, present first.

    Parameters
    ----------
    x : array (time, unit) or (trial, time, unit), list of (time, unit), DataArray or Dataset
        Trajectories (see :mod:`~neurodyn.analysis.similarity.trajectories`).
    n_delays : int
        :math:`m \ge 1`, the number of time points stacked.
    delay_interval : int
        :math:`\tau \ge 1`, steps between them.

    Returns
    -------
    list of ndarray (time - (m-1)τ, m·unit)
        One per trajectory; column block :math:`d` holds :math:`x_{t - d\tau}`.

    Examples
    --------
    >>> x = np.arange(5.0)[:, None]              # one unit: 0, 1, 2, 3, 4
    >>> delay_embedding(x, n_delays=3, delay_interval=1)[0]
    array([[2., 1., 0.],
           [3., 2., 1.],
           [4., 3., 2.]])
    """
    m = check_int("n_delays", n_delays)
    tau = check_int("delay_interval", delay_interval)
    trajectories = read_trajectories(x, "x")
    shortest = min(len(t) for t in trajectories)
    if embedded_length(shortest, m, tau) < 1:
        raise ValueError(
            f"n_delays={m} with delay_interval={tau} spans {(m - 1) * tau + 1} steps; "
            f"the shortest trajectory of x has {shortest}"
        )
    return [embed(t, m, tau) for t in trajectories]


def embed(t: np.ndarray, n_delays: int, delay_interval: int) -> np.ndarray:
    """Hankel matrix of one validated trajectory (time, unit); no checks."""
    rows = embedded_length(len(t), n_delays, delay_interval)
    start = (n_delays - 1) * delay_interval
    blocks = [
        t[start - d * delay_interval : start - d * delay_interval + rows] for d in range(n_delays)
    ]
    return np.concatenate(blocks, axis=1)
