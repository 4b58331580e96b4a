"""The result of a fixed-point search: :class:`FixedPoints`, labelled and saveable.

Dims of :meth:`FixedPoints.to_xarray`: ``fixed_point``; the state dimension
(``unit``, or ``state`` when the state is not one value per unit, as for LSTMs);
``source`` (the column of a Jacobian, i.e. the state variable differentiated by);
``mode``; ``input``; and ``candidate`` for the per-candidate record. Complex arrays
(eigenvalues and -vectors, selection vectors) stay complex in memory and are
stored as ``<name>_real``/``<name>_imag`` pairs on disk, because netCDF3 has no
complex type.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..._version import __version__
from ..linearization.linearize import Linearization

__all__ = ["Candidates", "FixedPoints", "load_fixed_points"]


@dataclass
class Candidates:
    """Every candidate of a search, including failures: nothing is dropped silently.

    Attributes
    ----------
    x_init, x : ndarray (n, d)
        Initial and final states.
    inputs : ndarray (n, m)
    q : ndarray (n,)
        Final :math:`q = ½‖r‖²`.
    n_iter : ndarray (n,)
        Iterations: Jacobian factorisations for Newton, steps for Adam.
    status : ndarray of str (n,)
        ``"root"``, ``"slow"`` or ``"failed"``.
    reason : ndarray of str (n,)
        Why a candidate failed (``"diverged"``, ``"singular"``, ``"stalled"``,
        ``"max_iter"``, ``"left_state_set"``: it wandered off the states the model can
        reach); empty otherwise.
    fixed_point : ndarray of int (n,)
        Index of the fixed point the candidate converged to (-1 for failures).
    condition : ndarray of int (n,)
        Index of the candidate's input condition (into ``condition_names`` of the
        :class:`FixedPoints`).

    Examples
    --------
    The ``candidates`` of a :class:`FixedPoints`: two uncoupled bistable units,
    :math:`\\tau\\dot x = -x + 2\\tanh x`, have nine fixed points, and every candidate
    of a grid ends on one of them:

    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 initial states
    >>> fps = find_fixed_points(dyn, [0.0], X0, progress=False)
    >>> c = fps.candidates
    >>> len(c), sorted(set(c.status.tolist())), sorted(set(c.reason.tolist()))
    (25, ['root'], [''])
    >>> bool(np.allclose(c.x, fps.x[c.fixed_point])), c.x_init.shape
    (True, (25, 2))
    """

    x_init: np.ndarray
    x: np.ndarray
    inputs: np.ndarray
    q: np.ndarray
    n_iter: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    fixed_point: np.ndarray
    condition: np.ndarray

    def __len__(self) -> int:
        return len(self.q)


@dataclass
class FixedPoints:
    """Distinct fixed points (roots) and slow points of a system, with their linearization.

    Attributes
    ----------
    x : ndarray (k, d)
        The points.
    inputs : ndarray (k, m)
        The constant input of each.
    q : ndarray (k,)
        :math:`q = ½‖r‖²` in the residual's units: per step for maps, per ms for ODEs.
    speed : ndarray (k,)
        :math:`‖r‖/Δt` for maps and :math:`‖r‖` for ODEs: state units per ms (per step
        for systems without a time unit).
    status : ndarray of str (k,)
        ``"root"`` or ``"slow"`` (a local minimum of q above tolerance); never mixed.
    n_iter : ndarray of int (k,)
        Iterations of the representative candidate.
    n_candidates : ndarray of int (k,)
        How many candidates converged to each point.
    condition : ndarray of int (k,)
        Index into ``condition_names``.
    linearization : Linearization or None
        Jacobians, eigenmodes, stability and selection vectors (see
        :mod:`neurodyn.analysis.linearization.linearize`); its fields are also attributes of
        this object (``fps.eigenvalues``, ``fps.stability`` ...).
    candidates : Candidates or None
    kind, dt, time_unit, state_dim : system description (see :class:`~neurodyn.dynamics.Dynamics`)
    condition_names, input_names : list of str
    state_coords : dict
        Labels along the state dimension.
    info : dict
        Method, backend, tolerances, timing and seed (stored as attributes on disk).

    Examples
    --------
    :func:`~neurodyn.analysis.find_fixed_points` returns it. Two uncoupled bistable
    units, :math:`\\tau\\dot x = -x + 2\\tanh x` (τ = 10 ms), have 3 × 3 fixed points:
    four stable ones at :math:`(\\pm x^*, \\pm x^*)`, :math:`x^* = 2\\tanh x^* \\approx 1.915`,
    where both eigenvalues are :math:`(2(1 - \\tanh^2 x^*) - 1)/\\tau`, four saddles and an
    unstable node at the origin:

    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 initial states
    >>> fps = find_fixed_points(dyn, [0.0], X0, progress=False)
    >>> fps.summary()  # doctest: +NORMALIZE_WHITESPACE
    {'stable': 4, 'unstable_1': 4, 'unstable_2': 1, 'slow': 0, 'failed': 0,
     'left_state_set': 0}
    >>> stable = fps[fps.stability == "stable"]
    >>> np.unique(np.abs(stable.x).round(3)).tolist(), int(fps.n_candidates.sum())
    ([1.915], 25)
    >>> x_star = abs(stable.x[0, 0])
    >>> bool(np.allclose(stable.eigenvalues, (2 * (1 - np.tanh(x_star)**2) - 1) / 10))
    True
    >>> fps.kind, fps.time_unit, fps.condition_names, len(fps.roots), len(fps.slow_points)
    ('ode', 'ms', ['all'], 9, 0)
    """

    x: np.ndarray
    inputs: np.ndarray
    q: np.ndarray
    speed: np.ndarray
    status: np.ndarray
    n_iter: np.ndarray
    n_candidates: np.ndarray
    condition: np.ndarray
    linearization: Linearization | None = None
    candidates: Candidates | None = None
    kind: str = "map"
    dt: float = 1.0
    time_unit: str = "ms"
    state_dim: str = "unit"
    condition_names: list = field(default_factory=lambda: ["all"])
    input_names: list | None = None
    state_coords: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    # -- access -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.q)

    def __getattr__(self, name):
        # Linearization fields read as attributes: fps.eigenvalues, fps.stability ...
        lin = self.__dict__.get("linearization")
        if lin is not None and name in {f.name for f in fields(Linearization)} | {"time_constant"}:
            return getattr(lin, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __getitem__(self, index) -> FixedPoints:
        """The fixed points selected by an index, slice or boolean mask."""
        index = np.arange(len(self))[index]
        index = np.atleast_1d(index)
        lin = None
        if self.linearization is not None:
            lin = Linearization(
                **{
                    f.name: getattr(self.linearization, f.name)[index]
                    for f in fields(Linearization)
                }
            )
        per_point = {
            f: getattr(self, f)[index]
            for f in ("x", "inputs", "q", "speed", "status", "n_iter", "n_candidates", "condition")
        }
        keep = dict(
            kind=self.kind,
            dt=self.dt,
            time_unit=self.time_unit,
            state_dim=self.state_dim,
            condition_names=self.condition_names,
            input_names=self.input_names,
            state_coords=self.state_coords,
            info=dict(self.info),
        )
        return FixedPoints(**per_point, linearization=lin, candidates=None, **keep)

    @property
    def roots(self) -> FixedPoints:
        """Only the true fixed points (``status == "root"``)."""
        return self[self.status == "root"]

    @property
    def slow_points(self) -> FixedPoints:
        """Only the slow points (``status == "slow"``)."""
        return self[self.status == "slow"]

    def summary(self) -> dict[str, int]:
        """Counts: roots per stability class, then ``slow`` points and ``failed`` candidates,
        and among those failures the ones that left the state set the model can reach
        (``left_state_set``).

        Examples: ``{"stable": 8, "unstable_1": 12, "unstable_2": 6, "unstable_3": 1,
        "slow": 0, "failed": 0, "left_state_set": 0}``.
        """
        out: dict[str, int] = {}
        if self.linearization is not None:
            classes = self.stability[self.status == "root"]
            key = lambda c: (c != "stable", c != "marginal", len(c), c)  # noqa: E731
            for c in sorted(set(classes.tolist()), key=key):
                out[c] = int(np.sum(classes == c))
        else:
            out["root"] = int(np.sum(self.status == "root"))
        out["slow"] = int(np.sum(self.status == "slow"))
        if self.candidates is not None:
            out["failed"] = int(np.sum(self.candidates.status == "failed"))
            out["left_state_set"] = int(np.sum(self.candidates.reason == "left_state_set"))
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return f"FixedPoints({len(self)} points, {self.kind}, n_state={self.x.shape[1]}: {counts})"

    # -- labelled output --------------------------------------------------------------------
    def to_xarray(self, *, candidates: bool = True):
        """A Dataset with dims ``fixed_point``, the state dim, ``source``, ``mode``, ``input``.

        Complex variables stay complex; :meth:`save` splits them for netCDF.

        Parameters
        ----------
        candidates : bool
            Include the search's candidates (dim ``candidate``): where each started and ended,
            its residual, iterations, status and reason.
        """
        import xarray as xr

        S = self.state_dim
        k, d = self.x.shape
        m = self.inputs.shape[1]
        coords: dict[str, Any] = {
            "fixed_point": np.arange(k, dtype=np.int32),
            S: np.arange(d, dtype=np.int32),
            "input": list(self.input_names) if self.input_names else np.arange(m, dtype=np.int32),
            "condition": ("fixed_point", self.condition.astype(np.int32)),
            "status": ("fixed_point", self.status.astype(str)),
        }
        for name, vals in self.state_coords.items():
            coords[name] = (S, np.asarray(vals))
        data = {
            "x": (("fixed_point", S), self.x),
            "inputs": (("fixed_point", "input"), self.inputs),
            "q": ("fixed_point", self.q),
            "speed": ("fixed_point", self.speed),
            "n_iter": ("fixed_point", self.n_iter.astype(np.int32)),
            "n_candidates": ("fixed_point", self.n_candidates.astype(np.int32)),
        }
        lin = self.linearization
        if lin is not None:
            coords["mode"] = np.arange(d, dtype=np.int32)
            coords["source"] = np.arange(d, dtype=np.int32)
            data.update(
                jacobian=(("fixed_point", S, "source"), lin.jacobian),
                input_jacobian=(("fixed_point", S, "input"), lin.input_jacobian),
                eigenvalues=(("fixed_point", "mode"), lin.eigenvalues),
                right=(("fixed_point", S, "mode"), lin.right),
                left=(("fixed_point", S, "mode"), lin.left),
                input_projection=(("fixed_point", "mode", "input"), lin.input_projection),
                growth_rate=(("fixed_point", "mode"), lin.growth_rate),
                frequency=(("fixed_point", "mode"), lin.frequency),
                n_unstable=("fixed_point", lin.n_unstable.astype(np.int32)),
                n_marginal=("fixed_point", lin.n_marginal.astype(np.int32)),
                stability=("fixed_point", lin.stability.astype(str)),
            )
        c = self.candidates
        if candidates and c is not None:
            data.update(
                candidate_x_init=(("candidate", S), c.x_init),
                candidate_x=(("candidate", S), c.x),
                candidate_inputs=(("candidate", "input"), c.inputs),
                candidate_q=("candidate", c.q),
                candidate_n_iter=("candidate", c.n_iter.astype(np.int32)),
                candidate_status=("candidate", c.status.astype(str)),
                candidate_reason=("candidate", c.reason.astype(str)),
                candidate_fixed_point=("candidate", c.fixed_point.astype(np.int32)),
                candidate_condition=("candidate", c.condition.astype(np.int32)),
            )
        ds = xr.Dataset(data, coords=coords)
        ds["speed"].attrs["units"] = f"state/{self.time_unit}"
        ds["q"].attrs["units"] = f"(state/{'step' if self.kind == 'map' else self.time_unit})^2"
        if lin is not None:
            ds["growth_rate"].attrs["units"] = f"1/{self.time_unit}"
            ds["frequency"].attrs["units"] = "Hz" if self.time_unit == "ms" else "1/(1000 steps)"
        ds.attrs.update(
            {
                "kind": self.kind,
                "dt": float(self.dt),
                "time_unit": self.time_unit,
                "state_dim": S,
                "condition_names": json.dumps([str(n) for n in self.condition_names]),
                "input_names": json.dumps(self.input_names),
                "state_coords": json.dumps(sorted(self.state_coords)),
                "info": json.dumps(self.info, default=_jsonable),
                "summary": json.dumps(self.summary()),
                "neurodyn_version": __version__,
            }
        )
        return ds

    @classmethod
    def from_xarray(cls, ds) -> FixedPoints:
        """Rebuild from :meth:`to_xarray` output (complex or split into real/imag).

        Parameters
        ----------
        ds : xarray.Dataset
            What :meth:`to_xarray` returned, or :meth:`save` wrote.
        """
        ds = _join_complex(ds)
        S = ds.attrs.get("state_dim", "unit")
        lin = None
        if "jacobian" in ds:
            lin = Linearization(
                **{
                    f.name: ds[f.name].values
                    for f in fields(Linearization)
                    if f.name != "stability"
                },
                stability=ds["stability"].values.astype(str),
            )
        cand = None
        if "candidate_q" in ds:
            cand = Candidates(
                **{
                    f.name: ds[f"candidate_{f.name}"].values
                    for f in fields(Candidates)
                    if f.name not in ("status", "reason")
                },
                status=ds["candidate_status"].values.astype(str),
                reason=ds["candidate_reason"].values.astype(str),
            )
        input_names = json.loads(ds.attrs.get("input_names", "null"))
        return cls(
            x=ds["x"].values,
            inputs=ds["inputs"].values,
            q=ds["q"].values,
            speed=ds["speed"].values,
            status=ds["status"].values.astype(str),
            n_iter=ds["n_iter"].values,
            n_candidates=ds["n_candidates"].values,
            condition=ds["condition"].values,
            linearization=lin,
            candidates=cand,
            kind=ds.attrs["kind"],
            dt=float(ds.attrs["dt"]),
            time_unit=ds.attrs["time_unit"],
            state_dim=S,
            condition_names=json.loads(ds.attrs["condition_names"]),
            input_names=input_names,
            state_coords={k: ds[k].values for k in json.loads(ds.attrs.get("state_coords", "[]"))},
            info=json.loads(ds.attrs.get("info", "{}")),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write to netCDF atomically (complex arrays split into real and imaginary parts).

        Parameters
        ----------
        path : str or os.PathLike
            The netCDF file to write.
        """
        from ...io.datasets import save_dataset

        return save_dataset(_split_complex(self.to_xarray()), path)


def load_fixed_points(path: str | os.PathLike) -> FixedPoints:
    """Read a file written by :meth:`FixedPoints.save`.

    Parameters
    ----------
    path : str or os.PathLike
        The netCDF file.

    Returns
    -------
    FixedPoints
        The points, their linearization and the candidates, as saved.

    Examples
    --------
    Save the fixed points of two bistable units and read them back:

    >>> from neurodyn.analysis import find_fixed_points
    >>> from neurodyn.dynamics import RateDynamics
    >>> dyn = RateDynamics(W=2 * np.eye(2), W_in=np.ones((2, 1)), tau=10.0, dt=1.0)
    >>> g = np.linspace(-3, 3, 5)
    >>> X0 = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 25 initial states
    >>> fps = find_fixed_points(dyn, [0.0], X0, progress=False)
    >>> _ = fps.save("fixed_points.nc")
    >>> back = load_fixed_points("fixed_points.nc")
    >>> bool(np.array_equal(back.x, fps.x)), bool(np.allclose(back.eigenvalues, fps.eigenvalues))
    (True, True)
    >>> back.summary() == fps.summary(), len(back.candidates)
    (True, 25)
    """
    from ...io.datasets import load_dataset

    return FixedPoints.from_xarray(load_dataset(path))


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _split_complex(ds):
    out = ds.copy()
    for name in list(ds.data_vars):
        if np.iscomplexobj(ds[name].values):
            out[f"{name}_real"] = ds[name].real
            out[f"{name}_imag"] = ds[name].imag
            out = out.drop_vars(name)
    return out


def _join_complex(ds):
    out = ds
    for name in list(ds.data_vars):
        if name.endswith("_real") and name[:-5] + "_imag" in ds:
            base = name[:-5]
            out = out.assign({base: ds[name] + 1j * ds[base + "_imag"]})
            out = out.drop_vars([name, base + "_imag"])
    return out
