"""Result tables as text: CSV and Markdown, written beside every reproduction's figure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["csv_text", "markdown_table"]


def _cells(header: Sequence[str], row) -> list:
    """A row as a list in ``header`` order (a mapping may hold extra keys; missing ones are blank)."""
    if isinstance(row, Mapping):
        return [row.get(k, "") for k in header]
    row = list(row)
    if len(row) != len(header):
        raise ValueError(f"a table row has {len(row)} cells; the header has {len(header)}")
    return row


def csv_text(header: Sequence[str], rows: Iterable) -> str:
    """CSV text with a header line; rows are sequences in header order or mappings.

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
