"""fit() on recorded activity: objectives, observation, masking, recovery, resume."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from neurodyn import fit
from neurodyn.io import recording
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop
from neurodyn.train import masked_mse
from neurodyn.train.objectives import poisson_nll
from neurodyn.train.recorded import RATE_FLOOR, Observation, training_dataset

DT = 10.0
H = 8


def net(seed, n_output=2, nonlinearity="softplus"):
    return RateRNN(
        2, H, n_output, dt=DT, tau=20.0, nonlinearity=nonlinearity, spectral_radius=0.8, seed=seed
    )


def teacher_data(n_trial=64, n_time=20, seed=0):
    """Inputs and the noiseless rates (spikes per ms) of a seeded teacher network."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_trial, n_time, 2)).astype(np.float32)
    teacher = net(1)
    with torch.no_grad():
        rates = teacher(torch.as_tensor(u), noise=False).rates.numpy()
    return u, rates, rng


# -- objectives ------------------------------------------------------------------------


def test_poisson_nll_matches_scipy_logpmf():
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.1, 5.0, size=(3, 4, 5))
    k = rng.poisson(lam).astype(float)
    m = rng.random(lam.shape) < 0.7
    got = poisson_nll(torch.as_tensor(np.log(lam)), torch.as_tensor(k), torch.as_tensor(m * 1.0))
    want = -stats.poisson.logpmf(k[m], lam[m]).mean()
    # float64 throughout: a mean of 40 terms of size ~1 agrees to ~1e-14.
    assert got.item() == pytest.approx(want, rel=1e-12)


def test_poisson_nll_hand_computed():
    # λ = 2, k = 3: 2 - 3 log 2 + log 6; λ = 1, k = 0: 1. Mean of the two.
    eta = torch.tensor([[[math.log(2.0), 0.0]]], dtype=torch.float64)
    k = torch.tensor([[[3.0, 0.0]]], dtype=torch.float64)
    want = ((2 - 3 * math.log(2) + math.log(6)) + 1.0) / 2
    assert poisson_nll(eta, k, torch.ones_like(k)).item() == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("objective", ["mse", "poisson"])
def test_masked_entries_have_zero_gradient_and_nan_never_reaches_the_loss(objective):
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(2, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.poisson(torch.full((2, 3, 4), 2.0, dtype=torch.float64), generator=g)
    mask = torch.ones_like(target)
    mask[0, 1, :] = 0
    mask[1, :, 2] = 0
    target[mask == 0] = float("nan")
    fn = poisson_nll if objective == "poisson" else masked_mse
    loss = fn(pred, target, mask)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.all(pred.grad[mask == 0] == 0)
    assert torch.all(pred.grad[mask > 0] != 0)
    # The loss equals the loss of the observed entries alone.
    keep = mask > 0
    alone = fn(pred[keep][None, None], target[keep][None, None], mask[keep][None, None])
    assert loss.item() == pytest.approx(alone.item(), rel=1e-14)


def test_observation_predictions():
    out = net(0, n_output=H)(torch.zeros(1, 3, 2))
    units = Observation("poisson", (3, 1), DT).predict(out)
    want = torch.log(out.rates[..., [3, 1]] * DT + RATE_FLOOR)
    assert torch.equal(units, want)
    readout = Observation("poisson", None, DT).predict(out)
    assert torch.allclose(readout, out.outputs + math.log(DT), rtol=0, atol=1e-6)
    assert torch.equal(Observation("mse", (0, 1), DT).predict(out), out.rates[..., :2])


# -- fitting ---------------------------------------------------------------------------


def test_mse_student_reaches_the_noise_floor():
    u, rates, rng = teacher_data()
    sigma = 0.1
    noisy = rates + sigma * rng.normal(size=rates.shape).astype(np.float32)
    train = recording(noisy[:48], u[:48], dt=DT)
    held = recording(noisy[48:], u[48:], dt=DT)
    student = net(2)
    res = fit(
        student, train, validation=held, objective="mse", observed="units", n_steps=600,
        lr=1e-2, batch_size=48, val_every=100, progress=False, clip_grad=None,
    )  # fmt: skip
    # The held-out MSE of the truth is σ² times a χ²_n / n variable (n entries), whose
    # relative standard deviation is sqrt(2 / n); four of them bound the band.
    n = rates[48:].size
    band = 4 * math.sqrt(2 / n)
    floor = sigma**2
    teacher_mse = float(np.mean((rates[48:] - noisy[48:]) ** 2))
    assert abs(teacher_mse / floor - 1) < band
    val = res.history[-1]["val_loss"]
    assert floor * (1 - band) < val < floor * (1 + band), (val, floor)
    # Before fitting the student is far from the floor (the test can fail).
    assert res.history[0]["train_loss"] > 3 * floor


def test_poisson_student_approaches_the_teachers_likelihood():
    u, rates, rng = teacher_data()
    counts = rng.poisson(rates * DT).astype(np.float32)
    train = recording(counts[:48], u[:48], dt=DT, kind="counts")
    held = recording(counts[48:], u[48:], dt=DT, kind="counts")
    student = net(2)
    res = fit(
        student, train, validation=held, objective="poisson", observed="units", n_steps=400,
        lr=1e-2, batch_size=48, val_every=100, progress=False,
    )  # fmt: skip
    k = torch.as_tensor(counts[48:], dtype=torch.float64)
    ones = torch.ones_like(k)
    nll_teacher = poisson_nll(torch.log(torch.as_tensor(rates[48:] * DT + RATE_FLOOR)), k, ones)
    null = torch.log(k.mean(dim=(0, 1), keepdim=True)).expand_as(k)
    nll_null = poisson_nll(null, k, ones)
    val = res.history[-1]["val_loss"]
    # The student closes at least 90% of the gap between a constant-rate model and
    # the teacher that generated the counts.
    gap = float(nll_null - nll_teacher)
    assert gap > 0.1
    assert val - float(nll_teacher) < 0.1 * gap, (val, float(nll_teacher), float(nll_null))


def test_readout_fit_and_masked_nan_recording():
    u, rates, rng = teacher_data(n_trial=32)
    counts = rng.poisson(rates * DT).astype(np.float32)
    mask = rng.random(counts.shape) > 0.2
    counts[~mask] = np.nan
    rec = recording(counts, u, dt=DT, kind="counts", mask=mask)
    student = net(2, n_output=H, nonlinearity="tanh")
    res = fit(student, rec, observed="readout", n_steps=30, lr=1e-2, batch_size=16,
              val_every=10, progress=False)  # fmt: skip
    losses = [h["val_loss"] for h in res.history]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]


def test_resume_gives_the_same_parameters(tmp_path):
    u, rates, rng = teacher_data(n_trial=32)
    rec = recording(rng.poisson(rates * DT).astype(np.float32), u, dt=DT, kind="counts")
    kw = dict(n_steps=20, lr=1e-2, batch_size=8, val_every=5, progress=False, seed=3)
    full = net(2)
    fit(full, rec, **kw)
    ckpt = tmp_path / "ckpt.pt"
    part = net(2)
    fit(part, rec, checkpoint=ckpt, checkpoint_every=5, **{**kw, "n_steps": 10})
    resumed = net(99)  # another initialisation: everything must come from the checkpoint
    fit(resumed, rec, checkpoint=ckpt, resume=True, **kw)
    for (k, v), (_, w) in zip(full.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(v, w), f"{k} differs after resume"


def test_early_stopping_on_held_out_trials():
    u, rates, _ = teacher_data(n_trial=32)
    rec = recording(rates, u, dt=DT)
    res = fit(net(2), rec, n_steps=400, lr=1e-2, batch_size=16, val_every=10,
              target_loss=1e-2, progress=False)  # fmt: skip
    assert res.success and res.steps < 400
    assert res.history[-1]["val_loss"] <= 1e-2


# -- validation ------------------------------------------------------------------------


def _rec(kind="counts", n_neuron=4, n_input=2):
    rng = np.random.default_rng(0)
    a = rng.poisson(1.0, size=(6, 5, n_neuron)).astype(np.float32)
    return recording(a, rng.normal(size=(6, 5, n_input)), dt=DT, kind=kind)


@pytest.mark.parametrize(
    ("model", "data", "kw", "match"),
    [
        (lambda: net(0), _rec, {"objective": "poisson_mse"}, "objective"),
        (lambda: net(0), _rec, {"observed": "unit"}, "observed"),
        (lambda: net(0), lambda: _rec("rates"), {"objective": "poisson"}, "objective"),
        (lambda: net(0), _rec, {"observed": "readout"}, "observed='readout'.*n_output"),
        (lambda: net(0), lambda: _rec(n_neuron=H + 1), {}, "observed='units'.*n_hidden"),
        (lambda: net(0), _rec, {"observed": np.array([0, 1, 1, 2])}, "observed.*distinct"),
        (lambda: net(0), _rec, {"observed": np.array([0, 1, 2, H])}, "observed.*outside"),
        (lambda: net(0, nonlinearity="tanh"), _rec, {}, "non-negative"),
        (lambda: net(0), lambda: _rec(n_input=3), {}, "input channels.*n_input"),
        (lambda: net(0), _rec, {"loss": "mse"}, "loss='mse'.*objective"),
    ],
)
def test_validation_errors_name_the_argument(model, data, kw, match):
    with pytest.raises(ValueError, match=match):
        fit(model(), data(), n_steps=1, progress=False, **kw)


def test_objective_on_a_task_dataset_is_refused():
    with pytest.raises(ValueError, match="objective is for fitting a recording"):
        fit(net(0, n_output=3), FlipFlop(dt=DT), objective="mse", n_steps=1, progress=False)


def test_a_recording_without_inputs_drives_the_model_with_zeros_and_says_so(caplog):
    _, rates, rng = teacher_data(n_trial=4, n_time=6)
    rec = recording(rng.poisson(rates * DT).astype(float), dt=DT, kind="counts")
    with caplog.at_level("INFO", logger="neurodyn.train.recorded"):
        ds = training_dataset(net(0), rec, "the recording")
    assert ds.sizes["input"] == 2 and not ds["inputs"].values.any()
    assert "the recording has no inputs" in caplog.text and "2 input channel(s)" in caplog.text
