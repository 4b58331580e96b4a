"""The NeuroGym adapter checked against NeuroGym itself.

Inputs and targets are the environment's ``ob`` and ``gt`` of the same trial; the
loss mask gives NeuroGym's yang19 example's weighted cross-entropy; ``evaluate``
agrees with the environments' own ``step()`` verdicts; batches are bit-identical for
a seed also when the environment draws from NumPy's and Python's global random state
or from a generator of its own; configurations rebuild the same task.
"""

import json
import random
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("neurogym")

import neurogym
from neurogym.core import TrialEnv
from neurogym.utils import spaces
from neurogym.utils.ngym_random import TruncExp
from neurogym.wrappers import Noise, TrialHistoryV2
from neurogym.wrappers.block import MultiEnvs

from neurodyn.tasks import from_neurogym, make_task
from neurodyn.tasks.neurogym_adapter.trials import flatten_variables
from neurodyn.train import masked_cross_entropy


def _same(a, b) -> bool:
    if a.inputs.shape != b.inputs.shape:
        return False
    same = all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("inputs", "targets", "mask"))
    return (
        same
        and a.variables.keys() == b.variables.keys()
        and all(
            np.array_equal(v, b.variables[k], equal_nan=v.dtype.kind == "f")
            for k, v in a.variables.items()
        )
    )


def _top(env):
    """NeuroGym's trial-level object: where new_trial() is called."""
    return env.unwrapped._top


# -- the same trials as NeuroGym's ----------------------------------------------------
@pytest.mark.parametrize(
    "env_id",
    ["PerceptualDecisionMaking-v0", "DelayPairedAssociation-v0", "ReachingDelayResponse-v0",
     "yang19.dms-v0", "yang19"],
)  # fmt: skip
def test_inputs_targets_and_periods_are_the_environments_own(env_id):
    task = from_neurogym(env_id)
    b = task.batch(6, seed=11)
    with task.environment(seed=11) as env:
        top = _top(env)
        for i in range(6):
            trial = top.new_trial()
            unit = top.unwrapped
            n = int(b.lengths[i])
            assert n == unit.ob.shape[0], "a trial was cut or padded inside"
            np.testing.assert_array_equal(b.inputs[i, :n], unit.ob)
            if task.loss == "cross_entropy":
                np.testing.assert_array_equal(b.targets[i, :n].argmax(-1), unit.gt)
            else:
                np.testing.assert_array_equal(b.targets[i, :n], unit.gt)
            for p in unit.start_ind:
                assert b.periods[p][0][i] == unit.start_ind[p] * task.dt
                assert b.periods[p][1][i] == unit.end_ind[p] * task.dt
            for k, v in trial.items():
                if np.ndim(v) == 0 and f"env_{k}" not in b.variables:
                    # text where other sub-environments' values of it are text
                    text = b.variables[k].dtype.kind == "U"
                    assert b.variables[k][i] == (str(v) if text else v), k


def _verdicts(task, seed, actions, n):
    """NeuroGym's performance of each trial when its step() gets ``actions``."""
    out = []
    for i in range(n):
        with task.environment(seed) as env:
            top = _top(env)
            for _ in range(i + 1):
                top.new_trial()
            unit = top.unwrapped
            unit.t = unit.t_ind = 0
            performance = None
            for t in range(unit.ob.shape[0]):
                info = top.step(int(actions[i, t]))[-1]
                if info.get("new_trial"):
                    performance = info["performance"]
                    break
            out.append(performance == 1)
    return np.array(out)


#: Environments whose step() scores the first response against gt (PostDecisionWager
#: compares the action with ground_truth's index, not with gt; yang19's match tasks
#: never credit a withheld response, so they are left out).
STEP_SCORED = [
    "PerceptualDecisionMaking-v0", "ContextDecisionMaking-v0", "DelayMatchSample-v0",
    "DelayComparison-v0", "DelayMatchCategory-v0", "MultiSensoryIntegration-v0",
    "IntervalDiscrimination-v0", "GoNogo-v0", "yang19.dm1-v0", "yang19.go-v0",
]  # fmt: skip


@pytest.mark.parametrize("env_id", STEP_SCORED)
def test_evaluate_agrees_with_the_environments_step(env_id):
    task = from_neurogym(env_id)
    n = 6
    b = task.batch(n, seed=2)
    labels = b.targets.argmax(-1)
    n_actions = task.n_outputs
    policies = {
        "oracle": labels,
        "another choice": np.where(labels != 0, labels % (n_actions - 1) + 1, labels),
        "silent": np.zeros_like(labels),
    }
    outcomes = set()
    for actions in policies.values():
        ours = task.evaluate(np.eye(n_actions, dtype=np.float32)[actions], b)["correct"]
        np.testing.assert_array_equal(ours, _verdicts(task, 2, actions, n))
        outcomes |= set(ours.tolist())
    assert outcomes == {True, False}


# -- the loss mask --------------------------------------------------------------------
def test_mask_gives_the_weighted_cross_entropy_of_neurogyms_yang19_example():
    # docs/examples/yang19.ipynb: CrossEntropyLoss(weight=[0.05, 1, ..., 1]) on gt. In
    # PerceptualDecisionMaking the fixation action is the target exactly outside the
    # decision period, so class weights and step weights coincide.
    task = from_neurogym("PerceptualDecisionMaking-v0", dt=100, timing={"delay": 300})
    b = task.batch(16, seed=3)
    logits = torch.randn(b.targets.shape, generator=torch.Generator().manual_seed(0))
    ours = masked_cross_entropy(logits, torch.as_tensor(b.targets), torch.as_tensor(b.mask))
    valid = torch.as_tensor(b.valid())
    labels = torch.as_tensor(b.targets.argmax(-1))
    weight = torch.tensor([0.05, 1.0, 1.0])
    ref = torch.nn.CrossEntropyLoss(weight=weight)(logits[valid], labels[valid])
    # float32 sums over ~1000 steps: relative rounding ~1e-6
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=0)
    flat = from_neurogym("PerceptualDecisionMaking-v0", dt=100, fixation_weight=1.0)
    bf = flat.batch(16, seed=3)
    logits = torch.randn(bf.targets.shape, generator=torch.Generator().manual_seed(1))
    ours = masked_cross_entropy(logits, torch.as_tensor(bf.targets), torch.as_tensor(bf.mask))
    valid, labels = torch.as_tensor(bf.valid()), torch.as_tensor(bf.targets.argmax(-1))
    ref = torch.nn.CrossEntropyLoss()(logits[valid], labels[valid])  # the unweighted example
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=0)


def test_without_fixation_only_the_decision_is_scored():
    scored = from_neurogym("DelayMatchSample-v0")
    free = from_neurogym("DelayMatchSample-v0", fixation=False)
    b, bf = scored.batch(8, seed=4), free.batch(8, seed=4)
    np.testing.assert_array_equal(b.inputs, bf.inputs)
    decision = (bf.mask == 1.0).all(-1)
    np.testing.assert_array_equal(decision, (b.mask == 1.0).all(-1))
    assert np.all(bf.mask[~decision] == 0)
    # Responding (the right answer) during the sample period breaks fixation only
    # where fixation is scored.
    early = scored.oracle(b)
    on, off = (np.rint(x / b.dt).astype(int) for x in b.periods["sample"])
    for i in range(8):
        early[i, on[i] : off[i]] = np.eye(3)[b.targets[i, -1].argmax()]
    r, rf = scored.evaluate(early, b), free.evaluate(early, bf)
    assert r["broke_fixation"].all() and not r["correct"].any()
    assert rf["correct"].all() and not rf["broke_fixation"].any()


# -- reproducibility --------------------------------------------------------------------
class GlobalStateDecision(TrialEnv):
    """Two-choice trials drawn from NumPy's and Python's global random state."""

    metadata = {"paper_name": None, "paper_link": None, "tags": []}

    def __init__(self, dt=100):
        super().__init__(dt=dt)
        self.timing = {"fixation": 200, "stimulus": 500, "decision": 200}
        names = {"fixation": 0, "stimulus": [1, 2]}
        self.observation_space = spaces.Box(
            -np.inf, np.inf, shape=(3,), dtype=np.float32, name=names
        )
        self.action_space = spaces.Discrete(3, name={"fixation": 0, "choice": [1, 2]})

    def _new_trial(self, **kwargs):
        # Deliberately the global streams, which TrialEnv.seed does not reach.
        trial = {"ground_truth": random.choice([0, 1]), "coherence": float(np.random.rand())}  # noqa: NPY002
        trial.update(kwargs)
        self.add_period(["fixation", "stimulus"])
        self.add_period("delay", duration=random.choice([100, 300]), after="stimulus")
        self.add_period("decision", after="delay")
        self.add_ob(1, period=["fixation", "stimulus", "delay"], where="fixation")
        c = trial["coherence"]
        self.add_ob(np.array([1 - c, c], dtype=np.float32), "stimulus", where="stimulus")
        view = self.view_ob("stimulus")
        view[:, 1:] += np.random.standard_normal((view.shape[0], 2)).astype(np.float32)  # noqa: NPY002
        self.set_groundtruth(trial["ground_truth"], period="decision", where="choice")
        return trial

    def _step(self, action):
        return self.ob_now, 0.0, False, False, {"new_trial": False, "gt": self.gt_now}


def test_environments_drawing_from_global_random_state_are_reproducible():
    env = GlobalStateDecision()
    env.seed(0)
    env.new_trial()
    first = env.ob.copy()
    env.seed(0)
    env.new_trial()
    assert not np.array_equal(first, env.ob), "the environment does not use the global state"

    task = from_neurogym(GlobalStateDecision())
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    a = task.batch(16, seed=5)
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(x, y) for x, y in zip(numpy_state, after, strict=True))
    assert random.getstate() == python_state, "the caller's global state was changed"
    assert _same(a, task.batch(16, seed=5))
    assert not _same(a, task.batch(16, seed=6))
    assert len(set(a.lengths.tolist())) == 2  # trials of two lengths, padded, not cut
    assert task.evaluate(task.oracle(a), a)["correct"].all()
    config = task.config()
    assert config["env_id"] is None and config["env_class"].endswith("GlobalStateDecision")
    with pytest.raises(ValueError, match="cannot be rebuilt by name"):
        make_task(task.name, **config)


def test_generators_of_the_environment_are_seeded_too():
    # AnnubesEnv draws from a numpy Generator of its own (self._rng), seeded from OS
    # entropy at construction: two tasks built apart still give the same batches.
    kwargs = {"session": {"v": 0.5, "a": 0.5}, "catch_prob": 0.3}
    one, two = from_neurogym("AnnubesEnv-v0", **kwargs), from_neurogym("AnnubesEnv-v0", **kwargs)
    assert _same(one.batch(12, seed=8), two.batch(12, seed=8))
    assert not _same(one.batch(12, seed=8), one.batch(12, seed=9))


# -- configuration, variables, rules --------------------------------------------------
@pytest.mark.parametrize(
    ("source", "kwargs"),
    [
        ("GoNogo-v0", {"dt": 50, "timing": {"delay": ("choice", [300, 500])}}),
        ("yang19", {"dt": 100}),
        (
            ["PerceptualDecisionMaking-v0", "PulseDecisionMaking-v0"],
            {"schedule": "sequential", "dt": 10},
        ),
    ],
)
def test_config_rebuilds_the_same_task(source, kwargs):
    task = from_neurogym(source, **kwargs)
    config = json.loads(json.dumps(task.config()))  # as a run folder stores it
    rebuilt = make_task(task.name, **config)
    assert rebuilt.name == task.name and rebuilt.config() == config
    assert rebuilt.input_names == task.input_names
    assert _same(task.batch(10, seed=7), rebuilt.batch(10, seed=7))
    with pytest.raises(ValueError, match="does not match"):
        make_task(task.name, **{**config, "env_id": "Null-v0"})


def test_schedules_and_rule_inputs_of_several_environments():
    ids = ["PerceptualDecisionMaking-v0", "PulseDecisionMaking-v0"]
    task = from_neurogym(ids, dt=10, schedule="sequential")
    assert task.name == "neurogym:PerceptualDecisionMaking-v0+PulseDecisionMaking-v0"
    assert task.rules == ("PerceptualDecisionMaking", "PulseDecisionMaking")
    assert task.input_names[-2:] == ("rule_PerceptualDecisionMaking", "rule_PulseDecisionMaking")
    b = task.batch(6, seed=0)
    index = b.variables["rule_index"]
    np.testing.assert_array_equal(np.diff(index) != 0, True)  # sequential: alternating
    rule_in = b.inputs[:, :, -2:]
    for i in range(6):
        n = b.lengths[i]
        np.testing.assert_array_equal(rule_in[i, :n], np.eye(2)[np.full(n, index[i])])
    fixed = task.batch(5, seed=0, rule="PulseDecisionMaking")
    assert set(fixed.variables["rule"]) == {"PulseDecisionMaking"}
    by_index = task.batch(3, seed=0, rule=[0, 1, 0]).variables["rule_index"]
    np.testing.assert_array_equal(by_index, [0, 1, 0])
    with pytest.raises(ValueError, match="PulseDecisionMaking"):
        task.batch(2, rule="PulseDecisionMakin")
    with pytest.raises(ValueError, match="rule must be below 2"):
        task.batch(2, rule=2)
    with pytest.raises(ValueError, match="cannot be scheduled together"):
        from_neurogym(["PerceptualDecisionMaking-v0", "GoNogo-v0"])  # 3 and 2 actions


def test_trial_wrappers_and_multienvs_act_on_the_trials():
    with warnings.catch_warnings():
        # gymnasium: no render_modes, and wrappers reading attributes through wrappers
        warnings.simplefilter("ignore", UserWarning)
        base = neurogym.make("PerceptualDecisionMaking-v0", dt=100)
        ids = ("PerceptualDecisionMaking-v0", "PulseDecisionMaking-v0")
        pair = [neurogym.make(e, dt=100) for e in ids]
        # A transition matrix that always switches sides: the history wrapper's
        # ground truth alternates within every batch.
        history = TrialHistoryV2(base, probs=np.array([[0.0, 1.0], [1.0, 0.0]]))
    alternating = from_neurogym(history)
    for seed in (0, 1):
        gt = alternating.batch(8, seed=seed).variables["ground_truth"]
        assert set(gt) == {0, 1} and np.all(np.diff(gt) != 0)
    multi = from_neurogym(MultiEnvs(pair, env_input=True))
    assert multi.rules == ("PerceptualDecisionMaking", "PulseDecisionMaking")
    b = multi.batch(4, seed=0, rule=[0, 1, 1, 0])
    np.testing.assert_array_equal(b.variables["rule_index"], [0, 1, 1, 0])
    np.testing.assert_array_equal(b.inputs[:, 0, -2:], np.eye(2)[[0, 1, 1, 0]])
    assert multi.evaluate(multi.oracle(b), b)["correct"].all()


def test_fixed_trial_variables_reach_new_trial():
    task = from_neurogym("PerceptualDecisionMaking-v0", dt=100)
    b = task.batch(8, seed=0, ground_truth=1, coh=51.2)
    assert set(b.variables["ground_truth"]) == {1} and set(b.variables["coh"]) == {51.2}
    assert np.all(task.evaluate(task.oracle(b), b)["target_choice"] == 2)  # choice_1
    with pytest.raises(ValueError, match="ground_truth"):
        task.batch(2, ground_truht=1)


def test_flattening_rule_for_trial_variables():
    out = flatten_variables(
        {
            "locs": np.array([2, 3]),
            "pair": (1, "a"),
            "big": np.arange(20.0),
            "rule": 1,
            "empty": [],
        },
        reserved=("decision_on",),
    )
    assert out["locs_0"] == 2 and out["locs_1"] == 3 and out["pair_1"] == "a"
    assert json.loads(out["big"]) == list(range(20)) and out["env_rule"] == 1
    assert "empty" not in out
    task = from_neurogym("SpatialSuppressMotion-v0")
    b = task.batch(2, seed=0)
    gt = np.array(json.loads(str(b.variables["ground_truth"][0])))
    np.testing.assert_allclose(gt, b.targets[0, : b.lengths[0]], rtol=1e-6)  # float32 targets


def test_continuous_actions_are_a_regression():
    task = from_neurogym("ReachingDelayResponse-v0")
    assert task.loss == "mse" and task.n_outputs == 2
    b = task.batch(8, seed=0)
    assert task.evaluate(task.oracle(b), b)["error"].max() == 0
    near, far = task.evaluate(b.targets + 0.05, b), task.evaluate(b.targets + 0.2, b)
    np.testing.assert_allclose(near["error"], 0.05, rtol=1e-5)
    assert near["correct"].all() and not far["correct"].any()


# -- refusals ---------------------------------------------------------------------------
def test_refusals_name_the_reason():
    with pytest.raises(ValueError, match="PerceptualDecisionMaking-v0"):
        from_neurogym("PerceptualDecisionMakin-v0")
    with warnings.catch_warnings():
        # gymnasium warns that NeuroGym's environments declare no render_modes
        warnings.simplefilter("ignore", UserWarning)
        noisy = Noise(neurogym.make("PerceptualDecisionMaking-v0"))
    with pytest.raises(ValueError, match="wrapped in Noise"):
        from_neurogym(noisy)
    with pytest.raises(ValueError, match="env_or_id"):
        from_neurogym(42)
    with pytest.raises(ValueError, match="environment object"):
        from_neurogym(GlobalStateDecision(), dt=20)
    for bad, match in [({"fixation_weight": 0}, "fixation_weight"),
                       ({"fixation": "yes"}, "fixation"),
                       ({"decision_periods": "decision"}, "decision_periods"),
                       ({"schedule": "shuffled"}, "schedule")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            from_neurogym(["PerceptualDecisionMaking-v0", "PulseDecisionMaking-v0"], **bad)
    with pytest.raises(ValueError, match="given twice"):
        from_neurogym("GoNogo-v0", env_kwargs={"dt": 10}, dt=20)
    with pytest.raises(ValueError, match="JSON values"):
        from_neurogym("GoNogo-v0", timing={"delay": TruncExp(600, 300, 3000)})


def test_numpy_arguments_are_saved_as_numbers_and_rebuild_the_task():
    task = from_neurogym("PerceptualDecisionMaking-v0", dt=np.int64(100), sigma=np.float64(0.5))
    config = json.loads(json.dumps(task.config()))
    assert config["env_kwargs"] == {"dt": 100, "sigma": 0.5}
    assert _same(task.batch(6, seed=1), make_task(task.name, **config).batch(6, seed=1))


class BrokenTrials(GlobalStateDecision):
    """A trial environment whose new_trial fails."""

    def _new_trial(self, **kwargs):
        raise RuntimeError("no stimulus file")


def test_an_environment_whose_new_trial_fails_is_refused():
    with pytest.raises(ValueError, match=r"new_trial\(\) failed: RuntimeError: no stimulus file"):
        from_neurogym(BrokenTrials())


def test_neurodyn_does_not_import_neurogym_and_says_how_to_install_it(monkeypatch):
    code = "import sys, neurodyn, neurodyn.tasks; print('neurogym' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    monkeypatch.setitem(sys.modules, "neurogym", None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "neurodyn\[neurogym\]"'):
        from_neurogym("GoNogo-v0")
