"""Progress bars for long loops: shown where someone watches, silent in logs.

Every long loop of neurodyn (training, simulation, the analyzers, the spiking
engine, reproductions) draws its bar through :func:`progress_bar`, which decides
from one ``progress`` argument:

========================  ===================================================================
``progress``              bar
========================  ===================================================================
``True`` or ``"auto"``    shown when the output is interactive: standard error is a terminal,
                          or the code runs in a Jupyter kernel; otherwise off (the default of
                          every public function)
``False`` or ``"never"``  never shown
``"always"``              shown even when standard error is a file or a pipe, refreshed at
                          most every 30 s there so a log grows by a line per 30 s, not per
                          0.1 s
========================  ===================================================================

This is tqdm's ``disable=None`` rule ("off unless the stream is a TTY") with two
differences: a Jupyter notebook counts as interactive (its output streams are not
TTYs, yet a bar is what a notebook user wants), and a bar can be forced on. The bar
is tqdm's, the notebook widget when ``ipywidgets`` is installed; without it a text
bar, never tqdm's warning that the widget is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np
from tqdm.std import tqdm as _text_bar

__all__ = ["PROGRESS_CHOICES", "check_progress", "interactive", "progress_bar", "shows_bar"]

#: Accepted values of ``progress`` besides True and False.
PROGRESS_CHOICES = ("auto", "never", "always")

#: Seconds between refreshes of a forced bar written to a file or pipe.
_LOG_INTERVAL = 30.0


def check_progress(progress: Any) -> str:
    """Return ``progress`` as one of ``"auto"``, ``"never"``, ``"always"``.

    Parameters
    ----------
    progress : bool or str
        True, False, ``"auto"``, ``"never"`` or ``"always"``.

    Examples
    --------
    >>> check_progress(True), check_progress(False), check_progress("always")
    ('auto', 'never', 'always')
    >>> check_progress(1)
    Traceback (most recent call last):
    ...
    ValueError: progress must be True, False, 'auto', 'never' or 'always', got 1
    """
    if isinstance(progress, (bool, np.bool_)):
        return "auto" if progress else "never"
    if isinstance(progress, str) and progress in PROGRESS_CHOICES:
        return progress
    raise ValueError(f"progress must be True, False, 'auto', 'never' or 'always', got {progress!r}")


def _in_jupyter() -> bool:
    """Whether this process is a Jupyter kernel (notebook, lab, VS Code, qtconsole)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # None (pythonw), or a closed stream
        return False


def interactive() -> bool:
    """Whether someone is likely watching the output: standard error is a terminal, or a
    Jupyter kernel runs the code.

    ``progress=True`` (or ``"auto"``) shows a bar exactly when this is True.

    Examples
    --------
    >>> watched = interactive()
    >>> isinstance(watched, bool), shows_bar(True) == watched
    (True, True)
    """
    return _isatty(sys.stderr) or _in_jupyter()


def shows_bar(progress: Any) -> bool:
    """Whether :func:`progress_bar` would draw a bar for ``progress`` here and now.

    For loops so short that even a disabled bar's set-up (about 0.1 ms) counts.

    Parameters
    ----------
    progress : bool or str
        As :func:`check_progress` takes it.

    Examples
    --------
    >>> shows_bar(False)
    False
    """
    mode = check_progress(progress)
    return sys.stderr is not None and (mode == "always" or (mode == "auto" and interactive()))


def _bar_class(notebook: bool):
    if notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_bar

        return notebook_bar
    return _text_bar


def progress_bar(
    iterable: Iterable | None = None,
    *,
    progress: Any = True,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    **kwargs: Any,
):
    """A tqdm progress bar over ``iterable`` (or updated by hand), shown per ``progress``.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped and yielded from, as by :class:`tqdm.tqdm`; leave out to call
        ``bar.update(n)`` by hand.
    progress : bool or {"auto", "never", "always"}
        When to show the bar (see the module docstring). Default True: when
        interactive.
    total, desc, unit
        As for :class:`tqdm.tqdm`.
    **kwargs
        Passed to :class:`tqdm.tqdm` (e.g. ``initial``, ``unit_scale``, ``leave``).

    Returns
    -------
    tqdm.tqdm
        A bar; when it is not shown, a disabled one whose ``update``, ``set_postfix``
        and ``close`` do nothing, so loops need no branch.

    Raises
    ------
    ValueError
        If ``progress`` is not one of the accepted values.

    Examples
    --------
    >>> with progress_bar(total=3, progress=False, desc="steps") as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    >>> bar.disable, bar.n
    (True, 0)
    >>> sum(progress_bar(range(4), progress="never"))
    6
    """
    mode = check_progress(progress)
    notebook = _in_jupyter()
    watched = _isatty(sys.stderr) or notebook
    show = mode == "always" or (mode == "auto" and watched)
    if not show or sys.stderr is None:
        return _text_bar(iterable, total=total, desc=desc, unit=unit, disable=True)
    if not watched:
        kwargs["mininterval"] = max(float(kwargs.get("mininterval", 0.1)), _LOG_INTERVAL)
    bar_class = _bar_class(notebook)
    return bar_class(iterable, total=total, desc=desc, unit=unit, disable=False, **kwargs)
