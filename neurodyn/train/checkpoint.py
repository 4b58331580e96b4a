"""Training state kept on disk (checkpoints) and in memory (the last good step)."""

from __future__ import annotations

import copy

import torch

from ..io.atomic import atomic_path

__all__ = ["CHECKPOINT_FORMAT", "LastGood", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = 1


def save_checkpoint(path, model, optimizer, step, result, running) -> None:
    """Write the training state to ``path`` atomically (tensors and plain data only)."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "stage": result.stage,
        "stage_steps": list(result.stage_steps),
        "stage_log": list(result.stage_log),
        "history": list(result.history),
        "seed": result.seed,
        "running": [float(running[0]), int(running[1])],
        "model_config": dict(model.config()),
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (tensors and plain data only; no code is unpickled)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt files
        raise ValueError(f"{str(path)!r} is not a readable neurodyn checkpoint: {err}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a neurodyn checkpoint of format {CHECKPOINT_FORMAT}"
        )
    return state


class LastGood:
    """The training state at the start of the last step whose loss and gradient were finite.

    Weights and optimiser state are copied into buffers kept between steps (a copy
    of the parameters costs far less than a step's backpropagation through time).
    """

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params: list[torch.Tensor] | None = None
        self.optim: dict = {}
        self.scalars: tuple = ()

    def save(self, scalars: tuple) -> None:
        params = [p.detach() for p in self.model.parameters()]
        if self.params is None:
            self.params = [p.clone() for p in params]
        else:
            for buf, p in zip(self.params, params, strict=True):
                buf.copy_(p)
        for p, state in self.optimizer.state.items():
            saved = self.optim.setdefault(p, {})
            for k, v in state.items():
                if (
                    torch.is_tensor(v)
                    and torch.is_tensor(saved.get(k))
                    and saved[k].shape == v.shape
                ):
                    saved[k].copy_(v)
                else:
                    saved[k] = v.detach().clone() if torch.is_tensor(v) else copy.deepcopy(v)
        self.scalars = scalars

    def restore(self) -> tuple:
        with torch.no_grad():
            for p, buf in zip(self.model.parameters(), self.params, strict=True):
                p.copy_(buf)
        self.optimizer.state.clear()
        for p, saved in self.optim.items():
            self.optimizer.state[p] = {
                k: v.clone() if torch.is_tensor(v) else copy.deepcopy(v) for k, v in saved.items()
            }
        return self.scalars
