"""Fixed-point analysis of a trained run folder (what ``neurodyn analyze RUN_DIR`` does).

Reads ``model.npz`` and ``evaluation.nc`` from a run folder written by
:func:`neurodyn.runs.train_run`, finds the fixed points with the standard recipe
and writes, atomically::

    fixed_points.nc     the FixedPoints result (load with neurodyn.analysis.load_fixed_points)
    fixed_points.png    fixed points in the PCA space of the evaluation trajectories
    eigenvalues.png     eigenvalue spectra of the fixed points
    phase_portrait.png  the flow projected on the trajectories' top two principal
                        components, with speed, trajectories and the fixed points
    attractors.nc       where trajectories from the sampled initial states end, with
                        basin fractions (neurodyn.analysis.classify_attractors)
    lyapunov.nc         the top Lyapunov exponents (neurodyn.analysis.lyapunov_spectrum)

The portrait, the attractors and the exponents are computed at the first condition's
input (zero input for the flip-flop: its memory state).
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
    n_attractor_inits: int = 128,
    n_lyapunov: int = 10,
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
    n_attractor_inits : int
        Initial states (the first of the sampled ones) whose attractors are classified.
    n_lyapunov : int
        Number of Lyapunov exponents (at most the state size); 0 skips them.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``counts`` (roots per stability class, then ``slow`` points and ``failed``
        *candidates*, e.g. ``{"stable": 8, "unstable_1": 12, ..., "slow": 0, "failed": 3}``),
        ``n_fixed_points`` (roots) and ``n_slow_points``, ``files`` (paths of
        ``fixed_points.nc``, ``fixed_points.png``, ``eigenvalues.png``,
        ``phase_portrait.png``, ``attractors.nc``, ``lyapunov.nc``), ``attractors``
        (basin fraction per kind of attractor), ``lyapunov`` (the top exponents, per
        time unit), ``conditions``, ``n_candidates``, ``kind`` and ``elapsed_s``.

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
    extra = _dynamics_summary(
        model,
        ds,
        fps,
        x0,
        inputs[0],
        names[0],
        run_dir,
        files,
        seed,
        n_attractor_inits,
        n_lyapunov,
        progress,
    )
    return {
        **extra,
        "counts": fps.summary(),
        "n_fixed_points": int(np.sum(fps.status == "root")),
        "n_slow_points": int(np.sum(fps.status == "slow")),
        "files": files,
        "conditions": names,
        "n_candidates": len(x0),
        "kind": fps.kind,
        "elapsed_s": fps.info["elapsed_s"],
    }


def _dynamics_summary(
    model, ds, fps, x0, u, condition, run_dir, files, seed, n_inits, n_lyapunov, progress
):
    """Projected portrait, attractors and top Lyapunov exponents at one input."""
    from ..dynamics import dynamics as as_dynamics
    from ..io.datasets import save_dataset
    from ..plotting import save_figure
    from .attractors import classify_attractors
    from .lyapunov import lyapunov_spectrum
    from .phase_portraits import plot_projected_portrait

    dyn = as_dynamics(model)
    at_u = np.all(fps.inputs == u, axis=1)
    color_by = next((c for c in ("context", "coherence") if c in ds.coords), None)
    ax = plot_projected_portrait(dyn, ds, inputs=u, fixed_points=fps[at_u], color_by=color_by)
    ax.set_title(f"{ax.get_title()} ({condition})")
    files["phase_portrait"] = save_figure(ax.figure, run_dir / "phase_portrait.png")

    # Long enough to settle: 100 time constants of the slowest unit (ODEs), or 500 steps.
    tau = float(np.max(getattr(dyn, "tau", [dyn.dt])))
    n_steps = int(np.clip(100 * tau / dyn.dt, 200, 2000)) if dyn.kind == "ode" else 500
    starts = x0[: max(1, min(n_inits, len(x0)))]
    att = classify_attractors(
        dyn, starts, u, n_steps=n_steps, lyapunov_steps=n_steps, seed=seed, progress=progress
    )
    att_ds = att.to_xarray()
    att_ds.attrs["condition"] = condition
    files["attractors"] = save_dataset(att_ds, run_dir / "attractors.nc")
    out = {"attractors": att.summary(), "lyapunov": []}
    k = min(int(n_lyapunov), dyn.n_state)
    if k > 0:
        ok = np.flatnonzero(att.label != "diverged")
        ends = att.final_state[ok[:4]] if len(ok) else starts[:1]
        le = lyapunov_spectrum(
            dyn,
            ends,
            u,
            k=k,
            n_steps=2 * n_steps,
            transient=n_steps // 2,
            seed=seed,
            progress=progress,
        )
        le_ds = le.to_xarray()
        le_ds.attrs["condition"] = condition
        files["lyapunov"] = save_dataset(le_ds, run_dir / "lyapunov.nc")
        out["lyapunov"] = [float(v) for v in le.exponents]
        out["lyapunov_unit"] = f"1/{le.time_unit}"
    return out
