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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._validation import check_positive

__all__ = ["STDP", "Astrocyte"]


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

    def __post_init__(self):
        check_positive("tau_pre", self.tau_pre)
        check_positive("tau_post", self.tau_post)
        for name in ("a_pre", "a_post", "rate_plus", "rate_minus"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must lie in (0, 1], got {self.lr_decay!r}")

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
}
