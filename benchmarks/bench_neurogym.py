"""Milliseconds per batch of 64 trials: an adapted NeuroGym environment beside NeuroGym's
own ``Dataset`` and beside neurodyn's native task of the same kind.

Three ways to get 64 trials of perceptual decision making at the same ``dt``:

* ``adapted``: ``from_neurogym("PerceptualDecisionMaking-v0").batch(64, seed=k)``, 64
  whole trials, trial-aligned, with mask, variables and periods, seeded;
* ``Dataset``: ``neurogym.Dataset(..., batch_size=64, seq_len=L)`` with ``L`` the
  adapted batch's length, which streams trials back to back into windows (one call's
  time, averaged over ``--calls`` calls so that its cache refills are counted);
* ``native``: ``make_task("perceptual_dm").batch(64, seed=k)``.

Beside them, one training step on the adapted batch (forward, backward and Adam step
of a ``--hidden``-unit rate RNN with the masked cross-entropy), to show that
generating a batch does not dominate training. The methods take turns within each
of ``--repeats`` repeats, in an order rotated from one repeat to the next; medians are
printed, with the ratios of one run.

    python benchmarks/bench_neurogym.py
    python benchmarks/bench_neurogym.py --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import torch

from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import from_neurogym, make_task
from neurodyn.train import masked_cross_entropy


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _dataset(batch_size: int, seq_len: int, dt: float):
    import neurogym

    with warnings.catch_warnings():
        # gymnasium warns that NeuroGym's environments declare no render_modes
        warnings.simplefilter("ignore", UserWarning)
        return neurogym.Dataset(
            "PerceptualDecisionMaking-v0",
            env_kwargs={"dt": dt},
            batch_size=batch_size,
            seq_len=seq_len,
        )


def _calls(dataset, n: int) -> None:
    with warnings.catch_warnings():
        # NeuroGym's Dataset reads new_trial through gymnasium's wrapper, which warns
        # (the adapter silences the same warning the same way)
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(n):
            dataset()


def _train_step(task, batch, hidden: int):
    net = RateRNN(task.n_inputs, hidden, task.n_outputs, dt=task.dt, tau=100.0, seed=0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    u = torch.as_tensor(batch.inputs)
    y, m = torch.as_tensor(batch.targets), torch.as_tensor(batch.mask)

    def step():
        opt.zero_grad()
        loss = masked_cross_entropy(net(u).outputs, y, m)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--dt", type=float, default=20.0)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--calls", type=int, default=10, help="Dataset calls per timing")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.repeats, args.calls = 5, 4
    adapted = from_neurogym("PerceptualDecisionMaking-v0", dt=args.dt)
    native = make_task("perceptual_dm", dt=args.dt)
    first = adapted.batch(args.batch, seed=0)
    dataset = _dataset(args.batch, first.n_steps, args.dt)
    step = _train_step(adapted, first, args.hidden)
    step()  # warm up autograd and the allocator
    methods = {
        "adapted": lambda k: adapted.batch(args.batch, seed=k),
        "Dataset": lambda k: _calls(dataset, args.calls),
        "native": lambda k: native.batch(args.batch, seed=k),
        "train step": lambda k: step(),
    }
    times = {name: [] for name in methods}
    names = list(methods)
    for k in range(args.repeats):
        # Rotate the order, so that each method follows the training step (whose
        # OpenMP threads may still spin on the cores) equally often.
        for name in names[k % len(names) :] + names[: k % len(names)]:
            fn = methods[name]
            ms = _timed(lambda fn=fn, k=k: fn(k))
            times[name].append(ms / (args.calls if name == "Dataset" else 1))
    med = {name: statistics.median(v) for name, v in times.items()}
    load = os.getloadavg()
    print(
        f"{args.batch} trials of PerceptualDecisionMaking at dt={args.dt:g} ms "
        f"({first.n_steps} steps); {args.repeats} repeats, medians; torch threads "
        f"{torch.get_num_threads()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for name, ms in med.items():
        print(f"  {name:<11} {ms:8.2f} ms")
    print(f"  adapted / Dataset     {med['adapted'] / med['Dataset']:.2f}")
    print(f"  adapted / native      {med['adapted'] / med['native']:.2f}")
    print(f"  adapted / train step  {med['adapted'] / med['train step']:.2f}")


if __name__ == "__main__":
    main()
