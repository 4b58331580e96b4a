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

from .._version import __version__
from .atomic import atomic_path

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Bumped when the file layout changes incompatibly.
FORMAT_VERSION = 1
_HEADER = "__neurodyn__"


def _model_classes():
    """Every model class of :mod:`neurodyn.rnn_models`, by its ``kind``."""
    from .. import rnn_models

    classes = (getattr(rnn_models, name) for name in rnn_models.__all__)
    return {
        cls.kind: cls
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, rnn_models.Model) and cls.kind
    }


def save_model(model, path: str | os.PathLike, *, extra: dict | None = None) -> Path:
    """Save ``model`` to ``path`` (``.npz``), atomically.

    Parameters
    ----------
    model : neurodyn Model
    path : path-like
        Destination; ``.npz`` is appended if missing.
    extra : dict, optional
        JSON-compatible metadata stored in the header (for example the task).

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
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
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def read_header(path: str | os.PathLike) -> dict:
    """Return the JSON header of a model file, checking that it is one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{str(path)!r} is not a readable neurodyn model file (not an .npz archive)"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            if _HEADER not in data.files:
                raise ValueError(
                    f"{str(path)!r} is not a neurodyn model file (no {_HEADER} header)"
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

    Raises
    ------
    ValueError
        If the file is missing, corrupt, not a neurodyn model, from an incompatible
        format version, or holds weights that do not fit its configuration.
    """
    header = read_header(path)
    classes = _model_classes()
    kind = header.get("kind")
    if kind not in classes:
        raise ValueError(f"{str(path)!r} holds a model of unknown kind {kind!r}")
    # The stored seed re-runs the initialiser; every tensor is then replaced by the file's.
    model = classes[kind](**header["config"])
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
