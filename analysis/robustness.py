r"""Robustness of a trained network: normalised perturbations and ablations.

**Normalised perturbation** (Li et al., NeurIPS 2020, their eq. 5, as used by
Khajehabdollahi et al., 2024). For a strength :math:`\varepsilon` and a random
direction :math:`d \sim \mathcal N(0, I)`,

.. math::

    W \leftarrow W + \varepsilon\,\lVert W\rVert_F\,\frac{d}{\lVert d\rVert_F},
    \qquad
    \tau \leftarrow \tau + \varepsilon\,\lVert\tau\rVert\,\frac{|d|}{\lVert d\rVert},

so :math:`\varepsilon` is the size of the perturbation relative to the weights
(time constants only grow, keeping them above one step). Each repeat draws one
direction and uses it at every :math:`\varepsilon`, so a curve is smooth in
:math:`\varepsilon` and repeats differ only in direction.

**Ablation** silences the :math:`k` neurons with the shortest (``"fastest"``) or
longest (``"slowest"``) time constants: their rows and columns of the recurrent
weights, their input weights and their read-out weights are zeroed.

Every function works on a copy of the model (:func:`silence_units` returns one) (the original is never changed) and
scores it with ``score(model) -> float``; :func:`task_accuracy` builds the usual
score, the fraction of fresh trials of a task answered correctly. Results are
:class:`xarray.Dataset` curves.

The weights perturbed are those of ``parameter`` (default: ``weight_rec`` for the
neurodyn rate and timescale RNNs, ``core.weight_hh_l0`` for wrapped PyTorch RNNs).
Time-constant perturbations and ablations by τ need a model with ``tau`` (and
``set_tau`` to change it, as :class:`~neurodyn.rnn_models.TimescaleRNN` has).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from .._validation import check_choice, check_int
from ..seeding import make_rng, resolve_seed, torch_generator
from ..threads import policy, state_size

__all__ = [
    "ablate_by_tau",
    "perturb_tau",
    "perturb_weights",
    "silence_units",
    "task_accuracy",
]

#: ε grids of the paper: W and τ.
W_EPSILONS = np.concatenate([[0.0], np.geomspace(1e-2, 10.0, 10)])
TAU_EPSILONS = np.concatenate([[0.0], np.geomspace(1e-3, 10.0, 13)])

_RECURRENT_NAMES = ("weight_rec", "core.weight_hh_l0")


def task_accuracy(task, *, n_trials: int = 512, key: str = "correct", seed=0) -> Callable:
    """A score: the mean of ``task.evaluate(...)[key]`` over ``n_trials`` fixed trials.

    The trials (and the model's random initial states) are drawn once from the
    ``eval`` stream of ``seed``, so every perturbed copy is scored on the same data.

    Parameters
    ----------
    task : Task
        The task whose trials are drawn and whose ``evaluate`` scores the outputs.
    n_trials : int
        Trials drawn.
    key : str
        The score of ``task.evaluate`` averaged (``"correct"``: the fraction of trials
        answered correctly).
    seed : int
        Seeds the trials and the model's initial states.

    Returns
    -------
    callable
        ``score(model) -> float``.

    Examples
    --------
    >>> from neurodyn.tasks import NParity
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> score = task_accuracy(NParity(n=2), n_trials=64)
    >>> 0.0 <= score(TimescaleRNN(1, 8, seed=0)) <= 1.0
    True
    """
    import torch

    seed = resolve_seed(seed)
    batch = task.batch(n_trials, seed=make_rng(seed, "eval"))
    inputs = torch.from_numpy(batch.inputs)

    @torch.no_grad()
    def score(model) -> float:
        out = model(inputs, generator=torch_generator(seed, "eval"))
        values = task.evaluate(out.outputs.cpu().numpy(), batch)
        if key not in values:
            raise ValueError(f"key={key!r} is not among the task's scores {sorted(values)}")
        return float(np.mean(values[key]))

    return score


def _recurrent(model, parameter: str | None):
    params = dict(model.named_parameters())
    if parameter is None:
        parameter = next((n for n in _RECURRENT_NAMES if n in params), None)
        if parameter is None:
            raise ValueError(
                f"{type(model).__name__} has none of the recurrent weights {_RECURRENT_NAMES}; "
                f"name one with parameter= (parameters: {sorted(params)})"
            )
    return check_choice("parameter", parameter, params), params[parameter]


def _epsilons(epsilons) -> np.ndarray:
    e = np.asarray(epsilons, dtype=float).ravel()
    if e.size == 0 or not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError(f"epsilons must be non-negative finite numbers, got {epsilons!r}")
    return e


def _curve(acc, epsilons, what, seed, extra) -> xr.Dataset:
    ds = xr.Dataset(
        {
            "accuracy": (("epsilon", "repeat"), acc),
            "accuracy_mean": ("epsilon", acc.mean(axis=1)),
        },
        coords={"epsilon": epsilons, "repeat": np.arange(acc.shape[1])},
    )
    ds.attrs.update(perturbation=what, normalisation="Li et al. 2020, eq. 5", seed=seed, **extra)
    return ds


@policy(work=lambda a: 1024.0 * state_size(a["model"]) ** 2, what="robustness")
def perturb_weights(
    model,
    score: Callable,
    *,
    epsilons=W_EPSILONS,
    n_repeats: int = 10,
    parameter: str | None = None,
    seed=0,
    threads: int | None = None,
) -> xr.Dataset:
    r"""Accuracy under normalised perturbations of the recurrent weights.

    Parameters
    ----------
    model : torch.nn.Module
    score : callable
        ``score(model) -> float`` (e.g. :func:`task_accuracy`).
    epsilons : sequence of float
        Relative strengths :math:`\varepsilon` (default: 0 and 10 values from 0.01 to 10,
        the paper's grid).
    n_repeats : int
        Random directions per strength (10 in the paper).
    parameter : str, optional
        Name of the weight tensor to perturb (see the module docstring).
    seed : int
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (epsilon, repeat) and ``accuracy_mean`` (epsilon).

    Examples
    --------
    >>> from neurodyn.tasks import NParity
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> ds = perturb_weights(net, task_accuracy(NParity(n=2), n_trials=32),
    ...                      epsilons=[0, 0.5], n_repeats=2)
    >>> ds["accuracy"].dims
    ('epsilon', 'repeat')
    """
    import torch

    seed = resolve_seed(seed)
    eps = _epsilons(epsilons)
    n_repeats = check_int("n_repeats", n_repeats)
    work = copy.deepcopy(model)
    name, w = _recurrent(work, parameter)
    w0 = w.detach().clone()
    norm = torch.linalg.norm(w0)
    acc = np.zeros((len(eps), n_repeats))
    with torch.no_grad():
        for r in range(n_repeats):
            d = make_rng(seed, "analysis", r).standard_normal(tuple(w0.shape))
            direction = torch.as_tensor(d / np.linalg.norm(d), dtype=w0.dtype)
            for i, e in enumerate(eps):
                w.copy_(w0 + e * norm * direction)
                acc[i, r] = score(work)
    return _curve(acc, eps, "weights", seed, {"parameter": name})


@policy(work=lambda a: 1024.0 * state_size(a["model"]) ** 2, what="robustness")
def perturb_tau(
    model,
    score: Callable,
    *,
    epsilons=TAU_EPSILONS,
    n_repeats: int = 10,
    seed=0,
    threads: int | None = None,
) -> xr.Dataset:
    r"""Accuracy under normalised, positive perturbations of the time constants.

    :math:`\tau \leftarrow \tau + \varepsilon\lVert\tau\rVert\,|d|/\lVert d\rVert`.
    Result as :func:`perturb_weights`.

    Parameters
    ----------
    model : torch.nn.Module
        A model with time constants ``tau`` and ``set_tau`` (e.g.
        :class:`~neurodyn.rnn_models.TimescaleRNN`); a copy is perturbed.
    score : callable
        ``score(model) -> float`` (e.g. :func:`task_accuracy`).
    epsilons : sequence of float
        Relative strengths :math:`\varepsilon` (default: 0 and 13 values from 0.001
        to 10, the paper's grid).
    n_repeats : int
        Random directions per strength.
    seed : int
        Seeds the directions.
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (epsilon, repeat) and ``accuracy_mean`` (epsilon).

    Examples
    --------
    At :math:`\varepsilon = 0` every repeat scores the unperturbed network:

    >>> from neurodyn.tasks import NParity
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> score = task_accuracy(NParity(n=2), n_trials=32)
    >>> ds = perturb_tau(net, score, epsilons=[0, 0.1], n_repeats=2)
    >>> ds["accuracy"].dims, ds.attrs["perturbation"]
    (('epsilon', 'repeat'), 'tau')
    >>> bool(np.all(ds["accuracy"].sel(epsilon=0) == score(net)))
    True
    """
    seed = resolve_seed(seed)
    eps = _epsilons(epsilons)
    n_repeats = check_int("n_repeats", n_repeats)
    work = copy.deepcopy(model)
    if not hasattr(work, "set_tau"):
        raise ValueError(
            f"{type(model).__name__} has no settable time constants (needs `tau` and "
            "`set_tau`, as TimescaleRNN has)"
        )
    tau0 = work.tau.detach().cpu().numpy().astype(float)
    norm = np.linalg.norm(tau0)
    acc = np.zeros((len(eps), n_repeats))
    for r in range(n_repeats):
        d = np.abs(make_rng(seed, "analysis", r).standard_normal(tau0.shape))
        d /= np.linalg.norm(d)
        for i, e in enumerate(eps):
            work.set_tau(tau0 + e * norm * d)
            acc[i, r] = score(work)
    return _curve(acc, eps, "tau", seed, {})


@policy(work=lambda a: 1024.0 * state_size(a["model"]) ** 2, what="robustness")
def ablate_by_tau(
    model,
    score: Callable,
    *,
    ks: Sequence[int] = (0, 5, 10, 20),
    which: Sequence[str] = ("fastest", "slowest"),
    parameter: str | None = None,
    threads: int | None = None,
) -> xr.Dataset:
    """Accuracy after silencing the k fastest or slowest neurons (by τ).

    Parameters
    ----------
    model : torch.nn.Module
        Needs ``tau`` (n_hidden,), the recurrent weights (``parameter``) and, when
        present, ``weight_in`` and ``weight_out`` (their rows / columns are zeroed).
    score : callable
    ks : sequence of int
        Numbers of neurons to silence (20 in the paper).
    which : sequence of {"fastest", "slowest"}
        Silence the neurons with the shortest or the longest time constants.
    parameter : str, optional
        Name of the recurrent weight tensor (see the module docstring).
    threads : int, optional
        Threads for the computation; default: chosen by :mod:`neurodyn.threads` from
        the work and the cores other processes leave free.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` (which, k) and the silenced units' mean τ ``tau_ablated`` (which, k).

    Examples
    --------
    >>> from neurodyn.tasks import NParity
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> ds = ablate_by_tau(net, task_accuracy(NParity(n=2), n_trials=32), ks=[0, 2])
    >>> ds["accuracy"].shape
    (2, 2)
    """
    import torch

    tau = getattr(model, "tau", None)
    if not isinstance(tau, torch.Tensor):
        raise ValueError(f"{type(model).__name__} has no per-neuron time constants `tau`")
    tau = tau.detach().cpu().numpy().astype(float)
    ks = [int(k) for k in ks]
    if any(k < 0 or k > len(tau) for k in ks):
        raise ValueError(f"ks must lie in [0, n_hidden={len(tau)}], got {list(ks)}")
    which = [check_choice("which", w, ("fastest", "slowest")) for w in which]
    # Stable sort: ties keep unit order, so the choice of neurons is deterministic.
    orders = {"fastest": np.argsort(tau, kind="stable"), "slowest": np.argsort(-tau, kind="stable")}
    name = _recurrent(model, parameter)[0]
    acc = np.zeros((len(which), len(ks)))
    tau_ablated = np.full((len(which), len(ks)), np.nan)
    for i, w in enumerate(which):
        for j, k in enumerate(ks):
            units = orders[w][:k]
            acc[i, j] = score(silence_units(model, units, parameter=name))
            if k:
                tau_ablated[i, j] = tau[units].mean()
    ds = xr.Dataset(
        {"accuracy": (("which", "k"), acc), "tau_ablated": (("which", "k"), tau_ablated)},
        coords={"which": which, "k": ks},
    )
    ds.attrs.update(perturbation="ablation", parameter=name)
    return ds


def silence_units(model, units, *, parameter: str | None = None):
    r"""A copy of ``model`` in which the given units are silenced (lesioned).

    A silenced unit :math:`i` neither receives nor sends anything: row and column
    :math:`i` of the recurrent weights (``parameter``), row :math:`i` of ``weight_in``
    and column :math:`i` of ``weight_out`` (when the model has them) are zeroed, so its
    activity reaches neither the other units nor the outputs, as in the lesions of
    Yang et al. (2019). For a rate RNN with Dale's law the zeroed raw weights give
    zero effective weights (:math:`|\tilde W_{ij}| = 0`). The model itself is not
    changed.

    Parameters
    ----------
    model : torch.nn.Module
    units : sequence of int
        Indices of the units to silence (each in ``[0, n_hidden)``; may be empty).
    parameter : str, optional
        The recurrent weights' parameter name (default: found by name, as for
        :func:`perturb_weights`).

    Returns
    -------
    torch.nn.Module
        The silenced copy.

    Examples
    --------
    >>> from neurodyn.rnn_models import TimescaleRNN
    >>> net = TimescaleRNN(1, 8, seed=0)
    >>> lesioned = silence_units(net, [0, 2])
    >>> w, w_out = lesioned.weight_rec.detach().numpy(), lesioned.weight_out.detach().numpy()
    >>> float(abs(w[[0, 2]]).max()), float(abs(w[:, [0, 2]]).max())
    (0.0, 0.0)
    >>> float(abs(w_out[:, [0, 2]]).max()), bool(net.weight_rec.detach()[0].any())
    (0.0, True)
    """
    import torch

    name, rec = _recurrent(model, parameter)
    n = rec.shape[0]
    idx = np.asarray(units, dtype=float).ravel()
    if idx.size and (not np.all(idx == np.round(idx)) or idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"units must be indices in [0, {n}), got {list(units)!r}")
    index = torch.as_tensor(idx.astype(np.int64))
    work = copy.deepcopy(model)
    rec = _recurrent(work, name)[1]
    with torch.no_grad():
        rec[index, :] = 0.0
        rec[:, index] = 0.0
        if isinstance(getattr(work, "weight_in", None), torch.Tensor):
            work.weight_in[index, :] = 0.0
        if isinstance(getattr(work, "weight_out", None), torch.Tensor):
            work.weight_out[:, index] = 0.0
    return work
