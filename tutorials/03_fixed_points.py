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
# # Fixed points: opening the black box of a trained network
#
# A trained recurrent network is a dynamical system, and much of what it computes is
# written in the points where its dynamics stand still. Sussillo & Barak (2013) showed
# how to find them: start from many states the network visits, and drive each to a
# root of the *residual*, the distance the state moves per step,
#
# $$ r(x) = F(x, u) - x \quad\text{(a map)}, \qquad r(x) = f(x, u) \quad\text{(an ODE)}, $$
#
# at a constant input $u$. Linearizing around each root then tells which directions
# attract, which repel, and how fast.
#
# This tutorial does that twice:
#
# 1. for a network that holds **three bits** (the flip-flop), whose fixed points form a
#    cube: 8 stable memories and 19 saddles between them;
# 2. for a network doing **context-dependent integration** (Mante, Sussillo, Shenoy &
#    Newsome, 2013), where a slow mode integrates the evidence, and its *selection
#    vector* decides which input gets integrated in which context.
#
# neurodyn's `find_fixed_points` solves $r(x) = 0$ by Newton's method with a
# Levenberg–Marquardt safeguard, using exact Jacobians in float64; after each full
# Newton step it takes cheap chord steps that reuse the Jacobian's LU factors. It
# needs 3–10 factorisations where the first-order method of the original recipe
# (Adam on $q = \tfrac12\|r\|^2$) needs hundreds to thousands of iterations, and it
# reaches rounding error instead of stopping at $q < 10^{-12}$.
#
# With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) every size shrinks so the
# tutorial runs in about a minute; the networks are then less well trained.

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
from neurodyn.analysis import (
    between_attractors,
    condition_inputs,
    find_fixed_points,
    line_attractor,
    sample_initial_states,
    tile_conditions,
)
from neurodyn.dynamics import dynamics
from neurodyn.plotting import plot_eigenvalues, plot_fixed_points
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop, make_task

torch.set_num_threads(1)
N_INITS = 512 if FAST else 2048
CTX_HIDDEN = 32 if FAST else 100
CTX_STEPS = 60 if FAST else 3000
print(f"FAST={FAST}")

# %% [markdown]
# ## 1. A network that remembers three bits
#
# A small rate network, $\tau\dot x = -x + W\tanh(x) + W_{in}u + b$, trained on the
# 3-bit flip-flop (short 500-ms trials keep training to seconds).

# %%
ff_task = FlipFlop(dt=10.0, timing={"trial": 500.0})
net = RateRNN(3, 32, 3, dt=10.0, tau=50.0, seed=0)
fit = neurodyn.fit(net, ff_task, n_steps=400, lr=1e-2, seed=0, val_every=100, progress=False)
print("validation loss", round(fit.history[-1]["val_loss"], 4),
      "accuracy", fit.history[-1]["val_accuracy"])  # fmt: skip

# %% [markdown]
# ## 2. The network as a dynamical system
#
# Analyzers never look at a model class; they see a `Dynamics`: the state size, the
# residual, and exact Jacobians, batched over many states. `neurodyn.dynamics.dynamics`
# builds one for any neurodyn model, PyTorch RNN/GRU/LSTM (or cell), custom module
# `cell(u, h) -> h`, or NumPy function. A rate network is analysed as its ODE, so
# speeds are per millisecond and do not depend on the simulation step `dt`.

# %%
dyn = dynamics(net)
print(dyn)
x = np.zeros((2, dyn.n_state))
print("velocity shape", dyn.velocity(x, np.zeros(3)).shape,
      "| Jacobian shape", dyn.jacobian(x, np.zeros(3)).shape)  # fmt: skip

# %% [markdown]
# ## 3. Where to start: states the network visits, plus noise
#
# The standard recipe samples states from simulated trials and adds Gaussian noise
# (σ = 0.5), so that the search also covers the saddles that trajectories pass near
# but never rest on.

# %%
evaluation = neurodyn.simulate(net, FlipFlop(dt=10.0), n_trials=64, seed=1)
x0 = sample_initial_states(evaluation, N_INITS, noise_scale=0.5, seed=0)
print("initial states", x0.shape)

# %% [markdown]
# ## 4. Find the fixed points
#
# The flip-flop stores its bits at zero input, so that is the input we analyse at.
# Every candidate ends as a **root**, a **slow point** (a local minimum of $q$ above
# zero, reported separately) or **failed**; the distinct points are then counted.

# %%
fps = find_fixed_points(net, None, x0, progress=False)
print(fps)
print("summary:", fps.summary())
roots = fps.roots
print(f"largest q among roots: {roots.q.max():.1e} (per ms², the ODE's units)")
print("Newton iterations per candidate: median", np.median(fps.candidates.n_iter))

# %% [markdown]
# A trained flip-flop network typically has the 27 fixed points of a cube: 8 stable
# points (the corners: one per stored pattern), 12 saddles with one unstable mode (the
# edges), 6 with two (the faces) and 1 with three (the centre). The read-out at the
# stable points shows the eight bit patterns.

# %%
stable = roots[roots.stability == "stable"]
readout = np.tanh(stable.x) @ net.W_out.detach().numpy().T + net.bias_out.detach().numpy()
print("read-out signs at the stable points:\n", np.sign(readout).astype(int))

# %% [markdown]
# Saddles that trajectories seldom approach (the faces' and the centre's) may be
# missed from states sampled on trajectories, depending on the seed. They lie between
# the memories: `between_attractors` gives the centroids of pairs, quadruples and all
# eight stable points, and a second search from those states and the roots already
# found (each its own start, so none is lost) finds any the first search missed.

# %%
x0_between = np.concatenate([roots.x, between_attractors(stable.x)])
again = find_fixed_points(net, None, x0_between, progress=False)
print("distinct points by unstable modes: first search",
      np.bincount(roots.n_unstable).tolist(), "| again, also from between the memories",
      np.bincount(again.roots.n_unstable).tolist())  # fmt: skip

# %% [markdown]
# ## 5. Linearization: what the saddles do
#
# Each point carries its Jacobian's eigenvalues, right and left eigenvectors, growth
# rates (per ms) and time constants. A saddle with one unstable mode sits between two
# memories: nudged along its unstable eigenvector it falls to one memory, nudged the
# other way to the other, and the two differ in exactly one bit.

# %%
saddles = roots[roots.stability == "unstable_1"]
if len(saddles):
    s = 0
    v = np.real(saddles.right[s][:, 0])
    print("unstable mode: growth rate", round(float(saddles.growth_rate[s, 0]), 4), "per ms")
    starts = np.stack([saddles.x[s] + 0.05 * v, saddles.x[s] - 0.05 * v])
    with torch.no_grad():
        out = net(torch.zeros(2, 200, 3), initial_state=torch.tensor(starts, dtype=torch.float32),
                  noise=False)  # fmt: skip
    print(
        "bits after falling off the saddle either way:\n",
        np.sign(out.outputs[:, -1].numpy()).astype(int),
    )

# %% [markdown]
# The classic picture: fixed points in the principal-component space of the trajectories,
# coloured by stability, with the unstable modes drawn as short lines; and the
# eigenvalue spectra, here against the imaginary axis since the model is an ODE.

# %%
fig = plt.figure(figsize=(10, 4.5))
ax3d = fig.add_subplot(1, 2, 1, projection="3d")
plot_fixed_points(fps, evaluation, ax=ax3d, mode_scale=0.5)
plot_eigenvalues(fps, ax=fig.add_subplot(1, 2, 2))
fig.tight_layout()

# %% [markdown]
# ### The original recipe, for comparison
#
# `method="adam"` runs the Sussillo–Barak / FixedPointFinder algorithm (Adam on $q$ with
# learning rate 1 and plateau decay, up to 10 000 iterations, stopping at $q < 10^{-12}$)
# on the same initial states.

# %%
adam = find_fixed_points(net, None, x0, method="adam", progress=False)
print("adam:  ", adam.summary(), "| iterations", int(adam.candidates.n_iter[0]),
      f"| largest q among roots {adam.roots.q.max() if len(adam.roots) else float('nan'):.1e}")  # fmt: skip
print("newton:", fps.summary(), "| iterations (median)", int(np.median(fps.candidates.n_iter)))

# %% [markdown]
# ## 6. Context-dependent integration
#
# In Mante et al.'s task two noisy streams of evidence, motion and colour, arrive at
# once; a context cue says which one to report. neurodyn's `context_dm` task codes each
# modality by a pair of channels (evidence for left and right) and the context by two
# cue channels. We train a 100-unit rate network on it, as in the paper, with weak
# coherences (the ideal observer of the relevant stream is right on about 85 % of
# trials) and a stimulus whose duration, 300 to 1500 ms, the network cannot predict:
# with a fixed stimulus of 750 ms a leaky integrator whose memory lasts about half a
# second does as well as the ideal observer, and that is what training finds; a
# stimulus of unknown length makes holding the evidence for as long as it comes the
# only good solution. (`neurodyn reproduce mante2013` runs this on three seeds and
# checks the paper's claims.)

# %%
ctx_timing = {"fixation": 200.0, "stimulus": ("uniform", 300.0, 1500.0), "delay": 0.0,
              "decision": 300.0}  # fmt: skip
ctx_task = make_task("context_dm", dt=20.0, timing=ctx_timing, coherences=(2.0, 4.0, 8.0, 16.0))
ctx_net = RateRNN(7, CTX_HIDDEN, 3, dt=20.0, tau=100.0, noise_rec=0.1, seed=0)
ctx_fit = neurodyn.fit(ctx_net, ctx_task, n_steps=CTX_STEPS, lr=3e-3, lr_schedule="cosine",
                       seed=0, val_every=max(CTX_STEPS // 5, 1), progress=not FAST)  # fmt: skip
print("validation accuracy", ctx_fit.history[-1]["val_accuracy"])
ctx_eval = neurodyn.simulate(ctx_net, ctx_task, n_trials=512, seed=1, noise=False)

# %% [markdown]
# During the stimulus the network integrates evidence, so we analyse it at the input it
# receives then, one input per context, with zero net evidence: `condition_inputs`
# averages the inputs over the stimulus period of each context's trials, here of
# noiseless zero-coherence trials, and `tile_conditions` pairs every initial state
# with every context.

# %%
noiseless = make_task("context_dm", dt=20.0, timing={**ctx_timing, "stimulus": 750.0},
                      sigma=0.0)  # fmt: skip
zero_evidence = neurodyn.simulate(ctx_net, noiseless, n_trials=8, seed=2,
                                  coherence_motion=0.0, coherence_color=0.0)  # fmt: skip
u_ctx, ctx_names = condition_inputs(zero_evidence, by="context", period="stimulus")
input_names = [str(v) for v in ctx_eval["input"].values]
print(ctx_names)
print(np.round(u_ctx, 2), input_names)
x0_ctx, u0, cond = tile_conditions(sample_initial_states(ctx_eval, N_INITS // 2, seed=0), u_ctx)
ctx_fps = find_fixed_points(ctx_net, u0, x0_ctx, conditions=cond, condition_names=ctx_names,
                            input_names=input_names, progress=False)  # fmt: skip
print(ctx_fps)

# %% [markdown]
# ### Slow modes
#
# Modes are sorted slowest (or most unstable) first. A line attractor shows up as a
# mode with a growth rate near zero, i.e. a time constant far longer than the
# network's 100-ms units; points strung along the line share it. The band
# `marginal_tol` (1e-4 per ms by default: time constants beyond 10 s) labels such
# modes *marginal* rather than leaving them to chance. The roots alone show little of
# the line: a trained network's line is only approximately one, a few fixed points
# (often two stable ends and a saddle) joined by a curve along which the state drifts
# slowly.

# %%
for k, name in enumerate(ctx_names):
    sub = ctx_fps[(ctx_fps.condition == k) & (ctx_fps.status == "root")]
    if not len(sub):
        print(name, "no roots")
        continue
    tc = sub.time_constant[:, :3]
    classes = {
        str(c): int(n) for c, n in zip(*np.unique(sub.stability, return_counts=True), strict=True)
    }
    print(f"{name}: {len(sub)} roots {classes}; "
          f"slowest time constants (ms) of the first points:\n{np.round(tc[:5], 0)}")  # fmt: skip

# %% [markdown]
# ### The line attractor and its selection vector
#
# Mante et al. found the line from the *slow points*: the states where the flow is
# slow, not only where it stops. `line_attractor` lets the states at the end of each
# trial's stimulus relax at the context's zero-evidence input for two seconds, ten of
# the fast modes' time constants: what is left lies on the slow manifold, and
# `find_slow_manifolds` strings it into lines whose slowest mode is separated from the
# next and points along the line. On the lines it reports that mode's time constant,
# how well the line runs along the choice axis (here the difference of the mean
# end-of-stimulus states of the two choices), and, for each modality's evidence
# (right minus left channel, an input direction $e$), how much of it the slow mode
# picks up: $|r_0|\,|l_0^H B e|$, with $l_0$ the left eigenvector, the *selection
# vector*. Mante et al.'s key finding: both contexts share the line, but its selection
# vector turns with the context, so that only the relevant evidence moves the state
# along it.

# %%
end_index = np.rint(ctx_eval["stimulus_off"].values / ctx_eval.attrs["dt"]).astype(int) - 1
end_states = ctx_eval["states"].values[np.arange(ctx_eval.sizes["trial"]), end_index]
choices = ctx_eval["choice"].values
contexts = ctx_eval["context"].values
evidence = {m: (input_names.index(f"{m}_right"), input_names.index(f"{m}_left"))
            for m in ("motion", "color")}  # fmt: skip
lines = {}
for k, name in enumerate(ctx_names):
    here = contexts == k
    if not ((choices[here] == 1).any() and (choices[here] == -1).any()):
        print(f"{name}: the network chooses one side only; no choice axis")
        continue
    axis = end_states[here & (choices == 1)].mean(0) - end_states[here & (choices == -1)].mean(0)
    lines[name] = out = line_attractor(ctx_net.as_dynamics(), end_states[here], u_ctx[k],
                                       evidence=evidence, choice_axis=axis, relax_steps=100)  # fmt: skip
    if not out["n_lines"]:
        print(f"{name}: no line of slow points")
        continue
    print(f"{name}: {out['n_lines']} line(s) of {out['n_points']} slow points; slow mode "
          f"{out['time_constant']:.0f} ms, next {out['next_time_constant']:.0f} ms; "
          f"|cos| with the choice axis {out['choice_alignment']:.2f}; picks up motion "
          f"{out['pickup']['motion']:.3f}, colour {out['pickup']['color']:.3f}")  # fmt: skip

# %%
found = [name for name in lines if lines[name]["n_lines"]]
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
if found:
    xs = np.arange(len(found))
    for j, m in enumerate(("motion", "color")):
        axes[0].bar(xs + (j - 0.5) * 0.4, [lines[n]["pickup"][m] for n in found], 0.4,
                    label=f"{m} evidence")  # fmt: skip
    axes[0].set_xticks(xs, found)
    axes[0].set_yscale("log")
    axes[0].legend()
else:  # a network trained this briefly has no line yet
    axes[0].text(0.5, 0.5, "no line of slow points", ha="center", transform=axes[0].transAxes)
axes[0].set_ylabel("pickup |r₀||l₀ᴴBe| on the line")
plot_eigenvalues(ctx_fps, ax=axes[1])
fig.tight_layout()

# %% [markdown]
# Trained to its full size (run without `NEURODYN_TUTORIAL_FAST`), look in the printed
# lines for the signature of Mante et al.'s mechanism: a slow mode of more than a second,
# several times slower than the next (the next decays in about 200 ms); a line along the
# choice axis (|cos| near 1); and the relevant modality picked up many times more than the
# other, the integrator selected by its left eigenvector. Networks trained for 3000 steps
# differ from seed to seed: one may keep the evidence well in one context and leakily in
# the other, with a slowest mode only a few times slower than the next, which
# `line_attractor` does not call a line (it asks for five times, as `find_slow_manifolds`
# does). `neurodyn reproduce mante2013` checks the paper's claims on three seeds, each with
# a line in both contexts.
#
# ## 7. Saving and the command line
#
# Results are labelled: `fps.to_xarray()` has dims `fixed_point`, `unit`, `mode`,
# `input` (and `candidate` for every candidate, failures included), and `fps.save` /
# `neurodyn.analysis.load_fixed_points` round-trip through netCDF. For a run folder
# made by `neurodyn train`, `neurodyn analyze RUN_DIR` does all of the above and writes
# `fixed_points.nc`, `fixed_points.png` and `eigenvalues.png`.

# %%
ds = ctx_fps.to_xarray()
print(ds["eigenvalues"].dims, ds["input_projection"].dims, ds.sizes["candidate"])
