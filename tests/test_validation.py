"""The shared argument checks, and the public arguments that go through check_int."""

import numpy as np
import pytest

from neurodyn._validation import check_int, check_int_tuple, check_interval
from neurodyn.tasks import FlipFlop
from neurodyn.train import Stage


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_check_int_accepts_integers_and_returns_python_ints(value):
    out = check_int("n", value)
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, -2, True, False, 2.0, 2.5, float("nan"), "3", None])
def test_check_int_refuses_what_is_not_an_integer_at_least_low(value):
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1, got "):
        check_int("n", value)


def test_check_int_lower_bound():
    assert check_int("k", 0, low=0) == 0
    with pytest.raises(ValueError, match="k must be an integer >= 4, got 3"):
        check_int("k", 3, low=4)


def test_stage_max_steps_is_an_integer_or_none():
    task = FlipFlop(dt=10.0)
    assert Stage(task, max_steps=None).max_steps is None
    assert Stage(task, max_steps=np.int64(5)).max_steps == 5
    for bad in (2.5, float("inf"), True, 0):
        with pytest.raises(ValueError, match="max_steps must be an integer >= 1"):
            Stage(task, max_steps=bad)


def test_check_interval():
    assert check_interval("xlim", [-1, 2.5]) == (-1.0, 2.5)
    for bad, why in (((1.0, 1.0), "low < high"), ((0.0, np.inf), "low < high"),
                     ((2.0, 1.0), "low < high"), (3.0, r"\(low, high\), got"),
                     ((1.0, 2.0, 3.0), r"\(low, high\), got")):  # fmt: skip
        with pytest.raises(ValueError, match=rf"^xlim must be {why}" if "got" in why else why):
            check_interval("xlim", bad)


def test_check_int_tuple():
    assert check_int_tuple("ns", [2, np.int64(5)], low=2) == (2, 5)
    for bad in ([], 3, "23", [2, 1], [2, True], [2, 3.0]):
        with pytest.raises(ValueError, match="ns must be a non-empty sequence of integers"):
            check_int_tuple("ns", bad, low=2)


# -- simulate, fit and run folders: refused before anything runs or is written ---------------
def _net():
    from neurodyn.rnn_models import RateRNN

    return RateRNN(3, 8, 3, dt=10.0, seed=0)


@pytest.mark.parametrize("trials", [np.zeros((2, 5, 3), dtype=np.float32), [[0.0]], "flip_flop"])
def test_simulate_says_what_it_expects_instead_of_an_array(trials):
    from neurodyn import simulate

    with pytest.raises(ValueError, match=r"^trials must be a Task .* or a Batch .*, got "):
        simulate(_net(), trials)


def test_simulate_points_an_array_to_the_model_itself():
    import torch

    from neurodyn import simulate

    with pytest.raises(ValueError, match=r"numpy.ndarray; to run the network on an input array"):
        simulate(_net(), np.zeros((2, 5, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"torch.Tensor; to run the network"):
        simulate(_net(), torch.zeros(2, 5, 3))


@pytest.mark.parametrize(
    ("kw", "match"), [({"threads": 0}, "threads"), ({"device": "gpu"}, "device")]
)
def test_simulate_checks_threads_and_device(kw, match):
    from neurodyn import simulate

    with pytest.raises(ValueError, match=match):
        simulate(_net(), FlipFlop(dt=10.0), n_trials=2, **kw)


def test_check_fit_config_names_unknown_and_bad_settings():
    from neurodyn.train import check_fit_config

    full = check_fit_config({"lr": 0.5})
    assert full["lr"] == 0.5 and full["batch_size"] == 64 and full["device"] == "auto"
    with pytest.raises(ValueError, match=r"fit argument='lrr'.*Did you mean 'lr'"):
        check_fit_config({"lrr": 0.1})
    for bad, match in (
        ({"lr": -1}, "lr"),
        ({"n_steps": 0}, "n_steps"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"loss": "hinge"}, "loss"),
        ({"optimizer": "sgd", "momentum": 1.0}, "momentum"),
        ({"target_loss": float("nan")}, "target_loss"),
        ({"threads": -2}, "threads"),
        ({"device": "quantum"}, "device"),
    ):
        with pytest.raises(ValueError, match=match):
            check_fit_config(bad)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"fit_config": {"lr": -1.0}}, "lr"),
        ({"fit_config": {"n_steps": 0}}, "n_steps"),
        ({"fit_config": {"device": "cpu"}}, "fit_config must not set 'device'"),
        ({"device": "cuda:7"}, "device"),
        ({"threads": 0}, "threads"),
        ({"n_eval_trials": 0}, "n_eval_trials"),
        ({"model_config": {"n_hidden": 100_000}}, r"needs about .* GiB"),
    ],
)
def test_train_run_refuses_bad_settings_before_creating_the_folder(
    tmp_path, monkeypatch, kw, match
):
    import torch

    from neurodyn.run_folders import train_run

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=match):
        train_run(out, progress=False, **kw)
    assert not out.exists()
