"""Reproductions of the papers neurodyn's model families come from.

``neurodyn reproduce NAME`` runs one; :data:`REPRODUCTIONS` is the registry the
command line reads (name → ``module:function``).

================  ===========================================================
module            paper
================  ===========================================================
``timescales``    Khajehabdollahi et al., ICLR 2024 (timescale-trained RNNs)
``wave_rnn``      Keller et al., ICLR 2024 (wave-RNNs)
``nalsm``         Ivanov & Michmizos, NeurIPS 2021 (spiking NALSM)
``rnns_of_rnns``  Kozachkov et al., NeurIPS 2022 (RNNs of RNNs)
================  ===========================================================

The modules are imported on first use: each trains models and loads its family.
"""

import importlib

#: ``neurodyn reproduce NAME`` → ``module:function(out_dir, *, quick, seed, progress)``.
REPRODUCTIONS = {
    "timescales": "neurodyn.reproduce.timescales:reproduce_timescales",
    "nalsm": "neurodyn.reproduce.nalsm:reproduce_nalsm",
    "rnns-of-rnns": "neurodyn.reproduce.rnns_of_rnns:reproduce_rnns_of_rnns",
    "wave-rnn": "neurodyn.reproduce.wave_rnn:reproduce_wave_rnn",
}

_ATTRIBUTES = {
    "reproduce_timescales": "timescales",
    "reproduce_wave_rnn": "wave_rnn",
    "reproduce_nalsm": "nalsm",
    "reproduce_rnns_of_rnns": "rnns_of_rnns",
}

__all__ = sorted(["REPRODUCTIONS", *_ATTRIBUTES])


def __getattr__(name):
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
