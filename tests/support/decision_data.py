"""Decision trials drawn from a known logistic psychometric function."""

import numpy as np
import xarray as xr


def decision_dataset(seed=0, n=600, bias=2.0, slope=0.1, gt_values=(0, 1)):
    """Trials at coherences ±{0, 6.4, 12.8, 25.6} whose choice of the positive side has
    probability 1 / (1 + exp(-slope (signed coherence - bias))).

    Returns the Dataset (``coherence``, ``ground_truth``, ``choice`` along ``trial``),
    the signed coherences and whether each trial chose the positive side.
    """
    rng = np.random.default_rng(seed)
    coh = rng.choice([0.0, 6.4, 12.8, 25.6], n)
    side = rng.integers(0, 2, n)
    signed = np.where(side == 1, coh, -coh)
    p = 1 / (1 + np.exp(-slope * (signed - bias)))
    chose_pos = rng.random(n) < p
    gt = np.where(side == 1, gt_values[1], gt_values[0])
    choice = np.where(chose_pos, gt_values[1], gt_values[0])
    return (
        xr.Dataset(
            coords={
                "coherence": ("trial", coh, {"units": "%"}),
                "ground_truth": ("trial", gt),
                "choice": ("trial", choice),
            }
        ),
        signed,
        chose_pos,
    )
