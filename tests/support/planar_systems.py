"""Planar systems whose phase portraits are known in closed form."""

import numpy as np

from neurodyn.dynamics import FunctionDynamics


def van_der_pol_like():
    """ẋ = y - (x³/3 - x), ẏ = -x: nullclines y = x³/3 - x and x = 0; one fixed point,
    the origin, an unstable focus (trace 1, determinant 1)."""
    return FunctionDynamics(
        lambda z, u: np.stack([z[:, 1] - (z[:, 0] ** 3 / 3 - z[:, 0]), -z[:, 0]], 1),
        n_state=2,
        kind="ode",
        dt=0.05,
    )
