"""fit(): losses, exact resume, curricula, user data."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import xarray as xr

from neurodyn import Criterion, Curriculum, Stage, fit
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop
from neurodyn.train import load_checkpoint, masked_cross_entropy, masked_mse


def small_task():
    return FlipFlop(dt=10.0, timing={"trial": 200.0})


def small_net(seed=0, **kw):
    return RateRNN(
        3, 16, 3, dt=10.0, tau=30.0, train_tau=True, dale=True, noise_rec=0.1, seed=seed, **kw
    )


def test_masked_mse_closed_form():
    y = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    t = torch.zeros_like(y)
    m = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    assert masked_mse(y, t, m).item() == pytest.approx((1 + 16) / 2)


def test_masked_cross_entropy_matches_torch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 5, 3, generator=g)
    labels = torch.randint(0, 3, (4, 5), generator=g)
    onehot = F.one_hot(labels, 3).float()
    ref = F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1))
    assert masked_cross_entropy(logits, onehot, torch.ones_like(onehot)).item() == pytest.approx(
        ref.item(), rel=1e-6
    )
    # Masked steps do not count.
    m = torch.ones_like(onehot)
    m[:, :2] = 0
    ref2 = F.cross_entropy(logits[:, 2:].reshape(-1, 3), labels[:, 2:].reshape(-1))
    assert masked_cross_entropy(logits, onehot, m).item() == pytest.approx(ref2.item(), rel=1e-6)


def test_training_reduces_loss_and_is_seeded():
    a, b = small_net(), small_net()
    ra = fit(
        a,
        small_task(),
        n_steps=40,
        batch_size=16,
        lr=0.01,
        val_every=20,
        n_validation=32,
        progress=False,
    )
    rb = fit(
        b,
        small_task(),
        n_steps=40,
        batch_size=16,
        lr=0.01,
        val_every=20,
        n_validation=32,
        progress=False,
    )
    assert ra.history[-1]["val_loss"] < ra.history[0]["train_loss"]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka
    assert [r["val_loss"] for r in ra.history] == [r["val_loss"] for r in rb.history]


def test_resume_gives_the_same_weights(tmp_path):
    kw = dict(batch_size=8, lr=0.01, val_every=5, n_validation=16, progress=False, seed=3)
    full = small_net()
    res_full = fit(full, small_task(), n_steps=20, **kw)

    ckpt = tmp_path / "ckpt.pt"
    part = small_net()
    fit(part, small_task(), n_steps=12, checkpoint=ckpt, checkpoint_every=4, **kw)
    assert load_checkpoint(ckpt)["step"] == 12
    resumed = small_net(seed=99)  # different init: everything must come from the checkpoint
    res_resumed = fit(resumed, small_task(), n_steps=20, checkpoint=ckpt, resume=True, **kw)
    for (k, v), (_, w) in zip(full.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(v, w), f"{k} differs after resume"

    # The shorter first run also logged its last step (12), which restarted the running
    # mean of the training loss; the validations themselves agree exactly.
    def vals(history):
        return [(r["step"], r["val_loss"], r["val_accuracy"]) for r in history if r["step"] != 12]

    assert vals(res_resumed.history) == vals(res_full.history)


class InterruptingTask(FlipFlop):
    """A flip-flop whose batch generation is interrupted once, as Ctrl-C would."""

    interrupt_at = None

    def batch(self, n_trials, *, seed=None, **fixed):
        if n_trials == 8 and self.interrupt_at is not None:
            self.interrupt_at -= 1
            if self.interrupt_at < 0:
                self.interrupt_at = None
                raise KeyboardInterrupt
        return super().batch(n_trials, seed=seed, **fixed)


def test_interrupted_run_saves_and_resumes_exactly(tmp_path):
    kw = dict(batch_size=8, lr=0.01, val_every=5, n_validation=16, progress=False, seed=1)
    full = small_net()
    fit(full, small_task(), n_steps=15, **kw)

    task = InterruptingTask(dt=10.0, timing={"trial": 200.0})
    task.interrupt_at = 7
    ckpt = tmp_path / "run.pt"
    net = small_net()
    with pytest.raises(KeyboardInterrupt):
        fit(net, task, n_steps=15, checkpoint=ckpt, checkpoint_every=100, **kw)
    assert load_checkpoint(ckpt)["step"] == 7
    fit(net, task, n_steps=15, checkpoint=ckpt, resume=True, **kw)
    for (k, v), (_, w) in zip(full.state_dict().items(), net.state_dict().items(), strict=True):
        assert torch.equal(v, w), k


def test_target_loss_stops_early():
    net = small_net()
    res = fit(
        net,
        small_task(),
        n_steps=500,
        batch_size=16,
        lr=0.02,
        val_every=10,
        n_validation=32,
        target_loss=0.2,
        progress=False,
    )
    assert res.success and res.steps < 500
    assert res.history[-1]["val_loss"] <= 0.2
    assert all(r["val_loss"] > 0.2 for r in res.history[:-1])


def test_curriculum_advances_through_stages():
    easy = FlipFlop(dt=10.0, timing={"trial": 200.0}, pulse_rate=2.0)
    hard = FlipFlop(dt=10.0, timing={"trial": 300.0}, pulse_rate=6.0)

    def score_easy(model):
        out = model(torch.from_numpy(easy_batch.inputs), noise=False).outputs.numpy()
        return {"easy_accuracy": float(easy.evaluate(out, easy_batch)["correct"].mean())}

    easy_batch = easy.batch(16, seed=0)
    cur = Curriculum(
        [
            Stage(easy, Criterion("val_loss", "<=", 0.3), name="easy", on_end=score_easy),
            Stage(hard, max_steps=10, name="hard"),
        ]
    )
    res = fit(
        small_net(),
        cur,
        n_steps=400,
        batch_size=16,
        lr=0.02,
        val_every=5,
        n_validation=32,
        progress=False,
    )
    stages = [r["stage"] for r in res.history]
    assert stages[0] == 0 and stages[-1] == 1
    first_hard = stages.index(1)
    assert res.history[first_hard - 1]["val_loss"] <= 0.3
    assert res.stage_steps[1] == 10 and not res.success
    assert [r["name"] for r in res.stage_log] == ["easy"]
    assert res.stage_log[0]["step"] == res.history[first_hard - 1]["step"]
    assert 0.0 <= res.stage_log[0]["easy_accuracy"] <= 1.0
    assert "val_mse" in res.history[0]  # flip-flop's per-trial score is logged too
    assert res.to_xarray().sizes["step"] == len(res.history)


def test_unknown_criterion_metric_is_named():
    cur = Curriculum([Stage(small_task(), Criterion("val_acc", ">=", 0.9))])
    with pytest.raises(ValueError, match="val_acc"):
        fit(small_net(), cur, n_steps=5, val_every=5, n_validation=8, batch_size=4, progress=False)


def user_dataset(n=40, t=30, seed=0):
    """A delayed-response data set: report the sign of an early pulse at the end."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], n)
    u = np.zeros((n, t, 1), dtype=np.float32)
    u[:, 2:5, 0] = sign[:, None]
    y = np.zeros((n, t, 1), dtype=np.float32)
    y[:, 20:, 0] = sign[:, None]
    mask = np.zeros_like(y)
    mask[:, 20:] = 1.0
    return xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), u),
            "targets": (("trial", "time", "output"), y),
            "mask": (("trial", "time", "output"), mask),
        },
        attrs={"dt": 10.0},
    )


def test_fit_user_dataset():
    ds = user_dataset()
    net = RateRNN(1, 16, 1, dt=10.0, tau=50.0, seed=0)
    res = fit(net, ds, n_steps=150, batch_size=16, lr=0.02, val_every=50, progress=False)
    assert res.history[-1]["val_loss"] < 0.5 * res.history[0]["train_loss"]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda ds: ds.drop_vars("targets"), "targets"),
        (lambda ds: ds.transpose("time", "trial", "input", "output"), "dims"),
        (lambda ds: ds.assign(inputs=ds["inputs"].where(ds["time"] != 3)), "NaN"),
        (lambda ds: ds.assign(mask=-ds["mask"]), "mask"),
        (lambda ds: ds.drop_attrs(), "dt"),
        (lambda ds: ds.isel(trial=[0]), "2 trials"),
    ],
)
def test_bad_user_dataset_is_refused(mutate, match):
    net = RateRNN(1, 8, 1, dt=10.0, seed=0)
    ds = user_dataset().assign_coords(time=np.arange(30))
    with pytest.raises(ValueError, match=match):
        fit(net, mutate(ds), n_steps=1, progress=False)


def test_dataset_must_fit_the_model():
    with pytest.raises(ValueError, match="n_input=2"):
        fit(RateRNN(2, 8, 1, dt=10.0), user_dataset(), n_steps=1, progress=False)
    with pytest.raises(ValueError, match="dt"):
        fit(RateRNN(1, 8, 1, dt=5.0), user_dataset(), n_steps=1, progress=False)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n_steps": -1}, "n_steps"),
        ({"lr": 0.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"resume": True}, "checkpoint"),
        ({"val_every": 0}, "val_every"),
    ],
)
def test_bad_fit_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        fit(small_net(), small_task(), progress=False, **kw)


def test_task_model_mismatch_is_named():
    with pytest.raises(ValueError, match="n_input"):
        fit(RateRNN(2, 8, 3, dt=10.0), small_task(), n_steps=1, progress=False)


def test_grouped_cross_entropy_is_the_sum_over_heads():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 4, 4, generator=g)
    labels = torch.randint(0, 2, (3, 4, 2), generator=g)
    targets = torch.cat([F.one_hot(labels[..., 0], 2), F.one_hot(labels[..., 1], 2)], -1).float()
    ref = F.cross_entropy(
        logits[..., :2].reshape(-1, 2), labels[..., 0].reshape(-1)
    ) + F.cross_entropy(logits[..., 2:].reshape(-1, 2), labels[..., 1].reshape(-1))
    got = masked_cross_entropy(logits, targets, torch.ones_like(targets), groups=[(0, 1), (2, 3)])
    assert got.item() == pytest.approx(ref.item(), rel=1e-6)


def test_sgd_optimisers_and_their_checks():
    net = small_net()
    res = fit(
        net,
        small_task(),
        n_steps=20,
        batch_size=8,
        lr=0.05,
        optimizer="sgd_nesterov",
        momentum=0.1,
        val_every=10,
        n_validation=16,
        progress=False,
    )
    assert res.steps == 20
    with pytest.raises(ValueError, match="adam"):
        fit(small_net(), small_task(), optimizer="adamw", progress=False)
    with pytest.raises(ValueError, match="momentum"):
        fit(small_net(), small_task(), optimizer="sgd_nesterov", progress=False)
