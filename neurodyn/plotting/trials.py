"""Figures of trials, training runs and psychometric curves.

Every function draws with matplotlib at its default settings, labels axes with
units, and returns the Figure or Axes it drew on; none calls ``show``. Import it
as a submodule (``from neurodyn import plotting``) so that ``import neurodyn``
never loads matplotlib.

The psychometric curve is split in three: :func:`psychometric` computes the
points (a labelled Dataset, testable by hand), :func:`fit_psychometric` fits a
logistic to them by maximum likelihood, and :func:`plot_psychometric` draws both.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D
from scipy import optimize, special

from ..io.atomic import atomic_path

__all__ = [
    "PsychometricFit",
    "fit_psychometric",
    "plot_psychometric",
    "plot_training_curve",
    "plot_trials",
    "psychometric",
    "save_figure",
]

_DEFAULT_TRIALS = (0, 1, 2)
_FADED = 0.3  # opacity of target spans that carry no loss


def _colors() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])


def _time_label(ds: xr.Dataset) -> str:
    units = ds["time"].attrs.get("units", "ms") if "time" in ds.coords else "ms"
    return f"time ({units})"


# -- trials ---------------------------------------------------------------------------
def plot_trials(ds: xr.Dataset, trials: Sequence[int] = _DEFAULT_TRIALS, *, axes=None):
    """Inputs, targets and outputs of a few trials, one column per trial.

    The top row shows the input channels. The bottom row shows, per output
    channel, the target (dashed) and the network's output (solid) in one colour;
    target spans with zero loss mask are drawn faded, since the network is not
    asked to match them. Period boundaries (``<period>_on`` coordinates) are
    dotted vertical lines. Padding after a trial's ``length`` is not drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`neurodyn.simulate` result, or any Dataset with ``inputs`` (trial,
        time, input) and ``targets`` (trial, time, output); ``outputs`` and
        ``mask`` are drawn when present. ``time`` is in ms.
    trials : sequence of int
        Positions (not labels) of the trials to draw. The default draws the first
        three, or as many as the dataset has.
    axes : array of Axes, shape (2, len(trials)), optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from neurodyn import simulate
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.rnn_models import RateRNN
    >>> ds = simulate(RateRNN(3, 16, 3, seed=0), FlipFlop(), n_trials=2)
    >>> fig = plot_trials(ds)
    >>> len(fig.axes)
    4
    """
    for var in ("inputs", "targets"):
        if var not in ds:
            raise ValueError(
                f"ds is missing the variable {var!r}; expected a neurodyn.simulate() Dataset "
                f"(found variables {sorted(ds.data_vars)})"
            )
    n_total = ds.sizes["trial"]
    trials = [int(t) for t in np.atleast_1d(trials)]
    if tuple(trials) == _DEFAULT_TRIALS:
        trials = [t for t in trials if t < n_total]
    bad = [t for t in trials if not -n_total <= t < n_total]
    if bad or not trials:
        raise ValueError(
            f"trials={trials!r} must be non-empty positions in the dataset's {n_total} trial(s)"
        )
    if axes is None:
        fig, axes = plt.subplots(
            2,
            len(trials),
            figsize=(3.2 * len(trials) + 1.0, 4.8),
            sharex="col",
            sharey="row",
            squeeze=False,
            constrained_layout=True,
        )
    else:
        axes = np.asarray(axes, dtype=object).reshape(2, len(trials))
        fig = axes[0, 0].figure
    colors = _colors()
    periods = json.loads(ds.attrs.get("periods", "[]"))

    labels = ds["trial"].values
    any_unscored = False
    for col, pos in enumerate(trials):
        tr = ds.isel(trial=pos)
        n = int(tr["length"]) if "length" in tr.coords else ds.sizes["time"]
        tr = tr.isel(time=slice(0, n))
        t = tr["time"].values
        ax_in, ax_out = axes[0, col], axes[1, col]
        for k, name in enumerate(tr["input"].values):
            ax_in.plot(
                t, tr["inputs"].isel(input=k), color=colors[k % len(colors)], label=str(name)
            )
        for k, name in enumerate(tr["output"].values):
            c = colors[k % len(colors)]
            target = tr["targets"].isel(output=k).values.astype(float)
            scored = tr["mask"].isel(output=k).values > 0 if "mask" in tr else np.ones(n, bool)
            if not scored.all():
                any_unscored = True
                ax_out.plot(t, target, "--", color=c, alpha=_FADED)
            ax_out.plot(t, np.where(scored, target, np.nan), "--", color=c)
            if "outputs" in tr:
                ax_out.plot(t, tr["outputs"].isel(output=k), "-", color=c, label=str(name))
        for p in periods:
            onset = tr.coords.get(f"{p}_on")
            if onset is not None and np.isfinite(onset) and float(onset) > 0:
                for ax in (ax_in, ax_out):
                    ax.axvline(float(onset), color="0.6", lw=0.8, ls=":")
        title = f"trial {labels[pos]}"
        if "correct" in tr.coords:
            title += " (correct)" if bool(tr["correct"]) else " (error)"
        ax_in.set_title(title)
        ax_out.set_xlabel(_time_label(ds))
    axes[0, 0].set_ylabel("input (a.u.)")
    axes[1, 0].set_ylabel("output (a.u.)")
    # Legends sit right of the last column so they never hide a trace.
    outside = {"fontsize": "small", "loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
    axes[0, -1].legend(title="input", **outside)
    handles = [
        Line2D([], [], color=colors[k % len(colors)], label=str(name))
        for k, name in enumerate(ds["output"].values)
    ]
    if "outputs" in ds:
        handles.append(Line2D([], [], color="k", label="network"))
    handles.append(Line2D([], [], color="k", ls="--", label="target"))
    if any_unscored:
        handles.append(Line2D([], [], color="k", ls="--", alpha=_FADED, label="target, unscored"))
    axes[1, -1].legend(handles=handles, title="output", **outside)
    return fig


# -- training -------------------------------------------------------------------------
def _history_dataset(history) -> tuple[xr.Dataset, list[float]]:
    """Normalise a FitResult, its Dataset or a list of records; also return stage ends."""
    if isinstance(history, xr.Dataset):
        ds = history
    else:
        records = getattr(history, "history", history)
        if not isinstance(records, (list, tuple)) or not all(
            isinstance(r, dict) and "step" in r for r in records
        ):
            raise ValueError(
                "history must be a FitResult, FitResult.to_xarray() or a list of dicts with "
                f"a 'step' key, got {type(history).__name__}"
            )
        keys = sorted({k for r in records for k in r} - {"step"})
        ds = xr.Dataset(
            {k: ("step", np.array([r.get(k, np.nan) for r in records], dtype=float)) for k in keys},
            coords={"step": np.array([r["step"] for r in records], dtype=np.int64)},
        )
    if "step" not in ds.coords:
        raise ValueError(f"history Dataset has no 'step' coordinate (coords {list(ds.coords)})")
    ends = []
    if "stage" in ds and ds.sizes["step"] > 1:
        stage = ds["stage"].values
        changed = np.flatnonzero(stage[1:] != stage[:-1])
        # A stage advances right after the validation that met its criteria, so the
        # boundary is the step of the last record of the old stage.
        ends = [float(ds["step"].values[i]) for i in changed]
    return ds, ends


def plot_training_curve(history, *, ax=None):
    """Training and validation loss against step, with accuracy and stage boundaries.

    Losses are on a log axis (linear if any is not positive); the validation
    accuracy, when logged, is on a twin axis at the right; each change of
    curriculum stage is a vertical dotted line.

    Parameters
    ----------
    history : FitResult, xarray.Dataset or list of dict
        A :class:`~neurodyn.train.FitResult`, its ``to_xarray()`` Dataset, or its
        ``history`` records (dicts with ``step`` and any of ``train_loss``,
        ``val_loss``, ``val_accuracy``, ``stage``).
    ax : Axes, optional
        Where to draw the losses; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The loss axes (the accuracy axes is its twin).

    Examples
    --------
    >>> recs = [{"step": 10, "train_loss": 1.0, "val_loss": 0.9},
    ...         {"step": 20, "train_loss": 0.5, "val_loss": 0.4}]
    >>> plot_training_curve(recs).get_yscale()
    'log'
    """
    ds, ends = _history_dataset(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.8), constrained_layout=True)
    step = ds["step"].values
    styles = {"train_loss": ("train loss", "C0", "-"), "val_loss": ("validation loss", "C1", "-")}
    losses = []
    for key, (label, color, ls) in styles.items():
        if key in ds and np.isfinite(ds[key].values).any():
            ax.plot(step, ds[key].values, ls, color=color, marker=".", label=label)
            losses.append(ds[key].values)
    if not losses:
        raise ValueError(
            f"history has no 'train_loss' or 'val_loss' (found {sorted(ds.data_vars)})"
        )
    finite = np.concatenate([v[np.isfinite(v)] for v in losses])
    if np.all(finite > 0):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    for i, end in enumerate(ends):
        ax.axvline(end, color="0.5", ls=":", lw=1.0, label="stage change" if i == 0 else None)
    handles, labels = ax.get_legend_handles_labels()
    if "val_accuracy" in ds and np.isfinite(ds["val_accuracy"].values).any():
        ax2 = ax.twinx()
        ax2.plot(
            step, ds["val_accuracy"].values, color="C2", marker=".", label="validation accuracy"
        )
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_ylabel("validation accuracy (fraction correct)")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    # Above the axes: inside, the loss and accuracy curves leave no reliably empty corner.
    ax.legend(
        handles,
        labels,
        fontsize="small",
        loc="lower center",
        bbox_to_anchor=(0.5, 1.01),
        ncol=2,
        frameon=False,
    )
    return ax


# -- psychometric curves --------------------------------------------------------------
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
    nll : float
        Negative binomial log-likelihood at the optimum.
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


def plot_psychometric(
    ds: xr.Dataset,
    *,
    variable: str = "coherence",
    choice: str = "choice",
    ax=None,
    signed_by: str | None = "ground_truth",
    choices=None,
    fit: bool = True,
    label: str = "choices",
    color=None,
):
    """Psychometric curve: choice fraction ± binomial s.e. and a fitted logistic.

    Each curve has one legend entry, ``label`` with its fitted bias and slope; call
    ``fit_psychometric(psychometric(ds, ...))`` for the numbers. Calling it again
    on the same ``ax`` overlays another curve (say, a subject's and a network's) in
    the next colour.

    Parameters
    ----------
    ds : xarray.Dataset
        Trials (see :func:`psychometric`) or points already computed by it.
    variable, choice, signed_by, choices
        As in :func:`psychometric` (ignored when ``ds`` holds points).
    ax : Axes, optional
        Where to draw; a new figure is made when omitted.
    fit : bool
        Fit and draw the logistic.
    label : str
        Legend entry of the points.
    color : matplotlib colour, optional
        Of the points and their fit; default: the next colour of the cycle.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if "p_choice" in ds:
        points = ds
    else:
        points = psychometric(
            ds, variable=variable, choice=choice, signed_by=signed_by, choices=choices
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 3.8), constrained_layout=True)
    if color is None:
        color = f"C{len(ax.containers) % 10}"  # one errorbar container per curve
    dim = points["p_choice"].dims[0]
    x = points[dim].values
    if not ax.containers:
        ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
        if x.min() < 0 < x.max():
            ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    if fit and x.size >= 2:
        # One legend entry per curve: the points' label carries their fit.
        f = fit_psychometric(points)
        grid = np.linspace(x.min(), x.max(), 200)
        ax.plot(grid, f(grid), color=color)
        label = f"{label}: bias {f.bias:.3g}, slope {f.slope:.3g}"
        if not f.success:
            label += " (separated)"
    ax.errorbar(
        x, points["p_choice"], yerr=points["sem"], fmt="o", color=color, capsize=2, label=label
    )
    coord = points[dim]
    xlabel = coord.attrs.get("long_name", dim)
    if "units" in coord.attrs:
        xlabel += f" ({coord.attrs['units']})"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"P(choice = {points.attrs.get('positive', 1)})")
    ax.set_ylim(-0.03, 1.03)
    # A rising curve leaves the lower right empty, a falling one the upper right.
    p = points["p_choice"].values
    ax.legend(fontsize="small", loc="lower right" if p[-1] >= p[0] else "upper right")
    return ax


# -- files ----------------------------------------------------------------------------
def save_figure(fig, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write ``fig`` atomically and close it.

    The format follows the suffix of ``path`` (``.png`` is appended when there is
    none). The figure is closed even if writing fails, so loops that save many
    figures never accumulate open ones.

    Parameters
    ----------
    fig : Figure
    path : path-like
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=dpi)
    finally:
        plt.close(fig)
    return path
