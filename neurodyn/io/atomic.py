"""Atomic file writes: write to a temporary name in the same folder, then rename.

A crash or interrupt mid-write leaves either the old file or no file, never a
truncated one, because :func:`os.replace` is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_write_json", "atomic_write_text"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``path``, on error removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix + ".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_json(
    path: str | os.PathLike,
    data: Any,
    *,
    indent: int | None = 1,
    default: Callable[[Any], Any] | None = None,
) -> Path:
    """Write ``data`` as JSON to ``path`` atomically and return the path.

    The text is exactly ``json.dumps(data, indent=indent, default=default)``, written
    through :func:`atomic_write_text`. ``data`` is serialised before anything touches
    the disk, so a value JSON cannot encode raises and leaves an existing file as it
    was; a crash mid-write leaves the old file or none, never a truncated one.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its folder is created if missing.
    data : object
        Anything :func:`json.dumps` accepts. No conversion is done here: pass NumPy
        values, NaN or private keys through :func:`neurodyn.io.tables.json_safe` first
        where strict JSON is wanted.
    indent : int or None, optional
        Passed to :func:`json.dumps` (default 1).
    default : callable, optional
        Passed to :func:`json.dumps` for objects it cannot encode (e.g. ``str``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        If ``data`` holds an object JSON cannot encode and ``default`` does not
        handle it; no file is written or changed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = atomic_write_json(target, {"a": [1, 2]})
    >>> print(target.read_text())
    {
     "a": [
      1,
      2
     ]
    }
    """
    text = json.dumps(data, indent=indent, default=default)
    return atomic_write_text(path, text)
