"""Training iterations per second of neurodyn's wave-RNN beside the paper's Conv1d form.

One iteration is forward + cross-entropy + backward + Adam step on a copy-task batch
(n = 100 neurons, c = 6 channels, delay T = 30, i.e. 51 steps, batch 128, the
paper's copy network). The paper's form is ``ReferenceWaveRNN``: ``torch.nn.Conv1d(c,
c, 3, padding_mode="circular")`` stepped in a Python loop under autograd, built with
the same weights. Both are checked to give the same loss and gradients first, then
timed in turns within each repeat; medians over ``--repeats`` runs of ``--iters``
iterations, and their ratio, all from this one run.

    python benchmarks/bench_wave_rnn.py                # n=100, c=6, T=30, batch 128
    python benchmarks/bench_wave_rnn.py --quick
    python benchmarks/bench_wave_rnn.py --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from neurodyn.rnn_models import WaveRNN
from neurodyn.tasks.sequence import Copy
from neurodyn.train.losses import masked_cross_entropy


def _step(forward, opt, u, y, m):
    opt.zero_grad(set_to_none=True)
    loss = masked_cross_entropy(forward(u), y, m)
    loss.backward()
    opt.step()
    return loss


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--neurons", type=int, default=100)
    p.add_argument("--channels", type=int, default=6)
    p.add_argument("--delay", type=int, default=30)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="fewer repeats, for a first look")
    args = p.parse_args(argv)
    if args.quick:
        args.iters, args.repeats = 2, 3
    torch.set_num_threads(args.threads)

    task = Copy(delay=args.delay)
    batch = task.batch(args.batch, seed=0)
    u, y, m = (torch.from_numpy(a) for a in (batch.inputs, batch.targets, batch.mask))
    fast = WaveRNN(
        task.n_inputs, task.n_outputs, n_neurons=args.neurons, n_channels=args.channels, seed=0
    )
    ref = fast.reference()

    # Same loss and gradients first (float32: agreement to ~1e-6 relative).
    losses, grads = [], []
    for forward, params in (
        (lambda x: fast(x).outputs, fast.parameters()),
        (lambda x: ref(x).outputs, ref.parameters()),
    ):
        loss = masked_cross_entropy(forward(u), y, m)
        g = torch.autograd.grad(loss, list(params))
        losses.append(loss.item())
        grads.append(torch.cat([x.flatten() for x in g]))
    # Both list their parameters in the same order (kernel, kernel bias, V, b, read-out),
    # so the gradients compare entry by entry.
    diff = (grads[0] - grads[1]).abs().max().item()
    scale = grads[1].abs().max().item()

    models = {
        "neurodyn WaveRNN": (lambda x: fast(x).outputs, fast),
        "paper Conv1d loop": (lambda x: ref(x).outputs, ref),
    }
    opts = {k: torch.optim.Adam(mod.parameters(), lr=1e-4) for k, (_, mod) in models.items()}
    for k, (fwd, _mod) in models.items():  # warm-up
        _step(fwd, opts[k], u, y, m)
    times = {k: [] for k in models}
    for _ in range(args.repeats):
        for k, (fwd, _mod) in models.items():
            start = time.perf_counter()
            for _ in range(args.iters):
                _step(fwd, opts[k], u, y, m)
            times[k].append((time.perf_counter() - start) / args.iters)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["paper Conv1d loop"] / med["neurodyn WaveRNN"]

    steps = batch.n_steps
    print(
        f"copy task: n={args.neurons}, c={args.channels}, delay={args.delay} "
        f"({steps} steps), batch {args.batch}, {args.threads} thread(s)"
    )
    print(
        f"same loss: {losses[0]:.6f} vs {losses[1]:.6f}; "
        f"max gradient difference {diff:.2e} (largest gradient {scale:.2e})"
    )
    print(f"{'model':<22}{'ms/iter':>10}{'iter/s':>10}")
    for k, v in med.items():
        print(f"{k:<22}{1e3 * v:>10.1f}{1 / v:>10.2f}")
    print(f"speed-up (paper form / neurodyn): {ratio:.2f}x  (target >= 3x)")
    return {"median_s": med, "ratio": ratio, "grad_diff": diff}


if __name__ == "__main__":
    main()
