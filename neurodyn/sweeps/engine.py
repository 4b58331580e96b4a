"""Run a sweep's points on dask.distributed and gather them (``neurodyn sweep``).

By default the points run on a :class:`distributed.LocalCluster` of process workers,
one per free core, each run on ``cores // workers`` threads for torch, BLAS and the
compiled kernels, so the cores are never oversubscribed. The worker processes are forks
of a server that loaded what a run needs once (:mod:`neurodyn.sweeps.preload`), so no
worker spends its first run loading modules. ``client=`` or ``scheduler=`` (an address)
uses an existing cluster instead, e.g. one that dask-jobqueue started on SLURM or PBS.
``n_workers=0`` runs the points one after another in this process, on the same number
of threads per run as a cluster would use, which gives the same numbers.

Nothing is done twice: finished runs are skipped, interrupted ones resume from their
checkpoints, and a run folder from a different specification is refused (naming the
options that differ) unless ``force``. The scheduler gives the run of a worker that
died to another worker (:mod:`neurodyn.sweeps.point` makes that safe).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import xarray as xr

from .._validation import check_int
from ..io.atomic import atomic_write_json
from ..progress import progress_bar
from ..threads import available_cores, probe
from .gather import gather
from .packs import MAX_PACK, pack_points
from .point import SUMMARY, read_summary, run_pack, run_point
from .spec import SweepSpec, load_spec, point_record
from .workers import environment_restored, start_worker_server, worker_config

__all__ = ["SweepFailed", "sweep"]

logger = logging.getLogger(__name__)

#: Seconds over which a local cluster measures the machine's load to choose its size.
SIZING_WINDOW = 0.3

#: Each run folder's record of its point, compared when a sweep runs again.
POINT_FILE = "point.json"


class SweepFailed(RuntimeError):
    """Some runs of a sweep failed; the others finished and ``sweep.nc`` holds all.

    Attributes
    ----------
    dataset : xarray.Dataset
        The gathered results (``status == "failed"`` with the ``error``).
    failures : dict
        Run folder name → error message.

    Parameters
    ----------
    dataset : xarray.Dataset
        The gathered results, kept as ``dataset``.
    failures : dict
        Run folder name → error message, kept as ``failures``.

    Examples
    --------
    :func:`sweep` raises it once every run has finished or failed; the results of
    the others are in ``dataset``:

    >>> import json
    >>> from neurodyn.sweeps import load_spec
    >>> from neurodyn.sweeps.gather import gather
    >>> spec = load_spec({"model_config": {"n_hidden": 8}, "grid": {"seed": [0, 1]}})
    >>> summaries = [{"status": "done", "error": "", "val_loss": 0.1},
    ...              {"status": "failed", "error": "TrainingDiverged: loss is nan"}]
    >>> for point, summary in zip(spec.points, summaries):
    ...     (Path("sweep", "runs", point.name)).mkdir(parents=True)
    ...     _ = Path("sweep", "runs", point.name, "summary.json").write_text(json.dumps(summary))
    >>> ds = gather(spec, Path("sweep"), "this process (serial)")
    >>> try:
    ...     raise SweepFailed(ds, {"seed=1": "TrainingDiverged: loss is nan"})
    ... except SweepFailed as err:
    ...     print(err)
    ...     print(err.dataset["status"].values.tolist())
    1 of 2 runs failed:
      seed=1: TrainingDiverged: loss is nan
    ['done', 'failed']
    """

    def __init__(self, dataset: xr.Dataset, failures: dict):
        self.dataset = dataset
        self.failures = failures
        lines = "\n".join(f"  {k}: {v}" for k, v in failures.items())
        super().__init__(f"{len(failures)} of {dataset.sizes['run']} runs failed:\n{lines}")


def sweep(
    spec,
    out: str | os.PathLike,
    *,
    client=None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    threads_per_run: int | None = None,
    force: bool = False,
    device: str = "cpu",
    progress: bool | str = True,
    dashboard: Callable[[str], None] | None = None,
    max_pack: int = MAX_PACK,
) -> xr.Dataset:
    """Train and analyse every point of ``spec`` and gather the results into ``out/sweep.nc``.

    Parameters
    ----------
    spec : SweepSpec, mapping or path of a TOML file
        See :mod:`neurodyn.sweeps.spec`; validated completely before any work starts.
    out : path-like
        The sweep's folder: ``runs/<point>/`` (run folders) and ``sweep.nc``.
    client : distributed.Client, optional
        Run on this client's cluster.
    scheduler : str, optional
        Address of a running scheduler (``tcp://HOST:PORT``) to connect to.
    n_workers : int, optional
        Workers of the local cluster started when neither ``client`` nor ``scheduler``
        is given (default: one per core other processes leave free); 0 runs the points
        in this process.
    threads_per_run : int, optional
        CPU threads each run computes on (default: the free cores divided among the
        local workers, at least 1; 1 on an existing cluster). Fixed for the whole
        sweep, so that a run's numbers do not depend on the worker it ran on.
    force : bool
        Run points again whose folders hold another specification's run.
    device : str
        Where the networks train (``"cpu"``, ``"auto"``, ``"cuda"``…).
    progress : bool or str
        A progress bar counting finished runs (on a terminal).
    dashboard : callable, optional
        Called with the address of the local cluster's dashboard once it has started
        (the command line prints it).
    max_pack : int
        Most fresh runs of rate networks that differ only in their seed and in what an
        ensemble's networks may differ in (τ, noise...) trained together on one worker
        as one ensemble (:mod:`neurodyn.sweeps.packs`; each run's numbers and folder
        are those it has alone); 1 trains every run on its own.

    Returns
    -------
    xarray.Dataset
        One entry per run along ``run`` (see :func:`~neurodyn.sweeps.gather.gather`).

    Raises
    ------
    ValueError
        For a bad specification or option, before anything is written.
    SweepFailed
        When some runs failed (after all the others finished and were gathered).

    Examples
    --------
    Each point trains a network (seconds to minutes), so a sweep is typically run as
    ``sweep(spec, "sweeps/size", n_workers=0)`` (in this process) or on a cluster, and
    read back with :func:`~neurodyn.sweeps.open_sweep`. The whole specification is
    checked first, so a misspelt option fails at once, with nothing written:

    >>> spec = {"task": "flip_flop", "model_config": {"n_hidden": 16},
    ...         "fit": {"n_steps": 200}, "grid": {"n_hiden": [16, 32], "seed": [0, 1]}}
    >>> try:
    ...     sweep(spec, "sweeps/size", n_workers=0)
    ... except ValueError as err:
    ...     print(err)
    parameter 'n_hiden' is no option of the task, the model or fit. Did you mean 'n_hidden'?
    >>> Path("sweeps").exists()
    False
    """
    spec = load_spec(spec)
    if client is not None and scheduler is not None:
        raise ValueError("give client or scheduler, not both")
    if n_workers is not None:
        check_int("n_workers", n_workers, low=0)
    check_int("max_pack", max_pack)
    out = Path(out)
    todo = _prepare(spec, out, force)
    if client is None and scheduler is None and n_workers != 0:
        # As soon as the sweep is known to run, so that the server's loading overlaps
        # everything else before the workers start: importing dask, the load probe,
        # the scheduler.
        start_worker_server()
    cluster = _cluster(client, scheduler, n_workers, threads_per_run, dashboard)
    with cluster as (client, threads, name):
        logger.info("sweep of %d runs (%d to do) on %s", len(spec), len(todo), name)
        _run(spec, out, todo, client, threads, device, progress, max_pack)
    ds = gather(spec, out, name)
    failed = ds["status"].values == "failed"
    failures = {
        str(d).split("/", 1)[1]: str(e)
        for d, e in zip(ds["run_dir"].values[failed], ds["error"].values[failed], strict=True)
    }
    if failures:
        raise SweepFailed(ds, failures)
    return ds


def _prepare(spec: SweepSpec, out: Path, force: bool) -> list:
    """Check every existing run folder against its point; the points still to run."""
    conflicts = {}
    for p in spec.points:
        stored = out / "runs" / p.name / POINT_FILE
        if stored.is_file():
            old = json.loads(stored.read_text("utf-8"))
            new = json.loads(json.dumps(point_record(p)))
            if old != new:
                conflicts[p.name] = _differences(old["run"], new["run"])
    if conflicts and not force:
        lines = "\n".join(f"  runs/{k}: {', '.join(v)}" for k, v in conflicts.items())
        raise ValueError(
            f"{len(conflicts)} run folders in {str(out)!r} hold runs of another specification "
            f"(options that differ):\n{lines}\npass force=True (--force) to run them again"
        )
    todo = []
    for p in spec.points:
        run_dir = out / "runs" / p.name
        if p.name in conflicts:
            shutil.rmtree(run_dir)
        summary = read_summary(run_dir)
        if summary is not None and summary["status"] == "done":
            continue
        if summary is not None:  # failed before: start it again from what it left
            (run_dir / SUMMARY).unlink()
        atomic_write_json(run_dir / POINT_FILE, point_record(p), indent=1)
        todo.append(p)
    return todo


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k} ({a!r} → {b!r})")
    return out


@contextlib.contextmanager
def _cluster(client, scheduler, n_workers, threads_per_run, dashboard):
    """Yield (client or None, threads per run, a description of where runs go)."""
    if client is not None:
        yield client, threads_per_run or 1, f"client {client.scheduler.address}"
        return
    # dask.distributed is the optional extra ``neurodyn[dask]``: imported only when a
    # sweep needs a cluster, so that specifications validate and serial sweeps run
    # without it.
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as c:
            yield c, threads_per_run or 1, f"scheduler {scheduler}"
        return
    cores = available_cores()
    # A fresh window (the previous probe may reach back to an earlier sweep's workers),
    # long enough that the tick counts' rounding, while the fork server loads, cannot
    # take a core away (a decision for the whole sweep; the workers wait for the server's
    # seconds of loading anyway).
    free = max(1, round(cores - probe(fresh=True, window=SIZING_WINDOW)))
    if n_workers is None:
        n_workers = free
    # A fixed count per run (not the policy's, which follows the load): a run's numbers
    # then do not depend on where or when it ran. Never more threads than free cores,
    # since on a busy core every extra thread waits for its time slice.
    threads = threads_per_run or max(1, free // max(n_workers, 1))
    if n_workers == 0:
        yield None, threads, "this process (serial)"
        return
    # One task at a time per worker process; each run then uses `threads` threads. The
    # settings hold for the cluster's whole life: a worker that dies is started again.
    with (
        _quiet_dask(),
        _main_not_rerun(),
        environment_restored(),
        dask.config.set(worker_config()),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as c,
    ):
        logger.info("dask dashboard: %s", c.dashboard_link)
        if dashboard is not None:
            dashboard(c.dashboard_link)
        yield c, threads, f"LocalCluster of {n_workers} workers × {threads} threads"


@contextlib.contextmanager
def _quiet_dask():
    """The cluster's own messages (workers starting, connections, shutdown) at ERROR only,
    unless neurodyn itself logs at INFO or below (``neurodyn -v``, a user's logging set-up).

    dask.distributed configures its logger at INFO, and the scheduler of a LocalCluster
    runs in this process, so a sweep would otherwise print dozens of lines.
    """
    log = logging.getLogger("distributed")
    level = log.level
    if logging.getLogger("neurodyn").getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


@contextlib.contextmanager
def _main_not_rerun():
    """Start worker processes without running the caller's script again in them.

    multiprocessing's "spawn" and "forkserver" methods, with which dask starts workers,
    run the ``__main__`` script (or module) again in each new process; a script that
    calls :func:`sweep` at its top level, without an ``if __name__ == "__main__":``
    guard, would then start a cluster from every worker. The workers run neurodyn's own functions and need
    nothing from ``__main__``, so while the cluster lives (a worker that dies is
    started again) ``__main__`` hides the two attributes multiprocessing reads to find
    the script (``__file__``, ``__spec__``).
    """
    main = sys.modules.get("__main__")
    hidden = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
    try:
        for k in hidden:
            if k == "__file__":
                delattr(main, k)
            else:
                setattr(main, k, None)
        yield
    finally:
        for k, v in hidden.items():
            setattr(main, k, v)


def _run(spec, out, todo, client, threads, device, progress, max_pack) -> None:
    # As many jobs at once as the cluster has workers (one task at a time each).
    slots = 1 if client is None else max(1, len(client.nthreads()))
    jobs = pack_points(todo, out / "runs", slots=slots, max_pack=max_pack)
    calls = [_call(job, out, spec.analyses, threads, device) for job in jobs]
    done = len(spec) - len(todo)
    bar = progress_bar(total=len(spec), initial=done, desc="sweep", unit="run", progress=progress)
    with bar:
        if client is None:
            for job, (fn, args) in zip(jobs, calls, strict=True):
                fn(*args)
                bar.update(len(job))
            return
        from distributed import as_completed  # optional extra, as in _cluster

        token = uuid.uuid4().hex[:8]
        futures = {
            client.submit(fn, *args, key=f"neurodyn-sweep-{token}-{_label(job)}", pure=False): job
            for job, (fn, args) in zip(jobs, calls, strict=True)
        }
        for future in as_completed(futures):
            if future.status == "error":  # the scheduler gave up (e.g. workers kept dying)
                failure = {"status": "failed", "error": repr(future.exception())}
                for p in futures[future]:
                    atomic_write_json(out / "runs" / p.name / SUMMARY, failure)
            bar.update(len(futures[future]))


def _call(job, out, analyses, threads, device) -> tuple:
    """The function and arguments that run a job: one point, or a pack of them."""
    dirs = [str(out / "runs" / p.name) for p in job]
    if len(job) == 1:
        return run_point, (dirs[0], job[0].run, analyses, threads, device)
    return run_pack, (dirs, [p.run for p in job], analyses, threads, device)


def _label(job) -> str:
    return job[0].name if len(job) == 1 else f"pack-{job[0].name}+{len(job) - 1}"
