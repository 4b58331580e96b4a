"""The paper's curricula: stage layout, the 98% advance rule and the forgetting probe."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from neurodyn.rnn_models import TimescaleRNN
from neurodyn.tasks import NDelayedMatch, NParity
from neurodyn.train import (
    ForgettingProbe,
    fit,
    multi_head_curriculum,
    no_curriculum,
    single_head_curriculum,
    sliding_window_curriculum,
)


class ParityOracle(torch.nn.Module):
    """Answers N-parity perfectly on head N - 2 for every N (a perfect multi-head network)."""

    def __init__(self, n_heads):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, inputs, generator=None):
        bits = inputs[..., 0].round().long()
        out = torch.zeros(*bits.shape, 2 * self.n_heads)
        csum = torch.cumsum(bits, dim=1)
        for h in range(self.n_heads):
            n = h + 2
            window = csum - torch.nn.functional.pad(csum, (n, 0))[:, : csum.shape[1]]
            out[..., 2 * h] = (window % 2 == 0).float()
            out[..., 2 * h + 1] = (window % 2 == 1).float()
        return SimpleNamespace(outputs=out)


def test_stage_layouts():
    single = single_head_curriculum(n_start=3, n_stop=5)
    assert [s.task.ns for s in single.stages] == [(3,), (4,), (5,)]
    assert all(s.task.heads == (0,) for s in single.stages)
    multi = multi_head_curriculum(n_stop=5, n_heads=10)
    assert [s.task.ns for s in multi.stages] == [(2,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]
    assert multi.stages[-1].task.heads == (0, 1, 2, 3)
    assert all(s.task.n_outputs == 20 for s in multi.stages)
    sliding = sliding_window_curriculum(window=2, drop=1, n_stop=5)
    assert [s.task.ns for s in sliding.stages] == [(2,), (2, 3), (3, 4), (4, 5)]
    assert sliding.stages[-1].task.heads == (2, 3)
    none = no_curriculum(12, "dms")
    assert len(none.stages) == 1 and none.stages[0].task.ns == (12,)
    assert isinstance(none.stages[0].task, NDelayedMatch)


def test_advance_needs_mean_and_newest_head_above_threshold():
    stage = multi_head_curriculum(n_stop=4).stages[2]  # N = 2..4
    ok = {"val_mean_correct": 0.99, "val_correct_n4": 0.985, "val_loss": 0.1}
    assert stage.done(ok)
    assert not stage.done({**ok, "val_correct_n4": 0.97})  # newest head not there yet
    assert not stage.done({**ok, "val_mean_correct": 0.97})  # an older head dropped
    assert not stage.done({**ok, "val_correct_n4": 0.98})  # strictly above 98%
    custom = single_head_curriculum(n_stop=3, threshold=0.9).stages[1]
    assert custom.done({"val_mean_correct": 0.91, "val_correct_n3": 0.91})


def test_probe_reads_each_n_on_its_own_head():
    oracle = ParityOracle(n_heads=4)
    multi = ForgettingProbe("parity", ns=[2, 3, 4, 5], heads=[0, 1, 2, 3], n_heads=4, n_trials=128)
    rec = multi(oracle)
    assert all(rec[f"accuracy_n{n}"] == 1.0 for n in (2, 3, 4, 5))
    assert rec["n"] == 5 and rec["n_solved"] == 4 and "tau_mean" not in rec
    # The same network scored as a single-head one (all N on head 0 = its 2-parity head):
    single = ForgettingProbe("parity", ns=[2, 3, 4], heads=[0, 0, 0], n_heads=4, n_trials=512)
    rec = single(oracle)
    assert rec["accuracy_n2"] == 1.0
    # 2-parity says nothing about 3- or 4-parity of unbalanced streams beyond chance.
    assert 0.3 < rec["accuracy_n3"] < 0.75 and 0.3 < rec["accuracy_n4"] < 0.75
    # Same seed, same trials: the probe is deterministic.
    assert single(oracle) == rec


def test_curricula_train_and_record_forgetting():
    torch.manual_seed(0)
    kept = {}

    def callback(model, ns):
        kept[max(ns)] = model.tau.detach().clone()
        return {"extra": 1.0}

    net = TimescaleRNN(1, 32, n_heads=3, seed=0)
    cur = single_head_curriculum(
        n_stop=4, n_heads=3, n_eval=128, length_block=32, callback=callback
    )
    res = fit(net, cur, n_steps=600, batch_size=32, lr=1e-2, clip_grad=2.0, val_every=50,
              n_validation=128, progress=False)  # fmt: skip
    assert res.stage >= 1, "2-parity should be learnt within a few hundred steps"
    first = res.stage_log[0]
    assert first["name"] == "N=2" and first["accuracy_n2"] > 0.9 and first["extra"] == 1.0
    assert {"tau_mean", "tau_max", "tau_min", "accuracy_mean", "n_solved"} <= set(first)
    second = res.stage_log[1]
    # After N = 3 on the same head, N = 2 is scored again: the forgetting measurement.
    assert {"accuracy_n2", "accuracy_n3"} <= set(second)
    assert sorted(kept) == [int(r["n"]) for r in res.stage_log]
    # The stage only ended because both criteria held at that validation.
    hist = next(h for h in res.history if h["step"] == second["step"])
    assert hist["val_mean_correct"] > 0.98 and hist["val_correct_n3"] > 0.98


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="n_start"):
        single_head_curriculum(n_start=1)
    with pytest.raises(ValueError, match="n_stop"):
        multi_head_curriculum(n_start=5, n_stop=3)
    with pytest.raises(ValueError, match="n_heads=3 is too small"):
        multi_head_curriculum(n_stop=10, n_heads=3)
    with pytest.raises(ValueError, match="n must"):
        no_curriculum(1)
    with pytest.raises(ValueError, match="task="):
        single_head_curriculum("copy")
    with pytest.raises(ValueError, match="drop"):
        sliding_window_curriculum(window=2, drop=3)
    with pytest.raises(ValueError, match="threshold"):
        single_head_curriculum(threshold=1.5)
    with pytest.raises(ValueError, match="heads"):
        ForgettingProbe(NParity, ns=[2, 3], heads=[0], n_heads=1)
    assert np.isfinite(ForgettingProbe("dms", ns=[2], heads=[0], n_heads=1, n_trials=8)(
        TimescaleRNN(1, 4, seed=0))["accuracy_n2"])  # fmt: skip
