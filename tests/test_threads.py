"""The thread policy (neurodyn.threads): choice, load probe, scoped limits."""

import subprocess
import sys
import time

import numba
import pytest
import threadpoolctl
import torch

from neurodyn import threads


def test_check_threads_accepts_none_and_positive_ints():
    assert threads.check_threads(None) is None
    assert threads.check_threads(3) == 3
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="threads must be"):
            threads.check_threads(bad)


def test_requested_count_is_used_as_is():
    choice = threads.choose(5, work=1.0, what="x")
    assert (choice.threads, choice.requested, choice.what) == (5, 5, "x")
    assert threads.last_choice() == choice


@pytest.mark.parametrize(
    ("busy", "work", "expected"),
    [
        (0.0, None, 4),  # scalable work takes every free core
        (1.0, None, 3),  # ... but not one another process keeps busy
        (3.6, None, 1),  # never fewer than one
        (0.0, 2.5 * threads.GRAIN, 3),  # ceil(work / GRAIN)
        (0.0, 100 * threads.GRAIN, 4),  # at most the cores
        (2.2, 100 * threads.GRAIN, 2),  # round(4 - 2.2) = 2 free cores
        (0.0, 1.9 * threads.GRAIN, 1),  # too little work for a second thread
    ],
)
def test_policy_formula(monkeypatch, busy, work, expected):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "probe", lambda: busy)
    assert threads.choose(work=work).threads == expected


def test_omp_num_threads_caps_the_policy_not_a_request(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "probe", lambda: 0.0)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.choose().threads == 2
    assert threads.choose(3).threads == 3


def test_probe_subtracts_this_process_time(monkeypatch):
    """b = (busy ticks / tick rate − own CPU seconds) / window, from the previous sample."""
    clock = iter([12.0])
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda: 900 * threads._TICK // 100)
    monkeypatch.setattr(threads, "_own_seconds", lambda: 7.0)
    # Previous sample: 2 s earlier, 500 ticks at 100 Hz, 5 s of own CPU time. Since
    # then all CPUs were busy 4 s, of which 2 s were this process: 1 core for 2 s.
    monkeypatch.setattr(threads, "_last_sample", (10.0, 500 * threads._TICK // 100, 5.0))
    assert threads.probe() == pytest.approx(1.0)
    # A second probe inside MIN_WINDOW reuses the estimate, without reading /proc/stat
    # or this process's CPU time.
    clock2 = iter([12.0 + threads.MIN_WINDOW / 2])
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock2))
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda: pytest.fail("read /proc/stat"))
    monkeypatch.setattr(threads, "_own_seconds", lambda: pytest.fail("called getrusage"))
    assert threads.probe() == pytest.approx(1.0)


def test_available_cores_is_read_once_per_window(monkeypatch):
    """The affinity and the cgroup quota are read again only after MIN_WINDOW."""
    clock = iter([100.0, 100.0 + threads.MIN_WINDOW / 2, 100.0 + 2 * threads.MIN_WINDOW])
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(threads, "_cores_sample", None)
    affinity = iter([{0, 1, 2}, {0}])
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: next(affinity))

    def no_quota(*args):  # a machine without a cgroup CPU quota
        raise FileNotFoundError(args[0])

    monkeypatch.setattr(threads, "open", no_quota, raising=False)
    assert [threads.available_cores() for _ in range(3)] == [3, 3, 1]


@pytest.mark.skipif(threads._cpu_jiffies() is None, reason="no /proc/stat on this system")
def test_probe_sees_another_process_but_not_its_own_threads():
    threads.probe()  # start a window
    spin = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 3: pass"
    proc = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(1.0)  # the spinner has a core to itself while this process sleeps
        threads.probe()  # the window of the spinner's start-up
        time.sleep(0.5)
        assert threads.probe() >= 0.5
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(threads._cpu_jiffies() is None, reason="no /proc/stat on this system")
def test_a_helper_counted_as_own_is_not_load_and_its_time_outlives_it(monkeypatch):
    """A spinner counted as this process's (as a sweep's fork server is while it loads):
    its CPU time joins this process's own, which the probe subtracts from the machine's;
    once it has exited, the time it used stays in the total, which never decreases."""
    monkeypatch.setattr(threads, "_helpers", {})
    monkeypatch.setattr(threads, "_helpers_ended", 0.0)

    def spinner_seconds(pid):  # read here, independently of the module's reader
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / threads._TICK

    spin = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5: pass"
    proc = subprocess.Popen([sys.executable, "-c", spin])
    try:
        threads.count_as_own(proc.pid)
        own0, spun0 = threads._own_seconds(), spinner_seconds(proc.pid)
        time.sleep(0.5)
        spun1, own1 = spinner_seconds(proc.pid), threads._own_seconds()
        # Where the spinner shares a core with other load it runs less: what it used
        # is measured, not assumed. This process slept meanwhile.
        assert spun1 - spun0 > 0.1
        assert own1 - own0 >= spun1 - spun0
    finally:
        proc.wait()
    assert threads._own_seconds() >= own1
    assert threads._helpers == {}
    assert threads._helpers_ended >= spun1


def test_a_fresh_probe_forgets_load_that_has_ended(monkeypatch):
    """fresh=True measures over MIN_WINDOW from now, not since the previous sample."""
    clock = iter([100.0, 100.0 + threads.MIN_WINDOW])
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    tick = threads._TICK // 100  # one tick at 100 Hz: 10 ms of one CPU
    jiffies = iter([50_000 * tick, 50_000 * tick])  # nobody ran during the new window
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda: next(jiffies))
    monkeypatch.setattr(threads, "_own_seconds", lambda: 3.0)
    # The previous sample, 90 s ago: since then other processes kept 2 cores busy for
    # 60 s of it (12 000 ticks beyond this process's own), which the old window holds.
    monkeypatch.setattr(threads, "_last_sample", (10.0, 38_000 * tick, 3.0))
    assert threads.probe(fresh=True) == 0.0
    assert threads._last_sample == (100.0 + threads.MIN_WINDOW, 50_000 * tick, 3.0)


def test_limit_sets_and_restores_every_pool():
    # Numba's OpenMP layer sets OpenMP's count when it starts its pool, and torch
    # reads the same count: start Numba's pool first.
    numba.set_num_threads(1)
    torch.set_num_threads(3)
    try:
        with threadpoolctl.threadpool_limits(2, user_api="blas"):
            with threads.limit(1, what="test") as n:
                assert n == 1
                assert torch.get_num_threads() == 1
                assert numba.get_num_threads() == 1
                blas = [
                    i["num_threads"]
                    for i in threadpoolctl.threadpool_info()
                    if i["user_api"] == "blas"
                ]
                assert blas and set(blas) == {1}
            blas = [
                i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
            ]
            assert set(blas) == {2}
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(1)


def test_nested_limit_keeps_the_outer_count_unless_asked():
    with threads.limit(2) as outer:
        with threads.limit(work=1.0) as inner:
            assert inner == outer == 2
            assert torch.get_num_threads() == 2
        with threads.limit(1) as asked:
            assert asked == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    torch.set_num_threads(1)


def test_limit_restores_after_an_exception():
    torch.set_num_threads(1)
    with pytest.raises(RuntimeError), threads.limit(2):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 1
    with threads.limit(work=1.0) as n:  # no outer block is left active
        assert n == 1


def test_a_fresh_probe_waits_for_the_window_it_is_given(monkeypatch):
    """A longer window for a decision that holds long (a sweep's size); never shorter
    than MIN_WINDOW."""
    slept = []
    monkeypatch.setattr(threads.time, "sleep", slept.append)
    monkeypatch.setattr(threads, "_cpu_jiffies", lambda: 1000)
    monkeypatch.setattr(threads, "_own_seconds", lambda: 0.0)
    threads.probe(fresh=True, window=0.3)
    threads.probe(fresh=True, window=0.0)
    assert slept == [0.3, threads.MIN_WINDOW]
