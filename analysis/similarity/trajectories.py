r"""Reading the activity that the similarity measures compare.

Geometry (:func:`read_states`) needs matched samples: every leading axis (trials,
time) is flattened into samples of shape (sample, unit). Dynamics
(:func:`read_trajectories`) needs the time order within each trial: a list of
trajectories (time, unit), one per trial, whose lengths may differ.

Accepted forms: arrays (time, unit) or (trial, time, unit) (NumPy or torch); a list of
(time, unit) arrays; an :class:`xarray.DataArray` whose last dim is the feature dim
(``unit``, ``state`` or ``neuron``; else its last dim); an :class:`xarray.Dataset` as
:func:`neurodyn.simulate` returns it (``states``, else ``rates``) or a recording
(``activity``), whose ``length`` coordinate, when present, cuts each trial's padding.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..._validation import to_numpy

__all__ = ["FEATURE_DIMS", "VARIABLES", "read_states", "read_trajectories"]

#: Dims that count as the feature axis of a DataArray, in order of preference.
FEATURE_DIMS = ("unit", "state", "neuron")

#: Variables of a Dataset read when none is named, in order of preference.
VARIABLES = ("states", "rates", "activity")


def read_trajectories(x, name: str, variable: str | None = None) -> list[np.ndarray]:
    """Trajectories (time, unit), one per trial, as float64 arrays with finite entries.

    Parameters
    ----------
    x : array, list of arrays, DataArray or Dataset
        See the module docstring.
    name : str
        The argument's name, for error messages.
    variable : str, optional
        The Dataset variable to read (default: the first of :data:`VARIABLES` present).

    Returns
    -------
    list of ndarray (time, unit)

    Examples
    --------
    >>> [t.shape for t in read_trajectories(np.zeros((2, 5, 3)), "x")]
    [(5, 3), (5, 3)]
    """
    if isinstance(x, xr.Dataset):
        trajectories = _from_dataset(x, name, variable)
    elif isinstance(x, xr.DataArray):
        trajectories = _split(_feature_last(x, name).values, name)
    elif isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"{name} is an empty list; expected trajectories (time, unit)")
        trajectories = [np.asarray(to_numpy(t), dtype=float) for t in x]
        bad = [t.shape for t in trajectories if t.ndim != 2]
        if bad:
            raise ValueError(f"{name} holds arrays of shape {bad[0]}; expected (time, unit)")
    else:
        trajectories = _split(to_numpy(x), name)
    units = {t.shape[1] for t in trajectories}
    if len(units) != 1:
        raise ValueError(f"{name} has trajectories with {sorted(units)} units; they must match")
    if units == {0} or any(t.shape[0] == 0 for t in trajectories):
        raise ValueError(f"{name} has an empty trajectory or no units")
    for t in trajectories:
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{name} holds non-finite values")
    return trajectories


def read_states(x, name: str, variable: str | None = None) -> np.ndarray:
    """States (sample, unit): every trial and time step, as float64 with finite entries.

    Parameters
    ----------
    x : array, list of arrays, DataArray or Dataset
        See the module docstring.
    name : str
        The argument's name, for error messages.
    variable : str, optional
        The Dataset variable to read (default: the first of :data:`VARIABLES` present).

    Returns
    -------
    ndarray (sample, unit)

    Examples
    --------
    >>> read_states(np.zeros((2, 5, 3)), "x").shape
    (10, 3)

    From a Dataset, the padding after each trial's ``length`` is dropped:

    >>> ds = xr.Dataset({"rates": (("trial", "time", "unit"), np.ones((2, 5, 3)))},
    ...                 coords={"length": ("trial", [5, 3])})
    >>> read_states(ds, "x").shape
    (8, 3)
    """
    if isinstance(x, (xr.Dataset, list, tuple)):
        return np.concatenate(read_trajectories(x, name, variable), axis=0)
    if isinstance(x, xr.DataArray):
        x = _feature_last(x, name).values
    a = np.asarray(to_numpy(x), dtype=float)
    if a.ndim < 2:
        raise ValueError(f"{name} has shape {a.shape}; expected states (..., unit)")
    a = a.reshape(-1, a.shape[-1])
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds non-finite values")
    return a


def _feature_last(x: xr.DataArray, name: str) -> xr.DataArray:
    feature = next((d for d in FEATURE_DIMS if d in x.dims), None)
    if feature is None:  # unnamed features: the last axis, as for an array
        feature = x.dims[-1] if x.dims else None
    if feature is None:
        raise ValueError(f"{name} is a scalar; expected states (..., unit)")
    order = [d for d in ("trial", "time") if d in x.dims]
    rest = [d for d in x.dims if d not in order and d != feature]
    return x.transpose(*rest, *order, feature)


def _split(a: np.ndarray, name: str) -> list[np.ndarray]:
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:
        return [a]
    if a.ndim == 3:
        return list(a)
    raise ValueError(f"{name} has shape {a.shape}; expected (time, unit) or (trial, time, unit)")


def _from_dataset(ds: xr.Dataset, name: str, variable: str | None) -> list[np.ndarray]:
    if variable is None:
        variable = next((v for v in VARIABLES if v in ds.data_vars), None)
        if variable is None:
            raise ValueError(
                f"{name} has no variable among {VARIABLES} (found {sorted(ds.data_vars)}); "
                "name one with variable="
            )
    elif variable not in ds.data_vars:
        raise ValueError(f"variable={variable!r} is not in {name} (found {sorted(ds.data_vars)})")
    a = _feature_last(ds[variable], name)
    if "trial" not in a.dims:
        return _split(a.values, name)
    trajectories = _split(a.values, name)
    if "length" in ds.coords and ds["length"].dims == ("trial",):
        trajectories = [t[: int(n)] for t, n in zip(trajectories, ds["length"].values, strict=True)]
    return trajectories
