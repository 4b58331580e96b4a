"""Curricula whose stages train on inputs/targets Datasets and recordings."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from neurodyn import Criterion, Curriculum, Stage, fit
from neurodyn.io import first_bins, recording
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop
from neurodyn.train import load_checkpoint, masked_mse
from neurodyn.train.config import FitConfig
from neurodyn.train.data import DatasetSource, split_sizes, trial_ranks
from neurodyn.train.objectives import poisson_nll
from neurodyn.train.plan import plan_fit

DT = 10.0
H = 8
N_REC = 3
DOCS = Path(__file__).resolve().parents[2] / "docs" / "recordings.md"


def net(seed, n_output=2):
    return RateRNN(
        2, H, n_output, dt=DT, tau=20.0, nonlinearity="softplus", spectral_radius=0.8, seed=seed
    )


def teacher(n_trial=40, n_time=20, seed=0):
    """Inputs, and the noiseless rates (spikes per ms) and outputs of a teacher network."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_trial, n_time, 2)).astype(np.float32)
    with torch.no_grad():
        out = net(1)(torch.as_tensor(u), noise=False)
    return u, out.rates.numpy(), out.outputs.numpy(), rng


def counts_recording(n_trial=40, n_time=20):
    """Spike counts of the teacher's first N_REC units (the rest are not recorded)."""
    u, rates, _, rng = teacher(n_trial, n_time)
    counts = rng.poisson(rates[..., :N_REC] * DT).astype(np.float32)
    return recording(counts, u, dt=DT, kind="counts")


def targets_dataset(n_trial=40, n_time=20):
    """Inputs and the teacher's outputs as targets (a regression Dataset)."""
    u, _, y, _ = teacher(n_trial, n_time)
    return xr.Dataset(
        {"inputs": (("trial", "time", "input"), u), "targets": (("trial", "time", "output"), y)},
        coords={"trial": np.arange(n_trial)},
        attrs={"dt": DT},
    )


def held_out(datasets, i, seed, val_fraction=0.2):
    """Row indices of the trials stage ``i`` of a curriculum holds out: the lowest ranked."""
    ranks = trial_ranks(datasets, seed)[i]
    n_val = split_sizes(len(ranks), val_fraction)[1]
    return np.sort(np.argsort(ranks, kind="stable")[:n_val])


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# -- stages and their held-out trials -------------------------------------------------------


def test_dataset_curriculum_advances_at_the_first_validation_meeting_its_criterion():
    ds = targets_dataset()
    short = ds.isel(time=slice(0, 8))
    rows = held_out([short, ds], 0, seed=0)

    def loss_on_held_out(model):
        """The stage's masked MSE on its held-out trials, computed here in float64."""
        x = torch.as_tensor(short["inputs"].values[rows])
        y = model(x, noise=False).outputs.double()
        target = torch.as_tensor(short["targets"].values[rows], dtype=torch.float64)
        return {"mse": float(((y - target) ** 2).mean())}

    threshold = 0.03
    cur = Curriculum(
        [
            Stage(
                short, Criterion("val_loss", "<=", threshold), name="short", on_end=loss_on_held_out
            ),
            Stage(ds, max_steps=20, name="whole"),
        ]
    )
    res = fit(net(2), cur, n_steps=400, lr=1e-2, batch_size=16, val_every=5, progress=False)
    stages = [r["stage"] for r in res.history]
    first_whole = stages.index(1)
    advanced = res.history[first_whole - 1]
    # It advanced at the first validation whose loss met the criterion, not before or after.
    assert advanced["val_loss"] <= threshold
    assert all(r["val_loss"] > threshold for r in res.history[: first_whole - 1])
    assert res.stage_steps == [advanced["step"], 20] and res.steps == advanced["step"] + 20
    assert [(r["stage"], r["name"], r["step"]) for r in res.stage_log] == [
        (0, "short", advanced["step"])
    ]
    # The logged validation loss is the MSE on the held-out trials at that step: float32
    # sums of ~500 squares agree with float64 to ~1e-6 relative.
    assert res.stage_log[0]["mse"] == pytest.approx(advanced["val_loss"], rel=1e-5)
    assert res.message == "last stage reached max_steps=20" and not res.success


def test_stages_of_the_same_trials_hold_out_the_same_trials():
    ds = targets_dataset(n_trial=30)
    masked = ds.assign(mask=xr.ones_like(ds["targets"]).where(ds["output"] != 1, 0.0))
    stages = [
        Stage(ds.isel(time=slice(0, 5)), max_steps=1, name="window"),
        Stage(ds.isel(trial=slice(None, None, -1)), max_steps=1, name="reversed"),
        Stage(masked, max_steps=1, name="masked"),
        Stage(ds.isel(trial=slice(0, 15)), max_steps=1, name="half"),
    ]
    cfg = FitConfig(n_steps=4, progress=False, seed=7)
    plan = plan_fit(net(0), Curriculum(stages), None, cfg)
    held = []
    for sp in plan.stages:
        src = DatasetSource(sp.data, seed=7, val_fraction=cfg.val_fraction, ranks=sp.ranks)
        held.append(set(sp.data["trial"].values[src.val_index].tolist()))
        assert len(src.val_index) == split_sizes(sp.data.sizes["trial"], cfg.val_fraction)[1]
        assert len(src.train_index) + len(src.val_index) == sp.data.sizes["trial"]
    assert held[0] == held[1] == held[2]
    # Half of the trials: its held-out ones are its own lowest-ranked, by the same ranking.
    rank = dict(zip(ds["trial"].values.tolist(), plan.stages[0].ranks.tolist(), strict=True))
    half = sorted(range(15), key=rank.__getitem__)
    assert held[3] == set(half[: split_sizes(15, cfg.val_fraction)[1]])


def test_a_one_stage_dataset_curriculum_trains_as_the_dataset_alone():
    ds = targets_dataset()
    kw = dict(n_steps=15, lr=1e-2, batch_size=8, val_every=5, progress=False, seed=5)
    alone, staged = net(2), net(2)
    a = fit(alone, ds, **kw)
    b = fit(staged, Curriculum([Stage(ds)]), **kw)
    assert same_weights(alone, staged)
    assert [r["val_loss"] for r in a.history] == [r["val_loss"] for r in b.history]


# -- recordings -----------------------------------------------------------------------------


def test_docs_recording_curriculum_approaches_the_teacher(tmp_path, monkeypatch):
    """The example of docs/recordings.md: the first 100 ms of every trial, then whole
    trials, fitted by the Poisson likelihood; the held-out loss falls in both stages and
    ends near the teacher's."""
    section = DOCS.read_text().split("## Curricula on recordings")[1]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, str(DOCS), "exec"), ns)
    res, rec, rates = ns["result"], ns["rec"], ns["rates"]
    assert (tmp_path / "fit.pt").is_file()
    val = {s: [r["val_loss"] for r in res.history if r["stage"] == s] for s in (0, 1)}
    assert val[0][-1] <= 2.4 < min(val[0][:-1])  # advanced on its criterion
    assert val[0][-1] < val[0][0] and val[1][-1] < val[1][0]
    # The last stage's held-out trials: the teacher's rates give the floor, a constant
    # rate per neuron the ceiling; the fit closes most of the gap.
    rows = held_out([ns["first"], rec], 1, seed=0)
    k = torch.as_tensor(rec["activity"].values[rows], dtype=torch.float64)
    ones = torch.ones_like(k)
    floor = float(poisson_nll(torch.log(torch.as_tensor(rates[rows] * DT)).double(), k, ones))
    null = torch.log(k.mean(dim=(0, 1), keepdim=True)).expand_as(k)
    ceiling = float(poisson_nll(null, k, ones))
    assert ceiling - floor > 0.2
    assert val[1][-1] - floor < 0.2 * (ceiling - floor), (val[1][-1], floor, ceiling)


def test_each_stage_fits_with_its_own_objective_after_a_task_stage():
    """A task stage, a Poisson stage and an MSE stage on the same counts: the logged
    validation loss of the last is the squared error of the rates on its held-out trials."""
    rec = counts_recording()
    rows = held_out([first_bins(rec, 8), rec], 1, seed=0)
    x = torch.as_tensor(rec["inputs"].values[rows])
    k = torch.as_tensor(rec["activity"].values[rows], dtype=torch.float64)

    def both_objectives(model):
        rates = model(x, noise=False).rates[..., :N_REC].double()
        ones = torch.ones_like(k)
        return {
            "mse": float(masked_mse(rates, k, ones)),
            "poisson": float(poisson_nll(torch.log(rates * DT + 1e-8), k, ones)),
        }

    task = FlipFlop(n_bits=2, dt=DT, timing={"trial": 100.0})
    cur = Curriculum(
        [
            Stage(task, max_steps=5, name="flip-flop"),
            Stage(first_bins(rec, 8), max_steps=5, name="poisson"),
            Stage(rec, max_steps=5, name="squared error", loss="mse", on_end=both_objectives),
        ]
    )
    res = fit(net(2), cur, n_steps=100, lr=1e-2, batch_size=8, val_every=5, n_validation=8,
              progress=False)  # fmt: skip
    assert [r["stage"] for r in res.history] == [0, 1, 2]
    logged, hand = res.history[-1]["val_loss"], res.stage_log[0]
    # float32 against float64 over 8 x 20 x 3 entries: ~1e-6 relative.
    assert logged == pytest.approx(hand["mse"], rel=1e-5)
    # Counts of a few spikes per bin: the two objectives differ by far more than that.
    assert abs(hand["poisson"] - hand["mse"]) > 0.1 * hand["mse"]


def test_resume_across_a_stage_boundary_is_bitwise_exact(tmp_path, monkeypatch):
    rec = counts_recording()
    cur = Curriculum(
        [
            Stage(first_bins(rec, 8), max_steps=10, name="short"),
            Stage(rec, max_steps=20, name="whole", loss="mse"),
        ]
    )
    kw = dict(n_steps=40, lr=1e-2, batch_size=8, val_every=5, progress=False, seed=3)
    full = net(2)
    res_full = fit(full, cur, **kw)

    batches = DatasetSource.train_batch

    def interrupted_at_step_17(self, step, batch_size):
        if step == 17:
            raise KeyboardInterrupt
        return batches(self, step, batch_size)

    ckpt = tmp_path / "run.pt"
    with monkeypatch.context() as m:
        m.setattr(DatasetSource, "train_batch", interrupted_at_step_17)
        with pytest.raises(KeyboardInterrupt):
            fit(net(2), cur, checkpoint=ckpt, checkpoint_every=100, **kw)
    state = load_checkpoint(ckpt)
    assert (state["step"], state["stage"], state["stage_steps"]) == (17, 1, [10, 7])
    resumed = net(99)  # another initialisation: everything must come from the checkpoint
    res_resumed = fit(resumed, cur, checkpoint=ckpt, resume=True, **kw)
    assert same_weights(full, resumed)
    assert res_resumed.history == res_full.history
    assert res_resumed.stage_steps == res_full.stage_steps == [10, 20]


# -- refusals, all before training ----------------------------------------------------------


def _with_inputs(ds, n):
    u = np.zeros((ds.sizes["trial"], ds.sizes["time"], n), np.float32)
    return ds.drop_vars(["inputs", "input"], errors="ignore").assign(
        inputs=(("trial", "time", "input"), u)
    )


def _rates(rec):
    return rec.assign_attrs(kind="rates")


def _signs(ds):
    return ds.assign(targets=np.sign(ds["targets"]))


REC, DS = counts_recording(n_trial=10, n_time=6), targets_dataset(n_trial=10, n_time=6)


@pytest.mark.parametrize(
    ("stages", "kw", "match"),
    [
        (
            [Stage(REC, name="all"), Stage(REC.isel(neuron=[0]), name="one")],
            {},
            r"stage 1 \(one\) records the neurons \[0\]; stage 0 \(all\) records \[0, 1, 2\]",
        ),
        (
            [Stage(REC, name="a"), Stage(REC.assign_coords(neuron=[5, 6, 7]), name="b")],
            {},
            r"stage 1 \(b\) records the neurons \[5, 6, 7\].*same neurons",
        ),
        (
            [Stage(DS, max_steps=2), Stage(_with_inputs(DS, 3), name="wide")],
            {},
            r"stage 1 \(wide\): dataset has 3 input channels; the model expects n_input=2",
        ),
        (
            [Stage(REC, name="narrow"), Stage(_with_inputs(REC, 1))],
            {},
            r"stage 1 \(recording\): recorded has 1 input channels; the model expects n_input=2",
        ),
        (
            [Stage(DS), Stage(DS.assign_attrs(dt=5.0), name="coarse")],
            {},
            r"stage 1 \(coarse\): training dataset dt=5.0 ms differs from the model's dt=10.0",
        ),
        (
            [Stage(REC.assign_attrs(dt=5.0).assign_coords(time=REC["time"] / 2), name="fast")],
            {},
            r"stage 0 \(fast\): training dataset dt=5.0 ms differs",
        ),
        (
            [Stage(REC), Stage(DS)],
            {"epochs": 2},
            r"epochs is for training on an xarray.Dataset, not a Curriculum: its stages end",
        ),
        (
            [Stage(DS)],
            {"validation": DS},
            r"validation is for training on an xarray.Dataset, not a Curriculum: each Dataset "
            "stage validates on its own held-out trials",
        ),
        (
            [Stage(_rates(REC), loss="poisson", name="rates")],
            {},
            r"stage 0 \(rates\): objective='poisson' needs spike counts",
        ),
        ([Stage(REC), Stage(REC)], {"loss": "mse"}, r"loss='mse' is for tasks.*Stage's loss="),
        ([Stage(DS)], {"objective": "mse"}, r"objective is for fitting a recording"),
        (
            [Stage(DS, max_steps=2), Stage(_signs(DS), loss="cross_entropy", name="signs")],
            {},
            r"stage 1 \(signs\): loss='cross_entropy' needs the training targets",
        ),
    ],
)
def test_refusals_name_the_stage_or_argument_before_training(tmp_path, stages, kw, match):
    model, ckpt = net(2), tmp_path / "ckpt.pt"
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        fit(model, Curriculum(stages), n_steps=4, checkpoint=ckpt, progress=False, **kw)
    assert not ckpt.exists()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    ("data", "loss", "match"),
    [
        (REC, "cross_entropy", r"loss='cross_entropy'.*\['mse', 'poisson'\]"),
        (DS, "poisson", r"loss='poisson'.*\['cross_entropy', 'mse'\]"),
    ],
)
def test_a_stage_refuses_a_loss_its_data_cannot_be_fitted_with(data, loss, match):
    with pytest.raises(ValueError, match=match):
        Stage(data, loss=loss)


def test_stage_and_curriculum_examples_run():
    import doctest

    import neurodyn.train.curriculum as module

    outcome = doctest.testmod(module)
    assert outcome.attempted > 0 and outcome.failed == 0
