r"""Networks of current-based LIF populations, spike sources and sparse projections.

A :class:`Network` holds populations of :class:`LIF` neurons, spike *sources*
(Poisson or given spike trains, fed at run time) and :class:`Projection`\ s
between them, stored as flat synapse lists that :func:`~neurodyn.spiking.simulate` turns into
CSR arrays for the kernels. Time is in ms and potentials in mV.

Unit order: all sources first (in the order added), then all LIF populations;
results label every unit with its population.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .._validation import check_choice, check_finite, check_fraction, check_int, check_positive
from ..seeding import make_rng
from .clock import RECEPTORS, steps_of
from .lif import simulate

__all__ = ["LIF", "Network", "Population", "Projection"]


@dataclass(frozen=True, kw_only=True)
class LIF:
    r"""Parameters of a current-based leaky integrate-and-fire population.

    .. math::

        \tau_m \frac{dV}{dt} = V_\text{rest} - V + I_e + I_i + I_\text{bias},
        \qquad \tau_e \frac{dI_e}{dt} = -I_e, \qquad \tau_i \frac{dI_i}{dt} = -I_i

    A presynaptic spike through a synapse of weight :math:`w` (and projection
    gain :math:`g`) adds :math:`g w` to :math:`I_e` or :math:`I_i` (its
    receptor), or directly to :math:`V` for ``"delta"`` synapses. When
    :math:`V \ge V_\theta` and the neuron is not refractory it spikes and
    :math:`V \leftarrow V_\text{reset}`. Currents are in mV (resistance times
    current), as in Brette et al. (2007).

    Parameters
    ----------
    tau_m : float
        Membrane time constant (ms).
    v_rest, v_th, v_reset : float
        Resting potential, threshold and reset (mV); ``v_reset < v_th``.
    t_ref : float
        Refractory period (ms): after a spike at time :math:`t` the neuron cannot
        spike before :math:`t + t_\text{ref}`, so it is the minimum interspike
        interval. A multiple of ``dt``, at least ``dt``.
    tau_syn_e, tau_syn_i : float
        Decay time constants of the excitatory and inhibitory currents (ms).
    bias : float
        Constant input :math:`I_\text{bias}` (mV).
    clamp_refractory : bool
        Hold :math:`V` at ``v_reset`` while refractory (Brian2's
        ``(unless refractory)``, NEST); it integrates again in the last refractory
        step, so it can cross threshold exactly ``t_ref`` after its spike.
        ``False`` keeps integrating throughout but forbids spikes, as in the NALSM
        code.
    method : {"euler", "exponential"}
        Membrane update :math:`V \leftarrow V + k (V_\text{rest} - V + I)` with
        :math:`k = dt/\tau_m` (forward Euler) or :math:`1 - e^{-dt/\tau_m}`
        (exponential Euler: exact for constant input).
    v_init : float or (float, float) or None
        Initial potential, or a range sampled uniformly per neuron and sample;
        ``None`` starts at ``v_rest``.

    Examples
    --------
    A neuron with constant drive :math:`I_\text{bias} = 2 > V_\theta = 1` fires
    regularly. With forward Euler, :math:`V_n = 2\,(1 - 0.9^n)` first reaches
    threshold at :math:`n = 7` (:math:`0.9^7 < 0.5 < 0.9^6`). After each spike the
    first of the two refractory steps holds :math:`V` at reset (the second already
    integrates), so every later interval is :math:`7 + 1 = 8` ms:

    >>> from neurodyn.spiking import Network, isi_statistics
    >>> cell = LIF(tau_m=10.0, v_th=1.0, bias=2.0, t_ref=2.0)
    >>> net = Network(dt=1.0)
    >>> _ = net.add_lif("n", 1, cell)
    >>> ds = net.run(100.0, backend="numpy")
    >>> ds["spike_time"].values[:3].tolist()
    [7.0, 15.0, 23.0]
    >>> isi_statistics(ds)["isi_mean"].values.tolist()
    [8.0]
    """

    tau_m: float = 20.0
    v_rest: float = 0.0
    v_th: float = 20.0
    v_reset: float = 0.0
    t_ref: float = 2.0
    tau_syn_e: float = 5.0
    tau_syn_i: float = 5.0
    bias: float = 0.0
    clamp_refractory: bool = True
    method: str = "euler"
    v_init: float | tuple[float, float] | None = None

    def __post_init__(self):
        for name in ("tau_m", "tau_syn_e", "tau_syn_i", "t_ref"):
            check_positive(name, getattr(self, name))
        for name in ("v_rest", "v_th", "v_reset", "bias"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number (mV), got {value!r}")
        if self.v_reset >= self.v_th:
            raise ValueError(
                f"v_reset={self.v_reset} must lie below v_th={self.v_th}, else a neuron "
                "would spike again right after its reset"
            )
        check_choice("method", self.method, ("euler", "exponential"))
        if self.v_init is not None and not isinstance(self.v_init, (int, float)):
            lo_hi = tuple(self.v_init)
            if len(lo_hi) != 2 or not lo_hi[0] <= lo_hi[1]:
                raise ValueError(
                    f"v_init must be a number or a (low, high) pair, got {self.v_init!r}"
                )

    def step_coefficient(self, dt: float) -> float:
        """The membrane coefficient :math:`k` for step ``dt``.

        Parameters
        ----------
        dt : float
            Time step (ms).

        Returns
        -------
        float
            :math:`dt/\\tau_m` for ``method="euler"``, :math:`1 - e^{-dt/\\tau_m}` for
            ``method="exponential"``.

        Examples
        --------
        >>> LIF(tau_m=20.0).step_coefficient(0.1)
        0.005
        >>> k = LIF(tau_m=20.0, method="exponential").step_coefficient(0.1)
        >>> bool(np.isclose(k, 1 - np.exp(-0.1 / 20.0)))
        True
        """
        if self.method == "euler":
            return dt / self.tau_m
        return -math.expm1(-dt / self.tau_m)


@dataclass(frozen=True)
class Population:
    """A named block of units; ``kind`` is ``"lif"`` or ``"source"``.

    Made by :meth:`Network.add_lif` and :meth:`Network.add_source`, which check the
    values; not built directly.

    Parameters
    ----------
    name : str
        The population's name, unique in its network; results label its units with it.
    size : int
        Number of units.
    kind : {"lif", "source"}
        LIF neurons, or spike sources driven at run time.
    params : LIF or None
        The neurons' parameters (``None`` for a source).
    ei : {"E", "I", ""}
        Excitatory, inhibitory or unlabelled, copied to the results' ``ei`` coordinate.
    positions : array (size, d) or None
        Spatial coordinates of the units (the grid points of a liquid), if any.

    Examples
    --------
    >>> net = Network(dt=1.0)
    >>> pop = net.add_lif("exc", 80, ei="E")
    >>> pop.kind, pop.size, pop.params.tau_m
    ('lif', 80, 20.0)
    >>> net.add_source("drive", 10).kind
    'source'
    """

    name: str
    size: int
    kind: str
    params: LIF | None = None
    ei: str = ""
    positions: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Projection:
    """Synapses from population ``pre`` to ``post`` (indices local to each).

    Made by :meth:`Network.connect`, which checks the values; not built directly.

    Parameters
    ----------
    name : str
        The projection's name, unique in its network (default ``"pre->post"``).
    pre, post : str
        Names of the presynaptic population and of the postsynaptic LIF population.
    pre_idx, post_idx : array of int (n_synapses,)
        Presynaptic and postsynaptic unit of every synapse, as indices within
        ``pre`` and ``post``.
    weight : array (n_synapses,)
        Synaptic weights (mV of current, or of potential for ``"delta"`` synapses).
    delay : array (n_synapses,)
        Transmission delays (ms, multiples of the network's ``dt``).
    receptor : {"e", "i", "delta"}
        The current the synapses drive (excitatory, inhibitory), or the membrane
        potential directly.
    gain : float
        Scale applied to the weight when a spike is delivered.
    plastic : bool
        Whether STDP changes these weights.
    mirror : bool
        Whether the STDP rule is mirrored (the NALSM's inhibitory synapses;
        :class:`~neurodyn.spiking.STDP`).
    w_min, w_max : float
        Bounds that STDP clips the weights to.

    Examples
    --------
    >>> net = Network(dt=0.5)
    >>> _ = net.add_source("drive", 3)
    >>> _ = net.add_lif("exc", 3)
    >>> proj = net.connect("drive", "exc", one_to_one=True, weight=5.0, delay=1.0)
    >>> proj.name, proj.n_synapses, proj.post_idx.tolist(), proj.delay.tolist()
    ('drive->exc', 3, [0, 1, 2], [1.0, 1.0, 1.0])
    """

    name: str
    pre: str
    post: str
    pre_idx: np.ndarray = field(repr=False)
    post_idx: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    delay: np.ndarray = field(repr=False)  # ms
    receptor: str = "e"
    gain: float = 1.0
    plastic: bool = False
    mirror: bool = False
    w_min: float = -np.inf
    w_max: float = np.inf

    @property
    def n_synapses(self) -> int:
        return int(self.pre_idx.size)


class Network:
    """Populations, sources and projections, simulated clock-driven with step ``dt``.

    Parameters
    ----------
    dt : float
        Time step (ms). Every duration, delay and refractory period must be a
        multiple of it.

    Examples
    --------
    >>> net = Network(dt=0.1)
    >>> _ = net.add_source("drive", 20)
    >>> _ = net.add_lif("exc", 50, LIF(tau_m=20.0, v_th=20.0, t_ref=2.0))
    >>> _ = net.connect("drive", "exc", p=0.2, weight=2.0, seed=0)
    >>> net.n_units
    70
    """

    def __init__(self, *, dt: float = 0.1):
        self.dt = check_positive("dt", dt)
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}

    # -- building ---------------------------------------------------------------------
    def _add(self, pop: Population) -> Population:
        if not isinstance(pop.name, str) or not pop.name:
            raise ValueError(f"a population name must be a non-empty string, got {pop.name!r}")
        if pop.name in self.populations:
            raise ValueError(f"a population named {pop.name!r} already exists")
        check_int(f"size of population {pop.name!r}", pop.size)
        self.populations[pop.name] = pop
        return pop

    def add_lif(
        self, name: str, size: int, params: LIF | None = None, *, ei: str = "", positions=None
    ) -> Population:
        """Add ``size`` LIF neurons; ``ei`` ("E", "I" or "") labels them in results.

        Parameters
        ----------
        name : str
            A name not yet used in this network.
        size : int
            Number of neurons (>= 1).
        params : LIF, optional
            The neurons' parameters; default ``LIF()``. ``t_ref`` must be a
            multiple of ``dt``, at least one step.
        ei : {"E", "I", ""}
            Excitatory, inhibitory or unlabelled (the results' ``ei`` coordinate).
        positions : array (size, d), optional
            Spatial coordinates of the neurons, kept on the population.

        Returns
        -------
        Population
        """
        params = LIF() if params is None else params
        if not isinstance(params, LIF):
            raise ValueError(f"params must be a LIF instance, got {type(params).__name__}")
        steps_of("t_ref", params.t_ref, self.dt, minimum=1)
        check_choice("ei", ei, ("E", "I", ""))
        if positions is not None:
            positions = check_finite("positions", positions).astype(float)
            if positions.ndim != 2 or positions.shape[0] != size:
                raise ValueError(f"positions must have shape ({size}, d), got {positions.shape}")
        return self._add(Population(name, int(size), "lif", params, ei, positions))

    def add_source(self, name: str, size: int) -> Population:
        """Add ``size`` spike sources, driven at run time by Poisson rates or given spikes.

        Parameters
        ----------
        name : str
            A name not yet used in this network; the key of ``rates=`` or
            ``spikes=`` in :func:`~neurodyn.spiking.simulate`.
        size : int
            Number of sources (>= 1).

        Returns
        -------
        Population
        """
        return self._add(Population(name, int(size), "source"))

    def connect(
        self,
        pre: str,
        post: str,
        *,
        p: float | None = None,
        pairs=None,
        one_to_one: bool = False,
        weight=1.0,
        receptor: str = "e",
        delay=0.0,
        gain: float = 1.0,
        plastic: bool = False,
        mirror: bool = False,
        w_min: float = -np.inf,
        w_max: float = np.inf,
        autapses: bool = False,
        name: str | None = None,
        seed=None,
    ) -> Projection:
        """Connect population ``pre`` to LIF population ``post``.

        Give exactly one of ``p`` (each pair independently with probability
        ``p``), ``pairs`` (``(pre_idx, post_idx)`` arrays of local indices) or
        ``one_to_one``.

        Parameters
        ----------
        pre : str
            The presynaptic population (LIF or source).
        post : str
            The postsynaptic population, which must be LIF.
        p : float, optional
            Connection probability in [0, 1] of every (pre, post) pair.
        pairs : (array of int, array of int), optional
            ``(pre_idx, post_idx)``: the synapses as indices local to ``pre`` and ``post``.
        one_to_one : bool
            Connect unit :math:`k` of ``pre`` to unit :math:`k` of ``post`` (equal sizes).
        weight : float or array (n_synapses,)
            Synaptic weights (mV of current, or of potential for ``"delta"``).
        receptor : {"e", "i", "delta"}
            Which current the synapse drives.
        delay : float or array (n_synapses,)
            Transmission delays (ms, multiples of ``dt``; 0 acts in the same step).
        gain : float
            Scale applied when a spike is delivered; plasticity and weight bounds act
            on the unscaled weights (NALSM keeps its weights in the paper's units).
        plastic, mirror : bool
            Whether STDP changes these weights, and whether the rule is mirrored
            (inhibitory synapses in the NALSM; see :class:`~neurodyn.spiking.STDP`).
        w_min, w_max : float
            Bounds that STDP clips the weights to.
        autapses : bool
            With ``p`` and ``pre == post``, allow a neuron to connect to itself.
        name : str, optional
            The projection's name; default ``"pre->post"``. Needed for a second
            projection between the same populations.
        seed : int or Generator
            For ``p``.

        Returns
        -------
        Projection
        """
        for role, pop_name in (("pre", pre), ("post", post)):
            if pop_name not in self.populations:
                raise ValueError(
                    f"{role}={pop_name!r} is not a population; have {sorted(self.populations)}"
                )
        n_pre, n_post = self.populations[pre].size, self.populations[post].size
        if self.populations[post].kind != "lif":
            raise ValueError(f"post={post!r} is a source; synapses must end on LIF neurons")
        check_choice("receptor", receptor, tuple(RECEPTORS))
        if sum(x is not None and x is not False for x in (p, pairs, one_to_one or None)) != 1:
            raise ValueError("give exactly one of p=, pairs= or one_to_one=True")
        if p is not None:
            check_fraction("p", p, low_open=False)
            rng = make_rng(seed, "init")
            mask = rng.random((n_post, n_pre)) < p
            if pre == post and not autapses:
                np.fill_diagonal(mask, False)
            post_idx, pre_idx = np.nonzero(mask)
        elif one_to_one:
            if n_pre != n_post:
                raise ValueError(f"one_to_one needs equal sizes, got {n_pre} and {n_post}")
            pre_idx = post_idx = np.arange(n_pre)
        else:
            pre_idx, post_idx = (np.asarray(a) for a in pairs)
            if pre_idx.shape != post_idx.shape or pre_idx.ndim != 1:
                raise ValueError("pairs must be two 1-D index arrays of equal length")
            if pre_idx.size and (pre_idx.min() < 0 or pre_idx.max() >= n_pre):
                raise ValueError(f"pairs: pre indices must lie in [0, {n_pre})")
            if post_idx.size and (post_idx.min() < 0 or post_idx.max() >= n_post):
                raise ValueError(f"pairs: post indices must lie in [0, {n_post})")
        # The values are checked as given, before they are broadcast to the synapses
        # drawn: a random draw with no synapse must not let a bad delay through.
        weight = check_finite("weight", np.asarray(weight, float))
        delay = check_finite("delay", np.asarray(delay, float))
        if np.any(delay < 0):
            raise ValueError("delay must be >= 0 ms")
        for d in np.unique(delay):
            steps_of("delay", float(d), self.dt)
        n = pre_idx.size
        weight = np.broadcast_to(weight, (n,)).copy()
        delay = np.broadcast_to(delay, (n,)).copy()
        if not math.isfinite(gain):
            raise ValueError(f"gain must be finite, got {gain!r}")
        if not w_min <= w_max:
            raise ValueError(f"w_min={w_min} must not exceed w_max={w_max}")
        name = name or f"{pre}->{post}"
        if name in self.projections:
            raise ValueError(f"a projection named {name!r} already exists; pass name=")
        proj = Projection(
            name,
            pre,
            post,
            pre_idx.astype(np.int64),
            post_idx.astype(np.int64),
            weight,
            delay,
            receptor,
            float(gain),
            bool(plastic),
            bool(mirror),
            float(w_min),
            float(w_max),
        )
        self.projections[name] = proj
        return proj

    # -- index spaces -----------------------------------------------------------------
    def _ordered(self) -> list[Population]:
        pops = list(self.populations.values())
        return [p for p in pops if p.kind == "source"] + [p for p in pops if p.kind == "lif"]

    @property
    def n_units(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def n_sources(self) -> int:
        return sum(p.size for p in self.populations.values() if p.kind == "source")

    def unit_slice(self, name: str) -> slice:
        """Where population ``name`` lies among all units (sources first).

        Parameters
        ----------
        name : str
            A population of this network.

        Returns
        -------
        slice
            Its units along a result's ``unit`` dimension.

        Examples
        --------
        >>> net = Network(dt=1.0)
        >>> _ = net.add_lif("exc", 8)
        >>> _ = net.add_source("drive", 4)
        >>> net.unit_slice("exc"), net.neuron_slice("exc")
        (slice(4, 12, None), slice(0, 8, None))
        """
        start = 0
        for pop in self._ordered():
            if pop.name == name:
                return slice(start, start + pop.size)
            start += pop.size
        raise ValueError(f"{name!r} is not a population; have {sorted(self.populations)}")

    def neuron_slice(self, name: str) -> slice:
        """Where LIF population ``name`` lies among the LIF neurons only.

        Parameters
        ----------
        name : str
            A LIF population of this network.

        Returns
        -------
        slice
            Its neurons among the LIF neurons (the order of ``record_v`` and of the
            kernels' neuron arrays).
        """
        s = self.unit_slice(name)
        if self.populations[name].kind != "lif":
            raise ValueError(f"{name!r} is a source, not a LIF population")
        return slice(s.start - self.n_sources, s.stop - self.n_sources)

    def unit_labels(self) -> dict[str, np.ndarray]:
        """Per-unit ``population``, ``kind`` and ``ei`` labels, in unit order."""
        pops = self._ordered()
        return {
            "population": np.concatenate(
                [np.full(p.size, p.name, dtype=object) for p in pops]
            ).astype(str),
            "kind": np.concatenate([np.full(p.size, p.kind, dtype=object) for p in pops]).astype(
                str
            ),
            "ei": np.concatenate([np.full(p.size, p.ei, dtype=object) for p in pops]).astype(str),
        }

    def synapses(self) -> dict[str, np.ndarray]:
        """All synapses in projection order: global ``pre``/``post`` units, weights, projection."""
        pre, post, w, proj = [], [], [], []
        for k, pr in enumerate(self.projections.values()):
            pre.append(pr.pre_idx + self.unit_slice(pr.pre).start)
            post.append(pr.post_idx + self.unit_slice(pr.post).start)
            w.append(pr.weight)
            proj.append(np.full(pr.n_synapses, k, dtype=np.int32))
        if not pre:
            empty = np.zeros(0, dtype=np.int64)
            return {"pre": empty, "post": empty, "weight": np.zeros(0), "projection": empty}
        return {
            "pre": np.concatenate(pre),
            "post": np.concatenate(post),
            "weight": np.concatenate(w),
            "projection": np.concatenate(proj),
        }

    def config(self) -> dict:
        """A JSON-serialisable description (sizes and parameters, not the synapses)."""
        return {
            "dt": self.dt,
            "populations": [
                {
                    "name": p.name,
                    "size": p.size,
                    "kind": p.kind,
                    "ei": p.ei,
                    "params": asdict(p.params) if p.params is not None else None,
                }
                for p in self._ordered()
            ],
            "projections": [
                {
                    "name": pr.name,
                    "pre": pr.pre,
                    "post": pr.post,
                    "n_synapses": pr.n_synapses,
                    "receptor": pr.receptor,
                    "gain": pr.gain,
                    "plastic": pr.plastic,
                    "mirror": pr.mirror,
                    "w_min": pr.w_min if math.isfinite(pr.w_min) else None,
                    "w_max": pr.w_max if math.isfinite(pr.w_max) else None,
                }
                for pr in self.projections.values()
            ],
        }

    def run(self, duration: float, **kwargs):
        """Simulate; see :func:`neurodyn.spiking.simulate` for the arguments.

        Parameters
        ----------
        duration : float
            Simulated time per sample (ms), a multiple of ``dt``.
        **kwargs
            The keyword arguments of :func:`~neurodyn.spiking.simulate`.

        Returns
        -------
        xarray.Dataset
        """
        return simulate(self, duration, **kwargs)

    def __repr__(self) -> str:
        pops = ", ".join(f"{p.name}[{p.size}]" for p in self._ordered())
        n_syn = sum(pr.n_synapses for pr in self.projections.values())
        return f"Network(dt={self.dt} ms, {pops}, {n_syn} synapses)"
