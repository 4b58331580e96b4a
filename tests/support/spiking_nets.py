"""Small networks shared by the spiking tests, and the backends to compare them on."""

import numpy as np

from neurodyn.backends import available_backends
from neurodyn.spiking import LIF, STDP, Astrocyte, Network

#: Every fast backend available here, each compared with the NumPy reference.
FAST_BACKENDS = [b for b in available_backends() if b != "numpy"]


def mixed_network(seed: int = 0) -> Network:
    """Sources, two LIF populations (clamped and not), delays, delta, e and i
    receptors, plastic, mirrored and fixed projections: every kernel branch."""
    net = Network(dt=0.5)
    net.add_source("src", 12)
    net.add_source("tick", 3)
    net.add_lif(
        "exc",
        20,
        LIF(
            tau_m=15.0,
            v_th=10.0,
            t_ref=1.5,
            tau_syn_e=2.0,
            tau_syn_i=4.0,
            clamp_refractory=False,
            v_init=(0.0, 9.0),
        ),
        ei="E",
    )
    net.add_lif(
        "inh", 6, LIF(tau_m=8.0, v_th=8.0, t_ref=1.0, bias=1.0, method="exponential"), ei="I"
    )
    net.connect("src", "exc", p=0.4, weight=6.0, seed=seed + 1, plastic=True, w_min=-12, w_max=12)
    net.connect(
        "tick", "inh", pairs=([0, 1, 2], [0, 2, 4]), weight=9.0, receptor="delta", delay=1.0
    )
    net.connect(
        "exc", "exc", p=0.2, weight=3.0, delay=1.0, seed=seed + 2, plastic=True, w_max=6.0, w_min=0
    )
    net.connect("exc", "inh", p=0.5, weight=4.0, seed=seed + 3)
    net.connect(
        "inh",
        "exc",
        p=0.5,
        weight=-5.0,
        receptor="i",
        seed=seed + 4,
        plastic=True,
        mirror=True,
        w_min=-10,
        w_max=0.0,
    )
    return net


def mixed_inputs(n_samples: int = 3, n_steps: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.0, 150.0, (n_samples, 12))
    ticks = rng.random((n_samples, n_steps, 3)) < 0.05
    return {"src": rates}, {"tick": ticks}


ASTRO_STDP = STDP(
    rate_plus=0.2, rate_minus=0.1, lr_decay=0.995,
    astrocyte=Astrocyte(w=0.02, tau=20.0, populations={"exc": 1, "inh": 1, "src": -1}),
)  # fmt: skip
