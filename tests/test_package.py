"""Packaging: the import surface and the folder mapping of setup.cfg."""

import subprocess
import sys

import import_graph

import neurodyn


def test_import_is_light():
    code = "import sys, neurodyn; print('torch' in sys.modules, 'xarray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_public_names_resolve():
    for name in neurodyn.__all__:
        assert getattr(neurodyn, name) is not None, name
    assert callable(neurodyn.simulate) and callable(neurodyn.fit)


def test_folders_install_inside_the_package():
    import neurodyn.analysis
    import neurodyn.rnn_models

    assert neurodyn.rnn_models.RateRNN.__module__ == "neurodyn.rnn_models.rate"
    assert neurodyn.analysis.__name__ == "neurodyn.analysis"


def test_no_generic_top_level_packages(tmp_path):
    # Run from an empty folder so the source tree is not on sys.path.
    code = (
        "import importlib.util as u; "
        "print(u.find_spec('analysis') is None, u.find_spec('rnn_models') is None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["True", "True"]


def test_old_names_stay_importable():
    import neurodyn.spiking

    assert neurodyn.runs is neurodyn.run_folders
    assert neurodyn.spiking.run is neurodyn.spiking.simulate


def test_the_import_graph_reader_finds_cycles_and_private_names(tmp_path):
    # The checks below can fail: a made-up pair of modules that import each other and a
    # private name from another package are found.
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text("from neurodyn.x import b\n")
    b.write_text("from neurodyn.x import a\nfrom neurodyn.y._impl import _secret\n")
    c.write_text("_secret = 1\n")
    known = {"neurodyn.x.a": a, "neurodyn.x.b": b, "neurodyn.y._impl": c}
    edges = import_graph.imports(known)
    assert import_graph.cycles(edges) == [["neurodyn.x.a", "neurodyn.x.b"]]
    assert [e.names for e in import_graph.private_imports(edges, known)] == [("_secret",)]


def test_no_module_level_import_cycle():
    # Importing a.b.c from outside a.b runs a.b's __init__ first, so the package
    # initialisers are nodes of the graph too.
    assert import_graph.cycles(import_graph.imports()) == []


def test_no_private_name_imported_across_packages():
    bad = import_graph.private_imports(import_graph.imports())
    assert [f"{e.path.name}:{e.line} {e.target} {e.names}" for e in bad] == []
