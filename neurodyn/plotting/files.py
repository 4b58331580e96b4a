"""Writing figures to files."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt

from ..io.atomic import atomic_path

__all__ = ["save_figure"]


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Write ``fig`` atomically and close it.

    The format follows the suffix of ``path`` (``.png`` is appended when there is
    none). The figure is closed even if writing fails, so loops that save many
    figures never accumulate open ones.

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
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=dpi)
    finally:
        plt.close(fig)
    return path
