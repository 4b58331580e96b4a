r"""Analyses of networks trained on many tasks (Yang et al., Nat. Neurosci. 2019).

==================  =============================================================
module              what it holds
==================  =============================================================
``activity``        reading simulated activity of many tasks (one Dataset with a task
                    coordinate, or a mapping task → activity) and its time windows
``variance``        task variance of each unit in each task, normalised, the active
                    units, and the fractional task variance between two tasks
``clustering``      k-means clustering of the active units by normalised task
                    variance, k chosen by the silhouette score
``composition``     task representations and their composition
                    (Anti − Go + Dly Go ≈ Dly Anti)
==================  =============================================================
"""

from .clustering import cluster_task_variance
from .composition import task_composition, task_representation
from .variance import fractional_task_variance, normalize_task_variance, task_variance

__all__ = [
    "cluster_task_variance",
    "fractional_task_variance",
    "normalize_task_variance",
    "task_composition",
    "task_representation",
    "task_variance",
]
