"""A reproduction's report: Markdown, CSV and JSON beside its figure, each written atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..io.atomic import atomic_write_json, atomic_write_text
from ..io.tables import csv_text, json_safe, markdown_table
from ..plotting import save_figure

__all__ = ["CLAIMS_HEADING", "markdown_report", "write_report"]

#: The heading of the claims' section of every report.
CLAIMS_HEADING = "## The paper's claims on this run"


def markdown_report(reproduction, summary: Mapping, config) -> str:
    """The Markdown report: title, summary, tables, and every claim's outcome."""
    lines = [f"# {reproduction.title}", "", reproduction.summary(summary, config, summary["seed"])]
    for table in reproduction.tables:
        if not table.markdown:
            continue
        lines += [""] + ([f"## {table.title}", ""] if table.title else [])
        lines += markdown_table(table.header, table.rows(summary, config))
    lines += ["", CLAIMS_HEADING, ""]
    lines += [
        f"- {c.description}: {'yes' if summary['claims'][c.name] else 'NO'}"
        for c in reproduction.claims
    ]
    return "\n".join(lines) + "\n"


def write_report(reproduction, out_dir: Path, summary: Mapping, config) -> dict[str, str]:
    """Write the figure, ``{stem}.md``, the CSV tables and ``{stem}.json`` into ``out_dir``.

    Returns
    -------
    dict
        ``figure``, ``markdown``, ``json`` and ``csv`` (plus ``csv_<suffix>`` for
        further CSV tables) → the path written.
    """
    stem = reproduction.stem
    files = {
        "figure": out_dir / f"{stem}.png",
        "markdown": out_dir / f"{stem}.md",
        "json": out_dir / f"{stem}.json",
    }
    for table in reproduction.tables:
        if table.csv is not None:
            path = out_dir / f"{stem}{table.csv}.csv"
            files["csv" + table.csv] = path
            atomic_write_text(path, csv_text(table.header, table.rows(summary, config)))
    atomic_write_text(files["markdown"], markdown_report(reproduction, summary, config))
    outcomes = {c.description: summary["claims"][c.name] for c in reproduction.claims}
    save_figure(reproduction.figure(summary, outcomes, config), files["figure"])
    atomic_write_json(files["json"], json_safe(summary, drop_private=True))
    return {k: str(v) for k, v in files.items()}
