"""Self-describing model files.

A model file is a NumPy ``.npz`` archive (no pickle) holding every tensor of the
model's ``state_dict`` (weights, masks, E/I signs, time constants) and one JSON
header with the model kind, its constructor configuration and the neurodyn version
that wrote it. :func:`load_model` rebuilds the model from the file alone.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from .. import rnn_models
from .._version import __version__
from ..rnn_models import Model
from ._formats import MODEL_FILE_HEADER, check_path, describe_file, model_files, suffix_format
from .atomic import atomic_path

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Bumped when the file layout changes incompatibly.
FORMAT_VERSION = 1
_HEADER = MODEL_FILE_HEADER


def _model_classes():
    """Every model class of :mod:`neurodyn.rnn_models`, by its ``kind``."""
    classes = (getattr(rnn_models, name) for name in rnn_models.__all__)
    return {
        cls.kind: cls
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, Model) and cls.kind
    }


def _check_model(model, path) -> None:
    """Refuse anything :func:`load_model` could not rebuild, saying what to pass instead."""
    if isinstance(model, Model):
        if model.kind not in _model_classes():
            raise ValueError(
                f"model is a {type(model).__name__} of kind {model.kind!r}, which load_model "
                f"cannot rebuild; expected one of the kinds {sorted(_model_classes())}"
            )
        return
    got = type(model).__name__
    if isinstance(model, (str, os.PathLike)) and isinstance(path, Model):
        hint = "the arguments are in the wrong order: save_model(model, path)"
    elif isinstance(model, (torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM)):
        hint = "wrap it first: save_model(neurodyn.rnn_models.TorchRNN.from_module(module), path)"
    elif isinstance(model, dict):
        hint = "a state_dict holds weights without the architecture; pass the model itself"
    elif isinstance(model, torch.nn.Module):
        hint = "other torch modules are saved with torch.save(module.state_dict(), path)"
    else:
        hint = "pass the network, e.g. the model given to neurodyn.fit"
    raise ValueError(
        f"model must be a neurodyn model (neurodyn.rnn_models.Model), got {got}; {hint}"
    )


def _model_path(path) -> Path:
    """The file :func:`save_model` writes for ``path``: ``.npz`` appended when it has no suffix
    (or one that is not a file format, as in ``lr0.1``); a path naming another format is
    refused, so that ``m.pt`` never silently becomes ``m.pt.npz``."""
    path = check_path("path", path)
    if path.is_dir():
        raise ValueError(
            f"path {str(path)!r} is a folder; expected a file name such as "
            f"{str(path / 'model.npz')!r}"
        )
    if path.suffix.lower() == ".npz":
        return path
    fmt = suffix_format(path)
    if fmt is not None:
        raise ValueError(
            f"path {str(path)!r} ends in {path.suffix!r} ({fmt}), but save_model writes a NumPy "
            f".npz archive; expected a path ending in .npz, e.g. "
            f"{str(path.with_suffix('.npz'))!r}"
        )
    return path.with_name(path.name + ".npz")


def _header_bytes(header: dict) -> np.ndarray:
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        what = "extra" if "extra" in header and _not_json(header["extra"]) else "model.config()"
        raise ValueError(
            f"{what} must hold JSON-compatible values (str, int, float, bool, None, lists and "
            f"dicts of them; finite numbers): {err}"
        ) from None
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _not_json(value) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return True
    return False


def save_model(model, path: str | os.PathLike, *, extra: dict | None = None) -> Path:
    """Save ``model`` to ``path`` (a NumPy ``.npz`` archive, no pickle), atomically.

    Parameters
    ----------
    model : neurodyn Model
        Any model of :mod:`neurodyn.rnn_models` (wrap a plain ``torch.nn.RNN``, ``GRU``
        or ``LSTM`` with :meth:`~neurodyn.rnn_models.TorchRNN.from_module` first).
    path : path-like
        Destination. A path ending in ``.npz`` is written as given; ``.npz`` is
        appended to one without a file suffix (``"model"`` → ``model.npz``); a path
        whose suffix names another format (``.pt``, ``.pth``, ``.nc``, ``.json``…) is
        refused, since the file would not be what its name says.
    extra : dict, optional
        JSON-compatible metadata stored in the header (for example the task).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If ``model`` is not a neurodyn model, holds NaN or infinite weights, or
        ``path`` or ``extra`` is unusable; nothing is written then.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neurodyn.rnn_models import RateRNN
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> save_model(RateRNN(1, 4, 1, seed=0), folder / "model").name
    'model.npz'
    >>> save_model(RateRNN(1, 4, 1, seed=0), "model.pt")
    Traceback (most recent call last):
    ...
    ValueError: path 'model.pt' ends in '.pt' (PyTorch), but save_model writes a NumPy .npz archive; expected a path ending in .npz, e.g. 'model.npz'
    """
    _check_model(model, path)
    path = _model_path(path)
    if extra is not None and not isinstance(extra, dict):
        raise ValueError(
            f"extra must be a dict of JSON-compatible values, got {type(extra).__name__}"
        )
    model.check_weights()
    header = {
        "format": FORMAT_VERSION,
        "neurodyn_version": __version__,
        "kind": model.kind,
        "config": model.config(),
        "extra": extra or {},
    }
    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    if _HEADER in arrays:
        raise ValueError(f"model has a state entry named {_HEADER!r}, which is reserved")
    arrays[_HEADER] = _header_bytes(header)
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _folder_message(folder: Path) -> str:
    """Why a folder is not a model file, and which file in it to pass instead."""
    found = model_files(folder)
    head = f"{str(folder)!r} is a folder; load_model expects a model file (.npz)"
    if folder / "model.npz" in found:
        return f"{head}. It holds a run's model: load_model({str(folder / 'model.npz')!r})"
    if (folder / "checkpoint.pt").is_file():
        return (
            f"{head}. It holds an unfinished training run (checkpoint.pt, no model.npz yet): "
            "continue it with --resume, or read the checkpoint with "
            "neurodyn.train.load_checkpoint"
        )
    if found:
        names = ", ".join(repr(p.name) for p in found[:5]) + (", …" if len(found) > 5 else "")
        return f"{head}. Model files in it: {names}"
    return f"{head}, and it holds no neurodyn model file"


def read_header(path: str | os.PathLike) -> dict:
    """Return the JSON header of a model file, checking that it is one.

    Parameters
    ----------
    path : str or os.PathLike
        A model file written by :func:`save_model`.

    Returns
    -------
    dict
        ``format`` (the file format version), ``neurodyn_version`` (of the writer),
        ``kind`` (the model class's ``kind``), ``config`` (its constructor arguments)
        and ``extra`` (what :func:`save_model` was given). No weights are read.

    Raises
    ------
    ValueError
        As :func:`load_model`, for a path that is no readable model file.

    Examples
    --------
    >>> from neurodyn.io import read_header, save_model
    >>> from neurodyn.rnn_models import RateRNN
    >>> path = save_model(RateRNN(2, 16, 1, seed=0), "net", extra={"task": "flip_flop"})
    >>> header = read_header(path)
    >>> header["kind"], header["config"]["n_hidden"], header["extra"]
    ('rate', 16, {'task': 'flip_flop'})
    """
    path = check_path("path", path)
    if path.is_dir():
        raise ValueError(_folder_message(path))
    if not path.is_file():
        alt = path.with_name(path.name + ".npz")
        hint = f" (did you mean {str(alt)!r}?)" if alt.is_file() else ""
        raise ValueError(f"model file {str(path)!r} does not exist{hint}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{str(path)!r} is not a readable neurodyn model file: it is {describe_file(path)}, "
            "not an .npz archive"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            if _HEADER not in data.files:
                raise ValueError(
                    f"{str(path)!r} is not a neurodyn model file (no {_HEADER} header): it is "
                    f"{describe_file(path)}"
                )
            header = json.loads(bytes(data[_HEADER]).decode("utf-8"))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as err:
        raise ValueError(f"{str(path)!r} is not a readable neurodyn model file: {err}") from None
    fmt = header.get("format")
    if fmt != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written by neurodyn {header.get('neurodyn_version')} in file "
            f"format {fmt}; this neurodyn ({__version__}) reads format {FORMAT_VERSION}"
        )
    return header


def load_model(path: str | os.PathLike):
    """Rebuild a model from a file written by :func:`save_model`.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_model` (in a run folder, ``model.npz``).

    Raises
    ------
    ValueError
        If the path is a folder (the message names the model file in it, if any), or
        the file is missing, corrupt, of another format (named in the message), not a
        neurodyn model, from an incompatible format version, or holds weights that do
        not fit its configuration.

    Returns
    -------
    Model
        The model, of the class its header names, with the file's tensors, in
        evaluation mode.

    Examples
    --------
    >>> import torch
    >>> from neurodyn.io import load_model, save_model
    >>> from neurodyn.rnn_models import RateRNN
    >>> net = RateRNN(2, 16, 1, seed=0)
    >>> model = load_model(save_model(net, "net.npz"))
    >>> type(model).__name__, model.config() == net.config()
    ('RateRNN', True)
    >>> all(torch.equal(a, b) for a, b in zip(net.state_dict().values(),
    ...                                       model.state_dict().values()))
    True
    """
    header = read_header(path)
    classes = _model_classes()
    kind = header.get("kind")
    if kind not in classes:
        raise ValueError(f"{str(path)!r} holds a model of unknown kind {kind!r}")
    # The stored seed re-runs the initialiser; every tensor is then replaced by the file's.
    try:
        model = classes[kind](**header["config"])
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{str(path)!r} holds a {kind!r} configuration this neurodyn cannot build: {err}"
        ) from None
    with np.load(path, allow_pickle=False) as data:
        state = {k: torch.from_numpy(data[k].copy()) for k in data.files if k != _HEADER}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"{str(path)!r}: weights do not match the stored configuration: {err}"
        ) from None
    model.check_weights()
    model.eval()
    return model
