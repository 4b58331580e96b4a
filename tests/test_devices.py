"""Devices: resolving device=, training and simulating on the model's device."""

import numpy as np
import pytest
import torch

from neurodyn import fit, simulate
from neurodyn.devices import model_device, resolve_device, to_device
from neurodyn.rnn_models import RateRNN, TorchRNN
from neurodyn.tasks import FlipFlop

requires_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)"
)


def small_task():
    return FlipFlop(dt=10.0, timing={"trial": 200.0})


def noisy_net(seed=0):
    return RateRNN(3, 16, 3, dt=10.0, tau=30.0, noise_rec=0.1, noise_in=0.05, seed=seed)


@pytest.mark.parametrize("spec", ["cpu", "CPU", " cpu ", torch.device("cpu")])
def test_cpu_is_always_available(spec):
    assert resolve_device(spec) == torch.device("cpu")


def test_auto_picks_cuda_exactly_when_torch_sees_a_gpu(monkeypatch):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_a_gpu_is_refused_with_the_reason(monkeypatch, spec):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=rf"device='{spec}'.*torch.cuda.is_available\(\) is False"):
        resolve_device(spec)


def test_a_gpu_index_beyond_those_present_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(ValueError, match=r"sees 2 CUDA device\(s\), numbered 0 to 1"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:-1", "tpu", "", None, 0, 1.5])
def test_unknown_device_names_are_refused(spec):
    with pytest.raises(ValueError, match=r"^device must be 'auto', 'cpu', 'cuda', 'cuda:N'"):
        resolve_device(spec)


def test_to_device_copies_read_only_arrays_without_a_warning():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    a.flags.writeable = False
    t = to_device(a, torch.device("cpu"))
    assert t.dtype == torch.float32 and torch.equal(t, torch.arange(6.0).reshape(2, 3))


def test_fit_on_cpu_explicitly_or_by_auto_is_the_same_run(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    kw = dict(n_steps=6, batch_size=8, val_every=3, n_validation=16, progress=False)
    a, b = noisy_net(), noisy_net()
    ra = fit(a, small_task(), device="cpu", **kw)
    rb = fit(b, small_task(), device="auto", **kw)
    assert ra.device == rb.device == "cpu" and model_device(a).type == "cpu"
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(v, w), k


def test_fit_with_an_unavailable_device_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(ValueError, match="device='cuda'"):
        fit(noisy_net(), small_task(), device="cuda", checkpoint=ckpt, progress=False)
    assert not ckpt.exists()


def test_simulate_device_cpu_and_default_agree_exactly():
    net = noisy_net()
    a = simulate(net, small_task(), n_trials=4, seed=2)
    b = simulate(net, small_task(), n_trials=4, seed=2, device="cpu")
    for var in ("inputs", "outputs", "rates", "states"):
        assert np.array_equal(a[var].values, b[var].values), var


@pytest.fixture
def ieee_float32():
    """No TF32 (10-bit mantissa) on the GPU: both devices compute in IEEE float32."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@requires_cuda
@pytest.mark.parametrize("kind", ["rate", "gru"])
def test_cpu_and_cuda_draw_the_same_trials_and_give_close_outputs(kind, ieee_float32):
    """Trials and noise are drawn on the CPU from the seed, then moved, so both devices
    see the same data; the outputs then differ only by the devices' float32 rounding
    (different summation orders), amplified at most by the network's gain over the
    trial (tanh units, spectral radius ~1, 20 steps): 1e-4 is ~1000 float32 ulps of a
    unit-scale output."""
    make = noisy_net if kind == "rate" else (lambda: TorchRNN("gru", 3, 16, 3, dt=10.0, seed=0))
    cpu = simulate(make(), small_task(), n_trials=8, seed=5, device="cpu")
    gpu = simulate(make(), small_task(), n_trials=8, seed=5, device="cuda")
    for var in ("inputs", "targets", "mask"):
        assert np.array_equal(cpu[var].values, gpu[var].values), var
    np.testing.assert_allclose(gpu["outputs"].values, cpu["outputs"].values, atol=1e-4)
    np.testing.assert_allclose(gpu["states"].values, cpu["states"].values, atol=1e-4)

    kw = dict(n_steps=5, batch_size=8, val_every=5, n_validation=16, progress=False, seed=1)
    on_cpu, on_gpu = make(), make()
    rc = fit(on_cpu, small_task(), device="cpu", **kw)
    rg = fit(on_gpu, small_task(), device="cuda", **kw)
    assert rg.device.startswith("cuda") and model_device(on_gpu).type == "cuda"
    # Five Adam steps of lr 1e-3 from the same weights on the same batches and noise.
    assert rg.history[-1]["val_loss"] == pytest.approx(rc.history[-1]["val_loss"], rel=1e-3)
    for (k, v), w in zip(on_cpu.state_dict().items(), on_gpu.state_dict().values(), strict=True):
        np.testing.assert_allclose(w.cpu().numpy(), v.numpy(), atol=1e-4, err_msg=k)
