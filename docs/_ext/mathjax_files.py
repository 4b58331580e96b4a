"""MathJax served by the site itself, so that equations render without a network.

The files are those of the ``sphinx-mathjax-offline`` package (MathJax 3.2.2), copied to
``_static/mathjax`` when the build succeeds; ``mathjax_path`` points there.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.util.fileutil import copy_asset

PACKAGE = "sphinx-mathjax-offline"


def mathjax_folder() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed (pip install -e '.[docs]')")
    return Path(spec.submodule_search_locations[0]) / "static" / "mathjax"


def copy_files(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_asset(str(mathjax_folder()), str(Path(app.outdir) / "_static" / "mathjax"))


def setup(app):
    mathjax_folder()  # fail at once where the package is missing
    app.config.mathjax_path = "mathjax/tex-chtml.js"
    app.connect("build-finished", copy_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
