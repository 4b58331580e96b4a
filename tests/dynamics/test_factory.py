"""dynamics(): every model describes itself; the dynamics package needs no torch."""

import subprocess
import sys

import numpy as np
import pytest

from neurodyn.dynamics import RateDynamics, TimescaleDynamics, TorchCellDynamics, dynamics
from neurodyn.rnn_models import MODELS

# Sizes every family accepts: 48 hidden units (6 wave rings of 8 neurons, at least its
# kernel; 8 modules of 6 units), 2 outputs (the timescale heads have two classes each).
SIZES = (2, 48, 2)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_describes_itself(name):
    model = MODELS[name](*SIZES, seed=0)
    dyn = dynamics(model)
    assert type(dyn) is type(model.as_dynamics())
    assert (dyn.n_state, dyn.n_input) == (model.n_state, 2)


def test_adapters_and_default_kinds():
    rate, timescale, gru = (MODELS[n](*SIZES, seed=0) for n in ("rate", "timescale", "gru"))
    assert isinstance(dynamics(rate), RateDynamics) and dynamics(rate).kind == "ode"
    assert dynamics(rate, kind="map").kind == "map"
    assert isinstance(dynamics(timescale), TimescaleDynamics) and dynamics(timescale).kind == "map"
    assert isinstance(dynamics(gru), TorchCellDynamics)
    with pytest.raises(ValueError, match="discrete map"):
        dynamics(gru, kind="ode")


def test_rate_adapter_is_the_model_ode():
    # The adapter's velocity is the model's ODE (1/tau)(-x + W phi(x) + W_in u + b),
    # evaluated here from the model's own tensors; float64 sums of 8 terms agree to
    # a few ulps, so 1e-12 is generous.
    model = MODELS["rate"](2, 8, 1, tau=50.0, seed=1)
    x, u = np.random.default_rng(0).normal(size=(3, 8)), np.array([0.3, -0.2])
    w = model.W.detach().double().numpy()
    w_in = model.W_in.detach().double().numpy()
    b = model.bias.detach().double().numpy()
    expected = (-x + np.tanh(x) @ w.T + u @ w_in.T + b) / 50.0
    np.testing.assert_allclose(dynamics(model).velocity(x, u), expected, rtol=1e-12, atol=1e-15)


def test_dynamics_of_a_function_loads_no_torch():
    code = (
        "import sys; from neurodyn.dynamics import dynamics; "
        "d = dynamics(lambda x, u: 0.5 * x, n_state=2); d.step([[1.0, 2.0]]); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
