"""Liquid construction, data encoding, readout and the errors for bad input."""

import logging

import numpy as np
import pytest

from neurodyn.spiking import (
    LIF,
    LogisticReadout,
    Network,
    build_liquid,
    images_to_probabilities,
    normalise_counts,
)
from neurodyn.spiking.liquid import MAASS_C


def test_liquid_structure():
    liq = build_liquid((10, 10, 10), n_inputs=50, seed=3)
    assert liq.n == 1000 and liq.n_exc == 800
    assert np.all(liq.is_exc[:800]) and not np.any(liq.is_exc[800:])
    # every grid point used once
    assert len({tuple(p) for p in liq.positions}) == 1000
    assert not np.any(liq.pre == liq.post)
    assert liq.input_pre.size == int(0.15 * 1000 * 50)
    assert len(set(zip(liq.input_pre, liq.input_post, strict=True))) == liq.input_pre.size
    assert set(np.unique(liq.input_sign)) == {-1.0, 1.0}


def test_connection_probability_follows_the_maass_rule():
    liq = build_liquid((10, 10, 10), n_inputs=1, seed=0)
    pos, e = liq.positions, liq.is_exc
    d2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    c = np.where(e[None, :], np.where(e[:, None], MAASS_C["EE"], MAASS_C["EI"]),
                 np.where(e[:, None], MAASS_C["IE"], MAASS_C["II"]))  # fmt: skip
    prob = c * np.exp(-d2 / 9.0)
    np.fill_diagonal(prob, 0.0)
    for key, (a, b) in {"EE": (1, 1), "EI": (1, 0), "IE": (0, 1), "II": (0, 0)}.items():
        block = np.ix_(e == b, e == a)  # rows post, columns pre
        expected, var = prob[block].sum(), (prob[block] * (1 - prob[block])).sum()
        hits = np.count_nonzero((e[liq.pre] == a) & (e[liq.post] == b))
        assert abs(hits - expected) < 5 * np.sqrt(var), key  # binomial sum, 5 sigma
    # the scale of models.md §3.2: ~16.7k synapses for 10x10x10
    assert 15_000 < liq.pre.size < 18_500


def test_liquid_graph():
    liq = build_liquid((4, 4, 4), n_inputs=3, seed=1)
    g = liq.to_networkx()
    assert g.number_of_nodes() == 64 and g.number_of_edges() == liq.pre.size
    node = g.nodes[5]
    assert len(node["pos"]) == 3 and node["ei"] in {"E", "I"}
    j, i = int(liq.pre[0]), int(liq.post[0])
    assert g.edges[j, i]["weight"] == (1.0 if liq.is_exc[j] else -1.0)
    assert liq.adjacency()[i, j] == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": (10, 0, 10)}, "grid"),
        ({"grid": (10, 10)}, "grid"),
        ({"grid": (2.5, 3, 3)}, "grid"),
        ({"c": {"EE": 1.5}}, "EE"),
        ({"input_density": 0.0}, "input_density"),
        ({"e_fraction": 1.0}, "e_fraction"),
        ({"lam": -1.0}, "lam"),
    ],
)
def test_liquid_bad_input(kwargs, match):
    args = {"grid": (3, 3, 3), "n_inputs": 4} | kwargs
    with pytest.raises(ValueError, match=match):
        build_liquid(**args)


def test_probability_encoding():
    imgs = np.array([[[0.0, 1.0], [1.0, 2.0]], [[4.0, 0.0], [0.0, 0.0]]])
    p, scale = images_to_probabilities(imgs)
    assert scale == 1.0 and p.shape == (2, 4)
    np.testing.assert_allclose(p, [[0.0, 0.25, 0.25, 0.5], [1.0, 0.0, 0.0, 0.0]])
    p2, _ = images_to_probabilities(imgs[:1], scale=0.5)
    np.testing.assert_allclose(p2, [[0.0, 0.5, 0.5, 1.0]])
    for bad, match in [(np.full((1, 4), np.nan), "NaN"), (-imgs, "non-negative"),
                       (np.zeros((1, 4)), "blank")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            images_to_probabilities(bad)


def test_digits_data_set():
    from neurodyn.spiking import load_digits

    x, y = load_digits()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,) and x.max() == 1.0
    assert load_digits(upsample=16)[0].shape == (1797, 16, 16)


def test_normalised_counts_and_silent_batches(caplog):
    c = np.array([[1, 3], [2, 2], [0, 0]])
    with caplog.at_level(logging.WARNING, logger="neurodyn.spiking.readout"):
        x, scale = normalise_counts(c)
    assert "1 of 3 samples produced no spikes" in caplog.text
    np.testing.assert_allclose(x, [[1 / 3, 1.0], [2 / 3, 2 / 3], [0.0, 0.0]])
    assert scale == 0.75
    with pytest.raises(ValueError, match="no features"):
        normalise_counts(np.zeros((4, 5)))


def test_logistic_readout_separates_and_soft_targets():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, (3, 5))
    y = np.repeat(np.arange(3), 40)
    x = centers[y] + rng.normal(0, 0.5, (120, 5))
    hard = LogisticReadout(l2=1e-4).fit(x, y)
    assert hard.score(x, y) == 1.0 and hard.converged_
    soft = LogisticReadout(l2=0.0, soft_targets=True).fit(x, y)
    assert soft.score(x, y) == 1.0

    # Soft targets softmax(+-1) ask for a true-class probability of e / (e + 2/e)
    # = 0.79 for 3 classes: the fitted confidence settles near it, where hard
    # targets push it towards 1.
    def p_true(r):
        logits = r.decision_function(x)
        p = np.exp(logits - logits.max(1, keepdims=True))
        return (p / p.sum(1, keepdims=True))[np.arange(y.size), y].mean()

    assert p_true(soft) == pytest.approx(np.e / (np.e + 2 / np.e), abs=0.05)
    assert p_true(hard) > 0.95
    with pytest.raises(ValueError, match="two classes"):
        LogisticReadout().fit(x, np.zeros(120))


def _tiny():
    net = Network(dt=0.5)
    net.add_source("s", 4)
    net.add_lif("n", 3, LIF())
    net.connect("s", "n", p=1.0, weight=5.0)
    return net


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda n: n.run(10.2), "multiple of dt"),
        (lambda n: n.run(10.0, rates={"s": [1.0, np.nan, 1.0, 1.0]}), "NaN"),
        (lambda n: n.run(10.0, rates={"s": np.ones(5)}), "shape"),
        (lambda n: n.run(10.0, rates={"s": np.full(4, 3000.0)}), "one spike"),
        (lambda n: n.run(10.0, rates={"n": np.ones(3)}), "not a source"),
        (lambda n: n.run(10.0, spikes={"s": np.ones((20, 3))}), "shape"),
        (lambda n: n.run(10.0, spikes={"s": np.full((20, 4), 2)}), "0/1"),
        (lambda n: n.run(10.0, backend="fortran"), "backend"),
        (lambda n: n.run(10.0, weights=np.ones(3)), "weights"),
        (lambda n: n.connect("s", "n", p=1.5, weight=1.0, name="x"), r"p must lie in \[0, 1\]"),
        (lambda n: n.connect("s", "n", p=0.5, weight=1.0, delay=0.3, name="x"), "multiple of dt"),
        # No synapse drawn: the delay is still checked as given.
        (lambda n: n.connect("s", "n", p=0.0, delay=0.3, name="x"), "multiple of dt"),
        (lambda n: n.connect("s", "n", p=0.0, delay=-1.0, name="x"), "delay must be >= 0"),
        (lambda n: n.connect("n", "s", p=0.5), "source"),
        (lambda n: n.add_lif("m", 2, LIF(t_ref=0.25)), "t_ref"),
    ],
)
def test_engine_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call(_tiny())


def test_lif_parameter_checks():
    with pytest.raises(ValueError, match="v_reset"):
        LIF(v_th=10.0, v_reset=10.0)
    with pytest.raises(ValueError, match="tau_m"):
        LIF(tau_m=0.0)
    with pytest.raises(ValueError, match="method"):
        LIF(method="rk4")
