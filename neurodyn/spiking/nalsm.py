r"""The neuron-astrocyte liquid state machine (NALSM; Ivanov & Michmizos, NeurIPS 2021).

A liquid (:mod:`neurodyn.spiking.liquid`) of LIF neurons driven by LIF input
neurons, one per pixel, whose synapses learn by astrocyte-modulated STDP
(:mod:`neurodyn.spiking.stdp`); a linear readout classifies each sample's
normalised spike counts (:mod:`neurodyn.spiking.readout`). models.md §3.

Neurons (all populations, the paper's constants; dt = 1 ms, forward Euler):

.. math::

    V_i \leftarrow V_i - \frac{V_i}{\tau_v} + \sum_j W_{ij} \frac{e^{-s_j/\tau_u}}{\tau_u} + I^\text{in}_i,

with :math:`\tau_v = 64` ms, :math:`V_\theta = 20`, reset to 0, two refractory steps
during which :math:`V` keeps integrating (minimum interspike interval 3 ms,
``t_ref=3``), and :math:`\tau_u = 1` ms. Pixel :math:`k` injects
:math:`I^\text{in}_k = 100` into input neuron :math:`k` with probability
:math:`p_k` per ms (:mod:`neurodyn.spiking.data`), which therefore spikes on the
next step. In the engine this is a delta synapse of weight 100 from a Poisson
source, and exponential synapses with gain :math:`\tau_v/\tau_u` so the weights
stay in the paper's units (``|W| <= 3``).

Protocol (§3.5):

1. :meth:`NALSM.initialise`: all ``|W| = 3``; present random training samples for
   20 ms each with astro-STDP on and no learning-rate decay, resetting the
   states but carrying the weights from sample to sample; keep the result as
   :math:`W_\text{INI}`.
2. :meth:`NALSM.features`: every sample starts from :math:`W_\text{INI}` and runs
   250 ms with astro-STDP whose rates decay by 0.99 per ms; its liquid spike
   counts are the features.

Baselines: ``plasticity="stdp"`` (the same protocol with plain, symmetric STDP,
:math:`A = A_+`, no astrocyte), ``plasticity="ap-stdp"`` (LSM+AP-STDP: the
initialisation phase with activity-dependent STDP, :class:`~neurodyn.spiking.ActivityGate`,
then fixed weights in the feature pass, as the authors' code runs it) and
``plasticity="none"`` (the fixed-weight LSM, no initialisation, one weight
magnitude ``w_init``). ``astro_density`` below 1 is the paper's sparse-astrocyte
ablation (Fig. 4): the astrocyte hears a random ``ceil(density * n)`` of the
liquid's neurons and of the input neurons.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from .._validation import check_choice, check_finite, check_int, check_positive
from ..seeding import make_rng, resolve_seed
from .liquid import Liquid, build_liquid
from .network import LIF, Network
from .stdp import STDP, ActivityGate, Astrocyte

__all__ = ["NALSM", "NALSMConfig", "liquid_counts"]

LIQUID = ("exc", "inh")
_ASTRO_UNITS_KEY = 1  # the sub-stream of "init" that draws the sparse astrocyte's units


@dataclass(frozen=True, kw_only=True)
class NALSMConfig:
    """Every constant of the NALSM, defaulting to the paper's NALSM1000 (MNIST).

    Parameters
    ----------
    grid : (int, int, int)
        Liquid grid (10x10x10: NALSM1000; 20x20x20: NALSM8000).
    e_fraction, lam, input_density : float
        Liquid construction (:func:`~neurodyn.spiking.liquid.build_liquid`).
    plasticity : {"astro", "stdp", "ap-stdp", "none"}
        NALSM, the LSM+STDP or LSM+AP-STDP baseline, or the fixed-weight LSM.
    w_init : float
        Initial ``|W|`` of every synapse (3, the bound, in the paper; the fixed LSM's
        hand-tuned magnitude, 0.4 to 1.4 in the paper's sweep).
    w_max : float
        Weight bound: E in [0, w_max], I in [-w_max, 0], input in [-w_max, w_max].
    w_astro, b_astro, tau_astro : float
        Astrocyte :math:`w_A` (0.015 for 1000 neurons, 0.0075 for 8000),
        :math:`b_A` (default :math:`A(0)`) and :math:`\\tau_A` (ms).
    astro_density : float
        Fraction of the liquid's and of the input neurons the astrocyte hears (1: all;
        the paper's ablation goes down to 0.1).
    ap_threshold, ap_width, tau_calcium : float
        AP-STDP's :math:`C_\\theta` (Hz), :math:`\\Delta C` and :math:`\\tau_C` (ms); 37
        and 19 to 25 for MNIST in the authors' runs (22 here), 1000 ms.
    a_plus, a_minus : float
        Initial STDP rates :math:`A_+` and :math:`A` (0.15).
    tau_stdp, trace_increment : float
        Trace time constant (ms) and increment.
    lr_decay : float
        Per-ms decay of the rates during the 250-ms samples (0.99).
    tau_v, v_th, t_ref, tau_u, input_current : float
        Neuron constants (ms and the paper's voltage units).
    sample_ms, init_ms : float
        Duration of a feature sample and of an initialisation sample (ms).
    dt : float
        Time step (ms); 1 in the paper. Every duration must be a multiple of it.

    Examples
    --------
    The baselines differ only in the plasticity they build: the NALSM's
    initialisation runs astrocyte-modulated STDP without rate decay, its feature
    pass with the 0.99-per-ms decay; the fixed-weight LSM has none.

    >>> cfg = NALSMConfig()
    >>> cfg.stdp(initialisation=True).lr_decay, cfg.stdp(initialisation=False).lr_decay
    (1.0, 0.99)
    >>> cfg.stdp(initialisation=False).astrocyte.w
    0.015
    >>> print(NALSMConfig(plasticity="none", w_init=1.0).stdp(initialisation=False))
    None
    """

    grid: tuple = (10, 10, 10)
    e_fraction: float = 0.8
    lam: float = 3.0
    input_density: float = 0.15
    plasticity: str = "astro"
    w_init: float = 3.0
    w_max: float = 3.0
    w_astro: float = 0.015
    b_astro: float | None = None
    tau_astro: float = 100.0
    astro_density: float = 1.0
    ap_threshold: float = 37.0
    ap_width: float = 22.0
    tau_calcium: float = 1000.0
    a_plus: float = 0.15
    a_minus: float = 0.15
    tau_stdp: float = 10.0
    trace_increment: float = 0.1
    lr_decay: float = 0.99
    tau_v: float = 64.0
    v_th: float = 20.0
    t_ref: float = 3.0
    tau_u: float = 1.0
    input_current: float = 100.0
    sample_ms: float = 250.0
    init_ms: float = 20.0
    dt: float = 1.0

    def __post_init__(self):
        check_choice("plasticity", self.plasticity, ("astro", "stdp", "ap-stdp", "none"))
        for name in ("w_init", "w_max", "tau_astro", "tau_stdp", "tau_v", "v_th", "t_ref",
                     "tau_u", "sample_ms", "init_ms", "dt", "ap_width", "tau_calcium"):  # fmt: skip
            check_positive(name, getattr(self, name))
        for name in ("a_plus", "a_minus", "trace_increment", "input_current"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if not math.isfinite(self.w_astro):
            raise ValueError(f"w_astro must be finite, got {self.w_astro!r}")
        if not 0.0 < self.astro_density <= 1.0:
            raise ValueError(f"astro_density must lie in (0, 1], got {self.astro_density!r}")
        if not math.isfinite(self.ap_threshold):
            raise ValueError(f"ap_threshold must be finite, got {self.ap_threshold!r}")
        if self.w_init > self.w_max:
            raise ValueError(f"w_init={self.w_init} exceeds the bound w_max={self.w_max}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")

    def stdp(self, *, initialisation: bool, astro_units: dict | None = None) -> STDP | None:
        """The plasticity of the initialisation phase or of the feature pass.

        Parameters
        ----------
        initialisation : bool
            ``True`` for the initialisation phase (no learning-rate decay), ``False``
            for the feature pass (rates decay by ``lr_decay`` per ms).
        astro_units : dict, optional
            The units the astrocyte hears, per population (``Astrocyte.units``; the
            sparse-astrocyte ablation, which :class:`NALSM` draws); default: all.

        Returns
        -------
        STDP or None
            With an :class:`~neurodyn.spiking.Astrocyte` driven by the liquid (+1)
            and input (-1) spikes for ``plasticity="astro"``, plain STDP for
            ``"stdp"``, activity-gated STDP for ``"ap-stdp"`` in the initialisation
            phase (its feature pass keeps the weights fixed: ``None``), ``None``
            for ``"none"``.
        """
        if self.plasticity == "none" or (self.plasticity == "ap-stdp" and not initialisation):
            return None
        astro = None
        if self.plasticity == "astro":
            astro = Astrocyte(
                w=self.w_astro,
                b=self.b_astro,
                tau=self.tau_astro,
                populations={"exc": 1, "inh": 1, "input": -1},
                units=astro_units or {},
            )
        activity = None
        if self.plasticity == "ap-stdp":
            activity = ActivityGate(
                threshold=self.ap_threshold, width=self.ap_width, tau=self.tau_calcium
            )
        return STDP(
            tau_pre=self.tau_stdp,
            tau_post=self.tau_stdp,
            a_pre=self.trace_increment,
            a_post=self.trace_increment,
            rate_plus=self.a_plus,
            rate_minus=self.a_minus,
            lr_decay=1.0 if initialisation else self.lr_decay,
            astrocyte=astro,
            activity=activity,
        )


class NALSM:
    """A NALSM (or one of its baselines): liquid, input layer and protocol.

    Parameters
    ----------
    n_inputs : int
        Input channels (pixels).
    config : NALSMConfig, optional
    seed : int or Generator
        Draws the liquid's structure.

    Examples
    --------
    >>> model = NALSM(16, NALSMConfig(grid=(4, 4, 4), sample_ms=20.0), seed=0)
    >>> p = np.full((2, 16), 0.2)
    >>> ds = model.initialise(p, n_samples=2, seed=0).features(p, seed=1)
    >>> liquid_counts(ds).shape
    (2, 64)
    """

    def __init__(self, n_inputs: int = 784, config: NALSMConfig | None = None, *, seed=0):
        self.config = NALSMConfig() if config is None else config
        if not isinstance(self.config, NALSMConfig):
            raise ValueError(f"config must be a NALSMConfig, got {type(self.config).__name__}")
        check_int("n_inputs", n_inputs)
        self.seed = resolve_seed(seed)
        c = self.config
        self.liquid: Liquid = build_liquid(
            c.grid, int(n_inputs), e_fraction=c.e_fraction, lam=c.lam,
            input_density=c.input_density, seed=self.seed,
        )  # fmt: skip
        self.network = self._build_network()
        self.astro_units = self._astro_units()
        self.initial_weights: np.ndarray | None = None

    @property
    def n_inputs(self) -> int:
        return self.liquid.n_inputs

    def _astro_units(self) -> dict:
        """The units the astrocyte hears: with ``astro_density < 1``, a random
        ``ceil(density * n)`` of the liquid's neurons (drawn over exc and inh
        together) and of the input neurons, as the paper's ablation draws them."""
        density = self.config.astro_density
        if density >= 1.0:
            return {}
        # the liquid draws from the bare "init" stream; this key keeps the two apart
        rng = make_rng(self.seed, "init", _ASTRO_UNITS_KEY)
        liq = self.liquid
        heard = np.sort(rng.permutation(liq.n)[: math.ceil(density * liq.n)])
        inputs = np.sort(rng.permutation(liq.n_inputs)[: math.ceil(density * liq.n_inputs)])
        n_exc = liq.n_exc
        return {
            "exc": tuple(int(i) for i in heard[heard < n_exc]),
            "inh": tuple(int(i) - n_exc for i in heard[heard >= n_exc]),
            "input": tuple(int(i) for i in inputs),
        }

    def _build_network(self) -> Network:
        c, liq = self.config, self.liquid
        neuron = LIF(
            tau_m=c.tau_v, v_rest=0.0, v_th=c.v_th, v_reset=0.0, t_ref=c.t_ref,
            tau_syn_e=c.tau_u, tau_syn_i=c.tau_u, clamp_refractory=False, method="euler",
        )  # fmt: skip
        net = Network(dt=c.dt)
        net.add_source("pixels", liq.n_inputs)
        net.add_lif("input", liq.n_inputs, neuron)
        n_exc = liq.n_exc
        net.add_lif("exc", n_exc, neuron, ei="E", positions=liq.positions[:n_exc])
        net.add_lif("inh", liq.n - n_exc, neuron, ei="I", positions=liq.positions[n_exc:])
        net.connect("pixels", "input", one_to_one=True, weight=c.input_current, receptor="delta")
        plastic = c.plasticity != "none"
        gain = c.tau_v / c.tau_u  # the paper's W e^{-s/tau_u}/tau_u enters V directly
        w, wm = c.w_init, c.w_max
        for post, lo, hi in (("exc", 0, n_exc), ("inh", n_exc, liq.n)):
            keep = (liq.input_post >= lo) & (liq.input_post < hi)
            net.connect(
                "input", post, pairs=(liq.input_pre[keep], liq.input_post[keep] - lo),
                weight=w * liq.input_sign[keep], gain=gain, plastic=plastic, w_min=-wm, w_max=wm,
            )  # fmt: skip
        for pre, plo, phi, sign in (("exc", 0, n_exc, 1.0), ("inh", n_exc, liq.n, -1.0)):
            for post, lo, hi in (("exc", 0, n_exc), ("inh", n_exc, liq.n)):
                keep = (liq.pre >= plo) & (liq.pre < phi) & (liq.post >= lo) & (liq.post < hi)
                net.connect(
                    pre, post, pairs=(liq.pre[keep] - plo, liq.post[keep] - lo),
                    weight=sign * w, receptor="e" if sign > 0 else "i", gain=gain,
                    plastic=plastic, mirror=sign < 0,
                    w_min=0.0 if sign > 0 else -wm, w_max=wm if sign > 0 else 0.0,
                )  # fmt: skip
        return net

    def _check_inputs(self, probabilities) -> np.ndarray:
        p = check_finite("probabilities", np.asarray(probabilities, dtype=np.float64))
        if p.ndim != 2 or p.shape[1] != self.n_inputs:
            raise ValueError(
                f"probabilities must have shape (n_samples, {self.n_inputs}) for this model's "
                f"{self.n_inputs} inputs, got {p.shape}"
            )
        if p.shape[0] == 0 or np.any(p < 0) or np.any(p > 1):
            raise ValueError("probabilities must be a non-empty array of values in [0, 1] per ms")
        return p

    def _rates(self, p: np.ndarray) -> np.ndarray:
        return p * 1000.0  # per-ms probability -> Hz, what the Poisson sources take

    def initialise(
        self, probabilities, n_samples: int | None = None, *, seed=0, backend: str = "auto",
        progress: bool = False,
    ) -> NALSM:  # fmt: skip
        """Run the initialisation phase and keep its weights as the per-sample start.

        Parameters
        ----------
        probabilities : array (n_images, n_inputs)
            Training inputs (:func:`~neurodyn.spiking.data.images_to_probabilities`).
        n_samples : int, optional
            Presentations of ``init_ms`` each, drawn at random with replacement
            (50 000 in the paper); default: one per image.
        seed : int or Generator
            Chooses the presentations and their input spikes.
        backend : {"auto", "cpp", "cuda", "numba", "numpy"}
            The engine's backend (:func:`~neurodyn.spiking.simulate`).
        progress : bool or {"auto", "never", "always"}
            Show a progress bar (:mod:`neurodyn.progress`).

        Returns
        -------
        NALSM
            ``self``, with :attr:`initial_weights` set (a no-op without plasticity).
        """
        p = self._check_inputs(probabilities)
        if self.config.plasticity == "none":
            return self
        n_samples = p.shape[0] if n_samples is None else check_int("n_samples", n_samples)
        seed = resolve_seed(seed)
        pick = make_rng(seed, "data").integers(0, p.shape[0], n_samples)
        ds = self.network.run(
            self.config.init_ms, rates={"pixels": self._rates(p[pick])},
            stdp=self.config.stdp(initialisation=True, astro_units=self.astro_units),
            carry_weights=True, record_spikes=False,
            return_weights=True, backend=backend, seed=seed, progress=progress,
        )  # fmt: skip
        self.initial_weights = ds["weights"].values.copy()
        return self

    def features(
        self, probabilities, *, sample_ids=None, record_spikes: bool = False,
        batch_size: int = 250, backend: str = "auto", seed=0, progress: bool = False,
    ) -> xr.Dataset:  # fmt: skip
        """Simulate every sample for ``sample_ms`` from the initial weights.

        Parameters
        ----------
        probabilities : array (n_samples, n_inputs)
        sample_ids : array of int, optional
            Indices of the samples in their data set (they seed each sample's input
            spikes, so train and test samples should have distinct ids).
        record_spikes : bool
            Keep every spike (needed for the branching factor).
        batch_size : int
            Samples per kernel call.
        backend : {"auto", "cpp", "cuda", "numba", "numpy"}
            The engine's backend (:func:`~neurodyn.spiking.simulate`).
        seed : int or Generator
            Seeds the samples' input spikes (with ``sample_ids``).
        progress : bool or {"auto", "never", "always"}
            Show a progress bar over batches (:mod:`neurodyn.progress`).

        Returns
        -------
        xarray.Dataset
            As :func:`neurodyn.spiking.simulate`; :func:`liquid_counts` extracts the features.
        """
        p = self._check_inputs(probabilities)
        if self.config.plasticity != "none" and self.initial_weights is None:
            raise ValueError("call initialise() before features(): the protocol starts from W_INI")
        ds = self.network.run(
            self.config.sample_ms, rates={"pixels": self._rates(p)},
            stdp=self.config.stdp(initialisation=False, astro_units=self.astro_units),
            weights=self.initial_weights,
            record_spikes=record_spikes, sample_ids=sample_ids, batch_size=batch_size,
            backend=backend, seed=seed, progress=progress,
        )  # fmt: skip
        ds.attrs["nalsm"] = _json(asdict(self.config))
        return ds

    def adjacency(self):
        """``A[post, pre]`` of the liquid's recurrent synapses (liquid indices)."""
        return self.liquid.adjacency()


def liquid_counts(ds: xr.Dataset) -> np.ndarray:
    """Spike counts of the liquid neurons, (n_samples, n_liquid), in liquid order.

    Parameters
    ----------
    ds : xarray.Dataset
        A NALSM simulation (:meth:`NALSM.features`), whose units carry the
        populations ``pixels``, ``input``, ``exc`` and ``inh``.

    Returns
    -------
    array of int (n_samples, n_liquid)
        The counts of the ``exc`` then ``inh`` neurons: the readout's features
        before :func:`~neurodyn.spiking.normalise_counts`.

    Examples
    --------
    A fixed-weight LSM of 27 neurons on 16 inputs; the pixel sources and the input
    neurons are left out:

    >>> model = NALSM(16, NALSMConfig(grid=(3, 3, 3), plasticity="none", w_init=1.0,
    ...                               sample_ms=20.0), seed=0)
    >>> ds = model.features(np.full((2, 16), 0.2), seed=1, backend="numpy")
    >>> ds.sizes["unit"], liquid_counts(ds).shape
    (59, (2, 27))
    """
    keep = np.isin(ds["population"].values, LIQUID)
    return ds["counts"].values[:, keep]


def _json(cfg: dict) -> str:
    import json

    return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()})
