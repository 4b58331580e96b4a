"""Bad inputs to every model family: per-unit parameters of the wrong length, empty
batches, non-finite and read-only arrays."""

import inspect

import numpy as np
import pytest
import torch

from neurodyn._validation import to_numpy
from neurodyn.rnn_models import (
    _TARGETS,
    IRNN,
    MODELS,
    RateRNN,
    SparseComboNet,
    SVDComboNet,
    TimescaleRNN,
    TorchRNN,
    WaveRNN,
    build_model,
    model_options,
)

N_IN, N_HIDDEN, N_OUT = 3, 8, 2

FAMILIES = {
    "rate": lambda: RateRNN(N_IN, N_HIDDEN, N_OUT, seed=0),
    "timescale": lambda: TimescaleRNN(N_IN, N_HIDDEN, n_heads=1, seed=0),
    "rnn": lambda: TorchRNN("rnn", N_IN, N_HIDDEN, N_OUT, seed=0),
    "gru": lambda: TorchRNN("gru", N_IN, N_HIDDEN, N_OUT, seed=0),
    "lstm": lambda: TorchRNN("lstm", N_IN, N_HIDDEN, N_OUT, seed=0),
    "irnn": lambda: IRNN(N_IN, N_HIDDEN, N_OUT, seed=0),
    "wave": lambda: WaveRNN(N_IN, N_OUT, n_neurons=4, n_channels=2, seed=0),
    "sparse_combo": lambda: SparseComboNet(N_IN, N_HIDDEN, N_OUT, n_modules=2, seed=0),
    "svd_combo": lambda: SVDComboNet(N_IN, N_HIDDEN, N_OUT, n_modules=2, seed=0),
}


@pytest.fixture(params=sorted(FAMILIES))
def net(request):
    return FAMILIES[request.param]()


@pytest.mark.parametrize("shape", [(2, 0, N_IN), (0, 5, N_IN), (0, 0, N_IN)])
def test_an_empty_batch_is_refused_by_every_family(net, shape):
    with pytest.raises(ValueError, match=r"^inputs has shape .*at least one trial and one time"):
        net(torch.zeros(shape))


def test_one_trial_of_one_step_runs(net):
    out = net(torch.zeros(1, 1, N_IN), noise=False)
    assert out.outputs.shape == (1, 1, N_OUT)
    assert out.states.shape == (1, 1, net.n_state)


def test_to_numpy_copies_only_read_only_arrays():
    a = np.zeros(3)
    assert to_numpy(a) is a
    view = np.broadcast_to(a, (2, 3))
    out = to_numpy(view)
    assert out.flags.writeable and not np.shares_memory(out, a)
    np.testing.assert_array_equal(out, view)
    t = torch.ones(2, requires_grad=True)
    assert to_numpy(t).flags.writeable


def test_read_only_inputs_and_states_give_the_same_result_without_a_warning(net):
    # Warnings are errors in the suite: a torch "non-writable array" warning fails here.
    u = np.random.default_rng(0).normal(size=(2, 4, N_IN)).astype(np.float32)
    h0 = np.full(net.n_state, 0.1, dtype=np.float32)
    expected = net(u.copy(), initial_state=h0.copy(), noise=False).outputs
    u_ro, h0_ro = u.copy(), np.broadcast_to(h0, (2, net.n_state))
    u_ro.setflags(write=False)
    got = net(u_ro, initial_state=h0_ro, noise=False).outputs
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_a_non_finite_initial_state_is_refused(net):
    h0 = torch.zeros(net.n_state)
    h0[1] = float("inf")
    with pytest.raises(ValueError, match="initial_state contains NaN or infinite"):
        net(torch.zeros(1, 3, N_IN), initial_state=h0)


# -- per-unit parameters ------------------------------------------------------------------------
PER_UNIT = {
    "rate": lambda tau: RateRNN(N_IN, N_HIDDEN, N_OUT, dt=10.0, tau=tau),
    "rate_trained": lambda tau: RateRNN(
        N_IN, N_HIDDEN, N_OUT, dt=10.0, tau=tau, train_tau=True, tau_min=10.0
    ),
    "timescale": lambda tau: TimescaleRNN(N_IN, N_HIDDEN, tau=np.asarray(tau) / 10.0),
    "timescale_fixed": lambda tau: TimescaleRNN(
        N_IN, N_HIDDEN, tau=np.asarray(tau) / 10.0, train_tau=False
    ),
}
WRONG_TAU = {
    "short": np.full(N_HIDDEN - 3, 50.0),
    "long": np.full(N_HIDDEN + 1, 50.0),
    "column": np.full((N_HIDDEN, 1), 50.0),
    "row": np.full((1, N_HIDDEN), 50.0),
    "empty": [],
}


@pytest.mark.parametrize("make", PER_UNIT.values(), ids=PER_UNIT.keys())
@pytest.mark.parametrize("tau", WRONG_TAU.values(), ids=WRONG_TAU.keys())
def test_a_tau_array_of_the_wrong_shape_is_refused(make, tau):
    expected = rf"^tau has shape .*expected one number or an array of shape \({N_HIDDEN},\)"
    with pytest.raises(ValueError, match=expected):
        make(tau)


@pytest.mark.parametrize("make", PER_UNIT.values(), ids=PER_UNIT.keys())
def test_tau_given_per_unit_or_as_one_number_is_used_as_given(make):
    per_unit = np.linspace(20.0, 90.0, N_HIDDEN)
    scale = 10.0 if isinstance(make(50.0), TimescaleRNN) else 1.0
    # float32 storage, and softplus/exp round trips in float32: a few ulps of the largest value.
    tol = 8 * np.finfo(np.float32).eps * per_unit.max()
    np.testing.assert_allclose(make(per_unit).tau.detach().numpy() * scale, per_unit, atol=tol)
    np.testing.assert_allclose(make(50.0).tau.detach().numpy() * scale, 50.0, atol=tol)
    np.testing.assert_allclose(make(np.array([50.0])).tau.detach().numpy() * scale, 50.0, atol=tol)


@pytest.mark.parametrize("tau", ["50", None, True, [50.0, "a"]])
def test_a_tau_that_is_not_numbers_is_refused(tau):
    with pytest.raises(ValueError, match=rf"^tau must be a number or an array of {N_HIDDEN}"):
        RateRNN(N_IN, N_HIDDEN, N_OUT, dt=10.0, tau=tau)


def test_set_tau_refuses_the_wrong_length_and_changes_nothing():
    net = TimescaleRNN(N_IN, N_HIDDEN, seed=0)
    before = net.tau.detach().clone()
    with pytest.raises(
        ValueError, match=rf"expected one number or an array of shape \({N_HIDDEN},\)"
    ):
        net.set_tau(np.full(N_HIDDEN - 1, 3.0))
    assert torch.equal(net.tau.detach(), before)


def test_a_shared_time_constant_must_be_one_number():
    with pytest.raises(ValueError, match=r"^tau must be a number"):
        SparseComboNet(N_IN, N_HIDDEN, N_OUT, n_modules=2, tau=np.full(N_HIDDEN, 5.0), seed=0)


# -- what inputs hold ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inputs", "what"),
    [
        (np.zeros((1, 2, N_IN), dtype=complex), "dtype complex128"),
        (torch.zeros(1, 2, N_IN, dtype=torch.complex64), "dtype torch.complex64"),
        (np.array([[["a"] * N_IN]]), "dtype <U1"),
        ([[[0.0] * N_IN, [0.0]]], "a ragged sequence"),
    ],
)
def test_inputs_that_are_not_real_numbers_are_refused(net, inputs, what):
    with pytest.raises(
        ValueError, match=rf"^inputs must be an array of real numbers, got .*{what}"
    ):
        net(inputs)


def test_integer_and_float64_inputs_run_in_the_model_dtype(net):
    u = np.ones((2, 3, N_IN), dtype=np.int64)
    out = net(u, noise=False)
    assert out.outputs.dtype == torch.get_default_dtype()
    torch.testing.assert_close(out.outputs, net(u.astype(np.float64), noise=False).outputs)


# -- options by name ------------------------------------------------------------------------------
def test_gated_cells_refuse_a_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity='relu' applies to cell='rnn' only"):
        TorchRNN("gru", N_IN, N_HIDDEN, N_OUT, nonlinearity="relu")
    assert (
        TorchRNN("lstm", N_IN, N_HIDDEN, N_OUT, nonlinearity=None).config()["nonlinearity"] is None
    )


def test_build_model_refuses_an_unknown_option_and_suggests_one():
    expected = (
        r"model 'rate' has no option 'nonlinarity'\. Did you mean 'nonlinearity'\? Options: a"
    )
    with pytest.raises(ValueError, match=expected):
        build_model("rate", N_IN, N_HIDDEN, N_OUT, nonlinarity="relu")
    with pytest.raises(ValueError, match="model 'gru' has no option 'tau'"):
        build_model("gru", N_IN, N_HIDDEN, N_OUT, tau=10.0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_listed_option_reaches_the_constructor(name):
    # Each option, passed at its default value, is accepted and lands in the configuration.
    defaults = {}
    for fn in _TARGETS[name]:
        for p in inspect.signature(fn).parameters.values():
            if p.default is not inspect.Parameter.empty:
                defaults.setdefault(p.name, p.default)
    options = model_options(name)
    assert options and set(options) <= set(defaults)
    # 24 units: a multiple of the default 8 modules and 6 wave channels.
    net = build_model(name, N_IN, 24, 2, **{k: defaults[k] for k in options})
    assert net.n_input == N_IN and net.n_hidden == 24
    config = net.config()
    for key in ("seed", "dt"):
        assert key in config


# -- noise: drawn on the generator's device -----------------------------------------------------
def test_rate_noise_comes_from_the_generator_in_a_fixed_order():
    net = RateRNN(N_IN, N_HIDDEN, N_OUT, dt=10.0, tau=50.0, noise_rec=0.3, noise_in=0.2, seed=0)
    u = torch.randn(2, 6, N_IN, generator=torch.Generator().manual_seed(1))
    out = net(u, generator=torch.Generator().manual_seed(5))
    # Reference loop: input noise first, then recurrent noise, from the same generator.
    g = torch.Generator().manual_seed(5)
    xi = torch.randn(u.shape, generator=g)
    eta = torch.randn((2, 6, N_HIDDEN), generator=g)
    alpha = net.alpha.detach()
    x = torch.zeros(2, N_HIDDEN)
    with torch.no_grad():
        u_noisy = u + 0.2 / np.sqrt(10.0) * xi
        for t in range(6):
            y = net.W @ torch.tanh(x).T + net.W_in @ u_noisy[:, t].T + net.bias[:, None]
            x = (1 - alpha) * x + alpha * y.T + torch.sqrt(2 * alpha) * 0.3 * eta[:, t]
    # float32 rounding of a 6-step recursion with O(1) states: a few ulps times the steps.
    torch.testing.assert_close(out.states[:, -1].detach(), x, rtol=1e-5, atol=1e-5)
