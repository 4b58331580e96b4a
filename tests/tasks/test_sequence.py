"""Copy and adding problems against their definitions."""

import numpy as np
import pytest

from neurodyn.tasks import Adding, Copy


def test_copy_layout_and_recall():
    delay, n_tok, n_sym = 7, 10, 8
    b = Copy(delay=delay).batch(32, seed=0)
    assert np.all(b.lengths == n_tok + delay + 1 + n_tok)
    u, y = b.inputs, b.targets
    blank_in, delim = n_sym, n_sym + 1
    # Tokens, then blanks, then one delimiter, then blanks while recalling.
    assert np.all(u[:, :n_tok, :n_sym].sum(-1) == 1)
    assert np.all(u[:, n_tok : n_tok + delay, blank_in] == 1)
    assert np.all(u[:, n_tok + delay, delim] == 1)
    assert np.all(u[:, n_tok + delay + 1 :, blank_in] == 1)
    assert np.all(u.sum(-1) == 1)
    # The recalled symbols are the presented ones, in order; blank before.
    shown = np.argmax(u[:, :n_tok, :n_sym], axis=-1)
    recalled = np.argmax(y[:, -n_tok:], axis=-1)
    np.testing.assert_array_equal(recalled, shown)
    assert np.all(y[:, : n_tok + delay + 1, n_sym] == 1)
    tokens = np.array([[int(c) for c in s] for s in b.variables["tokens"]])
    np.testing.assert_array_equal(tokens, shown)
    assert np.all(b.mask == 1)


def test_copy_fixed_tokens_zero_delay_and_recall_mask():
    task = Copy(delay=0, loss_window="recall")
    b = task.batch(2, seed=0, tokens="0123456701")
    np.testing.assert_array_equal(np.argmax(b.targets[0, -10:], -1), [0, 1, 2, 3, 4, 5, 6, 7, 0, 1])
    assert np.all(b.mask[:, :11] == 0) and np.all(b.mask[:, 11:] == 1)
    assert task.evaluate(task.oracle(b), b)["correct"].all()
    fine = Copy(delay=3, dt=0.5)
    bf = fine.batch(4, seed=0)
    assert np.all(bf.lengths == 2 * (10 + 3 + 1 + 10))
    assert fine.evaluate(fine.oracle(bf), bf)["correct"].all()


def test_copy_evaluate_counts_recall_errors():
    task = Copy(delay=5)
    b = task.batch(4, seed=1)
    out = task.oracle(b)
    out[0, -1] = np.roll(out[0, -1], 1)  # one wrong symbol in trial 0
    r = task.evaluate(out, b)
    np.testing.assert_array_equal(r["correct"], [False, True, True, True])
    np.testing.assert_allclose(r["recall_accuracy"], [0.9, 1, 1, 1])


def test_adding_target_is_the_sum_of_the_marked_values():
    length = 50
    b = Adding(length=length).batch(64, seed=0)
    value, marker = b.inputs[:, :, 0], b.inputs[:, :, 1]
    assert np.all(marker.sum(1) == 2)
    first, second = np.argmax(marker[:, : length // 2], 1), np.argmax(marker[:, length // 2 :], 1)
    assert np.all(marker[:, : length // 2].sum(1) == 1)  # one marker in each half
    np.testing.assert_array_equal(first, b.variables["first"])
    np.testing.assert_array_equal(second + length // 2, b.variables["second"])
    expected = (value * marker).sum(1)
    np.testing.assert_allclose(b.targets[:, -1, 0], expected, rtol=1e-6)
    assert np.all((value >= 0) & (value <= 1))
    assert np.all(b.mask[:, :-1] == 0) and np.all(b.mask[:, -1] == 1)


def test_adding_tolerance_and_fine_dt():
    task = Adding(length=20, tolerance=0.04)
    b = task.batch(8, seed=0)
    assert task.evaluate(b.targets + 0.03, b)["correct"].all()
    assert not task.evaluate(b.targets + 0.05, b)["correct"].any()
    fine = Adding(length=20, dt=0.5)
    bf = fine.batch(8, seed=0)
    assert np.all(bf.lengths == 40)
    assert fine.evaluate(fine.oracle(bf), bf)["correct"].all()


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="n_symbols"):
        Copy(n_symbols=0)
    with pytest.raises(ValueError, match="delay"):
        Copy(delay=-1)
    with pytest.raises(ValueError, match="loss_window"):
        Copy(loss_window="all")
    with pytest.raises(ValueError, match="tokens"):
        Copy().batch(1, seed=0, tokens="0123")
    with pytest.raises(ValueError, match="tokens"):
        Copy().batch(1, seed=0, tokens="012345678a")
    with pytest.raises(ValueError, match="length"):
        Adding(length=1)
    with pytest.raises(ValueError, match="first"):
        Adding(length=10).batch(1, seed=0, first=12)
    with pytest.raises(ValueError, match="dt"):
        Adding(dt=2.0)
