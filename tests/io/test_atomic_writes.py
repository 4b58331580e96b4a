"""Atomic writes: permissions from the umask, and nothing partial left by an interrupt or a kill."""

import ast
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import neurodyn
from neurodyn.io import atomic_path, atomic_write_json, atomic_write_text
from neurodyn.plotting import save_figure
from neurodyn.rnn_models import RateRNN
from neurodyn.tasks import FlipFlop

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and signals")

UMASKS = [0o022, 0o027, 0o077, 0o002]


@pytest.fixture(params=UMASKS, ids=[f"umask{m:03o}" for m in UMASKS])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    return fig


WRITERS = {
    "text": lambda p: atomic_write_text(p / "a.txt", "x"),
    "json": lambda p: atomic_write_json(p / "a.json", {"a": 1}),
    "model": lambda p: neurodyn.save_model(RateRNN(1, 3, 1, seed=0), p / "m.npz"),
    "dataset": lambda p: neurodyn.save_dataset(
        FlipFlop(dt=10.0, timing={"trial": 50.0}).batch(2, seed=0).to_xarray(), p / "d.nc"
    ),
    "figure": lambda p: save_figure(_figure(), p / "f.png"),
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_a_new_file_gets_the_mode_the_umask_asks_for(tmp_path, umask, write):
    path = write(tmp_path / "sub")
    assert mode(path) == 0o666 & ~umask
    # The folder made for it follows the umask too.
    assert mode(tmp_path / "sub") == 0o777 & ~umask
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [path.name]


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    path = atomic_write_text(tmp_path / "a.txt", "old")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o640


def test_an_interrupted_write_leaves_the_old_file_and_no_partial_one(tmp_path, umask):
    path = atomic_write_text(tmp_path / "a.txt", "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text("half of the new cont")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and mode(path) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    # A first write that fails leaves nothing at all.
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.txt") as tmp:
        tmp.write_text("partial")
        raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from neurodyn.io import atomic_path
    with atomic_path(sys.argv[1]) as tmp:
        with open(tmp, "w") as fh:
            fh.write("half of the new cont")
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_writer_leaves_the_old_file_and_its_leftover_is_removed_next_time(tmp_path, sig):
    path = atomic_write_text(tmp_path / "a.txt", "old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline() == "writing\n"
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()
    assert path.read_text() == "old"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "a.txt"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".a.txt.")
    # A temporary file of a process that still runs (this one) is not touched.
    with atomic_path(path) as mine:
        atomic_write_text(path, "new")
        assert mine.exists() and not leftovers[0].exists()
        mine.write_text("newer")
    assert path.read_text() == "newer"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


# -- every file the package writes goes through atomic_path -------------------------------------
_WRITER_METHODS = {"to_netcdf", "savefig", "write_text", "write_bytes", "to_csv", "to_zarr"}
_WRITER_FUNCTIONS = {("np", "save"), ("np", "savez"), ("np", "savez_compressed"),
                     ("numpy", "save"), ("torch", "save"), ("json", "dump"),
                     ("pickle", "dump")}  # fmt: skip


def _in_memory(node) -> bool:
    """``io.BytesIO()`` / ``StringIO()``: a buffer in memory, not a file."""
    f = getattr(node, "func", None)
    return isinstance(node, ast.Call) and getattr(f, "attr", getattr(f, "id", "")) in {
        "BytesIO",
        "StringIO",
    }


def _is_writer(call: ast.Call) -> bool:
    if any(_in_memory(a) for a in call.args):
        return False  # the destination is an in-memory buffer: nothing is written to disk
    f = call.func
    if isinstance(f, ast.Attribute):
        if f.attr in _WRITER_METHODS:
            return True
        return isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _WRITER_FUNCTIONS
    if isinstance(f, ast.Name) and f.id == "open":
        modes = [a for a in call.args[1:2]] + [k.value for k in call.keywords if k.arg == "mode"]
        return any(
            isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) & set("wax")
            for m in modes
        )
    return False


def _inside_atomic_with(stack) -> bool:
    for node in stack:
        if isinstance(node, ast.With):
            for item in node.items:
                e = item.context_expr
                name = (
                    getattr(e.func, "attr", getattr(e.func, "id", ""))
                    if isinstance(e, ast.Call)
                    else ""
                )
                if name == "atomic_path":
                    return True
    return False


def _bare_writes(tree):
    found = []

    def visit(node, stack):
        if isinstance(node, ast.Call) and _is_writer(node) and not _inside_atomic_with(stack):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, [*stack, node])

    visit(tree, [])
    return found


def test_the_writer_check_finds_a_bare_write():
    tree = ast.parse("def f(ds, p):\n    ds.to_netcdf(p)\n    with atomic_path(p) as t:\n"
                     "        ds.to_netcdf(t)\n    open(p, 'w')\n    open(p)\n"
                     "    torch.save(x, io.BytesIO())\n    fig.savefig(io.BytesIO())\n"
                     "    torch.save(x, p)\n")  # fmt: skip
    assert _bare_writes(tree) == [2, 5, 9]


def test_every_file_the_package_writes_goes_through_atomic_path():
    root = Path(neurodyn.__file__).resolve().parent.parent
    sources = [p for d in ("neurodyn", "analysis", "rnn_models") for p in (root / d).rglob("*.py")]
    assert len(sources) > 20
    bare = {
        str(p.relative_to(root)): lines
        for p in sources
        if (lines := _bare_writes(ast.parse(p.read_text(encoding="utf-8"))))
    }
    assert bare == {}, f"files written without neurodyn.io.atomic_path (file: lines): {bare}"
