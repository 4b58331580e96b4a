"""NWB: sessions written here with pynwb are binned as by hand; neurodyn's files pass
nwbinspector and read back into the values written."""

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

import neurodyn
from neurodyn.io import read_nwb, recording, write_nwb
from neurodyn.rnn_models import RateRNN
from neurodyn.spiking import LIF, Network
from neurodyn.tasks import FlipFlop

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

START = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
DT = 10.0  # ms
#: Trials of the synthetic session (s): different lengths, a go cue, one go cue missing.
TRIALS = {
    "start_time": np.array([1.0, 2.0, 3.5]),
    "stop_time": np.array([1.5, 2.3, 4.2]),
    "go_time": np.array([1.2, np.nan, 3.9]),
    "condition": np.array(["left", "right", "left"]),
    "coherence": np.array([0.1, 0.4, 0.8]),
}
STIM_RATE = 1000.0  # Hz: 10 samples per bin of DT


def _spikes(seed):
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(0.5, 4.5, size=rng.integers(150, 250)))


def _synthetic_session(path: Path) -> dict:
    """A session with 3 units (one observed only in [0, 2.1) s), trials and two stimuli."""
    nwb = pynwb.NWBFile(session_description="synthetic", identifier="syn", session_start_time=START)
    for name in ("go_time", "condition", "coherence"):
        nwb.add_trial_column(name=name, description=name)
    for i in range(3):
        nwb.add_trial(**{k: v[i].item() for k, v in TRIALS.items()})
    spikes = {7: _spikes(1), 9: _spikes(2), 12: _spikes(3)}
    obs = {7: np.array([[0.0, 10.0]]), 9: np.array([[0.0, 10.0]]), 12: np.array([[0.0, 2.1]])}
    nwb.add_unit_column(name="depth", description="depth (um)")
    for uid, st in spikes.items():
        nwb.add_unit(id=uid, spike_times=st, depth=100.0 * uid, obs_intervals=obs[uid])
    t = np.arange(0.0, 5.0, 1 / STIM_RATE)
    ramp = pynwb.TimeSeries(name="ramp", data=np.sin(3 * t), unit="a.u.", rate=STIM_RATE,
                            starting_time=0.0, description="sine")  # fmt: skip
    slow_t = np.arange(0.0, 5.0, 0.037)  # slower than the bins: interpolated
    slow = pynwb.TimeSeries(name="slow", data=slow_t * 2.0, unit="a.u.", timestamps=slow_t,
                            description="2 t")  # fmt: skip
    nwb.add_stimulus(ramp)
    nwb.add_acquisition(slow)
    with pynwb.NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwb)
    return {"spikes": spikes, "obs": obs, "t": t}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = tmp_path_factory.mktemp("nwb") / "session.nwb"
    return path, _synthetic_session(path)


def _hand_counts(spikes, edges):
    return np.histogram(spikes, bins=edges)[0]


def test_units_are_binned_per_trial_like_a_histogram_and_padding_is_masked(session):
    path, truth = session
    ds = read_nwb(path, dt=DT)
    dur = TRIALS["stop_time"] - TRIALS["start_time"]
    lengths = np.floor(dur / (DT / 1000) + 1e-9).astype(int)  # 50, 30, 70 bins
    np.testing.assert_array_equal(ds["length"], lengths)
    assert ds.sizes["time"] == lengths.max()
    np.testing.assert_array_equal(ds["time"], DT * np.arange(1, lengths.max() + 1))
    assert list(ds["neuron"].values) == [7, 9, 12]
    np.testing.assert_array_equal(ds["depth"], [700.0, 900.0, 1200.0])
    assert ds.attrs["kind"] == "counts" and ds.attrs["dt"] == DT
    for k in range(3):
        edges = TRIALS["start_time"][k] + np.arange(lengths[k] + 1) * DT / 1000
        for n, uid in enumerate([7, 9, 12]):
            got = ds["activity"].values[k, : lengths[k], n]
            want = _hand_counts(truth["spikes"][uid], edges).astype(float)
            observed = ds["mask"].values[k, : lengths[k], n].astype(bool)
            np.testing.assert_array_equal(got[observed], want[observed])
        pad = slice(lengths[k], None)
        assert not ds["mask"].values[k, pad].any()
        assert np.isnan(ds["activity"].values[k, pad]).all()


def test_obs_intervals_mask_the_bins_a_unit_was_not_observed(session):
    path, _ = session
    ds = read_nwb(path, dt=DT)
    m = ds["mask"].values.astype(bool)
    # Unit 12 observed in [0, 2.1) s: all of trial 0, trial 1 up to 2.1 s (10 bins), not trial 2.
    assert m[0, :50, 2].all()
    assert m[1, :10, 2].all() and not m[1, 10:, 2].any()
    assert not m[2, :, 2].any()
    assert m[2, :70, 0].all()  # units observed throughout


def test_trial_columns_become_trial_variables(session):
    path, _ = session
    ds = read_nwb(path, dt=DT)
    for k, v in TRIALS.items():
        np.testing.assert_array_equal(ds[k].values, v)
    assert ds["start_time"].attrs["units"] == "s"
    assert ds.attrs["session_description"] == "synthetic"


def test_spikes_stamped_on_bin_starts_fall_in_their_bin(tmp_path):
    # One spike per 1-ms step, stamped k / 1000 s: in binary some of these lie an ulp
    # below the edge 1.0 + j * 0.001 that bins them, some an ulp above.
    nwb = pynwb.NWBFile(session_description="grid", identifier="g", session_start_time=START)
    nwb.add_trial(start_time=1.0, stop_time=1.5)
    nwb.add_unit(spike_times=(1000 + np.arange(500)) / 1000)
    with pynwb.NWBHDF5IO(str(tmp_path / "grid.nwb"), mode="w") as io:
        io.write(nwb)
    ds = read_nwb(tmp_path / "grid.nwb", dt=1.0)
    np.testing.assert_array_equal(ds["activity"].values.ravel(), np.ones(500))


def test_a_window_around_an_event(session):
    path, truth = session
    ds = read_nwb(path, dt=DT, align="go_time", window=(200.0, 100.0), units=[9, 7])
    assert ds.sizes["time"] == 30
    np.testing.assert_allclose(ds["time"], -200.0 + DT * np.arange(1, 31))
    assert list(ds["neuron"].values) == [9, 7]
    for k in (0, 2):
        edges = TRIALS["go_time"][k] - 0.2 + np.arange(31) * DT / 1000
        for n, uid in enumerate([9, 7]):
            want = _hand_counts(truth["spikes"][uid], edges)
            np.testing.assert_array_equal(ds["activity"].values[k, :, n], want)
    # Trial 1 has no go cue: nothing of it is observed.
    assert ds["length"].values[1] == 0 and not ds["mask"].values[1].any()
    assert ds["mask"].values[[0, 2]].all()


def test_inputs_are_resampled_to_the_bins(session):
    path, truth = session
    ds = read_nwb(path, dt=DT, inputs=["ramp", "slow"])
    assert list(ds["input"].values) == ["ramp", "slow"]
    t = truth["t"]
    for k in range(3):
        n = int(ds["length"][k])
        left = TRIALS["start_time"][k] + np.arange(n) * DT / 1000
        # The ramp has 10 samples in each bin: their mean.
        want = [np.sin(3 * t[(t >= a - 1e-9) & (t < a + DT / 1000 - 1e-9)]).mean() for a in left]
        # float64 means of 10 samples: a few ulps of values of order 1.
        np.testing.assert_allclose(ds["inputs"].values[k, :n, 0], want, rtol=0, atol=1e-12)
        # The slow series (2 t every 37 ms) is linear: interpolation at the centres is exact
        # where a bin has no sample, and the mean of one sample in a bin is 2 t of it.
        got = ds["inputs"].values[k, :n, 1]
        centres = left + DT / 2000
        np.testing.assert_allclose(got, 2 * centres, atol=2 * DT / 2000 + 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dt": 0.0}, "dt must be finite and > 0"),
        ({"align": "go_time"}, "align='go_time' needs window=(before_ms, after_ms)"),
        ({"align": "cue", "window": (0, 100)}, "align='cue' is not a column of the trials table"),
        ({"window": (0, 15)}, "must be a positive multiple of dt=10.0 ms"),
        ({"window": (5,)}, "window must be (before_ms, after_ms)"),
        ({"units": [7, 8]}, "units [8] are not ids of the Units table"),
        ({"inputs": ["nothing"]}, "inputs: the file has no TimeSeries named 'nothing'"),
        ({"activity": "nothing"}, "activity: the file has no TimeSeries named 'nothing'"),
        ({"activity": "ramp", "units": [3]}, "units must be column indices in [0, 1)"),
    ],
)
def test_read_errors_name_the_argument(session, kwargs, message):
    path, _ = session
    with pytest.raises(ValueError) as err:
        read_nwb(path, **{"dt": DT, **kwargs})
    assert message in str(err.value)


def test_read_refuses_a_missing_file_and_a_file_without_trials(tmp_path):
    with pytest.raises(ValueError, match="is not an existing NWB file"):
        read_nwb(tmp_path / "none.nwb", dt=DT)
    nwb = pynwb.NWBFile(session_description="x", identifier="x", session_start_time=START)
    with pynwb.NWBHDF5IO(str(tmp_path / "bare.nwb"), mode="w") as io:
        io.write(nwb)
    with pytest.raises(ValueError, match="has no trials table"):
        read_nwb(tmp_path / "bare.nwb", dt=DT)


def test_without_pynwb_the_error_says_what_to_install(session, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)  # import pynwb then raises ImportError
    with pytest.raises(ImportError, match=r'pip install "neurodyn\[nwb\]"'):
        read_nwb(session[0], dt=DT)


# ------------------------------------------------------------------ writing, inspecting


def _inspect(path):
    """nwbinspector's findings, and those at or above BEST_PRACTICE_VIOLATION."""
    found = list(nwbinspector.inspect_nwbfile(nwbfile_path=path))
    serious = [
        m
        for m in found
        if m.importance.value >= nwbinspector.Importance.BEST_PRACTICE_VIOLATION.value
    ]
    return found, serious


#: What the inspector still suggests for a file written with no user metadata: people
#: and places that neurodyn cannot know.
EXPECTED_SUGGESTIONS = {"check_experimenter_exists", "check_institution"}


def _write(ds, path, **kw):
    return write_nwb(ds, path, session_description="neurodyn test", session_start_time=START, **kw)


@pytest.fixture(scope="module")
def simulation():
    return neurodyn.simulate(RateRNN(3, 12, 3, dt=DT, seed=0), FlipFlop(dt=DT), n_trials=5, seed=3)


def test_a_simulation_round_trips_and_passes_the_inspector(tmp_path, simulation):
    sim = simulation
    path = _write(sim, tmp_path / "sim.nwb")
    found, serious = _inspect(path)
    assert serious == []
    assert {m.check_function_name for m in found} <= EXPECTED_SUGGESTIONS
    back = read_nwb(path, dt=DT, inputs=list(sim["input"].values))
    # Without inputs=, the channels the file's notes name are read: the same Dataset.
    by_default = read_nwb(path, dt=DT)
    assert by_default.identical(back)
    assert "inputs" not in read_nwb(path, dt=DT, inputs=()).data_vars
    # float32 values are stored as float32 and each bin holds exactly its one sample.
    np.testing.assert_array_equal(back["activity"].values, sim["rates"].values)
    assert back["activity"].dtype == np.float32
    np.testing.assert_array_equal(back["inputs"].values, sim["inputs"].values)
    np.testing.assert_array_equal(back["time"].values, sim["time"].values)
    np.testing.assert_array_equal(back["length"].values, sim["length"].values)
    assert list(back["input"].values) == list(sim["input"].values)
    for k, c in sim.coords.items():
        if c.dims == ("trial",):
            np.testing.assert_array_equal(back[k].values, c.values)
    for k in ("dt", "seed", "model", "task", "neurodyn_version", "periods", "noise"):
        assert back.attrs[k] == sim.attrs[k]
    # Trials lie end to end on the session clock.
    np.testing.assert_allclose(back["start_time"], np.arange(5) * sim.sizes["time"] * DT / 1000)


def test_simulation_outputs_and_metadata_are_in_the_file(tmp_path, simulation):
    path = _write(simulation, tmp_path / "sim.nwb", metadata={"lab": "dynamics"})
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        nwb = io.read()
        out = nwb.processing["misc"]["outputs"].data[:]
        assert json.loads(nwb.notes)["model"] == simulation.attrs["model"]
        assert [list(x) for x in nwb.was_generated_by[:]] == [
            ["neurodyn", simulation.attrs["neurodyn_version"]]
        ]
        assert nwb.lab == "dynamics"
        assert nwb.subject.species.endswith("NCBITaxon_32630")
    np.testing.assert_array_equal(out, simulation["outputs"].values.reshape(-1, 3))


def _count_recording():
    rng = np.random.default_rng(5)
    counts = rng.poisson(1.5, (4, 25, 6))
    mask = np.ones(counts.shape, dtype=bool)
    mask[1, 5:12, 3] = False  # neuron 3 lost for a while in trial 1
    mask[2, :, 0] = False  # neuron 0 missing from trial 2
    return recording(
        counts,
        rng.normal(size=(4, 25, 2)),
        dt=5.0,
        kind="counts",
        mask=mask,
        lengths=[25, 18, 20, 9],
        trial_variables={"rule": np.array(["a", "b", "a", "c"]), "delay": [1.0, 2.0, 3.0, 4.0]},
        neurons=[3, 5, 8, 13, 21, 34],
    ).assign_coords(area=("neuron", ["M1", "M1", "PMd", "PMd", "PMd", "M1"]))


def test_counts_round_trip_through_a_units_table_with_observation_intervals(tmp_path):
    rec = _count_recording()
    path = _write(rec, tmp_path / "counts.nwb")
    found, serious = _inspect(path)
    assert serious == []
    assert {m.check_function_name for m in found} <= EXPECTED_SUGGESTIONS
    back = read_nwb(path, dt=5.0, inputs=["u0", "u1"])
    np.testing.assert_array_equal(back["mask"], rec["mask"])
    observed = rec["mask"].values.astype(bool)
    np.testing.assert_array_equal(
        back["activity"].values[observed], rec["activity"].values[observed]
    )
    assert np.isnan(back["activity"].values[~observed]).all()
    valid = np.arange(25)[None, :] < rec["length"].values[:, None]
    np.testing.assert_array_equal(back["inputs"].values[valid], rec["inputs"].values[valid])
    assert list(back["neuron"].values) == [3, 5, 8, 13, 21, 34]
    assert list(back["area"].values) == list(rec["area"].values)
    assert list(back["rule"].values) == ["a", "b", "a", "c"]
    np.testing.assert_array_equal(back["delay"], rec["delay"])


def test_rates_with_gaps_round_trip_as_nan(tmp_path):
    rec = _count_recording()
    rates = rec["activity"].where(rec["mask"] == 1).astype(np.float32) * 0.37
    rec = rec.assign(activity=rates)
    rec.attrs["kind"] = "rates"
    back = read_nwb(_write(rec, tmp_path / "rates.nwb"), dt=5.0)
    np.testing.assert_array_equal(back["activity"].values, rec["activity"].values)
    np.testing.assert_array_equal(back["mask"].values, rec["mask"].values)


def test_a_spiking_simulation_round_trips_as_counts(tmp_path):
    net = Network(dt=1.0)
    net.add_lif("n", 4, LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0))
    sp = net.run(80.0, backend="numpy", n_samples=3)
    path = _write(sp, tmp_path / "spikes.nwb")
    assert _inspect(path)[1] == []
    for dt in (1.0, 4.0):
        back = read_nwb(path, dt=dt)
        n_bins = round(80.0 / dt)
        assert back.sizes["trial"] == 3 and back.sizes["time"] == n_bins
        times = sp["spike_time"].values
        for s in range(3):
            for u in range(4):
                own = times[(sp["spike_sample"].values == s) & (sp["spike_unit"].values == u)]
                # Spikes lie on the 1-ms step grid, on the bins' starts when dt = 1 ms: a
                # spike stamped at a bin's start belongs to that bin, whatever the rounding
                # of sample offset + spike time in seconds.
                want = np.bincount(np.floor(own / dt).astype(int), minlength=n_bins)
                np.testing.assert_array_equal(back["activity"].values[s, :, u], want)
    np.testing.assert_array_equal(back["activity"].values.sum(1), sp["counts"].values)
    assert list(back["population"].values) == ["n"] * 4


def test_write_is_atomic(tmp_path, simulation, monkeypatch):
    target = tmp_path / "sim.nwb"
    target.write_bytes(b"old")
    real_write = pynwb.NWBHDF5IO.write

    def write_then_fail(self, *args, **kwargs):
        real_write(self, *args, **kwargs)  # the temporary file is complete...
        raise OSError("disk full")  # ...and the writer fails before it is renamed

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        _write(simulation, target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim.nwb"]  # no temporary left
    fresh = tmp_path / "fresh.nwb"
    with pytest.raises(OSError, match="disk full"):
        _write(simulation, fresh)
    assert not fresh.exists()


@pytest.mark.parametrize(
    ("ds", "kwargs", "message"),
    [
        ("array", {}, "ds must be an xarray.Dataset"),
        ("empty", {}, "ds must be a simulation"),
        ("sim", {"path": "x.h5"}, "must end in .nwb"),
        ("sim", {"session_description": " "}, "session_description must be a non-empty"),
        ("sim", {"session_start_time": datetime(2024, 1, 1)}, "timezone-aware datetime"),
    ],
)
def test_write_errors_name_the_argument(tmp_path, simulation, ds, kwargs, message):
    data = {"array": np.zeros(3), "empty": simulation[["inputs"]], "sim": simulation}[ds]
    args = {
        "path": tmp_path / "x.nwb",
        "session_description": "d",
        "session_start_time": START,
        **kwargs,
    }
    if isinstance(args["path"], str):
        args["path"] = tmp_path / args["path"]
    with pytest.raises(ValueError) as err:
        write_nwb(data, **args)
    assert message in str(err.value)
