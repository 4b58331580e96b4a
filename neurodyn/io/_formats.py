"""What a path is: the file format its suffix or its first bytes say, and what a folder holds.

Used to turn "cannot read this" into a message that says what was found instead:
a folder, a PyTorch checkpoint, a NumPy archive, an HDF5 file, a CSV table.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

__all__ = ["MODEL_FILE_HEADER", "check_path", "describe_file", "model_files", "suffix_format"]

#: Name of the JSON header entry inside a neurodyn model archive.
MODEL_FILE_HEADER = "__neurodyn__"

#: Suffixes that name a format other than neurodyn's model (.npz) and dataset (.nc) files.
_FOREIGN = {
    ".pt": "PyTorch",
    ".pth": "PyTorch",
    ".ckpt": "checkpoint",
    ".bin": "binary",
    ".safetensors": "safetensors",
    ".onnx": "ONNX",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".npy": "NumPy .npy",
    ".npz": "NumPy .npz",
    ".nc": "netCDF",
    ".h5": "HDF5",
    ".hdf5": "HDF5",
    ".nwb": "NWB",
    ".zarr": "Zarr",
    ".mat": "MATLAB",
    ".json": "JSON",
    ".csv": "CSV",
    ".txt": "text",
    ".png": "PNG image",
    ".pdf": "PDF",
    ".svg": "SVG image",
}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def suffix_format(path: Path) -> str | None:
    """The format ``path``'s suffix conventionally names, or None if it names none we know."""
    return _FOREIGN.get(path.suffix.lower())


def check_path(name: str, path) -> Path:
    """``path`` as a :class:`~pathlib.Path`; anything else (swapped arguments?) is refused."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(
            f"{name} must be a file path (str or os.PathLike), got {type(path).__name__}"
        )
    return Path(path)


def model_files(folder: Path) -> list[Path]:
    """The neurodyn model files directly inside ``folder``, sorted by name."""
    return sorted(
        p for p in folder.glob("*.npz") if p.is_file() and _zip_entry(p, MODEL_FILE_HEADER)
    )


def _zip_entry(path: Path, stem: str) -> bool:
    """Whether the zip archive ``path`` has an entry ``stem`` or ``stem.npy`` (no decompression)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return stem in names or f"{stem}.npy" in names


def describe_file(path: Path) -> str:
    """A short phrase naming the format of the file at ``path``, from its first bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("step,loss\\n1,0.5\\n")
    >>> describe_file(p)
    'a text file (CSV?)'
    """
    with open(path, "rb") as fh:
        head = fh.read(2056)
    if not head:
        return "an empty file (0 bytes)"
    if head[:3] == b"CDF" and head[3:4] in (b"\x01", b"\x02", b"\x05"):
        return "a netCDF-3 file"
    if any(head[k : k + 8] == _HDF5_SIGNATURE for k in (0, 512, 1024, 2048)):
        return "an HDF5 file (netCDF-4, NWB or another HDF5 format)"
    if head[:4] == b"PK\x03\x04":
        return _describe_zip(path)
    if head[:6] == b"\x93NUMPY":
        return "a NumPy .npy array file"
    if head[:1] == b"\x80" and head[1:2] in bytes(range(2, 6)):
        return "a Python pickle (for example an old-style PyTorch file)"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "a PNG image"
    if head[:4] == b"%PDF":
        return "a PDF document"
    return _describe_text(head)


def _describe_zip(path: Path) -> str:
    if _zip_entry(path, MODEL_FILE_HEADER):
        return "a neurodyn model file (read it with neurodyn.load_model)"
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return "a damaged zip archive"
    if any(n.endswith("data.pkl") for n in names):
        return (
            "a PyTorch file (torch.save; a training checkpoint is read by "
            "neurodyn.train.load_checkpoint)"
        )
    if names and all(n.endswith(".npy") for n in names):
        return "a NumPy .npz archive"
    return "a zip archive"


def _describe_text(head: bytes) -> str:
    if b"\x00" in head:
        return f"a binary file of unknown format (first bytes {head[:8]!r})"
    text = head.decode("utf-8", errors="replace").lstrip()
    if text[:1] in ("{", "["):
        return "a text file (JSON?)"
    first = text.splitlines()[0] if text else ""
    if "," in first or "\t" in first:
        return "a text file (CSV?)"
    return "a text file"
