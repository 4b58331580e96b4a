"""Reproductions of the papers neurodyn's model families come from.

Each is a :class:`~neurodyn.reproduce.harness.Reproduction`: a short declaration of
its configurations, the paper's numbers, how to run it, the result tables, the claims
checked on the run and the figure; the harness runs it and writes the reports.
``neurodyn reproduce NAME`` runs one; :data:`REPRODUCTIONS` is the registry the
command line reads, and :func:`get_reproduction` loads one by name.

==================  =========================================================
module              paper
==================  =========================================================
``timescales``      Khajehabdollahi et al., ICLR 2024 (timescale-trained RNNs)
``wave_rnn``        Keller et al., ICLR 2024 (wave-RNNs)
``nalsm``           Ivanov & Michmizos, NeurIPS 2021 (spiking NALSM)
``rnns_of_rnns``    Kozachkov et al., NeurIPS 2022 (RNNs of RNNs)
``yang2019``        Yang et al., Nat. Neurosci. 2019 (20 tasks, one network; NeuroGym)
``ground_truth``    CtDB-style validation: students fitted to a flip-flop teacher's spikes
``sussillo2013``    Sussillo & Barak, Neural Comput. 2013 (the sine-wave generator: fixed
                    points with an unstable complex pair, limit cycles)
``mante2013``       Mante, Sussillo, Shenoy & Newsome, Nature 2013 (context-dependent
                    integration: a line attractor per context, its selection vector)
``ring_attractor``  Head direction (Cueva et al., ICLR 2020; Zhang 1996): a ring of slow
                    points that holds every heading and integrates angular velocity
==================  =========================================================

The modules are imported on first use: each trains models and loads its family
(torch, matplotlib), which ``import neurodyn`` and the command line's start-up avoid.
"""

import importlib

from .._validation import check_choice

#: ``neurodyn reproduce NAME`` → ``module:ATTRIBUTE``, the
#: :class:`~neurodyn.reproduce.harness.Reproduction` (callable as
#: ``reproduction(out_dir, *, quick, seed, progress, device, threads)``).
REPRODUCTIONS = {
    "timescales": "neurodyn.reproduce.timescales:TIMESCALES",
    "nalsm": "neurodyn.reproduce.nalsm:NALSM_REPRODUCTION",
    "rnns-of-rnns": "neurodyn.reproduce.rnns_of_rnns:RNNS_OF_RNNS",
    "wave-rnn": "neurodyn.reproduce.wave_rnn:WAVE_RNN",
    "yang2019": "neurodyn.reproduce.yang2019:YANG2019",
    "ground-truth": "neurodyn.reproduce.ground_truth:GROUND_TRUTH",
    "sussillo2013": "neurodyn.reproduce.sussillo2013:SUSSILLO2013",
    "mante2013": "neurodyn.reproduce.mante2013:MANTE2013",
    "ring-attractor": "neurodyn.reproduce.ring_attractor:RING_ATTRACTOR",
}

_ATTRIBUTES = {
    "reproduce_timescales": "timescales",
    "reproduce_wave_rnn": "wave_rnn",
    "reproduce_nalsm": "nalsm",
    "reproduce_rnns_of_rnns": "rnns_of_rnns",
    "reproduce_yang2019": "yang2019",
    "reproduce_ground_truth": "ground_truth",
    "reproduce_sussillo2013": "sussillo2013",
    "reproduce_mante2013": "mante2013",
    "reproduce_ring_attractor": "ring_attractor",
}

__all__ = sorted(["REPRODUCTIONS", "get_reproduction", *_ATTRIBUTES])


def get_reproduction(name: str):
    """The :class:`~neurodyn.reproduce.harness.Reproduction` called ``name`` (a key of
    :data:`REPRODUCTIONS`); ValueError suggesting the closest name otherwise.

    Parameters
    ----------
    name : str
        Its name on the command line (``neurodyn reproduce NAME``).

    Returns
    -------
    Reproduction

    Examples
    --------
    >>> rep = get_reproduction("sussillo2013")
    >>> rep.stem, rep.quick.seeds, len(rep.claims) > 0
    ('sussillo2013', 1, True)
    >>> try:
    ...     get_reproduction("wave_rnn")
    ... except ValueError as err:
    ...     "wave-rnn" in str(err)
    True
    """
    module, attribute = REPRODUCTIONS[check_choice("family", name, REPRODUCTIONS)].split(":")
    return getattr(importlib.import_module(module), attribute)


def __getattr__(name):
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
