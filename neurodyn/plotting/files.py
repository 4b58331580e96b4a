"""Writing figures to files."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt

from .._version import __version__
from ..io.atomic import atomic_path

__all__ = ["save_figure"]


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write ``fig`` atomically and close it.

    The format follows the suffix of ``path`` (``.png`` is appended when there is
    none). The figure is closed even if writing fails, so loops that save many
    figures never accumulate open ones. PNG, PDF and SVG files name the neurodyn
    version that wrote them in their metadata (PNG's ``Software``, the others'
    ``Creator``).

    Parameters
    ----------
    fig : Figure
    path : path-like
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    fmt = path.suffix[1:].lower()
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    finally:
        plt.close(fig)
    return path


def _metadata(fmt: str) -> dict | None:
    # Each backend knows its own keys; the raster formats other than PNG take none.
    signed = f"neurodyn {__version__} (matplotlib)"
    return {"png": {"Software": signed}, "pdf": {"Creator": signed},
            "svg": {"Creator": signed}}.get(fmt)  # fmt: skip
