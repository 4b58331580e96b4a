"""Training RNNs of RNNs on sequential digits, and the reproduction's outputs."""

import csv
import io
import json
from pathlib import Path

import pytest
import torch

from neurodyn.reproduce import rnns_of_rnns as rep
from neurodyn.analysis.contraction import certify
from neurodyn.rnn_models.rnns_of_rnns import SparseComboNet
from neurodyn.tasks import SequentialDigits


def test_sparse_combo_net_trains_well_above_chance_and_stays_certified():
    train = SequentialDigits(split="train", per_step="row")
    test = SequentialDigits(split="test", per_step="row")
    net = SparseComboNet(8, 64, 10, n_modules=4, density=0.1, tau=5.0, dt=1.0, seed=0)
    assert certify(net).success
    coupling = net.network.coupling().detach().clone()
    hist = rep.train_classifier(net, *train.arrays(), *test.arrays(), epochs=6, lr=1e-2, seed=0)
    # Chance is 10 %; 8 steps of 8 pixels are learned to ~90 % in a few epochs.
    assert hist["accuracy"] > 70.0
    assert hist["test_accuracy"][-1] > hist["test_accuracy"][0] - 5.0
    assert not torch.allclose(net.network.coupling(), coupling)
    cert = certify(net)
    assert cert.success and cert.rate > 0


def test_reproduction_writes_its_table_curves_and_figure(tmp_path, monkeypatch):
    tiny = rep._Size(2, 8, 1, (2,), (8,), 1, ("sequential",))
    monkeypatch.setattr(rep, "QUICK", tiny)
    threads = torch.get_num_threads()
    torch.set_num_threads(3)  # not 1, so that the check below can fail on any machine
    try:
        result = rep.reproduce_rnns_of_rnns(tmp_path, quick=True, seed=0, progress=False)
        assert torch.get_num_threads() == 3  # restored after running single-threaded
    finally:
        torch.set_num_threads(threads)
    assert set(result["files"]) == {"png", "csv", "md", "json", "curves"}
    for path in result["files"].values():
        assert Path(path).parent == tmp_path and Path(path).stat().st_size > 0
    rows = list(csv.DictReader(io.StringIO(Path(result["files"]["csv"]).read_text("utf-8"))))
    assert [r["model"] for r in rows] == ["sparse_combo", "svd_combo", "baseline", "sparse_combo"]
    assert rows[0]["accuracy_paper"] == "99.04"
    md = Path(result["files"]["md"]).read_text("utf-8")
    assert "| Sparse Combo Net | sequential |" in md and "99.04" in md
    assert result["claims"]["combo_nets_certified_before_and_after"]
    assert result["claims"]["baseline_not_certified"]
    stored = json.loads(Path(result["files"]["json"]).read_text("utf-8"))
    assert stored["config"]["quick"] is True and len(stored["curves"]) == 4


@pytest.mark.parametrize("kind", ["sparse_combo", "svd_combo", "baseline"])
def test_reproduction_models_have_matching_sizes(kind):
    model = rep._build(kind, 4, 8, seed=0)
    assert model.n_hidden == 32 and model.n_input == 1 and model.n_output == 10
    assert model.dt == rep.DT
