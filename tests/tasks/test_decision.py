"""Perceptual and context-dependent decision making against their definitions."""

import numpy as np
import pytest

from neurodyn.tasks import ContextDecisionMaking, PerceptualDecisionMaking


def _evidence(b, task_dt):
    """Integral over the stimulus period of (right - left) evidence, per trial."""
    on = np.rint(b.periods["stimulus"][0] / task_dt).astype(int)
    off = np.rint(b.periods["stimulus"][1] / task_dt).astype(int)
    d = b.inputs[:, :, 2] - b.inputs[:, :, 1]
    return np.array([d[i, on[i] : off[i]].sum() * task_dt for i in range(b.n_trials)])


def test_evidence_statistics_do_not_depend_on_dt():
    timing = {"fixation": 100, "stimulus": 500, "decision": 200}
    c, n = 12.8, 400
    for dt in (5.0, 25.0):
        clean = PerceptualDecisionMaking(dt=dt, sigma=0.0, timing=timing)
        e = _evidence(clean.batch(4, seed=0, coherence=c, ground_truth=1), dt)
        np.testing.assert_allclose(e, c / 100 * 500, rtol=1e-5)  # float32 sums
        noisy = PerceptualDecisionMaking(dt=dt, sigma=1.0, timing=timing)
        e = _evidence(noisy.batch(n, seed=1, coherence=c, ground_truth=1), dt)
        # Mean c/100 * T; variance 2 sigma^2 T (two channels), for every dt.
        sem = np.sqrt(2 * 500 / n)
        assert abs(e.mean() - c / 100 * 500) < 4 * sem
        # Sample variance has relative sd sqrt(2 / (n - 1)) ~ 7 %; allow 4 sd.
        assert abs(e.var() / (2 * 500) - 1) < 0.3


def test_noise_free_evidence_points_to_the_ground_truth():
    task = PerceptualDecisionMaking(sigma=0.0)
    b = task.batch(64, seed=0)
    c, gt = b.variables["coherence"], b.variables["ground_truth"]
    e = _evidence(b, task.dt)
    np.testing.assert_array_equal(np.sign(e[c > 0]), gt[c > 0])
    assert set(gt) == {-1, 1}
    zero = task.batch(64, seed=0, coherence=0.0)
    assert np.all(_evidence(zero, task.dt) == 0)
    assert set(zero.variables["ground_truth"]) == {-1, 1}  # a fair coin at 0 %


def test_fixed_duration_layout():
    task = PerceptualDecisionMaking(sigma=0.0, timing={"delay": 200})
    b = task.batch(8, seed=0)
    go = np.rint(b.periods["decision"][0] / task.dt).astype(int)
    grace = int(round(100 / task.dt))
    for i in range(8):
        n = b.lengths[i]
        assert np.all(b.inputs[i, : go[i], 0] == 1) and np.all(b.inputs[i, go[i] : n, 0] == 0)
        assert np.all(b.targets[i, : go[i], 0] == 1) and np.all(b.targets[i, go[i] :, 0] == 0)
        side = 2 if b.variables["ground_truth"][i] == 1 else 1
        assert np.all(b.targets[i, go[i] : n, side] == 1)
        assert np.all(b.targets[i, :, 3 - side] == 0)
        assert np.all(b.mask[i, go[i] : go[i] + grace] == 0)
        assert np.all(b.mask[i, go[i] + grace : n] == 1) and np.all(b.mask[i, : go[i]] == 1)
        # No stimulus during the delay.
        d_on, d_off = np.rint(np.array([p[i] for p in b.periods["delay"]]) / task.dt).astype(int)
        assert np.all(b.inputs[i, d_on:d_off, 1:] == 0)


def test_reaction_time_mode():
    task = PerceptualDecisionMaking(reaction_time=True, sigma=0.0)
    b = task.batch(8, seed=0)
    assert set(b.periods) == {"fixation", "stimulus"}
    on = np.rint(b.periods["stimulus"][0] / task.dt).astype(int)
    grace = int(round(100 / task.dt))
    for i in range(8):
        assert np.all(b.inputs[i, : on[i], 0] == 1) and np.all(b.inputs[i, on[i] :, 0] == 0)
        side = 2 if b.variables["ground_truth"][i] == 1 else 1
        assert np.all(b.targets[i, on[i] :, side] == 1)
        assert np.all(b.mask[i, on[i] : on[i] + grace] == 0)
    r = task.evaluate(task.oracle(b), b)
    assert r["correct"].all()
    np.testing.assert_allclose(r["response_ms"], task.dt)  # answers on the first step


def test_evaluate_reads_choice_and_fixation():
    task = PerceptualDecisionMaking()
    b = task.batch(16, seed=0)
    out = task.oracle(b)
    gt = b.variables["ground_truth"]
    swapped = out[:, :, [0, 2, 1]]
    r = task.evaluate(swapped, b)
    np.testing.assert_array_equal(r["choice"], -gt)
    assert not r["correct"].any()
    early = out.copy()
    early[:, 0, 0] = 0.0  # fixation output drops before the go cue
    r = task.evaluate(early, b)
    assert r["broke_fixation"].all() and not r["correct"].any()
    np.testing.assert_array_equal(r["choice"], gt)
    silent = out.copy()
    silent[:, :, 1:] = 0.0
    r = task.evaluate(silent, b)
    assert np.all(r["choice"] == 0) and not r["correct"].any()


def test_context_fixation_stays_on_until_the_decision_period():
    task = ContextDecisionMaking()
    b = task.batch(16, seed=0)
    go = np.rint(b.periods["decision"][0] / task.dt).astype(int)
    delay_len = b.periods["delay"][1] - b.periods["delay"][0]
    assert np.all(delay_len >= 300)  # a real delay, so the go cue matters
    for i in range(16):
        n = b.lengths[i]
        assert np.all(b.inputs[i, : go[i], 0] == 1) and np.all(b.inputs[i, go[i] : n, 0] == 0)
        assert np.all(b.targets[i, : go[i], 0] == 1)
        ctx = b.variables["context"][i]
        assert np.all(b.inputs[i, :n, 5 + ctx] == 1) and np.all(b.inputs[i, :, 6 - ctx] == 0)


def test_context_ground_truth_follows_the_relevant_modality():
    task = ContextDecisionMaking(sigma=0.0)
    fixed = {"coherence_motion": 50.0, "coherence_color": -15.0}
    motion = task.batch(4, seed=0, context=0, **fixed)
    color = task.batch(4, seed=0, context=1, **fixed)
    assert np.all(motion.variables["ground_truth"] == 1)
    assert np.all(color.variables["ground_truth"] == -1)
    # Stimulus inputs are the same whatever the context; only the cue and answer differ.
    np.testing.assert_array_equal(motion.inputs[:, :, 1:5], color.inputs[:, :, 1:5])
    b = task.batch(64, seed=1)
    cm, cc, ctx = (b.variables[k] for k in ("coherence_motion", "coherence_color", "context"))
    relevant = np.where(ctx == 0, cm, cc)
    np.testing.assert_array_equal(b.variables["ground_truth"], np.sign(relevant))
    s = b.periods["stimulus"][0] / task.dt
    i = np.arange(64)
    mean_motion = b.inputs[i, s.astype(int), 2] - b.inputs[i, s.astype(int), 1]
    np.testing.assert_allclose(mean_motion, cm / 100, atol=1e-6)
    zero = task.batch(64, seed=0, context=0, coherence_motion=0.0)
    assert set(zero.variables["ground_truth"]) == {-1, 1}


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="coherences"):
        PerceptualDecisionMaking(coherences=[150])
    with pytest.raises(ValueError, match="coherences"):
        PerceptualDecisionMaking(coherences=[])
    with pytest.raises(ValueError, match="sigma"):
        PerceptualDecisionMaking(sigma=-1)
    with pytest.raises(ValueError, match="reaction_time"):
        PerceptualDecisionMaking(reaction_time="yes")
    with pytest.raises(ValueError, match="delay"):
        PerceptualDecisionMaking(timing={"delay": -5})
    with pytest.raises(ValueError, match="coherence"):
        PerceptualDecisionMaking().batch(1, seed=0, coherence=150)
    with pytest.raises(ValueError, match="ground_truth"):
        PerceptualDecisionMaking().batch(1, seed=0, ground_truth=0)
    with pytest.raises(ValueError, match="coherence_color"):
        ContextDecisionMaking().batch(1, seed=0, coherence_color=-101)
    with pytest.raises(ValueError, match="context"):
        ContextDecisionMaking().batch(1, seed=0, context=2)
    with pytest.raises(ValueError, match="grace_ms"):
        ContextDecisionMaking(grace_ms=-1)


def test_ideal_accuracy_is_that_of_integrating_the_relevant_evidence():
    # The ideal observer run on the task's own inputs: the sign of the relevant
    # modality's summed right-minus-left evidence over the stimulus. dt = 10 ms makes the
    # 750-ms stimulus a whole number of steps, as the closed form assumes.
    task = ContextDecisionMaking(dt=10.0, timing={"delay": 300.0})
    n = 4000
    b = task.batch(n, seed=0)
    on = np.rint(b.periods["stimulus"][0] / b.dt).astype(int)
    off = np.rint(b.periods["stimulus"][1] / b.dt).astype(int)
    names = list(task.input_names)
    correct = 0
    for i in range(n):
        m = "motion" if b.variables["context"][i] == 0 else "color"
        ev = (
            b.inputs[i, on[i] : off[i], names.index(f"{m}_right")]
            - b.inputs[i, on[i] : off[i], names.index(f"{m}_left")]
        )
        correct += np.sign(ev.sum()) == b.variables["ground_truth"][i]
    p = task.ideal_accuracy()
    # Binomial spread of the empirical accuracy; 4 standard deviations.
    assert abs(correct / n - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_ideal_accuracy_needs_a_fixed_stimulus():
    task = ContextDecisionMaking(timing={"stimulus": ("uniform", 500.0, 900.0)})
    with pytest.raises(ValueError, match="fixed duration"):
        task.ideal_accuracy()
    assert ContextDecisionMaking(sigma=0.0, coherences=(0.0, 10.0)).ideal_accuracy() == 0.75
