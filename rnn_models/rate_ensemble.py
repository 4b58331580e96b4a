r"""Many rate networks of one shape as one model, for training them together.

A :class:`RateEnsemble` holds K :class:`~neurodyn.rnn_models.RateRNN`\ s with every
parameter and buffer stacked along a leading network dimension, so that one optimiser
step and one backward pass serve all of them (:func:`neurodyn.fit` trains an ensemble,
:mod:`neurodyn.train.models`). Each network
runs exactly as it runs alone: its slice of the parameters goes through
:func:`~neurodyn.rnn_models.rate.run_rate_network`, the function
:meth:`RateRNN.forward` calls, with the recurrence in the compiled scan. Stacking the
networks into one recurrence instead is slower on the CPU. Measured in one run (16
networks of 64 units, batch 64, 100 steps, forward and backward of the recurrence, one
thread): one compiled scan per network 214 ms; one recurrence over the networks under
autograd, a batched product per step, 287 ms (the batched product costs what the 16
products cost, and PyTorch's float32 tanh over 16·64·64 values per step more than the
scan's); the 16 networks as one block-diagonal network of 1024 units in the compiled
scan, 1670 ms (16 times the products' work).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import Model, ModelOutput
from .rate import RateParameters, RateRNN, run_rate_network

__all__ = ["RateEnsemble"]

#: Settings every network of an ensemble shares (its shape and the form of its update).
SHARED = ("n_input", "n_hidden", "n_output", "dt", "nonlinearity", "dale", "train_tau", "bias")


class RateEnsemble(Model):
    r"""K rate networks of one shape, run and trained as one model.

    Network :math:`k` follows its own :class:`~neurodyn.rnn_models.RateRNN` update,

    .. math::

        x^{(k)}_{t+1} = (1-\alpha^{(k)})\odot x^{(k)}_t + \alpha^{(k)}\odot\left(
            W^{(k)}\phi(x^{(k)}_t) + W_{in}^{(k)}u^{(k)}_t + b^{(k)}\right)
            + \sqrt{2\alpha^{(k)}}\,\sigma^{(k)}_{rec}\,\eta^{(k)}_t ,
        \qquad y^{(k)} = W_{out}^{(k)}\phi(x^{(k)}) + b_{out}^{(k)},

    with its own weights, time constants, time-constant floor, noise levels, E/I
    fraction, masks and noise stream. The raw parameters are stored stacked:
    ``weight_rec`` (K, N, N), ``weight_in`` (K, N, n_input), ``weight_out``
    (K, n_output, N), ``bias`` (K, N), ``bias_out`` (K, n_output), ``tau_param``
    (K, N), and so are the buffers.

    Parameters
    ----------
    networks : sequence of RateRNN
        The networks, built as they would be to train alone (each with its own
        ``seed``); they must share :data:`SHARED` settings, dtype and device. Their
        weights are copied; the networks themselves are left as they are.

    Notes
    -----
    Shapes: inputs (trial, time, n_input), the same trials for every network, or
    (network, trial, time, n_input) → outputs (network, trial, time, n_output).
    :meth:`run_networks` runs a subset of the networks, each on its own trials (of
    their own length), and returns one :class:`ModelOutput` per network.

    Examples
    --------
    >>> ens = RateEnsemble.from_seeds([0, 1, 2], 3, 16, 2, dt=10.0, tau=50.0)
    >>> out = ens(torch.zeros(4, 5, 3))
    >>> tuple(out.outputs.shape), ens.n_networks
    ((3, 4, 5, 2), 3)
    >>> alone = RateRNN(3, 16, 2, dt=10.0, tau=50.0, seed=1)
    >>> torch.equal(alone(torch.zeros(4, 5, 3)).outputs, out.outputs[1])
    True
    """

    kind = "rate_ensemble"

    #: Run each network's recurrence in the fused scan (see :attr:`RateRNN.use_scan`).
    use_scan: bool = True

    def __init__(self, networks: Sequence[RateRNN]):
        super().__init__()
        nets = _check_networks(networks)
        first = nets[0]
        self.n_input, self.n_hidden, self.n_output = first.n_input, first.n_hidden, first.n_output
        self.dt = first.dt
        self.nonlinearity = first.config()["nonlinearity"]
        self.dale, self.train_tau = first.dale, first.config()["train_tau"]
        self.noise_in = [net.noise_in for net in nets]
        self.noise_rec = [net.noise_rec for net in nets]
        self._config = {"networks": [net.config() for net in nets]}
        self._names = [name for name, _ in first.state_dict().items()]
        with torch.no_grad():
            for name, _ in first.named_parameters():
                stacked = torch.stack([net.get_parameter(name).detach() for net in nets])
                self.register_parameter(name, nn.Parameter(stacked.clone()))
            for name, _ in first.named_buffers():
                self.register_buffer(name, torch.stack([net.get_buffer(name) for net in nets]))
        if "bias" not in dict(first.named_parameters()):
            self.bias = None
        ref = first.bias_out
        self.register_buffer(
            "tau_min", torch.tensor([net.tau_min for net in nets], dtype=ref.dtype).to(ref.device)
        )

    @classmethod
    def from_seeds(cls, seeds: Sequence[int], n_input: int, n_hidden: int, n_output: int,
                   **options) -> RateEnsemble:  # fmt: skip
        """The ensemble of ``RateRNN(n_input, n_hidden, n_output, seed=s, **options)`` for
        each seed ``s``, each initialised exactly as it would be alone.

        Parameters
        ----------
        seeds : sequence of int
            One initialisation seed per network, in network order; K = ``len(seeds)``.
        n_input : int
            Input size of every network.
        n_hidden : int
            Number of rate units N of every network.
        n_output : int
            Output size of every network.
        **options
            Further keyword arguments of :class:`~neurodyn.rnn_models.RateRNN`
            (``dt``, ``tau``, ``noise_rec``, ``dale``…), the same for every network.

        Returns
        -------
        RateEnsemble
        """
        return cls([RateRNN(n_input, n_hidden, n_output, seed=s, **options) for s in seeds])

    @property
    def n_networks(self) -> int:
        """K, the number of networks."""
        return len(self.noise_in)

    def network_config(self, k: int) -> dict:
        """The constructor arguments of network ``k`` (:meth:`RateRNN.config`).

        Parameters
        ----------
        k : int
            Index of the network, in ``[0, n_networks)`` (negative indices count from
            the end, as for a list).

        Returns
        -------
        dict
            A copy: ``RateRNN(**ens.network_config(k))`` rebuilds the network's
            architecture (and, when its ``seed`` is an int, its initial weights).
        """
        return dict(self._config["networks"][k])

    def network(self, k: int) -> RateRNN:
        """Network ``k`` as a :class:`RateRNN` of its own (a copy of its current weights),
        on the ensemble's device and dtype.

        Parameters
        ----------
        k : int
            Index of the network, in ``[0, n_networks)``.

        Returns
        -------
        RateRNN
            Independent of the ensemble: training one does not change the other.

        Raises
        ------
        ValueError
            If ``k`` is not in ``[0, n_networks)``.
        """
        if not 0 <= int(k) < self.n_networks:
            raise ValueError(f"k must be a network index in [0, {self.n_networks}), got {k!r}")
        net = RateRNN(**self.network_config(k))
        net.load_state_dict(self.network_state(k))
        ref = self.bias_out
        return net.to(device=ref.device, dtype=ref.dtype)

    def network_state(self, k: int) -> dict[str, torch.Tensor]:
        """Network ``k``'s :meth:`RateRNN.state_dict` (copies of its slices).

        Parameters
        ----------
        k : int
            Index of the network, in ``[0, n_networks)`` (negative indices count from
            the end, as for a list).

        Returns
        -------
        dict of str to Tensor
            The raw parameters and buffers of network ``k`` under the names a
            :class:`RateRNN` uses, detached copies of the ensemble's slices.
        """
        own = self.state_dict()
        return {name: own[name][k].detach().clone() for name in self._names}

    def load_network_state(self, k: int, state: dict[str, torch.Tensor]) -> None:
        """Set network ``k`` from a :meth:`RateRNN.state_dict` of its shape.

        Parameters
        ----------
        k : int
            Index of the network to overwrite, in ``[0, n_networks)`` (negative
            indices count from the end, as for a list).
        state : dict of str to Tensor
            A :class:`RateRNN` state dict (e.g. ``net.state_dict()`` or
            :meth:`network_state`) holding every parameter and buffer of the network,
            each of the shape of network ``k``'s slice; its values are copied in
            (cast to the ensemble's dtype and device), extra keys are ignored.

        Raises
        ------
        ValueError
            If ``state`` lacks a name or holds a tensor of the wrong shape.
        """
        own = self.state_dict()
        missing = set(self._names) - set(state)
        if missing:
            raise ValueError(f"state is missing {sorted(missing)} of network {k}")
        with torch.no_grad():
            for name in self._names:
                target = own[name][k]
                if tuple(state[name].shape) != tuple(target.shape):
                    raise ValueError(
                        f"state[{name!r}] has shape {tuple(state[name].shape)}; network {k} "
                        f"holds {tuple(target.shape)}"
                    )
                target.copy_(state[name])

    # -- effective parameters (stacked) ---------------------------------------------------
    @property
    def tau(self) -> torch.Tensor:
        """Time constants in ms, shape (network, n_hidden)."""
        return self._tau(self.tau_param, self.tau_min)

    @property
    def alpha(self) -> torch.Tensor:
        """Euler leaks ``dt / tau``, shape (network, n_hidden)."""
        return self.dt / self.tau

    @property
    def W(self) -> torch.Tensor:
        """Effective recurrent weights, shape (network, n_hidden, n_hidden)."""
        return self._recurrent(self.weight_rec, self.mask_rec, self.sign)

    def _tau(self, theta, tau_min):
        # As RateRNN.tau, per network.
        return tau_min[:, None] + torch.exp(theta) if self.train_tau else theta

    def _recurrent(self, weight, mask, sign):
        # As RateRNN.W, per network.
        if self.dale:
            return weight.abs() * mask * sign[:, None, :]
        return weight * mask

    def parameters_now(self, networks: Sequence[int] | None = None) -> list[RateParameters]:
        """The effective parameters of each of ``networks`` (default all), in that order.

        Only those networks' raw parameters enter the computation, so the others get
        zero gradients.

        Parameters
        ----------
        networks : sequence of int, optional
            Distinct network indices in ``[0, n_networks)``, in the order wanted
            (default: every network, in order).

        Returns
        -------
        list of RateParameters
            One per network in ``networks``, as :meth:`RateRNN.parameters_now` returns
            it (differentiable in the ensemble's raw parameters).

        Raises
        ------
        ValueError
            If ``networks`` is empty, repeats an index or holds one out of range.
        """
        index = None if networks is None else self._index(networks)

        def take(t):
            return t if index is None else t.index_select(0, index)

        W = self._recurrent(take(self.weight_rec), take(self.mask_rec), take(self.sign))
        alpha = self.dt / self._tau(take(self.tau_param), take(self.tau_min))
        W_in = take(self.weight_in) * take(self.mask_in)
        W_out = take(self.weight_out) * take(self.mask_out)
        bias = take(self.bias).unbind(0) if self.bias is not None else None
        ks = range(self.n_networks) if networks is None else [int(k) for k in networks]
        parts = zip(W.unbind(0), alpha.unbind(0), W_in.unbind(0), W_out.unbind(0),
                    take(self.bias_out).unbind(0), strict=True)  # fmt: skip
        out = []
        for i, (k, (w, a, w_in, w_out, b_out)) in enumerate(zip(ks, parts, strict=True)):
            out.append(RateParameters(
                W=w, alpha=a, W_in=w_in, bias=None if bias is None else bias[i], W_out=w_out,
                bias_out=b_out, nonlinearity=self.nonlinearity, dt=self.dt,
                noise_in=self.noise_in[k], noise_rec=self.noise_rec[k],
            ))  # fmt: skip
        return out

    def _index(self, networks) -> torch.Tensor:
        ks = [int(k) for k in networks]
        if not ks or any(not 0 <= k < self.n_networks for k in ks) or len(set(ks)) != len(ks):
            raise ValueError(
                f"networks must be distinct indices in [0, {self.n_networks}), got {list(networks)}"
            )
        return torch.tensor(ks, device=self.bias_out.device)

    # -- running -------------------------------------------------------------------------
    def run_networks(
        self,
        inputs: Sequence,
        *,
        networks: Sequence[int] | None = None,
        generators: Sequence[torch.Generator | None] | None = None,
        noise: bool = True,
    ) -> list[ModelOutput]:
        """Run each of ``networks`` (default all) on its own trials.

        Parameters
        ----------
        inputs : sequence of Tensor or array, each (trial, time, n_input)
            One batch per network run; their lengths may differ.
        networks : sequence of int, optional
            Which networks run, in the order of ``inputs``.
        generators : sequence of torch.Generator, optional
            One noise source per network run: network ``k`` given the generator a
            RateRNN is given draws the same noise as that RateRNN.
        noise : bool
            Add each network's recurrent and input noise.

        Returns
        -------
        list of ModelOutput
            One per network run, as :meth:`RateRNN.forward` returns it.
        """
        params = self.parameters_now(networks)
        if len(inputs) != len(params):
            raise ValueError(f"inputs holds {len(inputs)} batches for {len(params)} networks")
        if generators is None:
            generators = [None] * len(params)
        if len(generators) != len(params):
            raise ValueError(f"generators holds {len(generators)} for {len(params)} networks")
        ks = range(self.n_networks) if networks is None else [int(k) for k in networks]
        out = []
        for k, p, u, gen in zip(ks, params, inputs, generators, strict=True):
            u = self._prepare_inputs(u)
            x = self.initial_state[k].to(u.dtype).expand(u.shape[0], self.n_hidden)
            out.append(run_rate_network(p, u, x, noise=noise, generator=gen,
                                        use_scan=self.use_scan))  # fmt: skip
        return out

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run every network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input) or (network, trial, time, n_input)
            The same trials for every network, or each network's own.
        initial_state : None
            Every network starts from its own ``initial_state`` buffer (zeros).
        noise : bool
            Add the recurrent and input noise.
        generator : torch.Generator or sequence of them, optional
            One noise source drawn from by each network in turn, or one per network.

        Returns
        -------
        ModelOutput
            ``outputs`` (network, trial, time, n_output), ``rates`` and ``states``
            (network, trial, time, n_hidden).
        """
        if initial_state is not None:
            raise ValueError("initial_state must be None: each network starts from its own buffer")
        if getattr(inputs, "ndim", None) == 4:
            if inputs.shape[0] != self.n_networks:
                raise ValueError(
                    f"inputs has shape {tuple(inputs.shape)}; expected ({self.n_networks}, "
                    f"trial, time, {self.n_input}) or (trial, time, {self.n_input})"
                )
            batches = list(inputs)
        else:
            batches = [inputs] * self.n_networks
        if generator is None or isinstance(generator, torch.Generator):
            generators = [generator] * self.n_networks
        else:
            generators = list(generator)
        outs = self.run_networks(batches, generators=generators, noise=noise)
        return ModelOutput(*(torch.stack(parts) for parts in zip(*outs, strict=True)))

    def regularization(self, rates: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per network (shape (network,)): mean squared rate of ``rates`` (network, trial,
        time, N) and mean squared weight, as :meth:`Model.regularization` takes them.

        Parameters
        ----------
        rates : Tensor, shape (network, trial, time, n_hidden)
            The ``rates`` of a forward pass of the ensemble.

        Returns
        -------
        dict of str to Tensor
            ``"rate"``: the mean of each network's squared rates; ``"weight"``: each
            network's :meth:`weight_penalties`; both of shape (network,).
        """
        rate = torch.stack([r.pow(2).mean() for r in rates.unbind(0)])
        return {"rate": rate, "weight": torch.stack(self.weight_penalties())}

    def weight_penalties(self, networks: Sequence[int] | None = None) -> list[torch.Tensor]:
        """The mean squared weight of each of ``networks`` (default all), in order.

        Averaged over the weight matrices (``weight_rec``, ``weight_in``, ``weight_out``)
        exactly as :meth:`Model.regularization` averages a lone network's: the same
        operations on each network's rows.

        Parameters
        ----------
        networks : sequence of int, optional
            Network indices in ``[0, n_networks)``, in the order wanted (default:
            every network, in order).

        Returns
        -------
        list of Tensor
            One scalar tensor per network in ``networks``, differentiable in the raw
            weights.
        """
        ks = range(self.n_networks) if networks is None else [int(k) for k in networks]
        mats = [p.unbind(0) for _, p in self.named_parameters() if p.ndim == 3]
        return [sum(w[k].pow(2).mean() for w in mats) / max(len(mats), 1) for k in ks]


def _check_networks(networks) -> list[RateRNN]:
    """The networks as a list, or ValueError naming what they do not share."""
    nets = list(networks)
    if not nets:
        raise ValueError("networks must hold at least one RateRNN")
    for i, net in enumerate(nets):
        if type(net) is not RateRNN:
            raise ValueError(f"networks[{i}] is a {type(net).__name__}; expected a RateRNN")
    first = nets[0].config()
    first_params = {n: (p.shape, p.dtype, p.device) for n, p in nets[0].state_dict().items()}
    for i, net in enumerate(nets[1:], start=1):
        cfg = net.config()
        for key in SHARED:
            if cfg[key] != first[key]:
                raise ValueError(
                    f"networks[{i}] has {key}={cfg[key]!r}; networks[0] has {first[key]!r} "
                    f"(an ensemble's networks share {', '.join(SHARED)})"
                )
        params = {n: (p.shape, p.dtype, p.device) for n, p in net.state_dict().items()}
        if params != first_params:
            raise ValueError(
                f"networks[{i}] differs from networks[0] in its parameters' names, shapes, "
                "dtypes or devices"
            )
    return nets
