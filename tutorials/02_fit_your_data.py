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
# # Fitting a network to your own data
#
# Tasks are one way to train; the other is to hand `neurodyn.fit` the inputs and
# targets of an experiment you ran: the stimuli an animal saw and the choices it made,
# or the stimuli and recorded neural activity. The network is then a *model of the
# subject*, and you can ask how it solves what the subject solved.
#
# This tutorial uses a stand-in for recorded behaviour: a simulated subject doing a
# random-dot motion discrimination. On each trial it sees noisy momentary evidence for
# 500 ms, waits, and on a go cue reports "left" or "right". Its choices come from
# accumulating the evidence it saw, plus internal noise and occasional lapses, which
# is the drift-diffusion picture of perceptual decisions. We fit a rate network to the
# subject's **choices** (not to the correct answers), then compare the network's
# psychometric curve with the subject's on held-out trials.
#
# With `NEURODYN_TUTORIAL_FAST=1` every size shrinks so the tutorial runs in seconds.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
if FAST:
    matplotlib.use("Agg")

import numpy as np
import xarray as xr

import neurodyn
from neurodyn import plotting
from neurodyn.io import dataset_to_batch
from neurodyn.rnn_models import RateRNN

out_dir = Path(tempfile.mkdtemp(prefix="neurodyn_fit_data_"))
N_TRAIN = 256 if FAST else 3000
N_TEST = 128 if FAST else 2000
N_HIDDEN = 24 if FAST else 64
N_STEPS = 60 if FAST else 1500

# %% [markdown]
# ## 1. The data
#
# `fit` reads an `xarray.Dataset` with
#
# | name | dims | meaning |
# |---|---|---|
# | `inputs` | `(trial, time, input)` | what the network receives at each step |
# | `targets` | `(trial, time, output)` | what it should output |
# | `mask` (optional) | `(trial, time, output)` | loss weight of each target entry (0 = not scored) |
# | `attrs["dt"]` | | the time step in **ms** |
#
# Coordinates `input`/`output` (channel names), `time` (ms) and anything along `trial`
# (conditions, the subject's choice, ...) are optional and carried along.
#
# Our subject's trials are laid out on a 20 ms grid: 200 ms fixation, 500 ms stimulus,
# 100 ms delay, 200 ms response. Input channel `evidence` carries the momentary motion
# evidence (mean proportional to the signed coherence, plus noise), `go` turns on for
# the response. The target is 0 until the go cue and then the subject's choice, ±1.

# %%
DT = 20.0
PERIODS_MS = {"fixation": 200, "stimulus": 500, "delay": 100, "response": 200}
COHERENCES = np.array([0.0, 3.2, 6.4, 12.8, 25.6, 51.2])  # percent


def record_session(n_trials, seed):
    """Simulate a subject's session: the stimuli it saw and the choices it made."""
    rng = np.random.default_rng(seed)
    steps = {k: int(v / DT) for k, v in PERIODS_MS.items()}
    on = np.cumsum([0, *steps.values()])
    stim = slice(on[1], on[2])
    resp = slice(on[3], on[4])
    n_time = on[-1]

    coherence = rng.choice(COHERENCES, n_trials)
    side = rng.choice([-1, 1], n_trials)  # the correct answer: left (-1) or right (+1)
    evidence = side[:, None] * coherence[:, None] / 100 + 0.3 * rng.standard_normal(
        (n_trials, steps["stimulus"])
    )
    # The subject accumulates what it saw, adds internal noise, and lapses 5 % of the time.
    decision = evidence.sum(1) + 1.0 * rng.standard_normal(n_trials)
    choice = np.where(decision > 0, 1, -1)
    lapse = rng.random(n_trials) < 0.05
    choice[lapse] = rng.choice([-1, 1], lapse.sum())

    inputs = np.zeros((n_trials, n_time, 2), dtype=np.float32)
    inputs[:, stim, 0] = evidence
    inputs[:, resp, 1] = 1.0
    targets = np.zeros((n_trials, n_time, 1), dtype=np.float32)
    targets[:, resp, 0] = choice[:, None]
    mask = np.ones_like(targets)
    return xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), inputs),
            "targets": (("trial", "time", "output"), targets),
            "mask": (("trial", "time", "output"), mask),
        },
        coords={
            "time": ("time", (np.arange(n_time) + 1) * DT, {"units": "ms"}),
            "input": ["evidence", "go"],
            "output": ["choice"],
            "coherence": ("trial", coherence, {"units": "%"}),
            "ground_truth": ("trial", side),
            "choice": ("trial", choice),
        },
        attrs={"dt": DT},
    )


data = record_session(N_TRAIN, seed=0)
held_out = record_session(N_TEST, seed=1)  # a second "session" for testing
print(data)

# %% [markdown]
# How good is the subject? It agrees with the correct side more often as coherence
# grows; its psychometric curve (the fraction of "right" choices against signed
# coherence) is what we want the network to reproduce.

# %%
print("subject accuracy:", float((data.choice == data.ground_truth).mean()))
print(plotting.psychometric(data)[["p_choice", "n_trials"]].to_dataframe().round(3))

# %% [markdown]
# ## 2. What a malformed dataset looks like
#
# `fit` checks the dataset before training and says what is wrong, naming the variable
# and what it expected. Three common mistakes: the dimensions in the wrong order, a
# missing time step, and a NaN from a dropped sample.

# %%
transposed = data.transpose("time", "trial", "input", "output")
no_dt = data.copy()
no_dt.attrs = {}
with_nan = data.copy(deep=True)
with_nan["inputs"][3, 10, 0] = np.nan

probe = RateRNN(2, 8, 1, dt=DT, seed=0)
for name, bad in [("transposed", transposed), ("no dt", no_dt), ("NaN", with_nan)]:
    try:
        neurodyn.fit(probe, bad, n_steps=1, progress=False)
    except ValueError as err:
        print(f"{name:>10}: ValueError: {err}")

# %% [markdown]
# ## 3. Fit a network
#
# A rate network with time constants of 100 ms and a little recurrent noise. `fit`
# holds out `val_fraction` of the trials (a seeded split) to validate on, and trains on
# random mini-batches of the rest; with a Dataset the loss is the masked MSE.

# %%
model = RateRNN(2, N_HIDDEN, 1, dt=DT, tau=100.0, noise_rec=0.05, seed=0)
result = neurodyn.fit(
    model,
    data,
    n_steps=N_STEPS,
    batch_size=64,
    lr=1e-2,
    val_every=20 if FAST else 100,
    val_fraction=0.2,
    seed=0,
    progress=not FAST,
)
print(result.message, "| last validation loss:", round(result.history[-1]["val_loss"], 4))
ax_curve = plotting.plot_training_curve(result)

# %% [markdown]
# ## 4. Run the fitted network on held-out trials
#
# `dataset_to_batch` turns the held-out Dataset into a batch, and `simulate` runs the
# network on it and labels the result. The subject's trial variables are not part of
# the batch, so we copy them over from the held-out data.

# %%
batch = dataset_to_batch(held_out)
sim = neurodyn.simulate(model, batch, seed=0)
sim = sim.assign_coords(
    coherence=held_out.coherence, ground_truth=held_out.ground_truth, choice=held_out.choice
)
print(sim[["outputs", "rates"]])

# %% [markdown]
# The network's choice is the sign of its mean output during the response period.
# We compare it with the subject's choice trial by trial, and with an *ideal
# accumulator* that sums the same evidence without internal noise or lapses: no model
# that sees only the stimulus can predict the subject's noise, so the ideal accumulator
# is a reference for how well any model can agree with the subject.

# %%
response = sim.time > (PERIODS_MS["fixation"] + PERIODS_MS["stimulus"] + PERIODS_MS["delay"])
model_choice = np.sign(sim.outputs.sel(output="choice").where(response).mean("time"))
sim = sim.assign_coords(model_choice=("trial", model_choice.values.astype(int)))
ideal = np.sign(held_out.inputs.sel(input="evidence").sum("time"))

mse = float(((sim.outputs - sim.targets) ** 2).where(sim.mask > 0).mean())
print(f"held-out masked MSE: {mse:.3f}")
print(f"network agrees with the subject on {float((sim.model_choice == sim.choice).mean()):.1%}")
print(f"ideal accumulator agrees on        {float((ideal == held_out.choice).mean()):.1%}")

# %%
fig_trials = plotting.plot_trials(sim, trials=(0, 1, 2))

# %% [markdown]
# Finally the psychometric curves of subject and network on the same held-out
# trials, each with a logistic fit. A deterministic read-out of the *expected* choice
# tends to be steeper than the subject, whose choices also carry internal noise and
# lapses; the network's own noise (`noise_rec`, `noise_in`) is where such variability
# would be modelled.

# %%
ax_psy = plotting.plot_psychometric(sim, choice="choice", label="subject")
ax_psy = plotting.plot_psychometric(sim, choice="model_choice", label="network", ax=ax_psy)
for who in ("choice", "model_choice"):
    fit_ = plotting.fit_psychometric(plotting.psychometric(sim, choice=who))
    print(f"{who:>12}: bias {fit_.bias:+.2f} %, slope {fit_.slope:.3f} per %")

# %%
figures = {"trials": fig_trials, "training": ax_curve.figure, "psychometric": ax_psy.figure}
for name, fig in figures.items():
    print("wrote", plotting.save_figure(fig, out_dir / f"{name}.png"))
print("wrote", neurodyn.save_model(model, out_dir / "subject_model"))
