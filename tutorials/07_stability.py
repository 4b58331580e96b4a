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
# # Stability by construction: RNNs of RNNs
#
# Kozachkov, Ennis & Slotine (NeurIPS 2022) build recurrent networks that are
# *provably* stable however they are trained. Each subnetwork
#
# $$ \tau\dot x = -x + W\phi(x) + \text{input}, \qquad 0 \le \phi' \le g, $$
#
# **contracts**: in some metric $M$ every two trajectories driven by the same input
# approach each other exponentially, because
# $MJ + J^\top M \preceq -2cM$ for every Jacobian $J = -I + WD$, $D \in [0, g]$.
# Modules are then coupled by **negative feedback**, $L = B - M^{-1}B^\top M$, which
# satisfies $ML + L^\top M = 0$: the couplings can be anything, and the assembly still
# contracts at the slowest module's rate. An assembly is itself a module, so the
# construction nests: RNNs of RNNs of RNNs.
#
# This tutorial builds modules, certifies them, assembles them over a module graph,
# breaks the certificate on purpose (twice), and trains a certified network on
# sequential digits. With `NEURODYN_TUTORIAL_FAST=1` (as in the test suite) the
# training is shorter.

# %%
import os

import matplotlib

FAST = os.environ.get("NEURODYN_TUTORIAL_FAST") == "1"
if FAST:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import torch

from neurodyn.analysis import find_fixed_points
from neurodyn.analysis.contraction import certify
from neurodyn.dynamics import dynamics
from neurodyn.rnn_models.rnns_of_rnns import (
    Assembly,
    RNNofRNNs,
    SparseComboNet,
    SparseModule,
    SVDModule,
    theorem1_rate,
)
from neurodyn.tasks import SequentialDigits
from neurodyn.train import fit

torch.set_num_threads(1)

# %% [markdown]
# ## 1. Two kinds of certified modules
#
# **Theorem 1 (sparse modules).** A random sparse $W$ is kept if the Perron root of
# $g|W|$ is below 1. Then some *diagonal* $P$ certifies it, but usually not the
# identity: neurodyn computes $P$ from the Perron vectors of $|W|$ and checks the
# inequality with matrix products.

# %%
sparse = SparseModule(16, density=0.1, seed=4)
a = np.abs(sparse.W.numpy().astype(float))
print("Perron root of |W|:", round(float(np.max(np.abs(np.linalg.eigvals(a)))), 3))
p_metric = sparse.P.numpy().astype(float)
print("rate in the Perron metric P:  ", round(theorem1_rate(a, p_metric), 4))
print("rate in the identity metric:  ", round(theorem1_rate(a, np.ones(16)), 4))

# %% [markdown]
# A negative rate in the identity metric means that metric certifies nothing; the
# Perron metric does. Asking for a density at which no module can pass fails at once,
# with the bound, instead of sampling forever:

# %%
try:
    SparseModule(16, density=0.3)
except ValueError as err:
    print(err)

# %% [markdown]
# **Theorem 5 (SVD modules).** $W = \Theta^{-1}U\Sigma V^\top\Theta$ with orthogonal
# $U, V$, singular values in $(0, (1-\text{margin})/g]$ and metric $\Theta^2$. Every
# parameter is free, so gradient descent can never leave the certified set.

# %%
svd = SVDModule(12, margin=0.1, seed=0)
print("SVD module rate:", round(svd.rate(), 4), "| checks:",
      {k: ok for k, (ok, _) in svd.checks().items()})

# %% [markdown]
# ## 2. Assemble them over a module graph
#
# Edges of a `networkx.DiGraph` say which modules may drive which; the coupling block
# of an edge is free, and negative feedback adds the reciprocal block. Here three
# sparse modules feed forward into one SVD module, and the result is nested in a
# bigger assembly with a second group.

# %%
graph = nx.DiGraph([("s0", "svd"), ("s1", "svd"), ("s2", "svd"), ("s0", "s1")])
group = Assembly(
    [SparseModule(16, density=0.1, seed=s) for s in range(3)] + [SVDModule(12, seed=3)],
    graph,
    coupling_scale=3.0,
    seed=0,
)
other = Assembly([SparseModule(10, density=0.15, seed=10 + s) for s in range(2)], seed=1)
network = Assembly([group, other], "all_to_all", coupling_scale=3.0, seed=2)
model = RNNofRNNs(network, n_input=1, n_output=2, tau=2.0, dt=0.5, seed=0)
cert = certify(model)
print(cert)
print("slowest module rates (1/ms):", np.round(cert.module_rates, 4))

# %% [markdown]
# The certificate promises that two trajectories with the same input approach each
# other at least as $e^{-\lambda t}$ in the metric, whatever their starting points:

# %%
u = torch.sin(0.2 * torch.arange(200.0))[None, :, None].expand(2, 200, 1)
x0 = 5 * torch.randn(2, model.n_hidden, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    xs = model(u, initial_state=x0).states.numpy()
m = cert.metric
dist = np.sqrt((m * (xs[0] - xs[1]) ** 2).sum(-1))
t = model.dt * np.arange(1, 201)
d0 = np.sqrt((m * (x0[0] - x0[1]).numpy() ** 2).sum())
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(t, dist, label="two trajectories, same input")
ax.semilogy(t, d0 * cert.step["factor"] ** np.arange(1, 201), "k--", label="certified bound")
ax.set(xlabel="time (ms)", ylabel="distance in the metric M")
ax.legend()
print("distance shrank by", f"{dist[-1] / d0:.1e}", "; bound", f"{cert.step['factor'] ** 200:.1e}")

# %% [markdown]
# With a constant input a contracting network has exactly one fixed point, and it is
# stable; the fixed-point finder confirms it from 64 random starts.

# %%
starts = np.random.default_rng(0).normal(0, 5, (64, model.n_hidden))
fps = find_fixed_points(model, np.array([0.5]), starts, progress=False)
print(fps)

# %% [markdown]
# ## 3. Break it on purpose
#
# **Mistake 1: the identity metric.** Coupling with $L = B - B^\top$ (skew-symmetric
# in the identity metric) is only right when every module is certified in the identity
# metric. Theorem-1 modules usually are not, and `certify` notices both structurally
# ($ML + L^\top M \ne 0$) and numerically (a sampled Jacobian whose symmetric part in
# the metric has a positive eigenvalue).

# %%
kw = {"n_modules": 4, "density": 0.1, "coupling_scale": 5.0, "tau": 1.0, "seed": 0}
good = SparseComboNet(1, 64, 2, dt=0.05, **kw).double()
bad = SparseComboNet(1, 64, 2, dt=0.05, feedback_metric="identity", **kw).double()
bad_cert = certify(bad)
print(bad_cert.message)
print("worst sampled lambda_max (1/ms):", round(-bad_cert.numerical_rate, 3))

# %% [markdown]
# Where that eigenvalue is positive, nearby trajectories *separate*: start two states a
# small step apart along its eigenvector (with all units active, $D = I$) and follow
# them for a moment. The correctly coupled network shrinks the gap immediately.

# %%
def separation(net, metric, steps=40):
    dyn = dynamics(net, kind="ode")
    x = np.full(64, 2.0)  # every ReLU active
    s = np.sqrt(metric)
    jh = s[:, None] * dyn.jacobian(x, [0.0]) / s[None, :]
    _, vecs = np.linalg.eigh(0.5 * (jh + jh.T))
    v = vecs[:, -1] / s
    pair = torch.tensor(np.stack([x, x + 1e-3 * v]))
    with torch.no_grad():
        xs = net(torch.zeros(2, steps, 1, dtype=torch.float64), initial_state=pair).states
    d = np.sqrt((metric * (xs[0] - xs[1]).numpy() ** 2).sum(-1))
    return d / np.sqrt((metric * (1e-3 * v) ** 2).sum())


metric = good.metric()
ratio_good, ratio_bad = separation(good, metric), separation(bad, metric)
print(f"gap after 10 steps: correct x{ratio_good[9]:.3f}, identity metric x{ratio_bad[9]:.3f}")

# %% [markdown]
# **Mistake 2: a time step the guarantee does not cover.** The certificate is for
# continuous time. Explicit Euler with a strong coupling needs a tiny step, and the
# model refuses a larger one:

# %%
strong = {"n_modules": 4, "density": 0.2, "coupling_scale": 40.0, "tau": 1.0, "seed": 0}
try:
    SparseComboNet(1, 32, 2, dt=0.2, integrator="euler", **strong)
except ValueError as err:
    print(err)

# %% [markdown]
# neurodyn's default integrator splits the step: an Euler step of the modules, then the
# coupling's flow by the Cayley map, an exact isometry of the metric for any coupling.
# Forcing Euler at the same step (bypassing the check) shows why the check exists:

# %%
split = SparseComboNet(1, 32, 2, dt=0.2, **strong).double()
euler = SparseComboNet(1, 32, 2, dt=1e-6, integrator="euler", **strong).double().eval()
euler.dt = 0.2  # what the check refuses
u = torch.zeros(2, 60, 1, dtype=torch.float64)
x0 = torch.randn(2, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
m = split.metric()
with torch.no_grad():
    xs_split = split(u, initial_state=x0).states.numpy()
    xs_euler = euler(u, initial_state=x0).states.numpy()
d_split = np.sqrt((m * (xs_split[0] - xs_split[1]) ** 2).sum(-1))
d_euler = np.sqrt((m * (xs_euler[0] - xs_euler[1]) ** 2).sum(-1))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogy(d_split, label="splitting (certified)")
ax.semilogy(d_euler, label="explicit Euler, same dt")
ax.set(xlabel="step", ylabel="distance in the metric M")
ax.legend()
print(f"after 60 steps: splitting {d_split[-1]:.2e}, Euler {d_euler[-1]:.2e}")

# %% [markdown]
# ## 4. Train a certified network on sequential digits
#
# Sparse Combo Net keeps its sparse modules fixed and trains the couplings, the input
# and the read-out. Here each 8x8 digit is shown one row per step (8 steps); the
# reproduction (`neurodyn reproduce rnns-of-rnns`) shows it one pixel per step.

# %%
train, test = (SequentialDigits(split=split, per_step="row").full_batch().to_xarray()
               for split in ("train", "test"))
net = SparseComboNet(8, 64, 10, n_modules=4, density=0.1, tau=5.0, dt=1.0, seed=0)
# Epochs of shuffled mini-batches, a cosine learning rate, the cross-entropy on the last
# step (where the digits' mask counts), and the test split scored after every epoch.
result = fit(net, train, validation=test, epochs=4 if FAST else 20, lr=1e-2,
             lr_schedule="cosine", loss="cross_entropy", val_every="epoch", progress=False)
accuracy = [100 * r["val_accuracy"] for r in result.history]
after = certify(net)
print(f"test accuracy {accuracy[-1]:.1f} % (chance 10 %); certified after training: "
      f"{after.success}, rate {after.rate:.3f}/ms")

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(range(1, len(accuracy) + 1), accuracy, "o-")
ax.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100), title="Sparse Combo Net")
if not FAST:
    plt.show()
