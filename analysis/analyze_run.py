"""Dynamical analysis of a trained run folder (what ``neurodyn analyze RUN_DIR`` does).

Reads ``model.npz`` and ``evaluation.nc`` from a run folder written by
:func:`neurodyn.run_folders.train_run`, chooses the constant inputs to analyse the network at
(:func:`run_inputs`), finds the fixed points at each with the standard recipe and
writes, atomically::

    fixed_points.nc     the FixedPoints result, one condition per input (load with
                        neurodyn.analysis.load_fixed_points)
    fixed_points.png    fixed points in the PCA space of the evaluation trajectories
    eigenvalues.png     eigenvalue spectra of the fixed points
    phase_portrait.png  per input, the flow projected on the trajectories' top two
                        principal components, with speed, trajectories and fixed points
    attractors.nc       per input, where trajectories from the sampled initial states
                        end, with basin fractions (neurodyn.analysis.classify_attractors)
    lyapunov.nc         per input, the top Lyapunov exponents of trajectories that
                        attractors.nc classified (neurodyn.analysis.lyapunov_spectrum)

Every result is labelled by its input: ``condition`` names (``"stimulus: coherence=51.2,
ground_truth=1"``, ``"zero input"``) and the ``inputs`` per condition.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import numpy as np

from .. import threads as _threads
from .._validation import check_int
from .fixed_points.initial_states import condition_inputs, sample_initial_states, tile_conditions
from .fixed_points.search import find_fixed_points

__all__ = ["analyze_run", "run_inputs"]

logger = logging.getLogger(__name__)

#: Names a task gives the period in which its stimulus is on, in order of preference.
STIMULUS_PERIODS = ("stimulus", "stimulus1", "sample")
#: Most conditions one period is split into.
MAX_CONDITIONS = 16
#: Smallest gain in adjusted R² of the trials' mean inputs for which a trial variable
#: splits a period's trials into conditions.
MIN_GAIN = 0.02


def run_inputs(ds, inputs="auto", *, max_conditions: int = MAX_CONDITIONS):
    """The constant inputs to analyse a run's network at, one per condition.

    Parameters
    ----------
    ds : xarray.Dataset
        The run's evaluation (a :func:`neurodyn.simulate` result of its task).
    inputs : str or sequence of str
        Comma-separated, or a list, of:

        * a period of the task (``"stimulus"``, ``"delay"``, ...): the mean input over
          that period, one per condition, the conditions being the values of the trial
          variables that change that input (see below);
        * ``"zero"``: zero input (the network's autonomous dynamics, the flip-flop's
          memory state);
        * ``"auto"`` (default): the stimulus period (the first of ``stimulus``,
          ``stimulus1``, ``sample`` the task has; ``"stimulus"`` names it too), then zero.
    max_conditions : int
        Most conditions per period.

    Returns
    -------
    inputs : ndarray (k, m)
    names : list of str
        ``"<period>: <variable>=<value>, ..."`` per condition, ``"<period>"`` when no
        variable changes the period's input, ``"zero input"``.

    Notes
    -----
    Conditions are chosen by forward selection: starting from none, the trial variable
    (not a duration) whose values best explain the trials' mean inputs over the period
    (adjusted R², which charges each added condition for its degrees of freedom) is
    added while it gains at least :data:`MIN_GAIN` and the conditions stay at most
    ``max_conditions``. For perceptual decisions this gives ground truth × coherence
    (signed evidence); a variable that does not change the period's input (the delay's
    duration, the match of a later test stimulus) never splits it.

    Raises
    ------
    ValueError
        For a name that is neither ``"zero"``, ``"auto"`` nor a period of the task, or a
        period that lasts no time in any trial.

    Examples
    --------
    In a perceptual decision task the stimulus input depends on the ground truth and
    the coherence, so each of their combinations among the trials is a condition; zero
    input comes last:

    >>> from neurodyn import simulate
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import PerceptualDecisionMaking
    >>> ds = simulate(RateRNN(3, 8, 3, seed=0), PerceptualDecisionMaking(dt=10.0),
    ...               n_trials=32, seed=0)
    >>> U, names = run_inputs(ds)
    >>> U.shape, names[0], names[-1]
    ((10, 3), 'stimulus: ground_truth=-1, coherence=0', 'zero input')
    >>> run_inputs(ds, "zero")[1]
    ['zero input']
    """
    periods = _periods(ds)
    out, names = [], []
    for token in _tokens(inputs, periods):
        if token == "zero":
            out.append(np.zeros((1, ds.sizes["input"])))
            names.append("zero input")
            continue
        u, labels = _period_inputs(ds, token, max_conditions)
        out.append(u)
        names += labels
    return np.concatenate(out), names


def _periods(ds) -> list[str]:
    """The task's periods: from the evaluation's attributes, else its ``*_on`` coordinates."""
    if "periods" in ds.attrs:
        return [p for p in json.loads(ds.attrs["periods"]) if f"{p}_on" in ds.coords]
    return [str(c)[:-3] for c in ds.coords if str(c).endswith("_on")]


def _tokens(inputs, periods) -> list[str]:
    """The ``inputs`` specification as a list of period names and ``"zero"``."""
    if isinstance(inputs, str):
        raw = [t.strip() for t in inputs.split(",")]
    elif isinstance(inputs, (list, tuple)) and all(isinstance(t, str) for t in inputs):
        raw = [t.strip() for t in inputs]
    else:
        raise ValueError(f"inputs must be a string or a list of strings, got {inputs!r}")
    if not raw or any(not t for t in raw):
        raise ValueError(f"inputs has an empty entry: {inputs!r}")
    stimulus = next((p for p in STIMULUS_PERIODS if p in periods), None)
    out = []
    for t in raw:
        if t == "auto":
            out += ([stimulus] if stimulus else []) + ["zero"]
        elif t == "zero" or t in periods:
            out.append(t)
        elif t == "stimulus" and stimulus:
            out.append(stimulus)
        else:
            raise ValueError(
                f"inputs: {t!r} is neither 'zero', 'auto' nor a period of the task "
                f"(its periods: {', '.join(periods) or 'none'})"
            )
    return list(dict.fromkeys(out))  # each once, in order


def _in_period(ds, period):
    """(trial, time) mask of the steps in ``period`` (a step covers (t - dt, t])."""
    time = np.asarray(ds["time"].values, dtype=np.float64)
    dt = float(ds.attrs.get("dt", time[1] - time[0] if len(time) > 1 else 1.0))
    on = ds[f"{period}_on"].values[:, None]
    off = ds[f"{period}_off"].values[:, None]
    mask = ((time - dt)[None, :] >= on) & (time[None, :] <= off)
    if "length" in ds.coords:
        mask &= np.arange(len(time))[None, :] < ds["length"].values[:, None]
    return mask


def _period_inputs(ds, period, max_conditions):
    """Mean input over ``period`` per condition, and the conditions' names."""
    mask = _in_period(ds, period)
    trials = np.flatnonzero(mask.any(axis=1))
    if not len(trials):
        raise ValueError(f"inputs: period {period!r} lasts no time in any evaluation trial")
    u = np.asarray(ds["inputs"].values, dtype=np.float64)
    means = np.stack([u[i, mask[i]].mean(axis=0) for i in trials])
    variables = _condition_variables(ds, trials, means, max_conditions)
    if not variables:
        return condition_inputs(ds, by=None, period=period)[0], [period]
    values = [np.asarray(ds[v].values) for v in variables]
    keys = [tuple(v[i] for v in values) for i in range(ds.sizes["trial"])]
    levels = sorted(set(keys[i] for i in trials))
    # Conditions are numbered in the order of ``levels``; a trial without steps in the
    # period adds nothing to any mean, so its number does not matter.
    code = np.array([levels.index(k) if k in levels else 0 for k in keys])
    tagged = ds.assign_coords(analysis_condition=("trial", code))
    u_cond, _ = condition_inputs(tagged, by="analysis_condition", period=period)
    names = [
        f"{period}: " + ", ".join(f"{v}={_fmt(x)}" for v, x in zip(variables, lev, strict=True))
        for lev in levels
    ]
    return u_cond, names


def _fmt(x):
    return f"{x:g}" if isinstance(x, (float, np.floating)) else str(x)


def _condition_variables(ds, trials, means, max_conditions):
    """Trial variables that split the trials' mean inputs, by forward selection on
    adjusted R² (see :func:`run_inputs`)."""
    names = json.loads(ds.attrs.get("trial_variables", "[]"))
    candidates = [v for v in names if v in ds.coords and not v.endswith("_ms")]
    values = {v: np.asarray(ds[v].values)[trials] for v in candidates}
    chosen, score = [], 0.0
    while True:
        best, best_score = None, score
        for v in candidates:
            if v in chosen:
                continue
            codes = _codes([values[w] for w in [*chosen, v]])
            if codes.max() + 1 > max_conditions:
                continue
            s = _adjusted_r2(means, codes)
            if s > best_score + MIN_GAIN:
                best, best_score = v, s
        if best is None:
            return chosen
        chosen.append(best)
        score = best_score


def _codes(columns):
    """Integer code of each row's combination of values."""
    keys = np.stack([np.unique(c, return_inverse=True)[1].ravel() for c in columns], axis=1)
    return np.unique(keys, axis=0, return_inverse=True)[1].ravel()


def _adjusted_r2(y, groups) -> float:
    r"""Adjusted R² of group means: :math:`1 - \frac{SS_w/(n-k)}{SS_t/(n-1)}`."""
    n, k = len(y), int(groups.max()) + 1
    total = float(np.sum((y - y.mean(axis=0)) ** 2))
    if n - k < 1 or total <= 0:
        return 0.0
    within = 0.0
    for g in range(k):
        yg = y[groups == g]
        within += float(np.sum((yg - yg.mean(axis=0)) ** 2))
    return 1.0 - (within / (n - k)) / (total / (n - 1))


def analyze_run(
    run_dir,
    *,
    inputs="auto",
    n_inits: int = 1024,
    noise_scale: float = 0.5,
    seed: int = 0,
    n_attractor_inits: int = 128,
    n_lyapunov: int = 10,
    fixed_points: bool = True,
    progress: bool = True,
    threads=None,
    device=None,
) -> dict:
    """Find, save and draw the fixed points, attractors and exponents of a trained network.

    Parameters
    ----------
    run_dir : path
        A finished run (``model.npz`` and ``evaluation.nc``).
    inputs : str or list of str
        Which constant inputs to analyse at (see :func:`run_inputs`): by default each
        condition's mean input over the stimulus period, and zero input.
    n_inits : int
        Initial states per input, sampled from the evaluation trajectories.
    noise_scale : float
        Standard deviation of the noise added to them.
    seed : int
        Seeds the sampling.
    n_attractor_inits : int
        Initial states per input (the first of the sampled ones) whose attractors are
        classified; 0 skips the attractors (and the exponents, which start from them).
    n_lyapunov : int
        Number of Lyapunov exponents (at most the state size); 0 skips them.
    fixed_points : bool
        Find the fixed points (False: only the portraits, attractors and exponents).
    progress : bool or {"auto", "never", "always"}
        Show progress bars (see :mod:`neurodyn.progress`).
    threads : int, optional
        Threads for every step (default: each analyzer chooses from its work).
    device : str or torch.device, optional
        Where the network is evaluated by the fixed-point search (``"auto"``: a GPU when
        present; see :func:`neurodyn.devices.resolve_device`); the other analyzers work
        in float64 NumPy on the CPU. Default: the CPU.

    Returns
    -------
    dict
        With ``fixed_points``: ``counts`` (roots per stability class over all inputs,
        then ``slow`` points and
        ``failed`` *candidates*, e.g. ``{"stable": 8, "unstable_1": 12, ..., "slow": 0,
        "failed": 3}``), ``n_fixed_points`` (roots) and ``n_slow_points``, ``files``
        (paths of ``fixed_points.nc``, ``fixed_points.png``, ``eigenvalues.png``,
        ``phase_portrait.png``, ``attractors.nc``, ``lyapunov.nc``), ``conditions`` (one
        name per input), ``inputs`` (k, m), ``attractors`` (per condition, the basin
        fraction per kind of attractor), ``unresolved_speed`` (per condition with
        unresolved trajectories, their median speed per ``time_unit``), ``lyapunov`` (per
        condition, the top exponents per time unit), ``n_candidates``, ``kind`` and
        ``elapsed_s``.

    Raises
    ------
    ValueError
        If the folder lacks ``model.npz`` or ``evaluation.nc``, or ``inputs`` names no
        period of the task; nothing is written then.

    Examples
    --------
    A run folder holds the network (``model.npz``) and its simulated trials
    (``evaluation.nc``); :func:`neurodyn.run_folders.train_run` writes both, here they
    are written by hand for an untrained network. Its flip-flop task has no stimulus
    period, so the network is analysed at zero input, where it has one fixed point, a
    stable one:

    >>> from pathlib import Path
    >>> from neurodyn import save_dataset, save_model, simulate
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> net = RateRNN(3, 8, 3, seed=0)
    >>> Path("run").mkdir()
    >>> _ = save_model(net, "run/model.npz")
    >>> _ = save_dataset(simulate(net, FlipFlop(), n_trials=4), "run/evaluation.nc")
    >>> out = analyze_run("run", n_inits=16, n_attractor_inits=4, n_lyapunov=2,
    ...                   progress=False)
    >>> out["conditions"], out["n_fixed_points"], out["counts"]["stable"]
    (['zero input'], 1, 1)
    >>> out["attractors"]["zero input"]["fixed_point"], len(out["lyapunov"]["zero input"])
    (1.0, 2)
    >>> sorted(f.name for f in out["files"].values())  # doctest: +NORMALIZE_WHITESPACE
    ['attractors.nc', 'eigenvalues.png', 'fixed_points.nc', 'fixed_points.png',
     'lyapunov.nc', 'phase_portrait.png']
    """
    from .. import load_dataset, load_model
    from ..progress import check_progress

    run_dir = Path(run_dir)
    for name in ("model.npz", "evaluation.nc"):
        if not (run_dir / name).is_file():
            raise ValueError(
                f"{str(run_dir)!r} has no {name}; expected a finished run folder "
                "(neurodyn train ... or neurodyn quickstart)"
            )
    _threads.check_threads(threads)
    check_progress(progress)
    check_int("n_attractor_inits", n_attractor_inits, low=0)
    check_int("n_lyapunov", n_lyapunov, low=0)
    if n_lyapunov and not n_attractor_inits:
        raise ValueError("n_lyapunov > 0 needs n_attractor_inits > 0: the exponents start "
                         "from the states the attractors are classified from")  # fmt: skip
    dev = None
    if device is not None:
        from ..devices import resolve_device

        dev = resolve_device(device)
    model = load_model(run_dir / "model.npz")
    if dev is not None:
        model = model.to(dev)
    ds = load_dataset(run_dir / "evaluation.nc")
    task = json.loads(ds.attrs.get("task", "{}"))
    U, names = run_inputs(ds, inputs)
    x0 = sample_initial_states(ds, n_inits, noise_scale=noise_scale, seed=seed)
    xs, us, cond = tile_conditions(x0, U)
    logger.info("analysing %s (%s) at %d input(s)", run_dir, task.get("name"), len(names))
    files, out, fps = {}, {}, None
    if fixed_points:
        fps, out = _fixed_points(
            model, ds, task, xs, us, cond, names, run_dir, files, progress, threads
        )
    extra = _dynamics_summary(
        model, ds, fps, x0, U, names, run_dir, files, seed, n_attractor_inits, n_lyapunov,
        progress, threads,
    )  # fmt: skip
    return {**extra, **out, "files": files, "conditions": names, "inputs": U,
            "n_candidates": len(xs)}  # fmt: skip


def _fixed_points(model, ds, task, xs, us, cond, names, run_dir, files, progress, threads):
    """Find, save and draw the fixed points; returns them and their counts."""
    from ..plotting import save_figure  # matplotlib only when figures are drawn
    from ..plotting.fixed_points import plot_eigenvalues, plot_fixed_points

    input_names = [str(v) for v in ds["input"].values]
    with _pinned(threads, "find_fixed_points"):
        fps = find_fixed_points(
            model, us, xs, conditions=cond, condition_names=names, input_names=input_names,
            progress=progress,
        )  # fmt: skip
    fps.info["task"] = task
    files["fixed_points"] = fps.save(run_dir / "fixed_points.nc")
    ax = plot_fixed_points(fps, ds)
    files["fixed_points_figure"] = save_figure(ax.figure, run_dir / "fixed_points.png")
    ax = plot_eigenvalues(fps)
    files["eigenvalues_figure"] = save_figure(ax.figure, run_dir / "eigenvalues.png")
    return fps, {
        "counts": fps.summary(),
        "n_fixed_points": int(np.sum(fps.status == "root")),
        "n_slow_points": int(np.sum(fps.status == "slow")),
        "kind": fps.kind,
        "elapsed_s": fps.info["elapsed_s"],
    }


def _pinned(threads, what):
    """Every pool at ``threads`` for an analyzer owned elsewhere; its own policy if None."""
    if threads is None:
        return contextlib.nullcontext()
    return _threads.limit(threads, what=what)


def _dynamics_summary(
    model, ds, fps, x0, U, names, run_dir, files, seed, n_inits, n_lyapunov, progress, threads
):
    """Projected portraits, attractors and top Lyapunov exponents at every input."""
    from ..dynamics import dynamics as as_dynamics
    from ..io.datasets import save_dataset
    from ..plotting import save_figure

    dyn = as_dynamics(model)
    fig = _portraits(dyn, ds, fps, U, names, threads)
    files["phase_portrait"] = save_figure(fig, run_dir / "phase_portrait.png")

    # Long enough to settle: 100 time constants of the slowest unit (ODEs), or 500
    # steps; classify_attractors runs trajectories still moving up to 10 times longer.
    tau = float(np.max(getattr(dyn, "tau", [dyn.dt])))
    n_steps = int(np.clip(100 * tau / dyn.dt, 200, 2000)) if dyn.kind == "ode" else 500
    out = {"time_unit": dyn.time_unit, "attractors": {}, "unresolved_speed": {}, "lyapunov": {}}
    if n_inits == 0:
        return out
    starts = x0[: min(n_inits, len(x0))]
    atts, spectra = [], []
    for u in U:
        att = _attractors(dyn, starts, u, n_steps, seed, progress, threads)
        atts.append(att)
        if min(int(n_lyapunov), dyn.n_state) > 0:
            spectra.append(
                _exponents(dyn, att, starts, u, n_lyapunov, n_steps, seed, progress, threads)
            )
    input_names = [str(v) for v in ds["input"].values]
    att_ds = _label_inputs(_attractor_dataset(atts, names), names, U, input_names)
    files["attractors"] = save_dataset(att_ds, run_dir / "attractors.nc")
    out["attractors"] = {n: a.summary() for n, a in zip(names, atts, strict=True)}
    out["unresolved_speed"] = {
        n: float(np.median(a.speed[a.label == "unresolved"]))
        for n, a in zip(names, atts, strict=True)
        if np.any(a.label == "unresolved")
    }
    if spectra:
        le_ds = _stack_spectra(
            [s for s, _ in spectra], [t for _, t in spectra], len(starts), names, U, input_names
        )
        files["lyapunov"] = save_dataset(le_ds, run_dir / "lyapunov.nc")
        out["lyapunov"] = {
            n: [float(v) for v in s.exponents] for n, (s, _) in zip(names, spectra, strict=True)
        }
        out["lyapunov_unit"] = f"1/{spectra[0][0].time_unit}"
    return out


def _attractor_dataset(atts, names):
    from .attractors import _dataset

    return _dataset(atts, names)


def _attractors(dyn, starts, u, n_steps, seed, progress, threads):
    from .attractors import classify_attractors

    return classify_attractors(
        dyn, starts, u, n_steps=n_steps, lyapunov_steps=n_steps, seed=seed, progress=progress,
        threads=threads,
    )  # fmt: skip


def _exponents(dyn, att, starts, u, n_lyapunov, n_steps, seed, progress, threads):
    """The top exponents from up to four end states that ``att`` classified.

    Returns the spectrum and the indices of those trajectories in ``att``.
    """
    from .lyapunov.spectrum import lyapunov_spectrum

    # The same number per input (so they stack): end states of trajectories that did
    # not diverge first, then diverged ones from their start (reported as diverged).
    order = np.argsort(att.label == "diverged", kind="stable")[: min(4, len(starts))]
    ends = np.where(
        (att.label[order] == "diverged")[:, None], starts[order], att.final_state[order]
    )
    with _pinned(threads, "lyapunov_spectrum"):
        le = lyapunov_spectrum(
            dyn, ends, u, k=min(int(n_lyapunov), dyn.n_state), n_steps=2 * n_steps,
            transient=n_steps // 2, seed=seed, progress=progress,
        )  # fmt: skip
    return le, order


def _portraits(dyn, ds, fps, U, names, threads):
    """One projected portrait per input, on the same plane (the trajectories' top PCs)."""
    import matplotlib.pyplot as plt

    from ..plotting.phase_portraits import plot_projected_portrait

    k = len(U)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 5 * rows), squeeze=False)
    color_by = next((c for c in ("context", "coherence") if c in ds.coords), None)
    for j, (u, name) in enumerate(zip(U, names, strict=True)):
        ax = axes.flat[j]
        plot_projected_portrait(
            dyn, ds, inputs=u, fixed_points=None if fps is None else fps[fps.condition == j],
            color_by=color_by,
            ax=ax, threads=threads,
        )  # fmt: skip
        ax.set_title(f"{ax.get_title()}\n{name}", fontsize=9)
        if ax.get_legend() is not None:
            # A fixed place: searching for the "best" one costs seconds per figure.
            ax.get_legend().set_loc("upper right")
    for ax in axes.flat[k:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _label_inputs(ds, names, U, input_names):
    """``ds`` with the ``condition`` names and each one's ``inputs`` (condition, input)."""
    ds = ds.assign_coords(
        condition=np.array(names, dtype=str), input=np.array(input_names, dtype=str)
    )
    ds["inputs"] = (("condition", "input"), np.asarray(U, dtype=float))
    return ds


def _stack_spectra(spectra, used, n_starts, names, U, input_names):
    """The exponents at every input along a ``condition`` dim; ``attractor_trajectory``
    (condition, trajectory) is the index, in attractors.nc, of the trajectory whose end
    state each one started from."""
    import xarray as xr

    parts = [
        le.to_xarray().expand_dims(condition=[name])
        for le, name in zip(spectra, names, strict=True)
    ]
    out = xr.concat(parts, dim="condition", combine_attrs="override")
    index = np.stack([k * n_starts + np.asarray(idx) for k, idx in enumerate(used)])
    out["attractor_trajectory"] = (("condition", "trajectory"), index.astype(np.int32))
    return _label_inputs(out, names, U, input_names)
