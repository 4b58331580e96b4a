"""Atomic file writes: write to a temporary name in the same folder, then rename.

A crash or interrupt mid-write leaves either the old file or no file, never a
truncated one, because :func:`os.replace` is atomic on POSIX and Windows.

Permissions are those a plain ``open(path, "w")`` would give: a new file gets
``0o666 & ~umask`` (the temporary file is created with mode ``0o666`` and the kernel
applies the umask and any default ACL of the folder), and a file that is replaced
keeps its permission bits. :func:`tempfile.mkstemp` is not used because it creates
every file ``0o600``, readable by its owner only.

A process killed outright (``SIGKILL``, or ``SIGTERM`` without a handler) cannot
remove its temporary file. Temporary names carry the host and process id of their
writer, and the next write of the same path removes those whose writer on this host
is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_write_json", "atomic_write_text"]

#: Identifies this machine in temporary names, so that a folder shared between machines
#: (NFS) never has another machine's temporary files removed for a process id it lacks.
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
#: Characters of the target's name kept in its temporary name (NAME_MAX is 255 bytes).
_NAME_KEPT = 100


def _temp_prefix(path: Path) -> str:
    return f".{path.name[:_NAME_KEPT]}.{_HOST}-"


def _create_temp(path: Path, suffix: str) -> Path:
    """Create an empty file next to ``path`` under a fresh hidden name, with mode 0o666 & ~umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(
            f"{_temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}{suffix}.tmp"
        )
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temporary name next to {str(path)!r}")


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files of ``path`` left by processes of this host that no longer run."""
    if os.name != "posix":  # os.kill(pid, 0) only probes on POSIX
        return
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"(\d+)-[0-9a-f]{8}.*\.tmp")
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``path``, on error removed.

    The temporary file exists (empty) when the block starts, in the folder of
    ``path`` (created if missing), under a hidden name ending in ``suffix + ".tmp"``.
    On success it replaces ``path`` with the permissions described in the module
    docstring; on any exception, ``KeyboardInterrupt`` included, it is removed and
    ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    suffix : str
        Ends the temporary file's name before ``.tmp`` (e.g. ``.nc``, for writers that
        choose a format by the extension).

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
    _remove_stale_temps(path)
    tmp = _create_temp(path, suffix)
    try:
        created = _mode(tmp)
        yield tmp
        # A writer may have replaced the file it was given (some unlink and recreate).
        mode = _mode(path)
        mode = created if mode is None else mode
        if mode is not None and _mode(tmp) != mode:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        Its contents (UTF-8).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import os
    >>> from neurodyn.io import atomic_write_text
    >>> path = atomic_write_text("results/summary.txt", "accuracy: 0.97")
    >>> str(path), path.read_text()
    ('results/summary.txt', 'accuracy: 0.97')

    A write that fails leaves the old file, and no temporary file, behind:

    >>> atomic_write_text(path, None)
    Traceback (most recent call last):
    ...
    TypeError: data must be str, not NoneType
    >>> path.read_text(), os.listdir("results")
    ('accuracy: 0.97', ['summary.txt'])
    """
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
