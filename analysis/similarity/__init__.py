r"""Comparing two systems: the geometry of their states and the dynamics that move them.

=======================  ==========================================================
module                   what it holds
=======================  ==========================================================
``cca``                  singular vector CCA between two networks' states
``procrustes``           Procrustes distance between two sets of states
``trajectories``         reading arrays, DataArrays and Datasets into trajectories
``hankel``               delay (Hankel) embedding
``dmd``                  reduced-rank DMD of embedded trajectories (HAVOK)
``vector_fields``        Procrustes analysis over vector fields (orthogonal
                         conjugation of two linear operators)
``dsa``                  Dynamical Similarity Analysis (Ostrow et al., NeurIPS 2023):
                         embedding, DMD, and the vector-field distance together
=======================  ==========================================================

Geometry (CCA, Procrustes) compares where two systems' states are on matched samples;
DSA compares how they move, and needs neither matched samples nor matched units.
"""

from .cca import CCASimilarity, cca_similarity
from .dmd import HavokDMD, havok_dmd
from .dsa import DSAResult, dsa
from .hankel import delay_embedding
from .procrustes import ProcrustesDistance, procrustes_distance
from .vector_fields import (
    AlignmentOptions,
    VectorFieldProcrustes,
    procrustes_vector_field_distance,
)

__all__ = [
    "AlignmentOptions",
    "CCASimilarity",
    "DSAResult",
    "HavokDMD",
    "ProcrustesDistance",
    "VectorFieldProcrustes",
    "cca_similarity",
    "delay_embedding",
    "dsa",
    "havok_dmd",
    "procrustes_distance",
    "procrustes_vector_field_distance",
]
