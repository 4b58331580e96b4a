"""Wave analyses: space-time FFT speed, circulant spectrum, decoding of the past."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import xarray as xr

from neurodyn.analysis.waves import (
    circulant_spectrum,
    decode_past_inputs,
    space_time,
    wave_spectrum,
)
from neurodyn.dynamics.wave import circulant_matrix
from neurodyn.plotting import (
    plot_circulant_spectrum,
    plot_decoding,
    plot_space_time,
    plot_wave_spectrum,
)
from neurodyn.rnn_models import WaveRNN


@pytest.fixture(scope="module")
def driven_init():
    """An untrained wRNN (shift + source init) driven by random input for 3 ring lengths."""
    net = WaveRNN(4, 1, n_neurons=32, n_channels=3, seed=0)
    x = torch.as_tensor(np.random.default_rng(0).random((6, 96, 4)), dtype=torch.float32)
    with torch.no_grad():
        out = net(x)
    return net, x, out


@pytest.mark.parametrize("velocity", [1.0, -1.0, 0.5, -2.0])
def test_speed_of_a_synthetic_wave(velocity):
    # h(t, j) = g(j - v t) on a ring of 40: the estimate recovers v and nearly all
    # power is on the line; a noise image has no preferred line.
    t, j = np.meshgrid(np.arange(80), np.arange(40), indexing="ij")
    g = sum(np.cos(2 * np.pi * m * (j - velocity * t) / 40 + m) for m in (1, 2, 5))
    spec = wave_spectrum(g)
    assert spec.velocity == pytest.approx(velocity, abs=0.02)
    assert spec.diagonal_fraction > 0.95
    noise = wave_spectrum(np.random.default_rng(1).normal(size=(4, 80, 40)))
    assert noise.diagonal_fraction < 3 * noise.chance_fraction


def test_shift_init_wave_moves_one_neuron_per_step(driven_init):
    _, _, out = driven_init
    spec = wave_spectrum(out, 3, skip=32)
    assert spec.velocity == pytest.approx(-1.0, abs=0.02)  # towards lower indices
    assert spec.speed == pytest.approx(1.0, abs=0.02)
    assert spec.diagonal_fraction > 0.9
    assert np.all(spec.channel_fraction > 0.9)
    assert spec.diagonal_fraction > 5 * spec.chance_fraction
    ds = spec.to_xarray()
    assert ds.attrs["speed"] == spec.speed and ds["power"].dims == (
        "channel",
        "freq_time",
        "freq_space",
    )


def test_space_time_layout(driven_init):
    _, _, out = driven_init
    st = space_time(out.states, 3)
    assert st.images.shape == (6, 3, 96, 32)
    h = out.states.numpy()
    np.testing.assert_array_equal(st.images[2, 1, 5], h[2, 5, 32:64])
    da = st.to_xarray()
    assert da.dims == ("trial", "channel", "time", "neuron")


def test_circulant_spectrum_on_unit_circle_at_shift_init():
    net = WaveRNN(2, 1, n_neurons=16, n_channels=4, seed=0)
    spec = circulant_spectrum(net)
    np.testing.assert_allclose(np.abs(spec.eigenvalues), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(spec.channel_eigenvalues), 1.0, atol=1e-12)
    # They are the 16th roots of unity, each channel once per mode.
    roots = np.exp(2j * np.pi * np.arange(16) / 16)
    np.testing.assert_allclose(
        np.sort_complex(spec.channel_eigenvalues[0]), np.sort_complex(roots), atol=1e-12
    )
    assert isinstance(spec.to_xarray(), xr.Dataset)


def test_circulant_spectrum_equals_dense_eigenvalues():
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 3, 3))
    spec = circulant_spectrum(kernel, 10)
    dense = np.linalg.eigvals(circulant_matrix(kernel, 10))
    # Same multiset: every eigenvalue of one has a partner in the other.
    assert max(np.abs(dense - lam).min() for lam in spec.eigenvalues) < 1e-10
    assert max(np.abs(spec.eigenvalues - lam).min() for lam in dense) < 1e-10
    np.testing.assert_allclose(spec.spectral_radius, np.abs(dense).max(), rtol=1e-10)


def test_decoding_the_past_from_a_ring_buffer():
    # At the shift + source init with zero biases, the sum of the inputs k steps ago
    # sits alone at neuron n - k (source init writes every input dimension, with
    # weight 1, at neuron 0): for lags within the ring it is decoded exactly.
    net = WaveRNN(2, 1, n_neurons=24, n_channels=2, seed=0)
    with torch.no_grad():
        net.kernel_bias.zero_()
    x = torch.as_tensor(np.random.default_rng(1).random((40, 24, 2)), dtype=torch.float32)
    with torch.no_grad():
        out = net(x)
    total = x.sum(-1, keepdim=True)
    res = decode_past_inputs(out, total, lags=range(0, 24, 3))
    assert res.r2.shape == (8,) and res.r2_per_input.shape == (8, 1)
    assert np.all(res.r2 > 0.999)
    assert res.memory(0.5) == 8
    # Without recurrence only the present input is in the state.
    with torch.no_grad():
        net.kernel.zero_()
        out0 = net(x)
    res0 = decode_past_inputs(out0, total, lags=[0, 3, 6])
    assert res0.r2[0] > 0.999 and np.all(res0.r2[1:] < 0.2)
    assert res0.memory(0.5) == 1
    assert "r2" in res.to_xarray()


def test_plots_return_axes(driven_init):
    _, x, out = driven_init
    fig, ax = plt.subplots(1, 4)
    assert plot_space_time(space_time(out, 3), channel=2, ax=ax[0]) is ax[0]
    assert plot_wave_spectrum(wave_spectrum(out, 3, skip=32), ax=ax[1]) is ax[1]
    assert (
        plot_circulant_spectrum(
            circulant_spectrum(np.eye(2)[:, :, None].repeat(3, 2), 8), ax=ax[2], label="x"
        )
        is ax[2]
    )
    assert plot_decoding(decode_past_inputs(out, x, lags=[0, 1]), labels=["w"], ax=ax[3]) is ax[3]
    plt.close(fig)


def test_bad_arguments(driven_init):
    _, x, out = driven_init
    with pytest.raises(ValueError, match="n_channels"):
        space_time(out.states, 5)
    with pytest.raises(ValueError, match="states"):
        space_time(np.zeros(5), 1)
    with pytest.raises(ValueError, match="skip"):
        wave_spectrum(out, 3, skip=-1)
    with pytest.raises(ValueError, match="steps"):
        wave_spectrum(out, 3, skip=94)
    with pytest.raises(ValueError, match="n_neurons"):
        circulant_spectrum(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="kernel"):
        circulant_spectrum(np.zeros((2, 3, 3)), 4)
    with pytest.raises(ValueError, match="lags"):
        decode_past_inputs(out, x, lags=[200])
    with pytest.raises(ValueError, match="same trials"):
        decode_past_inputs(out, x[:2])
    with pytest.raises(ValueError, match="NaN"):
        wave_spectrum(np.full((10, 4), np.nan))
    with pytest.raises(ValueError, match="SpaceTime"):
        plot_space_time(np.zeros((2, 2)))
