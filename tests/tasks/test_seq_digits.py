"""The sequential-digits task (the generic task contract is in tests/tasks/test_registry.py)."""

import numpy as np
import pytest

from neurodyn.tasks import SequentialDigits, make_task
from neurodyn.tasks.digits import digit_permutation


def test_splits_are_disjoint_stratified_and_deterministic():
    train, test = SequentialDigits(split="train"), SequentialDigits(split="test")
    everything = SequentialDigits(split="all")
    assert np.intersect1d(train.indices, test.indices).size == 0
    np.testing.assert_array_equal(np.union1d(train.indices, test.indices), everything.indices)
    assert everything.indices.size == 1797
    _, y_all = everything.arrays()
    _, y_test = test.arrays()
    # Each class contributes round(0.25 * its count) images to the test split.
    for c in range(10):
        assert np.sum(y_test == c) == round(0.25 * np.sum(y_all == c))
    np.testing.assert_array_equal(SequentialDigits(split="test").indices, test.indices)
    other = SequentialDigits(split="test", split_seed=1).indices
    assert not np.array_equal(other, test.indices)


def test_pixel_and_row_sequences_show_the_image():
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    task = SequentialDigits(split="all")
    b = task.batch(3, seed=0, index=[0, 5, 100])
    assert b.inputs.shape == (3, 64, 1)
    np.testing.assert_allclose(b.inputs[1, :, 0], images[5].ravel(), rtol=1e-6)
    rows = SequentialDigits(split="all", per_step="row").batch(1, seed=0, index=7)
    np.testing.assert_allclose(rows.inputs[0], images[7], rtol=1e-6)
    assert b.variables["label"].tolist() == load_digits().target[[0, 5, 100]].tolist()
    # Target and mask on the last step only.
    assert np.all(b.mask[:, :-1] == 0) and np.all(b.mask[:, -1] == 1)
    assert np.argmax(b.targets[2, -1]) == b.variables["label"][2]


def test_permutation_is_fixed_by_its_seed():
    perm = digit_permutation(3)
    np.testing.assert_array_equal(perm, digit_permutation(3))
    assert sorted(perm) == list(range(64)) and not np.array_equal(perm, digit_permutation(4))
    plain = SequentialDigits(split="all").batch(1, seed=0, index=9).inputs[0, :, 0]
    shuffled = SequentialDigits(split="all", permuted=True, permutation_seed=3)
    np.testing.assert_array_equal(shuffled.batch(1, seed=0, index=9).inputs[0, :, 0], plain[perm])


def test_arrays_and_full_batch_agree_with_trials():
    task = SequentialDigits(split="test", per_step="row", permuted=True)
    x, y = task.arrays()
    full = task.full_batch()
    assert x.shape == (450, 8, 8) and x.dtype == np.float32 and y.shape == (450,)
    np.testing.assert_array_equal(full.inputs, x)
    np.testing.assert_array_equal(full.variables["label"], y)
    one = task.batch(1, seed=0, index=int(task.indices[17]))
    np.testing.assert_array_equal(one.inputs[0], x[17])
    assert task.evaluate(task.oracle(full), full)["correct"].all()


def test_accuracy_of_a_guess():
    task = SequentialDigits(split="test")
    b = task.full_batch()
    out = np.zeros_like(b.targets)
    out[:, -1, 3] = 1.0  # always "3"
    acc = task.evaluate(out, b)["correct"].mean()
    assert acc == pytest.approx(np.mean(b.variables["label"] == 3))


def test_bad_parameters_and_indices_name_the_argument():
    with pytest.raises(ValueError, match="per_step='column'"):
        SequentialDigits(per_step="column")
    with pytest.raises(ValueError, match="split='validation'"):
        SequentialDigits(split="validation")
    with pytest.raises(ValueError, match="test_fraction must lie in"):
        SequentialDigits(test_fraction=1.0)
    with pytest.raises(ValueError, match="permutation_seed"):
        SequentialDigits(permutation_seed=-1)
    test = SequentialDigits(split="test")
    train_index = int(SequentialDigits(split="train").indices[0])
    with pytest.raises(ValueError, match="not an image of the 'test' split"):
        test.batch(1, seed=0, index=train_index)
    assert make_task("seq_digits").n_inputs == 1
