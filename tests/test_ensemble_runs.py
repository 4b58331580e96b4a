"""neurodyn train --seeds: one ensemble, one run folder per seed as --seed writes it."""

import csv
import doctest
import json

import numpy as np
import pytest

import neurodyn.ensemble_runs as module
from neurodyn.cli import main
from neurodyn.ensemble_runs import parse_seeds
from neurodyn.io.models import load_model
from neurodyn.train import load_checkpoint

SMALL = ["--task", "flip_flop", "--hidden", "12", "--steps", "20", "--val-every", "10",
         "--batch-size", "8", "--no-progress", "--threads", "1", "--dale", "--train-tau",
         "--noise-rec", "0.05"]  # fmt: skip

#: See tests/train/test_fit_ensemble.py: 20 Adam steps of lr 1e-3 from weights that
#: differ by a few ulp stay within 1e-5 of each other; losses and weights are of order 1.
ATOL = 1e-5


def rows(path):
    return list(csv.DictReader(path.read_text().splitlines()))


def test_each_seed_gets_the_folder_its_lone_run_writes(tmp_path, capsys):
    assert main(["train", *SMALL, "--out", str(tmp_path / "ens"), "--seeds", "0-1"]) == 0
    assert "Trained 2 networks together" in capsys.readouterr().out
    assert main(["train", *SMALL, "--out", str(tmp_path / "lone"), "--seed", "1"]) == 0
    mine, lone = tmp_path / "ens" / "seed=1", tmp_path / "lone"
    assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in lone.iterdir())
    assert json.loads((mine / "config.json").read_text()) == json.loads(
        (lone / "config.json").read_text()
    )
    a, b = rows(mine / "training_log.csv"), rows(lone / "training_log.csv")
    assert [r["step"] for r in a] == [r["step"] for r in b]
    np.testing.assert_allclose([float(r["val_loss"]) for r in a],
                               [float(r["val_loss"]) for r in b], rtol=0, atol=ATOL)  # fmt: skip
    net_a, net_b = load_model(mine / "model.npz"), load_model(lone / "model.npz")
    for (k, v), w in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=0, atol=ATOL, err_msg=k)
    ca, cb = load_checkpoint(mine / "checkpoint.pt"), load_checkpoint(lone / "checkpoint.pt")
    assert ca.keys() == cb.keys() and ca["step"] == cb["step"] == 20
    assert ca["optimizer"]["param_groups"] == cb["optimizer"]["param_groups"]
    # Seed 0's network is its own: another initialisation, another training.
    other = load_model(tmp_path / "ens" / "seed=0" / "model.npz")
    assert not np.allclose(other.weight_rec.detach(), net_a.weight_rec.detach())


def test_resume_leaves_finished_folders_and_refuses_to_overwrite(tmp_path, capsys):
    out = str(tmp_path / "ens")
    assert main(["train", *SMALL, "--out", out, "--seeds", "3,5"]) == 0
    before = (tmp_path / "ens" / "seed=5" / "model.npz").stat().st_mtime_ns
    assert main(["train", *SMALL, "--out", out, "--seeds", "3,5", "--resume"]) == 0
    assert "2 folders held finished runs" in capsys.readouterr().out
    assert (tmp_path / "ens" / "seed=5" / "model.npz").stat().st_mtime_ns == before
    assert main(["train", *SMALL, "--out", out, "--seeds", "3,5"]) == 2
    assert "already holds a finished run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--seeds", "3-1"], "not a range"),
        (["--seeds", "0,x"], "ranges and lists"),
        (["--seeds", "0-2,1"], "names a seed twice"),
        (["--seeds", "0-1", "--seed", "2"], "not allowed with argument"),
        (["--seeds", "0-1", "--model", "gru"], "train model 'gru' one seed at a time"),
    ],
)
def test_bad_seeds_are_refused_before_anything_is_written(tmp_path, capsys, flags, match):
    out = tmp_path / "ens"
    base = [a for a in SMALL if a not in ("--dale", "--train-tau")]
    if "--model" in flags:
        base = base[: base.index("--noise-rec")]
    assert main(["train", *base, "--out", str(out), *flags]) == 2
    assert match in capsys.readouterr().err
    assert not out.exists()


def test_parse_seeds_reads_ranges_and_lists():
    assert parse_seeds("7") == [7]
    assert parse_seeds(" 0-2, 9 ") == [0, 1, 2, 9]
    outcome = doctest.testmod(module)
    assert outcome.attempted > 0 and outcome.failed == 0
