"""The command line, end to end at small size."""

import csv
import json
import re
import subprocess
import sys

import pytest

import neurodyn
from neurodyn import load_dataset, load_model
from neurodyn.cli import QUICKSTART, main
from neurodyn.tasks import TASKS

SMALL = ["--hidden", "12", "--steps", "20", "--val-every", "10", "--no-progress"]


def test_tasks_lists_every_task(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    for name, cls in TASKS.items():
        assert name in out and cls.description in out


def test_unknown_names_exit_2_with_a_suggestion(tmp_path, capsys):
    assert main(["train", "--task", "flip_flp", "--out", str(tmp_path / "r")]) == 2
    assert "flip_flop" in capsys.readouterr().err
    assert (
        main(["train", "--task", "flip_flop", "--model", "lstn", "--out", str(tmp_path / "r")]) == 2
    )
    assert "lstm" in capsys.readouterr().err
    assert not (tmp_path / "r").exists(), "a folder was created for a refused run"


@pytest.mark.parametrize("model", ["gru", "lstm", "rnn"])
def test_rate_options_with_another_model_are_refused_not_dropped(tmp_path, capsys, model):
    args = ["train", "--task", "flip_flop", "--model", model, "--out", str(tmp_path / "r"),
            *SMALL, "--dale", "--noise-rec", "0.1", "--tau", "50"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--tau, --dale apply to --model rate only, not to --model {model}" in err
    assert not (tmp_path / "r").exists()


def test_noise_options_reach_a_gru(tmp_path):
    out = tmp_path / "r"
    args = ["train", "--task", "flip_flop", "--model", "gru", "--out", str(out), *SMALL,
            "--noise-rec", "0.1", "--noise-in", "0.05", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    model = json.loads((out / "config.json").read_text())["model"]["config"]
    assert model["noise_rec"] == 0.1 and model["noise_in"] == 0.05 and "dale" not in model


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--dt", "-1"], "dt"),
        (["--tau", "1", "--dt", "10"], "tau"),
        (["--dale", "--e-fraction", "2"], "e_fraction"),
    ],
)
def test_bad_values_exit_2(tmp_path, capsys, flags, match):
    args = ["train", "--task", "flip_flop", "--out", str(tmp_path / "r"), *SMALL, *flags]
    assert main(args) == 2
    assert match in capsys.readouterr().err


def test_train_writes_a_run_folder_and_never_overwrites_it(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--task",
        "flip_flop",
        "--model",
        "rate",
        "--dale",
        "--train-tau",
        "--out",
        str(out),
        "--seed",
        "3",
        *SMALL,
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    for name in (
        "config.json",
        "model.npz",
        "training_log.csv",
        "evaluation.nc",
        "trials.png",
        "training_curve.png",
    ):
        assert (out / name).is_file(), name
        assert str(out / name) in printed
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 3 and config["task"]["name"] == "flip_flop"
    assert config["neurodyn_version"] == neurodyn.__version__
    net = load_model(out / "model.npz")
    assert net.n_hidden == 12 and net.dale
    ds = load_dataset(out / "evaluation.nc")
    assert ds["rates"].sizes["unit"] == 12
    rows = list(csv.DictReader((out / "training_log.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [10, 20]

    before = (out / "model.npz").read_bytes()
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 2  # finished: nothing to resume
    assert (out / "model.npz").read_bytes() == before
    assert main([*args, "--force"]) == 0


def test_unfinished_run_needs_resume(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("{}")
    args = ["train", "--task", "flip_flop", "--out", str(out), *SMALL]
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err


def test_resume_continues_an_interrupted_cli_run(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--task", "flip_flop", "--out", str(out), *SMALL]
    assert main(args) == 0
    # Make it look interrupted: the final model file was never written.
    (out / "model.npz").unlink()
    assert main([*args, "--resume"]) == 0
    assert (out / "model.npz").is_file()


def test_console_script_help():
    res = subprocess.run(
        [sys.executable, "-m", "neurodyn.cli", "train", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and "--task" in res.stdout and "--resume" in res.stdout


@pytest.mark.slow
def test_quickstart_reaches_the_target(tmp_path, capsys):
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out), "--no-progress"]) == 0
    rows = list(csv.DictReader((out / "training_log.csv").read_text().splitlines()))
    assert float(rows[-1]["val_loss"]) <= QUICKSTART["fit_config"]["target_loss"] < 0.01
    net = load_model(out / "model.npz")
    assert net.n_hidden == 64 and net.dale and net.config()["train_tau"]
    out_text = capsys.readouterr().out
    assert "Run folder" in out_text and "fixed points:" in out_text
    for name in (
        "fixed_points.nc",
        "fixed_points.png",
        "eigenvalues.png",
        "phase_portrait.png",
        "attractors.nc",
        "lyapunov.nc",
    ):
        assert (out / name).is_file(), name
    # The projected portrait (phase_portrait.png) shows the flip-flop's 27 fixed points.
    assert "27 fixed points" in out_text and "phase_portrait" in out_text
    assert "attractors reached (basin fractions): fixed point 100%" in out_text
    # `neurodyn analyze` on the same folder gives the same summary.
    assert main(["analyze", str(out), "--no-progress"]) == 0
    again = capsys.readouterr().out
    summary_line = next(line for line in out_text.splitlines() if "fixed points:" in line)
    assert summary_line in again


def test_reproduce_unknown_family_exits_2(capsys):
    assert main(["reproduce", "nalsmm"]) == 2
    assert "nalsm" in capsys.readouterr().err


def test_reproduce_families_resolve():
    import importlib

    from neurodyn.cli import REPRODUCTIONS

    for family, target in REPRODUCTIONS.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), family


def test_analyze_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a finished run folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--lr", "-1"], "--lr: must be a finite number >0, got -1"),
        (["--lr", "nan"], "--lr"),
        (["--steps", "0"], "--steps: must be an integer >= 1, got 0"),
        (["--batch-size", "0"], "--batch-size"),
        (["--val-every", "0"], "--val-every"),
        (["--hidden", "0"], "--hidden"),
        (["--hidden", "12.5"], "--hidden: expected an integer"),
        (["--target-loss", "-1"], "--target-loss"),
        (["--seed", "-1"], "--seed"),
        (["--noise-rec", "-0.1"], "--noise-rec"),
        (["--threads", "0"], "--threads"),
        (["--device", "gpu"], "--device: device must be 'auto', 'cpu'"),
        (["--hidden", "100000"], r"needs about \d+ GiB .* available on cpu"),
        (["--batch-size", "10000000"], r"needs about \d+ GiB .* x 10000000 trials"),
    ],
)
def test_every_option_is_checked_before_anything_is_written(tmp_path, capsys, flags, match):
    out = tmp_path / "r"
    args = ["train", "--task", "flip_flop", "--out", str(out), *SMALL, *flags]
    assert main(args) == 2
    assert re.search(match, capsys.readouterr().err)
    assert not out.exists(), "a refused run left a folder behind"


def test_a_corrected_command_runs_where_a_refused_one_was_tried(tmp_path, capsys):
    out = tmp_path / "r"
    base = ["train", "--task", "flip_flop", "--out", str(out), *SMALL]
    assert main([*base, "--lr", "-1"]) == 2
    assert main([*base, "--lr", "0.01"]) == 0
    assert json.loads((out / "config.json").read_text())["fit"]["lr"] == 0.01


def test_a_gru_batch_too_large_for_memory_is_refused_with_the_estimate(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["train", "--task", "perceptual_dm", "--model", "gru", "--hidden", "32",
            "--batch-size", "10000000", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "GiB of activations kept for backpropagation through" in err and "--batch-size" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "command", [["train"], ["quickstart"], ["analyze", "x"], ["reproduce", "nalsm"]]
)
def test_every_computing_command_takes_threads_and_device(command):
    res = subprocess.run(
        [sys.executable, "-m", "neurodyn.cli", command[0], "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and "--threads N" in res.stdout and "--device" in res.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--task", "flip_flop", *SMALL],
        ["quickstart", "--no-progress"],
        ["reproduce", "nalsm", "--quick", "--no-progress"],
    ],
)
def test_cuda_without_a_gpu_exits_2_before_anything_runs(tmp_path, capsys, monkeypatch, command):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "r"
    assert main([*command, "--out", str(out), "--device", "cuda"]) == 2
    assert "torch.cuda.is_available() is False" in capsys.readouterr().err
    assert not out.exists()


def test_threads_option_sets_the_count_and_restores_it(tmp_path, monkeypatch):
    import torch

    import neurodyn.threads as nt

    seen = []
    choose = nt.choose

    def record(*a, **k):
        choice = choose(*a, **k)
        seen.append(choice.threads)
        return choice

    monkeypatch.setattr(nt, "choose", record)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        args = ["train", "--task", "flip_flop", "--out", str(tmp_path / "r"), *SMALL]
        assert main([*args, "--threads", "2"]) == 0
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {2}, seen


def test_a_low_rank_network_trains_with_its_rank_and_refuses_options_it_has_not(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["train", "--task", "flip_flop", "--model", "low_rank", "--rank", "2", "--out",
            str(out), *SMALL, "--tau", "50", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    model = json.loads((out / "config.json").read_text())["model"]
    assert model["kind"] == "low_rank"
    assert model["config"]["rank"] == 2 and model["config"]["tau"] == 50.0
    bad = ["train", "--task", "flip_flop", "--model", "low_rank", "--out", str(tmp_path / "b"),
           *SMALL, "--train-tau", "--spectral-radius", "2"]  # fmt: skip
    assert main(bad) == 2
    assert "--train-tau, --spectral-radius do not apply to --model low_rank" in (
        capsys.readouterr().err
    )
    gru = ["train", "--task", "flip_flop", "--model", "gru", "--rank", "2", "--out",
           str(tmp_path / "g"), *SMALL]  # fmt: skip
    assert main(gru) == 2
    assert "--rank applies to --model low_rank only" in capsys.readouterr().err
    assert not (tmp_path / "b").exists() and not (tmp_path / "g").exists()
