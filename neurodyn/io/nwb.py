"""NWB files (Neurodata Without Borders): recordings read from them, simulations written to them.

:func:`read_nwb` turns a session into a recording (:mod:`neurodyn.io.recordings`): the
Units table's spike times counted in bins of ``dt`` ms (or a TimeSeries of rates
resampled to them), aligned to every trial of the trials table, the trials' columns as
trial variables. :func:`write_nwb` writes a neurodyn simulation or recording as a
session that :func:`read_nwb` reads back into the same values.

NWB stores times in seconds on the session's clock; neurodyn uses ms. Trials written
by :func:`write_nwb` lie end to end: trial ``k`` of a Dataset with ``n_time`` bins
starts at ``k n_time dt`` and stops ``length[k] dt`` later.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from .._validation import check_positive
from .._version import __version__
from . import _binning
from ._formats import check_path
from .atomic import atomic_path
from .recordings import check_recording, recording
from .tables import json_safe

__all__ = ["read_nwb", "write_nwb"]

_MS = 1e-3  # seconds per ms
#: Trial columns the trials table defines itself.
_TRIAL_OWN = {"start_time", "stop_time", "timeseries", "tags", "id"}
#: Units columns that are not one number or label per unit.
_UNIT_OWN = {"spike_times", "obs_intervals", "electrodes", "electrode_group", "waveforms"}
_MODULE = "misc"  # the NWB processing module for data of no recording modality
#: Key of the file's notes (JSON) under which write_nwb names the input channels.
INPUT_CHANNELS = "input_channels"


def _pynwb():
    """Import pynwb where a file is read or written: it is an optional extra (``nwb``), and
    with h5py and hdmf it takes about a second to import, which ``import neurodyn.io``
    must not pay."""
    try:
        import pynwb
    except ImportError:
        raise ImportError(
            'reading and writing NWB files needs pynwb: pip install "neurodyn[nwb]"'
        ) from None
    return pynwb


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Bins:
    """Where the bins of every trial lie."""

    edges: np.ndarray  # (trial, n_bins + 1), s
    lengths: np.ndarray  # (trial,) bins inside each trial
    time: np.ndarray  # (n_bins,) ms, the end of each bin relative to the event
    dt: float  # ms


def read_nwb(
    path: str | os.PathLike,
    *,
    dt: float,
    align: str = "start_time",
    window: tuple[float, float] | None = None,
    units=None,
    inputs=None,
    activity: str | None = None,
) -> xr.Dataset:
    """Read an NWB session as a recorded-activity Dataset.

    Parameters
    ----------
    path : path-like
        An ``.nwb`` file with a trials table.
    dt : float
        Bin width (ms).

    Other Parameters
    ----------------
    align : str
        The trials-table column (seconds on the session clock, as NWB stores event
        times) that each trial's bins are aligned to; default the trial's start.
    window : (before_ms, after_ms), optional
        Bins cover ``[event - before_ms, event + after_ms)``; ``before + after`` must
        be a multiple of ``dt``. Default: each trial from its ``start_time`` to its
        ``stop_time`` (``align`` must then be ``"start_time"``); shorter trials are
        padded to the longest and the padding is masked. A trial whose event is NaN
        is masked everywhere.
    units : sequence of int, optional
        Ids of the Units table to read (default all), or column indices of the
        TimeSeries read as ``activity``.
    inputs : sequence of str, optional
        Names of TimeSeries (in ``stimulus``, ``acquisition`` or a processing module)
        resampled to the bins as inputs: a bin holding samples gets their mean, an
        empty bin the series interpolated at its centre. A 1-D series is one input
        channel named after it; a 2-D series of ``c`` columns gives ``name_0`` ...
        Default: the input channels :func:`write_nwb` wrote (named in the file's
        notes), none for a file from elsewhere; ``()`` reads none.
    activity : str, optional
        ``"units"`` for spike counts from the Units table, or the name of a TimeSeries
        of rates (time, neuron). Default: the Units table when the file has one, else
        a TimeSeries named ``rates`` or ``activity``.

    Returns
    -------
    xarray.Dataset
        A recording (:func:`neurodyn.io.check_recording`): ``activity`` counts
        (``kind="counts"``) or rates, NaN and masked where unobserved (outside a
        trial, outside a unit's ``obs_intervals``, a NaN sample); bin ``k`` of
        ``window`` ends at ``time[k] = -before + (k + 1) dt`` ms; every column of the
        trials table with one value per trial as a ``trial`` coordinate
        (``start_time``/``stop_time`` in s); per-unit columns as ``neuron``
        coordinates; ``attrs`` holding what a file written by :func:`write_nwb` says
        about itself (model, task, seed, version) and ``session_description``.

    Raises
    ------
    ValueError
        Naming the argument: a missing file, no trials table, an unknown column,
        unit or TimeSeries, a window that is not a multiple of ``dt``.
    ImportError
        If pynwb is not installed.

    Examples
    --------
    Spike counts written as a Units table, read back in the same bins, in bins
    twice as wide, and in a window around each trial's start:

    >>> import numpy as np
    >>> from neurodyn.io import read_nwb, recording, write_nwb
    >>> counts = np.random.default_rng(0).poisson(1.5, size=(3, 8, 4))
    >>> rec = recording(counts, dt=20.0, kind="counts",
    ...                 trial_variables={"stimulus": np.array([0, 1, 0])})
    >>> path = write_nwb(rec, "session.nwb", session_description="binned spikes")
    >>> back = read_nwb(path, dt=20.0)
    >>> back.attrs["kind"], bool(np.array_equal(back["activity"], counts))
    ('counts', True)
    >>> back["stimulus"].values.tolist()
    [0, 1, 0]
    >>> wide = read_nwb(path, dt=40.0)
    >>> bool(np.array_equal(wide["activity"], counts.reshape(3, 4, 2, 4).sum(axis=2)))
    True
    >>> read_nwb(path, dt=20.0, window=(40.0, 80.0))["time"].values.tolist()
    [-20.0, 0.0, 20.0, 40.0, 60.0, 80.0]
    """
    path = _existing_file(path)
    dt = check_positive("dt", dt)
    window = _check_window(window, dt, align)
    pynwb = _pynwb()
    with pynwb.NWBHDF5IO(str(path), mode="r") as io:
        nwb = io.read()
        trials = _trial_table(nwb, path)
        bins = _plan_bins(trials, align, window, dt)
        act, mask, kind, neurons, neuron_coords = _read_activity(nwb, activity, units, bins)
        inp, names = _read_inputs(nwb, inputs, bins)
        attrs = _file_attrs(nwb)
    ds = recording(
        act,
        inp,
        dt=dt,
        mask=mask,
        trial_variables=trials,
        kind=kind,
        lengths=bins.lengths,
        neurons=neurons,
        input_names=names,
    )
    ds = ds.assign_coords(time=bins.time, **{k: ("neuron", v) for k, v in neuron_coords.items()})
    ds["time"].attrs["units"] = "ms"
    for k in ("start_time", "stop_time"):
        ds[k].attrs["units"] = "s"
    ds.attrs = {**attrs, **ds.attrs}
    return check_recording(ds)


def _existing_file(path) -> Path:
    path = check_path("path", path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not an existing NWB file")
    return path


def _check_window(window, dt: float, align: str) -> tuple[float, float] | None:
    if not isinstance(align, str):
        raise ValueError(f"align must be the name of a trials-table column, got {align!r}")
    if window is None:
        if align != "start_time":
            raise ValueError(
                f"align={align!r} needs window=(before_ms, after_ms): without a window each "
                "trial is read from its start_time to its stop_time"
            )
        return None
    try:
        before, after = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"window must be (before_ms, after_ms), got {window!r}") from None
    n = (before + after) / dt
    # Window and dt are given in ms by a user; 1e-9 of a bin covers their decimal rounding.
    if not (np.isfinite(n) and n >= 1 and abs(n - round(n)) < 1e-9):
        raise ValueError(
            f"window={window!r}: before + after = {before + after} ms must be a positive "
            f"multiple of dt={dt} ms"
        )
    return before, after


def _trial_table(nwb, path: Path) -> dict:
    """Every trials-table column with one scalar per trial, as arrays."""
    if nwb.trials is None or len(nwb.trials) == 0:
        raise ValueError(f"{str(path)!r} has no trials table (or an empty one) to align to")
    return _scalar_columns(nwb.trials, skip=_TRIAL_OWN - {"start_time", "stop_time"})


def _scalar_columns(table, skip: set) -> dict:
    out = {}
    for name in table.colnames:
        col = table[name]
        if name in skip or type(col).__name__ != "VectorData":
            continue  # ragged columns (VectorIndex) and references are not one value per row
        values = np.asarray(col.data[:])
        if values.ndim == 1:
            out[name] = values.astype(str) if values.dtype.kind in "OS" else values
    return out


def _plan_bins(trials: dict, align: str, window, dt: float) -> _Bins:
    if align not in trials:
        names = sorted(k for k in trials if np.asarray(trials[k]).dtype.kind == "f")
        raise ValueError(f"align={align!r} is not a column of the trials table; it has {names}")
    events = np.asarray(trials[align], dtype=float)
    if window is None:
        duration = (np.asarray(trials["stop_time"], float) - events) / (dt * _MS)
        # A trial holds the bins that end by its stop_time; 1e-9 of a bin absorbs rounding.
        lengths = np.floor(np.maximum(duration, 0) + 1e-9).astype(np.int32)
        before, n_bins = 0.0, int(lengths.max())
    else:
        before, after = window
        n_bins = round((before + after) / dt)
        lengths = np.where(np.isfinite(events), n_bins, 0).astype(np.int32)
    edges = _binning.bin_edges(events, -before * _MS, dt * _MS, n_bins)
    time = -before + (np.arange(n_bins) + 1.0) * dt
    return _Bins(edges, lengths, time, dt)


def _read_activity(nwb, activity, units, bins: _Bins):
    if activity is None:
        activity = "units" if nwb.units is not None else _default_series(nwb)
    if activity == "units":
        return _read_units(nwb, units, bins)
    series = _find_series(nwb, activity, "activity")
    values, observed = _read_series(series, units, bins)
    return values, observed, "rates", _pick(units, values.shape[-1]), {}


def _default_series(nwb) -> str:
    for name in ("rates", "activity"):
        if _series_or_none(nwb, name) is not None:
            return name
    raise ValueError(
        "the file has no Units table and no TimeSeries named 'rates' or 'activity'; name "
        f"the TimeSeries to read with activity=... (it has {sorted(_all_series(nwb))})"
    )


def _read_units(nwb, units, bins: _Bins):
    table = nwb.units
    if table is None:
        raise ValueError("activity='units', but the file has no Units table")
    ids = np.asarray(table.id[:])
    chosen = ids if units is None else np.asarray(list(units))
    rows = {int(i): r for r, i in enumerate(ids)}
    missing = [int(u) for u in chosen if int(u) not in rows]
    if missing:
        raise ValueError(f"units {missing} are not ids of the Units table (ids {ids[:10]}...)")
    has_obs = "obs_intervals" in table.colnames
    valid = np.arange(bins.edges.shape[1] - 1)[None, :] < bins.lengths[:, None]
    dt_s = bins.dt * _MS
    counts, masks = [], []
    for u in chosen:
        r = rows[int(u)]
        counts.append(_binning.bin_spikes(table["spike_times"][r], bins.edges, dt_s))
        obs = table["obs_intervals"][r] if has_obs else None
        masks.append(_binning.observed_bins(obs, bins.edges, dt_s) & valid)
    mask = np.stack(masks, axis=-1)
    act = np.where(mask, np.stack(counts, axis=-1), np.nan).astype(np.float32)
    coords = _scalar_columns(table, skip=_UNIT_OWN | {"neuron_label"})
    order = [rows[int(u)] for u in chosen]
    labels = _scalar_columns(table, skip=set()).get("neuron_label")
    neurons = chosen.astype(np.int32) if labels is None else labels[order]
    return act, mask, "counts", neurons, {k: v[order] for k, v in coords.items()}


def _read_series(series, columns, bins: _Bins):
    data = series.data
    n_columns = 1 if len(data.shape) == 1 else int(np.prod(data.shape[1:]))
    times = _series_times(series, data.shape[0])
    scale, offset = float(series.conversion), float(getattr(series, "offset", 0.0) or 0.0)
    dtype = np.float32 if np.dtype(data.dtype) == np.float32 else np.float64

    def read(i0: int, i1: int) -> np.ndarray:
        v = np.asarray(data[i0:i1]).reshape(i1 - i0, n_columns)
        # Scaled only where the file says so, so stored values come back bit for bit.
        return v if (scale, offset) == (1.0, 0.0) else v * scale + offset

    values = _binning.resample(times, read, bins.edges, bins.dt * _MS, n_columns, dtype)
    valid = np.arange(values.shape[1])[None, :] < bins.lengths[:, None]
    values = values[..., _pick(columns, n_columns)]
    observed = np.isfinite(values) & valid[..., None]
    return np.where(observed, values, np.nan).astype(dtype), observed


def _pick(columns, n: int) -> np.ndarray:
    if columns is None:
        return np.arange(n, dtype=np.int32)
    picked = np.asarray(list(columns))
    if picked.dtype.kind not in "iu" or np.any((picked < 0) | (picked >= n)):
        raise ValueError(f"units must be column indices in [0, {n}) of the series, got {columns}")
    return picked.astype(np.int32)


def _series_times(series, n: int) -> np.ndarray:
    if series.timestamps is not None:
        return np.asarray(series.timestamps[:], dtype=float)
    return float(series.starting_time or 0.0) + np.arange(n) / float(series.rate)


def _all_series(nwb) -> dict:
    """Every TimeSeries of the file by name: stimulus, acquisition, processing modules."""
    found = {}
    groups = [nwb.stimulus, nwb.acquisition]
    groups += [dict(m.data_interfaces) for m in nwb.processing.values()]
    for group in groups:
        for name, obj in group.items():
            if hasattr(obj, "data") and hasattr(obj, "starting_time"):
                found.setdefault(name, obj)
    return found


def _series_or_none(nwb, name: str):
    return _all_series(nwb).get(name)


def _find_series(nwb, name: str, argument: str):
    series = _series_or_none(nwb, name)
    if series is None:
        raise ValueError(
            f"{argument}: the file has no TimeSeries named {name!r}; it has "
            f"{sorted(_all_series(nwb))}"
        )
    return series


def _read_inputs(nwb, inputs, bins: _Bins):
    if inputs is None:
        inputs = _file_notes(nwb).get(INPUT_CHANNELS, [])
    if isinstance(inputs, str):
        inputs = [inputs]
    if len(inputs) == 0:
        return None, None
    blocks, names = [], []
    for name in inputs:
        values, _ = _read_series(_find_series(nwb, name, "inputs"), None, bins)
        blocks.append(values)
        k = values.shape[-1]
        names += [name] if k == 1 else [f"{name}_{j}" for j in range(k)]
    return np.concatenate(blocks, axis=-1), names


def _file_notes(nwb) -> dict:
    """The notes :func:`write_nwb` leaves (JSON with the neurodyn version); {} otherwise."""
    try:
        notes = json.loads(nwb.notes) if nwb.notes else {}
    except ValueError:
        return {}
    return notes if isinstance(notes, dict) and "neurodyn_version" in notes else {}


def _file_attrs(nwb) -> dict:
    attrs = {"session_description": str(nwb.session_description)}
    notes = _file_notes(nwb)
    attrs.update({k: v for k, v in notes.items() if isinstance(v, (str, int, float))})
    return attrs


# --------------------------------------------------------------------------- writing


def write_nwb(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    session_description: str,
    session_start_time: datetime | None = None,
    identifier: str | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write a neurodyn simulation or recording as an NWB file, atomically.

    What is written, by Dataset:

    - a rate-network simulation (:func:`neurodyn.simulate`: ``rates``): ``rates``
      and ``outputs`` as TimeSeries (time, unit) in the processing module ``misc``;
    - a recording (:mod:`neurodyn.io.recordings`) of ``kind="rates"``: ``activity``
      as a TimeSeries in ``misc``, NaN where the mask is 0; of ``kind="counts"``: a
      Units table whose spike times bin back into the counts (a bin's ``c`` spikes
      spread evenly inside it), with ``obs_intervals`` from the mask where it has
      zeros inside the trials, and per-neuron coordinates as columns;
    - a spiking simulation (:func:`neurodyn.spiking.simulate` with recorded spikes):
      a Units table of every spike, each sample one trial of ``duration`` ms.

    Every TimeSeries has one sample per bin, stamped at the bin's centre (sample ``j``
    of trial ``k`` stands for ``[start_k + j dt, start_k + (j + 1) dt)``), so that
    :func:`read_nwb` at the same ``dt`` gets the stored values back exactly. Input
    channels are TimeSeries named after them in ``stimulus``; every 1-D ``trial``
    coordinate but ``length`` is a trials-table column (``*_on``/``*_off``
    period times in ms from the trial's start); the Dataset's ``attrs`` (model and
    task configuration, seed, neurodyn version) are the file's ``notes`` as JSON,
    and ``source_script`` names the neurodyn version.

    Parameters
    ----------
    ds : xarray.Dataset
        A simulation (:func:`neurodyn.simulate`), a recording
        (:func:`neurodyn.io.recording`) or a spiking simulation with recorded spikes.
    path : path-like
        Destination, ending in ``.nwb``.
    session_description : str
        What the session is (NWB requires it).
    session_start_time : datetime, optional
        Timezone-aware; default now (UTC).
    identifier : str, optional
        Unique file identifier; default a random UUID.
    metadata : dict, optional
        More :class:`pynwb.NWBFile` fields (``experimenter``, ``institution``,
        ``lab``, ``keywords``, ``experiment_description``, ``subject``...).

    Returns
    -------
    pathlib.Path
        ``path``. A failure mid-write leaves ``path`` as it was.

    Raises
    ------
    ValueError
        If ``ds`` is none of the Datasets above, ``path`` does not end in ``.nwb``,
        ``session_description`` is empty or ``session_start_time`` has no timezone.
    ImportError
        If pynwb is not installed.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> import numpy as np
    >>> from neurodyn import simulate
    >>> from neurodyn.io import read_nwb, write_nwb
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> task = FlipFlop(n_bits=2, timing={"trial": 200})
    >>> ds = simulate(RateRNN(2, 8, 2, dt=10.0, seed=0), task, n_trials=3, seed=1)
    >>> path = write_nwb(ds, "flipflop.nwb", session_description="a 2-bit flip-flop network",
    ...                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> rec = read_nwb(path, dt=10.0)
    >>> dict(rec["activity"].sizes), [str(name) for name in rec["input"].values]
    ({'trial': 3, 'time': 20, 'neuron': 8}, ['bit0', 'bit1'])
    >>> bool(np.array_equal(rec["activity"], ds["rates"])), rec["n_pulses"].size
    (True, 3)
    """
    flavour = _flavour(ds)
    path = _nwb_path(path)
    if not isinstance(session_description, str) or not session_description.strip():
        raise ValueError("session_description must be a non-empty string")
    pynwb = _pynwb()
    import h5py  # installed with pynwb, so imported with it (see _pynwb)

    fields = {
        "notes": json.dumps(json_safe({**ds.attrs, **_input_note(ds)})),
        "was_generated_by": [("neurodyn", __version__)],
        "keywords": ["neurodyn", "recurrent neural network", "simulation"],
        "experiment_description": _describe(ds, flavour),
        "subject": _model_subject(pynwb, ds),
    }
    fields.update(dict(metadata or {}))
    nwb = pynwb.NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=_start_time(session_start_time),
        **fields,
    )
    _WRITERS[flavour](pynwb, nwb, ds)
    # The temporary name ends in .tmp, for which pynwb warns when given a path; an open
    # h5py file is taken as it is.
    with (
        atomic_path(path, suffix=".nwb") as tmp,
        h5py.File(tmp, "w") as f,
        pynwb.NWBHDF5IO(file=f, mode="w") as io,
    ):
        io.write(nwb)
    return path


def _describe(ds: xr.Dataset, flavour: str) -> str:
    model = _json_attr(ds, "model").get("kind")
    task = _json_attr(ds, "task").get("name")
    what = {
        "simulation": f"a {model or 'rate'} network simulated by neurodyn",
        "spikes": "a spiking network simulated by neurodyn",
    }.get(flavour, f"population activity ({ds.attrs.get('kind')}) held by neurodyn")
    return what + (f" on the task {task!r}" if task else "")


def _json_attr(ds: xr.Dataset, name: str) -> dict:
    try:
        value = json.loads(ds.attrs.get(name, "{}"))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _model_subject(pynwb, ds: xr.Dataset):
    """The network as the session's subject, which NWB requires (with sex and age).

    A network is no animal: its species is NCBI Taxonomy's "synthetic construct"
    (taxon 32630), its sex "O" (other) and its age zero days. A recording of an animal
    should pass its own ``subject`` through ``metadata``.
    """
    kind = _json_attr(ds, "model").get("kind", "network")
    return pynwb.file.Subject(
        subject_id=f"neurodyn-{kind}",
        description="a network simulated by neurodyn, not an animal",
        species="http://purl.obolibrary.org/obo/NCBITaxon_32630",
        sex="O",
        age="P0D",
    )


def _flavour(ds) -> str:
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if "spike_time" in ds and "sample" in ds.dims:
        return "spikes"
    if "activity" in ds.data_vars:
        check_recording(ds)
        return "counts" if ds.attrs["kind"] == "counts" else "activity"
    if "rates" in ds.data_vars and ds["rates"].dims == ("trial", "time", "unit"):
        return "simulation"
    raise ValueError(
        "ds must be a simulation (neurodyn.simulate: rates (trial, time, unit)), a recording "
        "(variable activity) or a spiking simulation with recorded spikes (spike_time); "
        f"it has variables {list(ds.data_vars)}"
    )


def _nwb_path(path) -> Path:
    path = check_path("path", path)
    if path.suffix.lower() != ".nwb":
        raise ValueError(f"path {str(path)!r} must end in .nwb")
    if path.is_dir():
        raise ValueError(f"path {str(path)!r} is a folder; expected a file name ending in .nwb")
    return path


def _start_time(value) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"session_start_time must be a timezone-aware datetime, got {value!r}")
    return value


def _trial_starts(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (s) of each trial, laid end to end on the session clock."""
    dt_s = float(ds.attrs["dt"]) * _MS
    n_trial, n_time = ds.sizes["trial"], ds.sizes["time"]
    lengths = ds["length"].values if "length" in ds.coords else np.full(n_trial, n_time)
    starts = np.arange(n_trial) * n_time * dt_s
    return starts, starts + lengths * dt_s


def _add_trials(nwb, ds: xr.Dataset, dim: str, starts, stops) -> None:
    names = [
        k
        for k, c in ds.coords.items()
        if c.dims == (dim,) and k != dim and k not in _TRIAL_OWN | {"length"}
    ]
    for k in names:
        nwb.add_trial_column(name=k, description=_column_description(k))
    for i in range(len(starts)):
        row = {k: ds[k].values[i].item() for k in names}
        nwb.add_trial(start_time=float(starts[i]), stop_time=float(stops[i]), **row)


def _column_description(name: str) -> str:
    if name.endswith(("_on", "_off")):
        edge = "onset" if name.endswith("_on") else "offset"
        return f"{edge} of the period {name.rsplit('_', 1)[0]!r}, in ms from the trial's start"
    return f"trial variable {name!r} of the neurodyn task or recording"


def _series(pynwb, name: str, values: np.ndarray, dt: float, description: str, unit: str):
    """A TimeSeries of one sample per bin, stamped at the bins' centres."""
    return pynwb.TimeSeries(
        name=name,
        data=values,
        unit=unit,
        starting_time=0.5 * dt * _MS,
        rate=1.0 / (dt * _MS),
        description=description,
    )


def _flat(values: np.ndarray) -> np.ndarray:
    """(trial, time, channel) → (trial * time, channel): the trials end to end."""
    return np.ascontiguousarray(values.reshape(-1, values.shape[-1]))


def _input_note(ds: xr.Dataset) -> dict:
    """The input channels' names, kept in the file's notes so that :func:`read_nwb` reads
    them back by default."""
    if "inputs" not in ds.data_vars:
        return {}
    return {INPUT_CHANNELS: [str(name) for name in ds["input"].values]}


def _add_inputs(pynwb, nwb, ds: xr.Dataset) -> None:
    if "inputs" not in ds.data_vars:
        return
    dt = float(ds.attrs["dt"])
    for j, name in enumerate(ds["input"].values):
        values = np.ascontiguousarray(ds["inputs"].values[..., j].reshape(-1))
        nwb.add_stimulus(
            _series(pynwb, str(name), values, dt, f"input channel {name!r} of the network", "a.u.")
        )


def _module(nwb, description: str):
    if _MODULE in nwb.processing:
        return nwb.processing[_MODULE]
    return nwb.create_processing_module(name=_MODULE, description=description)


def _write_simulation(pynwb, nwb, ds: xr.Dataset) -> None:
    dt = float(ds.attrs["dt"])
    _add_trials(nwb, ds, "trial", *_trial_starts(ds))
    _add_inputs(pynwb, nwb, ds)
    module = _module(nwb, "activity and outputs of a network simulated by neurodyn")
    for name, what in (("rates", "firing rates of the units"), ("outputs", "readout outputs")):
        if name in ds.data_vars:
            module.add(_series(pynwb, name, _flat(ds[name].values), dt, what, "a.u."))


def _write_activity(pynwb, nwb, ds: xr.Dataset) -> None:
    dt = float(ds.attrs["dt"])
    _add_trials(nwb, ds, "trial", *_trial_starts(ds))
    _add_inputs(pynwb, nwb, ds)
    values = np.where(ds["mask"].values.astype(bool), ds["activity"].values, np.nan)
    unit = str(ds["activity"].attrs.get("units", "a.u."))
    module = _module(nwb, "recorded activity, NaN where unobserved")
    module.add(_series(pynwb, "activity", _flat(values.astype(ds["activity"].dtype)), dt,
                       "activity of each neuron in bins of dt", unit))  # fmt: skip


def _write_counts(pynwb, nwb, ds: xr.Dataset) -> None:
    dt_s = float(ds.attrs["dt"]) * _MS
    starts, stops = _trial_starts(ds)
    _add_trials(nwb, ds, "trial", starts, stops)
    _add_inputs(pynwb, nwb, ds)
    mask = ds["mask"].values.astype(bool)
    valid = np.arange(ds.sizes["time"])[None, :] < ds["length"].values[:, None]
    counts = np.where(mask, np.nan_to_num(ds["activity"].values), 0).astype(np.int64)
    n = ds.sizes["neuron"]
    spikes = [_binning.counts_to_spikes(counts[..., i], starts, dt_s) for i in range(n)]
    obs = None
    if (valid[..., None] & ~mask).any():
        obs = [_binning.runs(mask[..., i], starts, dt_s) for i in range(n)]
    nwb.units = _units_table(pynwb, ds, "neuron", dt_s, spikes, obs)


def _ragged(name: str, description: str, rows: list[np.ndarray]) -> list:
    """A ragged column as one array and its index (rows given one by one go through hdmf's
    per-element conversion, minutes for a few million spikes)."""
    from hdmf.common import VectorData, VectorIndex  # installed with pynwb (see _pynwb)

    values = np.concatenate(rows) if rows else np.zeros(0)
    data = VectorData(name=name, description=description, data=values)
    ends = np.cumsum([len(r) for r in rows]).astype(np.uint64)
    return [data, VectorIndex(name=f"{name}_index", data=ends, target=data)]


def _units_table(pynwb, ds: xr.Dataset, dim: str, resolution: float, spikes, obs=None):
    """The Units table: spike times, observation intervals and a column for every
    per-``dim`` coordinate (labels that are not integers in ``neuron_label``)."""
    from hdmf.common import VectorData  # installed with pynwb (see _pynwb)

    labels = ds[dim].values
    columns = _ragged("spike_times", "the spike times in seconds", spikes)
    if obs is not None:
        columns += _ragged("obs_intervals", "the observation intervals of each unit", obs)
    named = {k: ds[k].values for k in _unit_columns(ds, dim)}
    if labels.dtype.kind not in "iu":
        named["neuron_label"] = labels.astype(str)
    for k, v in named.items():
        desc = f"the unit's {k!r} in neurodyn"
        columns.append(VectorData(name=k, description=desc, data=_column_values(v)))
    ids = labels.astype(np.int64) if labels.dtype.kind in "iu" else np.arange(len(labels))
    return pynwb.misc.Units(
        name="units",
        id=ids,
        columns=columns,
        description="spike times of the neurons",
        resolution=resolution,
    )


def _column_values(values: np.ndarray):
    return values.astype(str).tolist() if values.dtype.kind in "UO" else values


def _unit_columns(ds: xr.Dataset, dim: str) -> list[str]:
    return [k for k, c in ds.coords.items() if c.dims == (dim,) and k != dim]


def _write_spikes(pynwb, nwb, ds: xr.Dataset) -> None:
    dt_s = float(ds.attrs["dt"]) * _MS
    duration_s = float(ds.attrs["duration"]) * _MS
    starts = np.arange(ds.sizes["sample"]) * duration_s
    _add_trials(nwb, ds, "sample", starts, starts + duration_s)
    times = starts[ds["spike_sample"].values] + ds["spike_time"].values * _MS
    unit = ds["spike_unit"].values
    spikes = [np.sort(times[unit == u]) for u in range(ds.sizes["unit"])]
    nwb.units = _units_table(pynwb, ds, "unit", dt_s, spikes)


_WRITERS = {
    "simulation": _write_simulation,
    "activity": _write_activity,
    "counts": _write_counts,
    "spikes": _write_spikes,
}
