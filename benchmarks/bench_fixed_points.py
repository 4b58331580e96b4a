"""Fixed points: the default Newton/LM solver against method="adam" (FixedPointFinder's algorithm).

Prints, in one run, wall time (medians), the distinct fixed points found and the
speed ratio, with the two methods interleaved round by round (see :func:`compare`), for

(a) the 3-bit flip-flop, a 16-unit tanh ``torch.nn.RNN`` (wrapped as TorchRNN),
    1024 initial states sampled from trajectories with noise 0.5;
(b) rate RNNs with 64 and 256 units trained on context-dependent integration, one
    constant input per context, 1024 initial states per context;
(c) scale: 10 000 initial states on the 256-unit network (default method only),
    with the peak resident memory of the process;
(d) the eigendecomposition behind linearization (:func:`neurodyn.analysis.eigenmodes`:
    compiled Francis QR up to 64 units and LAPACK's ``dgeev`` above, with the
    eigenvector inverse and the sorting, on the thread policy's threads) against the
    bare ``np.linalg.eig`` (one ``dgeev`` after another): 16 random 128 × 128 matrices
    and 27 of 16 × 16.

Both methods get the same model, inputs and initial states; only ``method`` differs.
Two more rows time the default method with ``share_roots=False`` (every candidate
carried to its own root) and without chord steps (``chord_steps=0``: a factorisation
for every step), end to end beside the default in the same rounds, to show what each
of the two saves.
Each row gives the end-to-end time of ``find_fixed_points`` and the speed-up three
times: end to end; end to end without the linearization of the distinct points
(``info["linearize_s"]``), which is the same code for both methods and the same work,
since both find the same points; and for the search alone (``info["elapsed_s"]``),
without validation and de-duplication either.
The networks are trained first (seeded); ``--cache DIR`` keeps them between runs.

This process pins BLAS to one thread (below) and leaves the Newton kernel's threads to
neurodyn's thread policy. Then, as users run it (see ``users_ground.py``): the default
method on (a) and on (b)'s 64-unit network in fresh processes with another process
keeping one core busy, in the default environment beside every pool pinned by hand to
one and to two threads. ``--no-users-ground`` skips this part.

Usage::

    python benchmarks/bench_fixed_points.py            # full run (tens of minutes on 2 cores)
    python benchmarks/bench_fixed_points.py --quick    # small sizes, one repeat (a few minutes)
"""

from __future__ import annotations

import os
import sys

# One BLAS thread for both methods: on a shared 2-core machine OpenBLAS's own threads
# make a 512×64 matmul 50× slower, which would time the machine's load, not the
# algorithms. The Newton kernel parallelises over candidates with OpenMP instead. A
# worker process of the users' ground part runs in the environment it is given.
if "--worker" not in sys.argv:
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse
import json
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import neurodyn
from neurodyn.analysis import (
    SolverOptions,
    condition_inputs,
    eigenmodes,
    find_fixed_points,
    sample_initial_states,
    tile_conditions,
)
from neurodyn.analysis.fixed_points.kernel import widest_lanes
from neurodyn.rnn_models import RateRNN, TorchRNN
from neurodyn.tasks import FlipFlop, make_task


def trained(path: Path | None, make, task, steps: int, lr: float):
    """A model trained on ``task`` (loaded from ``path`` when it exists)."""
    if path is not None and path.is_file():
        return neurodyn.load_model(path)
    model = make()
    t0 = time.perf_counter()
    res = neurodyn.fit(model, task, n_steps=steps, lr=lr, seed=0, val_every=steps, progress=False)
    last = res.history[-1]
    print(
        f"  trained {model.kind} n_hidden={model.n_hidden} on {task.name}: {steps} steps in "
        f"{time.perf_counter() - t0:.0f} s, val_loss {last['val_loss']:.4f}, "
        f"accuracy {last.get('val_accuracy', float('nan')):.3f}",
        flush=True,
    )
    if path is not None:
        neurodyn.save_model(model, path)
    return model


def timed(fn, repeats: int):
    """Median times over ``repeats`` calls of ``find_fixed_points`` and the last result.

    Returns ``(wall, result, search, method)``: the wall time of the call; the search
    alone (``info["elapsed_s"]``); and the method's own part, the wall time less the
    linearization of the distinct points (``info["linearize_s"]``), which is the same
    code for every method.
    """
    times, search, method, out = [], [], [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        search.append(out.info["elapsed_s"])
        method.append(times[-1] - out.info["linearize_s"])
    med = statistics.median
    return med(times), out, med(search), med(method)


def timed_call(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def describe(fps) -> str:
    s = fps.summary()
    roots = "/".join(
        f"{k.replace('unstable_', 'u')}={v}"
        for k, v in s.items()
        if k not in ("slow", "failed", "left_state_set")
    )
    return f"{len(fps.roots):4d} roots ({roots}); slow {s['slow']}, failed candidates {s['failed']}"


def compare(label, model, inputs, x0, repeats, rounds, conditions=None):
    """Run both methods, interleaved; print a row each and the ratios.

    Each of ``rounds`` rounds runs the default method ``repeats`` times and Adam once,
    so both see the same state of a shared machine; a round's ratio is Adam's time
    over the median of its Newton runs, and the reported ratio is the median over
    rounds.
    """
    kw = dict(conditions=conditions, progress=False)
    # One untimed call: imports and first-touch allocations.
    find_fixed_points(model, None if inputs is None else inputs[:8], x0[:8], progress=False)
    t_new, s_new, t_adam, s_adam, ratio, ratio_search, ratio_method = [], [], [], [], [], [], []
    s_own, gain, gain_chord = [], [], []
    for _ in range(rounds):
        t, new, s, m = timed(lambda: find_fixed_points(model, inputs, x0, **kw), repeats)
        _, own, so, _ = timed(
            lambda: find_fixed_points(model, inputs, x0, share_roots=False, **kw), 1
        )
        no_chord = replace(SolverOptions(**new.info["options"]), chord_steps=0)
        tc, newton, _, _ = timed(
            lambda o=no_chord: find_fixed_points(model, inputs, x0, options=o, **kw), 1
        )
        ta, adam, sa, ma = timed(
            lambda: find_fixed_points(model, inputs, x0, method="adam", **kw), 1
        )
        t_new.append(t)
        s_new.append(s)
        t_adam.append(ta)
        s_adam.append(sa)
        ratio.append(ta / t)
        ratio_search.append(sa / s)
        ratio_method.append(ma / m)
        s_own.append(so)
        gain.append(so / s)
        gain_chord.append(tc / t)
    med = statistics.median
    q_new = np.max(new.roots.q) if len(new.roots) else float("nan")
    q_adam = np.max(adam.roots.q) if len(adam.roots) else float("nan")
    it_new = np.median(new.candidates.n_iter)
    it_adam = int(adam.candidates.n_iter[0])
    print(f"\n({label}) {len(x0)} initial states, n_state={x0.shape[1]}, kind={new.kind}")
    print(
        f"  newton ({new.info['backend']:5s}) {med(t_new):8.3f} s  median {it_new:5.0f} iterations  "
        f"max q {q_new:.1e}  {describe(new)}"
    )
    print(
        f"  adam   ({adam.info['backend']:5s}) {med(t_adam):8.3f} s  {it_adam:12d} iterations  "
        f"max q {q_adam:.1e}  {describe(adam)}"
    )
    print(
        f"  speed-up {med(ratio):6.1f}x end to end; {med(ratio_method):6.1f}x end to end "
        f"without the linearization (the same code for both); {med(ratio_search):6.1f}x in "
        f"the search alone ({med(s_new) * 1e3:.1f} ms vs {med(s_adam) * 1e3:.1f} ms)"
    )
    print(
        f"  per round, without the linearization: "
        f"{' '.join(f'{r:.1f}' for r in ratio_method)}; in the search alone: "
        f"{' '.join(f'{r:.1f}' for r in ratio_search)}   "
        f"roots newton/adam {len(new.roots)}/{len(adam.roots)}"
    )
    print(
        f"  newton with share_roots=False: {med(s_own) * 1e3:.1f} ms in the search "
        f"({med(gain):.2f}x slower), {len(own.roots)} roots, median "
        f"{np.median(own.candidates.n_iter):.0f} iterations"
    )
    print(
        f"  newton with chord_steps=0: {med(gain_chord):.2f}x slower end to end, "
        f"{len(newton.roots)} roots, median {np.median(newton.candidates.n_iter):.0f} iterations"
    )
    return med(ratio), med(ratio_method), med(ratio_search)


def case_inputs(name: str, model):
    """Inputs, initial states and conditions of case (a) or (b) for ``model``."""
    if name == "a":
        ds = neurodyn.simulate(model, FlipFlop(dt=10.0), n_trials=64, seed=1)
        return None, sample_initial_states(ds, 1024, noise_scale=0.5, seed=0), None
    ctx = make_task("context_dm", dt=20.0, timing={"delay": 300.0})
    ds = neurodyn.simulate(model, ctx, n_trials=64, seed=1)
    u, _ = condition_inputs(ds, by="context", period="stimulus")
    x0, uu, cond = tile_conditions(sample_initial_states(ds, 1024, seed=0), u)
    return uu, x0, cond


def worker(payload: dict) -> None:
    """In a fresh process: the median time of the default method as a user calls it."""
    model = neurodyn.load_model(payload["model"])
    u, x0, cond = case_inputs(payload["case"], model)

    def call():
        return find_fixed_points(
            model, u, x0, conditions=cond, threads=payload["threads"], progress=False
        )

    call()
    times = [timed_call(call) for _ in range(payload["repeats"])]
    print(json.dumps({"seconds": statistics.median(times)}))


def users_ground(models: dict, quick: bool) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from users_ground import compare_configs

    print("\nAs users run it: find_fixed_points (default method) in fresh processes")
    for case, path in models.items():
        print(f"({case})")
        payload = {"model": str(path), "case": case[0], "repeats": 5 if quick else 20}
        compare_configs(str(Path(__file__).resolve()), payload, rounds=1 if quick else 3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and one repeat")
    parser.add_argument("--repeats", type=int, default=None, help="Newton runs per round")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (one Adam run each)")
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep trained models")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training")
    parser.add_argument(
        "--no-users-ground", action="store_true", help="skip the fresh-process, busy-core part"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    torch.set_num_threads(args.threads)
    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    rounds = args.rounds or (1 if quick else 3)
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)

    def cache(name):
        return None if args.cache is None else args.cache / f"{name}{'_quick' if quick else ''}.npz"

    print(
        f"neurodyn {neurodyn.__version__}; torch threads {torch.get_num_threads()}; "
        f"cores {neurodyn.threads.available_cores()}; "
        f"Newton kernel lanes {widest_lanes()} (candidates in lockstep per thread, up to 64 "
        f"units); OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
        f"rounds {rounds} (x3 for the cases under a second), each newton x{repeats} and "
        f"adam x1{' (quick)' if quick else ''}"
    )

    # (a) flip-flop, 16-unit tanh RNN, 1024 initial states with noise 0.5
    ff = FlipFlop(dt=10.0, timing={"trial": 500.0})
    rnn = trained(
        cache("flipflop_rnn16"), lambda: TorchRNN("rnn", 3, 16, 3, dt=10.0, seed=0), ff, 200, 1e-2
    )
    ds = neurodyn.simulate(rnn, FlipFlop(dt=10.0), n_trials=64, seed=1)
    x0 = sample_initial_states(ds, 1024, noise_scale=0.5, seed=0)
    ratios = {"a": compare("a: flip-flop RNN", rnn, None, x0, repeats, 3 * rounds)}

    # (b) context-dependent integration, rate RNNs of 64 and 256 units
    # A fixed 300-ms delay keeps trials short; the task is otherwise the default.
    ctx = make_task("context_dm", dt=20.0, timing={"delay": 300.0})
    n_init = 256 if quick else 1024
    sizes = (64,) if quick else (64, 256)
    steps = 150 if quick else 1500
    big = small = None
    for n in sizes:
        net = trained(
            cache(f"context_rate{n}"),
            lambda n=n: RateRNN(7, n, 3, dt=20.0, tau=100.0, noise_rec=0.05, seed=0),
            ctx,
            steps,
            3e-3,
        )
        ds = neurodyn.simulate(net, ctx, n_trials=64, seed=1)
        u, _ = condition_inputs(ds, by="context", period="stimulus")
        x0, uu, cond = tile_conditions(sample_initial_states(ds, n_init, seed=0), u)
        ratios[f"b{n}"] = compare(
            f"b: context rate RNN {n}",
            net,
            uu,
            x0,
            repeats,
            rounds * (3 if n <= 64 else 1),
            conditions=cond,
        )
        big = (net, ds, u)
        small = net if n == 64 else small

    # (c) scale: 10 000 initial states on the largest network, default method
    net, ds, u = big
    n_scale = 2000 if quick else 10_000
    x0, uu, cond = tile_conditions(sample_initial_states(ds, n_scale // len(u), seed=1), u)
    t, fps, _, _ = timed(lambda: find_fixed_points(net, uu, x0, conditions=cond, progress=False), 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB
    print(
        f"\n(c) scale: {len(x0)} initial states, n_state={x0.shape[1]}: {t:.1f} s, "
        f"{describe(fps)}; peak RSS of this process {peak:.2f} GiB"
    )

    # (d) the eigendecomposition behind linearization (compiled QR up to 64 units,
    # LAPACK's dgeev above, the inverse of the eigenvectors, the sorting) against the
    # bare np.linalg.eig; 27 of 16 x 16 are (a)'s fixed points
    print()
    rng = np.random.default_rng(0)
    for k, d, reps in ((8 if quick else 16, 128, 5), (27, 16, 200)):
        J = rng.normal(size=(k, d, d)) / np.sqrt(d)
        t_modes, t_np = [], []
        for _ in range(reps):
            t_modes.append(timed_call(lambda J=J: eigenmodes(J, kind="map")))
            t_np.append(timed_call(lambda J=J: np.linalg.eig(J)))
        med = statistics.median
        print(
            f"(d) eigendecomposition of {k} random {d}x{d} matrices: "
            f"{med(t_modes) * 1e3:.3f} ms with eigenmodes (vectors, inverse, sorted), "
            f"{med(t_np) * 1e3:.3f} ms with np.linalg.eig ({med(t_modes) / med(t_np):.2f}x)"
        )

    print(
        "\nspeed-up of the default method over method='adam' (end to end; end to end "
        "without the linearization; search alone):"
    )
    for k, (total, method, search) in ratios.items():
        target = 20 if k == "a" else 5
        print(f"  ({k}) {total:7.1f}x; {method:7.1f}x; {search:7.1f}x   (target {target}x)")
    if not args.no_users_ground:
        with tempfile.TemporaryDirectory() as tmp:
            models = {"a": Path(tmp) / "a.npz", "b64": Path(tmp) / "b64.npz"}
            neurodyn.save_model(rnn, models["a"])
            neurodyn.save_model(small, models["b64"])
            users_ground(models, quick)


if __name__ == "__main__":
    main()
