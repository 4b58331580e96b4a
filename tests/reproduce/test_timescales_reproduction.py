"""`reproduce_timescales` at its quick size: files, claims' statuses, and the reported
numbers recomputed from the run's own records (the quick run may honestly say "not held")."""

import csv
import dataclasses
import json

import numpy as np
import pytest
import torch

from neurodyn.reproduce.timescales import ReproductionConfig, _train, reproduce_timescales
from neurodyn.reproduce.timescales.claims import CLAIMS, PAPER, W_BAND


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce_timescales")
    return out, reproduce_timescales(out, quick=True, seed=0, progress=False)


@pytest.mark.slow
def test_writes_figure_tables_and_every_claims_status(run):
    out, r = run
    for key, name in (
        ("figure", "timescales.png"),
        ("csv", "timescales.csv"),
        ("markdown", "timescales.md"),
        ("json", "timescales.json"),
    ):
        assert r["files"][key] == str(out / name) and (out / name).stat().st_size > 0
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert r["seeds"] == [0] and len(r["runs"]) == 1
    assert set(r["claims"]) == {c.name for c in CLAIMS}
    statuses = [o["status"] for o in r["claims"].values()]
    assert set(statuses) <= {"held", "not held", "not tested"}
    assert statuses.count("not tested") == 3
    held, tested = statuses.count("held"), len(statuses) - 3
    assert r["claims_line"] == f"{held} of {tested} claims held; 3 not tested at this scale"
    saved = json.loads((out / "timescales.json").read_text("utf-8"))
    assert saved["claims"] == r["claims"] and saved["runs"] == r["runs"]
    md = (out / "timescales.md").read_text("utf-8")
    assert f"**{r['claims_line']}.**" in md
    assert "N = 22 in 300 s" not in md and "research notes" not in md


@pytest.mark.slow
def test_table_cells_are_this_runs_numbers(run):
    out, r = run
    m, s = r["runs"][0]["multi"], r["runs"][0]["single"]
    rows = list(csv.reader((out / "timescales.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == [
        "quantity",
        "multi-head (ours)",
        "single-head (ours)",
        "multi-head (paper)",
        "single-head (paper)",
    ]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert all(cell.strip() for row in rows for cell in row)  # no blank cell
    assert by_label["largest N solved (same budget)"][:2] == [str(m["max_n"]), str(s["max_n"])]
    assert by_label["steps trained"][:2] == [str(m["steps"]), str(s["steps"])]
    # The paper's W-perturbation numbers sit beside ours, read from PAPER.
    w = by_label["W perturbation ε = 0.464: accuracy"]
    assert w[2:] == [format(PAPER["perturb_w"]["multi"][3], ".3g"), "0.575"]
    band = by_label[f"W perturbation: mean accuracy over ε = {W_BAND[0]:g}–{W_BAND[1]:g}"]
    assert band[:2] == [
        format(m["perturb_w_band_mean"], ".3g"),
        format(s["perturb_w_band_mean"], ".3g"),
    ]


@pytest.mark.slow
def test_reported_numbers_follow_from_the_runs_records(run):
    _, r = run
    res = r["runs"][0]
    m, s = res["multi"], res["single"]
    assert m["steps"] == s["steps"] and m["common_n"] == s["common_n"] == min(
        m["max_n"], s["max_n"]
    )
    for d in (m, s):
        # Slopes: least-squares lines through the stage records with N ≤ common N.
        st = [x for x in d["stages"] if x["n"] <= d["common_n"]]
        if len(st) >= 2:
            n = [x["n"] for x in st]
            for key in ("tau_mean", "tau_max"):
                fit = np.polyfit(n, [x[key] for x in st], 1)[0]
                assert d[f"{key}_slope"] == pytest.approx(fit, rel=1e-9, abs=1e-12)
        # Forgetting: the mean over stages with earlier N of their mean accuracy on them.
        earlier = [x["accuracy_earlier_mean"] for x in d["stages"][1:]]
        assert d["earlier_accuracy"] == pytest.approx(np.mean(earlier), rel=1e-12)
        eps, acc = np.asarray(d["perturb_w"]["epsilon"]), np.asarray(d["perturb_w"]["accuracy"])
        assert d["accuracy_common_n"] == acc[0]
        inside = (eps > 0.099) & (eps < 1.01)
        assert inside.sum() == 4
        assert d["perturb_w_band_mean"] == pytest.approx(acc[inside].mean(), rel=1e-12)
        drop = d["ablation"]["slowest"][0] - d["ablation"]["slowest"][1]
        assert d["ablation_slowest_drop"] == pytest.approx(drop, rel=1e-12)
        assert 0.0 <= d["final"]["frac_tau_in_initial_range"] <= 1.0
        assert min(d["final_tau"]) >= 1.0  # τ ≥ dt = 1 by the parametrisation
        for t in d["tau_net"]:
            assert 0 <= t["n_units_fitted"] <= 64
    # The quick run's longer single-head run is its main one (long_steps = max_steps).
    long = res["single_long"]
    assert long["stages"] == s["stages"] and long["steps"] == s["steps"]
    n = [x["n"] for x in long["stages"]]
    fit = np.polyfit(n, [x["tau_mean"] for x in long["stages"]], 1)[0]
    assert long["tau_mean_slope"] == pytest.approx(fit, rel=1e-9, abs=1e-12)


@pytest.mark.slow
def test_tau_against_n_table(run):
    out, r = run
    md = (out / "timescales.md").read_text("utf-8")
    long = r["runs"][0]["single_long"]
    assert "τ against N: the single-head curriculum over a longer run" in md
    for st in long["stages"]:
        assert f"| {st['n']} | 1 of 1 | {st['tau_mean']:.3g} |" in md
    assert "| 30 | 0 of 1 | n/a (not reached) |" in md and "7.1–14.9" in md


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="budget_s"):
        reproduce_timescales(tmp_path, budget_s=-1)
    with pytest.raises(ValueError, match="config"):
        reproduce_timescales(tmp_path, config={"n_hidden": 8})
    with pytest.raises(ValueError, match="n_hidden must be an integer"):
        ReproductionConfig(n_hidden=6.5)
    quick, full = ReproductionConfig.quick(), ReproductionConfig()
    assert quick.max_steps < full.max_steps and quick.seeds == 1 and full.seeds >= 3


def test_longer_run_starts_as_the_main_one():
    """The longer single-head run trains from the same seed: its stages up to the main
    run's last step are the main run's."""
    from neurodyn.reproduce.timescales import _long_run, _stages

    cfg = ReproductionConfig(n_hidden=8, batch_size=32, lr=0.1, val_every=10, n_validation=32,
                             n_eval=32, n_stop=6, max_steps=80, long_steps=200)  # fmt: skip
    main = _train("single", cfg, 0, None, False)
    long = _long_run(cfg, 0, False, "cpu", main)
    assert long["steps"] > main[0].steps
    short = _stages(main[0].stage_log, main[1], main[2])
    # (as JSON: the first stage's accuracy on earlier N is NaN, which == never equals)
    assert short and json.dumps(long["stages"][: len(short)]) == json.dumps(short)
    assert long["max_n"] >= max(st["n"] for st in short)


def test_wall_clock_budget_resumes_exactly():
    """Training under budget_s runs in checkpointed chunks; the result equals one straight run."""
    cfg = ReproductionConfig(n_hidden=12, val_every=10, n_validation=32, n_eval=32, n_stop=8)
    chunked, model_a, snaps_a, elapsed = _train("multi", cfg, 0, 1.0, False)
    assert elapsed >= 1.0 and chunked.steps % (5 * cfg.val_every) == 0 and chunked.steps > 0
    straight_cfg = dataclasses.replace(cfg, max_steps=chunked.steps)
    straight, model_b, snaps_b, _ = _train("multi", straight_cfg, 0, None, False)
    assert straight.steps == chunked.steps and straight.stage == chunked.stage
    assert sorted(snaps_a) == sorted(snaps_b)
    for (k, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
