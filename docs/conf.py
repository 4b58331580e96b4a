"""Sphinx configuration of neurodyn's documentation site.

Build it with ``sphinx-build -W -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
Warnings are errors: a broken cross-reference, an undocumented parameter or a tutorial
that raises fails the build; ``sphinx-build -b doctest`` over the same sources runs every
example in the guides (the docstrings' examples run in tests/test_docstrings.py).

Pages generated at build time (ignored by git): ``api/`` from the public modules'
``__all__`` (``_ext/api_reference.py``), ``tutorials/`` from ``../tutorials/*.py``
(``_ext/tutorial_notebooks.py``), executed at small size, and ``reproductions/`` from the
reports the reproduction harness writes (``_ext/reproduction_reports.py``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# The tutorials run at the size the test suite runs them (tests/test_tutorials.py), one
# intra-op thread each: minutes for all of them. NEURODYN_TUTORIAL_FAST=0 builds the
# full-size tutorials.
os.environ.setdefault("NEURODYN_TUTORIAL_FAST", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import neurodyn  # noqa: E402

project = "neurodyn"
author = "the neurodyn developers"
copyright = "neurodyn developers, MIT licence"
release = neurodyn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "api_reference",
    "tutorial_notebooks",
    "reproduction_reports",
    "command_line",
    "docstring_checks",
    # MathJax's files in the site itself (_static/mathjax): equations render offline.
    "mathjax_files",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_templates", "_reproductions", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# Every reference must resolve. The inventories of other projects would have to be
# fetched at build time, which the build does not do: names of other packages are
# written as code and not linked, and a reference into them is not a broken one.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|torch|xarray|xr|scipy|matplotlib|mpl|sklearn|dask|distributed)(\..*)?"),
    (r"py:.*", r"(networkx|nx|pynwb|neurogym|gymnasium|numba|threadpoolctl|tqdm)(\..*)?"),
    (r"py:.*", r"(pathlib|os|collections|typing|dataclasses|enum|logging|argparse|abc)(\..*)?"),
    (r"py:.*", r"(contextlib|concurrent|json|io|random|types|functools|numbers)(\..*)?"),
    (r"py:.*", r"(tempfile|shutil|subprocess|pickle|multiprocessing|threading|inspect)(\..*)?"),
    (r"py:.*", r"(importlib|warnings|math|time|datetime|itertools|operator|re|sys)(\..*)?"),
    # Python's own types, as the signatures and type hints name them.
    (r"py:.*", r"(int|float|str|bool|bytes|dict|list|tuple|set|frozenset|object|type)"),
    (r"py:.*", r"(None|NoneType|Ellipsis|complex|slice|range|callable|Callable|Any)"),
    (r"py:.*", r"(Exception|ValueError|TypeError|KeyError|RuntimeError|ImportError)"),
]

# numpydoc: numpy-style sections; each documented object's docstring is validated and
# a failure is a warning (an error with -W).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()  # docstring_checks.py checks the parameters

autosummary_generate = True
autosummary_ignore_module_all = False
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True  # an override without a docstring shows its base's

# The doctest builder runs the guide's ``doctest`` blocks; the docstrings' examples run in
# the test suite, in their modules' globals (tests/test_docstrings.py).
doctest_global_setup = "import numpy as np\nimport neurodyn"
doctest_test_doctest_blocks = ""

# Notebooks: the tutorials are executed before the build reads them, side by side
# (_ext/tutorial_notebooks.py); myst-nb executes the text notebooks (getting started),
# which have no outputs until then. Kernels of this Python, in a temporary folder; an
# error in a cell fails the build.
nb_execution_mode = "force"
nb_execution_excludepatterns = ["tutorials/*"]
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "furo"
html_title = f"neurodyn {release}"
html_static_path = ["_static"]
html_css_files = ["gallery.css"]
html_logo = "_static/logo.svg"
html_favicon = "_static/logo.svg"
html_show_sourcelink = False
