"""Sweeps: many networks trained and analysed at once, on dask.distributed.

A sweep is a base run (task, model, training, the analyses after training) and its
variations (a grid of values and/or a list of points), written as TOML or a dict
(:mod:`neurodyn.sweeps.spec`). :func:`sweep` runs every point as ``neurodyn train`` +
``neurodyn analyze`` would, each in its own run folder, on a local or existing dask
cluster (:mod:`neurodyn.sweeps.engine`, :mod:`neurodyn.sweeps.point`), and gathers one
labelled Dataset along ``run`` (:mod:`neurodyn.sweeps.gather`); :func:`open_sweep`
reads it back.

========================  ==================================================
module                    holds
========================  ==================================================
``spec``                  the specification: parsing, validation, points
``point``                 one run on a worker: train, analyse, summarise
``packs``                 small runs of rate networks trained together
``engine``                the cluster, skipping and resuming, failures
``gather``                ``sweep.nc`` and :func:`open_sweep`
``workers``               the local workers' dask settings and fork server
``preload``               what the fork server loads once for all runs
========================  ==================================================

dask.distributed is imported when a sweep runs (``pip install neurodyn[dask]``).
"""

from .._lazy import lazy_attributes

#: Public name → the module that defines it. Imported on first use (PEP 562), so that
#: ``neurodyn sweep`` can start the workers' fork server (:mod:`.workers`) before this
#: process loads PyTorch for the engine.
_ATTRIBUTES = {
    "ANALYSES": ".spec",
    "SweepFailed": ".engine",
    "SweepSpec": ".spec",
    "load_spec": ".spec",
    "open_sweep": ".gather",
    "sweep": ".engine",
}

__all__ = sorted(_ATTRIBUTES)
__getattr__, __dir__ = lazy_attributes(__name__, _ATTRIBUTES)
