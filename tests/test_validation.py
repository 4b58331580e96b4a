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
