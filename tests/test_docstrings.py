"""Docstring examples: every public function and class shows one, and every one runs.

The public objects are those the API reference documents (every name of every public
module's ``__all__``, once each; ``docs/_ext/api_reference.py``). Each example runs as
``doctest.testmod`` would run it: in the globals of the module that defines the object,
with the standard doctest options, in a fresh temporary folder (an example that writes
a file leaves nothing behind). Module docstrings and the docstrings of a class's own
public methods and properties run too where they have examples.

A new public function or class without an example fails at once.
"""

import doctest
import importlib
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info < (3, 11):  # the public names come from the API reference's generator
    pytest.skip("the docs extra (Sphinx 9) needs Python 3.11", allow_module_level=True)


def _public_objects() -> dict[str, object]:
    """Documented name -> function or class, for every public function and class."""
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import api_reference
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    pages = api_reference.plan(api_reference.public_modules())
    out = {}
    for module_name, page in pages.items():
        module = importlib.import_module(module_name)
        for names in page.own.values():
            for name in names:
                value = getattr(module, name)
                if inspect.isfunction(value) or inspect.isclass(value):
                    out[f"{module_name}.{name}"] = value
    return out


def _own_members(cls) -> dict[str, object]:
    """The public methods and properties a class defines itself, unwrapped."""
    out = {}
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        elif isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member):
            out[name] = member
    return out


def _examples() -> dict[str, tuple[str, dict]]:
    """Name -> (docstring, globals to run it in), for every docstring with examples."""
    found = {}

    def add(name, docstring, module_name):
        if isinstance(docstring, str) and ">>>" in docstring:
            found.setdefault(name, (docstring, module_name))

    objects = _public_objects()
    for name, value in objects.items():
        add(name, value.__doc__, value.__module__)
        if inspect.isclass(value):
            for member_name, member in _own_members(value).items():
                add(f"{name}.{member_name}", member.__doc__, value.__module__)
    for module_name in {name.rpartition(".")[0] for name in objects}:
        module = importlib.import_module(module_name)
        add(module_name, module.__doc__, module_name)
    return found


OBJECTS = _public_objects()
EXAMPLES = _examples()


def test_every_public_function_and_class_has_an_example():
    without = sorted(name for name, value in OBJECTS.items() if ">>>" not in (value.__doc__ or ""))
    assert not without, f"public objects without a docstring example: {without}"


def test_the_collection_sees_the_api():
    # Names users meet first are among the objects checked.
    for name in (
        "neurodyn.analysis.find_fixed_points",
        "neurodyn.simulation.simulate",
        "neurodyn.train.fit",
        "neurodyn.rnn_models.RateRNN",
    ):
        assert name in OBJECTS, name
    assert "neurodyn.analysis.find_fixed_points" in EXAMPLES


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_example(name, tmp_path, monkeypatch):
    docstring, module_name = EXAMPLES[name]
    globs = dict(vars(importlib.import_module(module_name)))
    test = doctest.DocTestParser().get_doctest(docstring, globs, name, None, 0)
    report = []
    runner = doctest.DocTestRunner(verbose=False)
    monkeypatch.chdir(tmp_path)
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.attempted > 0
    assert result.failed == 0, "".join(report)[-4000:]
