"""Training RNNs of RNNs on sequential digits, and the reproduction's outputs."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neurodyn.analysis.contraction import certify
from neurodyn.reproduce import rnns_of_rnns as rep
from neurodyn.reproduce.claims import count_line
from neurodyn.rnn_models.rnns_of_rnns import SparseComboNet
from neurodyn.tasks import SequentialDigits
from neurodyn.train import fit


def test_sparse_combo_net_trains_well_above_chance_and_stays_certified():
    train, test = (
        SequentialDigits(split=s, per_step="row").full_batch().to_xarray()
        for s in ("train", "test")
    )
    net = SparseComboNet(8, 64, 10, n_modules=4, density=0.1, tau=5.0, dt=1.0, seed=0)
    assert certify(net).success
    coupling = net.network.coupling().detach().clone()
    res = fit(
        net,
        train,
        validation=test,
        epochs=6,
        lr=1e-2,
        lr_schedule="cosine",
        loss="cross_entropy",
        val_every="epoch",
        progress=False,
    )
    acc = [r["val_accuracy"] for r in res.history]
    # Chance is 10 %; 8 steps of 8 pixels are learned to ~90 % in a few epochs.
    assert len(acc) == 6 and acc[-1] > 0.7
    assert acc[-1] > acc[0] - 0.05
    assert not torch.allclose(net.network.coupling(), coupling)
    cert = certify(net)
    assert cert.success and cert.rate > 0


def test_reproduction_writes_its_table_curves_and_figure(tmp_path):
    tiny = rep.RNNsOfRNNsConfig(
        n_modules=2,
        module_size=8,
        epochs=2,
        sweep_modules=(2,),
        sweep_sizes=(8, 16),
        sweep_epochs=1,
        seeds=1,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(3)  # not 1, so that the check below can fail on any machine
    try:
        result = rep.reproduce_rnns_of_rnns(tmp_path, config=tiny, seed=0, progress=False)
        assert torch.get_num_threads() == 3  # restored after running single-threaded
    finally:
        torch.set_num_threads(threads)
    assert set(result["files"]) == {"figure", "csv", "markdown", "json", "csv_curves"}
    for path in result["files"].values():
        assert Path(path).parent == tmp_path and Path(path).stat().st_size > 0
    run = result["runs"][0]
    rows = list(csv.DictReader(io.StringIO(Path(result["files"]["csv"]).read_text("utf-8"))))
    assert [r["model"] for r in rows] == [*rep.MODEL_LABELS] * 2 + ["sparse_combo"] * 2
    assert {r["seed"] for r in rows} == {"0"}
    curves = list(csv.DictReader(io.StringIO(Path(result["files"]["csv_curves"]).read_text())))
    assert len(curves) == 6 * 2 + 2 * 1
    # Every accuracy reported is the run's own: the last and the mean of its curve.
    for row, model in zip(rows, run["models"] + run["sweep"], strict=True):
        key = ("section", "model", "task", "module_size")
        curve = [float(c["test_accuracy"]) for c in curves if all(c[k] == row[k] for k in key)]
        assert float(row["accuracy"]) == pytest.approx(curve[-1], rel=1e-12)
        assert model["mean_accuracy"] == pytest.approx(np.mean(curve), rel=1e-12)
        assert model["certified_after"] == (model["model"] != "baseline")
    baseline = next(r for r in rows if r["model"] == "baseline")
    assert baseline["step_factor_after"].startswith("n/a (")  # never a blank cell
    md = Path(result["files"]["markdown"]).read_text("utf-8")
    assert "| Sparse Combo Net | sequential |" in md and "99.04 (best run" in md
    assert "96.85 (mean over runs" in md and "## The paper's claims on this run" in md
    # A short run may honestly say no: only the report's consistency is asserted.
    statuses = {c["status"] for c in result["claims"].values()}
    assert statuses <= {"held", "not held", "not tested"}
    assert result["claims_line"] == count_line(result["claims"])
    assert f"**{result['claims_line']}.**" in md
    assert result["claims"]["sequential_mnist_accuracy"]["status"] == "not tested"
    slope = rep.sweep_slope(run)
    assert f"= {slope:.3g}" in result["claims"]["larger_networks_more_accurate"]["evidence"]
    stored = json.loads(Path(result["files"]["json"]).read_text("utf-8"))
    assert stored["config"]["epochs"] == 2 and stored["seeds"] == [0]
    assert stored["claims"] == result["claims"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files


@pytest.mark.parametrize("kind", ["sparse_combo", "svd_combo", "baseline"])
def test_reproduction_models_have_matching_sizes(kind):
    model = rep._build(kind, 4, 8, seed=0)
    assert model.n_hidden == 32 and model.n_input == 1 and model.n_output == 10
    assert model.dt == rep.FULL.dt


def test_config_is_validated():
    with pytest.raises(ValueError, match="sweep_sizes"):
        rep.RNNsOfRNNsConfig(sweep_sizes=(8, 0))
    with pytest.raises(ValueError, match="variants"):
        rep.RNNsOfRNNsConfig(variants=("shuffled",))
    with pytest.raises(ValueError, match="config must be a RNNsOfRNNsConfig"):
        rep.reproduce_rnns_of_rnns("unused", config={"epochs": 1})
