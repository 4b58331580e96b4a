"""Packing a sweep's small runs onto a worker: rate networks trained together as one ensemble.

Points whose runs differ only in the seed and in what the networks of a
:class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble` may differ in (τ, noise,
spectral radius, E/I fraction...; the same task, training settings, evaluation and the
shared settings :data:`~neurodyn.rnn_models.rate_ensemble.SHARED`) train as one
ensemble on one worker (:func:`~neurodyn.sweeps.point.run_pack`). Every network trains
exactly as its run would alone, and its folder is the one its run writes alone, so a
sweep's numbers do not depend on how its runs were packed.

Only fresh runs are packed: a run folder that holds a checkpoint (an interrupted run,
packed or not) resumes alone from it. The packs are as large as keeps every worker
busy: a group of R runs on W workers goes out in packs of ⌈R / W⌉ runs, at most
``max_pack``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..rnn_models.rate_ensemble import SHARED
from .spec import Point

__all__ = ["MAX_PACK", "pack_points"]

#: Most runs trained together on one worker.
MAX_PACK = 16


def pack_points(points, runs_dir: Path, *, slots: int, max_pack: int = MAX_PACK) -> list[list]:
    """The points as jobs: lists of points to train together (one point: alone).

    Parameters
    ----------
    points : sequence of Point
        The points to run, in order.
    runs_dir : Path
        The folder of their run folders (a folder holding a checkpoint is not fresh).
    slots : int
        Workers that take jobs at once.
    max_pack : int
        Most points in a job (1 packs nothing).

    Examples
    --------
    >>> base = {"task": "flip_flop", "task_config": {}, "model": "rate", "fit": {},
    ...         "model_config": {"n_hidden": 8}, "n_eval_trials": 8}
    >>> pts = [Point(f"seed={s}", {"seed": s}, {**base, "seed": s}) for s in range(5)]
    >>> [len(job) for job in pack_points(pts, Path("/nonexistent"), slots=2)]
    [3, 2]
    """
    groups: dict[str, list[Point]] = {}
    jobs: list[list[Point]] = []
    for p in points:
        key = _group(p, runs_dir)
        if key is None:
            jobs.append([p])
        else:
            groups.setdefault(key, []).append(p)
    for group in groups.values():
        size = max(1, min(max_pack, math.ceil(len(group) / max(slots, 1))))
        jobs.extend(group[i : i + size] for i in range(0, len(group), size))
    return jobs


def _group(point: Point, runs_dir: Path) -> str | None:
    """What a point shares with the points it may train with, or None to run it alone."""
    run = point.run
    folder = runs_dir / point.name
    if run["model"] != "rate" or (folder / "checkpoint.pt").exists():
        return None
    if (folder / "model.npz").exists():
        return None
    shared = {k: v for k, v in run["model_config"].items() if k in (*SHARED, "n_hidden")}
    key = {k: v for k, v in run.items() if k not in ("seed", "model_config")}
    return json.dumps({**key, "shared": shared}, sort_keys=True, default=str)
