"""Packing a sweep's runs of rate networks into ensembles: which runs, how many, same numbers."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurodyn.sweeps.engine as engine
from neurodyn.sweeps import load_spec, sweep
from neurodyn.sweeps.packs import pack_points

TINY = {
    "task": "flip_flop",
    "model": "rate",
    "n_eval_trials": 8,
    "model_config": {"n_hidden": 8},
    "fit": {"n_steps": 20, "val_every": 10, "batch_size": 8, "n_validation": 16},
}
TIMINGS = ["seconds", "analysis_seconds"]

#: Packed and alone, a network runs the same operations on the same values (see
#: tests/train/test_fit_ensemble.py); 20 Adam steps of lr 1e-3 keep a difference of a
#: few ulp far below 1e-5 on weights and losses of order 1.
ATOL = 1e-5


def names(jobs):
    return [[p.name for p in job] for job in jobs]


def test_runs_that_differ_in_seed_and_ensemble_options_are_packed(tmp_path):
    spec = load_spec(
        {**TINY, "grid": {"seed": [0, 1, 2], "tau": [50.0, 100.0]},
         "points": [{"seed": 9, "lr": 0.01}, {"seed": 8, "n_hidden": 12},
                    {"seed": 7, "model": "gru"}, {"seed": 6, "dale": True}]}
    )  # fmt: skip
    jobs = pack_points(spec.points, tmp_path, slots=1)
    sizes = sorted(len(job) for job in jobs)
    # The six grid points train together; each other point differs in what they share.
    assert sizes == [1, 1, 1, 1, 6]
    assert {p.values["seed"] for p in max(jobs, key=len)} == {0, 1, 2}
    # Two workers: two packs of three. At most two per pack: three packs.
    assert sorted(map(len, pack_points(spec.points, tmp_path, slots=2)))[-2:] == [3, 3]
    assert sorted(map(len, pack_points(spec.points, tmp_path, slots=1, max_pack=2)))[-3:] == [
        2,
        2,
        2,
    ]
    # A run folder holding a checkpoint resumes alone.
    first = spec.points[0]
    (tmp_path / first.name).mkdir()
    (tmp_path / first.name / "checkpoint.pt").write_bytes(b"")
    alone = [job for job in pack_points(spec.points, tmp_path, slots=1) if first in job]
    assert alone == [[first]]


def _weights(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_a_packed_sweep_gives_the_numbers_and_folders_of_runs_alone(tmp_path, monkeypatch):
    packs = []
    original = engine.run_pack

    def spy(run_dirs, *args):
        packs.append([Path(d).name for d in run_dirs])
        return original(run_dirs, *args)

    monkeypatch.setattr(engine, "run_pack", spy)
    spec = {**TINY, "grid": {"seed": [0, 1], "noise_rec": [0.0, 0.05]}}
    packed = sweep(spec, tmp_path / "packed", n_workers=0, threads_per_run=1, progress=False)
    assert len(packs) == 1 and len(packs[0]) == 4
    alone = sweep(spec, tmp_path / "alone", n_workers=0, threads_per_run=1, progress=False,
                  max_pack=1)  # fmt: skip
    assert len(packs) == 1
    a, b = (ds.drop_vars(TIMINGS).drop_attrs() for ds in (packed, alone))
    xr.testing.assert_allclose(a, b, rtol=0, atol=ATOL)
    assert (packed["status"] == "done").all() and (packed["steps"] == 20).all()
    for run_dir in packed["run_dir"].values:
        one, other = (tmp_path / s / run_dir for s in ("packed", "alone"))
        assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in other.iterdir())
        wa, wb = _weights(one / "model.npz"), _weights(other / "model.npz")
        for k in wa:
            np.testing.assert_allclose(wa[k], wb[k], rtol=0, atol=ATOL, err_msg=f"{run_dir}: {k}")


def test_a_diverging_run_of_a_pack_fails_as_it_fails_alone(tmp_path):
    spec = {**TINY, "fit": {**TINY["fit"], "lr": 1e6}, "grid": {"seed": [0, 1]}}
    errors = []
    for max_pack in (16, 1):
        with pytest.raises(engine.SweepFailed) as err:
            sweep(spec, tmp_path / str(max_pack), n_workers=0, threads_per_run=1,
                  progress=False, max_pack=max_pack)  # fmt: skip
        errors.append(err.value.failures)
    packed, alone = errors
    assert list(packed) == ["seed=0", "seed=1"]
    for name in packed:
        assert packed[name].startswith("TrainingDiverged: training diverged")
        # The same step and loss; the checkpoint named is its own folder's in both.
        assert packed[name].replace("/16/", "/1/") == alone[name]


def test_the_command_line_passes_max_pack_and_refuses_zero(tmp_path, monkeypatch, capsys):
    from neurodyn.cli import main

    packs = []
    original = engine.run_pack

    def spy(run_dirs, *args):
        packs.append(len(run_dirs))
        return original(run_dirs, *args)

    monkeypatch.setattr(engine, "run_pack", spy)
    path = tmp_path / "spec.toml"
    path.write_text(
        'task = "flip_flop"\nn_eval_trials = 8\n[model_config]\nn_hidden = 8\n'
        "[fit]\nn_steps = 4\nval_every = 2\nbatch_size = 8\nn_validation = 16\n"
        "[grid]\nseed = [0, 1]\n"
    )
    base = ["sweep", str(path), "--workers", "0", "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "alone"), "--max-pack", "1"]) == 0
    assert packs == []  # each run trained alone
    assert main([*base, "--out", str(tmp_path / "packed")]) == 0
    assert packs == [2]  # the default packs the two seeds
    assert main([*base, "--out", str(tmp_path / "bad"), "--max-pack", "0"]) == 2  # usage error
    assert "--max-pack: must be an integer >= 1" in capsys.readouterr().err
