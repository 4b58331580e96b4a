"""The nonlinearity table: derivatives, curvature bounds, torch functions and kernel codes."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from neurodyn.backends import available_backends
from neurodyn.dynamics import KernelSpec
from neurodyn.dynamics.nonlinearities import (
    NONLINEARITIES,
    PHI_CODES,
    PHI_CURVATURE,
    RATE_NONLINEARITIES,
    LeakyReLU,
    get_nonlinearity,
)
from neurodyn.dynamics.ops import NUMPY, TORCH

ENTRIES = [*NONLINEARITIES.values(), LeakyReLU(0.2)]
IDS = [repr(phi) for phi in ENTRIES]
HEADER = Path(__file__).parents[2] / "csrc" / "include" / "neurodyn"


def sample_points():
    """Points on [-6, 6] away from the kink at 0 (finite differences straddle no kink)."""
    z = np.random.default_rng(0).uniform(-6.0, 6.0, 400)
    return z[np.abs(z) > 1e-3]


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_derivatives_match_central_differences(phi):
    z, h = sample_points(), 1e-5
    y, dy = phi.value_and_derivative(NUMPY, z)
    fd1 = (phi.value(NUMPY, z + h) - phi.value(NUMPY, z - h)) / (2 * h)
    fd2 = (phi.derivative(NUMPY, z + h) - phi.derivative(NUMPY, z - h)) / (2 * h)
    # Central differences: truncation h²|φ'''|/6 ~ 1e-10, rounding eps/h ~ 2e-11 (φ = O(6)).
    np.testing.assert_allclose(dy, fd1, rtol=0, atol=1e-8)
    np.testing.assert_allclose(phi.second_derivative(NUMPY, z), fd2, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(y, phi.value(NUMPY, z))


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_derivative_matches_autograd_of_the_torch_function(phi):
    z = torch.tensor(sample_points(), dtype=torch.float64, requires_grad=True)
    y = phi.torch_function()(z)
    (grad,) = torch.autograd.grad(y.sum(), z)
    # Both evaluate the same closed form in float64; a few ulps apart.
    np.testing.assert_allclose(phi.derivative(NUMPY, z.detach().numpy()), grad, atol=1e-14)


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_kink_derivative_is_pytorchs(phi):
    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(phi.torch_function()(z).sum(), z)
    assert phi.derivative(NUMPY, np.zeros(1))[0] == pytest.approx(float(grad[0]), abs=1e-15)


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_array_and_torch_functions_agree(phi):
    z = np.concatenate([sample_points(), [-40.0, -25.0, 0.0, 25.0, 40.0]])
    zt = torch.tensor(z, dtype=torch.float64)
    y_np, d_np = phi.value_and_derivative(NUMPY, z)
    y_ops, d_ops = phi.value_and_derivative(TORCH(), zt)
    # The array formulas run the same float64 operations in NumPy and torch: values a few
    # ulps apart; 1 - tanh² cancels, so its error is a few eps absolute, not relative.
    np.testing.assert_allclose(y_ops.numpy(), y_np, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(d_ops.numpy(), d_np, rtol=1e-14, atol=1e-15)
    # PyTorch's softplus returns z above 20, off by log1p(e^-z) < e^-20 relative.
    np.testing.assert_allclose(phi.torch_function()(zt).numpy(), y_np, rtol=3e-9, atol=1e-300)


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_range_and_slope_bounds_hold(phi):
    z = np.linspace(-60.0, 60.0, 240_001)
    y, dy = phi.value_and_derivative(NUMPY, z)
    assert np.all((y >= phi.lower) & (y <= phi.upper))
    assert np.all(dy >= 0) and np.max(dy) <= phi.slope_bound
    # The slope bound is attained (to the grid's resolution): it is the supremum.
    assert np.max(dy) >= phi.slope_bound * (1 - 1e-6)
    if np.isfinite(phi.lower) and phi.lower != 0.0:
        assert np.min(y) <= phi.lower * (1 - 1e-6)  # approached, so the closure is tight


@pytest.mark.parametrize("phi", ENTRIES, ids=IDS)
def test_curvature_is_the_supremum_of_the_second_derivative(phi):
    if not np.isfinite(phi.curvature):
        # A kink: φ' jumps at 0, so no finite bound on |φ''| holds.
        left, right = phi.derivative(NUMPY, np.array([-1e-9, 1e-9]))
        assert right - left > 1e-3
        return
    z = np.linspace(-12.0, 12.0, 1_200_001)
    peak = np.max(np.abs(phi.second_derivative(NUMPY, z)))
    # The grid step 2e-5 misses the maximum by O(step²|φ''''|) ~ 1e-9 at most.
    assert peak <= phi.curvature < peak * (1 + 1e-8)


def test_kernel_codes_follow_the_header_enum_and_switch():
    newton = (HEADER / "newton.h").read_text()
    enum = re.search(r"enum PhiCode\s*:\s*int\s*\{([^}]*)\}", newton).group(1)
    codes = {k.strip().lower(): int(v) for k, v in re.findall(r"(\w+)\s*=\s*(\d+)", enum)}
    assert codes == PHI_CODES
    model = (HEADER / "newton_model.h").read_text()
    switch = model[model.index("inline void phi_eval") :]
    switch = switch[: switch.index("\n}\n")]
    # Every code but the last has its case; the last one is the switch's default.
    cases = re.findall(r"case (\w+):", switch)
    last = max(PHI_CODES, key=PHI_CODES.get)
    assert sorted(c.lower() for c in cases) == sorted(n for n in PHI_CODES if n != last)
    assert f"default:  // {last.upper()}" in switch
    assert len(PHI_CURVATURE) == len(PHI_CODES)
    for name, code in PHI_CODES.items():
        assert PHI_CURVATURE[code] == NONLINEARITIES[name].curvature


@pytest.mark.skipif("cpp" not in available_backends(), reason="needs the compiled extension")
@pytest.mark.parametrize("name", RATE_NONLINEARITIES)
def test_compiled_kernel_evaluates_the_tables_phi(name):
    from neurodyn.analysis.fixed_points import kernel

    # The rate residual with W = I, s = 1, c = 0 is r = φ(x) - x, A = diag(φ'(x)) - I.
    d = 5
    phi = NONLINEARITIES[name]
    spec = KernelSpec(0, phi.kernel_code, np.eye(d), np.zeros(d), np.ones(d))
    X = np.random.default_rng(1).uniform(-4.0, 4.0, (40, d))
    R, A = kernel.evaluate(spec, np.zeros((len(X), d)), X)
    y, dy = phi.value_and_derivative(NUMPY, X)
    # libm and NumPy's tanh/exp/log1p differ by an ulp or two.
    np.testing.assert_allclose(R, y - X, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.diagonal(A, axis1=1, axis2=2), dy - 1.0, rtol=0, atol=1e-14)


def test_lookup_validates_and_parameterises():
    with pytest.raises(ValueError, match=r"nonlinearity='tahn'.*Did you mean 'tanh'"):
        get_nonlinearity("tahn")
    with pytest.raises(ValueError, match="nonlinearity='sigmoid'"):
        get_nonlinearity("sigmoid", choices=RATE_NONLINEARITIES)
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(-0.1)
    leaky = get_nonlinearity("leaky_relu", negative_slope=0.3)
    assert leaky.negative_slope == 0.3 and leaky.slope_bound == 1.0
    assert get_nonlinearity("leaky_relu") is NONLINEARITIES["leaky_relu"]
    assert math.isclose(LeakyReLU(2.0).slope_bound, 2.0)
