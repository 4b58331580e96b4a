"""Dynamical Similarity Analysis on two 64-dimensional systems with 10 000 samples.

Two noise-driven stable linear systems of 64 units (50 trials x 200 steps each, the
second with different decay rates and rotation frequencies) are compared with
:func:`neurodyn.analysis.dsa` in the default environment (threads chosen by
:mod:`neurodyn.threads`). For each delay-embedding size (``n_delays`` 1, 2, 5, 10, 20)
it prints the median wall time over ``--repeats`` calls, split into the DMD of both
systems (delay embedding, SVD of the 10 000 x 64·n_delays Hankel matrix, least
squares, timed on its own) and the orthogonal alignment of the two operators (the
rest of the dsa call), and the distance.

The operators' rank is ``--rank`` (default 64, the systems' dimension): the alignment
then costs the same at every embedding size and the table shows how the embedding and
its SVD grow. ``--full-rank`` also runs rank = 64·n_delays (the alignment of an r x r
operator costs O(r^3) per iteration), for the sizes listed with ``--full-rank``.

    python benchmarks/bench_dsa.py
    python benchmarks/bench_dsa.py --repeats 5 --full-rank 1 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from neurodyn.analysis import dsa, havok_dmd

UNITS, TRIALS, STEPS = 64, 50, 200
DELAYS = (1, 2, 5, 10, 20)


def system(seed: int, rate_scale: float) -> np.ndarray:
    """A stable linear system of 64 units driven by noise: (trial, time, unit)."""
    rng = np.random.default_rng(seed)
    pairs = UNITS // 2
    blocks = np.zeros((UNITS, UNITS))
    decay = np.exp(-rate_scale * np.linspace(0.01, 0.2, pairs))
    freq = rate_scale * np.linspace(0.02, 0.6, pairs)
    for i in range(pairs):
        c, s = np.cos(freq[i]), np.sin(freq[i])
        blocks[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = decay[i] * np.array([[c, -s], [s, c]])
    q = np.linalg.qr(rng.normal(size=(UNITS, UNITS)))[0]
    m = q @ blocks @ q.T
    x = np.zeros((TRIALS, STEPS, UNITS))
    x[:, 0] = rng.normal(size=(TRIALS, UNITS))
    for t in range(1, STEPS):
        x[:, t] = x[:, t - 1] @ m.T + 0.1 * rng.normal(size=(TRIALS, UNITS))
    return x


def time_once(x, y, n_delays: int, rank: int) -> tuple[float, float, float]:
    """(DMD of both systems s, one dsa call s, distance); the alignment is the rest."""
    t0 = time.perf_counter()
    havok_dmd(x, n_delays=n_delays, rank=rank)
    havok_dmd(y, n_delays=n_delays, rank=rank)
    t1 = time.perf_counter()
    res = dsa(x, y, n_delays=n_delays, rank=rank)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, res.distance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", type=int, default=UNITS)
    parser.add_argument("--full-rank", type=int, nargs="*", default=[], metavar="N_DELAYS")
    args = parser.parse_args()
    x, y = system(0, 1.0), system(1, 1.3)
    print(f"two systems of {UNITS} units, {TRIALS * STEPS} samples each")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    runs = [(m, args.rank) for m in DELAYS] + [(m, UNITS * m) for m in args.full_rank]
    header = f"{'n_delays':>8} {'columns':>8} {'rank':>5} {'DMD s':>8} {'align s':>8}"
    print(header + f" {'dsa s':>8} {'distance':>9}")
    for m, rank in runs:
        times = [time_once(x, y, m, rank) for _ in range(args.repeats)]
        dmd_s, total_s = (statistics.median(t[i] for t in times) for i in range(2))
        align_s = total_s - dmd_s
        print(
            f"{m:>8} {UNITS * m:>8} {rank:>5} {dmd_s:>8.2f} {align_s:>8.2f} "
            f"{total_s:>8.2f} {times[0][2]:>9.4f}"
        )


if __name__ == "__main__":
    main()
