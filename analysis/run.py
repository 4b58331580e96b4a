"""Fixed-point analysis of a trained run folder (what ``neurodyn analyze RUN_DIR`` does).

Reads ``model.npz`` and ``evaluation.nc`` from a run folder written by
:func:`neurodyn.runs.train_run`, finds the fixed points with the standard recipe
and writes, atomically::

    fixed_points.nc     the FixedPoints result (load with neurodyn.analysis.load_fixed_points)
    fixed_points.png    fixed points in the PCA space of the evaluation trajectories
    eigenvalues.png     eigenvalue spectra of the fixed points
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .fixed_points import find_fixed_points
from .seeds import condition_inputs, sample_initial_states, tile_conditions

__all__ = ["analyze_run", "run_inputs"]

logger = logging.getLogger(__name__)


def run_inputs(ds):
    """The constant inputs to analyse a run's network at, one per condition.

    Tasks whose trials have a ``context`` variable (context-dependent integration)
    get one input per context: the mean input over the stimulus period of that
    context's trials, i.e. the context cue with the evidence at its zero-coherence
    level. Every other task is analysed at zero input (the flip-flop's memory state).

    Returns
    -------
    inputs : ndarray (k, m)
    names : list of str
    """
    if "context" in ds.coords:
        return condition_inputs(ds, by="context", period="stimulus")
    return np.zeros((1, ds.sizes["input"])), ["zero input"]


def analyze_run(
    run_dir,
    *,
    n_inits: int = 1024,
    noise_scale: float = 0.5,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Find, save and draw the fixed points of the network in a run folder.

    Parameters
    ----------
    run_dir : path
        A finished run (``model.npz`` and ``evaluation.nc``).
    n_inits : int
        Initial states per condition, sampled from the evaluation trajectories.
    noise_scale : float
        Standard deviation of the noise added to them.
    seed : int
        Seeds the sampling.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``counts`` (roots per stability class, then ``slow`` points and ``failed``
        *candidates*, e.g. ``{"stable": 8, "unstable_1": 12, ..., "slow": 0, "failed": 3}``),
        ``n_fixed_points`` (roots) and ``n_slow_points``, ``files`` (paths of
        ``fixed_points.nc``, ``fixed_points.png``, ``eigenvalues.png``), ``conditions``,
        ``n_candidates``, ``kind`` and ``elapsed_s``.

    Raises
    ------
    ValueError
        If the folder lacks ``model.npz`` or ``evaluation.nc``.
    """
    from .. import load_dataset, load_model
    from ..plotting import save_figure  # matplotlib only when figures are drawn
    from .plotting import plot_eigenvalues, plot_fixed_points

    run_dir = Path(run_dir)
    for name in ("model.npz", "evaluation.nc"):
        if not (run_dir / name).is_file():
            raise ValueError(
                f"{str(run_dir)!r} has no {name}; expected a finished run folder "
                "(neurodyn train ... or neurodyn quickstart)"
            )
    model = load_model(run_dir / "model.npz")
    ds = load_dataset(run_dir / "evaluation.nc")
    task = json.loads(ds.attrs.get("task", "{}"))
    inputs, names = run_inputs(ds)
    x0 = sample_initial_states(ds, n_inits, noise_scale=noise_scale, seed=seed)
    x0, u0, cond = tile_conditions(x0, inputs)
    input_names = [str(v) for v in ds["input"].values]
    logger.info("analysing %s (%s) at %d condition(s)", run_dir, task.get("name"), len(names))
    fps = find_fixed_points(
        model,
        u0,
        x0,
        conditions=cond,
        condition_names=names,
        input_names=input_names,
        progress=progress,
    )
    fps.info["task"] = task
    files = {"fixed_points": fps.save(run_dir / "fixed_points.nc")}
    ax = plot_fixed_points(fps, ds)
    files["fixed_points_figure"] = save_figure(ax.figure, run_dir / "fixed_points.png")
    ax = plot_eigenvalues(fps)
    files["eigenvalues_figure"] = save_figure(ax.figure, run_dir / "eigenvalues.png")
    return {
        "counts": fps.summary(),
        "n_fixed_points": int(np.sum(fps.status == "root")),
        "n_slow_points": int(np.sum(fps.status == "slow")),
        "files": files,
        "conditions": names,
        "n_candidates": len(x0),
        "kind": fps.kind,
        "elapsed_s": fps.info["elapsed_s"],
    }
