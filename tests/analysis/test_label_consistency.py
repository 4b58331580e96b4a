"""Attractor labels never contradict the Lyapunov exponents of the same trajectories.

The exponents are estimated apart from the classifier, by ``lyapunov_spectrum`` from
the same initial states, after the steps the classifier ran before it first looked.
With an estimate over N steps of duration τ, its tolerance is 5/(Nτ) (growth or decay
by e⁵ over the estimate, beyond finite-time fluctuations). The rules:

* a limit cycle of an ODE has λ₁ = 0 (the direction along the orbit): |λ₁| <= tol;
* a periodic orbit of a map has λ₁ = log|μ₁|/(kΔt), its own multipliers' exponent;
* chaos has λ₁ > tol;
* a fixed point (or line, ring) has λ₁ equal to its linearization's exponent;
* so a negative λ₁ (below -tol) rules out limit cycles and chaos.

Trained networks run with a short budget, where slow transients are still moving when
it ends (the case that was once labelled "limit cycle": the classifier that did so
contradicts these rules on 29 of 32 trajectories of the rate flip-flop and on all 32
of the GRU), and a longer one; textbook systems check that true cycles and chaos are
still found.
"""

import numpy as np
import pytest
import torch

import neurodyn
from neurodyn.analysis import classify_attractors, lyapunov_spectrum, run_inputs
from neurodyn.dynamics import FunctionDynamics, dynamics


def independent_exponents(dyn, x0, u, att, n_est=1500):
    """λ₁ of the trajectories from x0 after the classifier's first look, and its tolerance."""
    ode = dyn.kind == "ode"
    tper = att.info["step"] if ode else dyn.dt
    le = lyapunov_spectrum(
        dyn, x0, u, k=1, n_steps=n_est, transient=att.info["n_steps"], seed=7,
        step=att.info["step"] if ode else None, progress=False,
    )  # fmt: skip
    return le.per_trajectory[:, 0], 5.0 / (n_est * tper)


def contradictions(att, lam, tol):
    """Trajectories whose label the exponent ``lam`` rules out: (index, label, λ₁)."""
    bad = []
    for i, (label, a) in enumerate(zip(att.label, att.attractor, strict=True)):
        if label == "limit_cycle":
            ok = abs(lam[i]) <= tol
        elif label == "periodic_orbit":
            ok = abs(lam[i] - att.cycles[a].exponents[0]) <= tol
        elif label == "chaotic":
            ok = lam[i] > tol
        elif label in ("fixed_point", "line", "ring"):
            ok = abs(lam[i] - att.lyapunov[i]) <= tol
        else:  # unresolved or diverged: no claim to contradict
            ok = True
        if not ok:
            bad.append((i, label, float(lam[i])))
    return bad


def check(dyn, x0, u, n_est=1500, **options):
    att = classify_attractors(dyn, x0, u, progress=False, **options)
    lam, tol = independent_exponents(dyn, x0, u, att, n_est)
    assert contradictions(att, lam, tol) == []
    # A clearly negative exponent never comes with a cycle or chaos.
    assert not np.any(np.isin(att.label[lam < -tol], ["limit_cycle", "chaotic"]))
    # Every unresolved trajectory was still moving: its speed is reported.
    unresolved = att.label == "unresolved"
    assert np.all(att.speed[unresolved] > 0)
    return att, lam, tol


# -- trained networks -----------------------------------------------------------------


@pytest.fixture(scope="module")
def decision_gru():
    """A GRU trained briefly on perceptual decisions, and its stimulus and zero inputs."""
    from neurodyn.rnn_models import TorchRNN
    from neurodyn.tasks import make_task

    task = make_task("perceptual_dm", coherences=(0.0, 12.8, 51.2))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bitwise-reproducible training
    try:
        net = TorchRNN("gru", 3, 16, 3, dt=task.dt, seed=0)
        neurodyn.fit(net, task, n_steps=60, lr=1e-2, seed=0, val_every=60, progress=False)
        ds = neurodyn.simulate(net, task, n_trials=48, seed=1)
    finally:
        torch.set_num_threads(threads)
    U, _ = run_inputs(ds)
    x0 = neurodyn.analysis.sample_initial_states(ds, 32, noise_scale=0.5, seed=0)
    return dynamics(net), x0, U


# Budgets: 100 steps in all leaves slow transients moving when it ends (the classifier
# looks at them after 50 and estimates λ₁ over 50 more); 500 and up to 5000 lets most
# settle.
BUDGETS = {
    "short": dict(n_steps=50, lyapunov_steps=50, max_steps=100),
    "long": dict(n_steps=500),
}


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("name", ["rate", "gru"])
def test_flipflop_labels_agree_with_exponents(flipflop, name, budget):
    net = flipflop(name)
    dyn = dynamics(net.model)
    x0 = net.initial_states[:32]
    # Zero input (the memories) and a held pulse on bit 0.
    for u in (np.zeros(3), np.array([1.0, 0.0, 0.0])):
        att, lam, tol = check(dyn, x0, u, **BUDGETS[budget])
        # Memory networks converge: every exponent is negative, so no cycle or chaos.
        assert np.all(lam < -tol)
        assert set(att.label) <= {"fixed_point", "unresolved"}
        if budget == "short":
            # The short budget leaves trajectories moving: unresolved, never guessed.
            assert np.any(att.label == "unresolved")


@pytest.mark.parametrize("budget", BUDGETS)
def test_decision_gru_labels_agree_with_exponents(decision_gru, budget):
    dyn, x0, U = decision_gru
    assert len(U) == 7  # 2 signs x 3 coherences at the stimulus, then zero
    for u in U[[0, 3, -1]]:
        att, lam, tol = check(dyn, x0, u, **BUDGETS[budget])
        assert np.all(lam < -tol)
        assert set(att.label) <= {"fixed_point", "line", "unresolved"}


# -- textbook systems: true cycles and chaos are still found ---------------------------


def hopf(mu=0.5, omega=2.0):
    def f(x, u):
        r2 = (x**2).sum(1)
        return np.stack(
            [mu * x[:, 0] - omega * x[:, 1] - x[:, 0] * r2,
             omega * x[:, 0] + mu * x[:, 1] - x[:, 1] * r2], 1,
        )  # fmt: skip

    def jac(x, u):
        X, Y = x[:, 0], x[:, 1]
        J = np.empty((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = mu - 3 * X**2 - Y**2, -omega - 2 * X * Y
        J[:, 1, 0], J[:, 1, 1] = omega - 2 * X * Y, mu - X**2 - 3 * Y**2
        return J

    return FunctionDynamics(f, n_state=2, kind="ode", jacobian=jac, dt=0.01)


def van_der_pol(mu=1.0):
    def f(x, u):
        return np.stack([x[:, 1], mu * (1 - x[:, 0] ** 2) * x[:, 1] - x[:, 0]], 1)

    def jac(x, u):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = -2 * mu * x[:, 0] * x[:, 1] - 1.0
        J[:, 1, 1] = mu * (1 - x[:, 0] ** 2)
        return J

    return FunctionDynamics(f, n_state=2, kind="ode", jacobian=jac, dt=0.02)


def lorenz(sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    def f(x, u):
        return np.stack(
            [sigma * (x[:, 1] - x[:, 0]), x[:, 0] * (rho - x[:, 2]) - x[:, 1],
             x[:, 0] * x[:, 1] - beta * x[:, 2]], 1,
        )  # fmt: skip

    def jac(x, u):
        J = np.zeros((len(x), 3, 3))
        J[:, 0, 0], J[:, 0, 1] = -sigma, sigma
        J[:, 1, 0], J[:, 1, 1], J[:, 1, 2] = rho - x[:, 2], -1.0, -x[:, 0]
        J[:, 2, 0], J[:, 2, 1], J[:, 2, 2] = x[:, 1], x[:, 0], -beta
        return J

    return FunctionDynamics(f, n_state=3, kind="ode", jacobian=jac, dt=0.01)


def logistic(r):
    return FunctionDynamics(
        lambda x, u: r * x * (1 - x), n_state=1,
        jacobian=lambda x, u: (r * (1 - 2 * x))[:, :, None],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("system", "x0", "kind"),
    [
        (hopf(), np.random.default_rng(0).normal(size=(6, 2)), "limit_cycle"),
        (van_der_pol(), np.random.default_rng(1).normal(size=(6, 2)), "limit_cycle"),
        (lorenz(), np.random.default_rng(2).normal(size=(4, 3)) * 5, "chaotic"),
        (logistic(3.2), np.array([[0.13], [0.31], [0.47], [0.66], [0.83]]), "periodic_orbit"),
        (logistic(3.5), np.array([[0.13], [0.31], [0.47], [0.66], [0.83]]), "periodic_orbit"),
        (logistic(4.0), np.array([[0.13], [0.31], [0.47], [0.66], [0.83]]), "chaotic"),
    ],
    ids=["hopf", "van_der_pol", "lorenz", "logistic_2", "logistic_4", "logistic_chaos"],
)
def test_textbook_attractors_are_found_and_agree_with_exponents(system, x0, kind):
    # Finite-time exponents of chaos fluctuate: 5000 steps (50 time units of Lorenz)
    # bring the tolerance to 0.1, well below its 0.906.
    att, lam, tol = check(system, x0, None, n_est=5000, n_steps=1500)
    assert set(att.label) == {kind}
    if kind == "chaotic":
        assert np.all(lam > tol)
    else:
        assert np.all(np.isfinite(att.period)) and np.all(att.max_multiplier < 1)
