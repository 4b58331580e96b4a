"""Every tutorial runs end to end at small size and is valid jupytext percent format."""

import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.py"))


def _fixed_point_results(out: str) -> None:
    # The flip-flop part finds the cube (the same network and seeds as the test fixture).
    assert "FixedPoints(27 points, ode" in out
    assert "'stable': 8, 'unstable_1': 12, 'unstable_2': 6, 'unstable_3': 1" in out
    # Falling off a 1-saddle either way ends in memories that differ in exactly one bit.
    block = out.split("bits after falling off the saddle either way:")[1].splitlines()[1:3]
    bits = [list(map(int, re.findall(r"-?1", line))) for line in block]
    assert sum(a != b for a, b in zip(*bits, strict=True)) == 1
    # The context part analyses one input per context.
    assert "['context=0', 'context=1']" in out


#: Results a tutorial states in its printed output, checked on the same run.
STATED_RESULTS = {"03_fixed_points": _fixed_point_results}


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    env = {
        **os.environ,
        "NEURODYN_TUTORIAL_FAST": "1",
        "MPLBACKEND": "Agg",
        # One intra-op thread, as in conftest: on the 2-core CI machines, two threads
        # competing with other work run the small tutorial networks ~3x slower.
        "OMP_NUM_THREADS": "1",
        # tempfile.mkdtemp() in the tutorial then writes under pytest's tmp_path.
        "TMPDIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{path.name} exited with {proc.returncode}\n"
        f"--- stdout (tail) ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr}"
    )
    if path.stem in STATED_RESULTS:
        STATED_RESULTS[path.stem](proc.stdout)


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_is_jupytext_percent_format(path):
    text = path.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    kinds = [cell.cell_type for cell in notebook.cells]
    assert "markdown" in kinds and "code" in kinds
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    # Every cell is delimited by a `# %%` marker, so nothing sits in an implicit cell.
    assert text.count("# %%") == len(notebook.cells)


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 2
