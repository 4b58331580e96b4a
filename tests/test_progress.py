"""Progress bars: on where someone watches, off in logs and pipes, forced on when asked."""

import io
import sys

import numpy as np
import pytest

from neurodyn import progress as progress_module
from neurodyn.progress import check_progress, progress_bar


class Stream(io.StringIO):
    """Standard error that is, or is not, a terminal."""

    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.fixture
def stderr(monkeypatch):
    def install(tty: bool) -> Stream:
        stream = Stream(tty)
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    return install


def run_bar(n: int = 50, **kwargs) -> None:
    with progress_bar(total=n, desc="work", **kwargs) as bar:
        for _ in range(n):
            bar.update(1)


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (True, "auto"),
        (False, "never"),
        (np.bool_(True), "auto"),
        ("auto", "auto"),
        ("never", "never"),
        ("always", "always"),
    ],
)
def test_check_progress_accepts_bools_and_the_three_names(value, mode):
    assert check_progress(value) == mode


@pytest.mark.parametrize("value", [None, 1, 0, "yes", "Always", 0.5])
def test_check_progress_refuses_anything_else(value):
    with pytest.raises(ValueError, match=r"^progress must be True, False, 'auto', 'never' or "):
        check_progress(value)


@pytest.mark.parametrize("progress", [True, "auto"])
def test_the_default_shows_a_bar_on_a_terminal_and_nothing_in_a_log(stderr, progress):
    terminal = stderr(tty=True)
    run_bar(progress=progress)
    assert "work: 100%" in terminal.getvalue()
    log = stderr(tty=False)
    run_bar(progress=progress)
    assert log.getvalue() == ""


@pytest.mark.parametrize("progress", [False, "never"])
def test_off_is_off_even_on_a_terminal(stderr, progress):
    terminal = stderr(tty=True)
    run_bar(progress=progress)
    assert terminal.getvalue() == ""


def test_a_forced_bar_in_a_log_is_refreshed_rarely(stderr):
    # A terminal bar redraws at every update when allowed to...
    terminal = stderr(tty=True)
    run_bar(2000, progress="always", mininterval=0, miniters=1)
    assert terminal.getvalue().count("\r") > 100
    # ...while a forced bar written to a file shows its start and its end, well within
    # the 30 s between refreshes that a log gets.
    log = stderr(tty=False)
    run_bar(2000, progress="always", mininterval=0, miniters=1)
    text = log.getvalue()
    assert "work: 100%" in text and text.count("\r") <= 3
    assert len(text) < 400


def test_a_notebook_counts_as_interactive_and_needs_no_widget(stderr, monkeypatch):
    monkeypatch.setattr(progress_module, "_in_jupyter", lambda: True)
    # Without ipywidgets a text bar is drawn, never tqdm's "IProgress not found"
    # warning (warnings are errors in the suite).
    monkeypatch.setattr(progress_module.importlib.util, "find_spec", lambda name: None)
    out = stderr(tty=False)
    run_bar(progress=True)
    assert "work: 100%" in out.getvalue()
    assert progress_module.interactive()


def test_no_standard_error_means_no_bar(monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)
    assert not progress_module.interactive()
    bar = progress_bar(range(3), progress="always")
    assert bar.disable and list(bar) == [0, 1, 2]


def test_a_disabled_bar_still_yields_everything(stderr):
    stderr(tty=False)
    assert list(progress_bar(iter(range(5)), progress=True)) == [0, 1, 2, 3, 4]


# -- call sites ----------------------------------------------------------------------------------
def _spiking_run(progress):
    from neurodyn.spiking import LIF, Network

    net = Network(dt=1.0)
    net.add_source("s", 4)
    net.add_lif("n", 3, LIF())
    net.connect("s", "n", p=1.0, weight=5.0, seed=0)
    return net.run(20.0, n_samples=4, rates={"s": np.full(4, 50.0)}, batch_size=2,
                   backend="numpy", progress=progress)  # fmt: skip


def test_the_spiking_engine_draws_its_bar_by_the_rule(stderr):
    terminal = stderr(tty=True)
    _spiking_run(progress=True)
    assert "simulating: 100%" in terminal.getvalue()
    log = stderr(tty=False)
    _spiking_run(progress=True)
    assert log.getvalue() == ""
    with pytest.raises(ValueError, match=r"^progress must be"):
        _spiking_run(progress="sometimes")


def _continuation(progress):
    from neurodyn.analysis.continuation import continue_fixed_points
    from neurodyn.dynamics import FunctionDynamics

    dyn = FunctionDynamics(lambda x, u: u - x**2, n_state=1, n_input=1, kind="ode")
    return continue_fixed_points(dyn, [1.0], p0=1.0, p_range=(-1, 2), direction=-1,
                                 progress=progress)  # fmt: skip


def test_continuation_draws_its_bar_by_the_rule(stderr):
    terminal = stderr(tty=True)
    branch = _continuation(progress=True)
    assert "continuation:" in terminal.getvalue()
    log = stderr(tty=False)
    again = _continuation(progress=True)
    assert log.getvalue() == ""
    assert [b.kind for b in again.bifurcations] == [b.kind for b in branch.bifurcations] == ["fold"]
    with pytest.raises(ValueError, match=r"^progress must be"):
        _continuation(progress="loud")
