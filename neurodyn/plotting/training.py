"""Figures of training runs: losses, accuracy and curriculum stages against step.

Every function draws with matplotlib at its default settings, labels axes with
units, and returns the Figure or Axes it drew on; none calls ``show``. Import it
as a submodule (``from neurodyn import plotting``) so that ``import neurodyn``
never loads matplotlib.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

__all__ = ["plot_training_curve"]


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
