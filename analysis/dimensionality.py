r"""Dimensionality of activity: how many principal components explain a given variance.

With the activity of :math:`d` units stacked over samples (all trials and time
steps) and centred, the covariance :math:`C` has eigenvalues
:math:`\lambda_1 \ge \dots \ge \lambda_d`. The dimensionality at threshold
:math:`q` (0.9 in Khajehabdollahi et al., 2024) is the smallest :math:`k` with

.. math:: \sum_{i \le k} \lambda_i \Big/ \sum_i \lambda_i \ \ge\ q .
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._validation import check_fraction
from ..threads import policy

__all__ = ["Dimensionality", "dimensionality"]


@dataclass
class Dimensionality:
    """What :func:`dimensionality` returns.

    Attributes
    ----------
    n_components : int
        Principal components needed to reach ``threshold`` of the variance.
    explained_variance_ratio : ndarray (component,)
        :math:`\\lambda_i / \\sum \\lambda`, largest first.
    cumulative : ndarray (component,)
        Running sum of ``explained_variance_ratio``.
    threshold : float
        The fraction of variance asked for.
    participation_ratio : float
        :math:`(\\sum\\lambda)^2 / \\sum\\lambda^2`, a threshold-free companion measure.

    Examples
    --------
    Three units tracing :math:`(2\\cos\\theta, \\sin\\theta, \\sin 2\\theta)` around a
    cycle have uncorrelated variances 2, 1/2 and 1/2: the first component explains 2/3
    of the variance, and the participation ratio is :math:`3^2/4.5 = 2`:

    >>> import xarray as xr
    >>> from neurodyn.analysis import dimensionality
    >>> th = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    >>> rates = xr.DataArray(np.stack([2 * np.cos(th), np.sin(th), np.sin(2 * th)], 1),
    ...                      dims=("time", "unit"))
    >>> dim = dimensionality(rates, threshold=0.8)
    >>> dim.n_components, dim.explained_variance_ratio.round(4).tolist()
    (2, [0.6667, 0.1667, 0.1667])
    >>> dim.cumulative.round(4).tolist(), round(dim.participation_ratio, 6), dim.threshold
    ([0.6667, 0.8333, 1.0], 2.0, 0.8)
    """

    n_components: int
    explained_variance_ratio: np.ndarray
    cumulative: np.ndarray
    threshold: float
    participation_ratio: float

    def to_xarray(self) -> xr.Dataset:
        """Dataset along ``component`` (numbered from 1)."""
        k = np.arange(1, len(self.explained_variance_ratio) + 1)
        ds = xr.Dataset(
            {
                "explained_variance_ratio": ("component", self.explained_variance_ratio),
                "cumulative": ("component", self.cumulative),
                "n_components": ((), self.n_components),
                "participation_ratio": ((), self.participation_ratio),
            },
            coords={"component": k},
        )
        ds.attrs["threshold"] = self.threshold
        return ds


@policy(work=lambda a: 2.0 * float(np.size(a["activity"])) * np.shape(a["activity"])[-1])
def dimensionality(
    activity, *, threshold: float = 0.9, threads: int | None = None
) -> Dimensionality:
    """Number of principal components explaining ``threshold`` of the activity variance.

    Parameters
    ----------
    activity : array (..., unit) or DataArray with a ``unit`` dim
        Every leading axis (trials, time) counts as samples.
    threshold : float in (0, 1]
        Fraction of variance (0.9 in the paper).
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    Dimensionality

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2000, 3)) @ rng.standard_normal((3, 20))  # rank 3
    >>> dimensionality(x, threshold=0.999).n_components
    3
    """
    threshold = check_fraction("threshold", threshold)
    if isinstance(activity, xr.DataArray):
        if "unit" not in activity.dims:
            raise ValueError(f"activity has dims {activity.dims}; expected a 'unit' dim")
        activity = activity.transpose(..., "unit").values
    a = np.asarray(activity, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"activity has shape {a.shape}; expected (..., unit) with samples")
    a = a.reshape(-1, a.shape[-1])
    if a.shape[0] < 2:
        raise ValueError("activity needs at least 2 samples")
    if not np.all(np.isfinite(a)):
        raise ValueError("activity contains NaN or infinite values")
    a = a - a.mean(axis=0)
    # Eigenvalues of the (unit × unit) covariance: cheap for many samples.
    lam = np.linalg.eigvalsh(a.T @ a / (a.shape[0] - 1))[::-1].clip(min=0.0)
    total = lam.sum()
    if total <= 0:
        raise ValueError("activity has zero variance; dimensionality is undefined")
    ratio = lam / total
    cumulative = np.cumsum(ratio)
    # Relative rounding of the cumulative sum is ~d·eps; do not miss a threshold by it.
    k = int(np.searchsorted(cumulative, threshold - 1e-12 * len(lam)) + 1)
    pr = float(total**2 / np.sum(lam**2))
    return Dimensionality(min(k, len(lam)), ratio, cumulative, threshold, pr)
