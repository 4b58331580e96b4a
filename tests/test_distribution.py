"""What a non-editable install ships: every package folder of the source tree, and a
wheel (built from the sdist) that installs and runs away from the source tree.

An editable install finds a package that setup.cfg forgets, so only these tests notice
a folder or file that a wheel would leave out.
"""

import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _listed(cfg, key):
    return [line.strip() for line in cfg["options"][key].splitlines() if line.strip()]


def test_every_package_folder_is_listed_in_setup_cfg():
    cfg = _setup_cfg()
    mapping = dict(line.split(" = ") for line in _listed(cfg, "package_dir"))
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            if "__pycache__" not in relative:
                found.add(".".join([name, *relative]))
    assert found == set(_listed(cfg, "packages"))


# Run inside the installed package: every file opened is recorded (Python's audit hook
# sees each open()), then the command runs; the paths opened inside the source tree are
# printed last, so that a test can read them.
_AUDITED = """
import sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        opened.append(args[0])
sys.addaudithook(hook)
from neurodyn.cli import main
code = main(sys.argv[2:])
root = sys.argv[1]
print("OPENED-IN-SOURCE:", [p for p in opened if os.path.abspath(p).startswith(root)])
sys.exit(code)
"""


def _run(cmd, cwd, env, timeout=900):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.mark.slow
def test_the_wheel_built_from_the_sdist_runs_away_from_the_source_tree(tmp_path):
    # The sdist is built from the tree, the wheel from the sdist (python -m build does
    # both that way): a file the sdist forgets fails the wheel's build.
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(dist), str(ROOT)],
         tmp_path, {**os.environ})  # fmt: skip
    wheel = next(dist.glob("neurodyn-*.whl"))
    assert next(dist.glob("neurodyn-*.tar.gz")).stat().st_size > 0
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, {**os.environ})
    py = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # torch pinned first, as the README says, so the wheel's torch>= is already met.
    _run([py, "-m", "pip", "install", "-q", "torch==2.13.0"], tmp_path, env)
    _run([py, "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([py, "-c", "import neurodyn, neurodyn._C as c; print(neurodyn.__file__, "
                  "c.__file__, neurodyn.__version__)"], elsewhere, env).split()  # fmt: skip
    assert all(str(venv) in p for p in where[:2])  # the installed package and its kernels
    version = _run([str(venv / "bin" / "neurodyn"), "--version"], elsewhere, env)
    assert version.strip() == f"neurodyn {where[2]}"
    script = elsewhere / "audited.py"
    script.write_text("import os\n" + textwrap.dedent(_AUDITED))
    for cmd in (["quickstart", "--out", "qs", "--no-progress"],
                ["reproduce", "ground-truth", "--quick", "--out", "gt", "--no-progress"]):  # fmt: skip
        out = _run([py, str(script), str(ROOT), *cmd], elsewhere, env)
        assert "OPENED-IN-SOURCE: []" in out, out[-2000:]
    assert any((elsewhere / "qs").iterdir())
    assert (elsewhere / "gt" / "ground_truth.md").exists()
