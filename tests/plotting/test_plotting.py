"""Figures: they draw what the data hold, label their axes, and save atomically."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import neurodyn
from neurodyn import plotting
from neurodyn.tasks import FlipFlop, PerceptualDecisionMaking
from neurodyn.train import Curriculum, Stage

RateRNN = neurodyn.rnn_models.RateRNN

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def task():
    return FlipFlop(dt=10.0, n_bits=2, timing={"trial": 300.0})


@pytest.fixture(scope="module")
def sim(task):
    net = RateRNN(2, 16, 2, dt=10.0, tau=50.0, dale=True, noise_rec=0.05, seed=0)
    return neurodyn.simulate(net, task, n_trials=4, seed=1)


@pytest.fixture(scope="module")
def fit_result():
    # Two stages of two steps each: the stage boundary falls at step 2.
    stages = [
        Stage(FlipFlop(dt=10.0, n_bits=2, timing={"trial": 200.0}), max_steps=2, name="easy"),
        Stage(
            FlipFlop(dt=10.0, n_bits=2, timing={"trial": 200.0}, pulse_rate=8.0),
            max_steps=2,
            name="hard",
        ),
    ]
    net = RateRNN(2, 8, 2, dt=10.0, seed=0)
    return neurodyn.fit(
        net,
        Curriculum(stages),
        n_steps=10,
        batch_size=4,
        val_every=1,
        n_validation=8,
        progress=False,
    )


def _assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp left


# -- plot_trials ----------------------------------------------------------------------
def test_plot_trials_layout_labels_and_png(sim, tmp_path):
    fig = plotting.plot_trials(sim)
    axes = np.array(fig.axes).reshape(2, 3)
    for ax in axes[1]:
        assert ax.get_xlabel() == "time (ms)"
    assert axes[0, 0].get_ylabel() == "input (a.u.)"
    assert axes[1, 0].get_ylabel() == "output (a.u.)"
    assert [ax.get_title().split(" (")[0] for ax in axes[0]] == ["trial 0", "trial 1", "trial 2"]
    legend_labels = [t.get_text() for t in axes[1, -1].get_legend().get_texts()]
    assert {"bit0", "bit1", "network", "target"} <= set(legend_labels)
    path = plotting.save_figure(fig, tmp_path / "trials.png")
    _assert_png(path)
    assert not plt.fignum_exists(fig.number)


def test_plot_trials_draws_the_data(sim):
    fig = plotting.plot_trials(sim, trials=[1])
    ax_in, ax_out = fig.axes
    tr = sim.isel(trial=1)
    np.testing.assert_array_equal(ax_in.lines[0].get_ydata(), tr["inputs"].isel(input=0))
    # Output panel, channel 0 (which has unscored spans before its first pulse and
    # during pulses): faded full target, scored target (NaN where the mask is
    # zero), network output.
    scored = tr["mask"].isel(output=0).values > 0
    assert not scored.all()
    faded, target_line, out = ax_out.lines[:3]
    target = tr["targets"].isel(output=0).values
    np.testing.assert_array_equal(faded.get_ydata(), target)
    assert faded.get_alpha() < 1
    np.testing.assert_array_equal(target_line.get_ydata(), np.where(scored, target, np.nan))
    assert target_line.get_linestyle() == "--" and target_line.get_alpha() is None
    np.testing.assert_array_equal(out.get_ydata(), tr["outputs"].isel(output=0))
    assert out.get_linestyle() == "-"
    np.testing.assert_array_equal(out.get_xdata(), sim["time"].values)


def test_plot_trials_fully_scored_target_is_one_line(sim):
    ds = sim.assign(mask=xr.ones_like(sim["mask"]))
    fig = plotting.plot_trials(ds, trials=[0])
    ax_out = fig.axes[1]
    assert len(ax_out.lines) == 2 * ds.sizes["output"]  # target + output per channel
    assert all(line.get_alpha() is None for line in ax_out.lines)
    labels = [t.get_text() for t in ax_out.get_legend().get_texts()]
    assert "target, unscored" not in labels


def test_plot_trials_stops_at_trial_length(sim):
    short = sim.assign_coords(length=("trial", np.array([30, 12, 30, 30], dtype=np.int32)))
    fig = plotting.plot_trials(short, trials=(1,))
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 2:  # skip axvlines
                assert line.get_xdata()[-1] == pytest.approx(120.0)


def test_plot_trials_default_with_few_trials_and_bad_positions(sim):
    fig = plotting.plot_trials(sim.isel(trial=[0, 1]))
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="trials="):
        plotting.plot_trials(sim, trials=(0, 7))
    with pytest.raises(ValueError, match="missing the variable 'inputs'"):
        plotting.plot_trials(sim.drop_vars("inputs"))


def test_plot_trials_into_given_axes(sim):
    fig, axes = plt.subplots(2, 2)
    assert plotting.plot_trials(sim, trials=(0, 3), axes=axes) is fig
    assert axes[1, 1].get_xlabel() == "time (ms)"
    assert axes[0, 1].get_title().startswith("trial 3")


def test_plot_trials_of_a_batch_without_outputs(task):
    ds = task.batch(2, seed=0).to_xarray()
    fig = plotting.plot_trials(ds, trials=(0,))
    assert "network" not in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


# -- plot_training_curve --------------------------------------------------------------
def test_training_curve_from_each_history_form(fit_result, tmp_path):
    for history in (fit_result, fit_result.to_xarray(), fit_result.history):
        ax = plotting.plot_training_curve(history)
        assert ax.get_yscale() == "log"
        assert ax.get_xlabel() == "training step"
        assert ax.get_ylabel() == "loss"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["train loss", "validation loss", "stage change", "validation accuracy"]
        twin = [a for a in ax.figure.axes if a is not ax]
        assert len(twin) == 1 and "accuracy" in twin[0].get_ylabel()
        steps = [r["step"] for r in fit_result.history]
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), steps)
        # The stage boundary is where the first stage's steps end.
        vlines = [ln for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_linestyle() == ":"]
        assert [ln.get_xdata()[0] for ln in vlines] == [fit_result.stage_steps[0]] == [2]
    _assert_png(plotting.save_figure(ax.figure, tmp_path / "curve.png"))


def test_training_curve_without_accuracy_or_stages():
    recs = [{"step": 5, "train_loss": 0.5, "val_loss": -1.0}, {"step": 10, "train_loss": 0.2}]
    ax = plotting.plot_training_curve(recs)
    assert ax.get_yscale() == "linear"  # a non-positive loss cannot go on a log axis
    assert len(ax.figure.axes) == 1
    with pytest.raises(ValueError, match="FitResult"):
        plotting.plot_training_curve([{"loss": 1.0}])
    with pytest.raises(ValueError, match="no 'train_loss'"):
        plotting.plot_training_curve([{"step": 1, "val_accuracy": 0.5}])


# -- psychometric ---------------------------------------------------------------------
def _decision_dataset(seed=0, n=600, bias=2.0, slope=0.1, gt_values=(0, 1)):
    rng = np.random.default_rng(seed)
    coh = rng.choice([0.0, 6.4, 12.8, 25.6], n)
    side = rng.integers(0, 2, n)
    signed = np.where(side == 1, coh, -coh)
    p = 1 / (1 + np.exp(-slope * (signed - bias)))
    chose_pos = rng.random(n) < p
    gt = np.where(side == 1, gt_values[1], gt_values[0])
    choice = np.where(chose_pos, gt_values[1], gt_values[0])
    return (
        xr.Dataset(
            coords={
                "coherence": ("trial", coh, {"units": "%"}),
                "ground_truth": ("trial", gt),
                "choice": ("trial", choice),
            }
        ),
        signed,
        chose_pos,
    )


def test_psychometric_points_match_hand_computation():
    ds, signed, chose_pos = _decision_dataset()
    pts = plotting.psychometric(ds)
    levels = [-25.6, -12.8, -6.4, 0.0, 6.4, 12.8, 25.6]
    np.testing.assert_array_equal(pts["coherence"].values, levels)
    for lev in levels:
        at = signed == lev
        n, k = at.sum(), (chose_pos & at).sum()
        p = k / n
        row = pts.sel(coherence=lev)
        assert int(row["n_trials"]) == n and int(row["n_choice"]) == k
        assert float(row["p_choice"]) == pytest.approx(p, rel=1e-12)
        assert float(row["sem"]) == pytest.approx(np.sqrt(p * (1 - p) / n), rel=1e-12)
    assert pts["coherence"].attrs == {"long_name": "signed coherence", "units": "%"}
    assert pts.attrs["positive"] == "1" and pts.attrs["n_excluded"] == 0


def test_psychometric_of_a_decision_task_oracle_is_a_step():
    # The oracle always picks the ground truth, so P(right) is 0 at every negative
    # signed coherence and 1 at every positive one; at 0 % the ground truth is a
    # fair coin, and so is the oracle's choice.
    task = PerceptualDecisionMaking(dt=20.0, timing={"stimulus": 200.0})
    batch = task.batch(200, seed=0)
    ds = batch.to_xarray().assign_coords(
        choice=("trial", task.evaluate(task.oracle(batch), batch)["choice"])
    )
    pts = plotting.psychometric(ds)
    x, p = pts["coherence"].values, pts["p_choice"].values
    np.testing.assert_array_equal(p[x < 0], 0.0)
    np.testing.assert_array_equal(p[x > 0], 1.0)
    gt = ds["ground_truth"].values[ds["coherence"].values == 0]
    assert float(pts["p_choice"].sel(coherence=0.0)) == pytest.approx(np.mean(gt == 1))
    assert int(pts["n_trials"].sum()) == 200


def test_psychometric_of_a_simulated_decision_task(tmp_path):
    task = PerceptualDecisionMaking(dt=20.0, timing={"stimulus": 200.0})
    net = RateRNN(task.n_inputs, 16, task.n_outputs, dt=20.0, seed=0)
    ds = neurodyn.simulate(net, task, n_trials=40, seed=0)
    pts = plotting.psychometric(ds)
    # An untrained network often makes no choice (0); those trials are excluded.
    assert int(pts["n_trials"].sum()) + pts.attrs["n_excluded"] == 40
    assert pts.attrs["n_excluded"] == int((ds["choice"] == 0).sum())


def test_psychometric_tiny_case_by_hand():
    # Zero coherence pools both sides; -1 is "no response" and is excluded.
    ds = xr.Dataset(
        coords={
            "coherence": ("trial", [0.0, 0.0, 0.0, 50.0, 50.0, 50.0, 50.0, 50.0]),
            "ground_truth": ("trial", [1, 2, 1, 2, 2, 2, 1, 2]),
            "choice": ("trial", [2, 2, 1, 2, 1, 2, -1, 2]),
        }
    )
    pts = plotting.psychometric(ds)
    # By hand: level 0 has trials 1-3 (choices 2, 2, 1); level +50 has trials
    # 4, 5, 6, 8 (choices 2, 1, 2, 2); trial 7 (-50) gave no response.
    np.testing.assert_array_equal(pts["coherence"], [0.0, 50.0])
    np.testing.assert_array_equal(pts["n_trials"], [3, 4])
    np.testing.assert_array_equal(pts["n_choice"], [2, 3])
    np.testing.assert_allclose(pts["p_choice"], [2 / 3, 3 / 4], rtol=1e-15)
    np.testing.assert_allclose(pts["sem"], [np.sqrt(2 / 27), np.sqrt(3 / 64)], rtol=1e-15)
    assert pts.attrs["positive"] == "2" and pts.attrs["n_excluded"] == 1


def test_psychometric_presigned_variable_and_errors():
    ds = xr.Dataset(
        coords={
            "evidence": ("trial", [-1.0, -1.0, 1.0, 1.0, 1.0]),
            "choice": ("trial", [0, 1, 1, 1, np.nan]),
        }
    )
    pts = plotting.psychometric(ds, variable="evidence", signed_by=None, choices=(0, 1))
    np.testing.assert_array_equal(pts["p_choice"], [0.5, 1.0])
    np.testing.assert_array_equal(pts["n_trials"], [2, 2])
    assert pts.attrs["n_excluded"] == 1  # the NaN choice
    # The default coding is neurodyn's -1 / +1 with 0 = no response.
    lr = ds.assign_coords(choice=("trial", [-1, 1, 0, 1, 1]))
    pts = plotting.psychometric(lr, variable="evidence", signed_by=None)
    np.testing.assert_array_equal(pts["n_trials"], [2, 2])
    np.testing.assert_array_equal(pts["p_choice"], [0.5, 1.0])
    assert pts.attrs["choices"] == "[-1, 1]" and pts.attrs["positive"] == "1"
    with pytest.raises(ValueError, match="positive=2 must be one of"):
        plotting.psychometric(lr, variable="evidence", signed_by=None, positive=2)
    assert pts["evidence"].attrs["long_name"] == "evidence"
    with pytest.raises(ValueError, match="already signed"):
        plotting.psychometric(
            ds.assign_coords(ground_truth=("trial", [0, 0, 1, 1, 1])), variable="evidence"
        )
    with pytest.raises(ValueError, match="per-trial variables are"):
        plotting.psychometric(ds, variable="coherence", signed_by=None)
    with pytest.raises(ValueError, match="exactly two values"):
        plotting.psychometric(
            ds.assign_coords(side=("trial", [0, 1, 2, 0, 1])),
            variable="evidence",
            signed_by="side",
        )


def test_fit_psychometric_recovers_a_known_logistic():
    bias, slope = 2.0, 0.1
    x = np.array([-25.6, -12.8, -6.4, 0.0, 6.4, 12.8, 25.6])
    n = np.full(x.size, 1000.0)
    # Expected (not sampled) counts: the likelihood's score equations then hold
    # exactly at the true parameters, so the MLE is the truth.
    k = n / (1 + np.exp(-slope * (x - bias)))
    pts = xr.Dataset({"n_trials": ("x", n), "n_choice": ("x", k)}, coords={"x": x})
    f = plotting.fit_psychometric(pts)
    assert f.success
    # L-BFGS-B stops on a relative change of the NLL of ~1e-9 (factr*eps); on this
    # well-conditioned problem that leaves the parameters good to ~1e-4.
    assert f.bias == pytest.approx(bias, abs=1e-3)
    assert f.slope == pytest.approx(slope, rel=1e-3)
    np.testing.assert_allclose(f(x), k / n, atol=1e-4)


def test_fit_psychometric_flags_separated_choices():
    pts = xr.Dataset(
        {"n_trials": ("x", [10, 10, 10, 10]), "n_choice": ("x", [0, 0, 10, 10])},
        coords={"x": [-2.0, -1.0, 1.0, 2.0]},
    )
    f = plotting.fit_psychometric(pts)
    assert not f.success and "separated" in f.message
    assert abs(f.bias) < 1.0 and f.slope > 10  # a step between -1 and 1


def test_plot_psychometric(tmp_path):
    ds, _, _ = _decision_dataset(n=2000)
    ax = plotting.plot_psychometric(ds)
    pts = plotting.psychometric(ds)
    assert ax.get_xlabel() == "signed coherence (%)"
    assert ax.get_ylabel() == "P(choice = 1)"
    points = ax.containers[0].lines[0]  # the errorbar's data line
    np.testing.assert_array_equal(points.get_xdata(), pts["coherence"])
    np.testing.assert_array_equal(points.get_ydata(), pts["p_choice"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    f = plotting.fit_psychometric(pts)
    assert f"bias {f.bias:.3g}, slope {f.slope:.3g}" in labels[0]
    # The fit recovers the generating parameters to within sampling error.
    assert f.bias == pytest.approx(2.0, abs=1.5)
    assert f.slope == pytest.approx(0.1, rel=0.25)
    # Precomputed points draw the same curve.
    assert labels[0].startswith("choices: bias")
    assert len(labels) == 1  # the fitted curve shares the points' entry
    ax2 = plotting.plot_psychometric(pts, fit=False)
    np.testing.assert_array_equal(ax2.containers[0].lines[0].get_ydata(), pts["p_choice"])
    assert ax2.get_legend().get_texts()[0].get_text() == "choices"
    # A second call overlays a curve in the next colour.
    plotting.plot_psychometric(pts, ax=ax2, label="again")
    assert len(ax2.containers) == 2
    assert ax2.containers[1].lines[0].get_color() != ax2.containers[0].lines[0].get_color()
    _assert_png(plotting.save_figure(ax.figure, tmp_path / "psychometric.png"))


# -- files and imports ----------------------------------------------------------------
def test_save_figure_adds_suffix_closes_and_follows_format(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = plotting.save_figure(fig, tmp_path / "sub" / "plain")
    assert path == tmp_path / "sub" / "plain.png"
    _assert_png(path)
    assert not plt.fignum_exists(fig.number)
    fig, _ = plt.subplots()
    svg = plotting.save_figure(fig, tmp_path / "vector.svg")
    assert svg.read_text().lstrip().startswith("<?xml")


def test_save_figure_failure_leaves_no_file_and_closes(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError):
        plotting.save_figure(fig, tmp_path / "figure.notaformat")
    assert list(tmp_path.iterdir()) == []
    assert not plt.fignum_exists(fig.number)


def test_import_neurodyn_does_not_import_matplotlib():
    code = "import sys, neurodyn; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
