"""Spiking networks: a clock-driven LIF engine, liquid state machines and the NALSM.

Import as ``from neurodyn import spiking`` or ``import neurodyn.spiking``; figures
are in :mod:`neurodyn.plotting.spiking` (which loads matplotlib).

Engine
    :class:`Network` of :class:`LIF` populations, spike sources and sparse
    projections; :func:`simulate` (also ``Network.run``; ``run`` is its earlier
    name) simulates batches of samples on
    the C++, CUDA, Numba or NumPy backend; :class:`STDP`, :class:`Astrocyte` and
    :class:`ActivityGate`.
Liquid state machines
    :func:`build_liquid`, :class:`NALSM`, :class:`NALSMConfig`, readouts
    (:class:`LogisticReadout`, :func:`normalise_counts`), measures
    (:func:`branching_factor`, :func:`kernel_quality`, :func:`firing_rates`,
    :func:`isi_statistics`), data (:func:`load_digits`,
    :func:`images_to_probabilities`, :func:`add_pixel_noise`) and :func:`reproduce_nalsm`.
"""

from .data import add_pixel_noise, images_to_probabilities, load_digits
from .lif import simulate
from .liquid import Liquid, build_liquid
from .measures import branching_factor, firing_rates, isi_statistics, kernel_quality, spike_trains
from .nalsm import NALSM, NALSMConfig, liquid_counts
from .network import LIF, Network, Population, Projection
from .readout import LogisticReadout, fit_readout, normalise_counts
from .stdp import STDP, ActivityGate, Astrocyte

__all__ = [
    "LIF",
    "NALSM",
    "STDP",
    "ActivityGate",
    "Astrocyte",
    "Liquid",
    "LogisticReadout",
    "NALSMConfig",
    "Network",
    "Population",
    "Projection",
    "add_pixel_noise",
    "branching_factor",
    "build_liquid",
    "firing_rates",
    "fit_readout",
    "images_to_probabilities",
    "isi_statistics",
    "kernel_quality",
    "liquid_counts",
    "load_digits",
    "normalise_counts",
    "reproduce_nalsm",
    "run",
    "simulate",
    "spike_trains",
]


#: The engine's earlier name, kept for existing code.
run = simulate


def __getattr__(name):
    # The reproduction builds on this package (neurodyn.reproduce.nalsm imports it), so
    # importing it here eagerly would be an import cycle; it loads on first use.
    if name == "reproduce_nalsm":
        from ..reproduce.nalsm import reproduce_nalsm

        return reproduce_nalsm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
