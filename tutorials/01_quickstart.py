# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: a constrained rate network learns to remember three bits
#
# This tutorial walks through the whole neurodyn loop once:
#
# 1. a **task** (the 3-bit flip-flop of Sussillo & Barak, 2013),
# 2. a **biologically constrained network** (excitatory and inhibitory units that obey
#    Dale's law, a trainable time constant per neuron, and noise),
# 3. **training** with `neurodyn.fit`,
# 4. **simulation** with `neurodyn.simulate`, which returns a labelled `xarray.Dataset`,
# 5. **figures** from `neurodyn.plotting`,
# 6. **saving and loading** the model and the results.
#
# The flip-flop is the canonical memory task for reverse-engineering RNNs: each of
# three input channels receives brief +1 or -1 pulses, and the matching output must
# hold the sign of the most recent pulse until the next one. A network that solves it
# must keep $2^3 = 8$ stable memories, one per bit pattern.
#
# When the environment variable `NEURODYN_TUTORIAL_FAST=1` is set (as in the test
# suite), every size below shrinks so the tutorial runs in seconds; the results are
# then not trained to convergence, but every step runs.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
if FAST:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

import neurodyn
from neurodyn import plotting
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop

# Everything this tutorial writes goes to a fresh temporary folder.
out_dir = Path(tempfile.mkdtemp(prefix="neurodyn_quickstart_"))

N_HIDDEN = 32 if FAST else 128
TRIAL_MS = 400.0 if FAST else 1000.0
N_STEPS = 40 if FAST else 2000
BATCH_SIZE = 16 if FAST else 64
print(f"FAST={FAST}; writing to {out_dir}")

# %% [markdown]
# ## 1. The task
#
# A task describes a trial as named *periods* with durations in **milliseconds**, fills
# named input and output channels, and records *trial variables*. `dt` is the time step
# of the discretised trial, also in ms. `task.batch` draws a batch of trials; the same
# seed always gives the same batch.

# %%
task = FlipFlop(dt=10.0, n_bits=3, timing={"trial": TRIAL_MS})
print(task)
print("inputs:", task.input_names, " outputs:", task.output_names)

batch = task.batch(4, seed=0)
print("inputs (trial, time, channel):", batch.inputs.shape)
print("trial variables:", {k: v.tolist() for k, v in batch.variables.items()})

# %% [markdown]
# Besides inputs and targets, every batch has a **loss mask** of the targets' shape.
# The flip-flop does not score a bit before its first pulse (there is nothing to
# remember yet) or during a pulse (the network is switching):

# %%
print("fraction of target entries scored:", float(batch.mask.mean()))

# %% [markdown]
# ## 2. A biologically constrained network
#
# `RateRNN` is a continuous-time rate network,
#
# $$\tau_i \frac{dx_i}{dt} = -x_i + \sum_j W_{ij}\,\phi(x_j) + \sum_k W^{in}_{ik} u_k + b_i
#   + \text{noise}, \qquad y = W^{out}\phi(x) + b^{out},$$
#
# integrated with Euler steps of `dt` ms. We ask for three constraints:
#
# * **Dale's law** (`dale=True`): 80 % of units are excitatory, and every weight leaving
#   an excitatory unit stays $\ge 0$ and every weight leaving an inhibitory unit stays
#   $\le 0$ throughout training (it is a re-parameterisation, not a penalty);
# * **trainable time constants** (`train_tau=True`): each neuron's $\tau_i$ is learned,
#   and always stays above `tau_min` (which must be at least `dt`);
# * **noise** (`noise_rec`): recurrent noise whose stationary standard deviation does
#   not depend on `dt`.
#
# We start the time constants spread log-normally around 50 ms so we can see how
# training reshapes their distribution.

# %%
rng = np.random.default_rng(0)
tau_init = np.clip(50.0 * rng.lognormal(0.0, 0.4, N_HIDDEN), 20.0, 300.0)
net = RateRNN(
    task.n_inputs,
    N_HIDDEN,
    task.n_outputs,
    dt=task.dt,
    tau=tau_init,
    train_tau=True,
    dale=True,
    e_fraction=0.8,
    noise_rec=0.05,
    seed=0,
)
print({k: v for k, v in net.config().items() if k != "tau"})

W = net.W.detach().numpy()
is_e = net.sign.numpy() > 0
print(f"{is_e.sum()} E and {(~is_e).sum()} I units")
print("weights out of E units all >= 0:", bool((W[:, is_e] >= 0).all()))
print("weights out of I units all <= 0:", bool((W[:, ~is_e] <= 0).all()))
tau_before = net.tau.detach().numpy().copy()

# %% [markdown]
# ## 3. Training
#
# `neurodyn.fit` trains with Adam on fresh trials at every step (the batch of step
# `k` depends only on the seed and `k`, so an interrupted run with a `checkpoint` path
# resumes exactly). It validates every `val_every` steps on a fixed validation set and
# returns a `FitResult` with the log.

# %%
result = neurodyn.fit(
    net,
    task,
    n_steps=N_STEPS,
    batch_size=BATCH_SIZE,
    lr=3e-3,
    val_every=10 if FAST else 100,
    n_validation=32 if FAST else 256,
    seed=0,
    progress=not FAST,
)
print(result.message)
print("last validation:", result.history[-1])

# %% [markdown]
# Dale's law still holds after training, whatever the optimiser did:

# %%
W = net.W.detach().numpy()
print("E weights >= 0:", bool((W[:, is_e] >= 0).all()), " I weights <= 0:",
      bool((W[:, ~is_e] <= 0).all()))

# %% [markdown]
# ## 4. Simulate, and get labelled results
#
# `neurodyn.simulate` runs the network on fresh trials and returns an `xarray.Dataset`:
# dims `trial, time, unit, input, output`, **time in ms**, per-unit coordinates (`ei`,
# `tau`), every trial variable and the task's score (`correct`) as trial coordinates,
# and attributes holding `dt`, the seed and the model and task configurations.

# %%
ds = neurodyn.simulate(net, task, n_trials=16 if FAST else 256, seed=1)
print(ds)

# %%
print("dims:", dict(ds.sizes))
print("time (ms):", ds.time.values[:3], "...", ds.time.values[-1], "| dt =", ds.attrs["dt"])
print("unit labels:", ds.ei.values[:3], "...", " tau (ms):", ds.tau.values[:3].round(1), "...")
print("pulses per trial:", ds.n_pulses.values[:8])
print("fraction of trials correct:", float(ds.correct.mean()))

# %% [markdown]
# Because everything is labelled, analyses read like the question they ask. Mean firing
# rate of excitatory versus inhibitory units, and the output error on the scored
# entries only:

# %%
print(ds.rates.groupby("ei").mean(...).to_series())
scored_error = ((ds.outputs - ds.targets) ** 2).where(ds.mask > 0).mean()
print("mean squared error on scored entries:", float(scored_error))

# %% [markdown]
# ## 5. Figures
#
# `plot_trials` shows inputs (top) and, per output channel, the target (dashed; faded
# where it is not scored) and the network's output (solid). `plot_training_curve`
# shows the losses (log scale) and the validation accuracy.

# %%
fig_trials = plotting.plot_trials(ds, trials=(0, 1, 2))

# %%
ax_curve = plotting.plot_training_curve(result)

# %% [markdown]
# How did training move the time constants? The histogram compares them before and
# after; the learned values are also in the dataset as the `tau` coordinate of `unit`.
# Expect small changes here: Adam moves each parameter by about `lr` per step, and the
# parameter behind $\tau$ is measured in ms, so $\tau$ moves by at most about `lr` ms per
# step. The flip-flop needs memory held by attractors rather than long time constants;
# tasks that need long timescales (such as N-parity) show larger shifts.

# %%
tau_after = ds.tau.values
fig_tau, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
bins = np.linspace(min(tau_before.min(), tau_after.min()), max(tau_before.max(), tau_after.max()), 25)
ax.hist(tau_before, bins=bins, histtype="step", lw=2, label="before training")
ax.hist(tau_after, bins=bins, histtype="step", lw=2, ls="--", label="after training")
ax.set_xlabel(r"time constant $\tau$ (ms)")
ax.set_ylabel("number of units")
ax.legend()
print(f"median tau: {np.median(tau_before):.1f} ms before, {np.median(tau_after):.1f} ms after; "
      f"mean |change| {np.abs(tau_after - tau_before).mean():.2f} ms")

# %% [markdown]
# `save_figure` writes a figure atomically (never a half-written file) and closes it.

# %%
for name, fig in [("trials", fig_trials), ("training", ax_curve.figure), ("tau", fig_tau)]:
    print("wrote", plotting.save_figure(fig, out_dir / f"{name}.png"))

# %% [markdown]
# ## 6. Save and load
#
# A model file holds the weights, masks, E/I signs, time constants and the constructor
# configuration, so `load_model` rebuilds the network without this script (and without
# unpickling any code). With the noise switched off, the loaded network reproduces the
# original exactly.

# %%
model_path = neurodyn.save_model(net, out_dir / "flipflop", extra={"task": task.config()})
loaded = neurodyn.load_model(model_path)
print("saved to", model_path)

a = neurodyn.simulate(net, task, n_trials=4, seed=2, noise=False)
b = neurodyn.simulate(loaded, task, n_trials=4, seed=2, noise=False)
xr.testing.assert_equal(a, b)
print("loaded model reproduces the original:", True)

# %% [markdown]
# Datasets round-trip through netCDF with their labels and attributes intact:

# %%
nc_path = neurodyn.save_dataset(ds, out_dir / "flipflop_evaluation.nc")
ds_back = neurodyn.load_dataset(nc_path)
xr.testing.assert_identical(ds, ds_back)
print("netCDF round trip is identical; attrs:", sorted(ds_back.attrs))

# %% [markdown]
# ## Where next
#
# * `02_fit_your_data.py`: fit a network to your own recorded inputs and targets.
# * Longer training (`FAST` off) gives a network that holds all three bits; its fixed
#   points are the natural next thing to find.
