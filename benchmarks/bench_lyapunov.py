"""Lyapunov spectrum: neurodyn's Jacobian-free stepper against the textbook NumPy loop.

The top 100 Lyapunov exponents of a 500-unit random rate network

    dx/dt = -x + g J tanh(x),   J_ij ~ N(0, 1/N),   g = 2,

Euler steps of dt = 0.1 (in units of τ), 10 000 steps after a 1 000-step transient.
Both implementations follow the same trajectory from the same state and tangent vectors:

* **reference**: the straightforward implementation: form the Jacobian
  D = (1 - dt) I + dt J diag(φ'(x)) every step, multiply Q ← D Q, QR every step
  (the state computed with the same expressions as neurodyn's, so both follow the same
  trajectory bit for bit);
* **neurodyn** ``lyapunov_spectrum(..., backend="jacobian_free")``: never forms D
  (D Q = (1 - dt) Q + dt W (φ' ⊙ Q), one matrix product), re-orthonormalises at an
  interval chosen from the spread of the local exponents; NumPy and BLAS, nothing
  compiled; with float64 tangent vectors (the default) and with float32 tangent vectors
  (state and sums in float64).

Prints the median wall time over repeats of each (interleaved, so load changes on a
shared machine hit all alike), the ratio, and the largest difference between the
spectra relative to the largest |λ|; exits with an error when that exceeds 1%.

Then, as users run it (see ``users_ground.py``): ``lyapunov_spectrum`` on the same
network in fresh processes with another process keeping one core busy, in the default
environment (neurodyn's thread policy) beside every pool pinned by hand to one and to two
threads. ``--no-users-ground`` skips this part.

Usage::

    python benchmarks/bench_lyapunov.py            # N=500, k=100, 10 000 steps, 3 repeats
    python benchmarks/bench_lyapunov.py --quick    # N=200, k=40, 2 000 steps, 1 repeat
"""

from __future__ import annotations

import os
import sys

# One BLAS thread for both: the comparison is of algorithms, not of how many cores a
# shared machine happens to give the matrix products. A worker process of the users'
# ground part runs in the environment it is given.
if "--worker" not in sys.argv:
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from neurodyn.analysis import lyapunov_spectrum
from neurodyn.dynamics import RateDynamics
from neurodyn.seeding import make_rng


def reference(W, x0, Q0, dt, n_transient, n_steps):
    """Form the Jacobian, multiply, QR every step (float64 NumPy).

    The state update rounds as neurodyn's rate network evaluates it (φ Wᵀ − x equals its
    −x + φ Wᵀ + c with c = 0, times s = 1), so that both follow the same trajectory: in a
    chaotic network (λ1 ≈ 0.09/τ here) a last-bit difference grows by e^{λ1 t}, and
    after a few hundred τ the runs would agree only statistically (to about 1.5% over
    10 000 steps).
    """
    d, _ = Q0.shape
    x, Q = x0.copy(), Q0.copy()
    eye = np.eye(d)
    sums = np.zeros(Q.shape[1])
    for t in range(n_transient + n_steps):
        phi = np.tanh(x)
        D = (1.0 - dt) * eye + dt * W * (1.0 - phi * phi)[None, :]
        x = x + dt * (phi @ W.T - x)
        Q, R = np.linalg.qr(D @ Q)
        if t >= n_transient:
            sums += np.log(np.abs(np.diag(R)))
    return sums / (n_steps * dt)


def timed_side_by_side(fns, repeats):
    """Median wall time of each function and its last result, the functions interleaved
    within every repeat so that a change in the machine's load affects them alike."""
    times = {name: [] for name in fns}
    out = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}, out


def network(n: int, g: float = 2.0, dt: float = 0.1):
    """The weights g J of the random rate network dx/dt = -x + g J tanh(x), the network
    and its initial state (seeded)."""
    rng = make_rng(0, "init")
    W = g * rng.normal(size=(n, n)) / np.sqrt(n)
    return W, RateDynamics(W=W, W_in=np.zeros((n, 1)), tau=1.0, dt=dt), rng.normal(size=n)


def worker(payload: dict) -> None:
    """In a fresh process: the median time of ``lyapunov_spectrum`` as a user calls it."""
    _, dyn, x0 = network(payload["n"])

    def call():
        return lyapunov_spectrum(
            dyn, x0, k=payload["k"], n_steps=payload["steps"], transient=payload["transient"],
            integrator="euler", threads=payload["threads"], progress=False,
        )  # fmt: skip

    call()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": statistics.median(times)}))


def users_ground(n, k, steps, transient, quick) -> None:
    from users_ground import compare_configs

    print(f"\nAs users run it: lyapunov_spectrum (N={n}, k={k}, {steps} steps) in fresh processes")
    payload = {"n": n, "k": k, "steps": steps, "transient": transient}
    compare_configs(str(Path(__file__).resolve()), payload, rounds=1 if quick else 3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int)
    p.add_argument(
        "--no-users-ground", action="store_true", help="skip the fresh-process, busy-core part"
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    n, k, steps, transient = (200, 40, 2000, 200) if args.quick else (500, 100, 10_000, 1000)
    repeats = args.repeats or (1 if args.quick else 3)
    g, dt = 2.0, 0.1
    W, dyn, x0 = network(n, g, dt)
    # The initial tangent vectors lyapunov_spectrum draws for seed 0, so both start alike.
    Q0 = np.linalg.qr(make_rng(0, "analysis").normal(size=(1, n, k)))[0][0]

    def ours(precision):
        return lyapunov_spectrum(
            dyn,
            x0,
            k=k,
            n_steps=steps,
            transient=transient,
            integrator="euler",
            backend="jacobian_free",
            precision=precision,
            seed=0,
            threads=1,
            progress=False,
        )

    print(
        f"top {k} Lyapunov exponents, N={n}, g={g}, dt={dt}, {steps} steps "
        f"(+{transient} transient), median of {repeats}"
    )
    for precision in ("float64", "float32"):
        ours(precision)  # warm up (BLAS buffers, imports)
    t, out = timed_side_by_side(
        {
            "reference": lambda: reference(W, x0, Q0, dt, transient, steps),
            "float64": lambda: ours("float64"),
            "float32": lambda: ours("float32"),
        },
        repeats,
    )
    lam_ref = out["reference"]
    print(
        f"  reference (form D, D@Q, QR every step)  {t['reference']:8.2f} s   "
        f"λ1 = {lam_ref[0]:+.5f}"
    )
    scale = np.max(np.abs(lam_ref))
    failed = False
    for precision in ("float64", "float32"):
        res = out[precision]
        diff = np.max(np.abs(res.exponents - lam_ref)) / scale
        failed |= diff >= 0.01
        print(
            f"  neurodyn jacobian_free, {precision}     {t[precision]:8.2f} s   λ1 = "
            f"{res.exponents[0]:+.5f}   ratio {t['reference'] / t[precision]:5.1f}x   "
            f"max|Δλ|/max|λ| = {diff:.1e}   QR steps {int(res.n_qr[0])} of {steps}"
        )
    if not args.no_users_ground:
        # The users' ground part at the quick size even in a full run: three fresh
        # processes per round, each timing three calls.
        users_ground(200, 40, 2000, 200, args.quick)
    if failed:
        raise SystemExit("the spectra disagree by more than 1% of the largest |λ|")


if __name__ == "__main__":
    main()
