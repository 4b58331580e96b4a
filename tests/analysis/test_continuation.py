"""Pseudo-arclength continuation on systems whose bifurcations are known in closed form."""

import numpy as np
import pytest
from toolbox_systems import hopf

from neurodyn.analysis import continue_fixed_points
from neurodyn.dynamics import FunctionDynamics, RateDynamics


def saddle_node():
    return FunctionDynamics(
        lambda x, u: u - x**2,
        n_state=1,
        n_input=1,
        kind="ode",
        jacobian=lambda x, u: (-2 * x)[:, :, None],
        input_jacobian=lambda x, u: np.ones((len(x), 1, 1)),
    )


def test_saddle_node_fold_at_zero():
    br = continue_fixed_points(
        saddle_node(), [1.0], p0=1.0, p_range=(-1, 2), direction=-1, progress=False
    )
    assert [b.kind for b in br.bifurcations] == ["fold"]
    fold = br.bifurcations[0]
    # Bisection along the arc locates the fold to rounding level: μ = 0, x = 0.
    assert abs(fold.parameter) < 1e-10 and abs(fold.x[0]) < 1e-6
    assert abs(fold.eigenvalue) < 1e-5
    # The branch is x = ±sqrt(μ): stable above, unstable below the fold.
    np.testing.assert_allclose(br.x[:, 0] ** 2, br.parameter, atol=1e-9)
    assert np.all(br.stability[br.x[:, 0] > 1e-3] == "stable")
    assert np.all(br.stability[br.x[:, 0] < -1e-3] == "unstable_1")
    assert br.status == "parameter_range"


def test_hopf_normal_form_has_a_hopf_point_at_zero():
    br = continue_fixed_points(
        hopf(mu=None, omega=2.0), [0.0, 0.0], p0=-1.0, p_range=(-1, 1), progress=False
    )
    (h,) = br.bifurcations
    assert h.kind == "hopf" and abs(h.parameter) < 1e-8
    # The critical eigenvalue is ±iω.
    assert abs(h.eigenvalue.real) < 1e-6 and abs(abs(h.eigenvalue.imag) - 2.0) < 1e-6
    assert br.stability[0] == "stable" and br.stability[-1] == "unstable_2"
    assert br.hopf_points() == [h] and br.folds() == []


@pytest.mark.parametrize("w", [1.5, 3.0])
def test_one_unit_network_has_two_folds_at_the_closed_form(w):
    # x' = -x + tanh(w x + μ). Folds where w sech²(w x + μ) = 1 and x = tanh(w x + μ):
    # x* = ±sqrt(1 - 1/w), μ* = artanh(x*) - w x*.
    def f(x, u):
        return -x + np.tanh(w * x + u)

    def jac(x, u):
        return (-1 + w * (1 - np.tanh(w * x + u) ** 2))[:, :, None]

    def jac_u(x, u):
        return (1 - np.tanh(w * x + u) ** 2)[:, :, None]

    dyn = FunctionDynamics(f, n_state=1, n_input=1, kind="ode", jacobian=jac, input_jacobian=jac_u)
    xs = np.sqrt(1 - 1 / w)
    expected = sorted([np.arctanh(xs) - w * xs, np.arctanh(-xs) + w * xs])
    br = continue_fixed_points(dyn, [-0.99], p0=-3.0, p_range=(-4, 4), progress=False)
    folds = sorted(b.parameter for b in br.folds())
    np.testing.assert_allclose(folds, expected, rtol=1e-8)
    assert len(br.bifurcations) == 2
    # Three fixed points between the folds: the middle branch is the unstable one.
    mid = (br.parameter > expected[0]) & (br.parameter < expected[1])
    assert set(br.stability[mid]) == {"stable", "unstable_1"}


def test_rate_network_input_continuation_and_parameter_callable_agree():
    # τ x' = -x + w tanh(x) + μ: folds where w(1 - tanh²x) = 1, μ* = x* - w tanh(x*).
    w = 2.0
    dyn = RateDynamics(W=[[w]], W_in=[[1.0]], tau=10.0, dt=1.0)
    xs = np.arctanh(np.sqrt(1 - 1 / w))
    expected = sorted([xs - w * np.tanh(xs), -xs + w * np.tanh(xs)])
    br = continue_fixed_points(dyn, [-2.5], p0=-2.0, p_range=(-3, 3), progress=False)
    np.testing.assert_allclose(sorted(b.parameter for b in br.folds()), expected, rtol=1e-8)

    def at(mu):
        return RateDynamics(W=[[w]], W_in=[[1.0]], bias=[mu], tau=10.0, dt=1.0)

    br2 = continue_fixed_points(
        at(-2.0),
        [-2.5],
        p0=-2.0,
        p_range=(-3, 3),
        parameter=at,
        parameter_name="bias",
        progress=False,
    )
    # The same folds through a finite-difference parameter derivative.
    np.testing.assert_allclose(sorted(b.parameter for b in br2.folds()), expected, rtol=1e-6)
    ds = br2.to_xarray()
    assert ds.sizes["bifurcation"] == 2 and ds.attrs["parameter_name"] == "bias"
    assert list(ds["bifurcation_kind"].values) == ["fold", "fold"]


def test_bad_input():
    dyn = saddle_node()
    with pytest.raises(ValueError, match=r"p0=5\.0 lies outside p_range"):
        continue_fixed_points(dyn, [1.0], p0=5.0, p_range=(-1, 2), progress=False)
    with pytest.raises(ValueError, match="p_range must be"):
        continue_fixed_points(dyn, [1.0], p0=1.0, p_range=(2, -1), progress=False)
    with pytest.raises(ValueError, match="x0 contains NaN"):
        continue_fixed_points(dyn, [np.nan], p0=1.0, progress=False)
    with pytest.raises(ValueError, match="ds must be finite and > 0"):
        continue_fixed_points(dyn, [1.0], p0=1.0, ds=-0.1, progress=False)
    with pytest.raises(ValueError, match="does not converge to a fixed point"):
        # No fixed point exists for μ < 0.
        continue_fixed_points(dyn, [1.0], p0=-0.5, progress=False)
    two = RateDynamics(W=np.eye(2), W_in=np.eye(2), tau=1.0, dt=1.0)
    with pytest.raises(ValueError, match="input_direction is needed"):
        continue_fixed_points(two, [0.0, 0.0], progress=False)


def test_fitzhugh_nagumo_hopf_points_and_no_spurious_ones():
    # Hopf where trace J = 1 - v² - εb = 0 (det J > 0 there): v* = ±sqrt(1 - εb),
    # I* = v*³/3 - v* + (v* + a)/b. In between, the unstable pair turns real and back,
    # which is not a bifurcation.
    a, b, eps = 0.7, 0.8, 0.08

    def f(x, u):
        v, w = x[:, 0], x[:, 1]
        return np.stack([v - v**3 / 3 - w + u[:, 0], eps * (v + a - b * w)], axis=1)

    dyn = FunctionDynamics(f, n_state=2, n_input=1, kind="ode")
    br = continue_fixed_points(dyn, [-1.2, -0.6], p0=-0.5, p_range=(-0.5, 2.0), progress=False)
    vs = np.array([-1.0, 1.0]) * np.sqrt(1 - eps * b)
    expected = vs**3 / 3 - vs + (vs + a) / b
    assert [x.kind for x in br.bifurcations] == ["hopf", "hopf"]
    # Finite-difference Jacobians (no analytic one given): ~1e-7 accurate.
    np.testing.assert_allclose([x.parameter for x in br.bifurcations], expected, atol=1e-6)


def test_period_doubling_of_the_logistic_map():
    # x* = 1 - 1/r has multiplier 2 - r: period doubling at r = 3.
    dyn = FunctionDynamics(
        lambda x, u: u * x * (1 - x),
        n_state=1,
        n_input=1,
        jacobian=lambda x, u: (u * (1 - 2 * x))[:, :, None],
        input_jacobian=lambda x, u: (x * (1 - x))[:, :, None],
    )
    br = continue_fixed_points(dyn, [0.5], p0=2.0, p_range=(1.5, 3.5), progress=False)
    (pd,) = br.bifurcations
    assert pd.kind == "period_doubling" and pd.parameter == pytest.approx(3.0, abs=1e-8)
    assert pd.eigenvalue.real == pytest.approx(-1.0, abs=1e-6)
