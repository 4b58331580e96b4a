"""Modules, assemblies, graphs, stepping and the dynamics adapter of RNNs of RNNs."""

import copy

import networkx as nx
import numpy as np
import pytest
import torch

from neurodyn.dynamics import dynamics
from neurodyn.rnn_models.rnns_of_rnns import (
    Assembly,
    RNNofRNNs,
    SparseComboNet,
    SparseModule,
    SVDComboNet,
    SVDModule,
    build_module,
    euler_step_bound,
    feed_forward,
    module_graph,
    perron_metric,
    random_graph,
    theorem1_rate,
)
from neurodyn.rnn_models.rnns_of_rnns.stepping import cayley, metric_norm


def _lmi_max(w, p, g=1.0):
    """λ_max(P(g|W| - I) + (g|W| - I)^T P), with matrix products."""
    m = g * np.abs(w) - np.eye(len(w))
    return np.linalg.eigvalsh(np.diag(p) @ m + m.T @ np.diag(p))[-1]


# -- Theorem 1 --------------------------------------------------------------------------------
def test_sparse_module_satisfies_theorem1_with_its_metric():
    for seed in range(5):
        m = SparseModule(16, density=0.1, seed=seed)
        w, p = m.W.double().numpy(), m.P.double().numpy()
        assert np.max(np.abs(np.linalg.eigvals(np.abs(w)))) < 1
        assert np.all(np.diag(w) == 0) and np.all(p > 0)
        assert _lmi_max(w, p) < 0
        assert m.rate() > 0 and all(ok for ok, _ in m.checks().values())


def test_identity_metric_is_often_not_the_certificate():
    # Research notes §4.5: Theorem 1 guarantees *some* diagonal metric, frequently
    # not the identity. The Perron metric works for every accepted module.
    identity_fails = 0
    for seed in range(40):
        m = SparseModule(16, density=0.1, seed=seed)
        w = m.W.double().numpy()
        identity_fails += _lmi_max(w, np.ones(16)) >= 0
        assert _lmi_max(w, m.P.double().numpy()) < 0
    assert identity_fails >= 5


def test_perron_metric_on_a_reducible_matrix():
    # A nilpotent chain: the Perron vectors of A itself have zeros.
    a = np.diag([1.9, 1.9, 1.9], k=1)
    p = perron_metric(a)
    assert np.all(p > 0) and theorem1_rate(a, p) > 0
    assert theorem1_rate(a, np.ones(4)) < 0  # identity fails for this chain


def test_density_without_certified_modules_is_refused_with_the_row_sum_bound():
    with pytest.raises(ValueError, match=r"density=0\.3.*expected row sum.*2\.25"):
        SparseModule(16, density=0.3, seed=0)
    # Near the bound, rejection sampling may fail: it stops after max_tries and says why.
    with pytest.raises(ValueError, match=r"max_tries=2 draws.*expected row sum 0\.975"):
        SparseModule(16, density=0.13, max_tries=2, seed=1)


def test_weight_failing_theorem1_is_refused():
    with pytest.raises(ValueError, match="Perron root"):
        SparseModule(2, weight=[[0.0, 1.5], [1.0, 0.0]])
    with pytest.raises(ValueError, match="weight has shape"):
        SparseModule(3, weight=np.zeros((2, 2)))


# -- Theorem 5 --------------------------------------------------------------------------------
def test_svd_module_structure_and_rate():
    m = SVDModule(10, margin=0.1, seed=0)
    theta, _, sigma, _ = (t.detach().double() for t in m.factors(torch.float64))
    w = m.weight().detach().double()
    # Θ W Θ⁻¹ has the singular values Σ, all at most (1 - margin)/g.
    s = torch.linalg.svdvals(theta[:, None] * w / theta[None, :])
    np.testing.assert_allclose(np.sort(s.numpy()), np.sort(sigma.numpy()), rtol=1e-5)
    assert float(s.max()) <= 0.9 + 1e-6 and m.rate() >= 0.1 - 1e-9
    np.testing.assert_allclose(m.metric().detach().numpy(), (theta**2).numpy(), rtol=1e-6)


def test_svd_module_stays_certified_under_arbitrary_parameters():
    m = SVDModule(6, seed=1)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 5.0)
    assert all(ok for ok, _ in m.checks().values()) and m.rate() >= 0.05 - 1e-9


# -- assemblies -------------------------------------------------------------------------------
def _metric_skew_error(asm):
    with torch.no_grad():
        lc = asm.coupling().double().numpy()
        m = asm.metric().double().numpy()
    return np.abs(m[:, None] * lc + lc.T * m[None, :]).max() / np.abs(m[:, None] * lc).max()


def test_feedback_coupling_is_skew_in_the_metric_and_follows_the_graph():
    mods = [SparseModule(8, density=0.2, seed=s) for s in range(3)]
    asm = Assembly(mods, "feed_forward", coupling_scale=3.0, seed=0)
    assert _metric_skew_error(asm) < 1e-6
    b = (asm.B * asm.mask).detach().numpy()
    # B only on blocks (i, j) with j < i; L couples both ways.
    assert np.all(b[:8] == 0) and np.any(b[8:16, :8] != 0)
    lc = asm.feedback().detach().numpy()
    assert np.any(lc[:8, 8:16] != 0)
    assert np.all(lc[:8, :8] == 0)  # no coupling inside a module
    assert asm.rate() == pytest.approx(min(m.rate() for m in mods))


def test_identity_feedback_is_not_skew_in_the_module_metric():
    mods = [SparseModule(8, density=0.2, seed=s) for s in range(3)]
    asm = Assembly(mods, coupling_scale=3.0, feedback_metric="identity", seed=0)
    assert _metric_skew_error(asm) > 1e-2
    assert not asm.checks()["feedback_skew_in_metric"][0]


def test_assemblies_nest():
    inner = [Assembly([SparseModule(6, density=0.2, seed=2 * k + s) for s in range(2)], seed=k)
             for k in range(2)]  # fmt: skip
    outer = Assembly([*inner, SVDModule(5, seed=0)], "all_to_all", coupling_scale=2.0, seed=3)
    assert outer.size == 29 and len(list(outer.leaves())) == 5
    assert _metric_skew_error(outer) < 1e-6
    assert outer.rate() == pytest.approx(min(leaf.rate() for _, leaf in outer.leaves()))
    rebuilt = build_module(outer.config())
    rebuilt.load_state_dict(outer.state_dict())
    torch.testing.assert_close(rebuilt.coupling(), outer.coupling())


def test_graph_errors_name_the_argument():
    mods = [SparseModule(8, density=0.2, seed=s) for s in range(3)]
    with pytest.raises(ValueError, match="graph has 2 nodes but there are 3 modules"):
        Assembly(mods, feed_forward(2))
    g = nx.DiGraph()
    g.add_node("a", size=8)
    g.add_node("b", size=5)
    g.add_node("c", size=8)
    with pytest.raises(ValueError, match="module sizes must match the graph"):
        Assembly(mods, g)
    with pytest.raises(ValueError, match="self-loops"):
        Assembly(mods, nx.DiGraph([(0, 0), (1, 2)]))
    b = np.zeros((24, 24))
    b[0, 20] = 1.0  # module 2 -> module 0, not an edge of the feed-forward graph
    with pytest.raises(ValueError, match="coupling has non-zero entries on non-existent edges"):
        Assembly(mods, "feed_forward", coupling=b)
    with pytest.raises(ValueError, match="graph="):
        module_graph("ring", 3)
    assert random_graph(5, 0.0, seed=0).number_of_edges() == 0


def test_combo_net_sizes_must_split_into_modules():
    with pytest.raises(ValueError, match="n_hidden=30 is not a multiple of n_modules=4"):
        SparseComboNet(1, 30, 2, n_modules=4)


# -- stepping ---------------------------------------------------------------------------------
def test_euler_step_bound_holds_for_sampled_slopes():
    rng = np.random.default_rng(0)
    net = SparseComboNet(1, 32, 2, n_modules=2, density=0.1, coupling_scale=4.0,
                         integrator="euler", dt=0.001, tau=1.0, seed=0)  # fmt: skip
    bound = net.step_bound()
    m = net.metric()
    s = np.sqrt(m)
    w = net.network.weight().detach().double().numpy()
    lc = net.network.coupling().detach().double().numpy()
    for alpha in (0.5 * bound.alpha_max, 0.9 * bound.alpha_max):
        for _ in range(20):
            d = rng.uniform(0, 1, 32) * (rng.random(32) < 0.7)
            step = np.eye(32) + alpha * (-np.eye(32) + w * d[None, :] + lc)
            norm = np.linalg.norm(s[:, None] * step / s[None, :], 2)
            assert norm <= bound.factor(alpha) + 1e-12 < 1


def test_cayley_map_is_an_isometry_of_the_metric():
    net = SparseComboNet(1, 32, 2, n_modules=4, density=0.2, coupling_scale=30.0, seed=0)
    double = copy.deepcopy(net.network).double()
    with torch.no_grad():
        c = cayley(double.coupling(), 0.7).numpy()
        m = double.metric().numpy()
    assert metric_norm(c, m) == pytest.approx(1.0, abs=1e-9)
    assert metric_norm(np.eye(32) + 0.7 * double.coupling().detach().numpy(), m) > 2


def test_dt_beyond_the_admissible_step_is_refused():
    with pytest.raises(ValueError, match=r"dt=1 ms is beyond the admissible step.*dt <"):
        SparseComboNet(1, 32, 2, n_modules=2, density=0.1, coupling_scale=20.0, tau=1.0,
                       dt=1.0, integrator="euler", seed=0)  # fmt: skip
    with pytest.raises(ValueError, match="dt=3 ms is beyond"):
        SVDComboNet(1, 16, 2, n_modules=2, tau=1.0, dt=3.0, seed=0)
    # The splitting integrator does not depend on the coupling strength.
    SparseComboNet(1, 32, 2, n_modules=2, density=0.1, coupling_scale=20.0, tau=1.0, dt=1.0,
                   seed=0)  # fmt: skip
    assert euler_step_bound(0.0, 1.0).alpha_max == 0.0


def test_euler_integrator_warns_when_training_breaks_the_step():
    net = SparseComboNet(1, 16, 2, n_modules=2, density=0.2, coupling_scale=0.0, tau=1.0,
                         dt=0.5, integrator="euler", seed=0)  # fmt: skip
    net(torch.zeros(1, 2, 1))  # admissible: no warning (warnings are errors in the suite)
    with torch.no_grad():
        net.network.B.add_(50.0 * net.network.mask)
    with pytest.warns(RuntimeWarning, match="no longer certified"):
        net(torch.zeros(1, 2, 1))


# -- dynamics adapter -------------------------------------------------------------------------
def _fd_jacobian(dyn, x, u, eps=1e-6):
    d = x.shape[1]
    cols = [(dyn.residual(x + eps * e, u) - dyn.residual(x - eps * e, u)) / (2 * eps)
            for e in np.eye(d)]  # fmt: skip
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("kind", ["ode", "map"])
@pytest.mark.parametrize("integrator", ["splitting", "euler"])
@pytest.mark.parametrize("nonlinearity", ["relu", "tanh"])
def test_jacobian_matches_finite_differences(kind, integrator, nonlinearity):
    # Euler's admissible step shrinks with the couplings (see stepping.py).
    dt = 0.5 if integrator == "splitting" else 0.01
    net = SVDComboNet(2, 24, 3, n_modules=3, integrator=integrator, dt=dt, tau=2.0,
                      nonlinearity=nonlinearity, seed=1)  # fmt: skip
    with torch.no_grad():
        net.bias.normal_()
    dyn = dynamics(net, kind=kind)
    rng = np.random.default_rng(0)
    x, u = rng.normal(size=(4, 24)), rng.normal(size=(4, 2))
    # Central differences: error O(eps²·φ''') plus rounding O(1e-16/eps) ≈ 1e-10; ReLU
    # kinks are avoided because no |x_i| is below eps.
    np.testing.assert_allclose(dyn.residual_jacobian(x, u), _fd_jacobian(dyn, x, u), atol=1e-7)
    # ODE Jacobian is (-I + W D + L)/tau.
    if kind == "ode":
        w = net.network.weight().detach().double().numpy()
        lc = net.network.coupling().detach().double().numpy()
        dphi = (x[0] > 0) if nonlinearity == "relu" else 1 - np.tanh(x[0]) ** 2
        expected = (-np.eye(24) + w * dphi[None, :] + lc) / 2.0
        np.testing.assert_allclose(dyn.jacobian(x[0], u[0]), expected, atol=1e-6)
    b = dyn.input_jacobian(x, u)
    fd_b = np.stack([(dyn.residual(x, u + 1e-6 * e) - dyn.residual(x, u - 1e-6 * e)) / 2e-6
                     for e in np.eye(2)], axis=-1)  # fmt: skip
    np.testing.assert_allclose(b, fd_b, atol=1e-7)
    g = dyn.vjp(x, u, np.ones((4, 24)))
    np.testing.assert_allclose(g, np.einsum("nij,ni->nj", dyn.residual_jacobian(x, u),
                                            np.ones((4, 24))), atol=1e-10)  # fmt: skip


def test_map_dynamics_is_the_forward_step():
    net = SparseComboNet(1, 32, 3, n_modules=4, density=0.2, dt=1.0, tau=4.0, seed=0)
    dyn = dynamics(net, kind="map")
    u = torch.randn(3, 5, 1)
    out = net(u)
    x = np.zeros((3, 32))
    for t in range(5):
        x = dyn.step(x, u[:, t].numpy())
        # float32 forward vs float64 map: agreement to single precision.
        np.testing.assert_allclose(out.states[:, t].detach().numpy(), x, atol=1e-5)


def test_model_config_rebuilds_the_same_network():
    net = SparseComboNet(1, 32, 3, n_modules=4, density=0.2, graph="random", seed=5)
    clone = SparseComboNet(**net.config())
    clone.load_state_dict(net.state_dict())
    u = torch.randn(2, 4, 1)
    torch.testing.assert_close(clone(u).outputs, net(u).outputs)
    generic = RNNofRNNs(net.network.config(), 1, 3, seed=0)
    assert generic.n_hidden == 32 and generic.config()["network"]["type"] == "assembly"
