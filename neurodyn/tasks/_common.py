"""Helpers shared by the task modules: timing, noise, symbol streams and decision read-out.

Private: the task classes are the public surface. Conventions used throughout:

* every period duration is a trial variable ``"<period>_ms"`` drawn from the task's
  timing, so any of them can be fixed per trial (``task.batch(8, delay_ms=500)``);
* decision tasks read a choice from the mean of the choice outputs over the scored
  steps after the go cue, and count a trial as *fixation broken* when, before the
  go cue, the fixation output drops below ``threshold`` or a choice output rises
  above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .base import Batch, Task, TrialBuilder, sample_duration

#: Output level that counts as "on" when decisions are read from outputs.
THRESHOLD = 0.5


# -- parameters --------------------------------------------------------------------------
def check_timing(task: Task) -> None:
    """Draw every timing specification once so a malformed or negative one fails at construction."""
    rng = np.random.default_rng(0)
    for period, spec in task.timing.items():
        try:
            d = sample_duration(spec, rng)
        except ValueError as err:
            raise ValueError(f"timing[{period!r}]: {err}") from None
        if not np.isfinite(d) or d < 0:
            raise ValueError(f"timing[{period!r}] must give durations >= 0 ms, got {spec!r}")


def check_values(
    name: str, values, *, low: float = -np.inf, high: float = np.inf, positive: bool = False
) -> np.ndarray:
    """Return a non-empty sequence of finite numbers in ``[low, high]`` (or > 0) as an array."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    bad = (a < low) | (a > high) | ((a <= 0) if positive else False)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(bad):
        what = "positive numbers" if positive else f"numbers in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be a non-empty sequence of {what}, got {values!r}")
    return a


def steps_per_symbol(dt: float) -> int:
    """Steps per symbol of a sequence task whose symbols last one time unit: ``1 / dt``.

    Raises ValueError naming ``dt`` unless ``1 / dt`` is a whole number.
    """
    k = int(round(1.0 / dt))
    if k < 1 or not math.isclose(k * dt, 1.0, rel_tol=1e-9):
        raise ValueError(
            f"dt must be 1/k for a whole number k (each symbol lasts one time unit and is "
            f"repeated k times), got dt={dt!r}"
        )
    return k


# -- trial layout -------------------------------------------------------------------------
def draw_durations(task: Task, rng: np.random.Generator, periods: Sequence[str]) -> dict:
    """``{"<period>_ms": duration}`` for each of ``periods``."""
    return {f"{p}_ms": task.duration(p, rng) for p in periods}


def lay_out(trial: TrialBuilder, v: dict, periods: Sequence[str]) -> None:
    """Add ``periods`` end to end with the durations held in ``v["<period>_ms"]``."""
    for p in periods:
        trial.add_period(p, v[f"{p}_ms"])


# -- reading batches ---------------------------------------------------------------------
def period_steps(batch: Batch, period: str) -> tuple[np.ndarray, np.ndarray]:
    """Onset and offset time steps (trial,) of ``period`` in ``batch``."""
    return batch.period_steps(period)


def period_mean(batch: Batch, period: str, channels: Sequence[str]) -> np.ndarray:
    """Mean input (trial, len(channels)) over ``period`` of each trial."""
    idx = [batch.input_names.index(c) for c in channels]
    on, off = period_steps(batch, period)
    out = np.zeros((batch.n_trials, len(idx)))
    for i in range(batch.n_trials):
        if off[i] > on[i]:
            out[i] = batch.inputs[i, on[i] : off[i]][:, idx].mean(axis=0)
    return out


def decision_oracle(
    batch: Batch, choice: np.ndarray, choices: Sequence[str], *, hold: np.ndarray | None = None
) -> np.ndarray:
    """Outputs of a perfect subject in a fixation/choice task.

    The fixation output copies the ``fixation`` input (so it drops exactly at the go
    cue) and, after the go cue, the output ``choices[choice[i]]`` is 1. Trials with
    ``hold[i]`` True keep fixating after the go cue (no-go trials).
    """
    out = np.zeros((batch.n_trials, batch.n_steps, len(batch.output_names)), dtype=np.float32)
    fix_in = batch.inputs[:, :, batch.input_names.index("fixation")]
    fix_out = batch.output_names.index("fixation")
    valid = batch.valid()
    go = (fix_in < THRESHOLD) & valid
    out[:, :, fix_out] = np.where(valid, (fix_in >= THRESHOLD).astype(np.float32), 0.0)
    idx = [batch.output_names.index(c) for c in choices]
    for i in range(batch.n_trials):
        if hold is not None and hold[i]:
            out[i, valid[i], fix_out] = 1.0
            continue
        if choice[i] >= 0:
            out[i, go[i], idx[choice[i]]] = 1.0
    return out


def read_decision(
    outputs: np.ndarray,
    batch: Batch,
    go_period: str,
    choices: Sequence[str],
    *,
    first_crossing: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the choice, whether fixation was broken and the response time, per trial.

    Parameters
    ----------
    outputs : ndarray, shape (trial, time, n_outputs)
    batch : Batch
    go_period : str
        The period whose onset is the go cue.
    choices : sequence of str
        Names of the choice output channels.
    first_crossing : bool
        If True (reaction-time tasks) the choice is the first channel whose output
        crosses :data:`THRESHOLD` at or after the go cue; otherwise it is the channel
        with the largest mean output over the scored steps after the go cue, if that
        mean exceeds :data:`THRESHOLD`.

    Returns
    -------
    choice : ndarray of int, shape (trial,)
        Index into ``choices``, or -1 where no choice output reached threshold.
    broke_fixation : ndarray of bool, shape (trial,)
        True where, on a scored step before the go cue, the fixation output was
        below threshold or a choice output above it.
    response_ms : ndarray of float, shape (trial,)
        Time from the go cue to the end of the first step on which a choice output
        exceeds threshold (NaN if none does).
    """
    outputs = np.asarray(outputs)
    fix = batch.output_names.index("fixation")
    idx = [batch.output_names.index(c) for c in choices]
    go, _ = period_steps(batch, go_period)
    n = batch.n_trials
    choice = np.full(n, -1, dtype=np.int64)
    broke = np.zeros(n, dtype=bool)
    response = np.full(n, np.nan)
    for i in range(n):
        length = int(batch.lengths[i])
        pre = slice(0, min(go[i], length))
        scored = batch.mask[i, pre, fix] > 0
        y = outputs[i, pre]
        bad = (y[:, fix] < THRESHOLD) | np.any(y[:, idx] > THRESHOLD, axis=1)
        broke[i] = bool(np.any(bad & scored))
        c = outputs[i, go[i] : length][:, idx]
        over = np.flatnonzero(np.any(c > THRESHOLD, axis=1))
        if over.size:
            response[i] = (over[0] + 1) * batch.dt
        if first_crossing:
            if over.size:
                choice[i] = int(np.argmax(c[over[0]]))
            continue
        scored_post = batch.mask[i, go[i] : length][:, idx].max(axis=1) > 0
        if scored_post.any():
            m = c[scored_post].mean(axis=0)
            if m.max() > THRESHOLD:
                choice[i] = int(np.argmax(m))
    return choice, broke, response
