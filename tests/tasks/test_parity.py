"""N-parity and N-DMS against labels computed directly from the bits."""

import numpy as np
import pytest

from neurodyn.tasks import NDelayedMatch, NParity


def _bits_and_labels(b):
    """Bits of each trial (dt = 1) and the class read from the last-step target."""
    rows = np.arange(b.n_trials)
    labels = np.argmax(b.targets[rows, b.lengths - 1], axis=-1)
    bits = [b.inputs[i, : b.lengths[i], 0].astype(int) for i in range(b.n_trials)]
    return bits, labels


@pytest.mark.parametrize("n", [2, 3, 5])
def test_ndms_compares_bits_n_minus_1_apart(n):
    b = NDelayedMatch(n=n).batch(200, seed=n)
    bits, labels = _bits_and_labels(b)
    lag_n_minus_1 = np.array([int(x[-1] == x[-1 - (n - 1)]) for x in bits])
    lag_n = np.array([int(x[-1] == x[-1 - n]) for x in bits])
    np.testing.assert_array_equal(labels, lag_n_minus_1)
    np.testing.assert_array_equal(b.variables["label"], lag_n_minus_1)
    # The test can tell the two conventions apart on this batch.
    assert np.any(lag_n != lag_n_minus_1)
    # Balanced bits: both classes are common.
    assert 0.3 < labels.mean() < 0.7


@pytest.mark.parametrize("n", [1, 2, 4])
def test_parity_is_the_sum_of_the_last_n_bits_mod_2(n):
    b = NParity(n=n).batch(200, seed=n)
    bits, labels = _bits_and_labels(b)
    expected = np.array([x[len(x) - n :].sum() % 2 for x in bits])
    np.testing.assert_array_equal(labels, expected)
    assert 0.2 < labels.mean() < 0.8


def test_parity_bit_rate_is_per_sequence():
    task = NParity(n=3)
    b0 = task.batch(8, seed=0, p=0.0)
    assert np.all(b0.inputs == 0) and np.all(b0.variables["label"] == 0)
    b1 = task.batch(8, seed=0, p=1.0, seq_len=10)
    assert np.all(b1.inputs == 1) and np.all(b1.variables["label"] == 1)  # 3 ones: odd
    # Unbalanced streams: the fraction of ones varies a lot between sequences.
    b = task.batch(200, seed=1)
    frac = b.inputs[:, :, 0].sum(1) / b.lengths
    assert np.corrcoef(frac, b.variables["p"])[0, 1] > 0.8
    assert frac.std() > 0.2


@pytest.mark.parametrize("cls", [NParity, NDelayedMatch])
def test_one_length_per_batch_in_the_paper_range(cls):
    n = 4
    task = cls(n=n)
    lengths = set()
    for seed in range(40):
        b = task.batch(8, seed=seed)
        assert len(set(b.lengths)) == 1
        assert np.all(b.variables["seq_len"] == b.lengths)
        lengths.add(int(b.lengths[0]))
    # randint(N + 2, 4N + 2): from N + 2 to 4N + 1 inclusive.
    assert min(lengths) >= n + 2 and max(lengths) <= 4 * n + 1
    assert len(lengths) > 5
    per_trial = cls(n=n, same_length=False).batch(64, seed=0)
    assert len(set(per_trial.lengths)) > 1
    assert per_trial.lengths.min() >= n + 2 and per_trial.lengths.max() <= 4 * n + 1


@pytest.mark.parametrize("cls", [NParity, NDelayedMatch])
def test_mask_scores_only_the_last_step(cls):
    b = cls(n=3).batch(16, seed=0, seq_len=[5 + i for i in range(16)])
    np.testing.assert_array_equal(b.lengths, 5 + np.arange(16))
    expected = np.zeros(b.mask.shape[:2])
    expected[np.arange(16), b.lengths - 1] = 1
    np.testing.assert_array_equal(b.mask[:, :, 0], expected)
    np.testing.assert_array_equal(b.mask[:, :, 1], expected)


@pytest.mark.parametrize("cls", [NParity, NDelayedMatch])
def test_dt_below_one_repeats_each_bit(cls):
    coarse = cls(n=3).batch(8, seed=0)
    fine = cls(n=3, dt=0.25).batch(8, seed=0)
    np.testing.assert_array_equal(fine.lengths, 4 * coarse.lengths)
    np.testing.assert_array_equal(fine.inputs[:, ::4], coarse.inputs)
    np.testing.assert_array_equal(fine.variables["label"], coarse.variables["label"])
    task = cls(n=3, dt=0.25)
    assert task.evaluate(task.oracle(fine), fine)["correct"].all()


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="n must"):
        NDelayedMatch(n=1)
    with pytest.raises(ValueError, match="n must"):
        NParity(n=0)
    with pytest.raises(ValueError, match="dt"):
        NParity(dt=0.3)
    with pytest.raises(ValueError, match="same_length"):
        NParity(same_length="yes")
    with pytest.raises(ValueError, match="seq_len"):
        NParity(n=5).batch(2, seed=0, seq_len=3)
    with pytest.raises(ValueError, match="p must"):
        NParity().batch(2, seed=0, p=1.5)


# -- multi-head form ------------------------------------------------------------------------
def _last(b, channels):
    rows = np.arange(b.n_trials)
    return b.targets[rows, b.lengths - 1][:, channels], b.mask[rows, b.lengths - 1][:, channels]


@pytest.mark.parametrize("cls", [NParity, NDelayedMatch])
def test_multi_head_labels_each_n_on_its_own_head(cls):
    ns, heads = [2, 3, 5], [4, 0, 2]
    task = cls(ns=ns, heads=heads, n_heads=6)
    assert task.n_outputs == 12 and task.output_names[8:10] == ("head4_class0", "head4_class1")
    assert task.output_groups == ((8, 9), (0, 1), (4, 5))
    b = task.batch(300, seed=0)
    bits = [b.inputs[i, : b.lengths[i], 0].astype(int) for i in range(b.n_trials)]
    for n, h in zip(ns, heads, strict=True):
        if cls is NParity:
            expected = np.array([x[len(x) - n :].sum() % 2 for x in bits])
        else:  # N-DMS compares bits N - 1 apart in the multi-head form too
            expected = np.array([int(x[-1] == x[-n]) for x in bits])
        targets, mask = _last(b, [2 * h, 2 * h + 1])
        np.testing.assert_array_equal(np.argmax(targets, axis=1), expected)
        np.testing.assert_array_equal(b.variables[f"label_n{n}"], expected)
        assert np.all(mask == 1)
    # Unscored heads carry no target and no loss anywhere.
    for h in (1, 3, 5):
        assert np.all(b.mask[:, :, 2 * h : 2 * h + 2] == 0)
        assert np.all(b.targets[:, :, 2 * h : 2 * h + 2] == 0)
    # Only the last step is scored.
    assert b.mask.sum() == b.n_trials * 2 * len(ns)


def test_multi_head_sequence_lengths_follow_the_largest_n():
    lengths = {int(NParity(ns=[2, 3, 7]).batch(4, seed=s).lengths[0]) for s in range(60)}
    assert min(lengths) >= 7 + 2 and max(lengths) <= 4 * 7 + 1 and len(lengths) > 8
    with pytest.raises(ValueError, match="seq_len"):
        NParity(ns=[2, 7]).batch(2, seed=0, seq_len=6)


def test_multi_head_evaluate_scores_every_head_and_their_mean():
    task = NParity(ns=[2, 3], heads=[1, 0], n_heads=2)
    b = task.batch(64, seed=1)
    perfect = task.oracle(b)
    r = task.evaluate(perfect, b)
    assert r["correct"].all() and r["correct_n2"].all() and r["correct_n3"].all()
    assert np.all(r["mean_correct"] == 1.0)
    # Flip head 0 (N = 3) only: N = 2 stays right, N = 3 is all wrong, the mean halves.
    wrong = perfect.copy()
    wrong[..., [0, 1]] = wrong[..., [1, 0]]
    r = task.evaluate(wrong, b)
    assert r["correct_n2"].all() and not r["correct_n3"].any() and not r["correct"].any()
    np.testing.assert_array_equal(r["mean_correct"], 0.5)
    assert r["choice_n3"].dtype.kind == "i"


def test_length_block_shares_one_length_per_block():
    b = NParity(ns=[2, 3], length_block=8).batch(32, seed=0)
    blocks = b.lengths.reshape(4, 8)
    assert np.all(blocks == blocks[:, :1])
    assert len(set(blocks[:, 0])) > 1
    assert len(set(NParity(ns=[2, 3]).batch(32, seed=0).lengths)) == 1


def test_multi_head_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="ns must"):
        NParity(ns=[1, 2])
    with pytest.raises(ValueError, match="ns must"):
        NDelayedMatch(ns=[])
    with pytest.raises(ValueError, match="ns must not repeat"):
        NParity(ns=[2, 2])
    with pytest.raises(ValueError, match=r"heads .* beyond the n_heads=2"):
        NParity(ns=[2, 3], heads=[0, 2], n_heads=2)
    with pytest.raises(ValueError, match="heads must be distinct"):
        NParity(ns=[2, 3], heads=[1, 1])
    with pytest.raises(ValueError, match="heads must give one head per N"):
        NParity(ns=[2, 3], heads=[0])
    with pytest.raises(ValueError, match="either n"):
        NParity(n=3, ns=[2, 3])
    with pytest.raises(ValueError, match="n_heads needs the multi-head form"):
        NParity(n=3, n_heads=4)
    with pytest.raises(ValueError, match="length_block"):
        NParity(ns=[2], length_block=0)
