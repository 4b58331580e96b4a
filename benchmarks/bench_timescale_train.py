"""Milliseconds per training iteration of TimescaleRNN, beside the step it had before.

One iteration is forward + backward + Adam step on a fixed N-parity-like batch (random
bits, one input), with the loss of the paper: cross-entropy of every head at the last
step, summed over heads. Two ways of stepping the recurrence run side by side: the
model's (``step``: the drive split into its time steps once, ``unbind``) and the one it
had before (``indexed``: ``drive[:, t]`` read inside the loop, for which autograd builds
a full-size zero gradient at every step, so that the backward pass grows with T²).
Each pair is warmed up, then timed as the median over ``--repeats`` runs of ``--iters``
iterations (the two take turns within each repeat), first in the default environment
(PyTorch's own thread count) and then with PyTorch pinned to one thread, in the same run.

A fused scan with a hand-written backward pass (as the rate network has) was measured
at 1.0-1.2× this step on one thread at both sizes: at the paper's size the three
(256, 500) @ (500, 500) products per step that any implementation needs dominate, and
at the reproduction's the read-out of 59 heads and the optimiser do; it did not earn
its place and the model keeps the step.

Sizes: the paper's (500 neurons, batch 256, 29 heads as the multi-head curriculum has at
N = 30, sequences of 75 bits, the mean length at N = 30) and the CPU-scale reproduction's
(64 neurons, batch 64, 59 heads, 50 bits).

    python benchmarks/bench_timescale_train.py
    python benchmarks/bench_timescale_train.py --quick --forms default
"""

from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from bench_train import loadavg, time_training

from neurodyn.rnn_models import TimescaleRNN

#: (label, neurons, batch, heads, steps) of each size timed.
SIZES = [("paper", 500, 256, 29, 75), ("reproduction", 64, 64, 59, 50)]


class IndexedTimescaleRNN(TimescaleRNN):
    """TimescaleRNN stepping as it did before: ``drive[:, t]`` read inside the loop."""

    def _steps(self, drive, h, a):
        decay, phi, states = 1.0 - a, self.phi, []
        if self.form == "default":
            w_scaled_t = (a[:, None] * self.W).T
            drive = a * drive
            for t in range(drive.shape[1]):
                h = phi(torch.addmm(torch.addcmul(drive[:, t], decay, h), h, w_scaled_t))
                states.append(h)
        else:
            w_t = self.W.T
            for t in range(drive.shape[1]):
                h = torch.addcmul(decay * h, a, phi(torch.addmm(drive[:, t], h, w_t)))
                states.append(h)
        return torch.stack(states, dim=1)


def make_step(net, u, labels):
    """One training iteration: every head's cross-entropy at the last step, Adam."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    h0 = torch.Generator().manual_seed(1)

    def step():
        last = net(u, generator=h0).outputs[:, -1].view(-1, net.n_heads, 2)
        loss = F.cross_entropy(last.transpose(1, 2), labels, reduction="none").mean(0).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_pair(args, form, n_hidden, batch, heads, steps):
    """Median ms per iteration of the step and of the former indexed step."""
    gen = torch.Generator().manual_seed(0)
    u = torch.randint(0, 2, (batch, steps, 1), generator=gen).float()
    labels = torch.randint(0, 2, (batch, heads), generator=gen)
    step = TimescaleRNN(1, n_hidden, n_heads=heads, form=form, seed=0)
    indexed = IndexedTimescaleRNN(1, n_hidden, n_heads=heads, form=form, seed=0)
    fns = [make_step(net, u, labels) for net in (step, indexed)]
    per_iter = time_training(fns, warmup=args.warmup, iters=args.iters, repeats=args.repeats)
    return [statistics.median(runs) for runs in per_iter]


def table(args, environment):
    print(f"\n{environment}: torch {torch.get_num_threads()} thread(s), load {loadavg()}")
    print(f"  {'size':<13} {'form':<8} {'N':>4} {'batch':>5} {'T':>4} "
          f"{'step ms':>9} {'indexed':>9} {'ratio':>9}")  # fmt: skip
    for label, n_hidden, batch, heads, steps in SIZES:
        if label not in args.sizes:
            continue
        for form in args.forms:
            step_ms, indexed_ms = time_pair(args, form, n_hidden, batch, heads, steps)
            print(f"  {label:<13} {form:<8} {n_hidden:>4} {batch:>5} {steps:>4} "
                  f"{step_ms:9.1f} {indexed_ms:9.1f} {indexed_ms / step_ms:9.2f}")  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--forms", nargs="+", default=["default", "mod"], choices=["default", "mod"]
    )
    parser.add_argument(
        "--sizes", nargs="+", default=[s[0] for s in SIZES], choices=[s[0] for s in SIZES]
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    parser.add_argument("--iters", type=int, default=2, help="iterations per repeat (default 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations first")
    parser.add_argument("--quick", action="store_true", help="3 repeats of 1 iteration")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.iters = 3, 1
    print(f"torch {torch.__version__}; median of {args.repeats} x {args.iters} iterations")
    table(args, "default environment")
    torch.set_num_threads(1)
    table(args, "pinned")
    print(f"\nload average {loadavg()}")


if __name__ == "__main__":
    main()
