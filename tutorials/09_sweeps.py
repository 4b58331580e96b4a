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
# # Sweeps: is a mechanism universal, or one network's accident?
#
# A fixed-point structure found in one trained network is an anecdote. Maheswaranathan,
# Williams, Golub, Ganguli & Sussillo (NeurIPS 2019) trained thousands of networks of
# different architectures on the same tasks and found that their *geometry* (how the
# activity is laid out in state space) differs between architectures, while their
# *topology* (which fixed points there are, and how they connect) is shared.
#
# This tutorial asks that question for the 3-bit flip-flop with a **sweep**: vanilla
# RNN, GRU, LSTM and a Dale's-law rate network, several seeds each, trained and
# analysed as `neurodyn train` + `neurodyn analyze` would, on a dask cluster, gathered
# into one labelled Dataset. A sweep is written as TOML (or the same dict):
#
# ```toml
# task = "flip_flop"
# [task_config]
# timing = { trial = 500.0 }
# [model_config]
# n_hidden = 32
# [fit]
# n_steps = 600
# lr = 0.01
# [analyses.fixed_points]
# inputs = "zero"
# [grid]
# model = ["rnn", "gru", "lstm"]
# seed = [0, 1, 2]
#
# [[points]]          # the rate network: its own options (Dale's law, τ)
# model = "rate"
# seed = 0
# "model_config.dale" = true
# "model_config.tau" = 50.0
# # ... and the same for seeds 1 and 2
# ```
#
# A point names only what differs from the base run. Every option is checked before
# anything trains: a `dale` option given to a GRU would be refused, naming it.
#
# and run with `neurodyn sweep sweep.toml --out runs/ff`, or from Python as below. The
# same specification runs on a SLURM or PBS cluster through dask-jobqueue (see the
# README). With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) every size shrinks;
# the networks are then less well trained, and fewer of them show the full cube.

# %%
import os
import tempfile

import matplotlib

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
if FAST:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import neurodyn
from neurodyn.analysis import cca_similarity
from neurodyn.plotting import plot_sweep
from neurodyn.tasks import FlipFlop

SEEDS = [0, 1] if FAST else [0, 1, 2]
spec = {
    "task": "flip_flop",
    "task_config": {"dt": 10.0, "timing": {"trial": 500.0}},
    "model_config": {"n_hidden": 24 if FAST else 32},
    "fit": {"n_steps": 250 if FAST else 600, "lr": 1e-2, "val_every": 50},
    "n_eval_trials": 32,
    "analyses": {"fixed_points": {"inputs": "zero", "n_inits": 256 if FAST else 1024}},
    "grid": {"model": ["rnn", "gru", "lstm"], "seed": SEEDS},
    "points": [
        {"model": "rate", "seed": s, "model_config.dale": True, "model_config.tau": 50.0}
        for s in SEEDS
    ],
}
sweep_spec = neurodyn.sweeps.load_spec(spec)
out = tempfile.mkdtemp(prefix="neurodyn-sweep-")
print(f"FAST={FAST}; {len(sweep_spec)} networks into {out}")
print("swept:", sweep_spec.parameters)
print([p.name for p in sweep_spec.points])

# %% [markdown]
# ## Run it
#
# By default `neurodyn.sweep` starts a `distributed.LocalCluster` of one worker process
# per free core, each run on its share of the threads; `client=` (or
# `scheduler="tcp://..."`) uses a cluster you already have. Finished runs are skipped
# if you run it again, interrupted ones resume from their checkpoints.

# %%
ds = neurodyn.sweep(spec, out, progress=not FAST)
print(ds[["model", "seed", "val_loss", "n_fixed_points", "n_stable"]].to_dataframe())

# %% [markdown]
# ## Topology: the fixed points of every network
#
# A network that stores three bits has the 27 fixed points of a cube: 8 stable corners
# (the memories), 12 saddles with one unstable mode on the edges, 6 with two on the
# faces and 1 with three at the centre.

# %%
classes = ["n_stable", "n_unstable_1", "n_unstable_2", "n_unstable_3"]
classes = [c for c in classes if c in ds]
counts = np.stack([ds[c].values for c in classes], axis=1)
labels = [f"{m} s{s}" for m, s in zip(ds["model"].values, ds["seed"].values, strict=True)]
cube = np.array([8, 12, 6, 1])[: len(classes)]
is_cube = np.all(counts == cube, axis=1) & (ds["n_fixed_points"].values == 27)
for label, row, ok in zip(labels, counts, is_cube, strict=True):
    print(f"{label:<9} {dict(zip(classes, row.tolist(), strict=True))}  cube: {ok}")
print(f"{int(is_cube.sum())} of {len(is_cube)} networks have the 27-point cube")

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
x = np.arange(len(labels))
bottom = np.zeros(len(labels))
for j, c in enumerate(classes):
    axes[0].bar(x, counts[:, j], bottom=bottom, label=c.removeprefix("n_"))
    bottom += counts[:, j]
axes[0].axhline(27, color="k", lw=0.8, ls=":", label="cube (27)")
axes[0].set_xticks(x, labels, rotation=45, ha="right", fontsize="small")
axes[0].set(ylabel="fixed points", title="Topology: fixed points per stability class")
axes[0].legend(fontsize="x-small")
plot_sweep(ds, "val_loss", "model", ax=axes[1])
fig.tight_layout()

# %% [markdown]
# ## Geometry: how alike is their activity?
#
# Every network runs the same trials; singular vector CCA compares the top principal
# components of their hidden states (1 = the same activity up to a linear map of the
# units). Maheswaranathan et al. found architectures separate in this measure while
# sharing their topology.

# %%
task = FlipFlop(dt=10.0, timing={"trial": 500.0})
states = []
for run_dir in ds["run_dir"].values:
    model = neurodyn.load_model(os.path.join(out, str(run_dir), "model.npz"))
    sim = neurodyn.simulate(model, task, n_trials=32, seed=123, noise=False)
    states.append(sim["rates"].transpose("trial", "time", "unit").values)
n = len(states)
similarity = np.ones((n, n))
for i in range(n):
    for j in range(i + 1, n):
        similarity[i, j] = similarity[j, i] = cca_similarity(states[i], states[j], 6).similarity
models = ds["model"].values
same = np.equal.outer(models, models) & ~np.eye(n, dtype=bool)
different = ~np.equal.outer(models, models)
print(f"mean CCA similarity, same architecture: {similarity[same].mean():.3f}")
print(f"mean CCA similarity, different architectures: {similarity[different].mean():.3f}")

fig, ax = plt.subplots(figsize=(6, 5))
im = ax.imshow(similarity, vmin=0, vmax=1, cmap="viridis")
ax.set_xticks(range(n), labels, rotation=90, fontsize="small")
ax.set_yticks(range(n), labels, fontsize="small")
ax.set_title("Geometry: CCA similarity of hidden states")
fig.colorbar(im, ax=ax)
fig.tight_layout()

# %% [markdown]
# Where the networks are trained well, the topology column agrees (every architecture
# builds the cube) while the similarity matrix shows blocks: networks of one
# architecture resemble each other more than they resemble the others. The whole
# sweep is one file, `sweep.nc`, read back with `neurodyn.open_sweep(out)`
# (`evaluations=True` attaches each run's simulated trials, read lazily).

# %%
again = neurodyn.open_sweep(out)
print(again.attrs["scheduler"], "|", again.sizes)
if not FAST:
    plt.show()
