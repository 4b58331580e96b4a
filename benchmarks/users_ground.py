"""Benchmarks as users run them: a fresh process, the default environment, a busy machine.

A benchmark that pins every thread pool to one thread and runs with warm compilation
caches measures a machine no user has. The helpers here run a benchmark's workload
the way a user meets it, beside the hand-pinned configurations, so that each script
can print both:

* :func:`default_env` — the environment without any ``*_NUM_THREADS`` variable;
* :func:`pinned_env` — every thread pool pinned to ``n`` threads by hand;
* :func:`busy_core` — another process keeping one core busy meanwhile;
* :func:`run_worker` — the workload in a fresh Python process, which reports its
  timings as one line of JSON;
* :func:`compare_configs` — fresh processes of each configuration, interleaved round
  by round, with medians and the ratio of the default to the best pinned one.

A worker is the benchmark script itself, run with ``--worker JSON``; it must print a
JSON object with a ``"seconds"`` entry (its median time) as its last line.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

#: Variables by which users (and benchmarks) pin thread pools by hand.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

_SPIN = "import time\nwhile True:\n    pass"


def default_env(**extra) -> dict:
    """``os.environ`` without the thread variables: what a new user's shell has."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(extra)
    return env


def pinned_env(n: int, **extra) -> dict:
    """Every thread pool pinned to ``n`` threads by environment variables."""
    return default_env(**dict.fromkeys(THREAD_VARS, str(n)), **extra)


@contextlib.contextmanager
def busy_core():
    """Another process keeping one core busy for the length of the block."""
    proc = subprocess.Popen([sys.executable, "-c", _SPIN])
    time.sleep(0.5)  # let it start and reach the scheduler's steady state
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def run_worker(script: str, payload: dict, *, env: dict, timeout: float = 1800) -> dict:
    """Run ``script --worker JSON`` in a fresh process; return the JSON it printed last."""
    out = subprocess.run(
        [sys.executable, script, "--worker", json.dumps(payload)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_configs(script: str, payload: dict, *, rounds: int = 3, busy: bool = True) -> dict:
    """Time ``payload`` in fresh processes: default environment, 1 and 2 pinned threads.

    Each round runs one fresh process per configuration, in turn, so that a change in
    the machine's load hits all alike. With ``busy`` another process keeps one core
    busy throughout. Prints a table and returns ``{name: median seconds}`` with
    ``"ratio"``, the default environment's time over the best pinned time.
    """
    configs = {
        "default environment": (default_env(), None),
        "pinned: 1 thread": (pinned_env(1), 1),
        "pinned: 2 threads": (pinned_env(2), 2),
    }
    times = {name: [] for name in configs}
    ctx = busy_core() if busy else contextlib.nullcontext()
    with ctx:
        for _ in range(rounds):
            for name, (env, threads) in configs.items():
                result = run_worker(script, {**payload, "threads": threads}, env=env)
                times[name].append(result["seconds"])
    med = {name: statistics.median(t) for name, t in times.items()}
    best = min(med["pinned: 1 thread"], med["pinned: 2 threads"])
    med["ratio"] = med["default environment"] / best
    load = "another process keeping one core busy" if busy else "no competing process"
    print(f"  fresh processes, {load}, median of {rounds} (interleaved):")
    for name in configs:
        spread = ", ".join(f"{t:.3g}" for t in times[name])
        print(f"    {name:<22} {med[name]:9.4g} s   ({spread})")
    print(f"    default / best pinned: {med['ratio']:.2f}x (target <= 1.3x)")
    return med
