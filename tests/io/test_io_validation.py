"""Bad arguments to the file functions: each is a ValueError that names the argument and
what was expected (or the format found), and nothing is written."""

import json

import numpy as np
import pytest
import torch
import xarray as xr

from neurodyn import load_dataset, load_model, save_dataset, save_model
from neurodyn.io import batch_to_dataset, dataset_to_batch
from neurodyn.rnn_models import Model, RateRNN
from neurodyn.tasks import FlipFlop


@pytest.fixture
def net():
    return RateRNN(2, 4, 1, seed=0)


def files(folder):
    return sorted(p.name for p in folder.rglob("*"))


# -- load_model ---------------------------------------------------------------------------------
def test_load_model_on_a_run_folder_names_the_model_file(tmp_path, net):
    save_model(net, tmp_path / "model.npz")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"is a folder; load_model expects a model file") as err:
        load_model(tmp_path)
    assert repr(str(tmp_path / "model.npz")) in str(err.value)


def test_load_model_on_an_unfinished_run_folder_says_so(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"unfinished training run \(checkpoint.pt"):
        load_model(tmp_path)


def test_load_model_on_a_folder_lists_the_model_files_in_it(tmp_path, net):
    save_model(net, tmp_path / "b.npz")
    save_model(net, tmp_path / "a.npz")
    np.savez(tmp_path / "not_a_model.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match=r"Model files in it: 'a.npz', 'b.npz'$"):
        load_model(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"holds no neurodyn model file"):
        load_model(empty)


def test_load_model_without_the_suffix_suggests_the_file(tmp_path, net):
    save_model(net, tmp_path / "model")
    with pytest.raises(ValueError, match=r"does not exist \(did you mean '.*model.npz'\?\)"):
        load_model(tmp_path / "model")


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"step,loss\n1,0.5\n", r"a text file \(CSV\?\)"),
        (b"", r"an empty file \(0 bytes\)"),
        (b"\x89HDF\r\n\x1a\n" + bytes(100), "an HDF5 file"),
        (b"CDF\x01" + bytes(60), "a netCDF-3 file"),
    ],
)
def test_load_model_names_the_format_it_found(tmp_path, content, found):
    path = tmp_path / "thing.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"not a readable neurodyn model file: it is {found}"):
        load_model(path)


def test_load_model_on_a_torch_checkpoint_names_it(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": {"w": torch.ones(2)}}, path)
    with pytest.raises(ValueError, match=r"it is a PyTorch file"):
        load_model(path)


def test_load_model_refuses_what_is_not_a_path(net):
    with pytest.raises(ValueError, match=r"path must be a file path .*got RateRNN"):
        load_model(net)


# -- save_model ---------------------------------------------------------------------------------
class _Unregistered(Model):
    kind = "not_registered"

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self._config = {}

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None):
        raise AssertionError("not run")


@pytest.mark.parametrize(
    ("obj", "hint"),
    [
        (torch.nn.GRU(2, 4, batch_first=True), r"TorchRNN.from_module"),
        (RateRNN(2, 4, 1, seed=0).state_dict(), "a state_dict holds weights without"),
        (torch.nn.Linear(2, 3), r"torch.save\(module.state_dict\(\), path\)"),
        (None, "pass the network"),
        (_Unregistered(), "kind 'not_registered', which load_model cannot rebuild"),
    ],
)
def test_save_model_refuses_what_is_not_a_neurodyn_model(tmp_path, obj, hint):
    with pytest.raises(ValueError, match=rf"^model .*{hint}"):
        save_model(obj, tmp_path / "m.npz")
    assert files(tmp_path) == []


def test_save_model_with_swapped_arguments_says_so(tmp_path, net):
    with pytest.raises(ValueError, match=r"wrong order: save_model"):
        save_model(tmp_path / "m.npz", net)
    assert files(tmp_path) == []


@pytest.mark.parametrize("name", ["m.pt", "m.pth", "m.nc", "m.json", "m.PT"])
def test_save_model_refuses_a_suffix_of_another_format_and_names_the_one_written(
    tmp_path, net, name
):
    expected = (
        r"save_model writes a NumPy .npz archive; expected a path ending in .npz, e.g. '.*m.npz'"
    )
    with pytest.raises(ValueError, match=expected):
        save_model(net, tmp_path / name)
    assert files(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "written"),
    [("m.npz", "m.npz"), ("m", "m.npz"), ("lr0.1", "lr0.1.npz"), ("m.NPZ", "m.NPZ")],
)
def test_save_model_writes_exactly_the_path_it_returns(tmp_path, net, name, written):
    path = save_model(net, tmp_path / name)
    assert path == tmp_path / written
    assert files(tmp_path) == [written]
    assert load_model(path).config() == net.config()


def test_save_model_refuses_a_folder_and_bad_extra(tmp_path, net):
    with pytest.raises(ValueError, match=r"path .* is a folder; expected a file name"):
        save_model(net, tmp_path)
    with pytest.raises(ValueError, match=r"extra must be a dict"):
        save_model(net, tmp_path / "m.npz", extra=["task"])
    with pytest.raises(ValueError, match=r"extra must hold JSON-compatible values"):
        save_model(net, tmp_path / "m.npz", extra={"when": object()})
    with pytest.raises(ValueError, match=r"extra must hold JSON-compatible values"):
        save_model(net, tmp_path / "m.npz", extra={"loss": float("nan")})
    assert files(tmp_path) == []


def test_extra_round_trips_through_the_header(tmp_path, net):
    from neurodyn.io import read_header

    extra = {"task": {"name": "flip_flop"}, "steps": 3}
    path = save_model(net, tmp_path / "m.npz", extra=extra)
    assert read_header(path)["extra"] == extra


# -- load_dataset and save_dataset --------------------------------------------------------------
@pytest.fixture
def ds():
    return FlipFlop(dt=10.0, timing={"trial": 100.0}).batch(3, seed=0).to_xarray()


def test_load_dataset_on_a_folder_lists_the_netcdf_files(tmp_path, ds):
    save_dataset(ds, tmp_path / "evaluation.nc")
    with pytest.raises(ValueError, match=r"load_dataset expects a netCDF file.*'evaluation.nc'"):
        load_dataset(tmp_path)


def _npy(path, array):
    with open(path, "wb") as fh:
        np.save(fh, array)


@pytest.mark.parametrize(
    ("write", "found"),
    [
        (lambda p: p.write_text("a,b\n1,2\n"), r"a text file \(CSV\?\)"),
        (lambda p: p.write_text('{"a": 1}'), r"a text file \(JSON\?\)"),
        (lambda p: p.write_bytes(b""), "an empty file"),
        (
            lambda p: save_model(RateRNN(1, 2, 1, seed=0), p.with_suffix(".npz")).rename(p),
            "a neurodyn model file \\(read it with neurodyn.load_model\\)",
        ),
        (lambda p: torch.save({"a": torch.ones(1)}, p), "a PyTorch file"),
        (lambda p: _npy(p, np.ones(2)), "a NumPy .npy array file"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20)), "a PNG image"),
    ],
)
def test_load_dataset_names_the_format_it_found(tmp_path, write, found):
    path = tmp_path / "data.nc"
    write(path)
    with pytest.raises(ValueError, match=f"is not a netCDF file: it is {found}"):
        load_dataset(path)


def test_load_dataset_on_hdf5_without_a_reader_says_what_to_install(tmp_path):
    path = tmp_path / "data.nc"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    if {"netcdf4", "h5netcdf"} & set(xr.backends.list_engines()):
        with pytest.raises(ValueError, match=r"is an HDF5 file .* that cannot be read"):
            load_dataset(path)
    else:
        with pytest.raises(ValueError, match=r"install h5netcdf or netCDF4"):
            load_dataset(path)


def test_a_truncated_netcdf_file_is_refused(tmp_path, ds):
    path = save_dataset(ds, tmp_path / "d.nc")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"is a netCDF-3 file that cannot be read"):
        load_dataset(path)


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda ds: ds["inputs"], r"ds.to_dataset\(name='inputs'\)"),
        (lambda ds: dataset_to_batch(ds), r"save_dataset\(obj.to_xarray\(\), path\)"),
        (lambda ds: {"inputs": ds["inputs"].values}, "neurodyn.simulate"),
    ],
)
def test_save_dataset_refuses_what_is_not_a_dataset(tmp_path, ds, make, hint):
    with pytest.raises(ValueError, match=rf"^ds must be an xarray.Dataset, got .*{hint}"):
        save_dataset(make(ds), tmp_path / "d.nc")
    with pytest.raises(ValueError, match=r"wrong order: save_dataset"):
        save_dataset(tmp_path / "d.nc", ds)
    assert files(tmp_path) == []


def test_save_dataset_paths(tmp_path, ds):
    with pytest.raises(ValueError, match=r"ends in '.csv' \(CSV\), but save_dataset writes netCDF"):
        save_dataset(ds, tmp_path / "d.csv")
    with pytest.raises(ValueError, match=r"is a folder; expected a file name"):
        save_dataset(ds, tmp_path)
    assert files(tmp_path) == []
    assert save_dataset(ds, tmp_path / "d") == tmp_path / "d.nc"
    assert files(tmp_path) == ["d.nc"]
    xr.testing.assert_identical(load_dataset(tmp_path / "d.nc"), ds)


def test_a_dataset_netcdf_cannot_store_is_refused_and_the_old_file_kept(tmp_path, ds):
    path = save_dataset(ds, tmp_path / "d.nc")
    before = path.read_bytes()
    bad = ds.assign(z=("trial", np.ones(ds.sizes["trial"]) * 1j))
    with pytest.raises(ValueError, match=r"^ds cannot be stored as netCDF"):
        save_dataset(bad, path)
    nested = ds.assign_attrs(config={"nested": 1})
    with pytest.raises(ValueError, match=r"^ds cannot be stored as netCDF"):
        save_dataset(nested, path)
    assert path.read_bytes() == before
    assert files(tmp_path) == ["d.nc"]


def test_dataset_to_batch_names_what_is_missing(ds):
    with pytest.raises(ValueError, match=r"ds lacks targets, attrs\['dt'\]; expected a Dataset"):
        dataset_to_batch(ds.drop_vars("targets").drop_attrs())
    with pytest.raises(ValueError, match=r"ds must be an xarray.Dataset, got dict"):
        dataset_to_batch({"inputs": 1})
    back = dataset_to_batch(ds)
    assert json.dumps(back.task) == ds.attrs["task"]


def test_batch_to_dataset_refuses_a_dataset():
    # The message names the method that makes a batch (Task.batch; there is no sample).
    with pytest.raises(ValueError, match=r"batch must be a neurodyn.tasks.Batch \(task\.batch\("):
        batch_to_dataset(xr.Dataset())


def test_a_model_configuration_the_class_refuses_is_a_value_error(tmp_path, net):
    path = save_model(net, tmp_path / "m.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(bytes(arrays["__neurodyn__"]).decode())
    header["config"]["unknown_option"] = 1
    arrays["__neurodyn__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(
        ValueError, match=r"holds a 'rate' configuration this neurodyn cannot build"
    ):
        load_model(path)
