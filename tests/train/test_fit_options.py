"""fit()'s options for a fixed data set: epochs, a cosine learning rate, held-out validation."""

import dataclasses
import inspect
import math

import numpy as np
import pytest
import torch
import xarray as xr

from neurodyn import fit
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop
from neurodyn.train import check_fit_config
from neurodyn.train.config import FitConfig
from neurodyn.train.data import DatasetSource, class_correct
from neurodyn.train.losses import masked_cross_entropy
from neurodyn.train.schedules import learning_rate

DT = 10.0


def classification_dataset(n: int, seed: int, n_time: int = 12) -> xr.Dataset:
    """Two classes: the sign of the first input channel's mean, read out at the last step."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(n, n_time, 2)).astype(np.float32)
    label = (inputs[:, :, 0].mean(axis=1) > 0).astype(int)
    targets = np.zeros((n, n_time, 2), np.float32)
    targets[np.arange(n), -1, label] = 1.0
    mask = np.zeros_like(targets)
    mask[:, -1] = 1.0
    dims = ("trial", "time", "input")
    return xr.Dataset(
        {
            "inputs": (dims, inputs),
            "targets": (("trial", "time", "output"), targets),
            "mask": (("trial", "time", "output"), mask),
        },
        attrs={"dt": DT},
    )


def net(seed: int = 0) -> RateRNN:
    return RateRNN(2, 12, 2, dt=DT, tau=30.0, noise_rec=0.0, seed=seed)


def parameters(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# -- configuration ---------------------------------------------------------------------------
def test_fit_config_has_exactly_fits_settings():
    """check_fit_config, run folders and fit read the same settings with the same defaults."""
    params = inspect.signature(fit).parameters
    settings = {k: p.default for k, p in params.items() if k not in ("model", "data", "validation")}
    fields = {f.name: f.default for f in dataclasses.fields(FitConfig)}
    assert settings == fields
    assert check_fit_config({}) == fields


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"val_every": "epoch"}, "needs epochs"),
        ({"epochs": 0}, "epochs"),
        ({"lr_schedule": "cosin"}, "Did you mean 'cosine'"),
    ],
)
def test_bad_options_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        fit(net(), classification_dataset(8, 0), progress=False, **kw)


def test_epochs_and_held_out_data_need_a_dataset():
    task = FlipFlop(n_bits=2, dt=DT, timing={"trial": 100.0})
    model = RateRNN(2, 8, 2, dt=DT, seed=0)
    with pytest.raises(ValueError, match="epochs is for training on an xarray"):
        fit(model, task, epochs=1, progress=False)
    with pytest.raises(ValueError, match="validation is for"):
        fit(model, task, validation=classification_dataset(4, 0), progress=False)
    with pytest.raises(ValueError, match="validation dataset dt"):
        bad = classification_dataset(4, 1).assign_attrs(dt=5.0)
        fit(net(), classification_dataset(8, 0), validation=bad, progress=False)


# -- the learning-rate schedule ----------------------------------------------------------------
def test_cosine_schedule_closed_form():
    k = np.arange(10)
    expected = 0.3 * 0.5 * (1 + np.cos(np.pi * k / 10))
    got = [learning_rate(0.3, "cosine", int(i), 10) for i in k]
    np.testing.assert_allclose(got, expected, rtol=1e-15)  # the same formula in double
    assert got[0] == 0.3 and got[5] == pytest.approx(0.15, rel=1e-15)
    assert all(learning_rate(0.3, "constant", int(i), 10) == 0.3 for i in k)


def test_cosine_schedule_is_what_the_optimiser_uses():
    """Plain SGD steps by -lr_k g_k. Two runs share the first step (lr_0 = lr) and its
    gradient; over K = 2 steps the cosine's second step is lr/2, so from the common
    first-step weights it moves exactly half as far as the constant schedule's."""
    ds = classification_dataset(16, 0)
    kw = dict(batch_size=8, lr=0.5, optimizer="sgd", clip_grad=None, progress=False, seed=3)
    first = net()
    fit(first, ds, n_steps=1, **kw)
    w1 = parameters(first)
    runs = {}
    for schedule in ("constant", "cosine"):
        model = net()
        res = fit(model, ds, n_steps=2, lr_schedule=schedule, val_every=1, **kw)
        runs[schedule] = (parameters(model), res)
    for a, b, c in zip(w1, runs["constant"][0], runs["cosine"][0], strict=True):
        # float32 weights of order 1: each difference carries ~1e-7 absolute error.
        torch.testing.assert_close(c - a, 0.5 * (b - a), rtol=1e-4, atol=1e-6)
    lrs = [rec["lr"] for rec in runs["cosine"][1].history]
    assert lrs == [learning_rate(0.5, "cosine", k, 2) for k in range(2)]
    assert "lr" not in runs["constant"][1].history[0]


# -- epochs ----------------------------------------------------------------------------------
def test_each_epoch_sees_every_training_trial_once():
    ds = classification_dataset(50, 0)
    src = DatasetSource(ds, seed=4, val_fraction=0.2, batch_size=8, epochs=True)
    assert len(src.train_index) == 40 and src.steps_per_epoch == 5  # 8 + 8 + 8 + 8 + 8
    orders = []
    for epoch in range(3):
        batches = [src.batch_index(epoch * 5 + k, 8) for k in range(5)]
        seen = np.concatenate(batches)
        assert sorted(seen.tolist()) == src.train_index.tolist()  # each exactly once
        assert not set(seen) & set(src.val_index.tolist())
        orders.append(np.concatenate(batches))
    assert not np.array_equal(orders[0], orders[1])  # reshuffled every epoch
    odd = DatasetSource(ds, seed=4, val_fraction=0.1, batch_size=7, epochs=True)
    sizes = [len(odd.batch_index(k, 7)) for k in range(odd.steps_per_epoch)]
    assert sizes == [7] * 6 + [3]  # 45 trials: the last mini-batch holds the remainder


def test_fit_in_epochs_takes_one_step_per_mini_batch_and_validates_per_epoch():
    train, val = classification_dataset(45, 0), classification_dataset(20, 1)
    res = fit(net(), train, validation=val, epochs=3, batch_size=10, val_every="epoch",
              loss="cross_entropy", progress=False)  # fmt: skip
    assert res.steps == 3 * 5  # ceil(45 / 10) steps per epoch
    assert [r["step"] for r in res.history] == [5, 10, 15]


# -- held-out validation ---------------------------------------------------------------------
def test_held_out_validation_scores_the_final_model_on_that_data():
    train, val = classification_dataset(64, 0), classification_dataset(32, 1)
    model = net()
    res = fit(model, train, validation=val, epochs=4, batch_size=16, lr=0.02,
              lr_schedule="cosine", val_every="epoch", loss="cross_entropy",
              progress=False)  # fmt: skip
    last = res.history[-1]
    with torch.no_grad():
        out = model(torch.from_numpy(val["inputs"].values)).outputs
    targets, mask = (torch.from_numpy(val[k].values) for k in ("targets", "mask"))
    # The same float32 forward pass: equal to rounding of the loss's reduction.
    assert last["val_loss"] == pytest.approx(float(masked_cross_entropy(out, targets, mask)),
                                             rel=1e-5)  # fmt: skip
    label = val["targets"].values[:, -1].argmax(-1)
    accuracy = float(np.mean(out[:, -1].numpy().argmax(-1) == label))
    assert last["val_accuracy"] == accuracy
    assert last["val_accuracy"] > 0.75  # a linearly separable problem, well above chance (0.5)
    src = DatasetSource(train, seed=0, val_fraction=0.2, validation=val)
    assert src.train_index.tolist() == list(range(64))  # nothing of the training set held out


def test_class_correct_needs_every_counted_step():
    t = np.zeros((3, 2, 2))
    t[:, :, 1] = 1.0
    m = np.ones_like(t)
    m[2] = 0.0
    y = np.zeros_like(t)
    y[0, :, 1] = 1.0
    y[1, 0, 1] = 1.0  # right at the first step, wrong (a tie goes to class 0) at the second
    got = class_correct(y, t, m)
    assert got[:2].tolist() == [1.0, 0.0] and math.isnan(got[2])
