"""Seconds per epoch of ``neurodyn.fit`` on a recording beside the same fit on a task-shaped Dataset.

A recording of 200 neurons, 500 trials and 100 bins (Poisson counts, 4 inputs) is
fitted by a 128-unit rate RNN through its readout (``observed="readout"``,
``n_output=200``) with the Poisson objective, and with MSE; beside it the same
network trains on an inputs/targets Dataset of the same shape (targets along
``output``, MSE), as a task would. Each fit runs ``--epochs`` epochs of mini-batches
of 64 (400 training trials, 100 held out and validated at the end of every epoch);
the time per epoch is the fit's wall time over its epochs (set-up included; one
untimed small fit of each kind runs first). The
three take turns in every repeat; medians over ``--repeats``, ratios to the task
Dataset in the same run. Default environment: neurodyn's own thread policy.

    python benchmarks/bench_fit_recorded.py
    python benchmarks/bench_fit_recorded.py --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import xarray as xr

from neurodyn import fit
from neurodyn.io import recording
from neurodyn.rnn_models import RateRNN

DT = 10.0


def make_data(n_trial, n_time, n_neuron, n_input, seed=0):
    """A counts recording and an inputs/targets Dataset of the same shape."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_trial, n_time, n_input)).astype(np.float32)
    counts = rng.poisson(0.5, size=(n_trial, n_time, n_neuron)).astype(np.float32)
    rec = recording(counts, u, dt=DT, kind="counts")
    task = xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), u),
            "targets": (("trial", "time", "output"), counts),
        },
        attrs={"dt": DT},
    )
    return rec, task


def timed_fit(data, n_hidden, n_output, epochs, **kw) -> float:
    net = RateRNN(data.sizes["input"], n_hidden, n_output, dt=DT, tau=50.0, seed=0)
    t0 = time.perf_counter()
    fit(net, data, epochs=epochs, batch_size=64, lr=1e-3, val_every="epoch", progress=False, **kw)
    return (time.perf_counter() - t0) / epochs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=500)
    p.add_argument("--time", type=int, default=100)
    p.add_argument("--neurons", type=int, default=200)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="50 trials, 1 epoch, 1 repeat")
    a = p.parse_args(argv)
    if a.quick:
        a.trials, a.epochs, a.repeats = 50, 1, 1
    rec, task = make_data(a.trials, a.time, a.neurons, 4)
    cases = {
        "task Dataset (inputs/targets, mse)": (task, {}),
        "recording, readout, poisson": (rec, {"observed": "readout", "objective": "poisson"}),
        "recording, readout, mse": (rec, {"observed": "readout", "objective": "mse"}),
    }
    # One untimed fit of each kind first: the first call pays one-time set-up costs.
    for data, kw in cases.values():
        timed_fit(data.isel(trial=slice(0, 10)), a.hidden, a.neurons, 1, **kw)
    times = {name: [] for name in cases}
    for _ in range(a.repeats):
        for name, (data, kw) in cases.items():
            times[name].append(timed_fit(data, a.hidden, a.neurons, a.epochs, **kw))
    base = statistics.median(times["task Dataset (inputs/targets, mse)"])
    load = os.getloadavg()
    print(
        f"{a.trials} trials x {a.time} bins x {a.neurons} neurons, {a.hidden} units, "
        f"batch 64, {a.epochs} epoch(s), {a.repeats} repeat(s); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"{'case':<40} {'s/epoch (median)':>17} {'ratio':>7}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<40} {med:>17.3f} {med / base:>7.2f}")


if __name__ == "__main__":
    main()
