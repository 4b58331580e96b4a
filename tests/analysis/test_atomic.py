"""The atomic counter that shares blocks of work among Numba's threads."""

import numba
import numpy as np
import pytest
from numba import njit, prange

from neurodyn.analysis._atomic import fetch_add


@njit(parallel=True, cache=False)
def _take_all(n, hits, taken, n_threads):
    """Every thread takes items from the counter until it runs out, counting each."""
    for _ in prange(n_threads):
        while True:
            i = fetch_add(taken, 1)
            if i >= n:
                break
            hits[i] += 1


@njit(cache=False)
def _add(counter, step):
    return fetch_add(counter, step)


def test_each_item_is_taken_exactly_once_by_the_threads():
    """Without atomicity two threads would take the same item (a count of 2) or skip
    one; each of the threads also overshoots the counter once, to see it run out."""
    n, threads = 200_000, max(2, numba.get_num_threads())
    hits, taken = np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)
    _take_all(n, hits, taken, threads)
    assert hits.min() == hits.max() == 1
    assert taken[0] == n + threads


def test_returns_the_old_value_and_adds_any_integer():
    counter = np.array([5], dtype=np.int64)
    assert _add(counter, 3) == 5 and counter[0] == 8
    assert _add(counter, np.int32(-10)) == 8 and counter[0] == -2


def test_only_an_int64_counter_is_accepted():
    with pytest.raises(numba.TypingError):
        _add(np.zeros(1), 1)
    with pytest.raises(numba.TypingError):
        _add(np.zeros(1, dtype=np.int64), 1.5)


def test_called_from_python_it_is_a_plain_add():
    """Under NUMBA_DISABLE_JIT=1 the kernels call it as Python."""
    counter = np.array([7], dtype=np.int64)
    assert fetch_add(counter, 2) == 7 and counter[0] == 9
