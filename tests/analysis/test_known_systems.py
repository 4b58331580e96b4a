"""Fixed points of systems whose fixed points and stability are known in closed form."""

import numpy as np
import pytest
import torch

from neurodyn.analysis import find_fixed_points, linearize
from neurodyn.dynamics import AutogradDynamics, FunctionDynamics, RateDynamics

BACKENDS = ["numpy", "torch"]


def linear_map(W, W_in, b):
    return FunctionDynamics(
        lambda x, u: x @ W.T + u @ W_in.T + b,
        n_state=W.shape[0],
        n_input=W_in.shape[1],
        jacobian=lambda x, u: np.broadcast_to(W, (len(x), *W.shape)),
        input_jacobian=lambda x, u: np.broadcast_to(W_in, (len(x), *W_in.shape)),
    )


def random_linear(d=6, m=2, radius=0.9, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    W *= radius / np.max(np.abs(np.linalg.eigvals(W)))
    return W, rng.normal(size=(d, m)), rng.normal(size=d)


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_map_closed_form(backend):
    W, W_in, b = random_linear()
    u = np.array([0.3, -1.2])
    dyn = linear_map(W, W_in, b)
    x0 = np.random.default_rng(1).normal(0, 3, (50, 6))
    fps = find_fixed_points(dyn, u, x0, backend=backend, progress=False)
    x_star = np.linalg.solve(np.eye(6) - W, W_in @ u + b)
    # Every candidate reaches the unique root; de-duplication leaves one point.
    assert len(fps) == 1 and fps.status[0] == "root" and fps.n_candidates[0] == 50
    # Newton on a linear system is exact after one step, up to the solve's rounding:
    # cond(I - W) ≈ 10 here, so 1e-12 absolute is ample for O(1) states.
    np.testing.assert_allclose(fps.x[0], x_star, atol=1e-12)
    assert fps.q[0] < 1e-24
    lam = np.linalg.eigvals(W)
    np.testing.assert_allclose(
        np.sort_complex(fps.eigenvalues[0]), np.sort_complex(lam), atol=1e-12
    )
    assert fps.stability[0] == "stable"  # spectral radius 0.9 < 1
    # Sorted most unstable first: by |λ| for a map.
    assert np.all(np.diff(np.abs(fps.eigenvalues[0])) <= 1e-12)
    np.testing.assert_allclose(fps.input_jacobian[0], W_in, atol=0)


def test_linear_rate_ode_is_dt_independent():
    """τẋ = -x + Wx + W_in u + b: the root is (I - W)⁻¹(W_in u + b) and the eigenvalues
    (eig(W) - 1)/τ, whatever the Euler step."""
    W, W_in, b = random_linear(d=5, m=1, radius=0.8, seed=3)
    tau = 20.0

    def lin(x, u):
        return (-x + x @ W.T + u @ W_in.T + b) / tau

    dyn = FunctionDynamics(lin, n_state=5, n_input=1, kind="ode", dt=1.0,
                           jacobian=lambda x, u: np.broadcast_to((W - np.eye(5)) / tau, (len(x), 5, 5)))  # fmt: skip
    x0 = np.random.default_rng(0).normal(size=(10, 5))
    fps = find_fixed_points(dyn, [0.7], x0, backend="numpy", progress=False)
    np.testing.assert_allclose(
        fps.x[0], np.linalg.solve(np.eye(5) - W, W_in[:, 0] * 0.7 + b), atol=1e-12
    )
    expected = (np.linalg.eigvals(W) - 1) / tau
    np.testing.assert_allclose(
        np.sort_complex(fps.eigenvalues[0]), np.sort_complex(expected), atol=1e-13
    )
    np.testing.assert_allclose(np.sort(fps.growth_rate[0]), np.sort(expected.real), atol=1e-13)


def test_linear_torch_cell_via_autograd():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4 + 2, 4)
    with torch.no_grad():
        lin.weight[:, :4] *= 0.5 / torch.linalg.eigvals(lin.weight[:, :4]).abs().max()

    class Cell(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def forward(self, u, h):
            return self.lin(torch.cat([h, u], -1))

    # A module (not a bare lambda) so its float32 weights are evaluated as float64 copies.
    dyn = AutogradDynamics(Cell(), n_state=4, n_input=2)
    W = lin.weight.detach().double().numpy()
    b = lin.bias.detach().double().numpy()
    u = np.array([1.0, -2.0])
    fps = find_fixed_points(dyn, u, np.zeros((3, 4)), backend="numpy", progress=False)
    x_star = np.linalg.solve(np.eye(4) - W[:, :4], W[:, 4:] @ u + b)
    np.testing.assert_allclose(fps.x[0], x_star, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(fps.eigenvalues[0]),
                               np.sort_complex(np.linalg.eigvals(W[:, :4])), atol=1e-12)  # fmt: skip


def pitchfork(mu):
    """ẋ = μx − x³ with its exact Jacobian."""
    return FunctionDynamics(lambda x, u: mu * x - x**3, n_state=1, kind="ode",
                            jacobian=lambda x, u: (mu - 3 * x**2)[:, :, None])  # fmt: skip


SEEDS_1D = np.linspace(-2.0, 2.0, 41)[:, None] + 0.013


@pytest.mark.parametrize("backend", BACKENDS)
def test_pitchfork_below_bifurcation(backend):
    fps = find_fixed_points(pitchfork(-1.0), None, SEEDS_1D, backend=backend, progress=False)
    assert len(fps) == 1 and fps.status[0] == "root"
    assert abs(fps.x[0, 0]) < 1e-12
    np.testing.assert_allclose(fps.eigenvalues[0].real, [-1.0], atol=1e-12)
    assert fps.summary() == {"stable": 1, "slow": 0, "failed": 0, "left_state_set": 0}


@pytest.mark.parametrize("backend", BACKENDS)
def test_pitchfork_above_bifurcation(backend):
    mu = 1.0
    fps = find_fixed_points(pitchfork(mu), None, SEEDS_1D, backend=backend, progress=False)
    order = np.argsort(fps.x[:, 0])
    np.testing.assert_allclose(fps.x[order, 0], [-1.0, 0.0, 1.0], atol=1e-12)
    # f'(0) = μ (unstable), f'(±√μ) = −2μ (stable).
    np.testing.assert_allclose(fps.eigenvalues[order, 0].real, [-2.0, 1.0, -2.0], atol=1e-12)
    assert list(fps.stability[order]) == ["stable", "unstable_1", "stable"]
    assert fps.summary() == {
        "stable": 2, "unstable_1": 1, "slow": 0, "failed": 0, "left_state_set": 0
    }


def test_pitchfork_at_bifurcation_is_marginal():
    """At μ = 0 the root x = 0 has a singular Jacobian: Newton converges only linearly,
    but the candidate still ends as a located root, labelled marginal."""
    fps = find_fixed_points(pitchfork(0.0), None, SEEDS_1D, backend="numpy", progress=False)
    assert len(fps) == 1 and fps.status[0] == "root"
    # The root is located to root_xtol·(1 + |x|): Newton's step -x/3 must fall below 1e-8.
    assert abs(fps.x[0, 0]) < 1e-7
    assert fps.stability[0] == "marginal" and fps.n_marginal[0] == 1


@pytest.mark.parametrize("kind", ["map", "ode"])
def test_two_dimensional_saddle_and_nodes(kind):
    """ẋ = x − x³, ẏ = −y (and its Euler map): nodes at (±1, 0), a saddle at the origin."""

    def f(z, u):
        return np.stack([z[:, 0] - z[:, 0] ** 3, -z[:, 1]], axis=1)

    if kind == "map":
        dyn = FunctionDynamics(lambda z, u: z + 0.1 * f(z, u), n_state=2, kind="map")
    else:
        dyn = FunctionDynamics(f, n_state=2, kind="ode")
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 9), np.linspace(-2, 2, 9)), -1).reshape(-1, 2)
    fps = find_fixed_points(dyn, None, grid + 0.01, backend="numpy", progress=False)
    order = np.argsort(fps.x[:, 0])
    np.testing.assert_allclose(fps.x[order], [[-1, 0], [0, 0], [1, 0]], atol=1e-9)
    assert list(fps.stability[order]) == ["stable", "unstable_1", "stable"]
    # The saddle's unstable mode points along x; finite-difference Jacobians are good to ~1e-9.
    saddle = order[1]
    np.testing.assert_allclose(np.abs(fps.right[saddle][:, 0].real), [1, 0], atol=1e-8)
    expected = 1.1 if kind == "map" else 1.0
    np.testing.assert_allclose(fps.eigenvalues[saddle][0].real, expected, atol=1e-8)


def test_focus_frequency_and_growth():
    """Hopf normal form below the bifurcation: eigenvalues μ ± iω at the origin."""
    mu, omega = -0.05, 0.2  # per ms

    def f(z, u):
        x, y = z[:, 0], z[:, 1]
        r2 = x * x + y * y
        return np.stack([mu * x - omega * y - x * r2, omega * x + mu * y - y * r2], axis=1)

    dyn = FunctionDynamics(f, n_state=2, kind="ode", dt=1.0)
    x0 = np.random.default_rng(0).normal(size=(20, 2))
    fps = find_fixed_points(dyn, None, x0, backend="numpy", progress=False)
    assert len(fps) == 1
    np.testing.assert_allclose(fps.growth_rate[0], [mu, mu], atol=1e-8)
    # ω per ms → ω/2π kHz; positive frequency first within the complex pair.
    np.testing.assert_allclose(
        fps.frequency[0], [omega / (2 * np.pi) * 1000, -omega / (2 * np.pi) * 1000], rtol=1e-7
    )
    np.testing.assert_allclose(fps.time_constant[0], [1 / 0.05] * 2, rtol=1e-7)


def test_map_frequency_units():
    """A rotation by θ per step of dt ms has frequency θ/(2π dt) kHz and |λ| = ρ."""
    rho, theta, dt = 0.9, 0.3, 5.0
    M = rho * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    dyn = FunctionDynamics(lambda x, u: x @ M.T, n_state=2, dt=dt)
    lin = linearize(dyn, np.zeros((1, 2)))
    np.testing.assert_allclose(np.abs(lin.eigenvalues[0]), [rho, rho], atol=1e-9)
    np.testing.assert_allclose(lin.growth_rate[0], [np.log(rho) / dt] * 2, atol=1e-9)
    np.testing.assert_allclose(
        lin.frequency[0],
        [theta / (2 * np.pi * dt) * 1000, -theta / (2 * np.pi * dt) * 1000],
        rtol=1e-7,
    )


def test_rate_network_fixed_points_do_not_depend_on_dt():
    """The ODE and every Euler map of a rate network share fixed points, and the map's
    eigenvalues are 1 + dt·μ."""
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1.6 / np.sqrt(20), (20, 20))
    args = dict(
        W=W,
        W_in=rng.normal(size=(20, 1)),
        bias=0.2 * rng.normal(size=20),
        tau=np.linspace(10, 40, 20),
    )
    x0 = rng.normal(0, 2, (200, 20))
    ode = find_fixed_points(RateDynamics(**args, dt=1.0), None, x0, progress=False, backend="numpy")
    roots = ode.roots
    assert len(roots) >= 1
    for dt in (1.0, 5.0):
        dmap = RateDynamics(**args, dt=dt, kind="map")
        lin = linearize(dmap, roots.x)
        np.testing.assert_allclose(np.sort_complex(lin.eigenvalues.ravel()),
                                   np.sort_complex((1 + dt * roots.eigenvalues).ravel()), atol=1e-10)  # fmt: skip
        assert np.max(np.abs(dmap.residual(roots.x))) < 1e-12
        assert list(lin.stability) == list(roots.stability)
