"""Run folders of many seeds, trained together as one ensemble (``neurodyn train --seeds``).

:func:`train_ensemble_runs` builds one rate network per seed exactly as
:func:`~neurodyn.run_folders.train_run` builds it, trains them together as a
:class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble` (each on its own seed's batches,
noise and validation set, stopping on its own criteria; :func:`neurodyn.fit`), and writes
one run folder per seed holding what ``train_run`` with that seed writes: the same
files, the same config, and each network's checkpoint in the lone format, which is
also what an interrupted ensemble resumes from.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import threads as _threads
from ._validation import check_int
from ._version import __version__
from .devices import resolve_device
from .rnn_models import build_model
from .rnn_models.rate_ensemble import RateEnsemble
from .run_folders import (
    RunResult,
    prepare_run_dir,
    run_fit_settings,
    write_run_config,
    write_run_outputs,
)
from .seeding import resolve_seed
from .tasks import make_task
from .train import fit
from .train.resources import estimate_training_memory_for_size

__all__ = ["parse_seeds", "train_ensemble_runs"]

logger = logging.getLogger(__name__)


def parse_seeds(text: str) -> list[int]:
    """Seeds from ranges and lists: ``"0-15"``, ``"0,3,7"``, ``"0-3,8,10-12"``.

    Parameters
    ----------
    text : str
        Comma-separated non-negative integers and inclusive ranges ``low-high``
        (what ``neurodyn train --seeds`` takes).

    Returns
    -------
    list of int
        The seeds in the order given.

    Raises
    ------
    ValueError
        For anything else, a range with ``low > high``, or a seed named twice.

    Examples
    --------
    >>> parse_seeds("0-3,8,10-11")
    [0, 1, 2, 3, 8, 10, 11]
    """
    seeds: list[int] = []
    for part in str(text).split(","):
        low, sep, high = part.strip().partition("-")
        try:
            first = int(low)
            last = int(high) if sep else first
        except ValueError:
            raise ValueError(
                f"seeds: expected ranges and lists of non-negative integers such as 0-15 or "
                f"0,3,7, got {text!r}"
            ) from None
        if first < 0 or last < first:
            raise ValueError(
                f"seeds: {part.strip()!r} is not a range low-high with 0 <= low <= high"
            )
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: {text!r} names a seed twice")
    return seeds


def train_ensemble_runs(
    run_dirs,
    seeds,
    *,
    task: str = "flip_flop",
    task_config: dict | None = None,
    model: str = "rate",
    model_config: dict | Sequence[dict] | None = None,
    fit_config: dict | None = None,
    n_eval_trials: int = 64,
    force: bool = False,
    resume: bool = False,
    device="auto",
    threads: int | None = None,
    progress: bool = True,
) -> list[RunResult]:
    """Train one rate network per seed as one ensemble and write each one's run folder.

    The arguments are those of :func:`~neurodyn.run_folders.train_run`, with a folder
    and a seed per network. Every setting is checked, and the memory of the whole
    ensemble compared with what the device has, before anything is written. With
    ``resume``, folders that hold a finished run are left as they are and the others
    continue from their checkpoints (networks still training must be at one step).

    Parameters
    ----------
    run_dirs : sequence of path
        One output folder per seed.
    seeds : sequence of int
        One seed per network: its initialisation, training data, noise and evaluation.
    task : str
        Task registry name (see :func:`neurodyn.tasks.make_task`); one task for all.
    task_config : dict, optional
        The task's constructor arguments.
    model : str
        Must be ``"rate"``: only rate networks train together.
    model_config : dict or sequence of dict
        The rate network's options: one dict for every network, or one per network
        (they may differ in what a RateEnsemble's networks may differ in: ``tau``,
        noise, spectral radius, E/I fraction...; see
        :data:`~neurodyn.rnn_models.rate_ensemble.SHARED`). ``n_hidden`` must be the
        same for all.
    fit_config : dict, optional
        Keyword arguments of :func:`neurodyn.fit`, the same for every network (not
        ``seed``, ``checkpoint``, ``resume``, ``device`` or ``threads``).
    n_eval_trials : int
        Trials simulated for each folder's ``evaluation.nc``.
    force : bool
        Overwrite folders that hold finished runs.
    resume : bool
        Skip finished folders and continue the others from their checkpoints.
    device : str or torch.device
        Where training and evaluation run (``"auto"``: a GPU when present).
    threads : int, optional
        CPU threads (default: :mod:`neurodyn.threads`' policy).
    progress : bool or {"auto", "never", "always"}
        Show training's progress bar (:mod:`neurodyn.progress`).

    Returns
    -------
    list of RunResult
        One per folder trained now (finished folders skipped on resume), in order. A
        network that diverged has no ``model.npz`` (its checkpoint holds its last good
        weights, as a lone run's would) and its ``message`` says so.

    Examples
    --------
    Two seeds, trained together for two steps, each into its own folder:

    >>> import json
    >>> results = train_ensemble_runs(
    ...     ["runs/seed=0", "runs/seed=1"], [0, 1], model_config={"n_hidden": 8},
    ...     fit_config={"n_steps": 2, "batch_size": 4, "n_validation": 4},
    ...     n_eval_trials=2, device="cpu", progress=False)
    >>> [(r.run_dir.name, r.steps) for r in results]
    [('seed=0', 2), ('seed=1', 2)]
    >>> json.loads((results[1].run_dir / "config.json").read_text())["seed"]
    1
    >>> all(r.files["model"].is_file() for r in results)
    True
    """
    run_dirs, seeds = [Path(d) for d in run_dirs], [resolve_seed(s) for s in seeds]
    if len(run_dirs) != len(seeds) or not seeds:
        raise ValueError(
            f"give one run folder per seed: {len(run_dirs)} folders, {len(seeds)} seeds"
        )
    if model != "rate":
        raise ValueError(
            f"an ensemble trains rate networks together (model 'rate'); train model "
            f"{model!r} one seed at a time"
        )
    check_int("n_eval_trials", n_eval_trials)
    dev = resolve_device(device)
    _threads.check_threads(threads)
    task_obj = make_task(task, **(task_config or {}))
    fit_kwargs, settings = run_fit_settings(fit_config, progress, "train_ensemble_runs")
    options = _per_network(model_config, len(seeds))
    n_hidden = check_int("n_hidden", options[0].get("n_hidden", 64))

    def build(h, i):
        kwargs = {"dt": task_obj.dt, "seed": seeds[i], **options[i]}
        kwargs.pop("n_hidden", None)
        return build_model(model, task_obj.n_inputs, h, task_obj.n_outputs, **kwargs)

    _check_memory(lambda h: build(h, 0), n_hidden, len(seeds), task_obj, settings, dev)
    todo = [i for i, d in enumerate(run_dirs) if not (resume and (d / "model.npz").exists())]
    if not todo:
        return []
    nets = [build(n_hidden, i) for i in todo]
    ensemble = RateEnsemble(nets)  # networks that cannot train together: before any write
    configs = [
        _config(seeds[i], task_obj, model, net, fit_kwargs)
        for i, net in zip(todo, nets, strict=True)
    ]
    dirs = [prepare_run_dir(run_dirs[i], force=force, resume=resume) for i in todo]
    for run_dir, config in zip(dirs, configs, strict=True):
        write_run_config(run_dir, config, resume=resume)
    result = fit(
        ensemble,
        task_obj,
        seed=[seeds[i] for i in todo],
        checkpoint=[d / "checkpoint.pt" for d in dirs],
        resume=resume,
        device=dev,
        threads=threads,
        **fit_kwargs,
    )
    return [
        _finish(run_dir, fitted, task_obj, config, n_eval_trials, threads)
        for run_dir, fitted, config in zip(dirs, result.networks, configs, strict=True)
    ]


def _per_network(model_config, n: int) -> list[dict]:
    """One options dict per network, all with the same ``n_hidden``."""
    if model_config is None or isinstance(model_config, Mapping):
        return [dict(model_config or {}) for _ in range(n)]
    options = [dict(c) for c in model_config]
    if len(options) != n:
        raise ValueError(f"model_config holds {len(options)} configs for {n} seeds")
    sizes = {c.get("n_hidden", 64) for c in options}
    if len(sizes) > 1:
        raise ValueError(f"the networks of an ensemble share n_hidden; got {sorted(sizes)}")
    return options


def _config(seed: int, task_obj, model: str, net, fit_kwargs: dict) -> dict:
    """``config.json`` of one network's folder, as ``train_run`` writes it."""
    return {
        "neurodyn_version": __version__,
        "seed": seed,
        "task": {"name": task_obj.name, "config": task_obj.config()},
        "model": {"name": model, "kind": net.kind, "config": net.config()},
        "fit": {k: v for k, v in fit_kwargs.items() if k != "progress"},
    }


def _finish(run_dir: Path, fitted, task_obj, config: dict, n_eval_trials, threads) -> RunResult:
    """Write the rest of one network's folder as ``train_run`` does after training."""
    files = {"config": run_dir / "config.json", "checkpoint": run_dir / "checkpoint.pt"}
    res = RunResult(run_dir=run_dir, files=files, steps=fitted.steps, success=fitted.success,
                    message=fitted.message, fit=fitted)  # fmt: skip
    if fitted.diverged:
        # As a lone run that diverged leaves it: its config and its checkpoint.
        logger.warning("seed %d: %s", config["seed"], fitted.message)
        return res
    last = fitted.history[-1] if fitted.history else {}
    res.val_loss = float(last.get("val_loss", float("nan")))
    res.val_accuracy = float(last.get("val_accuracy", float("nan")))
    files.update(write_run_outputs(run_dir, fitted.model, fitted, task_obj, config,
                                   n_eval_trials=n_eval_trials, threads=threads))  # fmt: skip
    return res


def _check_memory(build, n_hidden, n_networks, task, settings, device) -> None:
    """Refuse an ensemble whose training would not fit in memory, before it is built:
    K networks need K times what one needs (weights, batches, activations, validation)."""
    n_time = task.batch(4, seed=np.random.default_rng(0)).n_steps
    one = estimate_training_memory_for_size(
        build,
        n_hidden,
        batch_size=settings["batch_size"],
        n_time=n_time,
        n_validation=settings["n_validation"],
        device=device,
    )
    k = n_networks
    dataclasses.replace(
        one,
        weights=k * one.weights,
        data=k * one.data,
        activations=k * one.activations,
        validation=k * one.validation,
    ).check()
