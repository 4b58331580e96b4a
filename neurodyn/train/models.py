r"""How the training loop runs, clips, saves and restores what it trains.

:class:`~neurodyn.train.loop.TrainingRun` trains a single model (:class:`LoneModel`) or
the networks of a :class:`~neurodyn.rnn_models.rate_ensemble.RateEnsemble`
(:class:`EnsembleModel`) through the same loop. For an ensemble,

* the loss minimised is the sum of the networks' losses,
  :math:`L = \sum_k L_k`; network :math:`k`'s parameters are its rows of the stacked
  tensors, so :math:`\partial L/\partial\theta_k = \partial L_k/\partial\theta_k`;
* the gradient of each network is clipped to norm ``clip_grad`` on its own,
  :math:`g_k \leftarrow g_k \min(1, c / (\lVert g_k\rVert + 10^{-6}))`, its norm
  formed by the function :func:`torch.nn.utils.clip_grad_norm_` forms a lone
  network's with;
* the optimisers (Adam, SGD with momentum) update every element from its own gradient
  and moments, so one step over the stacked tensors is each network's own step;
* a network that stops (its criteria met, or diverged) is frozen: the rows an
  optimiser step changes anyway (Adam moves a weight with a zero gradient by its
  moments) are put back after every step.
"""

from __future__ import annotations

import copy

import torch

__all__ = ["EnsembleModel", "LoneModel", "trained_model"]


def trained_model(model, optimizer):
    """:class:`EnsembleModel` for an ensemble (a model with ``n_networks``), else
    :class:`LoneModel`.

    Parameters
    ----------
    model : Model or RateEnsemble
        The model trained.
    optimizer : torch.optim.Optimizer
        Its optimiser (over all its parameters).

    Examples
    --------
    >>> from neurodyn.rnn_models import RateEnsemble, RateRNN
    >>> model = RateRNN(1, 8, 1, seed=0)
    >>> type(trained_model(model, torch.optim.Adam(model.parameters()))).__name__
    'LoneModel'
    >>> ens = RateEnsemble.from_seeds([0, 1], 1, 8, 1)
    >>> trained = trained_model(ens, torch.optim.Adam(ens.parameters()))
    >>> type(trained).__name__, trained.raises
    ('EnsembleModel', False)
    """
    if getattr(model, "n_networks", None) is not None:
        return EnsembleModel(model, optimizer)
    return LoneModel(model, optimizer)


class LoneModel:
    """A single model, the loop's only network: a divergence ends the run.

    Parameters
    ----------
    model : Model
        The model trained.
    optimizer : torch.optim.Optimizer
        Its optimiser.

    Examples
    --------
    One forward pass, a loss, and the gradient clipped to norm 0.001:

    >>> from neurodyn.rnn_models import RateRNN
    >>> from neurodyn.train.networks import NetworkRun
    >>> model = RateRNN(1, 8, 1, seed=0)
    >>> lone = LoneModel(model, torch.optim.Adam(model.parameters(), lr=1e-2))
    >>> net = NetworkRun(0, 0, None, "cpu")
    >>> out, = lone.forward([torch.ones(2, 5, 1)], [torch.Generator().manual_seed(0)], [net])
    >>> (out.outputs - 1).pow(2).mean().backward()
    >>> norm = lone.grad_norms(1e-3, [net])  # the norm before clipping
    >>> norm.shape, norm.item() > 1e-3
    (torch.Size([1]), True)
    >>> clipped = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    >>> round(clipped.item(), 6)
    0.001
    >>> lone.network_model(0) is model, sorted(lone.state(0))
    (True, ['model_config', 'model_state', 'optimizer_state'])
    """

    #: A network that diverges stops the run with :class:`TrainingDiverged`.
    raises = True

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer

    def forward(self, inputs, generators, nets):
        return [self.model(inputs[0], generator=generators[0])]

    def penalties(self, outs, nets) -> list[dict]:
        return [self.model.regularization(outs[0].rates)]

    def grad_norms(self, max_norm, nets) -> torch.Tensor:
        """The gradient's norm, shape (1,), after clipping it to ``max_norm`` (if given).

        The norm returned is the one before clipping.

        Parameters
        ----------
        max_norm : float or None
            Clip the gradient to this norm; None leaves it as it is.
        nets : list of NetworkRun
            The networks concerned (for a single model, the one network).
        """
        params = [p for p in self.model.parameters() if p.grad is not None]
        if max_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        else:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        return norm.reshape(1)

    def after_update(self) -> None:
        """Nothing: the one network is never frozen while the run goes on."""

    def freeze(self, index: int) -> None:
        """Nothing: the run ends when its network stops.

        Parameters
        ----------
        index : int
            The network (0).
        """

    def nonfinite(self, nets) -> list:
        finite = all(torch.isfinite(p).all() for p in self.model.parameters())
        return [] if finite else list(nets)

    def network_model(self, index: int):
        return self.model

    def state(self, index: int) -> dict:
        """The checkpoint's model and optimiser states and model config.

        Parameters
        ----------
        index : int
            The network (0).

        Returns
        -------
        dict
            ``model_state``, ``optimizer_state`` and ``model_config``, the keyword
            arguments of :func:`~neurodyn.train.checkpoint.save_checkpoint`.
        """
        return {
            "model_state": self.model.state_dict(),
            "optimizer_state": self.optimizer.state_dict(),
            "model_config": self.model.config(),
        }

    def load(self, states: dict) -> None:
        """Weights and optimiser state from the checkpoint ``states[0]``.

        Parameters
        ----------
        states : dict of int to dict
            Checkpoints by network index (:func:`~neurodyn.train.load_checkpoint`);
            only ``states[0]`` is read.
        """
        self.model.load_state_dict(states[0]["model"])
        self.optimizer.load_state_dict(states[0]["optimizer"])


class EnsembleModel:
    """The networks of a RateEnsemble, each trained as it would be alone.

    Parameters
    ----------
    model : RateEnsemble
        The ensemble trained (its parameters stacked along a leading network axis).
    optimizer : torch.optim.Optimizer
        Its optimiser, over the stacked parameters.

    Examples
    --------
    Each network's gradient is clipped on its own, and a frozen network keeps its
    weights through an optimiser step:

    >>> from neurodyn.rnn_models import RateEnsemble
    >>> from neurodyn.train.networks import NetworkRun
    >>> ens = RateEnsemble.from_seeds([0, 1, 2], 1, 8, 1)
    >>> opt = torch.optim.Adam(ens.parameters(), lr=1e-2)
    >>> trained = EnsembleModel(ens, opt)
    >>> nets = [NetworkRun(k, seed, None, "cpu") for k, seed in enumerate([0, 1, 2])]
    >>> generators = [torch.Generator().manual_seed(k) for k in range(3)]
    >>> outs = trained.forward([torch.ones(2, 5, 1)] * 3, generators, nets)
    >>> sum((out.outputs - 1).pow(2).mean() for out in outs).backward()
    >>> trained.grad_norms(1e-3, nets).shape
    torch.Size([3])
    >>> [round(torch.nn.utils.get_total_norm([p.grad[k] for p in ens.parameters()]).item(), 6)
    ...  for k in range(3)]
    [0.001, 0.001, 0.001]
    >>> trained.freeze(1)
    >>> w0, w1 = ens.weight_rec.detach()[0].clone(), ens.weight_rec.detach()[1].clone()
    >>> opt.step()
    >>> trained.after_update()
    >>> torch.equal(ens.weight_rec[0], w0), torch.equal(ens.weight_rec[1], w1)
    (False, True)
    >>> type(trained.network_model(1)).__name__
    'RateRNN'
    """

    #: A network that diverges is frozen with its last good weights; the others go on.
    raises = False

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.frozen: dict[int, list[torch.Tensor]] = {}

    def _indices(self, nets):
        ks = [n.index for n in nets]
        # All networks in order: their parameters are used as they are, without a gather.
        return None if ks == list(range(self.model.n_networks)) else ks

    def forward(self, inputs, generators, nets):
        return self.model.run_networks(inputs, networks=self._indices(nets), generators=generators)

    def penalties(self, outs, nets) -> list[dict]:
        weights = self.model.weight_penalties([n.index for n in nets])
        return [
            {"rate": out.rates.pow(2).mean(), "weight": w}
            for out, w in zip(outs, weights, strict=True)
        ]

    def grad_norms(self, max_norm, nets) -> torch.Tensor:
        """Each of ``nets``' gradient norms, shape (len(nets),), after clipping each
        network's gradient to ``max_norm`` (if given) on its own.

        The norms returned are those before clipping; the gradients of networks not in
        ``nets`` are left as they are.

        Parameters
        ----------
        max_norm : float or None
            Clip each network's gradient to this norm; None leaves them as they are.
        nets : list of NetworkRun
            The networks concerned (for a single model, the one network).
        """
        K = self.model.n_networks
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        # Each network's norm as clip_grad_norm_ forms a lone network's: the same function
        # on its rows of the gradients (tensors of a lone network's shapes).
        norms = torch.stack(
            [torch.nn.utils.get_total_norm([g[n.index] for g in grads]) for n in nets]
        )
        if max_norm is not None:
            coef = torch.ones(K, dtype=norms.dtype, device=norms.device)
            coef[[n.index for n in nets]] = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
            for g in grads:
                g.mul_(coef.view(K, *([1] * (g.ndim - 1))))
        return norms

    def after_update(self) -> None:
        """Put back the rows of the frozen networks."""
        if not self.frozen:
            return
        with torch.no_grad():
            for k, rows in self.frozen.items():
                for p, row in zip(self.model.parameters(), rows, strict=True):
                    p[k] = row

    def freeze(self, index: int) -> None:
        self.frozen[index] = [p.detach()[index].clone() for p in self.model.parameters()]

    def nonfinite(self, nets) -> list:
        params = list(self.model.parameters())
        return [n for n in nets if not all(torch.isfinite(p[n.index]).all() for p in params)]

    def network_model(self, index: int):
        return self.model.network(index)

    def state(self, index: int) -> dict:
        """Network ``index``'s checkpoint: its weights, its rows of the optimiser state
        (the state of a lone network's optimiser) and its config.

        Parameters
        ----------
        index : int
            The network's position in the ensemble.

        Returns
        -------
        dict
            ``model_state``, ``optimizer_state`` and ``model_config``, as a lone run of
            that network would save them.
        """
        full = self.optimizer.state_dict()
        params = list(self.model.parameters())
        state = {
            i: {key: _row(v, params[i], index) for key, v in entries.items()}
            for i, entries in full["state"].items()
        }
        return {
            "model_state": self.model.network_state(index),
            "optimizer_state": {
                "state": state,
                "param_groups": copy.deepcopy(full["param_groups"]),
            },
            "model_config": self.model.network_config(index),
        }

    def load(self, states: dict) -> None:
        """Weights and optimiser state of each network ``k`` from its checkpoint
        ``states[k]`` (networks without one keep theirs, with zero moments).

        Parameters
        ----------
        states : dict of int to dict
            Checkpoints (:func:`~neurodyn.train.load_checkpoint`) by network index.
        """
        for k, state in states.items():
            self.model.load_network_state(k, state["model"])
        live = [k for k, state in states.items() if not state.get("stopped")]
        ref = states[live[0] if live else next(iter(states))]["optimizer"]
        params = list(self.model.parameters())
        stacked = {}
        for i, template in ref["state"].items():
            p = params[i]
            entries = {}
            for key, v in template.items():
                if torch.is_tensor(v) and v.shape == p.shape[1:]:
                    rows = torch.zeros_like(p, memory_format=torch.contiguous_format)
                    for k, state in states.items():
                        own = state["optimizer"]["state"].get(i)
                        if own is not None:
                            rows[k] = own[key]
                    entries[key] = rows
                else:
                    entries[key] = v.clone() if torch.is_tensor(v) else copy.deepcopy(v)
            stacked[i] = entries
        self.optimizer.load_state_dict({"state": stacked, "param_groups": ref["param_groups"]})


def _row(value, param, index: int):
    """A network's row of an optimiser state entry shaped like its parameter (a copy,
    so that saving it does not save the whole tensor); other entries as they are."""
    if torch.is_tensor(value):
        return value[index].clone() if value.shape == param.shape else value.clone()
    return copy.deepcopy(value)
