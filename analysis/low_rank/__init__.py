r"""Analyses of low-rank networks :math:`J = mn^\top/N`
(:class:`~neurodyn.rnn_models.LowRankRNN`).

=================  ==================================================================
module             what it holds
=================  ==================================================================
``population``     the units' loading vectors as a Dataset, and their Gaussian-mixture
                   structure (number of populations by BIC)
``latent``         the exact latent dynamics of κ (and the filtered inputs v) for states
                   in the span of m and I: phase portraits for R ≤ 2
``mean_field``     the mean-field self-consistency of a Gaussian-mixture network
                   (Gauss–Hermite quadrature) and its fixed points beside the network's
=================  ==================================================================
"""

from .latent import LatentDynamics, latent_coordinates, latent_dynamics
from .mean_field import LowRankFixedPoints, low_rank_fixed_points, mean_field_dynamics
from .population import LoadingMixture, loading_mixture, loading_population

__all__ = [
    "LatentDynamics",
    "LoadingMixture",
    "LowRankFixedPoints",
    "latent_coordinates",
    "latent_dynamics",
    "loading_mixture",
    "loading_population",
    "low_rank_fixed_points",
    "mean_field_dynamics",
]
