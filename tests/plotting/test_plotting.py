"""Figures: they draw what the data hold, label their axes, and save atomically."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from decision_data import decision_dataset

import neurodyn
from neurodyn import plotting
from neurodyn.tasks import FlipFlop
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


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_saved_figures_name_the_version_that_wrote_them(tmp_path, suffix):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = plotting.save_figure(fig, tmp_path / f"f{suffix}")
    # PNG text chunks, PDF info dictionaries (uncompressed) and SVG metadata hold it as text.
    assert f"neurodyn {neurodyn.__version__}".encode() in path.read_bytes()


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


# -- psychometric curves -------------------------------------------------------------
def test_psychometric_computations_are_importable_from_plotting():
    from neurodyn import analysis

    for name in ("psychometric", "fit_psychometric", "PsychometricFit"):
        assert getattr(plotting, name) is getattr(analysis, name)


def test_plot_psychometric(tmp_path):
    ds, _, _ = decision_dataset(n=2000)
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


def test_analyzers_never_import_the_figures():
    # Plotting modules import the analyzers whose results they draw; the reverse would
    # be a cycle, and would load matplotlib with the analyzers.
    import import_graph

    edges = import_graph.imports()
    up = [
        f"{e.path.name}:{e.line}"
        for e in edges
        if e.importer.startswith("neurodyn.analysis")
        and e.target.startswith("neurodyn.plotting")
        and not e.deferred
    ]
    assert up == []
    code = "import sys, neurodyn.analysis; sys.exit('neurodyn.plotting' in sys.modules or 'matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_figures_of_the_analyzers_resolve_from_both_packages():
    from neurodyn import analysis

    for name in (
        "plot_bifurcation_diagram",
        "plot_lyapunov_spectrum",
        "plot_phase_portrait",
        "plot_projected_portrait",
        "plot_trajectories_3d",
    ):
        assert getattr(analysis, name) is getattr(plotting, name)
        assert getattr(analysis, name).__module__.startswith("neurodyn.plotting.")
    with pytest.raises(AttributeError, match="no attribute 'plot_nothing'"):
        analysis.plot_nothing  # noqa: B018


def test_plot_trials_groups_many_channels_into_a_legend_that_fits(tmp_path):
    """53 inputs and 17 outputs (fixation, two rings of 16, 20 rules): numbered channels and
    channels sharing a prefix share a colour and one legend entry, and the figure is laid out
    without a warning (the suite turns warnings into errors)."""
    n_in = ["fixation", *[f"stimulus_{i}" for i in range(32)],
            *[f"rule_{r}" for r in "abcdefghijklmnopqrst"]]  # fmt: skip
    n_out = ["fixation", *[f"choice_{i}" for i in range(16)]]
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), rng.normal(size=(2, 20, len(n_in)))),
            "targets": (("trial", "time", "output"), rng.normal(size=(2, 20, len(n_out)))),
            "outputs": (("trial", "time", "output"), rng.normal(size=(2, 20, len(n_out)))),
        },
        coords={"trial": [0, 1], "time": np.arange(20) * 10.0, "input": n_in, "output": n_out},
    )
    fig = plotting.plot_trials(ds)
    fig.savefig(tmp_path / "many.png")
    texts = [t.get_text() for a in fig.axes if a.get_legend() for t in a.get_legend().get_texts()]
    assert texts[:3] == ["fixation", "stimulus (32)", "rule (20)"]
    assert texts[3:5] == ["fixation", "choice (16)"]
    plt.close(fig)
