"""A reproduction's report: Markdown, CSV and JSON beside its figure, each written atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..io.atomic import atomic_write_json, atomic_write_text
from ..io.tables import csv_text, markdown_table
from ..plotting import save_figure

__all__ = ["CLAIMS_HEADING", "claim_lines", "markdown_report", "write_report"]

#: The heading of the claims' section of every report.
CLAIMS_HEADING = "## The paper's claims on this run"

_STATUS = {"held": "**held**", "not held": "**NOT HELD**", "not tested": "not tested"}


def claim_lines(outcomes: Mapping[str, Mapping]) -> list[str]:
    """One Markdown bullet per claim: its status, the evidence and the threshold's reason."""
    lines = []
    for o in outcomes.values():
        line = f"- {o['description']}: {_STATUS[o['status']]} — {o['evidence']}"
        if o["threshold"]:
            line += f" (threshold: {o['threshold']})"
        lines.append(line)
    return lines


def markdown_report(reproduction, runs, summary: Mapping, config) -> str:
    """The Markdown report: title, summary, tables, and every claim's outcome."""
    seeds = summary["seeds"]
    lines = [f"# {reproduction.title}", "", reproduction.summary(runs, config), ""]
    lines.append(
        f"Seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} runs): every measured number is the mean ± "
        "standard deviation over seeds."
        if len(seeds) > 1
        else f"One seed ({seeds[0]})."
    )
    lines += ["", f"**{summary['claims_line']}.**"]
    for table in reproduction.tables:
        if not table.markdown:
            continue
        lines += [""] + ([f"## {table.title}", ""] if table.title else [])
        lines += markdown_table(table.header, table.checked_rows(runs, config))
    lines += ["", CLAIMS_HEADING, "", *claim_lines(summary["claims"])]
    return "\n".join(lines) + "\n"


def write_report(reproduction, out_dir: Path, runs, summary: Mapping, config) -> dict[str, str]:
    """Write the figure, ``{stem}.md``, the CSV tables and ``{stem}.json`` into ``out_dir``.

    Every table is built and checked before the first file is written, so a table the
    harness refuses leaves no partial report.

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
    csvs = {}
    for table in reproduction.tables:
        if table.csv is not None:
            files["csv" + table.csv] = out_dir / f"{stem}{table.csv}.csv"
            csvs["csv" + table.csv] = csv_text(table.header, table.checked_rows(runs, config))
    markdown = markdown_report(reproduction, runs, summary, config)
    outcomes = {o["description"]: o["status"] for o in summary["claims"].values()}
    figure = reproduction.figure(runs, outcomes, config)
    for key, text in csvs.items():
        atomic_write_text(files[key], text)
    atomic_write_text(files["markdown"], markdown)
    save_figure(figure, files["figure"])
    atomic_write_json(files["json"], summary)
    return {k: str(v) for k, v in files.items()}
