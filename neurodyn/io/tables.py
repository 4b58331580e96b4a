"""Result summaries as text: CSV and Markdown tables and JSON-safe values, written beside
every reproduction's figure."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["csv_text", "json_safe", "markdown_table", "table_cell"]


def _cells(header: Sequence[str], row) -> list:
    """A row as a list in ``header`` order (a mapping may hold extra keys; missing ones are blank)."""
    if isinstance(row, Mapping):
        return [row.get(k, "") for k in header]
    row = list(row)
    if len(row) != len(header):
        raise ValueError(f"a table row has {len(row)} cells; the header has {len(header)}")
    return row


def table_cell(x, spec: str = ".3g", missing: str = "–") -> str:
    """One table cell: text as it is, integers exactly, other numbers with ``spec``;
    ``missing`` for None and non-finite values (a quantity never reached or undefined).

    Parameters
    ----------
    x : str, int, float, None or NumPy scalar
        The value.
    spec : str, optional
        Format specification of a non-integer number, as ``format`` takes it
        (default ``".3g"``: three significant digits).
    missing : str, optional
        The text of a missing value (default an en dash).

    Returns
    -------
    str

    Examples
    --------
    >>> [table_cell(v) for v in ("n/a", 12724, 0.123456, None, float("nan"))]
    ['n/a', '12724', '0.123', '–', '–']
    >>> table_cell(94.888, ".2f")
    '94.89'
    """
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, (float, np.floating)) and not math.isfinite(x)):
        return missing
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    return format(x, spec)


def csv_text(header: Sequence[str], rows: Iterable) -> str:
    """CSV text with a header line; rows are sequences in header order or mappings.

    Parameters
    ----------
    header : sequence of str
        The column names.
    rows : iterable
        One sequence per row, in ``header`` order and of its length, or one mapping
        per row (keys not in ``header`` are left out, missing ones are empty).

    Returns
    -------
    str
        Comma-separated lines, each ending in ``"\\n"``.

    Raises
    ------
    ValueError
        If a sequence row has another length than ``header``.

    Examples
    --------
    >>> print(csv_text(["a", "b"], [[1, 2], {"b": 4, "a": 3, "extra": 0}]), end="")
    a,b
    1,2
    3,4
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(_cells(header, r) for r in rows)
    return buf.getvalue()


def markdown_table(header: Sequence[str], rows: Iterable) -> list[str]:
    """Lines of a Markdown table; ``|`` inside cells is escaped.

    Parameters
    ----------
    header : sequence of str
        The column names.
    rows : iterable
        Rows as :func:`csv_text` takes them; cells are written with ``str``
        (format numbers first, e.g. with :func:`table_cell`).

    Returns
    -------
    list of str
        The header line, the separator line and one line per row.

    Examples
    --------
    >>> markdown_table(["x", "y"], [["a|b", 1]])
    ['| x | y |', '|---|---|', '| a\\\\|b | 1 |']
    """

    def cell(x) -> str:
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in _cells(header, r)) + " |" for r in rows]
    return lines


def json_safe(obj, *, drop_private: bool = False):
    """``obj`` with NumPy scalars as Python numbers, tuples as lists and NaN/inf as None.

    Strict JSON has no NaN; a missing number (a model that never reached a criterion)
    becomes ``null``. With ``drop_private``, dict keys starting with ``_`` (working data
    kept for figures) are left out.

    Parameters
    ----------
    obj : object
        Nested mappings, lists and tuples of numbers, strings and other values;
        mapping keys become strings. Other objects are returned as they are.
    drop_private : bool, optional
        Leave out mapping keys starting with ``_`` (default False).

    Returns
    -------
    object
        ``obj`` rebuilt from dicts, lists and Python scalars.

    Examples
    --------
    >>> json_safe({"a": np.float64(0.5), "b": (np.int64(2), float("nan")), "_x": 1},
    ...           drop_private=True)
    {'a': 0.5, 'b': [2, None]}
    """
    if isinstance(obj, Mapping):
        return {
            str(k): json_safe(v, drop_private=drop_private)
            for k, v in obj.items()
            if not (drop_private and str(k).startswith("_"))
        }
    if isinstance(obj, (list, tuple)):
        return [json_safe(v, drop_private=drop_private) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
