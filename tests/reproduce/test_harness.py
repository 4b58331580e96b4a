"""The reproduction harness on a toy experiment: seeds, claims, files, resuming, registry."""

import csv
import io
import json
import os
from dataclasses import dataclass

import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from neurodyn.reproduce import REPRODUCTIONS, get_reproduction
from neurodyn.reproduce.claims import Claim, Verdict, all_hold, count_line, greater, less
from neurodyn.reproduce.harness import Reproduction, Sizes, Table
from neurodyn.reproduce.report import CLAIMS_HEADING
from neurodyn.reproduce.runs import Measured, Runs


@dataclass(frozen=True)
class ToySizes(Sizes):
    n: int = 100
    scale: float = 1.0
    widths: tuple = (1, 2)
    limit: float | None = None


CALLS = []


def _run(cfg, *, seed, progress, device):
    """The mean of n standard normal draws: a 'measurement' that depends on the seed."""
    CALLS.append(seed)
    x = np.random.default_rng(seed).normal(scale=cfg.scale, size=cfg.n)
    return {"mean": float(x.mean()), "n": cfg.n, "_draws": x}


def _figure(runs, outcomes, cfg):
    fig = Figure()
    fig.subplots().hist(runs.first["_draws"], bins=10)
    return fig


def _means(runs):
    return runs.values(lambda r: r["mean"])


CLAIMS = (
    Claim(
        "mean_near_zero",
        "the mean lies within 4 standard errors of 0",
        lambda runs: less(np.abs(_means(runs)) * np.sqrt(runs.values(lambda r: r["n"])), 4.0),
        threshold="4 standard errors: a normal mean is further out with probability 6e-5",
    ),
    Claim(
        "mean_positive",
        "the mean is positive",
        lambda runs: greater(_means(runs), 0.0, names=("mean", "0")),
        threshold="the sign of the mean",
    ),
    Claim("needs_a_gpu_cluster", "the mean is exactly 0 at n = 10¹²", None, untested="too big"),
)


def _rows(runs, cfg):
    return [["mean", runs.cell(lambda r: r["mean"]), "0 (the distribution's mean)"]]


TOY = Reproduction(
    name="toy",
    stem="toy",
    title="Toy reproduction",
    citation="Nobody (2024). A toy.",
    paper={"mean": 0.0},
    config_type=ToySizes,
    full=ToySizes(seeds=3),
    quick=ToySizes(n=10),
    run=_run,
    work=lambda cfg: 1e3,
    summary=lambda runs, cfg: f"{cfg.n} draws.",
    tables=(
        Table(("quantity", "ours", "paper"), _rows, ours=("ours",), csv=""),
        Table(("n",), lambda runs, cfg: [[runs.cell(lambda r: r["n"])]], title="Size", csv="_size"),
    ),
    claims=CLAIMS,
    figure=_figure,
)


def test_harness_runs_every_seed_and_writes_every_file(tmp_path):
    out = TOY(tmp_path / "out", seed=3, progress=False)
    means = [np.random.default_rng(s).normal(size=100).mean() for s in (3, 4, 5)]
    assert out["seeds"] == [3, 4, 5]
    assert [r["mean"] for r in out["runs"]] == pytest.approx(means, rel=1e-15)
    assert set(out["files"]) == {"figure", "markdown", "json", "csv", "csv_size"}
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["seeds", "toy.csv", "toy.json", "toy.md", "toy.png", "toy_size.csv"]
    # The sign claim follows the measured means: a one-sided t-test over three seeds.
    p = stats.ttest_1samp(means, 0.0, alternative="greater").pvalue
    held = bool(np.mean(means) > 0 and p < 0.05)
    assert out["claims"]["mean_positive"]["status"] == ("held" if held else "not held")
    assert out["claims"]["needs_a_gpu_cluster"]["status"] == "not tested"
    assert out["claims_line"] == f"{1 + held} of 2 claims held; 1 not tested at this scale"
    md = (tmp_path / "out" / "toy.md").read_text("utf-8")
    assert md.startswith("# Toy reproduction\n\n100 draws.\n") and "## Size" in md
    assert CLAIMS_HEADING in md and f"**{out['claims_line']}.**" in md
    assert (
        "- the mean is exactly 0 at n = 10¹²: not tested — not tested at this scale: too big" in md
    )
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "toy.csv").read_text("utf-8"))))
    cell = f"{np.mean(means):.3g} ± {np.std(means, ddof=1):.3g}"
    assert rows == [["quantity", "ours", "paper"], ["mean", cell, "0 (the distribution's mean)"]]
    saved = json.loads((tmp_path / "out" / "toy.json").read_text("utf-8"))
    assert all("_draws" not in r for r in saved["runs"] + out["runs"])  # working data stays private
    assert saved["claims"] == out["claims"] and saved["config"]["widths"] == [1, 2]
    assert (
        saved["seeds"] == [3, 4, 5] and saved["quick"] is False and saved["reproduction"] == "toy"
    )


def test_a_resumed_run_reports_the_seconds_its_seeds_took(tmp_path, monkeypatch):
    import pickle

    first = TOY(tmp_path, quick=True, progress=False)
    path = tmp_path / "seeds" / "toy-seed0.pkl"
    kept = pickle.loads(path.read_bytes())
    spent = kept["results"]["_seconds"]
    assert 0 < spent <= first["seconds"] + 0.05  # seconds are rounded to 0.1
    # Say the seed took an hour: the resumed call reports it, not its own few ms.
    kept["results"]["_seconds"] = 3600.0
    path.write_bytes(pickle.dumps(kept))
    again = TOY(tmp_path, quick=True, progress=False)
    assert 3600.0 <= again["seconds"] < 3600.0 + 60.0
    assert "_seconds" not in again["runs"][0]  # private: not in the report


def test_an_interrupted_reproduction_resumes(tmp_path):
    CALLS.clear()
    first = TOY(tmp_path, quick=True, progress=False)
    assert CALLS == [0]
    again = TOY(tmp_path, quick=True, progress=False)
    assert CALLS == [0] and again["runs"] == first["runs"]  # seed 0 kept, not run again
    TOY(tmp_path, config=ToySizes(n=10, seeds=2), progress=False)
    assert CALLS == [0, 1]  # seed 0 reused (same sizes), seed 1 run
    TOY(tmp_path, config=ToySizes(n=11), progress=False)
    assert CALLS == [0, 1, 0]  # other sizes: run again
    TOY(tmp_path, config=ToySizes(n=11), progress=False, resume=False)
    assert CALLS == [0, 1, 0, 0]


def test_quick_and_explicit_configurations(tmp_path):
    assert TOY(tmp_path, quick=True, progress=False)["runs"][0]["n"] == 10
    out = TOY(tmp_path, config=ToySizes(n=7, limit=2.5), progress=False)
    assert out["runs"][0]["n"] == 7 and out["config"]["limit"] == 2.5
    with pytest.raises(ValueError, match="config must be a ToySizes"):
        TOY(tmp_path, config={"n": 7})


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n": 0}, "n must be an integer >= 1"),
        ({"n": 2.5}, "n must be an integer"),
        ({"seeds": 0}, "seeds must be an integer >= 1"),
        ({"scale": -1.0}, "scale must be finite and > 0"),
        ({"scale": float("nan")}, "scale must be finite"),
        ({"widths": ()}, "widths"),
        ({"widths": (1, 0)}, "widths"),
        ({"limit": 0.0}, "limit"),
    ],
)
def test_sizes_are_validated(kw, match):
    with pytest.raises(ValueError, match=match):
        ToySizes(**kw)


def test_bad_arguments_write_nothing(tmp_path):
    for kw, match in (({"threads": 0}, "threads"), ({"device": "tpu"}, "device")):
        with pytest.raises(ValueError, match=match):
            TOY(tmp_path / "never", progress=False, **kw)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (lambda runs, cfg: [["mean", runs.cell(lambda r: r["mean"]), ""]], "blank"),
        (lambda runs, cfg: [["mean", runs.cell(lambda r: r["mean"]), None]], "blank"),
        (lambda runs, cfg: [["mean", "N = 22 in 300 s", "0"]], "not computed from the runs"),
        (lambda runs, cfg: [["mean", runs.cell(lambda r: r["mean"]) + " s", "0"]], "not computed"),
    ],
)
def test_tables_refuse_blank_cells_and_typed_in_results(tmp_path, rows, match):
    table = Table(("q", "ours", "paper"), rows, ours=("ours",))
    toy = Reproduction(**{**TOY.__dict__, "tables": (table,)})
    with pytest.raises(ValueError, match=match):
        toy(tmp_path, quick=True, progress=False)
    assert not (tmp_path / "toy.md").exists()  # refused before any report file is written


def test_cells_show_spread_and_say_why_a_value_is_missing():
    runs = Runs([{"x": 1.0, "k": 3}, {"x": 3.0, "k": 3}, {"x": None, "k": 3}], seeds=[0, 1, 2])
    assert runs.cell(lambda r: r["k"]) == "3"
    assert runs.cell(lambda r: r["x"], missing="never solved") == (
        f"2 ± {np.sqrt(2):.3g} (2 of 3 seeds; n/a on the others: never solved)"
    )
    assert runs.cell(lambda r: None, missing="no spikes") == "n/a (no spikes)"
    assert isinstance(Measured.join(" / ", [runs.cell(lambda r: r["k"])] * 2), Measured)
    with pytest.raises(TypeError, match="only measured"):
        Measured.join(" / ", ["typed", runs.cell(lambda r: r["k"])])
    assert runs.records(lambda r: [{"k": r["k"]}]) == [{"seed": s, "k": 3} for s in range(3)]


def test_comparisons_can_say_no():
    # One seed and two seeds: the difference must exceed the margin on every seed.
    assert greater([0.9], [0.8]).held and not greater([0.9], [0.8], margin=0.2).held
    assert not greater([0.9, 0.7], [0.8, 0.8]).held and greater([0.9, 0.9], [0.8, 0.8]).held
    # Three seeds or more: a one-sided paired t-test at the 5 % level.
    a, b = np.array([0.91, 0.95, 0.93, 0.92]), np.array([0.90, 0.90, 0.92, 0.80])
    p = stats.ttest_1samp(a - b, 0.0, alternative="greater").pvalue
    assert greater(a, b).held == (p < 0.05)
    assert not greater([1.0, 2.0, 0.5], [0.9, 1.9, 0.6]).held  # mean > 0, not significant
    assert less(b, a).held == greater(a, b).held and not less(a, b).held
    assert not greater([1.0, np.nan, 1.0], 0.0).held  # undefined on a seed: not shown
    assert "undefined on 1 of 3 seeds" in greater([1.0, np.nan, 1.0], 0.0).evidence
    assert greater([2.0, 2.0, 2.0], 1.0).held and not greater([1.0, 1.0, 1.0], 1.0).held
    # Differences equal up to rounding have no spread: decided by their sign, no warning.
    assert greater([0.3 + 1e-17, 0.3, 0.3 - 1e-17], 0.1).held
    assert greater([1.0, 2.0, 3.0], 0.0, names=("x", "0")).evidence.startswith("x = 2 ± 1, 0 = 0;")
    assert not all_hold(greater([1.0], 0.0), greater([0.0], 1.0)).held
    ev = less([0.3], [0.5], names=("single", "multi")).evidence
    assert ev.startswith("single = 0.3, multi = 0.5") and "multi − single > 0" in ev


def test_claims_must_say_why():
    with pytest.raises(ValueError, match="threshold must say why"):
        Claim("c", "d", lambda runs: Verdict(True, ""))
    with pytest.raises(ValueError, match="either check"):
        Claim("c", "d", lambda runs: Verdict(True, ""), threshold="t", untested="u")
    with pytest.raises(TypeError, match="must return a Verdict"):
        Claim("c", "d", lambda runs: True, threshold="t")(Runs([{}], [0]))
    outcomes = {"a": {"status": "held"}, "b": {"status": "not held"}, "c": {"status": "held"}}
    assert count_line(outcomes) == "2 of 3 claims held"


def test_registry_names_every_reproduction():
    for name in REPRODUCTIONS:
        rep = get_reproduction(name)
        assert isinstance(rep, Reproduction) and rep.name == name
        assert isinstance(rep.full, rep.config_type) and isinstance(rep.quick, rep.config_type)
        assert rep.full.seeds >= 3, "the full run reports a spread over seeds"
        assert rep.claims and len({c.name for c in rep.claims}) == len(rep.claims)
    with pytest.raises(ValueError, match="Did you mean 'nalsm'"):
        get_reproduction("nalsmm")


def test_seed_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o077)
    try:
        TOY(tmp_path, quick=True, progress=False)
    finally:
        os.umask(old)
    assert oct((tmp_path / "seeds" / "toy-seed0.pkl").stat().st_mode & 0o777) == oct(0o600)
