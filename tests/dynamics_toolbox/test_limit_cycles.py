"""Shooting for periodic orbits: the Hopf normal form, a reversed (unstable) cycle, map cycles."""

import numpy as np
import pytest
from toolbox_systems import hopf

from neurodyn.analysis import estimate_period, find_limit_cycle
from neurodyn.dynamics import FunctionDynamics


@pytest.mark.parametrize(("mu", "omega"), [(0.5, 2.0), (0.1, 1.0)])
def test_hopf_normal_form_cycle(mu, omega):
    dyn = hopf(mu, omega)
    x, T = estimate_period(dyn, [0.05, 0.0], t_transient=10 / mu, t_max=10 * np.pi / omega)
    assert pytest.approx(2 * np.pi / omega, rel=1e-3) == T
    lc = find_limit_cycle(dyn, x, T)
    assert lc.status == "converged" and lc.stability == "stable"
    # Radius sqrt(μ), period 2π/ω, multipliers 1 (along the orbit) and exp(-2μT).
    np.testing.assert_allclose(np.linalg.norm(lc.orbit, axis=1), np.sqrt(mu), rtol=1e-6)
    assert lc.period == pytest.approx(2 * np.pi / omega, rel=1e-8)
    period = 2 * np.pi / omega
    mult = np.sort(np.abs(lc.multipliers))[::-1]
    assert mult[0] == pytest.approx(1.0, abs=1e-6)
    assert mult[1] == pytest.approx(np.exp(-2 * mu * period), rel=1e-4)
    assert abs(lc.multipliers[lc.trivial] - 1) < 1e-6
    ds = lc.to_xarray()
    assert ds.sizes["multiplier"] == 2 and ds.attrs["stability"] == "stable"


def test_unstable_cycle_of_the_time_reversed_system():
    # Reversing time makes the cycle repelling: the multiplier becomes exp(+2μT).
    mu, omega = 0.2, 1.0
    # Single shooting needs a close guess for a repelling orbit: errors grow by e^{2μT} ≈ 12.
    lc = find_limit_cycle(hopf(mu, omega, sign=-1.0), [np.sqrt(mu) * 1.002, 0.0], 6.1)
    assert lc.status == "converged" and lc.stability == "unstable_1"
    assert np.max(np.abs(lc.multipliers)) == pytest.approx(np.exp(2 * mu * 2 * np.pi), rel=1e-4)


def test_two_cycle_of_the_logistic_map():
    r = 3.2
    dyn = FunctionDynamics(
        lambda x, u: r * x * (1 - x), n_state=1, jacobian=lambda x, u: (r * (1 - 2 * x))[:, :, None]
    )
    lc = find_limit_cycle(dyn, [0.5], 2)
    disc = np.sqrt((r - 3) * (r + 1))
    hi, lo = (r + 1 + disc) / (2 * r), (r + 1 - disc) / (2 * r)
    assert sorted(lc.orbit[:2, 0]) == pytest.approx([lo, hi], rel=1e-10)
    # The multiplier of a 2-cycle is the product of the derivatives along it.
    assert lc.multipliers[0].real == pytest.approx(r**2 * (1 - 2 * hi) * (1 - 2 * lo), rel=1e-8)
    assert lc.stability == "stable" and lc.kind == "map"


def test_divergence_is_a_status_not_an_exception():
    dyn = FunctionDynamics(
        lambda x, u: np.concatenate([x[:, :1] ** 2, -x[:, 1:]], 1), n_state=2, kind="ode"
    )
    lc = find_limit_cycle(dyn, [2.0, 1.0], 5.0)
    assert lc.status == "diverged" and lc.stability == "unknown"


def test_bad_input():
    dyn = hopf(0.5, 2.0)
    with pytest.raises(ValueError, match="period must be positive"):
        find_limit_cycle(dyn, [0.7, 0.0], -1.0)
    with pytest.raises(ValueError, match="period must be positive"):
        find_limit_cycle(dyn, [0.7, 0.0], np.nan)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        find_limit_cycle(dyn, [np.nan, 0.0], 3.0)
    with pytest.raises(ValueError, match="x0 is a fixed point"):
        find_limit_cycle(dyn, [0.0, 0.0], 3.0)
    logistic = FunctionDynamics(lambda x, u: 3.2 * x * (1 - x), n_state=1)
    with pytest.raises(ValueError, match=r"period \(the k of a map cycle\) must be an integer >= 1"):
        find_limit_cycle(logistic, [0.5], 2.5)
    with pytest.raises(ValueError, match="t_max must be finite and > 0"):
        estimate_period(dyn, [0.1, 0.0], t_transient=1.0, t_max=-1.0)
