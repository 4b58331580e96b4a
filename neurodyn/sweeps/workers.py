"""The worker processes of the local cluster a sweep starts: dask settings and fork server.

A worker process started fresh spends seconds on its first run loading modules and
setting up first calls (:mod:`neurodyn.sweeps.preload`), every worker on its own. The
local cluster's workers are instead forks of multiprocessing's fork server, which loads
all of it once: :func:`start_worker_server` starts it, in the background. It lives as
long as the process that started it, so later sweeps (and a worker started again after
one died) start at once; idle, it holds what it loaded (about 0.4 GB of memory, most of
it PyTorch's).
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os

__all__ = ["FORKSERVER", "environment_restored", "start_worker_server", "worker_config"]

#: multiprocessing's start method of the local cluster's worker processes.
FORKSERVER = "forkserver"


def worker_config() -> dict:
    """dask settings of the workers neurodyn starts, for training runs.

    * dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc hand
      freed memory back to the system at once; PyTorch's training steps allocate and free
      their tensors at every step, and a run took about 25 % longer that way (measured
      on the 64-unit rate networks of ``benchmarks/bench_sweep.py``). The allocator's own
      threshold is kept instead. The thread variables dask also sets stay.
    * The workers' statistical profiler samples every thread's stack every 10 ms; a
      training loop of small tensors is Python-bound and loses the interpreter to it.
    * Worker processes are forked from the fork server (where the platform has one)
      instead of each starting a new interpreter.

    Returns
    -------
    dict
        dask configuration keys → values, for :func:`dask.config.set`.

    Examples
    --------
    >>> config = worker_config()
    >>> config["distributed.worker.profile.enabled"]
    False
    >>> "MALLOC_TRIM_THRESHOLD_" in config["distributed.nanny.pre-spawn-environ"]
    False
    """
    # dask is the optional extra ``neurodyn[dask]``, loaded when a cluster is needed.
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    config = {
        "distributed.nanny.pre-spawn-environ": environ,
        "distributed.worker.profile.enabled": False,
    }
    if FORKSERVER in multiprocessing.get_all_start_methods():
        config["distributed.worker.multiprocessing-method"] = FORKSERVER
    return config


def start_worker_server() -> bool:
    """Start the fork server of the local cluster's workers, loading what a run needs.

    Returns at once; the server loads in the background (about 4 s on one core), and a
    worker asked of it before it is done waits for it. :func:`neurodyn.sweep` calls it
    before anything else of a local cluster, so that the loading overlaps the
    measurement of the machine's load and the scheduler's start-up; ``neurodyn sweep``
    calls it even before it imports PyTorch. Its seconds of loading are not counted as
    load of the machine (:func:`neurodyn.threads.count_as_own`), so the cluster is sized
    as if it were idle. Calling it again, or with a server running, does nothing.

    Returns
    -------
    bool
        Whether the server runs: False where the platform has no fork server (Windows;
        a local cluster then starts each worker as a new interpreter) or where
        dask.distributed is not installed.

    Examples
    --------
    The first call starts the server of this process; later calls find it running:

    >>> start_worker_server(), start_worker_server()
    (True, True)
    """
    if (
        FORKSERVER not in multiprocessing.get_all_start_methods()
        or importlib.util.find_spec("distributed") is None
    ):
        return False
    # The optional extra, and the fork server's module (absent on Windows).
    from multiprocessing import forkserver

    import dask

    from ..threads import count_as_own

    with dask.config.set(worker_config()), environment_restored():
        # The modules are named, not imported: importing them is the server's work, not
        # this process's. distributed (whose import takes this process a third of a
        # second) is not asked for its multiprocessing context here: the first time,
        # it sets the server's list to its own modules, which does nothing once the
        # server runs.
        multiprocessing.get_context(FORKSERVER).set_forkserver_preload(
            ["distributed", f"{__package__}.preload"]
        )
        # The server reads the environment dask gives worker processes (one thread for
        # OpenMP and BLAS) when it starts; a variable already set is kept, as dask keeps it.
        for key, value in dask.config.get("distributed.nanny.pre-spawn-environ").items():
            if value is not None:
                os.environ.setdefault(key, str(value))
        forkserver.ensure_running()
    # multiprocessing keeps the server's process id in its module's only instance.
    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid is not None:
        count_as_own(pid)
    return True


@contextlib.contextmanager
def environment_restored():
    """This process's environment variables as they were before the block.

    dask sets the variables of ``distributed.nanny.pre-spawn-environ`` (one thread for
    OpenMP and the BLAS libraries, a fixed ``PYTHONHASHSEED``) in the process that starts
    the worker processes, so that the workers inherit them. Left there, they would pin
    everything this process computes after a sweep to one thread
    (:mod:`neurodyn.threads` takes ``OMP_NUM_THREADS`` as the user's limit).

    Examples
    --------
    >>> before = os.environ.get("OMP_NUM_THREADS")
    >>> with environment_restored():
    ...     os.environ["OMP_NUM_THREADS"] = "1"  # as dask does when it starts workers
    >>> os.environ.get("OMP_NUM_THREADS") == before
    True
    """
    import dask  # the optional extra, as in worker_config

    keys = [*dask.config.get("distributed.nanny.pre-spawn-environ", {}), "PYTHONHASHSEED"]
    before = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
