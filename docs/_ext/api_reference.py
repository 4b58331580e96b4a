"""The API reference, generated from neurodyn's modules and their ``__all__``.

Every module whose dotted name has no private part gets a page: its docstring, then the
names of its ``__all__`` in autosummary tables (one per module they are defined in), for
which autosummary writes one page per object. Nothing is listed by hand: a name added to
an ``__all__`` appears at the next build.

An object exported by several modules is documented once, where a reader looks for it
first: under a subpackage before the top-level ``neurodyn`` (whose names are shortcuts),
a shallower module before a deeper one, and between equals the module it is defined in;
the other modules' pages link there. A cross-reference to any of its other names
(``neurodyn.simulate``, ``neurodyn.reproduce.harness.Reproduction``) or to a name
relative to the module it is written in resolves to that one place; a reference that
names nothing documented stays broken, and fails the build.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinx.errors import PycodeError
from sphinx.ext.autosummary import autosummary_toc
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOTS = ("neurodyn", "neurodyn.analysis", "neurodyn.rnn_models")

#: id(object) -> the dotted name it is documented under (filled at builder-inited).
CANONICAL: dict[int, str] = {}
#: (name, id(value)) -> the dotted name of a documented constant (a module's ``#:``
#: names): the same name bound to the same object in another module is that constant.
CONSTANTS: dict[tuple[str, int], str] = {}


@dataclass
class Page:
    """One module: the names it documents, the names it links to, its child modules."""

    module: str
    own: dict[str, list[str]] = field(default_factory=dict)  # defining submodule -> names
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (name, documented as)
    children: list[str] = field(default_factory=list)


def public_modules() -> list[str]:
    """Every module whose dotted name has no part starting with an underscore."""
    names = set(ROOTS)
    for root in ROOTS:
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, f"{root}."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                importlib.import_module(info.name)
                names.add(info.name)
    return sorted(names)


def _is_object(value) -> bool:
    """Classes and functions have an identity worth documenting once; data does not."""
    return inspect.isclass(value) or inspect.isroutine(value)


def _rank(module: str, value) -> tuple:
    home = getattr(value, "__module__", "") or ""
    inside = home == module or home.startswith(f"{module}.")
    return (module == "neurodyn", module.count("."), not inside, module)


def _parent(module: str, modules: set[str]) -> str | None:
    parts = module.split(".")
    for i in range(len(parts) - 1, 0, -1):
        if ".".join(parts[:i]) in modules:
            return ".".join(parts[:i])
    return None


def plan(modules: list[str]) -> dict[str, Page]:
    """Which module documents which name, and where the others link."""
    pages = {m: Page(m) for m in modules}
    for m in modules:
        parent = _parent(m, set(modules))
        if parent and m not in ROOTS:
            pages[parent].children.append(m)
        elif m != "neurodyn":
            pages["neurodyn"].children.append(m)
    exports: dict[int, list[tuple[str, str]]] = {}
    values = {}
    for m in modules:
        module = importlib.import_module(m)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.ismodule(value):
                continue
            key = id(value) if _is_object(value) else id((m, name))
            values[key] = value
            exports.setdefault(key, []).append((m, name))
    CANONICAL.clear()
    CONSTANTS.clear()
    for key, places in exports.items():
        value = values[key]
        own_name = getattr(value, "__name__", None)
        places.sort(key=lambda p: (_rank(p[0], value), p[1] != own_name, p[1]))
        home, name = places[0]
        pages[home].own.setdefault(_section(home, value), []).append(name)
        if _is_object(value) or not isinstance(value, (int, float, str, bytes, tuple)):
            # Classes, functions and containers have one identity; a number or a string
            # exported twice may be two constants that happen to be equal.
            CANONICAL.setdefault(id(value), f"{home}.{name}")
        else:
            CONSTANTS.setdefault((name, id(value)), f"{home}.{name}")
        for m, alias in places[1:]:
            pages[m].aliases.append((alias, f"{home}.{name}"))
    return pages


def _section(module: str, value) -> str:
    """The module a name is defined in, when it lies below the page's module."""
    home = getattr(value, "__module__", "") if _is_object(value) else ""
    if home.startswith(f"{module}.") and not any(p.startswith("_") for p in home.split(".")):
        return home
    return ""


def _title(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _shadowed(module: str) -> bool:
    """Whether a function or class is documented under the module's dotted name (the
    package exports a function named as the module, ``neurodyn.train.fit``)."""
    return module in CANONICAL.values()


def constants(module: str) -> list[str]:
    """Module-level names outside ``__all__`` with a doc comment (``#:``), such as the
    thresholds the docstrings refer to."""
    try:
        docs = ModuleAnalyzer.for_module(module).find_attr_docs()
    except PycodeError:
        return []
    exported = set(getattr(importlib.import_module(module), "__all__", ()))
    return sorted(
        name for scope, name in docs
        if scope == "" and not name.startswith("_") and name not in exported
    )  # fmt: skip


def render(page: Page) -> str:
    """The reStructuredText of one module's page."""
    lines = [
        *_title(f"``{page.module}``", "="),
        f".. automodule:: {page.module}",
        "   :no-members:",
        # The package's function of the same name owns the dotted name.
        *(["   :no-index:"] if _shadowed(page.module) else []),
        "",
        f".. currentmodule:: {page.module}",
        "",
    ]
    for section in sorted(page.own):
        names = sorted(page.own[section], key=str.lower)
        if section:
            lines += [*_title(f"From ``{section.rsplit('.', 1)[-1]}``", "-")]
            lines += [f"Defined in :mod:`{section}`.", ""]
        elif len(page.own) > 1:
            lines += [*_title("Defined here", "-")]
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names] + [""]
    documented_constants = constants(page.module)
    if documented_constants:
        lines += [*_title("Constants", "-")]
        for name in documented_constants:
            lines += [f".. autodata:: {name}", "   :no-value:", ""]
    if page.aliases:
        lines += [*_title("Documented with their package", "-")]
        lines += [
            "These names of the module's ``__all__`` are the same objects as the ones linked.",
            "",
        ]
        lines += [
            f"- ``{alias}``: :py:obj:`{target}`"
            for alias, target in sorted(page.aliases, key=lambda a: a[0].lower())
        ]
        lines += [""]
    packages = sorted(m for m in page.children if in_toc(m))
    if packages:
        lines += [*_title("Packages", "-"), ".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   {m}" for m in packages] + [""]
    modules = sorted(m for m in page.children if not in_toc(m))
    if modules:
        lines += [*_title("Modules", "-")]
        lines += [f"- :doc:`{m}`" for m in modules] + [""]
    # The implementation modules' pages are linked, not in the table of contents: a
    # sidebar of a few hundred entries on every page would dominate the build.
    return "\n".join(lines if in_toc(page.module) else [":orphan:", "", *lines])


def in_toc(module: str) -> bool:
    """Packages and neurodyn's top-level modules are in the table of contents."""
    return module.count(".") <= 1 or hasattr(importlib.import_module(module), "__path__")


def count(pages: dict[str, Page]) -> int:
    return sum(len(names) for p in pages.values() for names in p.own.values())


def render_index(pages: dict[str, Page]) -> str:
    lines = [
        *_title("API reference", "="),
        f"Every public name of neurodyn, {count(pages)} in all, each documented once under "
        "the package a user imports it from (the pages of the other modules that export it "
        f"link there), and every one of its {len(pages)} modules with its description. "
        "``import neurodyn`` is all a user needs: subpackages and their names load on "
        "first use.",
        "",
        ".. toctree::",
        "   :maxdepth: 2",
        "",
        "   neurodyn",
        "",
    ]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    # Unchanged files keep their time stamps, so an incremental build rereads nothing.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def generate(app) -> None:
    _documented_as.cache_clear()
    out = Path(app.srcdir) / "api"
    pages = plan(public_modules())
    wanted = {"index.rst", *(f"{m}.rst" for m in pages)}
    for stale in out.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    _write(out / "index.rst", render_index(pages))
    stubs = {f"{m}.{n}.rst" for m, p in pages.items() for names in p.own.values() for n in names}
    for stale in (out / "generated").glob("*.rst"):
        if stale.name not in stubs:  # a name no longer exported
            stale.unlink()
    for m, page in pages.items():
        _write(out / f"{m}.rst", render(page))
        for name in constants(m):
            value = getattr(importlib.import_module(m), name, None)
            CONSTANTS.setdefault((name, id(value)), f"{m}.{name}")
    logger.info("api reference: %d public names on %d module pages", count(pages), len(pages))


def _lookup(path: str):
    """The object a dotted path names, as Python finds it (an attribute of a package
    before a submodule of the same name: ``neurodyn.analysis.similarity.dsa`` is the
    function), else through its longest importable module (a shadowed submodule)."""
    parts = path.split(".")
    value = _attributes(parts)
    if value is not None:
        return value
    for i in range(len(parts) - 1, 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            value = getattr(value, part, None)
        return value
    return None


def _attributes(parts: list[str]):
    try:
        value = importlib.import_module(parts[0])
    except ImportError:
        return None
    for i, part in enumerate(parts[1:], start=1):
        if hasattr(value, part):
            value = getattr(value, part)
        elif inspect.ismodule(value):
            try:
                value = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
        else:
            return None
    return value


def _mentions(cls, attribute: str) -> bool:
    """Whether a class's docstring or source names the attribute (one it sets in a
    method, or documents only in its Attributes section)."""
    text = inspect.getdoc(cls) or ""
    with contextlib.suppress(OSError, TypeError):  # a class without a source file
        text += inspect.getsource(cls)
    return re.search(rf"\b{re.escape(attribute)}\b", text) is not None


def _relative(target: str, module: str) -> list[str]:
    parts = module.split(".")
    return [f"{'.'.join(parts[:i])}.{target}" for i in range(len(parts), 0, -1)]


def _candidates(node) -> list[str]:
    """The target, then the target relative to the class and module it is written in:
    the page's, and the module of the object the page documents (a docstring's names
    are relative to the module it is written in)."""
    target = node["reftarget"].lstrip("~.")
    module = node.get("py:module") or ""
    cls = node.get("py:class") or ""
    out = [target]
    if module and cls:
        out.append(f"{module}.{cls}.{target}")
    if module:
        out += _relative(target, module)
    documented = _lookup(node["refdoc"].rsplit("/", 1)[-1])
    home = getattr(documented, "__module__", None) if documented is not None else None
    if inspect.ismodule(documented):
        home = documented.__name__
    if isinstance(home, str):
        out += _relative(target, home)
    return list(dict.fromkeys(out))


@functools.cache
def _documented_as(path: str) -> str | None:
    """Where the object at ``path`` is documented: its canonical name, the class that
    defines a member, or ``EXTERNAL`` for a member another package's class defines."""
    head, _, attribute = path.rpartition(".")
    value = _lookup(path)
    if inspect.ismodule(value):
        return value.__name__
    if value is not None and id(value) in CANONICAL:
        return CANONICAL[id(value)]
    if value is not None and (attribute, id(value)) in CONSTANTS:
        return CONSTANTS[(attribute, id(value))]
    owner = _lookup(head) if head else None
    if inspect.isclass(owner):  # a method or attribute: the class that defines it
        fields = getattr(owner, "__dataclass_fields__", {})
        for cls in owner.__mro__:
            if attribute in vars(cls) or attribute in getattr(cls, "__annotations__", {}):
                if id(cls) in CANONICAL:
                    return f"{CANONICAL[id(cls)]}.{attribute}"
                if not cls.__module__.startswith("neurodyn"):
                    return EXTERNAL
                break
        if attribute in fields and id(owner) in CANONICAL:
            return f"{CANONICAL[id(owner)]}.{attribute}"
    return None


#: What an inherited member of another package (``RateRNN.state_dict``) resolves to: it is
#: written as code, as the references into other packages are (conf.py's nitpick_ignore).
EXTERNAL = "<external>"


def _xref(app, env, node, contnode, target: str):
    domain = env.get_domain("py")
    for role in dict.fromkeys((node["reftype"], "obj")):
        found = domain.resolve_xref(env, node["refdoc"], app.builder, role, target, node, contnode)
        if isinstance(found, nodes.Element):
            return found
    return None


def resolve(app, env, node, contnode):
    """Resolve a Python reference through the names an object is documented under; a
    member the class page documents only in its Attributes section links to the class."""
    if node.get("refdomain") != "py":
        return None
    paths = [p for p in _candidates(node) if p.startswith("neurodyn.")]
    for path in paths:
        target = _documented_as(path)
        if target == EXTERNAL:
            return contnode
        for name in dict.fromkeys(t for t in (path, target) if t and t != node["reftarget"]):
            found = _xref(app, env, node, contnode, name)
            if found is not None:
                return found
    for path in paths:
        head, _, attribute = path.rpartition(".")
        owner = _lookup(head)
        # A member the class's page documents only in its docstring, or not at all.
        if inspect.isclass(owner) and id(owner) in CANONICAL and _mentions(owner, attribute):
            found = _xref(app, env, node, contnode, CANONICAL[id(owner)])
            if found is not None:
                return found
    return None


def skip_foreign(app, what, name, obj, skip, options):
    """Leave out members that are another package's functions (``NumpyOps.tanh = np.tanh``)."""
    if what in ("class", "exception") and callable(obj) and not isinstance(obj, type):
        home = getattr(obj, "__module__", None) or ""
        if (
            not inspect.isfunction(obj)
            and not inspect.ismethod(obj)
            and not home.startswith("neurodyn")
        ):
            return True
    return None


def untoc_objects(app, doctree) -> None:
    """Keep the objects' pages out of the table of contents (they are linked from the
    tables): a sidebar of hundreds of entries on every page would dominate the build."""
    for toc in list(doctree.findall(autosummary_toc)):
        toc.parent.remove(toc)


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign)
    # Before the table-of-contents collector (priority 500) records the entries.
    app.connect("doctree-read", untoc_objects, priority=400)
    # Before the sources are found (builder-inited): autosummary writes its pages from these.
    app.connect("config-inited", lambda app, config: generate(app))
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
