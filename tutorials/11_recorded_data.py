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
# # From recordings to mechanism
#
# A network fitted to recorded activity is only useful if it computes the way the
# recorded circuit does. This tutorial follows that path on data whose mechanism is
# known: a *teacher* network trained on the 2-bit flip-flop plays the brain, and its
# Poisson spikes are the recording.
#
# 1. a recording built from arrays, and the same data written to and read back from
#    an NWB file;
# 2. a *student* network fitted to the spikes alone (`fit(..., objective="poisson")`);
# 3. held-out metrics: rate $R^2$ against the true rates and co-smoothing bits per
#    spike on neurons the student never saw;
# 4. Dynamical Similarity Analysis (DSA): is the student's dynamics nearer the
#    teacher's than an untrained network's?
# 5. the fixed points of teacher and student: the mechanism itself;
# 6. a curriculum on the recording: the first 100 ms of every trial, then whole trials.
#
# `neurodyn reproduce ground-truth` runs the whole validation at full size, on this
# teacher and on a second one, a context-dependent integrator (Mante et al. 2013), whose
# students are also asked to integrate the evidence along the same kind of mode and to
# select the same modality in each context. With `NEURODYN_TUTORIAL_FAST=1` every size
# shrinks and the student is fitted for only 150 steps, so its scores stay near the
# untrained network's: the steps run, the recovery needs the full sizes.

# %%
import copy
import os
import tempfile

import numpy as np
import torch

import neurodyn
from neurodyn.analysis.similarity import dsa
from neurodyn.analysis import between_attractors, find_fixed_points, sample_initial_states
from neurodyn.io import first_bins, read_nwb, recording, write_nwb
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop
from neurodyn.train.fit_metrics import co_bps, rate_r2

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
torch.set_num_threads(1)
N_HIDDEN = 32
TEACHER_STEPS = 250 if FAST else 600
STUDENT_STEPS = 150 if FAST else 1500
N_TRIALS = 64 if FAST else 320
print(f"FAST={FAST}")

# %% [markdown]
# ## 1. A teacher and its spikes
#
# The teacher's rates are non-negative (ReLU) and read as spikes per ms, so the
# count in a 10-ms bin is Poisson with mean $\phi(x)\,\Delta t$.

# %%
task = FlipFlop(n_bits=2, dt=10.0, timing={"trial": 400.0})
teacher = RateRNN(2, N_HIDDEN, 2, dt=10.0, tau=50.0, nonlinearity="relu", seed=0)
result = neurodyn.fit(teacher, task, n_steps=TEACHER_STEPS, lr=1e-2, seed=0, progress=False)
print("teacher validation accuracy", result.history[-1]["val_accuracy"])

sim = neurodyn.simulate(teacher, task, n_trials=N_TRIALS, seed=1)
rates = sim["rates"].values[..., :20]  # 20 recorded units: 16 to fit, 4 held out
counts = np.random.default_rng(2).poisson(rates * 10.0).astype(float)
rec = recording(counts, sim["inputs"].values, dt=10.0, kind="counts")
print(rec)

# %% [markdown]
# ## 2. The same recording through NWB
#
# `write_nwb` stores the counts as a Units table of spike times, the inputs as
# TimeSeries (named after their channels, which the file's notes list) and the trials
# table; `read_nwb` bins the spikes back at `dt` and reads those input channels back
# (for a file from elsewhere, name the input TimeSeries with `inputs=`).

# %%
path = os.path.join(tempfile.mkdtemp(), "teacher.nwb")
write_nwb(rec, path, session_description="flip-flop teacher, Poisson spikes")
back = read_nwb(path, dt=10.0)
same = all(np.array_equal(back[v].values, rec[v].values) for v in ("activity", "inputs"))
print("counts and inputs identical after the NWB round trip:", same)

# %% [markdown]
# ## 3. A student fitted to the spikes alone
#
# The student is a softplus rate network of the same size; the 16 held-in neurons are
# its first 16 units (`observed="units"`), so its rates are predictions of theirs.

# %%
split = N_TRIALS - N_TRIALS // 4
train, test = np.arange(split), np.arange(split, N_TRIALS)
student = RateRNN(2, N_HIDDEN, 2, dt=10.0, tau=50.0, nonlinearity="softplus", seed=3)
untrained = copy.deepcopy(student)
neurodyn.fit(student, back.isel(trial=train, neuron=np.arange(16)), objective="poisson",
             observed="units", n_steps=STUDENT_STEPS, lr=2e-2, lr_schedule="cosine",
             seed=0, progress=False)  # fmt: skip

# %% [markdown]
# ## 4. Held-out metrics
#
# Rate $R^2$ compares the student's rates with the teacher's true ones on test trials;
# co-bps fits a Poisson readout from the student's rates to the 4 held-out neurons on
# the training trials and scores it on the test trials, in bits per spike above a
# constant rate.

# %%
with torch.no_grad():
    u = torch.as_tensor(sim["inputs"].values[test], dtype=torch.float32)
    out, out0 = student(u, noise=False), untrained(u, noise=False)
r2 = rate_r2(out.rates.numpy()[..., :16], rates[test][..., :16])
held_out = np.arange(16, 20)
bps = co_bps(student, back, held_out, train, test)
bps0 = co_bps(untrained, back, held_out, train, test)
print(f"rate R² {r2:.3f}; co-bps {bps:.3f} (untrained {bps0:.3f})")

# %% [markdown]
# ## 5. Do the dynamics match? DSA
#
# DSA summarises each system's trajectories by the linear operator that advances
# them, and compares operators up to a rotation, so the networks' units need not
# correspond. Each system is first reduced to its 4 leading principal components.


# %%
def leading(x, k=4):
    flat = x.reshape(-1, x.shape[-1])
    v = np.linalg.svd(flat - flat.mean(0), full_matrices=False)[2][:k].T
    return (x - flat.mean(0)) @ v


s, t, c = (leading(a.numpy()) for a in (out.states, torch.as_tensor(sim["states"].values[test]),
                                         out0.states))  # fmt: skip
d_teacher, d_control = dsa(s, t).distance, dsa(s, c).distance
print(f"DSA student–teacher {d_teacher:.3f}, student–untrained {d_control:.3f}")

# %% [markdown]
# ## 6. The mechanism: fixed points of teacher and student
#
# A 2-bit flip-flop stores its four bit patterns as four stable points, with saddles
# between them (4 with one unstable mode, 1 with two). The search starts from states
# each network visits (plus noise), then again from the roots it found and the states
# between its stable points (`between_attractors`), where the saddles that
# trajectories seldom approach lie. Counts are by number of unstable modes.
#
# At this tutorial's size the student matches the rates well (R² near 0.9) but holds
# fewer memories than the teacher: 400-ms trials rarely ask it to hold one for long, so
# a slow point serves as well as a stable one. `neurodyn reproduce ground-truth` shows
# what recovers the whole structure at full size (a smooth softplus teacher, 2-s
# trials, 3000 fitting steps): the rate student's fixed points match the teacher's
# 27-point cube on two seeds of three.


# %%
def fixed_point_counts(model, states):
    x0 = sample_initial_states(states, 256, noise_scale=0.5, seed=0)
    roots = find_fixed_points(model, None, x0, progress=False).roots
    stable = np.asarray(roots.x)[np.asarray(roots.n_unstable) == 0]
    x0 = np.concatenate([np.asarray(roots.x), between_attractors(stable)])
    n_unstable = np.asarray(find_fixed_points(model, None, x0, progress=False).roots.n_unstable)
    return {int(k): int(np.sum(n_unstable == k)) for k in np.unique(n_unstable)}


print("teacher", fixed_point_counts(teacher, sim["states"].values[test]))
print("student", fixed_point_counts(student, out.states.numpy()))

# %% [markdown]
# ## 7. A curriculum on the recording
#
# Stages of a `Curriculum` may hold recordings: here the student first fits the first
# 100 ms of every trial (`first_bins`) for a third of the steps, then whole trials. A
# stage may also end on criteria (`advance=Criterion("val_loss", "<=", ...)`, the
# held-out Poisson loss in nats per bin). Each stage holds out the same trials, and a
# run resumed from its checkpoint continues in its stage.

# %%
fitted = back.isel(trial=train, neuron=np.arange(16))
curriculum = neurodyn.Curriculum([
    neurodyn.Stage(first_bins(fitted, 10), max_steps=STUDENT_STEPS // 3, name="first 100 ms"),
    neurodyn.Stage(fitted, name="whole trials"),
])  # fmt: skip
staged = copy.deepcopy(untrained)
result = neurodyn.fit(staged, curriculum, n_steps=STUDENT_STEPS, lr=2e-2, val_every=10,
                      seed=0, progress=False)  # fmt: skip
print("steps per stage", result.stage_steps, "final held-out loss",
      round(result.history[-1]["val_loss"], 3))  # fmt: skip
