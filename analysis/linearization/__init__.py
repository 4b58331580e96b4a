"""Linearization around a state: Jacobians, their eigenmodes and the stability label.

``linearize`` holds the public functions; ``kernel`` the eigensolver they call (the
compiled one, with NumPy's ``eig`` as its reference).
"""

from .linearize import Linearization, classify, eigenmodes, linearize, spectrum

__all__ = ["Linearization", "classify", "eigenmodes", "linearize", "spectrum"]
