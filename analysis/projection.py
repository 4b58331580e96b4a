r"""Low-dimensional views of state space: principal axes and trajectory lists.

:func:`pca_basis` gives the plane (or line, or 3-space) on which the analyzers and
figures show a network: the mean :math:`\bar x` and the top principal axes C (rows)
of a set of states, so that a state x has coordinates :math:`C (x - \bar x)`.
:func:`as_trajectories` reads the trajectories those states come from, whatever form
they are given in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_trajectories", "pca_basis"]


def pca_basis(x, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and top principal axes of a set of states.

    With :math:`X - \bar x = U \Sigma V^\top` (thin SVD of the centred states), the axes
    are the first ``n_components`` rows of :math:`V^\top`, orthonormal and ordered by
    the variance along them, :math:`\sigma_i^2 / n`.

    Parameters
    ----------
    x : array (n, d)
        States.
    n_components : int
        Number of axes. With fewer states than that, the missing axes are zero rows.

    Returns
    -------
    mean : ndarray (d,)
    components : ndarray (n_components, d)

    Examples
    --------
    States along the line :math:`x_1 = 2 x_0` have that line as their first axis:

    >>> t = np.linspace(-1.0, 1.0, 5)[:, None]
    >>> mean, comps = pca_basis(np.hstack([t, 2 * t]), 1)
    >>> np.round(np.abs(comps) * np.sqrt(5), 6)
    array([[1., 2.]])
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"x has shape {x.shape}; expected states (n, d)")
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:n_components]
    if len(comps) < n_components:  # fewer samples than components: pad with zeros
        comps = np.vstack([comps, np.zeros((n_components - len(comps), x.shape[1]))])
    return mean, comps


def as_trajectories(states) -> list[np.ndarray] | None:
    """A list of trajectories (time, d) from an array or a simulation Dataset.

    Parameters
    ----------
    states : array (time, d) or (trial, time, d), xarray.Dataset, or None
        A Dataset must hold ``states`` (trial, time, unit); its ``length`` coordinate,
        when present, cuts each trial's padding.

    Returns
    -------
    list of ndarray (time, d), or None when ``states`` is None

    Examples
    --------
    >>> [t.shape for t in as_trajectories(np.zeros((2, 5, 3)))]
    [(5, 3), (5, 3)]
    """
    if states is None:
        return None
    if hasattr(states, "data_vars"):
        if "states" not in states:
            raise ValueError(
                f"the Dataset has no 'states' variable (found {sorted(states.data_vars)}); "
                "expected a neurodyn.simulate() result"
            )
        a = np.asarray(states["states"].values, dtype=float)
        if "length" in states.coords:
            return [a[i, : int(n)] for i, n in enumerate(states["length"].values)]
        return list(a)
    a = np.asarray(states, dtype=float)
    return list(a[None] if a.ndim == 2 else a)
