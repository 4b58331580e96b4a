"""Every environment the installed NeuroGym registers, and every collection, adapted.

Each one either gives batches with the right shapes, masks, variables and periods,
bit-identical for the same seed and different for another, on which the oracle (the
environment's ground truth) scores 100 % and a silent network does not; or it is
refused with the reason documented here (and in docs/neurogym.md).
"""

import numpy as np
import pytest

pytest.importorskip("neurogym")

from neurodyn.tasks import NeurogymTask, from_neurogym
from neurodyn.tasks.neurogym_adapter import collections, registered_ids

ALL = [*registered_ids(), *collections()]
N_TRIALS = 8

#: Environments that do not adapt with default arguments, and a phrase of the reason.
REFUSED = {
    "AnnubesEnv-v0": "missing 2 required positional arguments",
    "Bandit-v0": "no ground truth",
    "DawTwoStep-v0": "no ground truth",
    "EconomicDecisionMaking-v0": "no ground truth",
    "Null-v0": "no ground truth",
    "Reaching1D-v0": "not actions",
    "Reaching1DWithSelfDistraction-v0": "not actions",
    "perceptualdecisionmaking.roitman02-v0": "wrapped in ReactionTime",
    "perceptualdecisionmaking": "wrapped in ReactionTime",
}


def test_the_survey_covers_native_and_yang19_environments():
    assert "PerceptualDecisionMaking-v0" in ALL and "GoNogo-v0" in ALL
    yang = [e for e in ALL if e.startswith("yang19.")]
    assert len(yang) == 20 and "yang19" in ALL
    assert set(REFUSED) <= set(ALL), "a documented refusal names no installed environment"


def _check_batch(task: NeurogymTask, b) -> None:
    n, t = N_TRIALS, b.n_steps
    assert b.inputs.shape == (n, t, task.n_inputs) and b.inputs.dtype == np.float32
    assert b.targets.shape == b.mask.shape == (n, t, task.n_outputs)
    assert len(set(task.input_names)) == task.n_inputs
    assert len(set(task.output_names)) == task.n_outputs
    assert b.lengths.max() == t and b.lengths.min() > 0 and b.dt == task.dt
    pad = ~b.valid()
    assert np.all(b.mask[pad] == 0) and np.all(b.inputs[pad] == 0) and np.all(b.targets[pad] == 0)
    valid = b.mask[~pad]
    # Every scored step weighs 1 (decision) or fixation_weight (fixation), the same on
    # every output channel, and every trial has decision steps.
    fixation_weight = task.params["fixation_weight"]
    assert np.all(np.isin(valid, [1.0, np.float32(fixation_weight)]))
    assert np.all(b.mask.max(axis=-1) == b.mask.min(axis=-1))
    assert np.all((b.mask == 1.0).any(axis=(1, 2)))
    if task.loss == "cross_entropy":
        # one-hot targets on every real step: a class label each
        np.testing.assert_array_equal(b.targets[~pad].sum(axis=-1), 1.0)
        assert set(np.unique(b.targets)) <= {0.0, 1.0}
    for k, v in b.variables.items():
        assert v.shape == (n,), k
    for p, (on, off) in b.periods.items():
        ok = np.isfinite(on)
        assert np.all(on[ok] <= off[ok]) and np.all(off[ok] <= b.lengths[ok] * b.dt + 1e-9), p
    b.to_xarray()  # every variable and period is a valid labelled coordinate


@pytest.mark.parametrize("env_id", ALL)
def test_every_environment_adapts_or_is_refused_with_its_reason(env_id):
    if env_id in REFUSED:
        with pytest.raises(ValueError, match=REFUSED[env_id]):
            from_neurogym(env_id)
        return
    task = from_neurogym(env_id)
    b = task.batch(N_TRIALS, seed=0)
    _check_batch(task, b)
    again, other = task.batch(N_TRIALS, seed=0), task.batch(N_TRIALS, seed=1)
    for name in ("inputs", "targets", "mask", "lengths"):
        np.testing.assert_array_equal(getattr(b, name), getattr(again, name))
    assert b.variables.keys() == again.variables.keys()
    for k in b.variables:
        np.testing.assert_array_equal(b.variables[k], again.variables[k])
    assert b.inputs.shape != other.inputs.shape or not np.array_equal(b.inputs, other.inputs)
    assert task.evaluate(task.oracle(b), b)["correct"].all()
    silent = np.zeros_like(b.targets)
    assert not task.evaluate(silent, b)["correct"].all(), "evaluate cannot tell good from bad"
