"""Packaging: the import surface and the folder mapping of setup.cfg."""

import subprocess
import sys

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
