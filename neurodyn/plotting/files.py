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
        The figure to write; closed afterwards.
    path : path-like
        Where to write it; the suffix (``.png``, ``.pdf``, ``.svg``...) picks the format.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> path = save_figure(fig, "diagonal")
    >>> path.name, path.stat().st_size > 0, plt.fignum_exists(fig.number)
    ('diagonal.png', True, False)
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
