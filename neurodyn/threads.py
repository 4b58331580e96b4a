r"""Thread pools: how many threads neurodyn's work runs on, decided in one place.

neurodyn's work runs on four thread pools: PyTorch's intra-op pool (training,
simulation, the torch analyzers), the BLAS library under NumPy and SciPy, Numba's pool
and the OpenMP threads of the compiled kernels (``neurodyn._C``). Left to their
defaults, each starts one thread per core. On a machine where other work runs, that
is the worst choice: a parallel region ends only when its slowest thread does, and a
thread that shares its core with another process waits for its time slice at every
region. A GRU's forward pass on a 64 × 120 × 3 batch took 1.9 s on two threads
against 0.03 s on one while the other core was busy; small BLAS products and the
fixed-point kernels suffer alike.

The policy
----------
For each public call, :func:`limit` sets every pool to

.. math::

    n = \min\bigl(\lceil w / w_0 \rceil,\; n_\text{free}\bigr), \qquad
    n_\text{free} = \max\bigl(1,\ \operatorname{round}(n_\text{cores} - b)\bigr),

where w is the call's work per parallel operation (floating-point operations, as
the caller estimates them), :math:`w_0` (:data:`GRAIN`) the work below which a
second thread costs more in synchronisation than it saves, :math:`n_\text{cores}`
the cores this process may run on (its CPU affinity and its cgroup's quota) and b
the cores other processes keep busy (:func:`probe`). Small work runs on one thread
wherever it runs; large work spreads over the cores no one else is using. The pools
are restored when the call returns, so a user's own ``torch.set_num_threads`` is
never overridden for longer than a neurodyn call.

Every public entry point that computes takes ``threads=`` (``None`` = this policy,
an int = exactly that many) and the command line ``--threads``;
:func:`neurodyn.show_config` reports the machine and the last choice. A user who
set ``OMP_NUM_THREADS`` has pinned the machine by hand: the policy never exceeds it.

The load probe
--------------
b is measured from ``/proc/stat``: the CPU time all processes used over a window,
less this process's own (so neurodyn's threads never count as load) and that of the
helper processes it started (:func:`count_as_own`: a sweep's fork server, which loads
modules for seconds while the sweep sizes its cluster), divided by the window's
length. The window runs from the previous probe (at least :data:`MIN_WINDOW` s
earlier; a probe sooner than that reuses the last estimate) or,
at a process's first probe, over :data:`MIN_WINDOW` s of waiting. Where ``/proc/stat``
does not exist, b comes from the 1-minute load average, less this process's share.

Long runs (training) call :func:`limit` again every so often, so that a load that
starts or stops during the run changes the thread count.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import resource
import sys
import threading
import time
from dataclasses import dataclass

__all__ = [
    "GRAIN",
    "ThreadChoice",
    "available_cores",
    "check_threads",
    "choose",
    "count_as_own",
    "last_choice",
    "limit",
    "one_blas_thread",
    "policy",
    "probe",
    "state_size",
]

#: Work (floating-point operations per parallel operation) that one more thread must
#: have to pay for itself; a second thread needs twice this. Measured on an idle
#: two-core machine, training steps (batch 64, 100 time steps) ran 0.83–1.37x as fast
#: on two threads as on one for GRUs and rate networks of 32–256 units (0.4–25 MFLOP
#: per step's product) and 1.26–1.40x for 34 MFLOP and more; a busy core turns any
#: of these into a loss of several times, so only clearly parallel work gets a second
#: thread.
GRAIN = 1.6e7

#: Shortest window of the load probe, in seconds (``/proc/stat`` counts in 10 ms ticks).
MIN_WINDOW = 0.05


def check_threads(threads) -> int | None:
    """Validate a ``threads=`` argument: None (the policy) or an integer >= 1.

    Parameters
    ----------
    threads : int or None
        The argument as given.

    Examples
    --------
    >>> check_threads(None), check_threads(2)
    (None, 2)
    """
    if threads is None:
        return None
    if isinstance(threads, bool) or not hasattr(threads, "__index__") or int(threads) < 1:
        raise ValueError(
            f"threads must be None (chosen from the work and the machine's load) or an "
            f"integer >= 1, got {threads!r}"
        )
    return int(threads)


_cores_sample: tuple[float, int] | None = None  # (wall, cores)


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by its cgroup's CPU quota.

    Read again at most every :data:`MIN_WINDOW` seconds, as the load is: the system call
    and the file read cost about 10 µs, which a short call should not pay every time.

    Examples
    --------
    At most the machine's CPU count (fewer under ``taskset`` or a container's quota):

    >>> import os
    >>> 1 <= available_cores() <= (os.cpu_count() or 1)
    True
    """
    global _cores_sample
    now = time.monotonic()
    if _cores_sample is not None and now - _cores_sample[0] < MIN_WINDOW:
        return _cores_sample[1]
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    _cores_sample = (now, max(1, cores))
    return _cores_sample[1]


def _cpu_jiffies() -> int | None:
    """Busy time of all CPUs (user, nice, system, irq, softirq, steal), in ticks."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return user + nice + system + irq + softirq + steal


def _own_seconds() -> float:
    """CPU time of this process (all its threads) and of its helpers, in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + _helper_seconds()


#: Helper processes whose CPU time :func:`probe` counts as this process's: pid → the
#: CPU seconds last read.
_helpers: dict[int, float] = {}
#: CPU seconds of helpers that have exited, so that the total never decreases.
_helpers_ended = 0.0


def count_as_own(pid: int) -> None:
    """Count the CPU time of process ``pid`` as this process's own in :func:`probe`.

    For a helper this process starts and whose work is its own, such as the fork server
    of a sweep's workers (:func:`neurodyn.sweeps.workers.start_worker_server`): while it
    loads modules, in the background, the sweep measures the load of the machine to
    choose its number of workers, and the server's seconds of loading are not load that
    will stay. Only the process itself counts, not the processes it starts (the sweep's
    workers are load for anything else this process computes). Where ``/proc`` does not
    exist this does nothing.

    Parameters
    ----------
    pid : int
        The process's id.

    Examples
    --------
    A helper process started for this process's own work: its CPU time is not load
    from others.

    >>> import subprocess, sys
    >>> helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.1)"])
    >>> count_as_own(helper.pid)
    >>> probe() >= 0.0
    True
    >>> helper.wait()
    0
    """
    with _lock:
        if pid not in _helpers:
            seconds = _process_seconds(pid)
            if seconds is not None:
                _helpers[pid] = seconds


def _helper_seconds() -> float:
    global _helpers_ended
    for pid, last in list(_helpers.items()):
        seconds = _process_seconds(pid)
        if seconds is None:  # exited: its time stays counted
            _helpers_ended += last
            del _helpers[pid]
        else:
            _helpers[pid] = seconds
    return _helpers_ended + sum(_helpers.values())


def _process_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process ``pid`` itself, without its children."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces: fields are counted after it.
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # exited, not yet reaped
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_lock = threading.Lock()
_last_sample: tuple[float, int, float] | None = None  # (wall, busy ticks, own seconds)
_last_busy = 0.0


def probe(*, fresh: bool = False, window: float = MIN_WINDOW) -> float:
    """Cores kept busy by other processes (b in the module docstring), >= 0.

    Parameters
    ----------
    fresh : bool
        Measure over a new window of ``window`` seconds from now, instead of since the
        previous probe. For a decision that holds for a long time (how many worker
        processes a sweep starts), where the previous window may reach back to work
        that has ended since, such as the workers of an earlier sweep.
    window : float
        Length of a fresh window (at least :data:`MIN_WINDOW`). The kernel counts CPU
        time in ticks (10 ms), the machine's and each process's separately, so over a
        window of w seconds the estimate is uncertain by about a tick or two per w: 0.2
        to 0.4 cores over 50 ms while a helper counted as this process's own is busy,
        0.03 to 0.07 over 300 ms.

    Examples
    --------
    >>> probe() >= 0.0
    True
    """
    global _last_sample, _last_busy
    with _lock:
        now = time.monotonic()
        # Inside the window the last estimate stands: no file read, no getrusage
        # (which sums over every thread of the process), so a call costs nothing here.
        if not fresh and _last_sample is not None and now - _last_sample[0] < MIN_WINDOW:
            return _last_busy
        ticks = _cpu_jiffies()
        if ticks is None:
            return _loadavg_busy()
        if _last_sample is None or fresh:
            _last_sample = (now, ticks, _own_seconds())
            time.sleep(max(window, MIN_WINDOW) if fresh else MIN_WINDOW)
            now, ticks = time.monotonic(), _cpu_jiffies()
        t0, ticks0, own0 = _last_sample
        own = _own_seconds()
        others = (ticks - ticks0) / _TICK - (own - own0)
        _last_busy = max(0.0, others / (now - t0))
        _last_sample = (now, ticks, own)
        return _last_busy


def _loadavg_busy() -> float:
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
    # The load average counts this process's running threads too; at most the
    # threads neurodyn last chose were among them.
    mine = _last.threads if _last is not None else 1
    return max(0.0, load - mine)


@dataclass(frozen=True)
class ThreadChoice:
    """What :func:`choose` decided, and from what (reported by ``show_config``).

    Parameters
    ----------
    threads : int
        The thread count chosen, >= 1.
    requested : int or None
        The count the caller asked for (``threads=``); None when the policy chose.
    work : float or None
        The work per parallel operation (floating-point operations) the choice was
        made for; None for work that scales.
    cores : int
        Cores this process may run on (:func:`available_cores`).
    busy : float
        Cores other processes kept busy (:func:`probe`; 0.0 where no probe was needed:
        a requested count, one core, or work too small for a second thread).
    what : str
        What the threads were for (e.g. ``"fit"``, ``"trajectory"``).

    Examples
    --------
    >>> choice = choose(work=1e3, what="a small product")
    >>> choice.threads, choice.requested, choice.busy, choice.what
    (1, None, 0.0, 'a small product')
    >>> choose(2, what="asked").requested
    2
    """

    threads: int
    requested: int | None
    work: float | None
    cores: int
    busy: float
    what: str


_last: ThreadChoice | None = None


def choose(threads=None, *, work: float | None = None, what: str = "") -> ThreadChoice:
    """The thread count for one call (see the module docstring).

    Parameters
    ----------
    threads : int, optional
        A count the caller asked for; returned as it is (after validation).
    work : float, optional
        Floating-point operations per parallel operation; None means work that
        scales (as many threads as are free).
    what : str
        What the threads are for (recorded for ``show_config``).

    Examples
    --------
    >>> choose(3).threads
    3
    >>> choose(work=1e3).threads
    1
    """
    global _last
    requested = check_threads(threads)
    cores = available_cores()
    if requested is not None:
        _last = ThreadChoice(requested, requested, work, cores, 0.0, what)
        return _last
    if cores == 1 or (work is not None and work < 2 * GRAIN):
        n, busy = 1, 0.0
    else:
        busy = probe()
        free = max(1, round(cores - busy))
        n = free if work is None else min(free, math.ceil(work / GRAIN))
    _last = ThreadChoice(int(max(1, min(n, cores, _env_cap()))), None, work, cores, busy, what)
    return _last


def _env_cap() -> int:
    """``OMP_NUM_THREADS`` where set to a positive integer, else no cap."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1 << 30


def last_choice() -> ThreadChoice | None:
    """The most recent :func:`choose` result in this process (None before the first).

    Examples
    --------
    Every :func:`limit` block (so every neurodyn call that computes) records its choice:

    >>> with limit(1, what="my analysis"):
    ...     pass
    >>> last_choice().threads, last_choice().what
    (1, 'my analysis')
    """
    return _last


_controller = None
_controller_key: tuple = ()


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process.

    The scan of loaded libraries (tens of microseconds) is redone only when a module
    that brings its own BLAS (NumPy, SciPy's linear algebra, PyTorch) has been imported
    since the last one, so a library loaded later is limited too.
    """
    global _controller, _controller_key
    key = tuple(m in sys.modules for m in ("numpy", "scipy.linalg", "torch"))
    if _controller is None or key != _controller_key:
        from threadpoolctl import ThreadpoolController

        _controller, _controller_key = ThreadpoolController(), key
    return [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]


@contextlib.contextmanager
def _blas_limit(n: int):
    """Every loaded BLAS library on ``n`` threads for the block, then as before.

    Sets each library's count directly (a call into the library) rather than through
    ``threadpoolctl.threadpool_limits``, whose set-up costs about 0.1 ms, a few percent
    of a fixed-point search on a small network; libraries already at ``n`` are left
    alone.
    """
    libs = [lib for lib in _blas_libraries() if lib.num_threads != n]
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, count in zip(libs, before, strict=True):
            lib.set_num_threads(count)


@contextlib.contextmanager
def _torch_threads(n: int):
    torch = sys.modules.get("torch")  # never import torch just to set its threads
    if torch is None or torch.get_num_threads() == n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _numba_threads(n: int):
    numba = sys.modules.get("numba")
    if numba is None:
        yield
        return
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    before = numba.get_num_threads()
    if before == n:
        yield
        return
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


@contextlib.contextmanager
def limit(threads=None, *, work: float | None = None, what: str = ""):
    """Run a block with every thread pool set by the policy; yields the thread count.

    The count also goes to the compiled kernels, which take it as an argument. Pools
    are restored on exit. Nested blocks keep the outer count unless they ask for one.

    Parameters
    ----------
    threads, work, what
        As for :func:`choose`.

    Examples
    --------
    >>> with limit(1) as n:
    ...     n
    1
    """
    outer = getattr(_active, "threads", None)
    if outer is not None and threads is None:
        yield outer
        return
    n = choose(threads, work=work, what=what).threads
    _active.threads = n
    try:
        with _blas_limit(n), _torch_threads(n), _numba_threads(n):
            yield n
    finally:
        _active.threads = outer


_active = threading.local()


def one_blas_thread():
    """A context manager that limits every loaded BLAS library to one thread.

    For code that runs on threads of its own (the compiled kernels, Numba's pool)
    and calls LAPACK inside each: a multithreaded BLAS in every one of them would
    oversubscribe the cores. Does nothing where BLAS already runs one thread.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     _ = np.ones((2, 2)) @ np.ones((2, 2))
    """
    return _blas_limit(1)


def policy(work=None, *, what: str | None = None):
    """Decorator: run a public function that takes ``threads=None`` inside :func:`limit`.

    Parameters
    ----------
    work : float or callable, optional
        The work per parallel operation, or a function of the call's bound arguments
        (a dict of name to value, defaults applied) that estimates it.
    what : str, optional
        Recorded for ``show_config`` (default: the function's name).

    Examples
    --------
    >>> @policy(work=lambda a: 2.0 * a["n"] ** 3)
    ... def solve(n, *, threads=None):
    ...     return n
    >>> solve(4, threads=1)
    4
    """

    def decorate(fn):
        sig = inspect.signature(fn)
        if "threads" not in sig.parameters:
            raise TypeError(f"{fn.__name__} must take a threads argument to use the policy")
        label = what or fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
            estimate = work(arguments) if callable(work) else work
            with limit(arguments["threads"], work=estimate, what=label):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def state_size(model) -> int:
    """The state size of a model or dynamics, for work estimates (0 when unknown).

    Parameters
    ----------
    model : object
        A model or a :class:`~neurodyn.dynamics.Dynamics`.

    Returns
    -------
    int
        Its ``n_state``, else ``n_hidden``, else ``hidden_size`` (a PyTorch module);
        0 when it has none of them.

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN, TorchRNN
    >>> state_size(RateRNN(1, 8, 1)), state_size(TorchRNN("lstm", 1, 8, 1))  # LSTM: h and c
    (8, 16)
    >>> state_size(object())
    0
    """
    for attr in ("n_state", "n_hidden", "hidden_size"):
        value = getattr(model, attr, None)
        if isinstance(value, int):
            return value
    return 0
