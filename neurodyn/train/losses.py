"""Masked losses on (trial, time, channel) tensors."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .._validation import check_choice

__all__ = ["LOSSES", "masked_cross_entropy", "masked_mse"]


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean squared error weighted by ``mask``: :math:`\sum m (y - y^*)^2 / \sum m`."""
    return (mask * (outputs - targets) ** 2).sum() / mask.sum().clamp_min(1e-12)


def masked_cross_entropy(
    outputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    groups: Sequence[Sequence[int]] | None = None,
) -> torch.Tensor:
    r"""Cross-entropy between softmax(outputs) and target distributions over channels.

    Targets are one-hot (or soft) along the channel axis; the weight of a time step
    is the largest mask entry of its channels:

    .. math:: L = -\frac{\sum_{n,t} w_{nt} \sum_c y^*_{ntc}\log\operatorname{softmax}(y_{nt})_c}
                        {\sum_{n,t} w_{nt}}.

    With ``groups`` (lists of channel indices, e.g. one pair per read-out head), the
    softmax is taken within each group and the group losses are summed, which is
    how several classification heads are trained together.
    """
    if groups is not None:
        return sum(
            masked_cross_entropy(outputs[..., g], targets[..., g], mask[..., g])
            for g in (list(g) for g in groups)
        )
    w = mask.amax(dim=-1)
    nll = -(targets * F.log_softmax(outputs, dim=-1)).sum(-1)
    return (w * nll).sum() / w.sum().clamp_min(1e-12)


#: Losses by name.
LOSSES = {"mse": masked_mse, "cross_entropy": masked_cross_entropy}


def get_loss(name: str, groups: Sequence[Sequence[int]] | None = None):
    """Return the loss function called ``name``; ``groups`` splits a cross-entropy by head."""
    fn = LOSSES[check_choice("loss", name, LOSSES)]
    if groups is not None and fn is masked_cross_entropy:
        return functools.partial(masked_cross_entropy, groups=groups)
    return fn
