"""Sweep specifications: a base run, the analyses after training, and its variations.

A specification is a TOML file or the same structure as a dict::

    task = "flip_flop"          # base run: what `neurodyn train` takes ("neurogym:<id>" too)
    model = "rate"
    seed = 0
    n_eval_trials = 64

    [task_config]               # the task's parameters (and dt, timing)
    [model_config]              # the model's options, n_hidden included
    n_hidden = 32
    [fit]                       # neurodyn.fit's options
    n_steps = 300

    [analyses.fixed_points]     # any subset of the analyses, each with its options
    n_inits = 256
    [analyses.attractors]
    [analyses.lyapunov]
    [analyses.timescales]

    [grid]                      # every combination of these values ...
    seed = [0, 1, 2]
    model = ["rate", "gru"]
    n_hidden = [32, 64]

    [[points]]                  # ... and/or these points
    model = "lstm"
    seed = 7

A swept parameter is ``seed``, ``task`` or ``model``, or an option of the task, the
model or ``fit``, by its name (``n_hidden``) or qualified where a name is ambiguous
(``model_config.dt``, ``task_config.dt``). :func:`load_spec` validates everything
before any work starts: unknown names (with the closest suggestion), values out of
range (each point's task and model are built, its training settings checked), empty
grids and duplicate points.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import itertools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._validation import check_choice, check_int, check_positive
from ..rnn_models import MODELS, build_model, model_options
from ..tasks import check_task_name, make_task, task_options
from ..train import check_fit_config
from ..train.config import FitConfig

try:  # the standard library's TOML reader from Python 3.11
    import tomllib
except ModuleNotFoundError:  # Python 3.10: its backport
    import tomli as tomllib

__all__ = ["ANALYSES", "Point", "SweepSpec", "load_spec"]

#: The analyses a sweep can run after training, and each one's options and defaults.
ANALYSES = {
    "fixed_points": {"n_inits": 256, "noise_scale": 0.5, "inputs": "auto"},
    "attractors": {"n_inits": 64},
    "lyapunov": {"n_exponents": 3},
    "timescales": {"n_trials": 4, "n_steps": 4000},
}

_TOP = (
    *("task", "model", "seed", "n_eval_trials"),
    *("task_config", "model_config", "fit", "analyses", "grid", "points"),
)
_SECTIONS = ("task_config", "model_config", "fit")
#: fit options a sweep sets itself (each run's seed, checkpoint, threads, device).
_FIT_RESERVED = ("seed", "checkpoint", "resume", "device", "threads", "progress")


@dataclass(frozen=True)
class Point:
    """One run of a sweep: its swept values and everything ``train_run`` needs.

    Attributes
    ----------
    name : str
        The run folder's name under ``DIR/runs/`` (from the swept values).
    values : dict
        The swept parameters' values (bare names → value).
    run : dict
        ``task``, ``task_config``, ``model``, ``model_config``, ``fit``, ``seed``,
        ``n_eval_trials``: the resolved run.

    Examples
    --------
    :func:`load_spec` resolves every point of a grid:

    >>> spec = load_spec({"model_config": {"n_hidden": 8}, "grid": {"model": ["rate", "gru"]}})
    >>> point = spec.points[1]
    >>> point.name, point.values
    ('model=gru', {'model': 'gru'})
    >>> point.run["task"], point.run["model"], point.run["model_config"]
    ('flip_flop', 'gru', {'n_hidden': 8})
    """

    name: str
    values: dict
    run: dict


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the resolved points and the analyses.

    Attributes
    ----------
    spec : dict
        The specification as given (stored with the results).
    parameters : tuple of str
        The swept parameters (bare names), in order of first appearance.
    points : tuple of Point
        Every run of the sweep: the grid's combinations, then the listed points.
    analyses : dict
        Analysis name → its options (defaults filled in).

    Examples
    --------
    Two sizes times two seeds, with fixed points found after training:

    >>> spec = load_spec({"model_config": {"n_hidden": 8},
    ...                   "grid": {"n_hidden": [8, 16], "seed": [0, 1]},
    ...                   "analyses": {"fixed_points": {"n_inits": 32}}})
    >>> len(spec), spec.parameters
    (4, ('n_hidden', 'seed'))
    >>> [p.name for p in spec.points]
    ['n_hidden=8,seed=0', 'n_hidden=8,seed=1', 'n_hidden=16,seed=0', 'n_hidden=16,seed=1']
    >>> spec.analyses["fixed_points"]
    {'n_inits': 32, 'noise_scale': 0.5, 'inputs': 'auto'}
    """

    spec: dict
    parameters: tuple[str, ...]
    points: tuple[Point, ...]
    analyses: dict

    def __len__(self) -> int:
        return len(self.points)


def load_spec(spec: SweepSpec | Mapping | str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep specification (module docstring).

    Parameters
    ----------
    spec : SweepSpec, mapping, or path of a TOML file
        The specification; a :class:`SweepSpec` is returned as it is.

    Returns
    -------
    SweepSpec

    Raises
    ------
    ValueError
        Naming the option that is wrong: an unknown name (with the closest one), a bad
        value, an empty grid, a duplicate point.

    Examples
    --------
    A TOML file with a grid of models and one more point:

    >>> from pathlib import Path
    >>> _ = Path("sweep.toml").write_text('''
    ... task = "flip_flop"
    ... [model_config]
    ... n_hidden = 16
    ... [fit]
    ... n_steps = 200
    ... [grid]
    ... model = ["rate", "gru"]
    ... [[points]]
    ... model = "lstm"
    ... seed = 7
    ... ''')
    >>> spec = load_spec("sweep.toml")
    >>> [p.name for p in spec.points]
    ['model=rate', 'model=gru', 'model=lstm,seed=7']

    Mistakes are caught before anything runs:

    >>> try:
    ...     load_spec({"grid": {"n_hiden": [8, 16]}})
    ... except ValueError as err:
    ...     print(err)
    parameter 'n_hiden' is no option of the task, the model or fit. Did you mean 'n_hidden'?
    """
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"spec: no such file {str(path)!r}")
        try:
            spec = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"spec: {path} is not valid TOML: {err}") from None
    if not isinstance(spec, Mapping):
        raise ValueError(f"spec must be a mapping or a TOML file, got {type(spec).__name__}")
    spec = copy.deepcopy(dict(spec))
    for key in spec:
        check_choice("spec key", key, _TOP)
    base = _base(spec)
    analyses = _analyses(spec.get("analyses", {}))
    variations = _variations(spec)
    parameters = tuple(dict.fromkeys(k for v in variations for k in v))
    bare = [_bare(p) for p in parameters]
    if len(set(bare)) != len(bare):
        raise ValueError(f"parameters {list(parameters)} name the same option twice")
    models = {v.get("model", base["model"]) for v in variations} | {base["model"]}
    tasks = {v.get("task", base["task"]) for v in variations} | {base["task"]}
    where = {p: _where(p, models, tasks) for p in parameters}
    points, seen = [], {}
    for values in variations:
        run = _resolve(base, values, where)
        point = Point(_name(values, parameters), {_bare(k): v for k, v in values.items()}, run)
        key = json.dumps(run, sort_keys=True, default=str)
        if key in seen:
            raise ValueError(f"points: {point.values} repeats the run of {seen[key].values}")
        seen[key] = point
        _check_run(point)
        points.append(point)
    return SweepSpec(spec=spec, parameters=tuple(bare), points=tuple(points), analyses=analyses)


def _base(spec: dict) -> dict:
    base = {
        "task": check_task_name(spec.get("task", "flip_flop")),
        "model": check_choice("model", spec.get("model", "rate"), MODELS),
        "seed": spec.get("seed", 0),
        "n_eval_trials": check_int("n_eval_trials", spec.get("n_eval_trials", 64)),
    }
    check_int("seed", base["seed"], low=0)
    for section in _SECTIONS:
        value = spec.get(section, {})
        if not isinstance(value, Mapping):
            raise ValueError(f"{section} must be a table of options, got {value!r}")
        base[section] = dict(value)
    for key in _FIT_RESERVED:
        if key in base["fit"]:
            raise ValueError(f"fit.{key} is set by the sweep for each run; leave it out")
    return base


def _analyses(value) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"analyses must be a table of analyses, got {value!r}")
    out = {}
    for name, options in value.items():
        check_choice("analysis", name, ANALYSES)
        if not isinstance(options, Mapping):
            raise ValueError(f"analyses.{name} must be a table of options, got {options!r}")
        for key in options:
            check_choice(f"analyses.{name} option", key, ANALYSES[name])
        out[name] = {**ANALYSES[name], **options}
    for name, opts in out.items():
        for key, v in opts.items():
            _check_analysis_option(f"analyses.{name}.{key}", key, v)
    if "lyapunov" in out and "attractors" not in out:
        raise ValueError(
            "analyses.lyapunov starts from the states analyses.attractors classifies; "
            "add [analyses.attractors]"
        )
    return out


def _check_analysis_option(label: str, key: str, v) -> None:
    if key == "noise_scale":
        check_positive(label, v, allow_zero=True)
    elif key == "inputs":
        if not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
            raise ValueError(f"{label} must be a period name, 'zero', 'auto' or a list of them")
    else:
        check_int(label, v)


def _variations(spec: dict) -> list[dict]:
    grid = spec.get("grid", {})
    points = spec.get("points", [])
    if not isinstance(grid, Mapping):
        raise ValueError(f"grid must be a table of lists, got {grid!r}")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid.{name} must be a non-empty list of values, got {values!r}")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ValueError(f"grid.{name} repeats a value: {values}")
    if not isinstance(points, list) or not all(isinstance(p, Mapping) for p in points):
        raise ValueError("points must be a list of tables ([[points]] in TOML)")
    combos = [dict(zip(grid, c, strict=True)) for c in itertools.product(*grid.values())]
    variations = (combos if grid else []) + [dict(p) for p in points]
    if not grid and not points:
        variations = [{}]  # the base run alone
    return variations


def _bare(name: str) -> str:
    return name.split(".", 1)[1] if "." in name else name


def _where(name: str, models: set, tasks: set) -> str:
    """The section a swept name belongs to: ``""`` (top level) or a section name."""
    if name in ("seed", "task", "model"):
        return ""
    if "." in name:
        section = name.split(".", 1)[0]
        check_choice("parameter section", section, _SECTIONS)
        return section
    homes = {
        "model_config": any(name in _model_names(m) for m in models),
        "fit": name in _fit_names(),
        "task_config": any(name in _task_names(t) for t in tasks),
    }
    found = [s for s, ok in homes.items() if ok]
    if len(found) > 1:
        raise ValueError(
            f"parameter {name!r} is an option of {' and '.join(found)}; write "
            + " or ".join(f"'{s}.{name}'" for s in found)
        )
    if not found:
        every = {"seed", "task", "model", *_fit_names()}
        every |= {n for m in models for n in _model_names(m)}
        every |= {n for t in tasks for n in _task_names(t)}
        close = difflib.get_close_matches(name, sorted(every), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"parameter {name!r} is no option of the task, the model or fit.{hint}")
    return found[0]


def _model_names(model: str) -> set:
    return {"n_hidden", *model_options(model)}


def _task_names(task: str) -> set:
    return set(task_options(task))


def _fit_names() -> set:
    return {f.name for f in dataclasses.fields(FitConfig)} - set(_FIT_RESERVED)


def _resolve(base: dict, values: dict, where: dict) -> dict:
    run = copy.deepcopy(base)
    for key, value in values.items():
        section = where[key]
        if section:
            run[section][_bare(key)] = value
        else:
            run[key] = value
    return run


def _check_run(point: Point) -> None:
    """Build the point's task and model and check its training settings (nothing is trained)."""
    run, label = point.run, f"point {point.values or '(base run)'}"
    try:
        check_task_name(run["task"])
        check_choice("model", run["model"], MODELS)
        check_int("seed", run["seed"], low=0)
        task = make_task(run["task"], **run["task_config"])
        opts = {"dt": task.dt, **run["model_config"]}
        n_hidden = check_int("n_hidden", opts.pop("n_hidden", 64))
        build_model(run["model"], task.n_inputs, n_hidden, task.n_outputs, **opts)
        check_fit_config(run["fit"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{label}: {err}") from None


def _name(values: dict, parameters: tuple) -> str:
    """A run folder's name from its swept values, e.g. ``model=gru,n_hidden=32,seed=0``."""
    if not values:
        return "base"
    parts = [f"{_bare(p)}={values[p]}" for p in parameters if p in values]
    return re.sub(r"[^A-Za-z0-9_.,=+-]", "_", ",".join(parts))


def point_record(point: Point) -> dict[str, Any]:
    """What a run folder stores of its point (compared when a sweep is run again)."""
    return {"values": point.values, "run": point.run}
