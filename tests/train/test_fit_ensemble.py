"""fit() of a RateEnsemble: each network trains as it would alone with its seed.

Tolerance of the comparisons with lone runs: the ensemble runs each network through
the operations a lone run performs, on the same values, so the two differ only where a
reduction over the stacked tensors rounds in another order — a network's gradient norm
(clipping) and its mean squared weight — or, on another processor, where a BLAS
product runs on differently aligned memory. Each is exact to a few ulp: a relative
perturbation δ ≲ 16 ε ≈ 2e-6 (ε = 2^-24, float32) of a step's gradient. Adam's step
m̂/√v̂ does not change with the gradient's scale, so such a perturbation moves a weight
by at most about lr·δ more or less per step; over S steps, S·lr·δ = 30 × 0.03 × 2e-6 ≈
2e-6, times whatever the training dynamics amplify a perturbation by in 30 steps (the
validation losses of these runs change by less than a factor 2 per 10 steps). ATOL =
1e-4 leaves a margin of 50 over that bound, and is 100 times smaller than the change
one step of training makes (lr = 0.03 moves the weights by about 0.03 per step).
"""

import numpy as np
import pytest
import torch

from neurodyn import fit
from neurodyn.rnn_models import RateRNN
from neurodyn.rnn_models.rate_ensemble import RateEnsemble
from neurodyn.tasks import FlipFlop
from neurodyn.train import EnsembleResult, load_checkpoint

ATOL = 1e-4

#: Per-network hyperparameters: the networks share their shape and differ in the rest.
OPTIONS = [
    dict(tau=30.0, noise_rec=0.1, noise_in=0.0, e_fraction=0.8, spectral_radius=1.0),
    dict(tau=50.0, noise_rec=0.0, noise_in=0.05, e_fraction=0.75, spectral_radius=0.8),
    dict(tau=40.0, noise_rec=0.05, noise_in=0.02, e_fraction=0.8, spectral_radius=1.2),
]
SEEDS = [0, 1, 2]


def small_task(cls=FlipFlop):
    return cls(dt=10.0, timing={"trial": 200.0})


def network(seed, **options):
    return RateRNN(3, 16, 3, dt=10.0, train_tau=True, dale=True, seed=seed, **options)


def ensemble():
    return RateEnsemble([network(s, **o) for s, o in zip(SEEDS, OPTIONS, strict=True)])


KW = dict(batch_size=8, lr=0.03, val_every=5, n_validation=16, progress=False, threads=1)


def assert_same_network(a, b, atol=ATOL):
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(v, w, rtol=0, atol=atol, msg=k)


def assert_same_history(a, b, atol=ATOL):
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for key in ("train_loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in a], [r[key] for r in b], rtol=0, atol=atol)


def test_every_network_trains_as_it_would_alone():
    # Gradients clipped hard (each network's on its own), both penalties, a cosine
    # schedule: a joint clip, a joint penalty or a shared stream would all show.
    kw = dict(KW, n_steps=30, clip_grad=0.05, l2_rate=1e-3, l2_weight=1e-3, lr_schedule="cosine")
    ens = ensemble()
    res = fit(ens, small_task(), seed=SEEDS, **kw)
    assert isinstance(res, EnsembleResult) and res.model is ens and res.steps == 30
    probe = torch.as_tensor(small_task().batch(4, seed=np.random.default_rng(9)).inputs)
    for k, (seed, options) in enumerate(zip(SEEDS, OPTIONS, strict=True)):
        alone = network(seed, **options)
        lone = fit(alone, small_task(), seed=seed, **kw)
        mine = res.networks[k]
        assert (mine.steps, mine.seed, mine.message) == (lone.steps, lone.seed, lone.message)
        assert_same_network(alone, mine.model)
        assert_same_history(lone.history, mine.history)
        out_alone = alone(probe, noise=False).outputs
        torch.testing.assert_close(mine.model(probe, noise=False).outputs, out_alone,
                                   rtol=0, atol=ATOL)  # fmt: skip
        # The ensemble itself holds the trained network in its rows.
        assert_same_network(alone, ens.network(k))
    assert res.to_xarray().sizes["network"] == 3


def test_each_network_stops_on_its_own_criterion_and_stays_frozen():
    kw = dict(KW, n_steps=80, target_loss=0.3)
    # Equal hyperparameters, so that only the seed sets when each network is done.
    ens = RateEnsemble([network(s, tau=30.0, noise_rec=0.1) for s in SEEDS])
    res = fit(ens, small_task(), seed=SEEDS, **kw)
    steps = [r.steps for r in res.networks]
    assert len(set(steps)) == 3 and max(steps) < 80, steps  # they stop apart
    assert res.success
    for k, seed in enumerate(SEEDS):
        alone = network(seed, tau=30.0, noise_rec=0.1)
        lone = fit(alone, small_task(), seed=seed, **kw)
        assert lone.success and res.networks[k].steps == lone.steps
        # Frozen at its stop while the others trained on: still the lone run's weights.
        assert_same_network(alone, ens.network(k))
        assert_same_history(lone.history, res.networks[k].history)


class InterruptingTask(FlipFlop):
    """A flip-flop whose ``interrupt_at``-th training batch raises KeyboardInterrupt."""

    interrupt_at = None

    def batch(self, n_trials, *, seed=None, **fixed):
        if n_trials == 8 and self.interrupt_at is not None:
            self.interrupt_at -= 1
            if self.interrupt_at < 0:
                self.interrupt_at = None
                raise KeyboardInterrupt
        return super().batch(n_trials, seed=seed, **fixed)


def test_an_interrupted_ensemble_resumes_exactly_from_its_networks_checkpoints(tmp_path):
    kw = dict(KW, n_steps=40, target_loss=0.3, checkpoint_every=100)
    full = RateEnsemble([network(s, tau=30.0, noise_rec=0.1) for s in SEEDS])
    res_full = fit(full, small_task(), seed=SEEDS, **kw)
    first_stop = min(r.steps for r in res_full.networks)

    # Interrupted after the first network stopped (its checkpoint is then final) and
    # before the others did: the batches are drawn network by network, one per step.
    task = InterruptingTask(dt=10.0, timing={"trial": 200.0})
    task.interrupt_at = 3 * first_stop + 2 * 2
    paths = [tmp_path / f"net{k}.pt" for k in range(3)]
    part = RateEnsemble([network(s, tau=30.0, noise_rec=0.1) for s in SEEDS])
    with pytest.raises(KeyboardInterrupt):
        fit(part, task, seed=SEEDS, checkpoint=paths, **kw)
    states = [load_checkpoint(p) for p in paths]
    stopped = [s["stopped"] for s in states]
    assert (
        sum(stopped) == 1
        and [s["step"] for s in states if not s["stopped"]] == [first_stop + 2] * 2
    )

    resumed = RateEnsemble([network(s + 10, tau=30.0, noise_rec=0.1) for s in SEEDS])
    res = fit(resumed, task, seed=SEEDS, checkpoint=paths, resume=True, **kw)
    for k in range(3):
        # Every weight comes from the checkpoints (the fresh networks had other seeds).
        assert_same_network(full.network(k), resumed.network(k), atol=0)
        assert res.networks[k].steps == res_full.networks[k].steps
        assert res.networks[k].success == res_full.networks[k].success

    # Each file is a lone run's checkpoint: a lone network resumes from one as from its own.
    k = stopped.index(False)
    alone = network(SEEDS[k], tau=30.0, noise_rec=0.1)
    lone = fit(alone, small_task(), seed=SEEDS[k], **kw)
    again = network(99, tau=30.0, noise_rec=0.1)
    fit(again, small_task(), seed=SEEDS[k], checkpoint=paths[k], resume=True,
        **dict(kw, n_steps=lone.steps))  # fmt: skip
    assert_same_network(alone, again)


def test_a_stopped_network_resumes_alone_as_stopped(tmp_path):
    kw = dict(KW, n_steps=80, target_loss=0.3, checkpoint=tmp_path / "net.pt")
    net = network(SEEDS[1], tau=30.0, noise_rec=0.1)
    first = fit(net, small_task(), seed=SEEDS[1], **kw)
    assert first.success and first.steps < 80
    again = network(7, tau=30.0, noise_rec=0.1)
    res = fit(again, small_task(), seed=SEEDS[1], resume=True, **kw)
    assert (res.steps, res.success, res.message) == (first.steps, True, first.message)
    assert_same_network(net, again, atol=0)


class ExplodingTask(FlipFlop):
    """A flip-flop whose training batch number ``explode_at`` has targets of 1e7."""

    explode_at = None

    def batch(self, n_trials, *, seed=None, **fixed):
        batch = super().batch(n_trials, seed=seed, **fixed)
        if n_trials == 8 and self.explode_at is not None:
            if self.explode_at == 0:
                batch.targets = batch.targets * np.float32(1e7)
            self.explode_at -= 1
        return batch


def test_a_diverging_network_stops_with_its_last_good_weights_and_the_others_go_on(tmp_path):
    kw = dict(KW, n_steps=12, val_every=2)
    task = ExplodingTask(dt=10.0, timing={"trial": 200.0})
    task.explode_at = 3 * 5 + 1  # network 1's batch of step 5
    paths = [tmp_path / f"net{k}.pt" for k in range(3)]
    ens = ensemble()
    res = fit(ens, task, seed=SEEDS, checkpoint=paths, **kw)
    bad = res.networks[1]
    assert bad.diverged and not bad.success and bad.steps == 4
    assert "loss became" in bad.message and "start of step 4" in bad.message
    # Its last good weights: those at the start of step 4, as a lone run keeps them.
    reference = network(SEEDS[1], **OPTIONS[1])
    fit(reference, small_task(), seed=SEEDS[1], **dict(kw, n_steps=4))
    assert_same_network(reference, ens.network(1))
    assert load_checkpoint(paths[1])["step"] == 4
    for k in (0, 2):
        alone = network(SEEDS[k], **OPTIONS[k])
        fit(alone, small_task(), seed=SEEDS[k], **kw)
        assert res.networks[k].steps == 12 and not res.networks[k].diverged
        assert_same_network(alone, ens.network(k))


@pytest.mark.parametrize(
    "model, kw, match",
    [
        ("lone", dict(seed=[0, 1]), "a single model takes one seed"),
        ("ensemble", dict(seed=[0, 1]), "2 seeds for an ensemble of 3"),
        ("ensemble", dict(checkpoint="one.pt"), "sequence of 3 paths"),
        ("ensemble", dict(checkpoint=["a.pt", "a.pt", "b.pt"]), "different file"),
        ("lone", dict(checkpoint=["a.pt"]), "a single model takes one path"),
    ],
)
def test_seeds_and_checkpoints_must_match_the_networks(model, kw, match, tmp_path):
    net = network(0) if model == "lone" else ensemble()
    with pytest.raises(ValueError, match=match):
        fit(net, small_task(), n_steps=2, **{**KW, **kw})


def test_networks_still_training_must_resume_at_one_step(tmp_path):
    paths = [tmp_path / f"net{k}.pt" for k in range(3)]
    fit(ensemble(), small_task(), seed=SEEDS, checkpoint=paths, n_steps=4, **KW)
    # Network 2's file from a longer run: the networks no longer share a step.
    fit(network(SEEDS[2], **OPTIONS[2]), small_task(), seed=SEEDS[2], checkpoint=paths[2],
        n_steps=6, **KW)  # fmt: skip
    ens = ensemble()
    before = {k: v.clone() for k, v in ens.state_dict().items()}
    with pytest.raises(ValueError, match=r"at steps \[4, 6\]"):
        fit(ens, small_task(), seed=SEEDS, checkpoint=paths, resume=True, n_steps=8, **KW)
    # Refused before any weight was read into the ensemble.
    assert all(torch.equal(v, before[k]) for k, v in ens.state_dict().items())
