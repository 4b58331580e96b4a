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
# # Wave-RNNs: traveling waves that remember the recent past
#
# Keller, Muller, Sejnowski & Welling (ICLR 2024) built a recurrent network whose
# neurons sit on rings and whose recurrent weights are a *circular convolution*
# along each ring,
#
# $$ h_t = \mathrm{ReLU}\big(u \star h_{t-1} + V x_t + b\big), $$
#
# with $c$ channels of $n$ neurons and a $c \times c \times 3$ kernel $u$. Initialised
# as a pure shift ($u_{i,i,:} = (0, 0, 1)$) and with every input written at one
# *source* neuron, activity travels one neuron per step around the ring: the state is
# a ring buffer of the last $n$ inputs. The paper shows that this makes memory tasks
# (copy, adding) far easier than for an identity-initialised ReLU RNN (iRNN) of the
# same size.
#
# This tutorial trains both on the copy task, watches the wave, decodes the past
# from the state, and looks at the Jacobian spectrum of the wave map.
#
# With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) every size shrinks so the
# tutorial runs in well under a minute; the networks are then less well trained.

# %%
import os

import matplotlib

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
if FAST:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

import neurodyn
from neurodyn.plotting import (
    plot_circulant_spectrum,
    plot_decoding,
    plot_space_time,
    plot_wave_spectrum,
)
from neurodyn.analysis.waves import (
    circulant_spectrum,
    decode_past_inputs,
    space_time,
    wave_spectrum,
)
from neurodyn.dynamics import dynamics
from neurodyn.rnn_models import IRNN, WaveRNN
from neurodyn.rnn_models.irnn import irnn_parameter_count, matched_irnn_size
from neurodyn.rnn_models.wave import wave_parameter_count
from neurodyn.tasks.sequence import Copy

torch.set_num_threads(1)
DELAY = 5 if FAST else 30
N_NEURONS = 24 if FAST else 64
N_CHANNELS = 3 if FAST else 6
STEPS = 250 if FAST else 1500
BATCH = 32 if FAST else 128
print(f"FAST={FAST}")

# %% [markdown]
# ## 1. Two networks with the same number of parameters
#
# The copy task shows 10 symbols, waits `DELAY` blank steps, gives a delimiter and
# asks for the 10 symbols back. The iRNN's size is chosen so that both networks have
# (nearly) the same number of trainable parameters.

# %%
task = Copy(delay=DELAY)
n_params = wave_parameter_count(task.n_inputs, task.n_outputs, N_NEURONS, N_CHANNELS)
n_irnn = matched_irnn_size(n_params, task.n_inputs, task.n_outputs)
wave = WaveRNN(task.n_inputs, task.n_outputs, n_neurons=N_NEURONS, n_channels=N_CHANNELS, seed=0)
irnn = IRNN(task.n_inputs, n_irnn, task.n_outputs, seed=0)
print(f"wRNN: {N_CHANNELS} rings of {N_NEURONS} neurons, {n_params} parameters")
print(
    f"iRNN: {n_irnn} neurons, {irnn_parameter_count(task.n_inputs, n_irnn, task.n_outputs)} parameters"
)

# %% [markdown]
# ## 2. Train both on copy, with the same budget
#
# `neurodyn.fit` trains with Adam on fresh trials every step. The loss is the
# cross-entropy over all steps (reported as cross-entropy; the paper's code logged
# it divided once more by the batch size).

# %%
results = {}
for name, net in (("wRNN", wave), ("iRNN", irnn)):
    results[name] = neurodyn.fit(
        net,
        task,
        n_steps=STEPS,
        batch_size=BATCH,
        lr=3e-3,
        val_every=25,
        n_validation=128,
        seed=0,
        progress=not FAST,
    )
    last = results[name].history[-1]
    print(
        f"{name}: cross-entropy {last['val_loss']:.3g}, accuracy {last.get('val_accuracy', 0):.2f}"
    )

fig, ax = plt.subplots(figsize=(5, 3))
for name, res in results.items():
    ds = res.to_xarray()
    ax.semilogy(ds["step"], ds["val_loss"], label=name)
ax.set(xlabel="training step", ylabel="validation cross-entropy", title=f"Copy, delay {DELAY}")
ax.legend()

# %% [markdown]
# ## 3. Watch the wave
#
# First the untrained network, driven by random input: each channel's activity,
# neuron against time, is a set of diagonal bands. The 2-D space-time FFT puts the
# power on one line, $f_t = -v k_x$, and the line that holds most power gives the
# velocity $v$ in neurons per step (negative: the shift moves activity towards lower
# indices).

# %%
fresh = WaveRNN(task.n_inputs, task.n_outputs, n_neurons=N_NEURONS, n_channels=N_CHANNELS, seed=0)
x_random = torch.rand(8, 3 * N_NEURONS, task.n_inputs, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    h_fresh = fresh(x_random).states
spec_fresh = wave_spectrum(h_fresh, N_CHANNELS, skip=N_NEURONS)
print(
    f"untrained: v = {spec_fresh.velocity:+.2f} neurons/step, "
    f"{spec_fresh.diagonal_fraction:.0%} of the power on the line "
    f"(chance {spec_fresh.chance_fraction:.0%})"
)

batch = task.batch(16, seed=1)
with torch.no_grad():
    h_trained = wave(torch.from_numpy(batch.inputs)).states
spec_trained = wave_spectrum(h_trained, N_CHANNELS)
print(
    f"trained on copy: v = {spec_trained.velocity:+.2f} neurons/step, "
    f"{spec_trained.diagonal_fraction:.0%} of the power on the line"
)

fig, ax = plt.subplots(1, 3, figsize=(13, 3.5), layout="constrained")
plot_space_time(space_time(h_fresh, N_CHANNELS), ax=ax[0])
ax[0].set_title("untrained, random input")
plot_wave_spectrum(spec_fresh, ax=ax[1])
plot_space_time(space_time(h_trained, N_CHANNELS), ax=ax[2])
ax[2].set_title("trained, a copy trial")

# %% [markdown]
# ## 4. Decode the past
#
# If the state stores the recent past, a linear read-out should recover the input
# $L$ steps ago from the state now. `decode_past_inputs` fits ridge regressions on
# half of the trials and reports the held-out $R^2$ for every lag.

# %%
test = task.batch(256, seed=2)
lags = range(0, 10 + DELAY + 1)
decoded = {}
for name, net in (("wRNN", wave), ("iRNN", irnn)):
    with torch.no_grad():
        h = net(torch.from_numpy(test.inputs)).states
    # The symbol channels (not blank / delimiter): which symbol was shown L steps ago.
    decoded[name] = decode_past_inputs(h, test.inputs[:, :, :8], lags=lags, seed=0)
    r2 = decoded[name].r2
    print(
        f"{name}: held-out R² at lags 0, 5, 10: {r2[0]:.2f}, {r2[5]:.2f}, {r2[10]:.2f}; "
        f"mean over lags {np.nanmean(r2):.2f}"
    )
ax = plot_decoding(list(decoded.values()), labels=list(decoded))

# %% [markdown]
# ## 5. The Jacobian spectrum
#
# `dynamics(wave)` describes the network as the map
# $F(h, x) = \mathrm{ReLU}(W h + V x + b)$ with $W$ the block-circulant matrix of the
# convolution; its Jacobian is the ReLU gate times $W$. At the shift initialisation
# every eigenvalue of the convolution lies on the unit circle (each channel is a
# permutation). Training moves them; the Jacobian along a trajectory also loses the
# eigen-directions of silent (gated-off) neurons.

# %%
dyn = dynamics(wave)
h_mid = h_trained[0, 10 + DELAY // 2].numpy()  # a state in the middle of the delay
u_mid = batch.inputs[0, 10 + DELAY // 2]
jac_eig = np.linalg.eigvals(dyn.jacobian(h_mid, u_mid))
print(f"active units at this state: {(dyn.W @ h_mid + dyn.W_in @ u_mid + dyn.bias > 0).mean():.0%}")
print(f"largest |eigenvalue| of the Jacobian: {np.abs(jac_eig).max():.3f}")
init_spec = circulant_spectrum(fresh)
print(
    f"at the shift init, |λ| of the convolution lies in "
    f"[{np.abs(init_spec.eigenvalues).min():.6f}, {np.abs(init_spec.eigenvalues).max():.6f}]"
)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
plot_circulant_spectrum(init_spec, ax=ax, label="convolution at init", ms=6)
plot_circulant_spectrum(circulant_spectrum(wave), ax=ax, label="convolution, trained")
ax.plot(jac_eig.real, jac_eig.imag, "x", ms=4, label="Jacobian along a trial")
ax.legend(fontsize="small")
