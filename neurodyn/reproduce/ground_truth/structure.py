r"""The mechanism of a network, as the ground-truth validation compares it: fixed points
at constant inputs, and the integrating mode of a context-dependent integrator.

* :func:`fixed_point_structure`: the fixed points of a network at one or more constant
  inputs (conditions), their unstable-mode counts per condition, found by a search
  from visited states and a second one from the roots found and the states between the
  stable ones;
* :func:`state_map` and :func:`match_fixed_points`: a student's fixed points carried
  into its teacher's state space by the least-squares affine map between the two
  systems' trajectories, and paired with the teacher's within each condition and
  number of unstable modes;
* :func:`integrating_mode`: in each context of a context-dependent integrator, the
  mode along which evidence is integrated (the unstable mode of the saddle between two
  choice attractors, or the slowest mode of a single memory), its growth rate and how
  strongly it picks up each modality's evidence (Mante, Sussillo, Shenoy & Newsome
  2013: the left eigenvector, or *selection vector*, turns with the context toward the
  relevant input).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ...analysis import (
    between_attractors,
    find_fixed_points,
    sample_initial_states,
    tile_conditions,
)

__all__ = [
    "fixed_point_structure",
    "integrating_mode",
    "match_fixed_points",
    "state_map",
    "visited_distance",
]

#: Relative tolerance of the least-squares map between state spaces (singular values
#: below it times the largest are dropped): float64 trajectories of well-scaled states.
_LSTSQ_RCOND = 1e-10
#: Most rounds of the search from the states between the points found. Saddles with
#: k + 1 unstable modes lie between those with k (the flip-flop cube's face saddles
#: between its edge saddles, its centre between the faces); two rounds after the
#: first search reach the cube's centre from its corners.
_ROUNDS = 3


def _counts(n_unstable: np.ndarray, condition: np.ndarray, names: list) -> dict:
    return {
        name: {int(k): int(np.sum(n_unstable[condition == c] == k))
               for k in np.unique(n_unstable[condition == c])}
        for c, name in enumerate(names)
    }  # fmt: skip


def fixed_point_structure(
    model, states, n_inits: int, seed: int, inputs=None, names=None, *, slow_points=False,
    visited=None,
):  # fmt: skip
    r"""Fixed points of ``model`` at each constant input, with their unstable-mode counts.

    Searched from ``n_inits`` states the network visits (``states``, plus noise) at every
    input, then again, in rounds until a round finds no new point (at most three), from
    the points found (each its own start, so none is lost) and the states between the
    points of the same input with the same number of unstable modes
    (:func:`~neurodyn.analysis.between_attractors`). The saddles that trajectories
    seldom approach (the flip-flop cube's face and centre saddles) are missed by the
    first search, depending on the seed; a saddle with k + 1 unstable modes lies between
    saddles with k (a face saddle between the edge saddles around it), where the states
    between the stable points alone missed one face saddle of a trained cube on two
    seeds of the search in four.

    Parameters
    ----------
    model : Model or Dynamics
        The network (anything :func:`~neurodyn.analysis.find_fixed_points` takes).
    states : array (..., d)
        Visited states.
    n_inits : int
        Initial states of the first search per input.
    seed : int
        Seeds the initial states and the states between points.
    inputs : array (c, m), optional
        One constant input per condition; zero input (one condition) when omitted.
    names : list of str, optional
        The conditions' names (``["zero input"]`` when ``inputs`` is omitted).
    slow_points : bool
        Count the slow points (local minima of :math:`q = \tfrac12\|f\|^2` above the
        root tolerance) with the roots. An integrator's memory may be the ghost of a
        fixed point, a place of slow drift with no root: its slow point is part of the
        mechanism.
    visited : float, optional
        Keep only the points within this fraction of the states' RMS spread of some
        state in ``states``: the region the trials visit, whose flow the data constrain.
        None keeps every point found.

    Returns
    -------
    dict
        ``x`` (k, d), ``n_unstable`` (k,), ``condition`` (k,) index into ``names``,
        ``visited_distance`` (k,) (:func:`visited_distance` from ``states``), ``names``, ``counts`` (``{name: {unstable modes: points}}``), and ``roots``
        (the :class:`~neurodyn.analysis.FixedPoints`, with their linearization; slow
        points too with ``slow_points``).

    Examples
    --------
    A bistable unit: two stable points at :math:`x = \pm 1` with a saddle between them
    at zero input; a constant input of 0.5 leaves one stable point:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(z, u):  # x is bistable and integrates u0 - u1; y decays
    ...     return np.stack([z[:, 0] - z[:, 0] ** 3 + u[:, 0] - u[:, 1], -z[:, 1]], axis=1)
    >>> dyn = FunctionDynamics(f, n_state=2, n_input=2, kind="ode")
    >>> states = np.stack([np.linspace(-1, 1, 21), np.zeros(21)], axis=1)
    >>> s = fixed_point_structure(dyn, states, n_inits=16, seed=0,
    ...                           inputs=[[0.0, 0.0], [0.5, 0.0]], names=["none", "right"])
    >>> s["counts"]
    {'none': {0: 2, 1: 1}, 'right': {0: 1}}
    >>> sorted(np.round(s["x"][s["condition"] == 0, 0], 6).tolist())
    [-1.0, 0.0, 1.0]
    """
    x0 = sample_initial_states(states, n_inits, noise_scale=0.5, seed=seed)
    if inputs is None:
        names = ["zero input"]
        u = np.zeros((1, model.n_input))
    else:
        u = np.atleast_2d(np.asarray(inputs, dtype=float))
        names = list(names) if names is not None else [f"input {i}" for i in range(len(u))]
    x0, u0, cond = tile_conditions(x0, u)
    roots = _search(model, u0, x0, cond, names, slow_points)
    for _ in range(_ROUNDS):
        starts, start_cond = _between(roots, len(names), seed)
        if not len(start_cond):
            break  # nothing found: nothing to start from again
        again = _search(model, u[start_cond], starts, start_cond, names, slow_points)
        grew = len(again) > len(roots)
        roots = again
        if not grew:
            break
    x = np.asarray(roots.x, dtype=float)
    distance = visited_distance(x, states) if len(roots) else np.zeros(0)
    if visited is not None and len(roots):
        keep = distance <= visited
        roots, x, distance = roots[keep], x[keep], distance[keep]
    # An empty result carries no linearization.
    n_unstable = np.asarray(roots.n_unstable if len(roots) else [], dtype=int)
    condition = np.asarray(roots.condition, dtype=int)
    return {
        "x": x,
        "n_unstable": n_unstable,
        "condition": condition,
        "visited_distance": distance,
        "names": names,
        "counts": _counts(n_unstable, condition, names),
        "roots": roots,
    }


def _search(model, u, x0, cond, names, slow_points):
    found = find_fixed_points(model, u, x0, conditions=cond, condition_names=names,
                              progress=False)  # fmt: skip
    return found if slow_points else found.roots


def _between(roots, n_conditions: int, seed: int):
    """Initial states of the next round: every point found (each its own start, so none
    is lost) and, per condition and number of unstable modes k, the states between the
    points with k unstable modes (:func:`~neurodyn.analysis.between_attractors`)."""
    x = np.asarray(roots.x, dtype=float)
    cond = np.asarray(roots.condition, dtype=int)
    n_unstable = np.asarray(roots.n_unstable if len(roots) else [], dtype=int)
    starts, start_cond = [x], [cond]
    for c in range(n_conditions):
        for k in np.unique(n_unstable[cond == c]):
            between = between_attractors(x[(cond == c) & (n_unstable == k)], seed=seed)
            starts.append(between)
            start_cond.append(np.full(len(between), c))
    return np.concatenate(starts), np.concatenate(start_cond).astype(int)


def visited_distance(x: np.ndarray, states) -> np.ndarray:
    """The distance of each point ``x`` (k, d) from the nearest of ``states`` (..., d),
    as a fraction of the states' RMS spread.

    Parameters
    ----------
    x : array (k, d)
        Points (fixed points).
    states : array (..., d)
        Visited states.

    Returns
    -------
    array (k,)

    Examples
    --------
    Two states 4 apart have an RMS spread of 2 about their mean:

    >>> states = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> visited_distance(np.array([[0.0, 3.0], [4.0, 0.0]]), states).tolist()
    [1.5, 0.0]
    """
    flat = np.asarray(states, dtype=float).reshape(-1, x.shape[-1])
    spread = np.sqrt(np.mean(np.sum((flat - flat.mean(0)) ** 2, axis=-1)))
    # Nearest visited state of each point, in blocks to bound the distance matrix.
    nearest = np.full(len(x), np.inf)
    for start in range(0, len(flat), 4096):
        block = flat[start : start + 4096]
        d = np.sqrt(np.maximum(
            np.sum(x**2, 1)[:, None] - 2 * x @ block.T + np.sum(block**2, 1)[None], 0.0))  # fmt: skip
        nearest = np.minimum(nearest, d.min(axis=1))
    return nearest / spread


def state_map(source: np.ndarray, target: np.ndarray):
    r"""The least-squares affine map :math:`y \approx A x + c` from ``source`` states to
    ``target`` states on matched samples (…, d_source) and (…, d_target).

    Parameters
    ----------
    source : array (..., d_source)
        States of one system (a student's).
    target : array (..., d_target)
        The other system's states at the same samples (its teacher's).

    Returns
    -------
    callable
        ``apply(x)`` for states of shape (n, d_source).

    Examples
    --------
    An affine map is recovered exactly:

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(5, 20, 3))
    >>> A, c = rng.normal(size=(2, 3)), np.array([1.0, -2.0])
    >>> apply = state_map(x, x @ A.T + c)
    >>> z = rng.normal(size=(4, 3))
    >>> bool(np.allclose(apply(z), z @ A.T + c))
    True
    """
    x = source.reshape(-1, source.shape[-1])
    y = target.reshape(-1, target.shape[-1])
    design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    coef = np.linalg.lstsq(design, y, rcond=_LSTSQ_RCOND)[0]
    return lambda z: z @ coef[:-1] + coef[-1]


def match_fixed_points(teacher: dict, student: dict, scale: float, *, region=None) -> dict:
    r"""Pair the student's fixed points (``student["x"]``, already mapped into the
    teacher's space) with the teacher's, within each condition and number of unstable
    modes, by the assignment of least total distance (Hungarian); distances are divided
    by ``scale``.

    Both dicts hold ``x``, ``n_unstable`` and ``counts``, and ``condition`` where there
    is more than one condition (as :func:`fixed_point_structure` returns).

    Parameters
    ----------
    teacher, student : dict
        The two systems' fixed points, as :func:`fixed_point_structure` returns them,
        the student's ``x`` mapped into the teacher's space (:func:`state_map`).
    scale : float
        The distance that counts as 1 (e.g. the teacher's state spread).
    region : float, optional
        Also report the pairs whose teacher point lies in the region the trials visit:
        within this fraction of the state spread (``teacher["visited_distance"]``).

    Returns
    -------
    dict
        ``counts_match`` (the same count of points for every condition and number of
        unstable modes), ``max_error`` and ``median_error`` of the paired points (NaN
        when none pairs), ``n_paired``; with ``region``, ``max_error_visited`` and
        ``n_visited``, the same over the pairs in the visited region.

    Examples
    --------
    Two stable points and a saddle each; the student's lie 0.1 and 0.2 from the
    teacher's:

    >>> teacher = {"x": np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]),
    ...            "n_unstable": [0, 0, 1], "counts": {"zero input": {0: 2, 1: 1}}}
    >>> student = {"x": np.array([[0.0, 0.2], [1.1, 0.0], [-1.0, 0.1]]),
    ...            "n_unstable": [1, 0, 0], "counts": {"zero input": {0: 2, 1: 1}}}
    >>> m = match_fixed_points(teacher, student, scale=1.0)
    >>> m["counts_match"], m["n_paired"], round(m["max_error"], 6), round(m["median_error"], 6)
    (True, 3, 0.2, 0.1)
    """
    groups = []
    for d in (teacher, student):
        k = np.asarray(d["n_unstable"], dtype=int)
        c = np.asarray(d.get("condition", np.zeros_like(k)), dtype=int)
        groups.append(np.stack([c, k], axis=1).reshape(-1, 2))
    near = (np.asarray(teacher["visited_distance"]) <= region if region is not None
            else np.zeros(len(groups[0]), dtype=bool))  # fmt: skip
    errors, visited = [], []
    for c, k in np.unique(np.concatenate(groups), axis=0):
        mine = (groups[0][:, 0] == c) & (groups[0][:, 1] == k)
        a = teacher["x"][mine]
        b = student["x"][(groups[1][:, 0] == c) & (groups[1][:, 1] == k)]
        if len(a) and len(b):
            d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
            rows, cols = linear_sum_assignment(d)
            errors.extend(d[rows, cols] / scale)
            visited.extend(near[mine][rows])
    errors, visited = np.asarray(errors), np.asarray(visited, dtype=bool)
    out = {
        "counts_match": student["counts"] == teacher["counts"],
        "max_error": _largest(errors),
        "median_error": float(np.median(errors)) if errors.size else float("nan"),
        "n_paired": int(errors.size),
    }
    if region is not None:
        out["max_error_visited"] = _largest(errors[visited])
        out["n_visited"] = int(visited.sum())
    return out


def _largest(errors: np.ndarray) -> float:
    return float(errors.max()) if errors.size else float("nan")


def integrating_mode(structure: dict, evidence: dict) -> dict:
    r"""The mode along which each condition's evidence is integrated, and what it picks up.

    Where the condition has a saddle with one unstable mode, the choice is made there:
    evidence pushes the state along that mode, to one side of the saddle's stable
    manifold or the other, toward one of the attractors it separates; the mode is the
    saddle's unstable one, a pulse along it growing as :math:`e^{\gamma_0 t}`. Otherwise
    the condition's memory is a stable point (or a slow point, a fixed point's ghost) and
    the mode its slowest, a pulse decaying as :math:`e^{\gamma_0 t}`; at a slow point (a
    minimum of q above zero, where :math:`J^\top f = 0`) the Jacobian is singular,
    :math:`\gamma_0 = 0`: evidence along the mode is kept while the state drifts at the
    point's speed. Either way mode 0, the most unstable or slowest.

    A modality's evidence is the difference of its two channels (right minus left), an
    input direction :math:`e`; the mode picks it up by :math:`|r_0|\,|l_0^H B e|` (the left
    eigenvector :math:`l_0`, the selection vector of Mante et al. 2013, times the right
    one's norm: invariant to the scaling of the eigenvector pair).

    Parameters
    ----------
    structure : dict
        From :func:`fixed_point_structure` (with its ``roots``).
    evidence : dict
        ``{modality: (right channel index, left channel index)}``.

    Returns
    -------
    dict
        Per condition name: ``at`` (``"saddle"``, ``"stable"``, or ``"none"`` where the
        condition has neither), ``growth_rate`` of mode 0 (per ms) and, per modality, its
        pickup, each a mean over those points (NaN for ``"none"``).

    Examples
    --------
    The bistable unit integrates :math:`u_0 - u_1` along :math:`x`: at zero input its
    saddle's unstable mode (growth rate 1) picks up that evidence with weight 2 (1 from
    each channel); at input 0.5 the one stable point's slowest mode is :math:`y`
    (rate -1), which picks up none:

    >>> from neurodyn.dynamics import FunctionDynamics
    >>> def f(z, u):  # x is bistable and integrates u0 - u1; y decays
    ...     return np.stack([z[:, 0] - z[:, 0] ** 3 + u[:, 0] - u[:, 1], -z[:, 1]], axis=1)
    >>> dyn = FunctionDynamics(f, n_state=2, n_input=2, kind="ode")
    >>> states = np.stack([np.linspace(-1, 1, 21), np.zeros(21)], axis=1)
    >>> s = fixed_point_structure(dyn, states, n_inits=16, seed=0,
    ...                           inputs=[[0.0, 0.0], [0.5, 0.0]], names=["none", "right"])
    >>> modes = integrating_mode(s, {"evidence": (0, 1)})
    >>> [(m["at"], round(m["growth_rate"], 6), round(m["evidence"], 6)) for m in modes.values()]
    [('saddle', 1.0, 2.0), ('stable', -1.0, 0.0)]
    """
    roots = structure["roots"]
    out = {}
    for c, name in enumerate(structure["names"]):
        here = structure["condition"] == c
        saddle = here & (structure["n_unstable"] == 1)
        sel = saddle if saddle.any() else here & (structure["n_unstable"] == 0)
        if not sel.any():
            out[name] = {"at": "none", "growth_rate": float("nan"),
                         **{m: float("nan") for m in evidence}}  # fmt: skip
            continue
        norm_r = np.linalg.norm(roots.right[sel][:, :, 0], axis=1)
        proj = roots.input_projection[sel][:, 0, :] * norm_r[:, None]
        out[name] = {
            "at": "saddle" if saddle.any() else "stable",
            "growth_rate": float(np.mean(roots.growth_rate[sel][:, 0])),
            **{m: float(np.mean(np.abs(proj[:, i] - proj[:, j])))
               for m, (i, j) in evidence.items()},
        }  # fmt: skip
    return out
