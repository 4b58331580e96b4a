"""Training state kept on disk (checkpoints) and in memory (the last good step)."""

from __future__ import annotations

import copy

import torch

from .._version import __version__
from ..io.atomic import atomic_path

__all__ = ["CHECKPOINT_FORMAT", "LastGood", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = 1


def save_checkpoint(
    path, *, model_state, optimizer_state, model_config, step, result, running, stopped=False
) -> None:
    """Write one network's training state to ``path`` atomically (tensors and plain data).

    ``stopped`` records that the network stopped before the run did (its criteria were
    met, or it diverged); a network of an ensemble resumes as stopped.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file; written to a temporary file first and renamed, so an
        interrupted write never leaves a partial checkpoint.
    model_state : dict
        The model's ``state_dict()`` (for a network of an ensemble, that network's own).
    optimizer_state : dict
        The optimiser's ``state_dict()`` (for a network of an ensemble, its rows).
    model_config : dict
        The model's ``config()``, enough to rebuild it.
    step : int
        Optimisation steps taken; a resumed run starts at this step.
    result : FitResult
        The network's record so far: its ``stage``, ``stage_steps``, ``stage_log``,
        ``history``, ``seed``, ``success``, ``message`` and ``diverged`` are saved.
    running : tuple of (float, int)
        Sum and count of the training losses since the last validation.
    stopped : bool
        Whether the network stopped before the run did.

    Examples
    --------
    >>> import torch
    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.train import FitResult
    >>> model = RateRNN(1, 4, 1, seed=0)
    >>> opt = torch.optim.Adam(model.parameters())
    >>> save_checkpoint("net.pt", model_state=model.state_dict(),
    ...                 optimizer_state=opt.state_dict(), model_config=model.config(),
    ...                 step=0, result=FitResult(model, seed=0, stage_steps=[0]),
    ...                 running=(0.0, 0))
    >>> state = load_checkpoint("net.pt")
    >>> state["step"], state["seed"], state["model_config"]["n_hidden"]
    (0, 0, 4)
    >>> import neurodyn
    >>> state["neurodyn_version"] == neurodyn.__version__
    True
    """
    state = {
        "format": CHECKPOINT_FORMAT,
        "neurodyn_version": __version__,
        "model": model_state,
        "optimizer": optimizer_state,
        "step": step,
        "stage": result.stage,
        "stage_steps": list(result.stage_steps),
        "stage_log": list(result.stage_log),
        "history": list(result.history),
        "seed": result.seed,
        "running": [float(running[0]), int(running[1])],
        "model_config": dict(model_config),
        "stopped": bool(stopped),
        "success": bool(result.success),
        "message": str(result.message),
        "diverged": bool(result.diverged),
    }
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (tensors and plain data only; no code is unpickled).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`~neurodyn.train.fit` (``checkpoint=``).

    Returns
    -------
    dict
        ``model`` and ``optimizer`` (state dicts, on the CPU), ``model_config``,
        ``step``, ``seed``, ``stage``, ``stage_steps``, ``stage_log``, ``history``,
        ``running``, ``stopped``, ``success``, ``message``, ``diverged``, ``format`` and
        ``neurodyn_version`` (the version that wrote it).

    Raises
    ------
    ValueError
        If ``path`` cannot be read or is not a neurodyn checkpoint of this format.

    Examples
    --------
    A short run writes its checkpoint every 2 steps and at the end:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.train import fit
    >>> result = fit(RateRNN(1, 8, 1, seed=0), FlipFlop(n_bits=1), n_steps=4, batch_size=4,
    ...              val_every=2, n_validation=8, checkpoint="run.pt", checkpoint_every=2,
    ...              device="cpu", progress=False)
    >>> state = load_checkpoint("run.pt")
    >>> state["step"], len(state["history"]), state["message"]
    (4, 2, 'reached n_steps=4')
    >>> sorted(state["model"]) == sorted(result.model.state_dict())
    True
    """
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
    The networks of an ensemble are rows of the same tensors (their leading
    dimension); :meth:`restore` puts back all of it, or only some rows.

    Parameters
    ----------
    model : torch.nn.Module
        The model trained (for an ensemble, its stacked parameters).
    optimizer : torch.optim.Optimizer
        Its optimiser, whose per-parameter state (e.g. Adam's moments) is kept too.

    Examples
    --------
    >>> import torch
    >>> from neurodyn.rnn_models import RateRNN
    >>> model = RateRNN(1, 4, 1, seed=0)
    >>> opt = torch.optim.Adam(model.parameters(), lr=0.1)
    >>> good = LastGood(model, opt)
    >>> good.save()
    >>> before = model.W.detach().clone()
    >>> model(torch.ones(2, 3, 1)).outputs.pow(2).sum().backward()
    >>> opt.step()
    >>> torch.equal(model.W, before)
    False
    >>> good.restore()
    >>> torch.equal(model.W, before), len(opt.state)  # the state before the step
    (True, 0)
    """

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params: list[torch.Tensor] | None = None
        self.optim: dict = {}

    def save(self) -> None:
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

    def restore(self, rows: list[int] | None = None) -> None:
        """Put back the saved weights and optimiser state: all of it, or (``rows``) the
        rows of those networks in every tensor shaped like its parameter.

        Parameters
        ----------
        rows : list of int, optional
            The networks (rows along the leading dimension of an ensemble's stacked
            parameters) to restore; None restores everything and replaces the
            optimiser's state by the saved one.
        """
        if rows is not None:
            self._restore_rows(rows)
            return
        with torch.no_grad():
            for p, buf in zip(self.model.parameters(), self.params, strict=True):
                p.copy_(buf)
        self.optimizer.state.clear()
        for p, saved in self.optim.items():
            self.optimizer.state[p] = {
                k: v.clone() if torch.is_tensor(v) else copy.deepcopy(v) for k, v in saved.items()
            }

    def _restore_rows(self, rows: list[int]) -> None:
        with torch.no_grad():
            for p, buf in zip(self.model.parameters(), self.params, strict=True):
                p[rows] = buf[rows]
            for p, saved in self.optim.items():
                state = self.optimizer.state.get(p, {})
                for k, v in saved.items():
                    if torch.is_tensor(v) and v.shape == p.shape and k in state:
                        state[k][rows] = v[rows]
