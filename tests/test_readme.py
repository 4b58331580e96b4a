"""The README's Python example runs, and its commands are the ones CI uses."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    ds = namespace["ds"]
    assert ds["rates"].dims == ("trial", "time", "unit")
    assert (tmp_path / "flipflop.npz").is_file() and (tmp_path / "flipflop_eval.nc").is_file()


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    test_command = next(c.strip() for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_readme_sweep_specification_is_valid(tmp_path):
    from neurodyn.sweeps import load_spec

    blocks = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    assert blocks, "the README has no sweep specification"
    path = tmp_path / "sweep.toml"
    path.write_text(blocks[0])
    spec = load_spec(path)
    assert spec.parameters == ("model", "seed") and len(spec) == 9
    assert set(spec.analyses) == {"fixed_points", "attractors", "lyapunov"}


def test_readme_neurogym_example_runs():
    """The NeuroGym example adapts the environment and draws a batch of whole trials."""
    blocks = [
        b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S) if "from_neurogym" in b
    ]
    assert len(blocks) == 1, "the README's NeuroGym example is missing"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    batch, task = namespace["batch"], namespace["task"]
    assert batch.inputs.shape[0] == 64 and batch.inputs.shape[2] == task.n_inputs
    assert task.evaluate(task.oracle(batch), batch)["correct"].all()
