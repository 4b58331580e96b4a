"""Run a model on trials and return labelled results."""

from __future__ import annotations

import json

import numpy as np
import torch

from . import threads as _threads
from ._version import __version__
from .devices import model_device, resolve_device, to_device
from .io.datasets import batch_to_dataset
from .seeding import make_rng, resolve_seed, torch_generator
from .tasks.base import Batch
from .train.resources import step_flops

__all__ = ["simulate"]


def _is_task(trials) -> bool:
    return hasattr(trials, "batch") and hasattr(trials, "input_names")


def _trials(trials, n_trials, seed, fixed):
    """The task (or None) and the batch to run."""
    if _is_task(trials):
        batch = trials.batch(n_trials, seed=make_rng(seed, "eval"), **fixed)
        batch.seed = seed
        return trials, batch
    if not isinstance(trials, Batch):
        hint = (
            "; to run the network on an input array, call the model itself: "
            "model(torch.as_tensor(inputs)) with inputs of shape (trial, time, n_input)"
            if isinstance(trials, (np.ndarray, torch.Tensor))
            else ""
        )
        raise ValueError(
            "trials must be a Task (n_trials fresh trials are drawn) or a Batch (from "
            f"task.batch(...)), got {type(trials).__module__}.{type(trials).__name__}{hint}"
        )
    if fixed:
        raise ValueError("trial variables can only be fixed when simulating a task, not a batch")
    return None, trials


@torch.no_grad()
def simulate(
    model,
    trials,
    *,
    n_trials: int = 64,
    seed=0,
    noise: bool = True,
    device=None,
    threads: int | None = None,
    **fixed,
):
    """Run ``model`` on a batch (or on fresh trials of a task) and label everything.

    Parameters
    ----------
    model : Model
    trials : Task or Batch
        A task (``n_trials`` are drawn with ``seed``; ``fixed`` fixes trial
        variables) or a ready batch.
    n_trials : int
        Number of trials when ``trials`` is a task.
    seed : int
        Seeds the trials drawn and the network noise.
    noise : bool
        Include the model's recurrent and input noise.
    device : str or torch.device, optional
        Where the network runs: ``None`` (default) leaves the model where it is;
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` move it there (see
        :func:`neurodyn.devices.resolve_device`). Trials are drawn on the CPU with the
        seeded NumPy generator and moved, and the noise is drawn from a CPU generator
        seeded by ``seed`` and moved, so a seed gives the same trials and the same
        noise on every device; outputs agree to the devices' rounding.
    threads : int, optional
        CPU threads; default :func:`neurodyn.threads.limit`'s policy for the work of
        a step, :math:`2 B g H (H + m)`.

    Returns
    -------
    xarray.Dataset
        Dims ``trial, time, unit, input, output``; variables ``inputs``, ``targets``,
        ``mask``, ``outputs``, ``rates`` (trial, time, unit) and ``states`` (the full
        dynamical state; dim ``unit`` when it has one entry per unit, else ``state``);
        trial variables and task scores (``correct``, ``choice`` ...) as ``trial``
        coordinates; ``ei`` and ``tau`` as ``unit`` coordinates; ``attrs`` with
        ``dt``, ``seed``, ``model`` and ``task`` configurations (JSON) and the version.

    Examples
    --------
    >>> from neurodyn.tasks import FlipFlop
    >>> from neurodyn.rnn_models import RateRNN
    >>> task = FlipFlop(dt=10.0)
    >>> ds = simulate(RateRNN(3, 16, 3, dt=10.0, seed=0), task, n_trials=4, seed=1)
    >>> ds["rates"].dims
    ('trial', 'time', 'unit')
    """
    seed = resolve_seed(seed)
    _threads.check_threads(threads)
    dev = model_device(model) if device is None else resolve_device(device)
    task, batch = _trials(trials, n_trials, seed, fixed)
    if batch.inputs.shape[-1] != model.n_input:
        raise ValueError(
            f"trials have {batch.inputs.shape[-1]} input channels; the model expects "
            f"n_input={model.n_input}"
        )
    if not np.isclose(batch.dt, model.dt):
        raise ValueError(f"trials have dt={batch.dt} ms; the model runs at dt={model.dt} ms")
    model.check_weights()
    model.to(dev)
    was_training = model.training
    model.eval()
    work = step_flops(model, batch.n_trials)
    with _threads.limit(threads, work=work, what="simulate"):
        out = model(
            to_device(batch.inputs, dev), noise=noise, generator=torch_generator(seed, "noise")
        )
    model.train(was_training)
    outputs = out.outputs.cpu().numpy().astype(np.float32)
    rates = out.rates.cpu().numpy().astype(np.float32)
    states = out.states.cpu().numpy().astype(np.float32)
    state_dim = "unit" if states.shape[-1] == rates.shape[-1] else "state"
    ds = batch_to_dataset(
        batch,
        outputs=(("trial", "time", "output"), outputs),
        rates=(("trial", "time", "unit"), rates),
        states=(("trial", "time", state_dim), states),
    )
    ds = ds.assign_coords(unit=np.arange(rates.shape[-1], dtype=np.int32))
    for k, v in model.unit_coords().items():
        ds = ds.assign_coords({k: ("unit", np.asarray(v))})
    if task is not None:
        for k, v in task.evaluate(outputs, batch).items():
            if k in ds.coords:
                raise ValueError(
                    f"{task.name}.evaluate returned {k!r}, which is already a coordinate; "
                    "a task's scores need names distinct from its trial variables"
                )
            v = np.asarray(v)
            ds = ds.assign_coords({k: ("trial", v.astype(np.int8) if v.dtype == bool else v)})
    ds.attrs.update(
        {
            "seed": int(seed),
            "noise": int(bool(noise)),
            "model": json.dumps({"kind": model.kind, "config": model.config()}),
            "neurodyn_version": __version__,
        }
    )
    return ds
