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
# # Bring your own task: NeuroGym environments, and one network trained on 20 tasks
#
# NeuroGym is where the field keeps its cognitive tasks. Any of its environments becomes
# a neurodyn task with `from_neurogym`: its observations are the inputs, its ground truth
# the targets, its periods the loss mask and the trial's timing, and its trial
# dictionary the per-trial variables. Trials stay whole and aligned, one per row, and a
# seed gives the same batch bit for bit, even for environments that draw from Python's
# or NumPy's global random state.
#
# The second half trains one rate network on the 20 tasks of Yang, Joglekar, Song,
# Newsome & Wang (Nature Neuroscience 2019), NeuroGym's `yang19` collection with a rule
# input, and runs the paper's analyses: the task variance of every unit in every task,
# clusters of units by task variance, the fractional task variance of two tasks, and the
# composition of task representations.
#
# With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) every size shrinks; the network
# is then barely trained, so the figures show the analyses' form more than the paper's
# result. `neurodyn reproduce yang2019` runs the full comparison with the paper.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurodyn
from neurodyn.analysis import (
    cluster_task_variance,
    fractional_task_variance,
    task_composition,
    task_representation,
    task_variance,
)
from neurodyn.plotting import plot_fractional_variance, plot_task_variance
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import from_neurogym
from neurodyn.train import fit

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
N_HIDDEN = 32 if FAST else 128
N_STEPS = 40 if FAST else 1000
N_EVAL = 16 if FAST else 64

# %% [markdown]
# ## One environment
#
# An environment id (and its arguments: `dt`, `timing`, ...) is all it takes. The
# channels are named from the environment's spaces.

# %%
pdm = from_neurogym("PerceptualDecisionMaking-v0", dt=20)
print(pdm.input_names, pdm.output_names, pdm.loss)
batch = pdm.batch(8, seed=0)
print(batch.inputs.shape, list(batch.variables))

# %% [markdown]
# The oracle answers with the environment's own ground truth, so it scores 100 % on
# its task, as it does on neurodyn's native tasks; the same seed gives the same batch.

# %%
scores = pdm.evaluate(pdm.oracle(batch), batch)
print("oracle accuracy:", scores["correct"].mean())
assert np.array_equal(pdm.batch(8, seed=0).inputs, batch.inputs)

# %% [markdown]
# From the command line the same environment is `neurogym:PerceptualDecisionMaking-v0`:
#
# ```bash
# neurodyn train --task neurogym:PerceptualDecisionMaking-v0 --task-option dt=20 --out runs/pdm
# neurodyn tasks --neurogym      # every installed environment, and whether it adapts
# ```
#
# ## Twenty tasks, one network
#
# `"yang19"` names the collection: its 20 environments interleaved trial by trial, with
# one rule input per task telling the network which one it is doing. Each trial records
# its task as the variable `rule`, which the analyses below split by.
#
# By default the adapter weighs fixation steps 0.05 against 1 for decision steps, as
# NeuroGym's own yang19 example does. A trial only counts as correct if the network also
# holds fixation until the go cue, and with that weighting most short trainings break it;
# `fixation_weight=1` weighs every step the same, which enforces fixation as Yang et al.'s
# cost does, and with a learning rate of 5e-3 the network learns several tasks within a
# few minutes on a CPU.

# %%
task = from_neurogym("yang19", dt=20, fixation_weight=1.0)
print(len(task.rules), "tasks:", ", ".join(task.rules))
print(task.n_inputs, "inputs (fixation, two rings of 16, 20 rules);", task.n_outputs, "outputs")

net = RateRNN(task.n_inputs, N_HIDDEN, task.n_outputs, dt=20.0, tau=100.0,
              nonlinearity="relu", noise_rec=0.05, seed=0)  # fmt: skip
result = fit(net, task, n_steps=N_STEPS, batch_size=64, lr=5e-3, val_every=max(N_STEPS // 5, 1),
             n_validation=128, seed=0, progress=False)  # fmt: skip
net.eval()
print(f"{result.steps} steps; validation accuracy {result.history[-1]['val_accuracy']:.2f}")

# %% [markdown]
# The network is simulated on each task separately (`rule=` fixes the task of every
# trial), one Dataset per task, and scored on it.

# %%
activity = {rule: neurodyn.simulate(net, task, n_trials=N_EVAL, seed=i, rule=rule)
            for i, rule in enumerate(task.rules)}  # fmt: skip
accuracy = {rule: float(ds["correct"].mean()) for rule, ds in activity.items()}
fig, ax = plt.subplots(figsize=(8, 2.5))
ax.bar(range(len(accuracy)), list(accuracy.values()))
ax.set_xticks(range(len(accuracy)), list(accuracy), rotation=90)
ax.set(ylabel="accuracy", ylim=(0, 1))
plt.show()

# %% [markdown]
# ## Task variance and clusters
#
# The task variance of unit $i$ in task $A$ is the variance of its activity across the
# trials of $A$, averaged over time (fixation left out):
#
# $$\mathrm{TV}_i(A) = \big\langle \operatorname{Var}_{\text{trials}}\, r_i(t) \big\rangle_t ,$$
#
# normalised by its largest value over tasks. Units whose summed variance exceeds
# $10^{-3}$ are *active*; k-means on their normalised task variances, with $k$ chosen by
# the silhouette score, finds groups of units that serve the same tasks.

# %%
tv = task_variance(activity)
clusters = cluster_task_variance(tv, k=range(2, min(12, tv.attrs["n_active"])), seed=0)
print(tv.attrs["n_active"], "active units,", clusters.attrs["n_clusters"], "clusters")
fig, ax = plt.subplots(figsize=(8, 4))
plot_task_variance(clusters, ax=ax)
plt.show()

# %% [markdown]
# ## How two tasks share units
#
# The fractional task variance $\mathrm{FTV}_i(A, B) = (\mathrm{TV}_i(A) -
# \mathrm{TV}_i(B)) / (\mathrm{TV}_i(A) + \mathrm{TV}_i(B))$ is $\pm 1$ for a unit
# serving only one of the two tasks and 0 for one serving both equally. Its histogram
# over the active units tells whether two tasks use separate units (mass at $\pm 1$) or
# shared ones (mass near 0).

# %%
ftv = fractional_task_variance(tv, [("dm1", "dm2"), ("ctxdm1", "ctxdm2"), ("go", "anti")])
plot_fractional_variance(ftv)
plt.show()

# %% [markdown]
# ## Composition
#
# Each task is represented by the population activity at the end of its stimulus,
# averaged over trials. If the representations compose, Anti − Go + Dly Go lands near
# Dly Anti: the difference between the Anti and Go rules carries over to the delayed
# tasks.

# %%
with_stimulus = {r: ds for r, ds in activity.items() if "stimulus" in ds.attrs["periods"]}
rep = task_representation(with_stimulus, period="stimulus")
comp = task_composition(rep, {"anti": 1, "go": -1, "dlygo": 1}, "dlyanti")
print(f"nearest to Anti - Go + Dly Go: {comp.attrs['nearest']} "
      f"(Dly Anti ranks {comp.attrs['target_rank']} of {comp.sizes['task']})")  # fmt: skip

# %% [markdown]
# At tutorial size the network is far from the paper's, trained on millions of trials:
# `neurodyn reproduce yang2019` trains larger networks (with and without Dale's law)
# over several seeds and checks each of the paper's claims on them — clusters that
# develop with training, units shared or not between task pairs, the Anti units whose
# lesion impairs the Anti tasks, and the composition — saying which held.
