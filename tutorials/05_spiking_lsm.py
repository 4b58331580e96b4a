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
# # Spiking liquid state machines and the astrocyte (NALSM)
#
# A *liquid state machine* (LSM) feeds its input into a fixed, randomly wired network
# of spiking neurons, the "liquid", and trains only a linear readout of the liquid's
# activity. How well that works depends on the liquid's dynamics: too quiet and it
# forgets its input, too excitable and every input looks the same. Ivanov & Michmizos
# (NeurIPS 2021) let the synapses learn by STDP and add an **astrocyte** that turns up
# depression whenever the liquid fires more than its input; its gain $w_A$ steers the
# liquid's **branching factor** (BF, descendants per spike) toward the critical value 1.
#
# This tutorial:
#
# 1. builds a liquid and looks at its wiring as a `networkx` graph,
# 2. drives it with a digit and draws the spike raster,
# 3. sweeps $w_A$ and watches the branching factor fall,
# 4. trains a readout on the liquid's spike counts.
#
# With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) everything is smaller so it
# runs in well under a minute; the numbers are then noisier.

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

import neurodyn
from neurodyn import spiking
from neurodyn.io import save_dataset
from neurodyn.plotting import save_figure
from neurodyn.plotting import plot_liquid, plot_raster, plot_rates

out_dir = Path(tempfile.mkdtemp(prefix="neurodyn_spiking_"))
GRID = (6, 6, 6) if FAST else (10, 10, 10)
N_IMAGES = 300 if FAST else 1797
W_ASTRO = (0.002, 0.02, 0.2) if FAST else (0.002, 0.0075, 0.015, 0.05, 0.1, 0.2)
print(f"FAST={FAST}; writing to {out_dir}")
neurodyn.show_config();

# %% [markdown]
# ## 1. A liquid on a grid
#
# The liquid's neurons sit on a $d_1 \times d_2 \times d_3$ grid; 80 % are excitatory.
# Neuron $j$ connects to $i$ with probability $C\,e^{-(D_{ij}/\lambda)^2}$ that falls
# with their distance $D_{ij}$ ($\lambda = 3$), where $C$ depends on the two types
# (Maass et al. 2002). Each input channel reaches a random 15 % of the neurons.

# %%
liquid = spiking.build_liquid(GRID, n_inputs=64, seed=0)
print(f"{liquid.n} neurons ({liquid.n_exc} excitatory), {liquid.pre.size} recurrent synapses, "
      f"{liquid.input_pre.size} input synapses")
print("connection densities:", {k: round(v, 4) for k, v in liquid.density().items()})

graph = liquid.to_networkx()
in_degree = np.array([d for _, d in graph.in_degree()])
print(f"mean in-degree {in_degree.mean():.1f}, max {in_degree.max()}")
# Neighbours are close: the mean length of a synapse is short compared with the grid.
pos = liquid.positions
lengths = np.linalg.norm(pos[liquid.pre] - pos[liquid.post], axis=1)
print(f"mean synapse length {lengths.mean():.2f} grid units")

ax = plot_liquid(liquid, max_edges=200)
save_figure(ax.figure, out_dir / "liquid.png")

# %% [markdown]
# ## 2. Spikes
#
# We use scikit-learn's 8x8 digits. Each image becomes 64 per-millisecond event
# probabilities (pixel / image sum, scaled so the brightest pixel of the set is 1);
# each event makes an input neuron fire. A `NALSM` wires pixels → input neurons →
# liquid with the paper's constants; `initialise` runs the paper's initialisation
# phase (random samples for 20 ms each, weights carried over), and `features`
# simulates each sample for 250 ms, every sample starting from those weights and
# changing its own copy under astrocyte-modulated STDP.

# %%
images, labels = spiking.load_digits()
images, labels = images[:N_IMAGES], labels[:N_IMAGES]
probs, scale = spiking.images_to_probabilities(images)
print(f"{probs.sum(1).mean():.1f} input events per ms on average")

model = spiking.NALSM(64, spiking.NALSMConfig(grid=GRID), seed=0)
model.initialise(probs, n_samples=200 if FAST else 1000, seed=0)
ds = model.features(probs[:4], sample_ids=np.arange(4), record_spikes=True, seed=0)
print(ds)

fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True, constrained_layout=True)
plot_raster(ds, 0, populations=["input", "exc", "inh"], ax=axes[0], markersize=0.8)
plot_rates(ds, bin_ms=5.0, ax=axes[1])
save_figure(fig, out_dir / "raster.png")

# %% [markdown]
# The result is an `xarray.Dataset`: spike `counts` per sample and unit, the spikes
# themselves as a ragged array (`spike_sample`, `spike_time`, `spike_unit`), and the
# astrocyte's depression rate over time. It saves to netCDF like every neurodyn result.

# %%
rates = spiking.firing_rates(ds)
for pop in ("input", "exc", "inh"):
    print(f"{pop:>5}: {float(rates[rates.population == pop].mean()):.1f} Hz")
isi = spiking.isi_statistics(ds)
print(f"mean ISI in the liquid {np.nanmean(isi['isi_mean'].values[-liquid.n:]):.1f} ms")
save_dataset(ds, out_dir / "nalsm_spikes.nc")

# %% [markdown]
# ## 3. The astrocyte sets the branching factor
#
# For every liquid spike, the branching factor compares the spikes of the neuron's
# targets in the next 4 ms with the spikes of its sources in the previous 4 ms. We
# rebuild the model for each $w_A$ (same liquid, same input spikes) and measure it
# on a few samples. The paper finds ≈1.4 at $w_A = 0.002$ falling to ≈0.9 at 0.2.

# %%
bf = []
for w_a in W_ASTRO:
    m = spiking.NALSM(64, spiking.NALSMConfig(grid=GRID, w_astro=w_a), seed=0)
    m.initialise(probs, n_samples=200 if FAST else 1000, seed=0)
    spikes = m.features(probs[:10], sample_ids=np.arange(10), record_spikes=True, seed=0)
    bf.append(spiking.branching_factor(spikes, m.adjacency()).attrs["bf_mean"])
    print(f"w_A = {w_a:<7g} BF = {bf[-1]:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
ax.plot(W_ASTRO, bf, "o-")
ax.axhline(1.0, color="0.7", lw=0.8)
ax.set(xscale="log", xlabel="astrocyte gain $w_A$", ylabel="branching factor")
save_figure(fig, out_dir / "branching_factor.png")

# %% [markdown]
# ## 4. A readout
#
# The features are each sample's liquid spike counts, normalised as in the paper;
# a multinomial logistic regression reads the class out. The penalty is chosen on a
# validation split.

# %%
counts = spiking.liquid_counts(model.features(probs, sample_ids=np.arange(N_IMAGES), seed=0))
order = np.random.default_rng(0).permutation(N_IMAGES)
n_tr, n_va = int(0.6 * N_IMAGES), int(0.2 * N_IMAGES)
tr, va, te = order[:n_tr], order[n_tr : n_tr + n_va], order[n_tr + n_va :]
x_tr, s = spiking.normalise_counts(counts[tr])
x_va, _ = spiking.normalise_counts(counts[va], scale=s)
x_te, _ = spiking.normalise_counts(counts[te], scale=s)
readout, val_acc = spiking.fit_readout(x_tr, labels[tr], x_va, labels[va])
print(f"validation {val_acc:.3f}, test {readout.score(x_te, labels[te]):.3f} (chance 0.1)")

# %% [markdown]
# For the whole experiment (three seeds of the paper's seven $w_A$ and the plain-STDP
# and fixed-weight baselines, a figure, tables beside the paper's numbers and the
# paper's claims checked seed by seed), run `neurodyn.spiking.reproduce_nalsm(out_dir)`
# — about ten minutes of one core.

# %%
print(sorted(p.name for p in out_dir.iterdir()))
