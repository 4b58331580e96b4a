"""Model files and labelled datasets: round trips, corrupt files, atomic writes."""

import json
import zipfile

import numpy as np
import pytest
import torch
import xarray as xr

import neurodyn
from neurodyn import load_dataset, load_model, save_dataset, save_model, simulate
from neurodyn.io import dataset_to_batch, read_header
from neurodyn.rnn_models import IRNN, RateRNN, SparseComboNet, SVDComboNet, TorchRNN, WaveRNN
from neurodyn.tasks import FlipFlop


def trained_like(net):
    """Perturb every parameter so a round trip cannot pass by re-initialisation."""
    with torch.no_grad():
        g = torch.Generator().manual_seed(0)
        for p in net.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return net


@pytest.mark.parametrize(
    "make",
    [
        lambda: RateRNN(
            3,
            10,
            3,
            dt=10.0,
            tau=np.linspace(20, 60, 10),
            train_tau=True,
            dale=True,
            readout_from_e=True,
            autapses=False,
            seed=0,
        ),
        lambda: RateRNN(3, 10, 3, nonlinearity="relu", bias=False, seed=1),
        lambda: TorchRNN("lstm", 3, 6, 3, seed=2),
        lambda: TorchRNN("rnn", 3, 6, 3, nonlinearity="relu", seed=2),
        lambda: SparseComboNet(3, 24, 3, n_modules=4, density=0.3, seed=3),
        lambda: SVDComboNet(3, 24, 3, n_modules=3, seed=4),
        lambda: WaveRNN(3, 3, n_neurons=8, n_channels=2, seed=5),
        lambda: IRNN(3, 12, 3, seed=6),
    ],
)
def test_model_round_trip(tmp_path, make):
    net = trained_like(make())
    path = save_model(net, tmp_path / "model")
    assert path.suffix == ".npz"
    # No pickled objects: the archive loads with allow_pickle=False.
    with np.load(path, allow_pickle=False) as data:
        assert "__neurodyn__" in data.files
    back = load_model(path)
    assert type(back) is type(net) and back.config() == net.config()
    for (k, v), (k2, w) in zip(net.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, w), k
    u = torch.randn(2, 7, 3)
    torch.testing.assert_close(back(u, noise=False).outputs, net(u, noise=False).outputs)
    assert read_header(path)["neurodyn_version"] == neurodyn.__version__


def test_every_model_class_can_be_loaded():
    from neurodyn import rnn_models
    from neurodyn.io.models import _model_classes

    classes = [getattr(rnn_models, name) for name in rnn_models.__all__]
    models = {c for c in classes if isinstance(c, type) and issubclass(c, rnn_models.Model)}
    assert models - {rnn_models.Model} <= set(_model_classes().values())


def test_load_refuses_bad_files(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(ValueError, match="does not exist"):
        load_model(missing)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable"):
        load_model(corrupt)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a neurodyn model"):
        load_model(foreign)


def test_load_refuses_other_format_version(tmp_path):
    path = save_model(RateRNN(1, 4, 1, seed=0), tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(bytes(arrays["__neurodyn__"]).decode())
    header["format"] = 999
    arrays["__neurodyn__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="format 999"):
        load_model(path)


def test_load_refuses_weights_that_do_not_fit(tmp_path):
    path = save_model(RateRNN(1, 4, 1, seed=0), tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["weight_rec"] = np.zeros((5, 5), dtype=np.float32)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="do not match"):
        load_model(path)


def test_truncated_file_is_refused(tmp_path):
    path = save_model(RateRNN(2, 30, 1, seed=0), tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        load_model(path)


def test_save_refuses_nan_weights(tmp_path):
    net = RateRNN(1, 4, 1, seed=0)
    with torch.no_grad():
        net.weight_rec[0, 0] = float("nan")
    with pytest.raises(ValueError, match="weight_rec"):
        save_model(net, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_model(RateRNN(1, 4, 1, seed=0), tmp_path / "m.npz")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        save_model(RateRNN(1, 4, 1, seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"], "temporary file left behind"


def test_simulation_dataset_schema_and_netcdf_round_trip(tmp_path):
    task = FlipFlop(dt=10.0, timing={"trial": 300.0})
    net = RateRNN(3, 12, 3, dt=10.0, dale=True, train_tau=True, tau=30.0, noise_rec=0.1, seed=0)
    ds = simulate(net, task, n_trials=5, seed=7)
    assert ds["rates"].dims == ("trial", "time", "unit")
    assert ds["outputs"].dims == ("trial", "time", "output")
    assert set(ds["ei"].values) == {"E", "I"}
    np.testing.assert_allclose(ds["tau"].values, net.tau.detach().numpy())
    np.testing.assert_allclose(ds["time"].values, 10.0 * np.arange(1, 31))
    assert ds.attrs["dt"] == 10.0 and ds.attrs["seed"] == 7
    assert json.loads(ds.attrs["model"])["config"]["n_hidden"] == 12
    assert "n_pulses" in ds.coords and "correct" in ds.coords
    path = save_dataset(ds, tmp_path / "eval.nc")
    back = load_dataset(path)
    xr.testing.assert_identical(back, ds)
    batch = dataset_to_batch(back)
    np.testing.assert_array_equal(batch.inputs, ds["inputs"].values)


def test_simulation_is_reproducible_and_noise_can_be_switched_off():
    task = FlipFlop(dt=10.0, timing={"trial": 200.0})
    net = RateRNN(3, 8, 3, dt=10.0, noise_rec=0.5, seed=0)
    a, b = simulate(net, task, n_trials=3, seed=1), simulate(net, task, n_trials=3, seed=1)
    xr.testing.assert_identical(a, b)
    c = simulate(net, task, n_trials=3, seed=1, noise=False)
    d = simulate(net, task, n_trials=3, seed=1, noise=False)
    assert not np.allclose(a["rates"], c["rates"])
    xr.testing.assert_identical(c, d)


def test_simulate_refuses_mismatched_trials():
    task = FlipFlop(dt=10.0)
    with pytest.raises(ValueError, match="n_input=2"):
        simulate(RateRNN(2, 8, 3, dt=10.0), task, n_trials=2)
    with pytest.raises(ValueError, match="dt"):
        simulate(RateRNN(3, 8, 3, dt=5.0), task, n_trials=2)


def test_model_file_is_a_plain_zip(tmp_path):
    path = save_model(RateRNN(1, 4, 1, seed=0), tmp_path / "m.npz")
    with zipfile.ZipFile(path) as zf:
        assert all(name.endswith(".npy") for name in zf.namelist())


def test_tables_and_json_safe_values():
    import csv as _csv
    import io as _io

    from neurodyn.io.tables import csv_text, json_safe, markdown_table

    header = ["model", "accuracy"]
    rows = [["a|b", 0.5], {"accuracy": 0.25, "model": "c", "ignored": 1}]
    back = list(_csv.reader(_io.StringIO(csv_text(header, rows))))
    assert back == [header, ["a|b", "0.5"], ["c", "0.25"]]
    lines = markdown_table(header, rows)
    assert lines[2] == "| a\\|b | 0.5 |" and len(lines) == 4
    with pytest.raises(ValueError, match="3 cells"):
        csv_text(header, [[1, 2, 3]])
    value = {"x": np.float32(1.5), "y": (np.int64(3), np.inf), "_tmp": 0, "ok": np.bool_(True)}
    assert json.loads(json.dumps(json_safe(value, drop_private=True))) == {
        "x": 1.5, "y": [3, None], "ok": True
    }
    assert "_tmp" in json_safe(value)


def test_atomic_write_json_writes_exact_text_and_keeps_old_file_on_error(tmp_path):
    from neurodyn.io import atomic_write_json

    data = {"a": [1, 2.5, None], "b": {"c": "é", "d": True}}
    path = tmp_path / "sub" / "x.json"
    assert atomic_write_json(path, data) == path
    assert path.read_text(encoding="utf-8") == json.dumps(data, indent=1)
    assert json.loads(path.read_text(encoding="utf-8")) == data
    atomic_write_json(path, data, indent=2)
    assert path.read_text(encoding="utf-8") == json.dumps(data, indent=2)
    # ``default`` is passed through to json.dumps.
    atomic_write_json(path, {"p": tmp_path}, default=str)
    assert path.read_text(encoding="utf-8") == json.dumps({"p": str(tmp_path)}, indent=1)

    before = path.read_bytes()
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["x.json"], "temporary file left behind"
