r"""The iRNN: a ReLU RNN with identity-initialised recurrent weights (Le, Jaitly & Hinton 2015).

The baseline of the wave-RNN paper (Keller et al., ICLR 2024), optionally with the
recurrent matrix initialised to the cyclic shift :math:`\Sigma` instead of the
identity (the paper's "iRNN + Σ-init" ablation).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import check_choice, check_int, check_positive
from ..dynamics.wave import ReLUMapDynamics
from ..seeding import make_rng
from .base import Model, ModelOutput

__all__ = ["IRNN", "IRNN_INITS", "irnn_parameter_count", "matched_irnn_size"]

#: Initialisations of the recurrent matrix U.
IRNN_INITS = ("identity", "shift", "random")


class IRNN(Model):
    r"""ReLU RNN with identity (or shift) initialised recurrent weights.

    .. math::

        h_t = \operatorname{ReLU}\!\left(U h_{t-1} + V x_t + b\right), \qquad
        y_t = W^{out} h_t + b^{out}.

    Initialisation (as in the wave-RNN paper's code):

    * ``init="identity"``: :math:`U = I` (the iRNN).
    * ``init="shift"``: :math:`U = \Sigma`, the cyclic shift
      :math:`(\Sigma h)_j = h_{(j+1) \bmod n}`, the same permutation as a wave-RNN
      channel at its shift initialisation (activity moves one neuron per step towards
      lower indices), but as a dense, untied, trainable matrix.
    * ``init="random"``: PyTorch's ``Linear`` default.

    The recurrent bias starts at 0; :math:`V_{ij} \sim \mathcal N(0, \sigma_V^2)` with
    :math:`\sigma_V` = ``input_std`` and the input bias keeps ``Linear``'s default
    (:math:`b` is the sum of both biases). All of U is trained.

    Parameters
    ----------
    n_input, n_hidden, n_output : int
        Sizes.
    init : {"identity", "shift", "random"}
        Initialisation of U (default ``"identity"``).
    input_std : float
        :math:`\sigma_V` (default 0.001).
    dt : float
        Task time per step in ms (default 1).
    seed : int, optional
        Seed of the initialisation stream.

    Notes
    -----
    Shapes: inputs (trial, time, n_input) → outputs (trial, time, n_output), rates and
    states (trial, time, n_hidden). The input projections of all steps are one
    product before the loop; each step is then one ``addmm`` and a ReLU::

        h = zeros(trial, n)
        for t in range(T):
            h = relu(h @ U.T + drive[:, t])

    Examples
    --------
    >>> net = IRNN(2, 16, 1, seed=0)
    >>> bool(torch.equal(net.weight_rec, torch.eye(16)))
    True
    >>> tuple(net(torch.zeros(3, 5, 2)).outputs.shape)
    (3, 5, 1)
    """

    kind = "irnn"

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        init: str = "identity",
        input_std: float = 1e-3,
        dt: float = 1.0,
        seed: int | None = None,
    ):
        super().__init__()
        self.n_input = check_int("n_input", n_input)
        self.n_hidden = check_int("n_hidden", n_hidden)
        self.n_output = check_int("n_output", n_output)
        init = check_choice("init", init, IRNN_INITS)
        check_positive("input_std", input_std, allow_zero=True)
        self.dt = check_positive("dt", dt)
        self._config = {
            "n_input": self.n_input,
            "n_hidden": self.n_hidden,
            "n_output": self.n_output,
            "init": init,
            "input_std": float(input_std),
            "dt": self.dt,
            "seed": seed,
        }
        n = self.n_hidden
        seed_int = int(make_rng(seed, "init").integers(0, 2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int)
            rec = nn.Linear(n, n)
            lin = nn.Linear(self.n_input, n)
            self.readout = nn.Linear(n, self.n_output)
            self.weight_rec = nn.Parameter(rec.weight.detach().clone())
            self.bias_rec = nn.Parameter(torch.zeros(n))
            self.weight_in = nn.Parameter(lin.weight.detach().clone())
            self.bias_in = nn.Parameter(lin.bias.detach().clone())
            with torch.no_grad():
                if init == "identity":
                    self.weight_rec.copy_(torch.eye(n))
                elif init == "shift":
                    self.weight_rec.copy_(torch.eye(n).roll(1, dims=1))
                else:
                    self.bias_rec.copy_(rec.bias)
                self.weight_in.normal_(0.0, float(input_std))
        self.register_buffer("initial_state", torch.zeros(n))

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network.

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (n_hidden,) or (trial, n_hidden), optional
            :math:`h_0` (default zeros).
        noise, generator
            Accepted for the common model interface; the iRNN is noiseless.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output); ``rates`` and ``states`` are both
            :math:`h_t`, (trial, time, n_hidden), recorded after each step.
        """
        u = self._prepare_inputs(inputs)
        n_trials, n_steps, _ = u.shape
        h = self._initial_state(initial_state, n_trials, u.dtype)
        # Time-major drive, so each step reads a contiguous (trial, n) block.
        drive = torch.addmm(
            self.bias_in + self.bias_rec,
            u.transpose(0, 1).reshape(-1, self.n_input),
            self.weight_in.t(),
        ).view(n_steps, n_trials, -1)
        u_t = self.weight_rec.t()
        hs = []
        for t in range(n_steps):
            h = torch.relu(torch.addmm(drive[t], h, u_t))
            hs.append(h)
        states = torch.stack(hs, dim=1)
        return ModelOutput(self.readout(states), states, states)

    def as_dynamics(self, kind=None, dt=None):
        r"""This network as a :class:`~neurodyn.dynamics.wave.ReLUMapDynamics` (a discrete map).

        The map is :math:`h \mapsto \operatorname{ReLU}(U h + V x + b)` with copies of the
        current weights and :math:`b` the sum of the input and recurrent biases.

        Parameters
        ----------
        kind : {"map"}, optional
            The system analysed: the network's own map, the only kind (None means it).
        dt : float, optional
            Duration of one step in ms (default: the model's ``dt``); it only labels
            time, the map is the same.
        """
        return ReLUMapDynamics.from_irnn(self, kind=kind, dt=dt)


def irnn_parameter_count(n_input: int, n_hidden: int, n_output: int) -> int:
    """Trainable parameters of an :class:`IRNN`.

    The count is :math:`n^2 + n` (recurrent weights and bias) :math:`+ n(m + 1)`
    (input weights and bias) :math:`+ o(n + 1)` (linear read-out), with
    :math:`n, m, o` = ``n_hidden``, ``n_input``, ``n_output``.

    Parameters
    ----------
    n_input : int
        Input size :math:`m`.
    n_hidden : int
        Number of hidden units :math:`n`.
    n_output : int
        Output size :math:`o`.

    Returns
    -------
    int
        The number of trainable scalars, as ``sum(p.numel() for p in
        IRNN(n_input, n_hidden, n_output).parameters())``.

    Examples
    --------
    >>> irnn_parameter_count(10, 100, 10)   # the paper's copy baseline: 12.2k
    12210
    """
    n = n_hidden
    return n * n + n + n * (n_input + 1) + n_output * (n + 1)


def matched_irnn_size(n_params: int, n_input: int, n_output: int) -> int:
    """The ``n_hidden`` whose :class:`IRNN` parameter count is closest to ``n_params``.

    Used to compare an iRNN with another model (e.g. a
    :class:`~neurodyn.rnn_models.WaveRNN`) at an equal number of trainable parameters.

    Parameters
    ----------
    n_params : int
        The parameter budget to match, e.g.
        :func:`~neurodyn.rnn_models.wave.wave_parameter_count` of a wave-RNN.
    n_input : int
        Input size of the iRNN.
    n_output : int
        Output size of the iRNN.

    Returns
    -------
    int
        The hidden size, at least 1, that minimises
        ``abs(irnn_parameter_count(n_input, n_hidden, n_output) - n_params)``.

    Examples
    --------
    >>> from neurodyn.rnn_models.wave import wave_parameter_count
    >>> matched_irnn_size(wave_parameter_count(10, 10, 100, 6), 10, 10)
    102
    """
    # n² + (n_input + n_output + 2) n + n_output = n_params, solved for n.
    a = n_input + n_output + 2
    n = int(round((-a + np.sqrt(a * a + 4 * max(n_params - n_output, 0))) / 2))
    return max(
        1,
        min(
            (n - 1, n, n + 1),
            key=lambda m: abs(irnn_parameter_count(n_input, max(m, 1), n_output) - n_params),
        ),
    )
