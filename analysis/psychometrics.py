r"""Psychometric curves: choice fractions against stimulus strength, and their logistic fit.

:func:`psychometric` computes the points (a labelled Dataset, testable by hand):
the fraction :math:`\hat p_x = k_x / n_x` of valid trials choosing one option at
each signed stimulus level x, with its binomial standard error.
:func:`fit_psychometric` fits the logistic :math:`p(x) = 1 / (1 + e^{-\beta (x - x_0)})`
to them by maximum binomial likelihood. :func:`neurodyn.plotting.plot_psychometric`
draws both.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import optimize, special

__all__ = ["PsychometricFit", "fit_psychometric", "psychometric"]


def _item(v):
    return v.item() if isinstance(v, np.generic) else v


def _trial_values(ds: xr.Dataset, name: str, role: str) -> np.ndarray:
    if name not in ds.variables or ds[name].dims != ("trial",):
        have = sorted(k for k in ds.variables if ds[k].dims == ("trial",) and k != "trial")
        raise ValueError(
            f"{role}={name!r} is not a per-trial variable of the dataset; "
            f"per-trial variables are {have}"
        )
    return np.asarray(ds[name].values)


def psychometric(
    ds: xr.Dataset,
    *,
    variable: str = "coherence",
    choice: str = "choice",
    signed_by: str | None = "ground_truth",
    choices=None,
    positive=None,
) -> xr.Dataset:
    r"""Fraction of trials with a given choice at each level of a stimulus variable.

    With :math:`n_x` valid trials at stimulus level :math:`x`, of which :math:`k_x`
    chose ``positive``, the point is :math:`\hat p_x = k_x / n_x` with the binomial
    standard error :math:`\sqrt{\hat p_x (1-\hat p_x) / n_x}`.

    Parameters
    ----------
    ds : xarray.Dataset
        Trials with ``variable`` and ``choice`` (and ``signed_by``) along ``trial``,
        e.g. a :func:`neurodyn.simulate` result of a decision task, whose
        ``evaluate`` adds ``choice``.
    variable : str
        The stimulus strength (e.g. ``"coherence"``), non-negative when
        ``signed_by`` is given.
    choice : str
        The per-trial choice.
    signed_by : str or None
        A two-valued trial variable (e.g. ``"ground_truth"``) giving the sign of the
        stimulus: its larger value (+1 of {-1, +1}, 1 of {0, 1}, 2 of {1, 2}) makes
        the level positive, the smaller negative. ``None``: ``variable`` is already
        signed (e.g. ``coherence_motion``).
    choices : pair of values, optional
        The two choice values that count as responses; trials with any other choice
        (such as 0, "no response", in neurodyn's decision tasks) are excluded and
        counted in ``attrs["n_excluded"]``. Default: the two values of
        ``signed_by``, or (-1, +1), neurodyn's left/right coding, when it is None;
        pass ``choices=(0, 1)`` for 0/1-coded choices.
    positive : optional
        The choice value counted. Default: the second of ``choices``.

    Returns
    -------
    xarray.Dataset
        Along dim ``variable`` (the signed levels, sorted): ``p_choice`` (fraction of
        valid trials choosing ``positive``), ``sem`` (binomial standard error),
        ``n_trials`` (valid trials) and ``n_choice`` (trials choosing ``positive``).
        ``attrs`` hold the names used, ``choices`` (JSON), ``positive`` and
        ``n_excluded``.

    Examples
    --------
    >>> ds = xr.Dataset(coords={"coherence": ("trial", [0.0, 0.0, 10.0, 10.0]),
    ...                         "ground_truth": ("trial", [0, 1, 1, 1]),
    ...                         "choice": ("trial", [1, 1, 1, 0])})
    >>> psychometric(ds)["p_choice"].values.tolist()
    [1.0, 0.5]
    """
    x = _trial_values(ds, variable, "variable").astype(float)
    c = _trial_values(ds, choice, "choice")
    if signed_by is not None:
        side = _trial_values(ds, signed_by, "signed_by")
        options = np.unique(side)
        if options.size != 2:
            raise ValueError(
                f"signed_by={signed_by!r} must take exactly two values to give a sign; "
                f"it takes {options.tolist()}"
            )
        if np.any(x < 0):
            raise ValueError(
                f"variable={variable!r} has negative values, so it is already signed; "
                "pass signed_by=None"
            )
        # +0.0 turns -0.0 into 0.0, so zero-strength trials of both sides pool.
        x = np.where(side == options[1], x, -x) + 0.0
        choices = tuple(options.tolist()) if choices is None else choices
    else:
        choices = (-1, 1) if choices is None else choices
    if len(choices) != 2:
        raise ValueError(f"choices must be two values, got {choices!r}")
    positive = choices[1] if positive is None else positive
    if positive not in choices:
        raise ValueError(f"positive={positive!r} must be one of choices={choices!r}")
    valid = np.isin(c, np.asarray(choices)) & np.isfinite(x)
    x, hit = x[valid], (c[valid] == positive)
    levels, index = np.unique(x, return_inverse=True)
    n = np.bincount(index, minlength=levels.size)
    k = np.bincount(index, weights=hit.astype(float), minlength=levels.size)
    p = k / n
    long_name = f"signed {variable}" if signed_by is not None else variable
    coord_attrs = {"long_name": long_name}
    if "units" in ds[variable].attrs:
        coord_attrs["units"] = ds[variable].attrs["units"]
    out = xr.Dataset(
        {
            "p_choice": (variable, p),
            "sem": (variable, np.sqrt(p * (1.0 - p) / n)),
            "n_trials": (variable, n.astype(np.int32)),
            "n_choice": (variable, k.astype(np.int32)),
        },
        coords={variable: (variable, levels, coord_attrs)},
    )
    out.attrs.update(
        {
            "variable": variable,
            "choice": choice,
            "signed_by": "" if signed_by is None else signed_by,
            "choices": json.dumps([_item(v) for v in choices]),
            "positive": str(_item(positive)),
            "n_excluded": int(np.count_nonzero(~valid)),
        }
    )
    return out


@dataclass(frozen=True)
class PsychometricFit:
    r"""A logistic psychometric function :math:`p(x) = 1 / (1 + e^{-\beta (x - x_0)})`.

    Attributes
    ----------
    bias : float
        :math:`x_0`, the level at which both choices are equally likely (in the
        units of the stimulus variable).
    slope : float
        :math:`\beta`, in inverse units of the variable; the curve's steepness at
        :math:`x_0` is :math:`\beta/4`.
    success : bool
        Whether the optimiser converged to an interior optimum. False when the
        choices are perfectly separated (all one way below a level, all the other
        way above it), where the likelihood has no maximum and ``slope`` is only a
        lower bound.
    message : str
        The optimiser's message, or why ``success`` is False.
    nll : float
        Negative binomial log-likelihood at the optimum.

    Examples
    --------
    :func:`fit_psychometric` returns it. Choice fractions 1/4, 1/2 and 3/4 at
    coherences −10, 0 and 10 % lie on the logistic with :math:`x_0 = 0` and
    :math:`\beta = \ln 3 / 10` per %, which maximises the likelihood:

    >>> import xarray as xr
    >>> from neurodyn.analysis import fit_psychometric
    >>> pts = xr.Dataset({"n_trials": ("coherence", [100, 100, 100]),
    ...                   "n_choice": ("coherence", [25, 50, 75])},
    ...                  coords={"coherence": [-10.0, 0.0, 10.0]})
    >>> fit = fit_psychometric(pts)
    >>> fit.success, abs(fit.bias) < 1e-4, round(fit.slope * 10 / float(np.log(3)), 4)
    (True, True, 1.0)
    >>> fit([-10.0, 0.0, 10.0]).round(4).tolist()
    [0.25, 0.5, 0.75]

    Choices all one way below a level and all the other way above it have no best
    slope:

    >>> split = xr.Dataset({"n_trials": ("coherence", [10, 10]),
    ...                     "n_choice": ("coherence", [0, 10])},
    ...                    coords={"coherence": [-10.0, 10.0]})
    >>> fit_psychometric(split).success
    False
    """

    bias: float
    slope: float
    success: bool
    message: str
    nll: float

    def __call__(self, x):
        """The fitted probability at levels ``x``."""
        return special.expit(self.slope * (np.asarray(x, dtype=float) - self.bias))


def fit_psychometric(points: xr.Dataset) -> PsychometricFit:
    """Fit a logistic to psychometric points by maximum binomial likelihood.

    Parameters
    ----------
    points : xarray.Dataset
        The output of :func:`psychometric` (``n_trials`` and ``n_choice`` per level).

    Returns
    -------
    PsychometricFit

    Examples
    --------
    >>> pts = xr.Dataset({"n_trials": ("x", [100, 100, 100]),
    ...                   "n_choice": ("x", [12, 50, 88])}, coords={"x": [-1.0, 0.0, 1.0]},
    ...                  attrs={"variable": "x"})
    >>> f = fit_psychometric(pts)
    >>> abs(f.bias) < 1e-6, round(f.slope, 3)
    (True, 1.992)
    """
    if "n_trials" not in points or "n_choice" not in points:
        raise ValueError("points must be the Dataset returned by psychometric()")
    x = np.asarray(points[points["n_trials"].dims[0]].values, dtype=float)
    n = points["n_trials"].values.astype(float)
    k = points["n_choice"].values.astype(float)
    if x.size < 2:
        raise ValueError(f"a logistic needs at least 2 stimulus levels, got {x.size}")
    # Fit in units of the largest |x| so one bound on the slope suits every variable.
    scale = float(np.max(np.abs(x))) or 1.0
    z = x / scale

    def nll(theta):
        a, b = theta  # logit = b * (z - a)
        logit = b * (z - a)
        return -np.sum(k * special.log_expit(logit) + (n - k) * special.log_expit(-logit))

    max_slope = 100.0  # p goes from 0.5 to 1 - 2e-22 within |z - a| = 1/2
    res = optimize.minimize(
        nll, x0=[0.0, 1.0], method="L-BFGS-B", bounds=[(-2.0, 2.0), (-max_slope, max_slope)]
    )
    a, b = (float(v) for v in res.x)
    at_bound = math.isclose(abs(b), max_slope, rel_tol=1e-3) or math.isclose(abs(a), 2.0)
    # Choices that are all one way below some level and all the other way above it
    # have no maximum-likelihood logistic: the slope grows without bound.
    seen = n > 0
    p = k[seen] / n[seen]
    order = np.argsort(x[seen])
    separated = np.all((p == 0) | (p == 1)) and (
        np.all(np.diff(p[order]) >= 0) or np.all(np.diff(p[order]) <= 0)
    )
    message = str(res.message)
    if separated:
        message = "choices are perfectly separated; no finite slope fits them best"
    elif at_bound:
        message += " (a parameter is at its bound)"
    return PsychometricFit(
        bias=a * scale,
        slope=b / scale,
        success=bool(res.success) and not (at_bound or separated),
        message=message,
        nll=float(res.fun),
    )
