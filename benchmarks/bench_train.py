"""Milliseconds per training iteration: RateRNN beside torch.nn.RNN.

One iteration is forward + backward + Adam step on a fixed random batch, with the
same MSE loss for every model. Each model is warmed up, then timed as the median
over ``--repeats`` runs of ``--iters`` iterations each (the models take turns within
each repeat); the ratio is relative to ``torch.nn.RNN`` (tanh, batch-first, linear
read-out) of the same size measured in the same run. The plain and the constrained
RateRNN (Dale's law + trainable τ + noise) run both ways: the fused scan the model
uses (``scan``) and the reference step under autograd (``step``, ``use_scan=False``).

    python benchmarks/bench_train.py             # N = 64, 128, 256; batch 64, 100 steps
    python benchmarks/bench_train.py --hidden 128 --quick
    python benchmarks/bench_train.py --threads 1 --profile

Then, as users run it (see ``users_ground.py``): ``neurodyn.fit`` of a 32-unit GRU on
``perceptual_dm`` and of a 128-unit rate RNN on ``flip_flop``, each in fresh processes
with another process keeping one core busy: the default environment (neurodyn's thread
policy) beside every pool pinned by hand to one and to two threads. ``--no-users-ground``
skips this part.

Then many networks trained as one: ``neurodyn.fit`` of a ``RateEnsemble`` of 16 networks
of 64 units (seeds 0-15) beside 16 sequential fits of the same networks with the same
seeds, on one Dataset of random trials (batch 64, 100 steps), the same number of
training steps each, in the default environment (neurodyn's thread policy) and pinned
by hand to one thread, in one run: the median of ``--ensemble-repeats`` interleaved
repeats and the ratio. ``--ensemble 0`` skips this part.

    python benchmarks/bench_train.py --hidden --no-users-ground   # the ensemble case only
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import neurodyn
from neurodyn import rnn_models
from neurodyn.rnn_models.rate_ensemble import RateEnsemble

RateRNN = rnn_models.RateRNN


class TorchRNNBaseline(nn.Module):
    """``torch.nn.RNN`` (tanh) with a linear read-out, returning outputs only."""

    def __init__(self, n_input, n_hidden, n_output):
        super().__init__()
        self.core = nn.RNN(n_input, n_hidden, nonlinearity="tanh", batch_first=True)
        self.readout = nn.Linear(n_hidden, n_output)

    def forward(self, u):
        h, _ = self.core(u)
        return self.readout(h)


def _rate(model):
    return lambda u: model(u).outputs


def build_models(n_input, n_hidden, n_output):
    """The baseline, then each RateRNN with the fused scan and with the reference step."""
    torch.manual_seed(0)
    baseline = TorchRNNBaseline(n_input, n_hidden, n_output)
    plain = RateRNN(n_input, n_hidden, n_output, dt=10.0, tau=100.0, seed=0)
    constrained = RateRNN(
        n_input,
        n_hidden,
        n_output,
        dt=10.0,
        tau=100.0,
        train_tau=True,
        dale=True,
        noise_rec=0.05,
        noise_in=0.01,
        seed=0,
    )
    models = [("torch.nn.RNN (tanh) + Linear", baseline, baseline)]
    for name, net in (("RateRNN", plain), ("RateRNN dale + train_tau + noise", constrained)):
        reference = copy.deepcopy(net)
        reference.use_scan = False
        models.append((f"{name}, scan", net, _rate(net)))
        models.append((f"{name}, step", reference, _rate(reference)))
    return models


def make_step(module, forward, u, y):
    """One training iteration: forward, MSE loss, backward, Adam step."""
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step():
        loss = F.mse_loss(forward(u), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_training(steps, *, warmup, iters, repeats):
    """Milliseconds per iteration of each step function, one list of repeats per model.

    Models take turns within every repeat, so a burst of load from other processes
    hits all of them alike and the ratios stay meaningful.
    """
    for step in steps:
        for _ in range(warmup):
            step()
    per_iter = [[] for _ in steps]
    for _ in range(repeats):
        for runs, step in zip(per_iter, steps, strict=True):
            t0 = time.perf_counter()
            for _ in range(iters):
                step()
            runs.append(1e3 * (time.perf_counter() - t0) / iters)
    return per_iter


def profile(step, rows=15):
    """Print the operators that take the most time in three training iterations."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


#: The fits timed as users run them: (label, task, model, hidden units, training steps).
USERS_GROUND = [
    ("fit: GRU 32 on perceptual_dm", "perceptual_dm", "gru", 32, 30),
    ("fit: rate RNN 128 on flip_flop", "flip_flop", "rate", 128, 20),
]


def worker(payload: dict) -> None:
    """Time one ``neurodyn.fit`` in this (fresh) process; print the seconds as JSON."""
    import neurodyn
    from neurodyn.rnn_models import build_model
    from neurodyn.tasks import make_task

    task = make_task(payload["task"])
    net = build_model(
        payload["model"], task.n_inputs, payload["hidden"], task.n_outputs, dt=task.dt, seed=0
    )
    t0 = time.perf_counter()
    neurodyn.fit(
        net, task, n_steps=payload["steps"], seed=0, progress=False, threads=payload["threads"]
    )
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def users_ground(quick: bool) -> None:
    from users_ground import compare_configs

    print("\nAs users run it: neurodyn.fit in fresh processes")
    for label, task, model, hidden, steps in USERS_GROUND:
        steps = max(5, steps // 3) if quick else steps
        print(f"{label}, {steps} training steps")
        payload = {"task": task, "model": model, "hidden": hidden, "steps": steps}
        compare_configs(str(Path(__file__).resolve()), payload, rounds=1 if quick else 3)


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages (Linux), or "n/a"."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def time_size(args, n_hidden):
    """Print one table: every model of ``n_hidden`` units, ratios against the baseline."""
    n = args.inputs
    gen = torch.Generator().manual_seed(0)
    u = torch.randn(args.batch, args.steps, n, generator=gen)
    y = torch.randn(args.batch, args.steps, n, generator=gen)
    models = build_models(n, n_hidden, n)
    steps = [make_step(module, forward, u, y) for _, module, forward in models]
    per_iter = time_training(steps, warmup=args.warmup, iters=args.iters, repeats=args.repeats)
    base_ms = statistics.median(per_iter[0])
    print(f"\nN={n_hidden}  {'model':<40} {'ms/iter':>9} {'min':>8} {'max':>8} {'ratio':>7}")
    for (name, _, _), runs in zip(models, per_iter, strict=True):
        ms = statistics.median(runs)
        print(
            f"{'':<{len(str(n_hidden)) + 4}}{name:<40} {ms:9.2f} {min(runs):8.2f} "
            f"{max(runs):8.2f} {ms / base_ms:7.2f}"
        )
    if args.profile:
        for (name, _, _), step in zip(models[1:], steps[1:], strict=True):
            print(f"\nprofile of 3 training iterations: {name}")
            profile(step)


def random_trials(n_trials, n_steps, n_channels, dt=10.0):
    """A Dataset of random inputs and targets, as fit takes one."""
    import numpy as np
    import xarray as xr

    rng = np.random.default_rng(0)
    shape = (n_trials, n_steps, n_channels)
    return xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), rng.standard_normal(shape, np.float32)),
            "targets": (("trial", "time", "output"), rng.standard_normal(shape, np.float32)),
        },
        attrs={"dt": dt},
    )


def ensemble_case(args):
    """One ensemble fit of K networks beside K sequential fits: the default environment
    and one thread pinned by hand, interleaved, medians and ratios."""
    k, n_hidden, n = args.ensemble, args.ensemble_hidden, args.inputs
    # fit holds out a fifth of the trials (val_fraction 0.2): batch trials remain to train on.
    ds = random_trials(args.batch + max(args.batch // 4, 1), args.steps, n)
    seeds = list(range(k))
    options = dict(dt=10.0, tau=100.0)
    kw = dict(n_steps=args.ensemble_steps, batch_size=args.batch, progress=False)

    def sequential(threads):
        for s in seeds:
            neurodyn.fit(RateRNN(n, n_hidden, n, seed=s, **options), ds, seed=s,
                         threads=threads, **kw)  # fmt: skip

    def together(threads):
        ens = RateEnsemble.from_seeds(seeds, n, n_hidden, n, **options)
        neurodyn.fit(ens, ds, seed=seeds, threads=threads, **kw)

    runs = {"sequential": sequential, "ensemble": together}
    envs = {"default environment": None, "pinned to 1 thread": 1}
    for run in runs.values():  # first calls (imports, kernels) outside the timing
        run(1)
    seconds = {(env, name): [] for env in envs for name in runs}
    for _ in range(args.ensemble_repeats):
        for env, threads in envs.items():
            for name, run in runs.items():
                t0 = time.perf_counter()
                run(threads)
                seconds[env, name].append(time.perf_counter() - t0)
    print(
        f"\n{k} networks of {n_hidden} units, {args.ensemble_steps} training steps each "
        f"(batch {args.batch}, {args.steps} steps): {k} sequential fits beside one ensemble "
        f"fit; median of {args.ensemble_repeats}; load average {loadavg()}"
    )
    print(f"  {'':<22} {'sequential s':>13} {'ensemble s':>11} {'ratio':>7}")
    for env in envs:
        a = statistics.median(seconds[env, "sequential"])
        b = statistics.median(seconds[env, "ensemble"])
        print(f"  {env:<22} {a:13.2f} {b:11.2f} {a / b:7.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hidden", type=int, nargs="*", default=[64, 128, 256],
        help="hidden units N, one table each (default 64 128 256)",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, default=64, help="trials per batch (default 64)")
    parser.add_argument("--steps", type=int, default=100, help="time steps (default 100)")
    parser.add_argument("--inputs", type=int, default=3, help="input and output channels")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (default 7)")
    parser.add_argument("--iters", type=int, default=10, help="iterations per repeat (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats of 3 iterations")
    parser.add_argument("--profile", action="store_true", help="profile RateRNN training steps")
    parser.add_argument(
        "--no-users-ground", action="store_true", help="skip the fresh-process, busy-core part"
    )
    parser.add_argument(
        "--ensemble", type=int, default=16, help="networks of the ensemble case (0 skips it)"
    )
    parser.add_argument("--ensemble-hidden", type=int, default=64, help="their hidden units")
    parser.add_argument(
        "--ensemble-steps", type=int, default=20, help="training steps of every fit (default 20)"
    )
    parser.add_argument(
        "--ensemble-repeats", type=int, default=3, help="timed repeats of the ensemble case"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    if args.quick:
        args.repeats, args.iters, args.warmup = 3, 3, 1
        args.ensemble_steps, args.ensemble_repeats = 5, 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); batch {args.batch}, "
        f"{args.steps} steps; median of {args.repeats} x {args.iters} iters; "
        f"load average {loadavg()}"
    )
    for n_hidden in args.hidden:
        time_size(args, n_hidden)
    print(f"\nload average {loadavg()}")
    if not args.no_users_ground:
        users_ground(args.quick)
    if args.ensemble:
        ensemble_case(args)


if __name__ == "__main__":
    main()
