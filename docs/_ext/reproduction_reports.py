"""A page per reproduction, rendered from the report its harness wrote.

``neurodyn reproduce NAME --out DIR/NAME`` writes ``{stem}.md`` (the tables and the
claims), ``{stem}.json`` (the configuration, seeds, version and every number) and
``{stem}.png`` (the figure); see :mod:`neurodyn.reproduce.harness`. The pages show
those files from ``docs/_reproductions/NAME/`` (committed), or from the folder named by
``NEURODYN_DOCS_REPRODUCTIONS`` (laid out the same way, e.g. the full runs of a release),
with the size of the run, the version that made it and the command that remakes it. (The
committed figures are stored with a 256-colour palette, a third of the harness's size.)
Every reproduction in :data:`neurodyn.reproduce.REPRODUCTIONS` must have its report.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sphinx.util import logging

from neurodyn.reproduce import REPRODUCTIONS, get_reproduction

logger = logging.getLogger(__name__)

FOLDER = "reproductions"
COMMITTED = "_reproductions"


def report_folder(srcdir: Path) -> Path:
    chosen = os.environ.get("NEURODYN_DOCS_REPRODUCTIONS")
    return Path(chosen).resolve() if chosen else srcdir / COMMITTED


def page(name: str, report: dict, markdown: str, stem: str) -> str:
    """The page: the report's title, where it comes from, its figure, then the report."""
    title, _, body = markdown.partition("\n")
    size = "quick" if report["quick"] else "full"
    flag = " --quick" if report["quick"] else ""
    seeds = ", ".join(str(s) for s in report["seeds"])
    note = (
        f"```{{admonition}} This run\n"
        f"The {size} run (`neurodyn reproduce {name}{flag}`) with neurodyn "
        f"{report['neurodyn_version']}, seeds {seeds}, {report['seconds']:.0f} s. "
        f"`neurodyn reproduce {name} --out DIR` runs the full experiment and writes these "
        f"files again.\n\n"
        f"{report['citation']}\n"
        f"```\n"
    )
    figure = f"![The figure of the {name} reproduction]({stem}.png)\n"
    return f"{title}\n\n{note}\n{figure}\n{body}"


def generate(app) -> None:
    srcdir = Path(app.srcdir)
    source = report_folder(srcdir)
    out = srcdir / FOLDER
    out.mkdir(exist_ok=True)
    entries = []
    for name in REPRODUCTIONS:
        stem = get_reproduction(name).stem
        folder = source / name
        files = {ext: folder / f"{stem}.{ext}" for ext in ("md", "json", "png")}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise RuntimeError(
                f"reproduction {name!r} has no report: {missing} missing "
                f"(neurodyn reproduce {name} --quick --out {folder})"
            )
        report = json.loads(files["json"].read_text(encoding="utf-8"))
        if report["reproduction"] != name:
            raise RuntimeError(f"{files['json']} is the report of {report['reproduction']!r}")
        text = page(name, report, files["md"].read_text(encoding="utf-8"), stem)
        _write(out / f"{stem}.md", text)
        if (
            not (out / f"{stem}.png").exists()
            or (out / f"{stem}.png").read_bytes() != files["png"].read_bytes()
        ):
            shutil.copyfile(files["png"], out / f"{stem}.png")
        entries.append((name, stem, report["claims_line"]))
    lines = [
        "# Reproductions",
        "",
        "Each model family reproduces the headline experiment of its paper at CPU scale "
        "(`neurodyn reproduce NAME`): a table of the paper's numbers beside ours and every "
        "claim of the paper checked on the runs (held, not held, or not tested at this "
        "scale). These pages show the reports the reproduction harness wrote.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *[stem for _, stem, _ in entries],
        "```",
        "",
        "| reproduction | command | claims |",
        "| --- | --- | --- |",
        *[f"| [{n}]({s}.md) | `neurodyn reproduce {n}` | {c} |" for n, s, c in entries],
        "",
    ]
    _write(out / "index.md", "\n".join(lines))
    logger.info("reproductions: %d reports from %s", len(entries), source)


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def setup(app):
    # Before the sources are found (builder-inited).
    app.connect("config-inited", lambda app, config: generate(app))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
