"""WaveRNN and IRNN: the fast wRNN equals the paper's Conv1d loop, values and gradients."""

import numpy as np
import pytest
import torch

from neurodyn.rnn_models import IRNN, MODELS, ReferenceWaveRNN, WaveRNN, build_model
from neurodyn.rnn_models.irnn import irnn_parameter_count, matched_irnn_size
from neurodyn.rnn_models.wave import _WaveScan, wave_parameter_count


def _random_wave(dtype, **kw):
    # Random kernel and inputs (not the shift initialisation), so every tap and the
    # ReLU gate matter in the comparison.
    net = WaveRNN(
        5,
        4,
        n_neurons=11,
        n_channels=3,
        shift_init=False,
        source_init=False,
        input_std=0.5,
        seed=3,
        **kw,
    ).to(dtype)
    with torch.no_grad():
        net.kernel.mul_(2.0)
    return net


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_forward_and_gradients_equal_conv1d_reference(kernel_size, dtype):
    net = _random_wave(dtype, kernel_size=kernel_size)
    ref = net.reference()
    x = torch.rand(6, 17, 5, dtype=dtype)
    a, b = net(x), ref(x)
    # Each float32 step adds O(eps) rounding from a different summation order.
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(a.outputs, b.outputs, rtol=tol, atol=tol)
    torch.testing.assert_close(a.states, b.states, rtol=tol, atol=tol)
    assert (a.states == 0).float().mean() > 0.1  # the ReLU gate is exercised
    g_out, g_h = torch.randn_like(a.outputs), torch.randn_like(a.states)
    ((a.outputs * g_out).sum() + (a.states * g_h).sum()).backward()
    ((b.outputs * g_out).sum() + (b.states * g_h).sum()).backward()
    pairs = [
        (net.kernel, ref.conv.weight),
        (net.kernel_bias, ref.conv.bias),
        (net.weight_in, ref.V.weight),
        (net.bias_in, ref.V.bias),
        (net.readout.weight, ref.readout.weight),
        (net.readout.bias, ref.readout.bias),
    ]
    for p, q in pairs:
        scale = q.grad.abs().max()
        torch.testing.assert_close(p.grad / scale, q.grad / scale, rtol=0, atol=10 * tol)


@pytest.mark.parametrize("kernel_size", [1, 3])
def test_circulant_matrix_is_the_recurrent_convolution(kernel_size):
    net = _random_wave(torch.float64, kernel_size=kernel_size)
    h = torch.rand(4, net.n_channels, net.n_neurons, dtype=torch.float64)
    layer = net.reference().conv
    conv = (layer(h) - layer(torch.zeros_like(h))).detach().numpy()  # without its bias
    W = net.circulant()
    np.testing.assert_allclose(h.reshape(4, -1).numpy() @ W.T, conv.reshape(4, -1), atol=1e-13)


def test_scan_gradcheck_all_inputs():
    # Analytic backward against finite differences, every input including h0 and x.
    d = torch.float64
    gen = torch.Generator().manual_seed(0)
    args = (
        torch.randn(5, 3, 4, generator=gen, dtype=d),
        torch.randn(14, 3, generator=gen, dtype=d),
        torch.randn(14, generator=gen, dtype=d),
        torch.randn(2, 2, 3, generator=gen, dtype=d),
        torch.rand(2, 7, 4, generator=gen, dtype=d),
        torch.randn(3, 14, generator=gen, dtype=d),
        torch.randn(3, generator=gen, dtype=d),
    )
    args = tuple(a.requires_grad_() for a in args)
    assert torch.autograd.gradcheck(_WaveScan.apply, args)
    assert torch.autograd.gradcheck(_WaveScan.apply, args[:5])  # without the read-out


def test_mlp_readout_and_initial_state_gradients():
    net = WaveRNN(3, 2, n_neurons=7, n_channels=2, readout="mlp", mlp_hidden=5, seed=0).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    h0 = torch.rand(2, 14, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda h: net(x, initial_state=h).outputs, (h0,))


def test_shift_init_is_a_ring_buffer():
    # At the shift + source initialisation, with zero biases, the input written at
    # neuron 0 reappears at neuron n - k exactly k steps later in every channel.
    net = WaveRNN(1, 1, n_neurons=9, n_channels=2, seed=0)
    with torch.no_grad():
        net.kernel_bias.zero_()
    x = torch.rand(1, 9, 1)
    h = net(x).states[0].reshape(9, 2, 9).detach()
    for t in range(9):
        for k in range(t + 1):
            assert torch.allclose(h[t, :, (-k) % 9], x[0, t - k, 0].expand(2))
    assert torch.equal(net.kernel[:, :, :2], torch.zeros(2, 2, 2))
    assert torch.equal(net.kernel[:, :, 2], torch.eye(2))


def test_parameter_counts_match_the_paper():
    assert (
        sum(p.numel() for p in WaveRNN(10, 10, n_neurons=100, n_channels=6).parameters()) == 12724
    )
    assert wave_parameter_count(10, 10, 100, 6) == 12724  # paper: 12.7k
    assert irnn_parameter_count(10, 100, 10) == 12210  # paper: 12.2k
    assert sum(p.numel() for p in IRNN(10, 100, 10).parameters()) == 12210
    n = matched_irnn_size(12724, 10, 10)
    assert abs(irnn_parameter_count(10, n, 10) - 12724) <= abs(
        irnn_parameter_count(10, n + 1, 10) - 12724
    )


def test_irnn_inits_and_forward():
    eye = IRNN(2, 6, 1, seed=0)
    assert torch.equal(eye.weight_rec, torch.eye(6))
    shift = IRNN(2, 6, 1, init="shift", seed=0)
    h = torch.arange(6.0)
    assert torch.equal(shift.weight_rec @ h, h.roll(-1))  # (Σh)_j = h_{j+1}
    x = torch.randn(3, 5, 2)
    out = eye(x)
    h = torch.zeros(3, 6)
    for t in range(5):
        h = torch.relu(
            h @ eye.weight_rec.T + x[:, t] @ eye.weight_in.T + eye.bias_in + eye.bias_rec
        )
    torch.testing.assert_close(out.states[:, -1], h)


def test_registry_and_seeding():
    assert isinstance(build_model("wave", 10, 600, 9), WaveRNN)
    assert isinstance(build_model("irnn", 2, 8, 1), IRNN)
    assert "wave" in MODELS and "irnn" in MODELS
    a = WaveRNN(3, 2, n_neurons=5, n_channels=2, shift_init=False, source_init=False, seed=4)
    b = WaveRNN(3, 2, n_neurons=5, n_channels=2, shift_init=False, source_init=False, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_neurons": 0}, "n_neurons"),
        ({"n_channels": 2.5}, "n_channels"),
        ({"kernel_size": 4}, "kernel_size"),
        ({"kernel_size": 5, "n_neurons": 3}, "kernel_size"),
        ({"readout": "cnn"}, "readout"),
        ({"input_std": -1.0}, "input_std"),
        ({"dt": 0.0}, "dt"),
    ],
)
def test_bad_wave_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WaveRNN(2, 1, **{"n_neurons": 8, **kwargs})


def test_bad_inputs_and_other_arguments():
    net = WaveRNN(2, 1, n_neurons=8, n_channels=2)
    with pytest.raises(ValueError, match="inputs"):
        net(torch.zeros(3, 4, 5))
    with pytest.raises(ValueError, match="NaN"):
        net(torch.full((1, 2, 2), float("nan")))
    with pytest.raises(ValueError, match="initial_state"):
        net(torch.zeros(1, 2, 2), initial_state=torch.zeros(5))
    with pytest.raises(ValueError, match="initial_state"):
        IRNN(2, 4, 1)(torch.zeros(1, 2, 2), initial_state=torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="n_hidden"):
        build_model("wave", 2, 601, 1)
    with pytest.raises(ValueError, match="init"):
        IRNN(2, 4, 1, init="orthogonal")
    with pytest.raises(ValueError, match="model must be a WaveRNN"):
        ReferenceWaveRNN.from_model(IRNN(2, 4, 1))
    with pytest.raises(ValueError, match="readout='linear'"):
        WaveRNN(2, 1, n_neurons=4, n_channels=1, readout="mlp").reference()


def test_outputs_are_finite_numpy_compatible():
    net = WaveRNN(2, 1, n_neurons=8, n_channels=2)
    out = net(np.random.default_rng(0).random((2, 3, 2)))
    assert out.outputs.shape == (2, 3, 1) and out.states.shape == (2, 3, 16)
    assert np.all(np.isfinite(out.states.detach().numpy()))


def test_learns_permuted_sequential_digits():
    # psMNIST at CPU size: 8x8 digits fed one pixel per step in a fixed, seeded
    # permutation (64 steps). Chance is 10%; a short run of a small wRNN far exceeds it.
    from neurodyn.tasks.digits import SequentialDigits
    from neurodyn.train import fit

    task = SequentialDigits(per_step="pixel", permuted=True, permutation_seed=0, split="train")
    test = SequentialDigits(per_step="pixel", permuted=True, permutation_seed=0, split="test")
    net = WaveRNN(task.n_inputs, task.n_outputs, n_neurons=64, n_channels=4, seed=0)
    fit(net, task, n_steps=120, batch_size=64, lr=3e-3, val_every=60, progress=False, seed=0)
    batch = test.full_batch()
    with torch.no_grad():
        y = net(torch.from_numpy(batch.inputs)).outputs.numpy()
    assert task.evaluate(y, batch)["correct"].mean() > 0.6


@pytest.mark.parametrize("which", ["wave", "irnn"])
def test_save_and_load_round_trip(which, tmp_path):
    import neurodyn

    if which == "wave":
        net = WaveRNN(3, 2, n_neurons=6, n_channels=2, readout="mlp", mlp_hidden=4, seed=1)
    else:
        net = IRNN(3, 5, 2, init="shift", seed=1)
    neurodyn.save_model(net, tmp_path / "m.npz")
    same = neurodyn.load_model(tmp_path / "m.npz")
    x = torch.rand(2, 4, 3)
    assert type(same) is type(net) and same.config() == net.config()
    torch.testing.assert_close(same(x).outputs, net(x).outputs, rtol=0, atol=0)
