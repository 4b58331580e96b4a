"""The reproduction harness on a toy experiment: files, claims, configuration, registry."""

import csv
import io
import json
from dataclasses import dataclass

import numpy as np
import pytest
from matplotlib.figure import Figure

from neurodyn.reproduce import REPRODUCTIONS, get_reproduction
from neurodyn.reproduce.harness import Claim, Reproduction, Sizes, Table
from neurodyn.reproduce.report import CLAIMS_HEADING


@dataclass(frozen=True)
class ToySizes(Sizes):
    n: int = 100
    scale: float = 1.0
    widths: tuple = (1, 2)
    limit: float | None = None


def _run(cfg, *, seed, progress, device):
    """The mean of n standard normal draws: a 'measurement' that depends on the seed."""
    x = np.random.default_rng(seed).normal(scale=cfg.scale, size=cfg.n)
    return {"mean": float(x.mean()), "n": cfg.n, "_draws": x}


def _figure(results, claims, cfg):
    fig = Figure()
    fig.subplots().hist(results["_draws"], bins=10)
    return fig


TOY = Reproduction(
    name="toy",
    stem="toy",
    title="Toy reproduction",
    citation="Nobody (2024). A toy.",
    paper={"mean": 0.0},
    config_type=ToySizes,
    full=ToySizes(),
    quick=ToySizes(n=10),
    run=_run,
    work=lambda cfg: 1e3,
    summary=lambda results, cfg, seed: f"{cfg.n} draws, seed {seed}.",
    tables=(
        Table(
            ("quantity", "ours", "paper"),
            lambda r, cfg: [["mean", f"{r['mean']:.3f}", "0"]],
            csv="",
        ),
        Table(("n",), lambda r, cfg: [[r["n"]]], title="Size", markdown=True, csv="_size"),
    ),
    claims=(
        Claim(
            "mean_near_zero",
            "the mean lies within 4 standard errors of 0",
            lambda r: abs(r["mean"]) < 4 / np.sqrt(r["n"]),
        ),
        Claim("mean_positive", "the mean is positive", lambda r: r["mean"] > 0),
    ),
    figure=_figure,
)


def test_harness_writes_every_file_from_the_run(tmp_path):
    out = TOY(tmp_path / "out", seed=3, progress=False)
    mean = np.random.default_rng(3).normal(size=100).mean()
    assert out["mean"] == pytest.approx(mean, rel=1e-15)
    assert set(out["files"]) == {"figure", "markdown", "json", "csv", "csv_size"}
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["toy.csv", "toy.json", "toy.md", "toy.png", "toy_size.csv"]  # no temporaries
    # The claims are computed from the run: the sign claim follows the measured mean.
    assert out["claims"] == {"mean_near_zero": True, "mean_positive": bool(mean > 0)}
    md = (tmp_path / "out" / "toy.md").read_text("utf-8")
    assert md.startswith("# Toy reproduction\n\n100 draws, seed 3.\n")
    assert "## Size" in md and CLAIMS_HEADING in md
    assert f"- the mean is positive: {'yes' if mean > 0 else 'NO'}" in md
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "toy.csv").read_text("utf-8"))))
    assert rows == [["quantity", "ours", "paper"], ["mean", f"{mean:.3f}", "0"]]
    saved = json.loads((tmp_path / "out" / "toy.json").read_text("utf-8"))
    assert "_draws" not in saved and "_draws" not in out  # working data stays private
    assert saved["claims"] == out["claims"] and saved["config"]["widths"] == [1, 2]
    assert saved["seed"] == 3 and saved["quick"] is False and saved["reproduction"] == "toy"


def test_quick_and_explicit_configurations(tmp_path):
    assert TOY(tmp_path, quick=True, progress=False)["n"] == 10
    out = TOY(tmp_path, config=ToySizes(n=7, limit=2.5), progress=False)
    assert out["n"] == 7 and out["config"]["limit"] == 2.5
    with pytest.raises(ValueError, match="config must be a ToySizes"):
        TOY(tmp_path, config={"n": 7})


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n": 0}, "n must be an integer >= 1"),
        ({"n": 2.5}, "n must be an integer"),
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


def test_registry_names_every_reproduction():
    for name in REPRODUCTIONS:
        rep = get_reproduction(name)
        assert isinstance(rep, Reproduction) and rep.name == name
        assert isinstance(rep.full, rep.config_type) and isinstance(rep.quick, rep.config_type)
        assert rep.claims and len({c.name for c in rep.claims}) == len(rep.claims)
    with pytest.raises(ValueError, match="Did you mean 'nalsm'"):
        get_reproduction("nalsmm")
