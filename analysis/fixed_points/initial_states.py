r"""Where to start a fixed-point search, and with which constant inputs.

The standard recipe (Sussillo & Barak 2013; FixedPointFinder's ``sample_states``):
draw states visited by the network on real trials and add isotropic Gaussian noise,

.. math:: x^{(0)}_i = x_{b_i, t_i} + \sigma\,\xi_i, \qquad \xi_i \sim \mathcal N(0, I),

so the search covers the region the network uses, including the saddles between its
attractors that trajectories pass near but never rest on. Saddles that trajectories
rarely approach are found from the states between the attractors already found
(:func:`between_attractors`): where two basins meet, or several (the saddle of a
k-bit memory with k unstable modes sits near the centroid of the 2^k stable points
around it). Inputs are held constant
during the search: zero, or one constant input per condition (for example the
context cue of a context-dependent task), each combined with every initial state.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..._validation import check_int
from ...seeding import make_rng

__all__ = ["between_attractors", "condition_inputs", "sample_initial_states", "tile_conditions"]


def _states_array(states, valid):
    """(trial, time, d) array and (trial, time) validity mask from an array or a Dataset."""
    if hasattr(states, "data_vars"):  # a simulate() Dataset
        ds = states
        states = ds["states"]
        if valid is None and "length" in ds.coords:
            lengths = ds["length"].values
            valid = np.arange(ds.sizes["time"])[None, :] < lengths[:, None]
    a = np.asarray(states.values if hasattr(states, "values") else states, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, None, :]
    if a.ndim != 3:
        raise ValueError(
            f"states has shape {a.shape}; expected (trial, time, n_state) or (n, n_state)"
        )
    valid = np.ones(a.shape[:2], dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if valid.shape != a.shape[:2]:
        raise ValueError(f"valid has shape {valid.shape}; expected {a.shape[:2]}")
    return a, valid


def sample_initial_states(
    states, n_inits: int, *, noise_scale: float = 0.5, valid=None, inputs=None, seed=0
):
    """Sample initial states from trajectories and add noise (the standard recipe).

    Parameters
    ----------
    states : array (trial, time, d) or (n, d), or a simulate() Dataset
        Visited states; from a Dataset, its ``states`` variable and ``length``
        coordinate (padding is never sampled).
    n_inits : int
        Number of initial states.
    noise_scale : float
        Standard deviation σ of the noise added to every coordinate (0.5 as in
        FixedPointFinder's examples).
    valid : bool array (trial, time), optional
        Which time steps may be sampled.
    inputs : array (trial, time, m), optional
        If given, also return the input at each sampled (trial, time), as
        FixedPointFinder's ``sample_inputs_and_states`` intends.
    seed : int or numpy Generator
        Seeds the draw (stream ``"analysis"``).

    Returns
    -------
    ndarray (n_inits, d), or ``(states, inputs)`` when ``inputs`` is given.

    Examples
    --------
    >>> traj = np.zeros((2, 5, 3))
    >>> sample_initial_states(traj, 4, noise_scale=0.0).shape
    (4, 3)
    """
    n_inits = check_int("n_inits", n_inits)
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise ValueError(f"noise_scale must be finite and >= 0, got {noise_scale!r}")
    a, valid = _states_array(states, valid)
    flat = np.flatnonzero(valid)
    if len(flat) == 0:
        raise ValueError("no valid time steps to sample states from")
    rng = make_rng(seed, "analysis") if not isinstance(seed, np.random.Generator) else seed
    pick = rng.choice(flat, size=n_inits, replace=True)
    trial, time = np.unravel_index(pick, valid.shape)
    x0 = a[trial, time] + noise_scale * rng.standard_normal((n_inits, a.shape[2]))
    if not np.all(np.isfinite(x0)):
        raise ValueError("states contains NaN or infinite values at sampled time steps")
    if inputs is None:
        return x0
    u = np.asarray(inputs.values if hasattr(inputs, "values") else inputs, dtype=np.float64)
    if u.shape[:2] != valid.shape:
        raise ValueError(f"inputs has shape {u.shape}; expected {(*valid.shape, 'm')}")
    return x0, u[trial, time]


def between_attractors(stable_points, *, max_per_size: int = 256, seed=0) -> np.ndarray:
    r"""States between attractors: centroids of subsets of the stable points found.

    For every subset size :math:`s = 2, 4, 8, \dots` up to the number of points, the
    centroids :math:`\tfrac1s\sum_{i \in S} x^*_i` of all subsets :math:`S` of that size,
    or of ``max_per_size`` subsets drawn at random (without repeats) where there are
    more. Where attractors are arranged as memories of independent bits, the saddle
    with k unstable modes between the :math:`2^k` memories that differ in k bits lies
    near their centroid (exactly, for a system symmetric in each bit); in general,
    the saddles separating basins lie between the attractors. Used as initial states
    of a second search, with those sampled from trajectories
    (:func:`sample_initial_states`).

    Parameters
    ----------
    stable_points : array (n, d)
    max_per_size : int
        Most subsets of each size.
    seed : int or numpy Generator
        Seeds the draw of subsets (stream ``"analysis"``), where one is needed.

    Returns
    -------
    ndarray (m, d)
        Empty (0, d) for fewer than two points.

    Examples
    --------
    >>> corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    >>> between_attractors(corners).tolist()  # the 4 edge midpoints, then the centre
    [[-1.0, 0.0], [0.0, -1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    """
    x = np.asarray(stable_points, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"stable_points has shape {x.shape}; expected (n, d)")
    max_per_size = check_int("max_per_size", max_per_size)
    n = len(x)
    rng = make_rng(seed, "analysis") if not isinstance(seed, np.random.Generator) else seed
    out = [np.empty((0, x.shape[1]))]
    size = 2
    while size <= n:
        if math.comb(n, size) <= max_per_size:
            subsets = np.array(list(itertools.combinations(range(n), size)))
        else:
            chosen: set[tuple[int, ...]] = set()
            while len(chosen) < max_per_size:
                chosen.add(tuple(sorted(rng.choice(n, size, replace=False).tolist())))
            subsets = np.array(sorted(chosen))
        out.append(x[subsets].mean(axis=1))
        size *= 2
    return np.concatenate(out)


def tile_conditions(initial_states, condition_inputs):
    """Combine every initial state with every condition's constant input.

    Parameters
    ----------
    initial_states : array (n, d)
    condition_inputs : array (k, m)

    Returns
    -------
    initial_states (k·n, d), inputs (k·n, m), condition (k·n,) of int
        Ready for ``find_fixed_points(dyn, inputs, initial_states, conditions=condition)``.

    Examples
    --------
    >>> x, u, c = tile_conditions(np.zeros((3, 2)), np.eye(2))
    >>> x.shape, u.shape, c.tolist()
    ((6, 2), (6, 2), [0, 0, 0, 1, 1, 1])
    """
    x = np.asarray(initial_states, dtype=np.float64)
    u = np.asarray(condition_inputs, dtype=np.float64)
    if x.ndim != 2 or u.ndim != 2:
        raise ValueError(
            f"initial_states {x.shape} and condition_inputs {u.shape} must be 2-D: (n, d) and (k, m)"
        )
    k, n = len(u), len(x)
    return np.tile(x, (k, 1)), np.repeat(u, n, axis=0), np.repeat(np.arange(k), n)


def condition_inputs(dataset, *, by: str | None = "context", period: str | None = "stimulus"):
    """One constant input per condition: the mean input over a period, per trial variable value.

    Parameters
    ----------
    dataset : xarray.Dataset
        A :func:`neurodyn.simulate` result (``inputs`` and trial coordinates).
    by : str or None
        Trial variable defining conditions (e.g. ``"context"``); ``None`` or a variable
        the dataset lacks gives a single condition.
    period : str or None
        Average over this period (its ``<period>_on``/``_off`` coordinates, ms); the
        whole trial when ``None`` or absent. Averaging over trials of both evidence
        signs leaves the stimulus at its zero-evidence level.

    Returns
    -------
    inputs : ndarray (k, m)
    names : list of str
        ``"<by>=<value>"`` per condition (``["all"]`` for one condition).

    Examples
    --------
    In a context-dependent decision task, the mean input over the stimulus period of
    each context carries that context's cue (the last two input channels), to search
    for the fixed points of each context:

    >>> from neurodyn import simulate
    >>> from neurodyn.analysis import condition_inputs
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import ContextDecisionMaking
    >>> task = ContextDecisionMaking(dt=20.0)
    >>> ds = simulate(RateRNN(7, 8, 3, dt=20.0, seed=0), task, n_trials=16, seed=0)
    >>> U, names = condition_inputs(ds, by="context")
    >>> U.shape, names
    ((2, 7), ['context=0', 'context=1'])
    >>> U[:, -2:].tolist()  # context_motion, context_color
    [[1.0, 0.0], [0.0, 1.0]]
    >>> condition_inputs(ds, by=None)[1]
    ['all']
    """
    u = np.asarray(dataset["inputs"].values, dtype=np.float64)
    time = np.asarray(dataset["time"].values, dtype=np.float64)
    n_trials, n_time, _ = u.shape
    if "length" in dataset.coords:
        mask = np.arange(n_time)[None, :] < dataset["length"].values[:, None]
    else:
        mask = np.ones((n_trials, n_time), dtype=bool)
    if period is not None and f"{period}_on" in dataset.coords:
        dt = float(dataset.attrs.get("dt", time[1] - time[0] if n_time > 1 else 1.0))
        start = time - dt  # a step covers (t - dt, t]
        on = dataset[f"{period}_on"].values[:, None]
        off = dataset[f"{period}_off"].values[:, None]
        mask &= (start[None, :] >= on) & (time[None, :] <= off)
    if by is None or by not in dataset.coords:
        values, names = [None], ["all"]
    else:
        values = np.unique(dataset[by].values)
        names = [f"{by}={v}" for v in values]
    out = []
    for v in values:
        sel = mask if v is None else mask & (dataset[by].values == v)[:, None]
        if not sel.any():
            raise ValueError(f"no time steps for condition {by}={v} in period {period!r}")
        out.append(u[sel].mean(axis=0))
    return np.asarray(out), names
