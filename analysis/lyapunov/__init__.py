"""Lyapunov spectra: ``spectrum`` holds :func:`lyapunov_spectrum` and its result,
``stepper`` the tangent-space integration with adaptive re-orthonormalisation."""

from .spectrum import LyapunovSpectrum, lyapunov_spectrum

__all__ = ["LyapunovSpectrum", "lyapunov_spectrum"]
