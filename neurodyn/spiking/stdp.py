r"""Spike-timing-dependent plasticity with traces, optionally astrocyte-modulated.

Every unit carries a presynaptic trace :math:`x` and a postsynaptic trace
:math:`y`, updated each step *after* the weights (the NALSM convention: a spike
raises the trace, then it decays)

.. math::

    x_u \leftarrow e^{-dt/\tau_\text{pre}} (x_u + a_\text{pre} S_u), \qquad
    y_u \leftarrow e^{-dt/\tau_\text{post}} (y_u + a_\text{post} S_u),

so a weight changes only for pairs of spikes in *different* steps. Each step,
every plastic synapse :math:`j \to i` with a spike at either end changes by

.. math::

    \Delta w_{ij} = \eta_+ x_j S_i - \eta_- y_i S_j
    \quad\text{or, for a mirrored projection,}\quad
    \Delta w_{ij} = -(\eta_- x_j S_i - \eta_+ y_i S_j),

and is clipped to the projection's ``[w_min, w_max]``. Mirrored projections
are the NALSM's inhibitory synapses (:math:`w \le 0`): causal pairing makes
inhibition stronger at rate :math:`\eta_-`, anti-causal pairing weakens it at
rate :math:`\eta_+` (Ivanov & Michmizos 2021, models.md §3.4).

With an :class:`Astrocyte`, the depression rate :math:`\eta_-` of each sample
follows one scalar state (paper eq. 7):

.. math::

    \eta_- \leftarrow \eta_- + \frac{w_A \sum_u \sigma_u S_u + b_A - \eta_-}{\tau_A / dt},

where :math:`\sigma_u = +1` for the liquid, :math:`-1` for the input neurons
(liquid spikes in excess of input spikes raise depression). Finally
:math:`\eta_+, \eta_-, w_A, b_A` are all multiplied by ``lr_decay`` every ms, so
plasticity fades within a sample (0.99 in the paper's feature pass).

With an :class:`ActivityGate` (activity-dependent STDP, the NALSM paper's
LSM+AP-STDP baseline), every neuron also carries a calcium-like rate estimate

.. math::

    C_i \leftarrow e^{-dt/\tau_C} C_i + S_i,

updated after the step's spikes and before the weights (with
:math:`\tau_C = 1000` ms, :math:`C_i` reads as the neuron's rate in Hz), and the
two terms of :math:`\Delta w_{ij}` above pass according to the postsynaptic
:math:`C_i`: in the potentiation window :math:`C_\theta < C_i < C_\theta + \Delta C`
only a term that increases :math:`w_{ij}` passes, in the depression window
:math:`C_\theta - \Delta C < C_i < C_\theta` only one that decreases it, and
outside both nothing changes. The calcium starts at 0 in every sample, except
with ``carry_weights``, where it is carried from sample to sample with the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_positive

__all__ = ["STDP", "ActivityGate", "Astrocyte"]


@dataclass(frozen=True, kw_only=True)
class Astrocyte:
    r"""The NALSM astrocyte: a per-sample controller of the STDP depression rate.

    Parameters
    ----------
    w : float
        :math:`w_A`, the gain on the signed spike count (``ASTRO_W_SCALING``;
        0.015 for 1000-neuron liquids in the paper).
    b : float or None
        :math:`b_A`; ``None`` uses the STDP's initial ``rate_minus`` (the paper's
        :math:`b_A = A(0)`).
    tau : float
        :math:`\tau_A` (ms).
    populations : mapping of str to {+1, -1}
        The sign :math:`\sigma` of each population's spikes; unlisted populations
        do not drive the astrocyte.
    units : mapping of str to sequence of int, optional
        For a listed population, the local indices of the units that drive the
        astrocyte (the others' :math:`\sigma` is 0: the paper's sparse-astrocyte
        ablation); a population not in ``units`` drives it with every unit.

    Examples
    --------
    One input spike at 5 ms makes the postsynaptic neuron fire at 6 ms. With
    :math:`w_A = 0.5`, :math:`\tau_A = 10` ms and :math:`b_A = \eta_-(0) = 0.15`, that
    spike raises the depression rate by :math:`(0.5 + 0.15 - 0.15)/10 = 0.05`, after
    which it relaxes back to :math:`b_A` by a tenth of the gap per ms:

    >>> import numpy as np
    >>> from neurodyn.spiking import LIF, STDP, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_source("pre", 1)
    >>> _ = net.add_lif("post", 1, LIF(tau_m=10.0, v_th=1.0))
    >>> _ = net.connect("pre", "post", one_to_one=True, weight=5.0, receptor="delta",
    ...                 plastic=True, w_max=10.0)
    >>> train = np.zeros((20, 1))
    >>> train[5] = 1
    >>> astro = Astrocyte(w=0.5, tau=10.0, populations={"post": 1})
    >>> ds = net.run(20.0, spikes={"pre": train}, stdp=STDP(astrocyte=astro),
    ...              record_v="post", backend="numpy")
    >>> np.round(ds["depression_rate"].values[0, 5:8], 4).tolist()
    [0.15, 0.2, 0.195]
    """

    w: float = 0.015
    b: float | None = None
    tau: float = 100.0
    populations: Mapping[str, int] = field(default_factory=dict)
    units: Mapping[str, tuple] = field(default_factory=dict)

    def __post_init__(self):
        if not math.isfinite(self.w):
            raise ValueError(f"astrocyte w must be finite, got {self.w!r}")
        if self.b is not None and not math.isfinite(self.b):
            raise ValueError(f"astrocyte b must be finite, got {self.b!r}")
        check_positive("tau", self.tau)
        for name, sign in self.populations.items():
            if sign not in (-1, 1):
                raise ValueError(
                    f"astrocyte sign of population {name!r} must be +1 or -1, got {sign!r}"
                )
        for name, idx in self.units.items():
            if name not in self.populations:
                raise ValueError(
                    f"astrocyte units name population {name!r}, which is not in populations "
                    f"{sorted(self.populations)}"
                )
            if not all(isinstance(i, (int, np.integer)) and i >= 0 for i in idx):
                raise ValueError(
                    f"astrocyte units[{name!r}] must be non-negative ints (local indices)"
                )
        # tuples of ints: hashable, comparable and JSON-friendly
        object.__setattr__(
            self, "units", {k: tuple(int(i) for i in v) for k, v in self.units.items()}
        )


@dataclass(frozen=True, kw_only=True)
class ActivityGate:
    r"""Activity-dependent gating of STDP (AP-STDP; see the module docstring).

    The NALSM paper's LSM+AP-STDP baseline (after Ivanov & Michmizos's earlier
    work): a neuron's incoming synapses only potentiate while its rate estimate
    :math:`C` lies just above :math:`C_\theta` and only depress while it lies just
    below, so each neuron's rate is pushed away from :math:`C_\theta` within
    :math:`\pm\Delta C` and learning stops outside.

    Parameters
    ----------
    threshold : float
        :math:`C_\theta` (37 for MNIST in the paper).
    width : float
        :math:`\Delta C`, the width of each window (19 to 25 for MNIST).
    tau : float
        :math:`\tau_C` (ms); 1000 ms makes :math:`C` the rate in Hz.

    Examples
    --------
    With :math:`\tau_C = 1000` ms the rate estimate loses a thousandth of itself per
    1-ms step, so a neuron firing at :math:`r` Hz settles near :math:`C = r`:

    >>> gate = ActivityGate(threshold=37.0, width=22.0)
    >>> round(STDP(activity=gate).kernel_values(1.0)["calcium_decay"], 6)
    0.999
    """

    threshold: float = 37.0
    width: float = 22.0
    tau: float = 1000.0

    def __post_init__(self):
        if not math.isfinite(self.threshold):
            raise ValueError(f"activity threshold must be finite, got {self.threshold!r}")
        check_positive("width", self.width)
        check_positive("tau", self.tau)


@dataclass(frozen=True, kw_only=True)
class STDP:
    """Pair-based STDP with traces (see the module docstring for the equations).

    Parameters
    ----------
    tau_pre, tau_post : float
        Trace time constants (ms); 10 ms in the NALSM.
    a_pre, a_post : float
        Trace increments per spike (0.1 in the NALSM).
    rate_plus, rate_minus : float
        Initial potentiation and depression rates :math:`\\eta_+` and :math:`\\eta_-`
        (:math:`A_+` and :math:`A`, 0.15 in the NALSM).
    lr_decay : float
        Factor applied to the rates (and the astrocyte's ``w``, ``b``) every ms;
        1 keeps them constant.
    astrocyte : Astrocyte or None
        Makes :math:`\\eta_-` follow the astrocyte; ``None`` keeps it fixed (plain STDP).
    activity : ActivityGate or None
        Gates every update by the postsynaptic neuron's rate (AP-STDP).

    Examples
    --------
    A causal pair: the input spike at 5 ms makes the neuron fire at 6 ms, when the
    presynaptic trace is :math:`a_\\text{pre} e^{-dt/\\tau_\\text{pre}}`, so the weight grows
    by :math:`\\eta_+ a_\\text{pre} e^{-1/10}`:

    >>> import numpy as np
    >>> from neurodyn.spiking import LIF, Network
    >>> net = Network(dt=1.0)
    >>> _ = net.add_source("pre", 1)
    >>> _ = net.add_lif("post", 1, LIF(tau_m=10.0, v_th=1.0))
    >>> _ = net.connect("pre", "post", one_to_one=True, weight=5.0, receptor="delta",
    ...                 plastic=True, w_max=10.0)
    >>> train = np.zeros((20, 1))
    >>> train[5] = 1
    >>> rule = STDP(rate_plus=0.15, a_pre=0.1, tau_pre=10.0)
    >>> ds = net.run(20.0, spikes={"pre": train}, stdp=rule, return_weights=True,
    ...              backend="numpy")
    >>> ds["spike_time"].values.tolist()
    [5.0, 6.0]
    >>> dw = ds["weights"].values[0, 0] - 5.0
    >>> bool(np.isclose(dw, 0.15 * 0.1 * np.exp(-0.1)))
    True
    """

    tau_pre: float = 10.0
    tau_post: float = 10.0
    a_pre: float = 0.1
    a_post: float = 0.1
    rate_plus: float = 0.15
    rate_minus: float = 0.15
    lr_decay: float = 1.0
    astrocyte: Astrocyte | None = None
    activity: ActivityGate | None = None

    def __post_init__(self):
        check_positive("tau_pre", self.tau_pre)
        check_positive("tau_post", self.tau_post)
        for name in ("a_pre", "a_post", "rate_plus", "rate_minus"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")
        for name, kind in (("astrocyte", Astrocyte), ("activity", ActivityGate)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise ValueError(
                    f"{name} must be an {kind.__name__} or None, got {type(value).__name__}"
                )

    def kernel_values(self, dt: float) -> dict:
        """The per-step constants the kernels use for step ``dt`` (ms).

        Parameters
        ----------
        dt : float
            Time step (ms).

        Returns
        -------
        dict
            Trace decays :math:`e^{-dt/\\tau}` and increments, initial rates, the
            astrocyte's constants (``astro_tau`` in steps) and the per-step
            ``lr_decay``.

        Examples
        --------
        >>> k = STDP(tau_pre=10.0).kernel_values(1.0)
        >>> round(k["pre_decay"], 6), k["astro_on"]
        (0.904837, 0)
        """
        astro = self.astrocyte
        return {
            "stdp_on": 1,
            "pre_decay": math.exp(-dt / self.tau_pre),
            "pre_inc": float(self.a_pre),
            "post_decay": math.exp(-dt / self.tau_post),
            "post_inc": float(self.a_post),
            "rate_plus0": float(self.rate_plus),
            "rate_minus0": float(self.rate_minus),
            "astro_on": int(astro is not None),
            "astro_w": float(astro.w) if astro else 0.0,
            "astro_b": float(self.rate_minus if astro is None or astro.b is None else astro.b),
            "astro_tau": float(astro.tau / dt) if astro else 1.0,
            "lr_decay": float(self.lr_decay ** (dt / 1.0)),
            **_activity_values(self.activity, dt),
        }


def _activity_values(gate: ActivityGate | None, dt: float) -> dict:
    """The kernels' constants of the activity gate (off: never gates)."""
    if gate is None:
        return {"ap_on": 0, "ap_theta": 0.0, "ap_width": 0.0, "calcium_decay": 1.0}
    return {
        "ap_on": 1,
        "ap_theta": float(gate.threshold),
        "ap_width": float(gate.width),
        "calcium_decay": math.exp(-dt / gate.tau),
    }


#: Kernel values when plasticity is off.
NO_STDP = {
    "stdp_on": 0,
    "pre_decay": 1.0,
    "pre_inc": 0.0,
    "post_decay": 1.0,
    "post_inc": 0.0,
    "rate_plus0": 0.0,
    "rate_minus0": 0.0,
    "astro_on": 0,
    "astro_w": 0.0,
    "astro_b": 0.0,
    "astro_tau": 1.0,
    "lr_decay": 1.0,
    **_activity_values(None, 1.0),
}
