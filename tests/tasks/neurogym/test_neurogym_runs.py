"""Adapted NeuroGym tasks everywhere a task goes: the command line (train, tasks,
analyze), run folders that rebuild their task, simulate and netCDF, sweeps."""

import json

import numpy as np
import pytest

pytest.importorskip("neurogym")

from neurodyn import load_dataset, save_dataset, simulate
from neurodyn.cli import main
from neurodyn.io.datasets import dataset_to_batch
from neurodyn.rnn_models import RateRNN
from neurodyn.seeding import make_rng
from neurodyn.sweeps import load_spec
from neurodyn.tasks import from_neurogym, make_task

SMALL = ["--hidden", "12", "--steps", "20", "--val-every", "10", "--batch-size", "16"]


def test_train_from_the_command_line_then_analyze_and_rebuild(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--task", "neurogym:PerceptualDecisionMaking-v0", "--task-option", "dt=100",
            "--task-option", 'timing={"delay": 200}', "--task-option", "fixation_weight=0.1",
            "--out", str(out), *SMALL, "--no-progress"]  # fmt: skip
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())
    task = config["task"]
    assert task["name"] == "neurogym:PerceptualDecisionMaking-v0"
    assert task["config"]["env_kwargs"] == {"dt": 100, "timing": {"delay": 200}}
    assert task["config"]["fixation_weight"] == 0.1 and task["config"]["neurogym_version"]
    assert config["model"]["config"]["dt"] == 100
    ds = load_dataset(out / "evaluation.nc")
    assert {"ground_truth", "coh", "correct", "choice", "decision_on"} <= set(ds.coords)
    # The stored name and configuration rebuild the task: its evaluation trials again.
    rebuilt = make_task(task["name"], **task["config"])
    again = rebuilt.batch(ds.sizes["trial"], seed=make_rng(config["seed"], "eval"))
    np.testing.assert_array_equal(again.inputs, ds["inputs"].values)
    np.testing.assert_array_equal(again.targets, ds["targets"].values)
    assert main(["analyze", str(out), "--n-inits", "32", "--no-progress"]) == 0
    assert (out / "fixed_points.nc").is_file() and (out / "phase_portrait.png").is_file()


def test_task_options_for_every_task_and_their_errors(tmp_path, capsys):
    out = tmp_path / "ff"
    args = ["train", "--task", "flip_flop", "--task-option", "n_bits=2", "--dt", "10",
            "--out", str(out), *SMALL, "--steps", "2", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    task = json.loads((out / "config.json").read_text())["task"]["config"]
    assert task["n_bits"] == 2 and task["dt"] == 10
    capsys.readouterr()
    bad = [
        (["--task-option", "dt=20", "--dt", "10"], "disagree"),
        (["--task-option", "dt"], "KEY=VALUE"),
        (["--task-option", "dt=20", "--task-option", "dt=30"], "twice"),
        (["--task-option", "dt=-5"], "dt"),
    ]
    for flags, match in bad:
        args = ["train", "--task", "neurogym:GoNogo-v0", "--out", str(tmp_path / "x"), *flags]
        assert main(args) == 2
        assert match in capsys.readouterr().err
    assert main(["train", "--task", "neurogym:Bandit-v0", "--out", str(tmp_path / "x")]) == 2
    assert "no ground truth" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_tasks_lists_the_installed_neurogym_environments(capsys):
    assert main(["tasks", "--neurogym"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = {line.split()[0]: line for line in lines if line.startswith("neurogym:")}
    assert row["neurogym:PerceptualDecisionMaking-v0"].split()[1] == "yes"
    assert (
        row["neurogym:Bandit-v0"].split()[1] == "no"
        and "no ground truth" in row["neurogym:Bandit-v0"]
    )
    assert "20 rules" in row["neurogym:yang19"]
    assert main(["tasks"]) == 0
    assert "neurogym:ID" in capsys.readouterr().out


def test_simulate_and_netcdf_keep_variables_and_scores(tmp_path):
    task = from_neurogym("yang19", dt=100)
    net = RateRNN(task.n_inputs, 16, task.n_outputs, dt=100.0, seed=0)
    ds = simulate(net, task, n_trials=12, seed=3)
    assert {"rule", "rule_index", "rule1", "correct", "target_choice"} <= set(ds.coords)
    path = save_dataset(ds, tmp_path / "sim.nc")
    loaded = load_dataset(path)
    batch = dataset_to_batch(loaded)
    np.testing.assert_array_equal(batch.variables["rule"], ds["rule"].values)
    outputs = loaded["outputs"].values
    for key, value in task.evaluate(outputs, batch).items():
        np.testing.assert_array_equal(value, ds[key].values)


def test_sweep_specifications_take_neurogym_tasks():
    spec = load_spec(
        {
            "task": "neurogym:GoNogo-v0",
            "task_config": {"timing": {"delay": 300}},
            "model_config": {"n_hidden": 8},
            "grid": {"fixation_weight": [0.05, 1.0], "task_config.dt": [50, 100]},
        }
    )
    assert len(spec.points) == 4
    assert {p.run["task_config"]["dt"] for p in spec.points} == {50, 100}
    with pytest.raises(ValueError, match="no option"):
        load_spec({"task": "neurogym:GoNogo-v0", "grid": {"cohs": [[0.1], [0.5]]}})
    with pytest.raises(ValueError, match="GoNogo-v0"):
        load_spec({"task": "neurogym:GoNogo-v1"})
