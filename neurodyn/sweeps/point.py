"""One run of a sweep, as a worker runs it: train, simulate, analyse, summarise.

The run goes through the same code as ``neurodyn train`` + ``neurodyn analyze``
(:func:`~neurodyn.run_folders.train_run`, :func:`~neurodyn.analysis.analyze_run`) into
its own run folder, and ends by writing ``summary.json`` there, atomically: its
presence (with ``status`` ``"done"``) marks the run finished. Everything before it can
be repeated: a run folder whose training was interrupted resumes from its checkpoint
(fit's exact-resume guarantee), one whose training finished goes on with the
analyses. So a worker that dies mid-run loses nothing when the scheduler gives the run
to another worker, and the numbers are those of an uninterrupted run.

A run that raises is summarised with ``status`` ``"failed"`` and the error, and
started again the next time the sweep runs.

:func:`run_pack` trains several fresh runs of rate networks together as one ensemble
(:mod:`neurodyn.sweeps.packs`; :func:`~neurodyn.ensemble_runs.train_ensemble_runs`
writes each run's folder as ``train_run`` does), then finishes each as
:func:`run_point` does.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
import traceback
from pathlib import Path

import numpy as np

from ..analysis.analyze_run import analyze_run
from ..analysis.timescales import network_timescales
from ..ensemble_runs import train_ensemble_runs
from ..io.atomic import atomic_write_json
from ..io.models import load_model
from ..run_folders import train_run
from ..threads import limit

__all__ = ["SUMMARY", "read_summary", "run_pack", "run_point"]

logger = logging.getLogger(__name__)

#: The file that marks a finished (or failed) run.
SUMMARY = "summary.json"


def read_summary(run_dir: Path) -> dict | None:
    """The run's summary, or None while it has none.

    Parameters
    ----------
    run_dir : path-like
        The run folder.

    Returns
    -------
    dict or None
        The contents of ``run_dir/summary.json``: ``status``, ``error``, the metrics and
        ``seconds``.

    Examples
    --------
    >>> from pathlib import Path
    >>> print(read_summary("runs/seed=0"))
    None
    >>> Path("runs/seed=0").mkdir(parents=True)
    >>> _ = Path("runs/seed=0/summary.json").write_text('{"status": "done", "error": ""}')
    >>> read_summary("runs/seed=0")["status"]
    'done'
    """
    path = Path(run_dir) / SUMMARY
    if not path.is_file():
        return None
    return json.loads(path.read_text("utf-8"))


def run_point(
    run_dir: str, run: dict, analyses: dict, threads: int, device="cpu", trained_seconds=0.0
) -> dict:
    """Train, simulate and analyse one point in ``run_dir``; return and write its summary.

    Parameters
    ----------
    run_dir : str
        The run folder.
    run : dict
        The resolved run (:class:`~neurodyn.sweeps.spec.Point`'s ``run``).
    analyses : dict
        Analysis name → options (:data:`~neurodyn.sweeps.spec.ANALYSES`).
    threads : int
        CPU threads for everything the run computes (the sweep's share of the cores).
    device : str
        Where training runs.
    trained_seconds : float
        Seconds of training done before this call (a run of a pack: its share of the
        pack's), added to ``seconds``.

    Returns
    -------
    dict
        ``status`` (``"done"`` or ``"failed"``), ``error`` (``""`` when done), the
        metrics (``metrics``) and ``seconds`` (wall time of this attempt).

    Examples
    --------
    A run that raises is summarised, not propagated, so that a sweep's other runs go
    on (here a training setting that only the run itself checks):

    >>> from neurodyn.sweeps import load_spec
    >>> point = load_spec({"model_config": {"n_hidden": 8}}).points[0]
    >>> run = {**point.run, "fit": {"n_steps": 0}}
    >>> summary = run_point("runs/base", run, {}, threads=1)
    >>> summary["status"], summary["error"]
    ('failed', 'ValueError: n_steps must be an integer >= 1, got 0')
    >>> read_summary("runs/base")["status"]
    'failed'
    """
    run_dir = Path(run_dir)
    done = read_summary(run_dir)
    if done is not None and done["status"] == "done":
        return done
    start = time.perf_counter()
    try:
        with limit(threads, what="sweep run"):
            _train(run_dir, run, threads, device)
            summary = {"status": "done", "error": "", **metrics(run_dir, run, analyses, threads)}
    except Exception as err:  # recorded, so that the sweep's other runs go on
        logger.error("run %s failed:\n%s", run_dir.name, traceback.format_exc())
        summary = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    summary["seconds"] = round(trained_seconds + time.perf_counter() - start, 3)
    atomic_write_json(run_dir / SUMMARY, summary, indent=1)
    return summary


def run_pack(
    run_dirs: list[str], runs: list[dict], analyses: dict, threads: int, device="cpu"
) -> list[dict]:
    """Train fresh points together as one ensemble, then finish each as :func:`run_point`.

    Parameters
    ----------
    run_dirs, runs : list
        The points' run folders and resolved runs (:func:`~neurodyn.sweeps.packs.pack_points`
        packs only runs that can train together).
    analyses, threads, device
        As for :func:`run_point`.

    Returns
    -------
    list of dict
        Each point's summary. A network that diverged is summarised as its run alone
        would be (failed, with the TrainingDiverged message); if the training fails as a
        whole, every point is summarised failed with the error.

    Examples
    --------
    Two seeds of the same run, packed; a training setting the ensemble refuses makes
    both fail, each with the error:

    >>> from neurodyn.sweeps import load_spec
    >>> spec = load_spec({"model_config": {"n_hidden": 8}, "grid": {"seed": [0, 1]}})
    >>> runs = [{**p.run, "fit": {"n_steps": 0}} for p in spec.points]
    >>> summaries = run_pack(["runs/seed=0", "runs/seed=1"], runs, {}, threads=1)
    >>> [s["status"] for s in summaries], summaries[0]["error"]
    (['failed', 'failed'], 'ValueError: n_steps must be an integer >= 1, got 0')
    """
    dirs = [Path(d) for d in run_dirs]
    start = time.perf_counter()
    try:
        with limit(threads, what="sweep run"):
            trained = _train_pack(dirs, runs, threads, device)
    except Exception as err:  # recorded, so that the sweep's other runs go on
        logger.error("pack of %s failed:\n%s", dirs[0].name, traceback.format_exc())
        failure = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
        failure["seconds"] = round((time.perf_counter() - start) / len(dirs), 3)
        for d in dirs:
            atomic_write_json(d / SUMMARY, failure, indent=1)
        return [failure] * len(dirs)
    share = (time.perf_counter() - start) / len(dirs)
    summaries = []
    for d, run in zip(dirs, runs, strict=True):
        res = trained.get(d)
        if res is not None and res.fit.diverged:
            summary = {"status": "failed", "error": f"TrainingDiverged: {res.message}"}
            summary["seconds"] = round(share, 3)
            atomic_write_json(d / SUMMARY, summary, indent=1)
        else:
            summary = run_point(str(d), run, analyses, threads, device, trained_seconds=share)
        summaries.append(summary)
    return summaries


def _train_pack(dirs: list[Path], runs: list[dict], threads: int, device) -> dict:
    """Train the pack's runs as one ensemble into their folders; run folder → RunResult."""
    first = runs[0]
    results = train_ensemble_runs(
        dirs,
        [run["seed"] for run in runs],
        task=first["task"],
        task_config=first["task_config"],
        model=first["model"],
        model_config=[run["model_config"] for run in runs],
        fit_config=first["fit"],
        n_eval_trials=first["n_eval_trials"],
        resume=True,
        device=device,
        threads=threads,
        progress=False,
    )
    return {res.run_dir: res for res in results}


def _train(run_dir: Path, run: dict, threads: int, device) -> None:
    """Train the run into ``run_dir``, resuming an interrupted training; nothing if done."""
    if (run_dir / "model.npz").is_file():
        return
    train_run(
        run_dir,
        task=run["task"],
        task_config=run["task_config"],
        model=run["model"],
        model_config=run["model_config"],
        fit_config=run["fit"],
        n_eval_trials=run["n_eval_trials"],
        seed=run["seed"],
        resume=(run_dir / "config.json").exists(),
        device=device,
        threads=threads,
        progress=False,
    )


def metrics(run_dir: Path, run: dict, analyses: dict, threads: int) -> dict:
    """Every scalar the sweep gathers for a trained run (training, then each analysis).

    Training numbers come from ``training_log.csv``, so they are the same whether the
    training ran now or in an earlier attempt.
    """
    out = _training_metrics(run_dir)
    t0 = time.perf_counter()
    if analyses.keys() & {"fixed_points", "attractors", "lyapunov"}:
        out.update(_dynamics_metrics(run_dir, run, analyses, threads))
    if "timescales" in analyses:
        out.update(_timescale_metrics(run_dir, run, analyses["timescales"], threads))
    out["analysis_seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _training_metrics(run_dir: Path) -> dict:
    with open(run_dir / "training_log.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    last = rows[-1] if rows else {}

    def number(key):
        value = last.get(key, "")
        return float(value) if value not in ("", None) else math.nan

    return {
        "steps": int(number("step")) if rows else 0,
        "train_loss": number("train_loss"),
        "val_loss": number("val_loss"),
        "val_accuracy": number("val_accuracy"),
    }


def _dynamics_metrics(run_dir: Path, run: dict, analyses: dict, threads: int) -> dict:
    """Fixed-point counts per stability class, basin fractions and the largest exponent."""
    fp = analyses.get("fixed_points")
    res = analyze_run(
        run_dir,
        inputs=fp["inputs"] if fp else "auto",
        n_inits=fp["n_inits"] if fp else analyses["attractors"]["n_inits"],
        noise_scale=fp["noise_scale"] if fp else 0.5,
        seed=run["seed"],
        n_attractor_inits=analyses["attractors"]["n_inits"] if "attractors" in analyses else 0,
        n_lyapunov=analyses["lyapunov"]["n_exponents"] if "lyapunov" in analyses else 0,
        fixed_points=fp is not None,
        progress=False,
        threads=threads,
    )
    out = {}
    if fp is not None:
        out["n_fixed_points"] = res["n_fixed_points"]
        out["n_slow_points"] = res["n_slow_points"]
        for label, n in res["counts"].items():
            if label not in ("slow", "failed"):
                out[f"n_{label}"] = int(n)
        out["n_failed_candidates"] = int(res["counts"].get("failed", 0))
    if res["attractors"]:
        # Each condition's basin fractions sum to 1; the sweep reports their mean.
        kinds = sorted({k for fractions in res["attractors"].values() for k in fractions})
        for kind in kinds:
            values = [f.get(kind, 0.0) for f in res["attractors"].values()]
            out[f"basin_{kind}"] = float(np.mean(values))
    if res["lyapunov"]:
        out["max_lyapunov"] = max(max(v) for v in res["lyapunov"].values())
    return out


def _timescale_metrics(run_dir: Path, run: dict, options: dict, threads: int) -> dict:
    """Network timescales (autocorrelation fits) of the trained network, in its time unit."""
    model = load_model(run_dir / "model.npz")
    nt = network_timescales(
        model,
        n_trials=options["n_trials"],
        n_steps=options["n_steps"],
        seed=run["seed"],
        threads=threads,
    )
    tau = np.asarray(nt.fit.tau_net, dtype=float)
    return {
        "tau_net_median": float(np.nanmedian(tau)) if np.isfinite(tau).any() else math.nan,
        "tau_net_population": float(np.asarray(nt.population_fit.tau_net).reshape(-1)[0]),
        "tau_net_unfitted": int(np.sum(~np.isfinite(tau))),
    }
