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
# # Phase portraits, limit cycles, chaos and bifurcations
#
# Fixed points (tutorial 03) are where a network's dynamics stand still. This tutorial
# looks at everything else the flow does:
#
# 1. the **exact phase portrait** of a two-variable system: vector field, nullclines,
#    fixed points by stability, trajectories;
# 2. the **projected portrait** of a trained 32-unit network: its flow on the plane of
#    its two leading principal components, with the 27 fixed points of the flip-flop;
# 3. a **limit cycle** found by shooting, with its Floquet multipliers;
# 4. the **Lyapunov spectrum** of random networks across the transition to chaos at
#    g = 1;
# 5. **continuation** of fixed points through a fold, and through Hopf points.
#
# With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) the sizes shrink so the whole
# tutorial runs in well under a minute.

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
    classify_attractors,
    continue_fixed_points,
    estimate_period,
    find_fixed_points,
    find_limit_cycle,
    lyapunov_spectrum,
    sample_initial_states,
)
from neurodyn.dynamics import FunctionDynamics, RateDynamics, dynamics
from neurodyn.plotting import (
    plot_bifurcation_diagram,
    plot_lyapunov_spectrum,
    plot_phase_portrait,
    plot_projected_portrait,
    plot_trajectories_3d,
)
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop

torch.set_num_threads(1)
N_CHAOS = 200 if FAST else 500
CHAOS_STEPS = 1500 if FAST else 10_000
print(f"FAST={FAST}")

# %% [markdown]
# ## 1. An exact phase portrait: the FitzHugh–Nagumo neuron
#
# $$ \dot v = v - v^3/3 - w + I, \qquad \dot w = \varepsilon (v + a - b w), $$
#
# with $a = 0.7$, $b = 0.8$, $\varepsilon = 0.08$ and the input current $I$ as the
# system's one input. Its nullclines are the cubic $w = v - v^3/3 + I$ (where
# $\dot v = 0$) and the line $w = (v + a)/b$ (where $\dot w = 0$); the fixed point sits
# where they cross. We give the Jacobians in closed form so that eigenvalues and
# Floquet multipliers are exact.

# %%
A, B, EPS = 0.7, 0.8, 0.08


def fhn(x, u):
    v, w = x[:, 0], x[:, 1]
    return np.stack([v - v**3 / 3 - w + u[:, 0], EPS * (v + A - B * w)], axis=1)


def fhn_jacobian(x, u):
    J = np.zeros((len(x), 2, 2))
    J[:, 0, 0], J[:, 0, 1] = 1 - x[:, 0] ** 2, -1.0
    J[:, 1, 0], J[:, 1, 1] = EPS, -EPS * B
    return J


def fhn_input_jacobian(x, u):
    B_ = np.zeros((len(x), 2, 1))
    B_[:, 0, 0] = 1.0
    return B_


neuron = FunctionDynamics(
    fhn,
    n_state=2,
    n_input=1,
    kind="ode",
    dt=0.1,
    jacobian=fhn_jacobian,
    input_jacobian=fhn_input_jacobian,
)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
plot_phase_portrait(
    neuron,
    xlim=(-2.5, 2.5),
    ylim=(-1, 2.5),
    inputs=[0.0],
    ax=axes[0],
    initial_states=[[-2.0, 0.5]],
    t_max=60.0,
    labels=("v", "w"),
)
axes[0].set_title("I = 0: a stable fixed point")
plot_phase_portrait(
    neuron,
    xlim=(-2.5, 2.5),
    ylim=(-1, 2.5),
    inputs=[0.5],
    ax=axes[1],
    initial_states=[[0.0, 0.0]],
    t_max=100.0,
    labels=("v", "w"),
)
axes[1].set_title("I = 0.5: an unstable focus inside a limit cycle")
fig.tight_layout()

# %% [markdown]
# ## 2. A projected portrait of a trained network
#
# A network with 32 units has no plane to draw on, but its trajectories mostly live
# near a low-dimensional one. `plot_projected_portrait` evaluates the *full* velocity at
# states on the plane of the top two principal components, projects it onto the plane
# (grey streamlines), and colours the background by the full speed $\|f\|$ on a log
# scale: dark valleys are slow. The fixed points (from `find_fixed_points`) are
# coloured by stability, with their unstable directions as short lines.

# %%
net = RateRNN(3, 32, 3, dt=10.0, tau=50.0, seed=0)
fit = neurodyn.fit(
    net,
    FlipFlop(dt=10.0, timing={"trial": 500.0}),
    n_steps=400,
    lr=1e-2,
    seed=0,
    val_every=400,
    progress=False,
)
evaluation = neurodyn.simulate(net, FlipFlop(dt=10.0), n_trials=64, seed=1)
x0 = sample_initial_states(evaluation, 512, noise_scale=0.5, seed=0)
fps = find_fixed_points(net, None, x0, progress=False)
print(fps)

fig = plt.figure(figsize=(12, 5))
plot_projected_portrait(net, evaluation, fixed_points=fps, ax=fig.add_subplot(1, 2, 1))
plot_trajectories_3d(evaluation, fixed_points=fps, ax=fig.add_subplot(1, 2, 2, projection="3d"))
fig.tight_layout()

# %% [markdown]
# Where do trajectories from those states end? `classify_attractors` simulates each
# one and labels its end: a fixed point, a line or ring of slow points, a limit cycle
# (only when shooting finds a stable closed orbit, with its period and Floquet
# multipliers; a map's is a `periodic_orbit`), or chaos (a positive largest Lyapunov
# exponent). A trajectory still moving when its budget runs out is `unresolved`, with
# its speed, never guessed to be a cycle, and no label contradicts the trajectory's
# Lyapunov exponent. A flip-flop should have eight fixed-point attractors, one per
# stored pattern.

# %%
att = classify_attractors(net, x0[:128], n_steps=500, progress=False)
print(att)
print("basin fractions:", np.round(np.sort(att.basin_fraction)[::-1], 3))

# %% [markdown]
# ## 3. The FitzHugh–Nagumo limit cycle and its Floquet multipliers
#
# A periodic orbit of period $T$ is a root of $x_0 - \Phi_T(x_0)$, with $T$ unknown.
# `estimate_period` simulates and times the returns to a plane; `find_limit_cycle`
# then solves by Newton's method (shooting), integrating the monodromy matrix
# $M = \partial\Phi_T/\partial x_0$ alongside. Its eigenvalues are the Floquet
# multipliers: one is exactly 1 (a shift along the orbit), and the cycle is stable
# when the others lie inside the unit circle.

# %%
x_start, T_guess = estimate_period(neuron, [0.0, 0.0], inputs=[0.5], t_transient=200.0, t_max=200.0)
cycle = find_limit_cycle(neuron, x_start, T_guess, inputs=[0.5])
print(cycle)
print(
    f"period {cycle.period:.4f} (guess {T_guess:.4f}); Floquet multipliers:",
    np.round(cycle.multipliers, 6),
)
# For a planar system the non-trivial multiplier is exp(∮ div f dt), Liouville's formula.
div = 1 - cycle.orbit[:, 0] ** 2 - EPS * B
integral = np.trapezoid(div, cycle.time)
print(f"∮ div f dt = {integral:.2f}: the second multiplier is e^{integral:.1f}, far below")
print("rounding of the monodromy matrix, so the cycle attracts neighbouring states at once.")

# %% [markdown]
# ## 4. The transition to chaos of random networks
#
# $\dot x = -x + gJ\tanh(x)$ with $J_{ij} \sim N(0, 1/N)$ is silent for $g < 1$ and
# chaotic for $g > 1$ (Sompolinsky, Crisanti & Sommers 1988). `lyapunov_spectrum`
# computes the top exponents by the QR (Benettin) method; for rate networks one matrix
# product per step advances all the tangent vectors without ever forming the Jacobian,
# and the vectors are re-orthonormalised only as often as their growth requires.

# %%
rng = np.random.default_rng(0)
J = rng.normal(size=(N_CHAOS, N_CHAOS)) / np.sqrt(N_CHAOS)
gains = [0.5, 0.8, 1.0, 1.2, 1.5, 2.0]
largest = []
for g in gains:
    net_g = RateDynamics(W=g * J, W_in=np.zeros((N_CHAOS, 1)), tau=1.0, dt=0.1)
    le = lyapunov_spectrum(
        net_g,
        rng.normal(size=N_CHAOS),
        k=1,
        n_steps=CHAOS_STEPS,
        transient=CHAOS_STEPS // 3,
        integrator="euler",
        progress=False,
    )
    largest.append(le.largest)
    print(f"g = {g:3.1f}: largest exponent {le.largest:+.4f} per ms (τ = 1 ms)")

net_2 = RateDynamics(W=2.0 * J, W_in=np.zeros((N_CHAOS, 1)), tau=1.0, dt=0.1)
spectrum = lyapunov_spectrum(
    net_2,
    rng.normal(size=(2, N_CHAOS)),
    k=40,
    n_steps=CHAOS_STEPS,
    transient=CHAOS_STEPS // 3,
    integrator="euler",
    progress=False,
)
print(spectrum, f"Kaplan–Yorke dimension {spectrum.kaplan_yorke_dimension():.1f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
axes[0].plot(gains, largest, "o-")
axes[0].axhline(0, color="0.5", ls="--", lw=0.8)
axes[0].axvline(1, color="0.5", ls=":", lw=0.8)
axes[0].set_xlabel("gain g")
axes[0].set_ylabel("largest exponent (1/τ)")
axes[0].set_title("transition to chaos")
plot_lyapunov_spectrum(spectrum, ax=axes[1])
plot_lyapunov_spectrum(spectrum, ax=axes[2], convergence=True, max_lines=5)
fig.tight_layout()

# %% [markdown]
# ## 5. Continuation through a fold, and through Hopf points
#
# One unit with self-excitation, $\dot x = -x + \tanh(wx + \mu)$ with $w = 3$, is
# bistable for a range of inputs μ. Pseudo-arclength continuation follows its fixed
# points as μ varies, around the folds where the branch turns back, and locates the
# folds by bisection along the branch. Where $w\,\mathrm{sech}^2(wx + \mu) = 1$ they lie
# at $x^* = \pm\sqrt{1 - 1/w}$, $\mu^* = \operatorname{artanh}(x^*) - wx^*$.

# %%
w = 3.0
unit = FunctionDynamics(
    lambda x, u: -x + np.tanh(w * x + u),
    n_state=1,
    n_input=1,
    kind="ode",
    jacobian=lambda x, u: (-1 + w * (1 - np.tanh(w * x + u) ** 2))[:, :, None],
    input_jacobian=lambda x, u: (1 - np.tanh(w * x + u) ** 2)[:, :, None],
)
branch = continue_fixed_points(unit, [-0.99], p0=-3.0, p_range=(-3, 3), progress=False)
xs = np.sqrt(1 - 1 / w)
print(branch)
print("folds found:   ", sorted(round(b.parameter, 8) for b in branch.folds()))
print(
    "closed form:   ",
    sorted(round(v, 8) for v in (np.arctanh(xs) - w * xs, w * xs - np.arctanh(xs))),
)

# %% [markdown]
# The FitzHugh–Nagumo fixed point, continued in the input current, loses stability in
# a Hopf bifurcation (a complex pair crosses the imaginary axis: the limit cycle of
# section 3 is born) and regains it at a second one.

# %%
fhn_branch = continue_fixed_points(
    neuron, [-1.2, -0.6], p0=-0.5, p_range=(-0.5, 2.0), progress=False
)
print(fhn_branch)
for b in fhn_branch.hopf_points():
    print(f"Hopf at I = {b.parameter:.5f}, eigenvalue {b.eigenvalue:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_bifurcation_diagram(branch, ax=axes[0])
plot_bifurcation_diagram(fhn_branch, coordinate=0, ax=axes[1])
axes[1].set_ylabel("v")
fig.tight_layout()

# %% [markdown]
# For a trained network the same call follows its fixed points through any constant
# input (`input_direction`) or any scalar parameter (`parameter=lambda p: ...`), e.g.
# how the flip-flop's memories move and merge as one bit's input is held on:

# %%
stable = fps.roots[fps.roots.stability == "stable"]
memory = continue_fixed_points(
    dynamics(net),
    stable.x[0],
    p0=0.0,
    p_range=(-0.5, 0.5),
    input_direction=[1.0, 0.0, 0.0],
    progress=False,
)
print(memory)

if not FAST:
    plt.show()
