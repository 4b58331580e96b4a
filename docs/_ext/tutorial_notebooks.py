"""The tutorials as executed notebooks, and the gallery of their figures.

Each ``tutorials/NN_name.py`` (jupytext percent format) becomes ``docs/tutorials/NN_name.ipynb``,
executed before the sources are read, in kernels of the building Python (one per core, so
that the tutorials run side by side), with ``NEURODYN_TUTORIAL_FAST`` as ``conf.py`` sets it
(the size the test suite runs them at); myst-nb renders the outputs. A notebook keeps the
hash of the source it was executed from, and runs again only when its tutorial changes. A
cell that raises fails the build. A hidden first cell shows each figure a cell leaves open
below that cell, whatever backend the tutorial selects (at small size they select Agg).

Every figure of a tutorial gets an anchor (``figure-1``, ``figure-2``...); the
``tutorial-gallery`` directive shows them all, each linking to its place in its tutorial
under the title of the section that drew it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

FOLDER = "tutorials"

SETUP_CELL = """\
%matplotlib inline
import matplotlib.pyplot as plt
from IPython import get_ipython
from IPython.display import display


def _show_open_figures(result):
    # Shown under the cell that drew them, as the inline backend shows figures.
    for number in plt.get_fignums():
        display(plt.figure(number))
    plt.close("all")


get_ipython().events.register("post_run_cell", _show_open_figures)
"""


def notebook_text(path: Path) -> str:
    """The notebook of one tutorial, unexecuted, with the hidden set-up cell first."""
    notebook = jupytext.reads(path.read_text(encoding="utf-8"), fmt="py:percent")
    setup = nbformat.v4.new_code_cell(SETUP_CELL, metadata={"tags": ["remove-cell"]})
    notebook.cells.insert(0, setup)
    return jupytext.writes(notebook, fmt="ipynb")


def _digest(path: Path) -> str:
    """What a notebook's outputs depend on: the tutorial, the set-up cell and the size."""
    size = os.environ.get("NEURODYN_TUTORIAL_FAST", "")
    text = path.read_text(encoding="utf-8")
    return hashlib.sha256(f"{size}\n{SETUP_CELL}\n{text}".encode()).hexdigest()


def _executed_from(target: Path) -> str | None:
    if not target.exists():
        return None
    return nbformat.read(target, as_version=4).metadata.get("neurodyn", {}).get("source")


def execute(text: str, target: Path, digest: str, timeout: int) -> None:
    """Run the notebook in a fresh kernel, in a temporary folder; write it with outputs."""
    notebook = nbformat.reads(text, as_version=4)
    with tempfile.TemporaryDirectory() as cwd:
        client = NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}
        )
        try:
            client.execute()
        except CellExecutionError as error:
            raise RuntimeError(f"tutorial {target.stem} failed:\n{error}") from None
    notebook.metadata["neurodyn"] = {"source": digest}
    nbformat.write(notebook, target)


def generate(app) -> None:
    source = Path(app.srcdir).parent / "tutorials"
    out = Path(app.srcdir) / FOLDER
    out.mkdir(exist_ok=True)
    tutorials = sorted(source.glob("*.py"))
    if not tutorials:
        raise RuntimeError(f"no tutorials in {source}")
    wanted = {f"{p.stem}.ipynb" for p in tutorials}
    for stale in out.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    stale = []
    for path in tutorials:
        target = out / f"{path.stem}.ipynb"
        # Notebooks executed from the same source keep their outputs and time stamps.
        if _executed_from(target) != _digest(path):
            stale.append((notebook_text(path), target, _digest(path)))
    if app.config.nb_execution_mode == "off":  # a build that runs no notebook
        for text, target, _ in stale:
            target.write_text(text, encoding="utf-8")
        return
    start = time.perf_counter()
    workers = max(1, min(len(stale), len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(workers) as pool:
        runs = [pool.submit(execute, text, target, digest, app.config.nb_execution_timeout)
                for text, target, digest in stale]  # fmt: skip
        for run in runs:
            run.result()
    logger.info(
        "tutorials: %d of %d notebooks executed in %.0f s (%d kernels)",
        len(stale), len(tutorials), time.perf_counter() - start, workers,
    )  # fmt: skip


def _section_title(node) -> str:
    while node is not None:
        if isinstance(node, nodes.section) and node.children:
            return node[0].astext()
        node = node.parent
    return ""


def anchor_figures(app, doctree) -> None:
    """Give each figure of a tutorial an id and remember it for the gallery."""
    docname = app.env.docname
    if not docname.startswith(f"{FOLDER}/"):
        return
    figures = []
    for number, image in enumerate(doctree.findall(nodes.image), start=1):
        anchor = f"figure-{number}"
        image["ids"].append(anchor)
        # The image collector has resolved the path (priority 600 runs after it).
        candidates = dict(image.get("candidates", {"*": image["uri"]}))
        figures.append((anchor, image["uri"], candidates, _section_title(image)))
    title = next(iter(doctree.findall(nodes.title)), None)
    app.env.neurodyn_figures = getattr(app.env, "neurodyn_figures", {})
    app.env.neurodyn_figures[docname] = (title.astext() if title else docname, figures)


def purge(app, env, docname) -> None:
    getattr(env, "neurodyn_figures", {}).pop(docname, None)


def merge(app, env, docnames, other) -> None:
    env.neurodyn_figures = getattr(env, "neurodyn_figures", {})
    env.neurodyn_figures.update(getattr(other, "neurodyn_figures", {}))


class gallery_placeholder(nodes.General, nodes.Element):
    """Replaced by the figures once every tutorial has been read."""


class TutorialGallery(SphinxDirective):
    """``.. tutorial-gallery::``: every figure of the tutorials, linked to its place."""

    def run(self):
        for path in sorted((Path(self.env.srcdir) / FOLDER).glob("*.ipynb")):
            # The gallery is rebuilt when a tutorial changes.
            self.env.note_dependency(str(path))
        return [gallery_placeholder()]


def fill_gallery(app, doctree, docname) -> None:
    figures = getattr(app.env, "neurodyn_figures", {})
    for placeholder in doctree.findall(gallery_placeholder):
        content = []
        for tutorial in sorted(figures):
            title, images = figures[tutorial]
            if not images:
                continue
            page = app.builder.get_relative_uri(docname, tutorial)
            heading = nodes.rubric("", "")
            heading += nodes.reference("", title, internal=True, refuri=page)
            grid = nodes.container(classes=["neurodyn-gallery"])
            for anchor, uri, candidates, section in images:
                thumb = nodes.image(uri=uri, candidates=dict(candidates), alt=f"{title}: {section}")
                link = nodes.reference("", "", internal=True, refuri=f"{page}#{anchor}")
                link += thumb
                cell = nodes.container(classes=["neurodyn-gallery-item"])
                cell += link
                cell += nodes.paragraph("", section)
                grid += cell
            content += [heading, grid]
        if not content and app.config.nb_execution_mode != "off":
            raise RuntimeError("the tutorials drew no figure for the gallery")
        if not content:  # a build that runs no notebook (-D nb_execution_mode=off)
            content = [nodes.paragraph("", "The tutorials were not run in this build.")]
        placeholder.replace_self(content)


def setup(app):
    # Before the sources are found (builder-inited).
    app.connect("config-inited", lambda app, config: generate(app))
    app.connect("doctree-read", anchor_figures, priority=600)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-resolved", fill_gallery)
    app.add_node(gallery_placeholder)
    app.add_directive("tutorial-gallery", TutorialGallery)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
