"""Run folders: train a model on a task and write everything a user needs to look at.

A run folder holds::

    config.json         task, model, training settings, seed, neurodyn version
    model.npz           the trained model (``neurodyn.load_model``)
    checkpoint.pt       the training checkpoint (``--resume`` continues from it)
    training_log.csv    one row per validation
    evaluation.nc       ``neurodyn.simulate`` on fresh trials, as netCDF
    trials.png          inputs, targets and outputs of a few trials
    training_curve.png  losses during training

``model.npz`` is written last, so its presence marks a finished run; a finished
run folder is never overwritten unless ``force=True``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import threads as _threads
from ._validation import check_int
from ._version import __version__
from .devices import resolve_device
from .io.atomic import atomic_write_json, atomic_write_text
from .io.datasets import save_dataset
from .io.models import save_model
from .rnn_models import build_model
from .seeding import resolve_seed
from .simulation import simulate
from .tasks import make_task
from .train import check_fit_config, fit
from .train.resources import estimate_training_memory_for_size

__all__ = ["RunResult", "prepare_run_dir", "train_run"]

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """Paths and headline numbers of a finished run.

    Returned by :func:`train_run` and, one per network, by
    :func:`~neurodyn.ensemble_runs.train_ensemble_runs`.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    files : dict of str to Path
        What was written: ``config``, ``checkpoint``, ``training_log``,
        ``evaluation``, ``trials_figure``, ``training_figure`` and ``model``.
    val_loss : float
        Validation loss at the last validation (NaN if there was none).
    val_accuracy : float
        Validation accuracy at the last validation (NaN for tasks without one).
    steps : int
        Training steps taken.
    success : bool
        Whether the last training stage's stopping criteria (``target_loss``...) were
        met, rather than training stopping at ``n_steps``.
    message : str
        Why training stopped.
    fit : FitResult or None
        The full result of :func:`neurodyn.fit` (model, history, stages).

    Examples
    --------
    >>> res = train_run("runs/ff", model_config={"n_hidden": 8},
    ...                 fit_config={"n_steps": 2, "batch_size": 4, "n_validation": 4},
    ...                 n_eval_trials=2, device="cpu", progress=False)
    >>> res.run_dir.name, res.steps, res.success, res.message
    ('ff', 2, False, 'reached n_steps=2')
    >>> bool(res.val_loss > 0), res.files["model"].name
    (True, 'model.npz')
    """

    run_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    steps: int = 0
    success: bool = False
    message: str = ""
    fit: Any = None


def prepare_run_dir(run_dir, *, force: bool = False, resume: bool = False) -> Path:
    """Create ``run_dir``, refusing to clobber an existing run.

    Parameters
    ----------
    run_dir : path-like
        The run folder; created with its parents.
    force : bool
        Start over: delete the files of a run already there (other files are kept).
    resume : bool
        Accept a folder holding an unfinished run (``checkpoint.pt`` or
        ``config.json`` without ``model.npz``), to continue it.

    Returns
    -------
    Path
        ``run_dir``.

    Raises
    ------
    ValueError
        If the folder holds a finished run (and not ``force``), or an unfinished one
        (and neither ``resume`` nor ``force``), or if both ``force`` and ``resume``
        are given.

    Examples
    --------
    >>> run_dir = prepare_run_dir("runs/ff")
    >>> _ = (run_dir / "model.npz").write_bytes(b"")  # as a finished run leaves it
    >>> try:
    ...     prepare_run_dir("runs/ff")
    ... except ValueError as err:
    ...     print(err)
    'runs/ff' already holds a finished run (model.npz); choose another output folder or pass --force to overwrite it
    >>> prepare_run_dir("runs/ff", force=True) == run_dir, (run_dir / "model.npz").exists()
    (True, False)
    """
    run_dir = Path(run_dir)
    if force and resume:
        raise ValueError("choose either force (start over) or resume (continue), not both")
    finished = (run_dir / "model.npz").exists()
    started = (run_dir / "checkpoint.pt").exists() or (run_dir / "config.json").exists()
    if force and run_dir.exists():
        for name in (
            "model.npz",
            "checkpoint.pt",
            "config.json",
            "training_log.csv",
            "evaluation.nc",
            "trials.png",
            "training_curve.png",
        ):
            (run_dir / name).unlink(missing_ok=True)
    elif finished:
        raise ValueError(
            f"{str(run_dir)!r} already holds a finished run (model.npz); "
            "choose another output folder or pass --force to overwrite it"
        )
    elif started and not resume:
        raise ValueError(
            f"{str(run_dir)!r} holds an unfinished run; pass --resume to continue it "
            "or --force to start over"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _write_log(path: Path, history: list[dict]) -> None:
    keys = ["step", "stage", *sorted({k for r in history for k in r} - {"step", "stage"})]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(path, buf.getvalue())


def run_fit_settings(fit_config: dict | None, progress, caller: str) -> tuple[dict, dict]:
    """``fit``'s keyword arguments for a run folder, and their checked settings.

    Raises
    ------
    ValueError
        When ``fit_config`` sets what the run itself decides (device, threads, seed,
        checkpoint, resume), naming ``caller``, which takes it instead.
    """
    fit_kwargs = {"progress": progress, **(fit_config or {})}
    for key in ("device", "threads", "seed", "checkpoint", "resume"):
        if key in fit_kwargs:
            raise ValueError(f"fit_config must not set {key!r}; pass it to {caller}")
    return fit_kwargs, check_fit_config(fit_kwargs)


def write_run_config(run_dir: Path, config: dict, *, resume: bool) -> Path:
    """Write ``config.json``; on ``resume``, first check that the task and model settings
    are those already stored there.

    Raises
    ------
    ValueError
        On ``resume``, when the stored task or model settings differ.
    """
    path = Path(run_dir) / "config.json"
    if resume and path.exists():
        stored = json.loads(path.read_text())
        if stored["task"] != config["task"] or stored["model"] != config["model"]:
            raise ValueError(
                f"--resume: the task or model settings differ from those stored in {path}"
            )
    atomic_write_json(path, config, indent=2)
    return path


def write_run_outputs(run_dir: Path, net, result, task, config: dict, *, n_eval_trials: int,
                      threads=None) -> dict:  # fmt: skip
    """Write what a run folder holds after training: the training log, the evaluation
    dataset (``n_eval_trials`` trials simulated with ``config["seed"]``), its figures and
    the model file.

    Returns
    -------
    dict
        File key → path written.
    """
    from . import plotting  # matplotlib only when a run is written

    run_dir = Path(run_dir)
    files = {"training_log": run_dir / "training_log.csv"}
    _write_log(files["training_log"], result.history)
    ds = simulate(net, task, n_trials=n_eval_trials, seed=config["seed"], threads=threads)
    files["evaluation"] = save_dataset(ds, run_dir / "evaluation.nc")
    files["trials_figure"] = plotting.save_figure(plotting.plot_trials(ds), run_dir / "trials.png")
    fig_curve = plotting.plot_training_curve(result).figure
    files["training_figure"] = plotting.save_figure(fig_curve, run_dir / "training_curve.png")
    files["model"] = save_model(net, run_dir / "model.npz", extra={"task": config["task"]})
    return files


def train_run(
    run_dir,
    *,
    task: str = "flip_flop",
    task_config: dict | None = None,
    model: str = "rate",
    model_config: dict | None = None,
    fit_config: dict | None = None,
    n_eval_trials: int = 64,
    seed: int = 0,
    force: bool = False,
    resume: bool = False,
    device="auto",
    threads: int | None = None,
    progress: bool = True,
) -> RunResult:
    """Train ``model`` on ``task`` and write a complete run folder.

    Every setting is checked, and the memory training needs is compared with what
    the device has, before the folder is created or anything is written.

    Parameters
    ----------
    run_dir : path
        Output folder (see the module docstring for its contents).
    task, task_config : str, dict
        Task registry name and constructor arguments (``"neurogym:<id>"`` with the
        environment's arguments and the adapter's options for a NeuroGym environment;
        see :func:`neurodyn.tasks.make_task`). ``config.json`` stores the task's name and
        :meth:`~neurodyn.tasks.Task.config`, which rebuild it.
    model, model_config : str, dict
        Model registry name (``rate``, ``rnn``, ``gru``, ``lstm``) and keyword
        arguments; sizes and ``dt`` are taken from the task unless given.
    fit_config : dict
        Keyword arguments of :func:`neurodyn.fit`.
    n_eval_trials : int
        Trials simulated for ``evaluation.nc``.
    seed : int
        Seeds the model initialisation, training data and evaluation.
    force, resume : bool
        Overwrite a finished run / continue an interrupted one.
    device : str or torch.device
        Where training and evaluation run (``"auto"``: a GPU when present).
    threads : int, optional
        CPU threads (default: :mod:`neurodyn.threads`' policy).
    progress : bool or {"auto", "never", "always"}
        Show training's progress bar (:mod:`neurodyn.progress`).

    Returns
    -------
    RunResult

    Examples
    --------
    A tiny run (two training steps) writes the whole folder; ``neurodyn.load_model``
    reads the network back:

    >>> from neurodyn import load_model
    >>> res = train_run("runs/ff", task="flip_flop", model="rate",
    ...                 model_config={"n_hidden": 8},
    ...                 fit_config={"n_steps": 2, "batch_size": 4, "n_validation": 4},
    ...                 n_eval_trials=2, seed=0, device="cpu", progress=False)
    >>> sorted(p.name for p in res.run_dir.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['checkpoint.pt', 'config.json', 'evaluation.nc', 'model.npz', 'training_curve.png',
     'training_log.csv', 'trials.png']
    >>> load_model(res.files["model"]).n_hidden
    8
    """
    seed = resolve_seed(seed)
    n_eval_trials = check_int("n_eval_trials", n_eval_trials)
    dev = resolve_device(device)
    _threads.check_threads(threads)
    task_obj = make_task(task, **(task_config or {}))
    fit_kwargs, settings = run_fit_settings(fit_config, progress, "train_run")
    model_kwargs = {"dt": task_obj.dt, "seed": seed, **(model_config or {})}
    n_hidden = check_int("n_hidden", model_kwargs.pop("n_hidden", 64))

    def build(h):
        return build_model(model, task_obj.n_inputs, h, task_obj.n_outputs, **model_kwargs)

    _check_memory(build, n_hidden, task_obj, settings, dev)
    net = build(n_hidden)
    config = {
        "neurodyn_version": __version__,
        "seed": seed,
        "task": {"name": task_obj.name, "config": task_obj.config()},
        "model": {"name": model, "kind": net.kind, "config": net.config()},
        "fit": {k: v for k, v in fit_kwargs.items() if k != "progress"},
    }
    run_dir = prepare_run_dir(run_dir, force=force, resume=resume)
    files = {"config": write_run_config(run_dir, config, resume=resume)}

    files["checkpoint"] = run_dir / "checkpoint.pt"
    result = fit(
        net,
        task_obj,
        seed=seed,
        checkpoint=files["checkpoint"],
        resume=resume,
        device=dev,
        threads=threads,
        **fit_kwargs,
    )

    files.update(write_run_outputs(run_dir, net, result, task_obj, config,
                                   n_eval_trials=n_eval_trials, threads=threads))  # fmt: skip
    last = result.history[-1] if result.history else {}
    return RunResult(
        run_dir=run_dir,
        files=files,
        val_loss=float(last.get("val_loss", float("nan"))),
        val_accuracy=float(last.get("val_accuracy", float("nan"))),
        steps=result.steps,
        success=result.success,
        message=result.message,
        fit=result,
    )


def _check_memory(build, n_hidden, task, settings, device) -> None:
    """Refuse sizes whose training would not fit in memory, before the model is built.

    The estimate extrapolates from the model built at small sizes
    (:func:`~neurodyn.train.resources.estimate_training_memory_for_size`); a model
    that cannot be built at those sizes is left to its own checks at the real size,
    and :func:`~neurodyn.train.fit` checks its memory again.
    """
    n_time = task.batch(4, seed=np.random.default_rng(0)).n_steps
    try:
        estimate = estimate_training_memory_for_size(
            build,
            n_hidden,
            batch_size=settings["batch_size"],
            n_time=n_time,
            n_validation=settings["n_validation"],
            device=device,
        )
    except ValueError as err:
        logger.debug("no memory estimate before building the model: %s", err)
        return
    estimate.check()
