"""Masked losses on (trial, time, channel) tensors, and the check that targets suit them.

Entries whose mask is 0 never enter a loss, whatever they hold: recorded data have
gaps, stored as NaN targets under a zero mask. Both losses select the targets with
``torch.where`` *before* any arithmetic, so such entries contribute exactly 0 to
the loss and to every gradient (a product ``0 * NaN`` would be NaN, and so would
the gradient of a square taken before the selection).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_choice

__all__ = ["LOSSES", "check_targets", "masked_cross_entropy", "masked_mse"]

#: How far a target distribution's sum may be from 1: float32 targets of a few
#: channels, each rounded to half an ulp (6e-8), sum to within 1e-6; soft labels
#: written with 6 significant digits to within 1e-5.
SUM_TOLERANCE = 1e-4


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean squared error weighted by ``mask``: :math:`\sum m (y - y^*)^2 / \sum m`.

    Targets where ``mask == 0`` are ignored (they may be NaN).

    Parameters
    ----------
    outputs : torch.Tensor, shape (trial, time, output)
        The model's outputs.
    targets : torch.Tensor, same shape
        The targets (ignored, and may be NaN, where ``mask`` is 0).
    mask : torch.Tensor, same shape
        Non-negative weight of each entry (0: not counted).

    Returns
    -------
    torch.Tensor
        A scalar (0 when the mask counts nothing).

    Examples
    --------
    >>> y, t = torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[0.0, float("nan")]]])
    >>> masked_mse(y, t, torch.tensor([[[1.0, 0.0]]])).item()
    1.0
    """
    diff = torch.where(mask > 0, outputs - targets, 0.0)
    return (mask * diff**2).sum() / mask.sum().clamp_min(1e-12)


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

    Time steps with :math:`w_{nt} = 0` are ignored (their targets may be NaN). With
    ``groups`` (lists of channel indices, e.g. one pair per read-out head), the
    softmax is taken within each group and the group losses are summed, which is
    how several classification heads are trained together.

    Parameters
    ----------
    outputs : torch.Tensor, shape (trial, time, output)
        The model's outputs, read as logits.
    targets : torch.Tensor, same shape
        Class probabilities along ``output`` (one-hot or soft) at every counted step.
    mask : torch.Tensor, same shape
        Non-negative weights; a time step weighs the largest of its channels'.
    groups : sequence of sequence of int, optional
        Channel indices of each classification head; None: one softmax over all
        channels.

    Returns
    -------
    torch.Tensor
        A scalar, in nats (summed over the groups).

    Examples
    --------
    At the first step the target is class 0 and the logits are (2, 0); at the second
    the target is uniform and the logits equal, so the mean loss is
    :math:`(\log(1 + e^{-2}) + \log 2)/2`:

    >>> import math
    >>> y = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    >>> t = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]])
    >>> loss = masked_cross_entropy(y, t, torch.ones_like(t))
    >>> round(loss.item(), 5), round((math.log(1 + math.exp(-2)) + math.log(2)) / 2, 5)
    (0.41004, 0.41004)

    Two two-class heads, each at chance: :math:`\log 2` per head.

    >>> t2 = torch.tensor([[[1.0, 0.0, 0.0, 1.0]]])
    >>> heads = masked_cross_entropy(torch.zeros(1, 1, 4), t2, torch.ones_like(t2),
    ...                              groups=[[0, 1], [2, 3]])
    >>> round(heads.item() / math.log(2), 5)
    2.0
    """
    if groups is not None:
        return sum(
            masked_cross_entropy(outputs[..., g], targets[..., g], mask[..., g])
            for g in (list(g) for g in groups)
        )
    w = mask.amax(dim=-1)
    targets = torch.where(w[..., None] > 0, targets, 0.0)
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


def check_targets(
    loss: str,
    targets: np.ndarray,
    mask: np.ndarray,
    groups: Sequence[Sequence[int]] | None = None,
    *,
    what: str = "targets",
) -> None:
    """Raise ValueError unless ``targets`` suit ``loss`` wherever ``mask`` counts them.

    Both losses need finite targets where the mask is positive. The cross-entropy
    needs more: at every counted (trial, time) step, the targets of each channel
    group (all channels without ``groups``) must be a probability distribution,
    non-negative and summing to 1 (one-hot class labels, or soft labels). Real-valued
    targets (e.g. ±1, or a continuous signal) would give a meaningless, possibly
    negative, loss.

    Parameters
    ----------
    loss : {"mse", "cross_entropy"}
    targets, mask : ndarray, shape (trial, time, output)
    groups : sequence of sequence of int, optional
        Channel groups of a multi-head cross-entropy.
    what : str
        How to name the targets in the message.

    Examples
    --------
    >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> check_targets("cross_entropy", t, np.ones_like(t))
    >>> check_targets("cross_entropy", 2 * t - 1, np.ones_like(t))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: loss='cross_entropy' needs targets that are class probabilities ...
    """
    counted = mask > 0
    if not np.all(np.isfinite(targets[counted])):
        raise ValueError(
            f"{what} contain NaN or infinite values where the mask is positive; set the "
            "mask to 0 wherever a target is missing"
        )
    if loss != "cross_entropy":
        return
    for g in [list(range(targets.shape[-1]))] if groups is None else [list(g) for g in groups]:
        rows = np.any(counted[..., g], axis=-1)
        t = targets[..., g][rows]
        if t.size == 0:
            continue
        sums = t.sum(axis=-1)
        if np.any(t < 0) or np.any(np.abs(sums - 1.0) > SUM_TOLERANCE):
            channels = "" if groups is None else f" of channel group {g}"
            raise ValueError(
                f"loss='cross_entropy' needs {what} that are class probabilities (one-hot "
                f"or soft labels: non-negative, summing to 1 over the output channels"
                f"{channels} at every counted time step); found values in "
                f"[{t.min():.4g}, {t.max():.4g}] with sums in [{sums.min():.4g}, "
                f"{sums.max():.4g}]. Use loss='mse' for real-valued targets"
            )
