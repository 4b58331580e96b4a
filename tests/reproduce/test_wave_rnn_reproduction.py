"""The wave-RNN reproduction at small size: files, claims reported (whatever their outcome),
and the numbers the report shows computed from the run."""

import csv
import io
import json
import math

import numpy as np
import pytest

from neurodyn.reproduce.claims import count_line
from neurodyn.reproduce.wave_rnn import CLAIMS, PAPER, WaveReproductionConfig, reproduce_wave_rnn


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("wave_rnn")
    return out, reproduce_wave_rnn(out, quick=True, seed=0, progress=False)


def test_files_and_return_shape(quick_run):
    out, res = quick_run
    assert set(res["files"]) == {"figure", "csv", "markdown", "json"}
    for path in res["files"].values():
        assert (out / path.split("/")[-1]).is_file()
    assert res["seeds"] == [0] and len(res["runs"]) == 1 and res["quick"] is True
    data = json.loads((out / "wave_rnn.json").read_text("utf-8"))
    assert data["paper"]["adding"]["wrnn_solved_at"][0] == PAPER["adding"]["wrnn_solved_at"][0]
    assert data["claims"] == res["claims"] and data["claims_line"] == res["claims_line"]
    run = data["runs"][0]
    assert "_objects" not in run["waves"] and "_result" not in run["decoding"]["wrnn"]


def test_claims_reported_with_statuses_and_count(quick_run):
    out, res = quick_run
    assert list(res["claims"]) == [c.name for c in CLAIMS]
    statuses = {o["status"] for o in res["claims"].values()}
    assert statuses <= {"held", "not held", "not tested"}
    untested = [c.name for c in CLAIMS if c.check is None]
    assert all(res["claims"][n]["status"] == "not tested" for n in untested)
    assert res["claims_line"] == count_line(res["claims"])
    assert res["claims_line"].endswith(f"; {len(untested)} not tested at this scale")
    md = (out / "wave_rnn.md").read_text("utf-8")
    assert f"**{res['claims_line']}.**" in md
    for o in res["claims"].values():
        assert o["description"] in md and o["evidence"] in md


def test_numbers_computed_from_the_run(quick_run):
    _, res = quick_run
    r = res["runs"][0]
    cfg = WaveReproductionConfig.quick()
    add, cp = r["adding"], r["copy"]
    # Matched parameter counts; the adding MSE and the steps to solve follow the curve.
    for part in (add, cp):
        assert abs(part["params"]["wrnn"] - part["params"]["irnn"]) / part["params"]["wrnn"] < 0.1
    for m in add["models"].values():
        curve = m["curve"]
        assert m["final_mse"] == curve["val_loss"][-1] and m["best_mse"] == min(curve["val_loss"])
        solved = [s for s, v in zip(curve["step"], curve["val_loss"], strict=True) if v <= 0.05]
        assert m["solved_at"] == (solved[0] if solved else None)
    # Orders of magnitude between the measured cross-entropies, and the paper's divided loss.
    ce = {k: m["final_cross_entropy"] for k, m in cp["models"].items()}
    assert cp["orders_of_magnitude"] == pytest.approx(math.log10(ce["irnn"] / ce["wrnn"]))
    assert cp["orders_shift_init_wrnn"] == pytest.approx(
        math.log10(ce["wrnn_no_shift_init"] / ce["wrnn"])
    )
    for m in cp["models"].values():
        assert m["cross_entropy_per_batch"] == pytest.approx(
            m["final_cross_entropy"] / cfg.batch_size
        )
        assert 0.0 <= m["recall_accuracy"] <= 1.0
    # The copy verdict is the paper's > 5 orders on the measured number (one seed: the sign).
    held = cp["orders_of_magnitude"] > PAPER["copy"]["orders_lower"]
    assert res["claims"]["copy_loss_5_orders_lower"]["status"] == ("held" if held else "not held")


def test_waves_measured_on_the_trained_networks(quick_run):
    _, res = quick_run
    w = res["runs"][0]["waves"]
    # At initialisation the kernel is a permutation: eigenvalues on the unit circle to
    # float32 rounding, speed 1 (reported in the table, not claimed).
    assert w["eigen_init_modulus"] == pytest.approx([1.0, 1.0], abs=1e-6)
    assert w["init"]["speed"] == pytest.approx(1.0, abs=0.05)
    trained = w["digits_trained"]
    steps = 64  # one pixel of an 8x8 digit per step
    for m in ("wrnn", "irnn"):
        assert trained[m]["speed_resolution"] == pytest.approx(2 * 2.0 / steps)
        assert 0.0 < trained[m]["chance_fraction"] < 1.0
        assert trained[m]["diagonal_fraction"] <= 1.0
    power = {
        m: trained[m]["diagonal_fraction"] * (trained[m]["speed"] > trained[m]["speed_resolution"])
        for m in trained
    }
    held = power["wrnn"] > power["irnn"]
    assert res["claims"]["trained_waves_in_wrnn_not_irnn"]["status"] == (
        "held" if held else "not held"
    )
    error = abs(trained["wrnn"]["speed"] - 1.0)
    held = error < trained["wrnn"]["speed_resolution"]
    assert res["claims"]["trained_wave_speed_one"]["status"] == ("held" if held else "not held")
    dec = res["runs"][0]["decoding"]
    for m in ("wrnn", "irnn"):
        assert dec[m]["mean_r2"] == pytest.approx(np.mean(dec[m]["r2"]))


def test_table_cells_are_filled_and_read_the_paper(quick_run):
    out, res = quick_run
    rows = list(csv.reader(io.StringIO((out / "wave_rnn.csv").read_text("utf-8"))))
    assert rows[0] == ["quantity", "wRNN (ours)", "iRNN (ours)", "wRNN (paper)", "iRNN (paper)"]
    assert all(cell.strip() for row in rows for cell in row)  # no blank cell, NaN included
    by_name = {row[0]: row for row in rows}
    copy_rows = [row for name, row in by_name.items() if name.startswith("copy")]
    # The copy loss is reported as cross-entropy, never as an MSE.
    assert any("cross-entropy" in row[0] for row in copy_rows)
    assert not any("MSE" in row[0] for row in copy_rows)
    logged = by_name["copy: cross-entropy / batch size (the paper's logged loss)"]
    assert logged[3].startswith(f"{PAPER['copy']['loss']['wrnn']:.3g} ")
    r = res["runs"][0]
    assert logged[1] == f"{r['copy']['models']['wrnn']['cross_entropy_per_batch']:.3g}"
    solved = next(row for name, row in by_name.items() if "steps to MSE" in name)
    if r["adding"]["models"]["irnn"]["solved_at"] is None:
        assert solved[2].startswith("n/a (never reached MSE")


def test_bad_config(tmp_path):
    with pytest.raises(ValueError, match="config"):
        reproduce_wave_rnn(tmp_path, config={"n_steps": 3})
    with pytest.raises(ValueError, match="n_steps"):
        WaveReproductionConfig(n_steps=0)
    assert WaveReproductionConfig.quick().n_steps < WaveReproductionConfig().n_steps
