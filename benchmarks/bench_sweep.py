"""Sweeps: 8 short training runs as a serial loop in one process against neurodyn.sweep on a
dask LocalCluster, and the scheduling overhead per run.

Prints, in one run:

(a) the wall time of 8 training runs (rate RNNs of 64 units on the 3-bit flip-flop,
    seeds 0–7, each written as a run folder by ``train_run``, exactly what ``neurodyn
    train`` does) as a plain loop in this process, in the default environment (the
    thread policy chooses), against ``neurodyn.sweep`` of the same 8 points on a
    LocalCluster with one worker process per core, cluster start-up included; and the
    ratio (target >= 1.7 on two cores). Rounds alternate the two; medians. The
    cluster's workers are forks of a server that loads a run's modules once
    (:mod:`neurodyn.sweeps.preload`): the first round starts it, later rounds in
    the same process reuse it, as a second sweep from a notebook would.
    The same two as a user runs them, each a fresh process with its imports (and
    its own fork server): ``neurodyn sweep SPEC --workers 0`` (serial) against
    ``neurodyn sweep SPEC``.
(b) the per-run overhead of the scheduling path: ``run_point`` submitted for runs that
    are already finished (it reads their summary and returns), 200 of them through the
    client, divided by 200, in milliseconds (target < 50 ms).

Usage::

    python benchmarks/bench_sweep.py            # 3 rounds
    python benchmarks/bench_sweep.py --quick    # 1 round, 4 runs, fewer steps
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neurodyn.run_folders import train_run
from neurodyn.sweeps import load_spec, sweep
from neurodyn.sweeps.point import run_point


def spec(n_runs: int, n_steps: int) -> dict:
    return {
        "task": "flip_flop",
        "model": "rate",
        "n_eval_trials": 16,
        "model_config": {"n_hidden": 64},
        "fit": {"n_steps": n_steps, "val_every": 50, "batch_size": 32},
        "grid": {"seed": list(range(n_runs))},
    }


def serial_loop(s: dict, out: Path) -> float:
    start = time.perf_counter()
    for p in load_spec(s).points:
        r = p.run
        train_run(out / p.name, task=r["task"], model=r["model"], model_config=r["model_config"],
                  fit_config=r["fit"], n_eval_trials=r["n_eval_trials"], seed=r["seed"],
                  progress=False)  # fmt: skip
    return time.perf_counter() - start


def on_cluster(s: dict, out: Path) -> float:
    start = time.perf_counter()
    sweep(s, out, progress=False)
    return time.perf_counter() - start


def as_a_user(s: dict, workers: list[str]) -> float:
    """``neurodyn sweep`` in a fresh process (imports and cluster start-up included)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.toml"
        spec_file.write_text(_toml(s))
        cmd = [sys.executable, "-m", "neurodyn.cli", "sweep", str(spec_file), "--out",
               str(Path(tmp) / "out"), "--no-progress", *workers]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=tmp)
        return time.perf_counter() - start


def _toml(s: dict) -> str:
    lines = [f"{k} = {json.dumps(v)}" for k, v in s.items() if not isinstance(v, dict)]
    for section, table in s.items():
        if isinstance(table, dict):
            lines += [f"[{section}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def overhead_ms(n_tasks: int = 200) -> float:
    """Per-run time of the scheduling path for runs that are already finished."""
    from distributed import Client, LocalCluster, as_completed

    with tempfile.TemporaryDirectory() as tmp:
        s = spec(1, 10)
        sweep(s, tmp, n_workers=0, progress=False)
        p = load_spec(s).points[0]
        run_dir = str(Path(tmp) / "runs" / p.name)
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            client.submit(run_point, run_dir, p.run, {}, 1, pure=False).result()  # warm up
            start = time.perf_counter()
            futures = [client.submit(run_point, run_dir, p.run, {}, 1, pure=False)
                       for _ in range(n_tasks)]  # fmt: skip
            for _ in as_completed(futures):
                pass
            return 1e3 * (time.perf_counter() - start) / n_tasks


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # The clusters of (b) start outside neurodyn.sweep, which quiets dask's INFO lines.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 4 runs, fewer steps")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=300, help="training steps per run")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    print("load average at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    s = spec(4, 100) if args.quick else spec(8, args.steps)
    n = len(s["grid"]["seed"])
    serial, cluster = [], []
    for k in range(rounds):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            serial.append(serial_loop(s, Path(a)))
            cluster.append(on_cluster(s, Path(b)))
        print(f"round {k + 1}: serial loop {serial[-1]:.1f} s, LocalCluster {cluster[-1]:.1f} s")
    t_s, t_c = statistics.median(serial), statistics.median(cluster)
    print(f"\n(a) {n} training runs: serial loop {t_s:.1f} s, neurodyn.sweep on a LocalCluster "
          f"{t_c:.1f} s (start-up included): {t_s / t_c:.2f}x (target >= 1.7x)")  # fmt: skip
    fresh_serial, fresh_cluster = [], []
    for _ in range(rounds):
        fresh_serial.append(as_a_user(s, ["--workers", "0"]))
        fresh_cluster.append(as_a_user(s, []))
    f_s, f_c = statistics.median(fresh_serial), statistics.median(fresh_cluster)
    print(f"    as a user, fresh processes: `neurodyn sweep --workers 0` {f_s:.1f} s, "
          f"`neurodyn sweep` {f_c:.1f} s: {f_s / f_c:.2f}x")  # fmt: skip
    ms = overhead_ms()
    print(f"(b) scheduling overhead per run: {ms:.1f} ms (target < 50 ms)")
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
