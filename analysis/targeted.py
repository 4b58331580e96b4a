r"""Targeted dimensionality reduction: the axes of a population that encode task variables.

Mante, Sussillo, Shenoy & Newsome (Nature 2013, Methods) find, in the activity of many
units, one axis per task variable (choice, motion, colour, context), and look at the
condition-averaged trajectories projected on them. :func:`targeted_axes` computes them:

1. **Standardise** (optional): each unit's activity :math:`r_{i,t}(k)` (trial k, time t)
   is centred and divided by its standard deviation over trials and times.
2. **Regress** every unit at every time on the P task variables of the trials,

   .. math:: r_{i,t}(k) = \sum_{v=1}^{P} \beta_{v,i,t}\, F_v(k) + \beta_{0,i,t},

   by least squares over trials: the vector :math:`\beta_{v,t} \in \mathbb R^N` is the
   direction along which variable v moves the population at time t.
3. **Denoise**: project every :math:`\beta_{v,t}` on the span of the leading
   ``n_components`` principal axes of the condition-averaged responses (one condition per
   distinct row of the task variables, averaged over its trials, all times), where the
   population's signal lives: :math:`\beta^{\mathrm{den}}_{v,t} = D\,\beta_{v,t}`,
   :math:`D = \sum_a u_a u_a^\top`.
4. **Pick the time** of each variable's largest effect,
   :math:`t_v = \arg\max_t \|\beta^{\mathrm{den}}_{v,t}\|`, and
   :math:`\beta_v = \beta^{\mathrm{den}}_{v,t_v}`.
5. **Orthogonalise** :math:`[\beta_1, \dots, \beta_P]` by QR in the order given: the
   first axis is along :math:`\beta_1`, the second along what of :math:`\beta_2` is not
   explained by the first, and so on, each signed to point along its own
   :math:`\beta_v`.

:func:`project_targeted` gives the coordinates of activity on the axes (standardised
as the axes were).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .._validation import check_int
from .projection import pca_basis

__all__ = ["project_targeted", "targeted_axes"]


def _activity(activity) -> tuple[np.ndarray, dict]:
    """(trial, time, unit) float array and its coordinates."""
    if isinstance(activity, xr.Dataset):
        if "states" not in activity.data_vars and "rates" not in activity.data_vars:
            raise ValueError(
                "activity is a Dataset without 'rates' or 'states'; pass a DataArray "
                "(trial, time, unit) or a neurodyn.simulate() result"
            )
        activity = activity["rates" if "rates" in activity.data_vars else "states"]
    coords = {}
    if isinstance(activity, xr.DataArray):
        if activity.ndim != 3:
            raise ValueError(f"activity has dims {activity.dims}; expected (trial, time, unit)")
        coords = {
            "time": activity[activity.dims[1]].values,
            "unit": activity[activity.dims[2]].values,
        }
    x = np.asarray(activity, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"activity has shape {x.shape}; expected (trial, time, unit)")
    if not np.all(np.isfinite(x)):
        raise ValueError("activity holds NaN or infinite values")
    coords.setdefault("time", np.arange(x.shape[1]))
    coords.setdefault("unit", np.arange(x.shape[2]))
    return x, coords


def _design(regressors: Mapping, n_trial: int) -> tuple[list, np.ndarray]:
    if not isinstance(regressors, Mapping) or not regressors:
        raise ValueError("regressors must be a non-empty mapping of name -> values per trial")
    names, cols = [], []
    for name, v in regressors.items():
        v = np.asarray(v, dtype=float)
        if v.shape != (n_trial,):
            raise ValueError(f"regressors[{name!r}] has shape {v.shape}; expected ({n_trial},)")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"regressors[{name!r}] holds NaN or infinite values")
        names.append(str(name))
        cols.append(v)
    design = np.column_stack([*cols, np.ones(n_trial)])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ValueError(
            "regressors are linearly dependent (or one is constant over trials): their "
            "coefficients are not determined"
        )
    return names, design


def targeted_axes(activity, regressors, *, n_components: int = 12, standardize: bool = True):
    r"""Task-variable axes of a population by targeted dimensionality reduction.

    Parameters
    ----------
    activity : xarray.DataArray, Dataset or array (trial, time, unit)
        Responses of every unit; a :func:`neurodyn.simulate` Dataset gives its ``rates``.
    regressors : mapping of str to array (trial,)
        The task variables of each trial (for Mante et al.: choice ±1, signed motion and
        colour coherence, context ±1), in the order the axes are orthogonalised.
    n_components : int
        Principal axes of the condition-averaged responses kept by the denoising
        (12 in Mante et al.); at most the number of units.
    standardize : bool
        Z-score each unit first (Mante et al. do); units with no variance stay 0.

    Returns
    -------
    xarray.Dataset
        ``axes`` (regressor, unit), orthonormal rows; ``beta`` and ``beta_denoised``
        (regressor, time, unit), the regression coefficients before and after denoising;
        ``t_max`` (regressor), the time of each variable's largest effect; ``mean`` and
        ``scale`` (unit), the standardisation (0 and 1 without it), used by
        :func:`project_targeted`. Attribute ``n_components``.

    Raises
    ------
    ValueError
        On activity not of shape (trial, time, unit) or not finite, regressors of the
        wrong length, linearly dependent or constant, or ``n_components`` out of range.

    Examples
    --------
    Two units; trials whose variable ``a`` moves the population along (1, 1):

    >>> rng = np.random.default_rng(0)
    >>> a = rng.choice([-1.0, 1.0], size=50)
    >>> x = a[:, None, None] * np.array([1.0, 1.0]) + 0.01 * rng.normal(size=(50, 3, 2))
    >>> tdr = targeted_axes(x, {"a": a}, n_components=2, standardize=False)
    >>> np.round(tdr["axes"].values, 2)
    array([[0.71, 0.71]])
    """
    x, coords = _activity(activity)
    n_trial, n_time, n_unit = x.shape
    names, design = _design(regressors, n_trial)
    n_components = check_int("n_components", n_components, low=1)
    if n_components > n_unit:
        raise ValueError(f"n_components={n_components} exceeds the {n_unit} units")
    if len(names) > n_unit:
        raise ValueError(f"{len(names)} regressors need at least as many units ({n_unit})")
    flat = x.reshape(-1, n_unit)
    mean = flat.mean(axis=0) if standardize else np.zeros(n_unit)
    scale = flat.std(axis=0) if standardize else np.ones(n_unit)
    scale = np.where(scale > 0, scale, 1.0)  # a silent unit stays 0
    z = (x - mean) / scale
    # One least-squares solve for every (time, unit): coefficients (P + 1, time, unit).
    coef = np.linalg.lstsq(design, z.reshape(n_trial, -1), rcond=None)[0]
    beta = coef[:-1].reshape(len(names), n_time, n_unit)
    # Conditions: the distinct rows of the task variables, each averaged over its trials.
    _, cond = np.unique(design[:, :-1], axis=0, return_inverse=True)
    cond = cond.reshape(-1)
    averages = np.stack([z[cond == c].mean(axis=0) for c in range(cond.max() + 1)])
    _, pcs = pca_basis(averages.reshape(-1, n_unit), n_components)
    denoised = beta @ pcs.T @ pcs
    t_max = np.argmax(np.linalg.norm(denoised, axis=-1), axis=1)
    b = denoised[np.arange(len(names)), t_max]  # (P, unit)
    q, r = np.linalg.qr(b.T)
    axes = (q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))).T
    time, unit = coords["time"], coords["unit"]
    return xr.Dataset(
        {
            "axes": (("regressor", "unit"), axes),
            "beta": (("regressor", "time", "unit"), beta),
            "beta_denoised": (("regressor", "time", "unit"), denoised),
            "t_max": (("regressor",), np.asarray(time)[t_max]),
            "mean": (("unit",), mean),
            "scale": (("unit",), scale),
        },
        coords={"regressor": names, "time": time, "unit": unit},
        attrs={"n_components": n_components, "standardize": int(bool(standardize))},
    )


def project_targeted(activity, tdr: xr.Dataset) -> xr.DataArray:
    """Coordinates of ``activity`` on the axes of :func:`targeted_axes`.

    Parameters
    ----------
    activity : xarray.DataArray, Dataset or array (..., unit)
        Responses of the same units (e.g. condition averages (condition, time, unit)).
    tdr : xarray.Dataset
        From :func:`targeted_axes`; activity is standardised with its ``mean`` and
        ``scale`` first.

    Returns
    -------
    xarray.DataArray (..., regressor)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.choice([-1.0, 1.0], size=50)
    >>> x = a[:, None, None] * np.array([1.0, 1.0]) + 0.01 * rng.normal(size=(50, 3, 2))
    >>> tdr = targeted_axes(x, {"a": a}, n_components=2, standardize=False)
    >>> project_targeted(np.array([1.0, 1.0]), tdr).values.round(3)
    array([1.414])
    """
    if isinstance(activity, xr.Dataset):
        activity = activity["rates" if "rates" in activity.data_vars else "states"]
    dims = list(activity.dims[:-1]) if isinstance(activity, xr.DataArray) else None
    x = np.asarray(activity, dtype=float)
    n_unit = tdr.sizes["unit"]
    if x.shape[-1] != n_unit:
        raise ValueError(f"activity has {x.shape[-1]} units; the axes were found for {n_unit}")
    z = (x - tdr["mean"].values) / tdr["scale"].values
    out = z @ tdr["axes"].values.T
    if dims is None:
        dims = [f"dim_{i}" for i in range(out.ndim - 1)]
    coords = {"regressor": tdr["regressor"].values}
    if isinstance(activity, xr.DataArray):
        coords.update({d: activity[d].values for d in dims if d in activity.coords})
    return xr.DataArray(out, dims=(*dims, "regressor"), coords=coords)
