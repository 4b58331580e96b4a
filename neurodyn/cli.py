"""The ``neurodyn`` command line.

Errors in arguments (unknown task or model, bad values, sizes that would not fit in
memory, a run folder that would be overwritten) print one line naming the problem and
exit with status 2, before anything is written. Every command that computes takes
``--threads N`` (default: chosen from the work and the machine's load, see
:mod:`neurodyn.threads`) and ``--device`` (default ``auto``: a GPU when present).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
import time

from . import __version__
from .reproduce import REPRODUCTIONS, get_reproduction

__all__ = ["main"]

QUICKSTART = {
    "task": "flip_flop",
    "task_config": {"n_bits": 3, "dt": 10.0},
    "model": "rate",
    "model_config": {
        "n_hidden": 64,
        "tau": 50.0,
        "train_tau": True,
        "dale": True,
        "e_fraction": 0.8,
        "nonlinearity": "tanh",
        "noise_rec": 0.05,
        "spectral_radius": 1.0,
    },
    "fit_config": {
        "n_steps": 3000,
        "batch_size": 64,
        "lr": 0.01,
        "val_every": 50,
        "target_loss": 0.005,
    },
}


#: Options every ``neurodyn train`` model takes (its input and recurrent noise).
NOISE_OPTIONS = ("noise_rec", "noise_in")

#: The rate-network options a low-rank network takes too.
LOW_RANK_OPTIONS = ("tau", "dale", "e_fraction", "nonlinearity", "noise_rec", "noise_in")

#: ``neurodyn train``'s rate-network options and their defaults; of these, only
#: :data:`NOISE_OPTIONS` apply to the other models.
RATE_DEFAULTS = {
    "tau": 100.0,
    "train_tau": False,
    "dale": False,
    "e_fraction": 0.8,
    "nonlinearity": "tanh",
    "noise_rec": 0.0,
    "noise_in": 0.0,
    "spectral_radius": 1.0,
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neurodyn",
        description="Train biologically constrained RNNs on cognitive tasks and analyse their dynamics.",
    )
    p.add_argument("--version", action="version", version=f"neurodyn {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ts = sub.add_parser("tasks", help="list the available tasks")
    ts.add_argument(
        "--neurogym",
        action="store_true",
        help="list the installed NeuroGym environments instead, with whether each adapts "
        "(use one as --task neurogym:ID)",
    )

    q = sub.add_parser(
        "quickstart",
        help="train a 64-unit Dale's-law RNN on the 3-bit flip-flop and write a run folder",
        description="Train a 64-unit rate RNN with Dale's law and trainable time constants "
        "on the 3-bit flip-flop until its validation MSE is below 0.005, then write the "
        "model, config, training log, evaluation dataset and figures.",
    )
    q.add_argument(
        "--out", default="neurodyn_runs/quickstart", help="run folder (default: %(default)s)"
    )
    q.add_argument("--seed", type=_count(0), default=0, help="random seed (default: %(default)s)")
    _run_flags(q)
    _compute_flags(q)

    _train_parser(sub)
    a = sub.add_parser(
        "analyze",
        help="find the fixed points, attractors and Lyapunov exponents of a trained run",
        description="Find and linearise the fixed points of the network in RUN_DIR (a folder "
        "written by `neurodyn train` or `neurodyn quickstart`), starting from states of its "
        "evaluation trials plus noise; draw its flow projected on the trajectories' top two "
        "principal components; classify the attractors its trajectories reach and compute "
        "its top Lyapunov exponents. Writes fixed_points.nc, fixed_points.png, "
        "eigenvalues.png, phase_portrait.png, attractors.nc and lyapunov.nc into RUN_DIR.",
    )
    a.add_argument("run_dir", metavar="RUN_DIR", help="a run folder")
    a.add_argument(
        "--n-inits", type=int, default=1024, help="initial states (default: %(default)s)"
    )
    a.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    a.add_argument(
        "--input",
        default="auto",
        metavar="INPUTS",
        help="constant inputs to analyse at, comma-separated: a period of the task "
        "(e.g. stimulus, delay; its mean input per condition), 'zero', or 'auto' "
        "(default: the stimulus period, then zero)",
    )
    a.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _compute_flags(a)

    r = sub.add_parser(
        "reproduce",
        help="run a model family's headline experiment and compare with its paper",
        description="Run the headline experiment of a model family at CPU scale on several "
        "seeds, check every claim of the paper the run can test, and write a figure and a "
        "table with the paper's numbers beside ours. An interrupted run resumes.",
    )
    r.add_argument("family", help=f"one of: {', '.join(sorted(REPRODUCTIONS))}")
    r.add_argument("--out", help="output folder (default: neurodyn_runs/reproduce-FAMILY)")
    r.add_argument("--quick", action="store_true", help="a much smaller run, for a first look")
    r.add_argument(
        "--seed", type=_count(0), default=0, help="first random seed (default: %(default)s)"
    )
    r.add_argument("--fresh", action="store_true", help="run every seed again instead of resuming")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _compute_flags(r)
    _sweep_parser(sub)
    return p


def _sweep_parser(sub) -> None:
    s = sub.add_parser(
        "sweep",
        help="train and analyse many networks (seeds, models, settings) on a dask cluster",
        description="Run every point of the sweep in SPEC (a TOML file: the base run, the "
        "analyses after training and the variations) as `neurodyn train` + `neurodyn "
        "analyze` would, each in its own run folder under OUT/runs/, on a local dask "
        "cluster (or the one at --scheduler), and gather the results into OUT/sweep.nc. "
        "Finished runs are skipped and interrupted ones resume.",
    )
    s.add_argument("spec", metavar="SPEC", help="the sweep specification (TOML)")
    s.add_argument("--out", required=True, help="the sweep's folder")
    s.add_argument(
        "--scheduler", metavar="ADDRESS", help="a running dask scheduler (tcp://HOST:PORT)"
    )
    s.add_argument(
        "--workers",
        type=_count(0),
        default=None,
        help="local worker processes (default: one per free core; 0: run here, serially)",
    )
    s.add_argument(
        "--threads-per-run",
        type=_count(1),
        default=None,
        metavar="N",
        help="CPU threads of each run (default: the cores divided among the workers)",
    )
    s.add_argument(
        "--max-pack",
        type=_count(1),
        default=None,
        metavar="N",
        help="most fresh runs of rate networks that differ only in seed, time constants or "
        "noise trained together on one worker as one ensemble (default: 16; 1 trains each "
        "run alone); each run's folder and numbers are those it has alone",
    )
    s.add_argument(
        "--force", action="store_true", help="rerun folders that hold another spec's runs"
    )
    s.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    s.add_argument(
        "--device",
        type=_device,
        default="cpu",
        help="where the networks train: cpu (default), auto, cuda or cuda:N",
    )


def _train_parser(sub) -> None:
    t = sub.add_parser("train", help="train a model on a task and write a run folder")
    t.add_argument(
        "--task",
        required=True,
        help="task name (see `neurodyn tasks`), or neurogym:ID for a NeuroGym environment "
        "(see `neurodyn tasks --neurogym`)",
    )
    t.add_argument(
        "--task-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_task_option,
        help="a task option (repeatable), e.g. --task-option dt=20 or --task-option "
        "'timing={\"delay\": 500}'; VALUE is read as JSON, else as text",
    )
    t.add_argument(
        "--model", default="rate", help="rate, low_rank, rnn, gru or lstm (default: %(default)s)"
    )
    t.add_argument(
        "--out", required=True, help="run folder (with --seeds: the folder of the seed=S folders)"
    )
    seeds = t.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=_count(0), default=0, help="random seed (default: %(default)s)"
    )
    seeds.add_argument(
        "--seeds",
        type=_seed_list,
        metavar="SEEDS",
        help="train one rate network per seed, together as one ensemble (ranges and lists: "
        "0-15, 0,3,7), each into OUT/seed=S as `--seed S` would",
    )
    t.add_argument(
        "--hidden", type=_count(1), default=64, help="number of hidden units (default: %(default)s)"
    )
    t.add_argument("--dt", type=_number(">0"), help="time step in ms (default: the task's)")
    # Defaults are applied in _model_options, so that an option given with a model it
    # does not apply to is refused instead of dropped.
    g = t.add_argument_group(
        "rate RNN options (--model rate only, except the noise; --model low_rank takes --tau, "
        "--dale, --e-fraction, --nonlinearity)"
    )
    g.add_argument(
        "--tau", type=_number(">0"), help=f"time constant in ms (default: {RATE_DEFAULTS['tau']})"
    )
    g.add_argument(
        "--train-tau", action="store_const", const=True, help="learn per-neuron time constants"
    )
    g.add_argument("--dale", action="store_const", const=True, help="impose Dale's law")
    g.add_argument(
        "--e-fraction",
        type=float,
        help=f"excitatory fraction (default: {RATE_DEFAULTS['e_fraction']})",
    )
    g.add_argument("--nonlinearity", help="tanh (default), relu, softplus or rectified_tanh")
    g.add_argument(
        "--noise-rec", type=_number(">=0"), help="recurrent (state) noise σ_rec (default: 0)"
    )
    g.add_argument("--noise-in", type=_number(">=0"), help="input noise σ_in (default: 0)")
    g.add_argument(
        "--spectral-radius", type=_number(">0"), help="initial spectral radius of W (default: 1)"
    )
    g.add_argument(
        "--rank", type=_count(1), help="rank of the connectivity (--model low_rank; default: 1)"
    )
    f = t.add_argument_group("training options")
    f.add_argument(
        "--steps",
        type=_count(1),
        default=2000,
        help="maximum training steps (default: %(default)s)",
    )
    f.add_argument("--batch-size", type=_count(1), default=64, help="trials per step")
    f.add_argument("--lr", type=_number(">0"), default=1e-3, help="learning rate")
    f.add_argument(
        "--target-loss", type=_number(">=0"), help="stop when the validation loss reaches this"
    )
    f.add_argument("--val-every", type=_count(1), default=50, help="steps between validations")
    _run_flags(t)
    _compute_flags(t)


def _count(low: int):
    """An argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}")
        return value

    return parse


def _seed_list(text: str) -> list[int]:
    """An argparse type: seeds as ranges and lists (``0-15``, ``0,3,7``)."""
    from .ensemble_runs import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _task_option(text: str) -> tuple[str, object]:
    """An argparse type: ``KEY=VALUE`` with VALUE parsed as JSON, else kept as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def _number(bound: str):
    """An argparse type: a finite number ``> 0`` or ``>= 0``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and bound == ">0"):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
        return value

    return parse


def _device(text: str) -> str:
    """An argparse type: a device :func:`neurodyn.devices.resolve_device` accepts here."""
    from .devices import resolve_device

    try:
        resolve_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _compute_flags(p) -> None:
    p.add_argument(
        "--threads",
        type=_count(1),
        default=None,
        metavar="N",
        help="CPU threads for torch, BLAS and Numba (default: chosen from the work and "
        "the cores other processes leave free)",
    )
    p.add_argument(
        "--device",
        type=_device,
        default="auto",
        help="where networks run: auto (a GPU when present), cpu, cuda or cuda:N "
        "(default: %(default)s)",
    )


def _run_flags(p) -> None:
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--force", action="store_true", help="overwrite an existing run in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _cmd_tasks(args) -> int:
    from .tasks import TASKS

    if args.neurogym:
        return _list_neurogym()
    width = max(len(n) for n in TASKS)
    for name in sorted(TASKS):
        print(f"{name:<{width}}  {TASKS[name].description}")
    print(f"\n{'neurogym:ID':<{width}}  any NeuroGym environment (neurodyn tasks --neurogym)")
    return 0


def _list_neurogym() -> int:
    from .tasks.neurogym_adapter import PREFIX, survey

    rows = survey()
    width = max(len(PREFIX + r.env_id) for r in rows)
    for r in rows:
        print(f"{PREFIX + r.env_id:<{width}}  {'yes' if r.adapts else 'no '}  {r.detail}")
    n_ok = sum(r.adapts for r in rows)
    print(f"\n{n_ok} of {len(rows)} adapt; use one as --task {PREFIX}ID")
    return 0


def _report(res, started: float) -> None:
    print(f"\nTrained {res.steps} steps in {time.time() - started:.0f} s: {res.message}")
    print(f"validation loss {res.val_loss:.4g}", end="")
    if res.val_accuracy == res.val_accuracy:  # not NaN
        print(f", accuracy {100 * res.val_accuracy:.1f}%", end="")
    print(f"\nRun folder: {res.run_dir}")
    for key, path in res.files.items():
        print(f"  {key:<20} {path}")


def _cmd_quickstart(args) -> int:
    from .run_folders import train_run

    started = time.time()
    res = train_run(
        args.out,
        seed=args.seed,
        force=args.force,
        resume=args.resume,
        device=args.device,
        threads=args.threads,
        progress=not args.no_progress,
        **QUICKSTART,
    )
    _report(res, started)
    if not res.success:
        return 1
    # The summary ends with phase_portrait.png: the flow on the trajectories' top two
    # principal components with the fixed points (27 for the 3-bit flip-flop's cube).
    print("\nFixed points, attractors and projected phase portrait of the trained network:")
    _analyze(
        res.run_dir,
        seed=args.seed,
        progress=not args.no_progress,
        device=args.device,
        threads=args.threads,
    )
    return 0


def _analyze(
    run_dir,
    *,
    seed: int,
    progress: bool,
    n_inits: int = 1024,
    device="auto",
    threads=None,
    inputs="auto",
) -> None:
    from .analysis.analyze_run import analyze_run

    summary = analyze_run(
        run_dir,
        inputs=inputs,
        n_inits=n_inits,
        seed=seed,
        progress=progress,
        device=device,
        threads=threads,
    )
    counts = summary["counts"]

    def describe(label: str, n: int) -> str:
        if label.startswith("unstable_"):
            k = int(label.split("_")[1])
            return f"{n} with {k} unstable mode{'s' if k != 1 else ''}"
        return f"{n} {label.replace('_', ' ')}"

    total = summary["n_fixed_points"]
    classes = ", ".join(
        describe(label, n)
        for label, n in counts.items()
        if label.startswith(("stable", "marginal", "unstable_"))
    )
    print(f"  {total} fixed point{'s' if total != 1 else ''}: {classes}")
    left = counts.get("left_state_set", 0)
    print(
        f"  {summary['n_slow_points']} slow point(s); {counts.get('failed', 0)} of "
        f"{summary['n_candidates']} candidates did not converge"
        + (f" ({left} left the states the model can reach)" if left else "")
    )
    for condition in summary["conditions"]:
        _print_condition(summary, condition)
    for key, path in summary["files"].items():
        print(f"  {key:<20} {path}")


def _print_condition(summary, condition) -> None:
    """Basin fractions and top exponents at one input of an analysis."""
    print(f"  at {condition}:")
    basins = ", ".join(
        f"{kind.replace('_', ' ')} {100 * frac:.0f}%"
        for kind, frac in summary["attractors"][condition].items()
        if frac > 0 or kind not in ("unresolved", "diverged")
    )
    print(f"    attractors reached (basin fractions): {basins}")
    if condition in summary.get("unresolved_speed", {}):
        speed = summary["unresolved_speed"][condition]
        print(
            f"    unresolved: still moving when the simulation ended (median speed "
            f"{speed:.3g} per {summary.get('time_unit', 'ms')}), neither at rest nor on a cycle"
        )
    if summary["lyapunov"].get(condition):
        top = ", ".join(f"{v:.3g}" for v in summary["lyapunov"][condition][:3])
        print(f"    largest Lyapunov exponents ({summary['lyapunov_unit']}): {top}")


def _cmd_analyze(args) -> int:
    from pathlib import Path

    run_dir = Path(args.run_dir)
    if not (run_dir / "model.npz").is_file() or not (run_dir / "evaluation.nc").is_file():
        raise ValueError(
            f"{str(run_dir)!r} is not a finished run folder (expected model.npz and "
            "evaluation.nc, as written by `neurodyn train`)"
        )
    if args.n_inits < 1:
        raise ValueError(f"--n-inits must be a positive integer, got {args.n_inits}")
    _analyze(
        run_dir,
        seed=args.seed,
        progress=not args.no_progress,
        n_inits=args.n_inits,
        device=args.device,
        threads=args.threads,
        inputs=args.input,
    )
    return 0


def _cmd_sweep(args) -> int:
    if args.scheduler is None and args.workers != 0:
        # A local cluster's workers are forks of a server that loads what a run needs
        # (seconds); started first, it loads while this process imports PyTorch.
        from .sweeps.workers import start_worker_server

        start_worker_server()
    from .sweeps import SweepFailed, sweep

    started = time.time()
    try:
        ds = sweep(
            args.spec,
            args.out,
            scheduler=args.scheduler,
            n_workers=args.workers,
            threads_per_run=args.threads_per_run,
            force=args.force,
            **({} if args.max_pack is None else {"max_pack": args.max_pack}),
            device=args.device,
            progress=not args.no_progress,
            dashboard=lambda link: print(f"dask dashboard: {link}", flush=True),
        )
    except SweepFailed as err:
        print(f"neurodyn sweep: {err}", file=sys.stderr)
        print(f"Results of the others in {args.out}/sweep.nc", file=sys.stderr)
        return 1
    print(
        f"\n{ds.sizes['run']} runs in {time.time() - started:.0f} s; results in {args.out}/sweep.nc"
    )
    return 0


def _cmd_reproduce(args) -> int:
    reproduction = get_reproduction(args.family)
    out = args.out or f"neurodyn_runs/reproduce-{reproduction.name}"
    started = time.time()
    result = reproduction(
        out,
        quick=args.quick,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        progress=not args.no_progress,
        resume=not args.fresh,
    )
    print(
        f"\nReproduced {reproduction.name} in {time.time() - started:.0f} s "
        f"({len(result['seeds'])} seeds): {result['claims_line']}; results in {out}"
    )
    for key, path in result["files"].items():
        print(f"  {key:<20} {path}")
    return 0


def _cmd_train(args) -> int:
    from ._validation import check_choice
    from .rnn_models import MODELS
    from .run_folders import train_run
    from .tasks import check_task_name, make_task

    check_task_name(args.task, "--task")
    check_choice("--model", args.model, MODELS)
    task_config = _task_config(args)
    make_task(args.task, **task_config)  # validate before creating any folder
    model_config = {"n_hidden": args.hidden, **_model_options(args)}
    fit_config = {
        "n_steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "val_every": args.val_every,
        "target_loss": args.target_loss,
    }
    started = time.time()
    settings = {
        "task": args.task,
        "task_config": task_config,
        "model": args.model,
        "model_config": model_config,
        "fit_config": fit_config,
        "force": args.force,
        "resume": args.resume,
        "device": args.device,
        "threads": args.threads,
        "progress": not args.no_progress,
    }
    if args.seeds is not None:
        return _train_seeds(args, settings, started)
    res = train_run(args.out, seed=args.seed, **settings)
    _report(res, started)
    return 0


def _train_seeds(args, settings: dict, started: float) -> int:
    """``neurodyn train --seeds``: one ensemble, a run folder per seed; 1 if one diverged."""
    from pathlib import Path

    from .ensemble_runs import train_ensemble_runs

    dirs = [Path(args.out) / f"seed={s}" for s in args.seeds]
    results = train_ensemble_runs(dirs, args.seeds, **settings)
    print(f"\nTrained {len(results)} networks together in {time.time() - started:.0f} s")
    for res in results:
        line = f"  {res.run_dir}: {res.steps} steps, validation loss {res.val_loss:.4g}"
        print(f"{line}; {res.message}")
    skipped = len(dirs) - len(results)
    if skipped:
        print(f"  ({skipped} folders held finished runs and were left as they are)")
    diverged = [res for res in results if res.fit.diverged]
    for res in diverged:
        print(f"neurodyn train: error: {res.run_dir}: {res.message}", file=sys.stderr)
    return 1 if diverged else 0


def _task_config(args) -> dict:
    """The task's options: every --task-option, and --dt."""
    config: dict = {}
    for key, value in args.task_option:
        if key in config:
            raise ValueError(f"--task-option {key} is given twice")
        config[key] = value
    if args.dt is not None:
        if "dt" in config and config["dt"] != args.dt:
            raise ValueError(f"--dt {args.dt:g} and --task-option dt={config['dt']} disagree")
        config["dt"] = args.dt
    return config


def _model_options(args) -> dict:
    """The model's options from the command line: the rate network's for ``--model rate``,
    those of them a low-rank network has (and ``--rank``) for ``--model low_rank``, the
    noise for every model; ValueError naming every option given with a model it does not
    apply to (it would not apply, and is never dropped)."""
    given = {k: getattr(args, k) for k in RATE_DEFAULTS if getattr(args, k) is not None}
    rank = getattr(args, "rank", None)
    if args.model == "low_rank":
        wrong = [k for k in given if k not in LOW_RANK_OPTIONS]
        if wrong:
            flags = ", ".join("--" + k.replace("_", "-") for k in wrong)
            raise ValueError(f"{flags} do not apply to --model low_rank")
        defaults = {k: v for k, v in RATE_DEFAULTS.items() if k in LOW_RANK_OPTIONS}
        return {**defaults, **given, "rank": 1 if rank is None else rank}
    if rank is not None:
        raise ValueError(f"--rank applies to --model low_rank only, not to --model {args.model}")
    if args.model == "rate":
        return {**RATE_DEFAULTS, **given}
    rate_only = [k for k in given if k not in NOISE_OPTIONS]
    if rate_only:
        flags = ", ".join("--" + k.replace("_", "-") for k in rate_only)
        raise ValueError(f"{flags} apply to --model rate only, not to --model {args.model}")
    return given


def _threads_limit(threads):
    if threads is None:
        return contextlib.nullcontext()
    from .threads import limit

    return limit(threads, what="command line")


COMMANDS = {
    "tasks": _cmd_tasks,
    "quickstart": _cmd_quickstart,
    "train": _cmd_train,
    "analyze": _cmd_analyze,
    "reproduce": _cmd_reproduce,
    "sweep": _cmd_sweep,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurodyn`` console script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``neurodyn``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a bad argument or setting (with one
        line naming it on stderr), 1 when training diverged, 130 when interrupted.

    Examples
    --------
    ``neurodyn --version``, and a misspelt task caught before anything runs:

    >>> import io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["--version"])
    >>> status, out.getvalue().startswith("neurodyn ")
    (0, True)
    >>> with contextlib.redirect_stderr(err):
    ...     status = main(["train", "--task", "flip_flp", "--out", "runs/ff"])
    >>> status, err.getvalue().strip().endswith("Did you mean 'flip_flop'?")
    (2, True)
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help, --version and bad options
        return exit_.code if isinstance(exit_.code, int) else 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 2
    # An explicit --threads holds for everything the command runs; without it, each
    # computation chooses its own count (and training re-evaluates it as load changes).
    threads = getattr(args, "threads", None)
    try:
        with _threads_limit(threads):
            return COMMANDS[args.command](args)
    except ValueError as err:
        print(f"neurodyn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # training diverged; the checkpoint keeps the last good state
        print(f"neurodyn {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; run again with --resume to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
