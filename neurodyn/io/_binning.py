"""Spike times and sampled series put into trial-aligned bins (pure NumPy).

Times here are seconds on a file's clock, as NWB stores them. Bin ``j`` of trial ``k``
covers ``[edges[k, j], edges[k, j + 1])``.
"""

from __future__ import annotations

import numpy as np

#: Bin edges are taken this fraction of a bin early, so that an event stamped exactly on
#: a bin's start (simulators stamp spikes on their step grid) falls in that bin whatever
#: the rounding of the edge in seconds; 1e-6 of a bin is far below any sampling period.
EDGE_SLACK = 1e-6


def bin_edges(events: np.ndarray, start: float, dt: float, n_bins: int) -> np.ndarray:
    """Edges (trial, n_bins + 1), in seconds: ``event + start + j dt`` (``start``, ``dt`` in s)."""
    return events[:, None] + start + np.arange(n_bins + 1)[None, :] * dt


def bin_spikes(spikes: np.ndarray, edges: np.ndarray, dt: float) -> np.ndarray:
    """Spike counts (trial, bin) of one unit's spike times (s) in the bins ``edges``.

    A row of NaN edges (an event missing from a trial) counts nothing.
    """
    spikes = np.sort(np.asarray(spikes, dtype=float))
    shifted = edges - EDGE_SLACK * dt
    idx = np.searchsorted(spikes, np.nan_to_num(shifted, nan=-np.inf), side="left")
    return np.diff(idx, axis=1)


def observed_bins(intervals: np.ndarray | None, edges: np.ndarray, dt: float) -> np.ndarray:
    """(trial, bin) True where the bin lies wholly inside one of ``intervals`` (n, 2), in s.

    ``None`` (no observation intervals) observes every bin; NaN edges observe none.
    """
    left, right = edges[:, :-1], edges[:, 1:]
    if intervals is None:
        return np.isfinite(left) & np.isfinite(right)
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if len(iv) == 0:
        return np.zeros(left.shape, dtype=bool)
    iv = iv[np.argsort(iv[:, 0])]
    slack = EDGE_SLACK * dt
    # Of the intervals starting at or before the bin's start, the one ending last decides.
    i = np.searchsorted(iv[:, 0], np.nan_to_num(left + slack, nan=-np.inf), side="right") - 1
    ends = np.maximum.accumulate(iv[:, 1])[np.clip(i, 0, None)]
    with np.errstate(invalid="ignore"):
        return (i >= 0) & (right - slack <= ends) & np.isfinite(left)


def resample(
    times: np.ndarray, read, edges: np.ndarray, dt: float, n_columns: int, dtype
) -> np.ndarray:
    """A sampled series (trial, bin, column) in the bins ``edges``.

    A bin holding samples gets their mean (a bin with exactly one sample gets that
    sample, bit for bit); an empty bin gets the series linearly interpolated at the
    bin's centre, NaN outside the sampled span or for a missing event.

    Parameters
    ----------
    times : array (n,)
        Ascending sample times (s).
    read : callable
        ``read(i0, i1)`` returns samples ``i0:i1`` as an array (i1 - i0, n_columns),
        so that only the samples inside the trials are read from the file.
    """
    n_trial, n_bins = edges.shape[0], edges.shape[1] - 1
    out = np.full((n_trial, n_bins, n_columns), np.nan, dtype=np.float64)
    slack = EDGE_SLACK * dt
    for k in range(n_trial):
        if not np.all(np.isfinite(edges[k])):
            continue
        lo, hi = np.searchsorted(times, [edges[k, 0] - slack, edges[k, -1] - slack])
        pad = min(int(lo), 1), min(len(times) - int(hi), 1)  # neighbours for interpolation
        t = times[lo - pad[0] : hi + pad[1]]
        v = np.asarray(read(int(lo) - pad[0], int(hi) + pad[1]), dtype=np.float64)
        v = v.reshape(len(t), n_columns)
        inside = slice(pad[0], len(t) - pad[1])
        out[k] = _bin_means(t[inside], v[inside], edges[k] - slack, n_bins)
        empty = ~_has_samples(t[inside], edges[k] - slack)
        if empty.any() and len(t):
            centres = 0.5 * (edges[k, :-1] + edges[k, 1:])[empty]
            for c in range(n_columns):
                out[k, empty, c] = np.interp(centres, t, v[:, c], left=np.nan, right=np.nan)
    return out.astype(dtype, copy=False)


def _bin_means(t: np.ndarray, v: np.ndarray, edges: np.ndarray, n_bins: int) -> np.ndarray:
    j = np.searchsorted(edges, t, side="right") - 1
    ok = (j >= 0) & (j < n_bins)
    sums = np.zeros((n_bins, v.shape[1]))
    np.add.at(sums, j[ok], v[ok])
    counts = np.bincount(j[ok], minlength=n_bins)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _has_samples(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    j = np.searchsorted(edges, t, side="right") - 1
    n_bins = len(edges) - 1
    return np.bincount(j[(j >= 0) & (j < n_bins)], minlength=n_bins) > 0


def counts_to_spikes(counts: np.ndarray, starts: np.ndarray, dt: float) -> np.ndarray:
    """Spike times (s) that bin back into ``counts`` (trial, bin): ``c`` spikes of a bin are
    spread evenly inside it, at ``left + (i + 1/2) dt / c``, away from its edges."""
    k, j = np.nonzero(counts)
    c = counts[k, j].astype(np.int64)
    k, j, n = np.repeat(k, c), np.repeat(j, c), np.repeat(c, c)
    first = np.repeat(np.cumsum(c) - c, c)
    i = np.arange(len(k)) - first
    return np.sort(starts[k] + (j + (i + 0.5) / n) * dt)


def runs(observed: np.ndarray, starts: np.ndarray, dt: float) -> np.ndarray:
    """Intervals (n, 2) in s covering the runs of True in ``observed`` (trial, bin)."""
    out = []
    for k, row in enumerate(observed):
        padded = np.concatenate([[False], row, [False]]).astype(np.int8)
        change = np.flatnonzero(np.diff(padded))
        for a, b in zip(change[::2], change[1::2], strict=True):
            out.append((starts[k] + a * dt, starts[k] + b * dt))
    return np.asarray(out, dtype=float).reshape(-1, 2)
