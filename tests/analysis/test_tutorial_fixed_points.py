"""The fixed-point tutorial runs at small size and reaches its stated results."""

import os
import re
import subprocess
import sys
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[2] / "tutorials" / "03_fixed_points.py"


def test_fixed_point_tutorial(tmp_path):
    env = {
        **os.environ,
        "NEURODYN_TUTORIAL_FAST": "1",
        "MPLBACKEND": "Agg",
        "TMPDIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    # The flip-flop part finds the cube (the same network and seeds as the test fixture).
    assert "FixedPoints(27 points, ode" in out
    assert "'stable': 8, 'unstable_1': 12, 'unstable_2': 6, 'unstable_3': 1" in out
    # Falling off a 1-saddle either way ends in memories that differ in exactly one bit.
    block = out.split("bits after falling off the saddle either way:")[1].splitlines()[1:3]
    bits = [list(map(int, re.findall(r"-?1", line))) for line in block]
    assert sum(a != b for a, b in zip(*bits, strict=True)) == 1
    # The context part analyses one input per context.
    assert "['context=0', 'context=1']" in out
