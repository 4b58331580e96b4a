"""neurodyn's docstring conventions, rendered by numpydoc and checked as the build reads them.

Sections numpydoc does not know are written as numpydoc renders its own:

- ``Main Arguments`` and ``Other Arguments`` (the diffrax layout of the long analyzers'
  signatures) are ``Parameters`` and ``Other Parameters``;
- the tasks' ``Channels``, ``Trial Variables`` (lists) and ``Evaluation`` (prose) move
  under titles at the end of the notes (numpydoc would drop a section it does not know).

Every documented function, method and class is checked: each parameter of its signature
is documented (under ``Parameters`` or ``Other Parameters``, or for a class also under
``Attributes``, since a dataclass's fields are its constructor's parameters), and every
documented parameter is in the signature. A failure is a warning, an error with ``-W``.

The docstrings' examples run in the test suite (tests/test_docstrings.py), which also
requires one in every public function and class; the guide's examples run in
``sphinx-build -b doctest``.

A base class whose name is private is shown as the public class it derives from.
"""

from __future__ import annotations

import inspect
import re

from api_reference import _lookup
from numpydoc.docscrape import NumpyDocString
from sphinx.util import logging

logger = logging.getLogger(__name__)

RENAMED = {"Main Arguments": "Parameters", "Other Arguments": "Other Parameters"}
NOTES = ("Channels", "Trial Variables", "Evaluation")
DOCUMENTING = {"Parameters", "Other Parameters"}


def _heading(lines: list[str], i: int) -> str | None:
    if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
        # numpydoc reads "Trial variables" as "Trial Variables".
        return " ".join(word.capitalize() for word in lines[i].split())
    return None


def _split(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """The docstring as (heading, body) pieces; the first piece has no heading."""
    pieces: list[tuple[str | None, list[str]]] = [(None, [])]
    i = 0
    while i < len(lines):
        title = _heading(lines, i)
        if title is None:
            pieces[-1][1].append(lines[i])
            i += 1
        else:
            pieces.append((title, []))
            i += 2
    return pieces


def _as_notes(title: str, body: list[str]) -> list[str]:
    if title == "Evaluation":  # prose
        return ["", f".. rubric:: {title}", "", *body, ""]
    entries = NumpyDocString("Parameters\n----------\n" + "\n".join(body))["Parameters"]
    out = ["", f".. rubric:: {title}", ""]
    for entry in entries:
        text = f"- **{entry.name}**" + (f": {entry.type}" if entry.type else "")
        out.append(text)
        out += [f"  {line}" if line else "" for line in entry.desc]
    return [*out, ""]


def rewrite_sections(app, what, name, obj, options, lines) -> None:
    pieces = _split(list(lines))
    kept, notes = [], []
    for title, body in pieces:
        if title in NOTES:
            notes += _as_notes(title, body)
        else:
            kept.append((RENAMED.get(title, title), body))
    if not notes and not any(t in RENAMED for t, _ in pieces):
        return
    if notes:
        existing = next((body for t, body in kept if t == "Notes"), None)
        if existing is None:
            kept.append(("Notes", notes))
        else:
            existing += notes
    out = []
    for title, body in kept:
        if title is not None:
            out += [title, "-" * len(title)]
        out += body
    lines[:] = out


def _documented(lines: list[str], what: str, obj) -> tuple[set[str], set[str]]:
    """Names documented as parameters, and (for a class) as attributes here or in a
    neurodyn base class (a dataclass's inherited fields)."""
    texts = ["\n".join(lines)]
    if what in ("class", "exception"):
        texts += [
            inspect.getdoc(base) or "" for base in obj.__mro__[1:]
            if base.__module__.startswith("neurodyn")
        ]  # fmt: skip
    named = {"Parameters": set(), "other": set()}
    for i, text in enumerate(texts):
        doc = NumpyDocString(text)
        for section in (
            (*DOCUMENTING, "Attributes") if what in ("class", "exception") else DOCUMENTING
        ):
            for entry in doc[section]:
                key = "Parameters" if section in DOCUMENTING and i == 0 else "other"
                named[key] |= {part.strip().lstrip("*") for part in entry.name.split(",")}
    return named["Parameters"], named["other"]


def _signature(obj, what: str):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _inherited_from(name: str) -> str | None:
    """The module of the base class whose docstring a method without its own inherits."""
    owner, _, attribute = name.rpartition(".")
    cls = _lookup(owner)
    for base in getattr(cls, "__mro__", ())[1:]:
        member = vars(base).get(attribute)
        if member is not None and getattr(member, "__doc__", None):
            return base.__module__
    return None


def check_parameters(app, what, name, obj, options, lines) -> None:
    if what not in ("function", "method", "class", "exception"):
        return
    # An override documented by its base: neurodyn's is checked like any other; another
    # package's (torch.nn.Module's) is its own concern, and not shown.
    inherited = what == "method" and getattr(obj, "__doc__", None) is None and lines
    if inherited and not (_inherited_from(name) or "").startswith("neurodyn"):
        lines.clear()
        return
    if not "".join(lines).strip():
        logger.warning("%s has no docstring", name, type="neurodyn", subtype="docstring")
        return
    signature = _signature(obj, what)
    if signature is None:
        return
    params = [
        p
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and not p.name.startswith("_")
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]  # fmt: skip
    takes_any = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    documented, attributes = _documented(lines, what, obj)
    missing = [p.name for p in params if p.name not in documented | attributes]
    if missing:
        logger.warning(
            "%s: parameters not documented: %s", name, ", ".join(missing),
            type="neurodyn", subtype="parameters",
        )  # fmt: skip
    names = {p.name for p in signature.parameters.values()}
    unknown = sorted(documented - names - {"args", "kwargs"})
    if unknown and not takes_any:
        logger.warning(
            "%s: documented parameters not in the signature: %s", name, ", ".join(unknown),
            type="neurodyn", subtype="parameters",
        )  # fmt: skip


def data_docstring(app, what, name, obj, options, lines) -> None:
    """A constant's own doc comment, never its type's docstring; its value when short."""
    if what not in ("data", "attribute"):
        return
    own = "\n".join(lines).strip()
    doc = type(obj).__doc__
    inherited = inspect.cleandoc(doc) if isinstance(doc, str) else ""
    if own and own == inherited:
        lines.clear()
        own = ""
    if not own:
        kind = type(obj)
        where = kind.__module__ if kind.__module__ != "builtins" else ""
        lines[:] = [f"A :class:`{where + '.' if where else ''}{kind.__qualname__}`."]
    text = repr(obj)
    if len(text) <= 80 and not text.startswith("<"):
        lines += ["", f"Value: ``{text}``"]


def public_bases(app, name, obj, options, bases) -> None:
    """Show a private base class as the public classes it derives from."""
    out = []
    for base in bases:
        if any(part.startswith("_") for part in base.__qualname__.split(".")) or any(
            part.startswith("_") and part != "__main__" for part in base.__module__.split(".")
        ):
            out += [b for b in base.__bases__ if b is not object]
        else:
            out.append(base)
    bases[:] = out or [object]


def setup(app):
    # Before numpydoc (priority 500), which renders the sections these read.
    app.connect("autodoc-process-docstring", rewrite_sections, priority=400)
    app.connect("autodoc-process-docstring", check_parameters, priority=450)
    app.connect("autodoc-process-docstring", data_docstring, priority=450)
    app.connect("autodoc-process-bases", public_bases)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
