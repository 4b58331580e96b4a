r"""Trainable RNNs of RNNs: a certified network with inputs and a read-out.

.. math:: \tau\dot x = -x + W\phi(x) + Lx + W^{in}u + b, \qquad y = W^{out}x + b^{out}

(or :math:`y = W^{out}\phi(x) + b^{out}` with ``readout="rate"``), where
:math:`W` and :math:`L` come from a :class:`~.modules.ContractingModule` (usually an
:class:`~.assembly.Assembly`), so the network contracts in the metric :math:`M` at
rate :math:`c/\tau` for every input sequence. Time is stepped with
:mod:`.stepping` at :math:`\alpha = \Delta t/\tau`.

:class:`SparseComboNet` and :class:`SVDComboNet` build the paper's two flagship
networks (Kozachkov, Ennis & Slotine, NeurIPS 2022, Fig. 2B/C) from sizes alone.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from ..._validation import check_choice, check_int, check_positive
from ...dynamics.contracting import ContractingDynamics
from ...dynamics.nonlinearities import NONLINEARITIES, RATE_NONLINEARITIES
from ...seeding import make_rng, resolve_seed
from ..base import Model, ModelOutput
from .assembly import Assembly, build_module
from .graphs import graph_from_edges
from .modules import ContractingModule, SparseModule, SVDModule
from .stepping import INTEGRATORS, StepBound, cayley, euler_step_bound, metric_norm

__all__ = ["SLOPE_BOUNDS", "RNNofRNNs", "SVDComboNet", "SparseComboNet"]

#: Largest slope of each nonlinearity (every one is also non-decreasing).
SLOPE_BOUNDS = {name: NONLINEARITIES[name].slope_bound for name in RATE_NONLINEARITIES}
READOUTS = ("state", "rate")


class RNNofRNNs(Model):
    r"""A certified contracting network with input weights and a linear read-out.

    Parameters
    ----------
    network : ContractingModule or dict
        The recurrent part (a module or an assembly), or its ``config()``.
    n_input, n_output : int
    nonlinearity : {"relu", "tanh", "softplus", "rectified_tanh"}
        :math:`\phi`; its slope bound must not exceed the network's ``g``.
    tau : float
        Time constant in ms.
    dt : float
        Time step in ms; :math:`\alpha = \Delta t/\tau` must be admissible for the
        integrator (see :mod:`.stepping`).
    integrator : {"splitting", "euler"}
        How time is stepped (see :mod:`.stepping`); ``"splitting"`` keeps the guarantee
        whatever the couplings become.
    readout : {"state", "rate"}
        Read from :math:`x` (the paper's choice) or from :math:`\phi(x)`.
    input_scale : float
        Initial input weights are :math:`N(0, s^2/m)`.
    bias : bool
        Learn a bias :math:`b` (it shifts the fixed point, never the certificate).
    seed : int, optional
        Seeds the input and read-out weights.

    Raises
    ------
    ValueError
        If ``dt`` is beyond the admissible step, or the nonlinearity is steeper than
        the network's certificate allows.

    Examples
    --------
    Contraction in practice: two runs with the same input from different initial
    states converge to the same trajectory:

    >>> from neurodyn.rnn_models.rnns_of_rnns import Assembly, SparseModule, SVDModule
    >>> modules = Assembly([SparseModule(8, density=0.2, seed=0), SVDModule(4, seed=1)],
    ...                    "all_to_all", seed=2)
    >>> net = RNNofRNNs(modules, n_input=2, n_output=1, tau=5.0, dt=1.0, seed=0)
    >>> g = torch.Generator().manual_seed(0)
    >>> u = torch.randn(1, 200, 2, generator=g)
    >>> with torch.no_grad():
    ...     a = net(u, initial_state=torch.zeros(12)).states
    ...     b = net(u, initial_state=3 * torch.randn(12, generator=g)).states
    >>> gap = (a - b).norm(dim=-1)[0]
    >>> net.n_hidden, bool(gap[-1] < 1e-3 * gap[0])
    (12, True)

    Notes
    -----
    Shapes: inputs (trial, time, n_input) → outputs (trial, time, n_output). The
    forward pass is equivalent to the following reference loop::

        C = inv(I - alpha/2 L) @ (I + alpha/2 L)      # "euler": C = I and L in the bracket
        for t in range(T):
            x = C @ ((1 - alpha) * x + alpha * (W @ phi(x) + W_in @ u[t] + b))
            y[t] = W_out @ x + b_out
    """

    kind = "rnns_of_rnns"

    def __init__(
        self,
        network: ContractingModule | dict,
        n_input: int,
        n_output: int,
        *,
        nonlinearity: str = "relu",
        tau: float = 5.0,
        dt: float = 1.0,
        integrator: str = "splitting",
        readout: str = "state",
        input_scale: float = 1.0,
        bias: bool = True,
        seed: int | None = None,
    ):
        super().__init__()
        if isinstance(network, dict):
            network = build_module(network)
        if not isinstance(network, ContractingModule):
            raise ValueError(
                f"network must be a contracting module (SparseModule, SVDModule, Assembly) or "
                f"its config dict, got {type(network).__name__}"
            )
        self.network = network
        self.n_input, self.n_hidden = check_int("n_input", n_input), network.size
        self.n_output = check_int("n_output", n_output)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, SLOPE_BOUNDS)
        self.phi = NONLINEARITIES[self.nonlinearity].torch_function()
        if SLOPE_BOUNDS[self.nonlinearity] > network.g:
            raise ValueError(
                f"nonlinearity={nonlinearity!r} has slope up to {SLOPE_BOUNDS[nonlinearity]:g} "
                f"but the network is certified for g={network.g:g}; build it with g >= "
                f"{SLOPE_BOUNDS[nonlinearity]:g}"
            )
        self.tau = check_positive("tau", tau)
        self.dt = check_positive("dt", dt)
        self.integrator = check_choice("integrator", integrator, INTEGRATORS)
        self.readout = check_choice("readout", readout, READOUTS)
        check_positive("input_scale", input_scale, allow_zero=True)
        seed = resolve_seed(seed)
        self._config = self._base_config(network)
        self._config.update({
            "n_input": self.n_input, "n_output": self.n_output, "nonlinearity": nonlinearity,
            "tau": self.tau, "dt": self.dt, "integrator": self.integrator,
            "readout": self.readout, "input_scale": float(input_scale), "bias": bool(bias),
            "seed": seed,
        })  # fmt: skip
        self._warned = False
        bound = self.step_bound()
        if not bound.admissible(self.alpha):
            raise ValueError(
                f"dt={self.dt:g} ms is beyond the admissible step for integrator="
                f"{self.integrator!r}: alpha = dt/tau = {self.alpha:.4g} must be "
                f"{'<=' if bound.alpha_max >= 1 else '<'} {bound.alpha_max:.4g} (rate c = "
                f"{bound.rate:.4g}, gain a = {bound.gain:.4g}), i.e. dt < "
                f"{bound.alpha_max * self.tau:.4g} ms"
                + (
                    "; the 'splitting' integrator does not depend on the couplings"
                    if self.integrator == "euler"
                    else ""
                )
            )
        rng = make_rng(seed, "init", 1)
        n, m, o = self.n_hidden, self.n_input, self.n_output
        f = torch.get_default_dtype()
        self.weight_in = nn.Parameter(
            torch.tensor(rng.normal(0.0, input_scale / math.sqrt(m), (n, m)), dtype=f)
        )
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None
        self.weight_out = nn.Parameter(
            torch.tensor(rng.normal(0.0, 1.0 / math.sqrt(n), (o, n)), dtype=f)
        )
        self.bias_out = nn.Parameter(torch.zeros(o))
        self.register_buffer("initial_state", torch.zeros(n))

    def _base_config(self, network) -> dict[str, Any]:
        return {"network": network.config()}

    # -- certificate constants ---------------------------------------------------------------
    @property
    def alpha(self) -> float:
        """The Euler fraction :math:`\\Delta t/\\tau`."""
        return self.dt / self.tau

    def metric(self) -> np.ndarray:
        """Diagonal of the contraction metric :math:`M` (float64, shape (n_hidden,))."""
        return self.network.metric().detach().double().cpu().numpy()

    def step_bound(self) -> StepBound:
        """The admissible step of this model's integrator for its current weights."""
        with torch.no_grad():
            m = self.metric()
            w = self.network.weight().double().cpu().numpy()
            gain = self.network.g * metric_norm(w, m)
            if self.integrator == "euler":
                gain += metric_norm(self.network.coupling().double().cpu().numpy(), m)
        return euler_step_bound(self.network.rate(), gain)

    def unit_coords(self):
        if isinstance(self.network, Assembly):
            return {"module": self.network.module_index()}
        return {"module": np.zeros(self.n_hidden, dtype=np.int64)}

    @property
    def W_in(self) -> torch.Tensor:
        """Input weights (n_hidden, n_input)."""
        return self.weight_in

    @property
    def W_out(self) -> torch.Tensor:
        """Read-out weights (n_output, n_hidden)."""
        return self.weight_out

    # -- dynamics ----------------------------------------------------------------------------
    def step_matrices(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""``(A_x, A_phi, C)``: one step is :math:`x' = A_x x + A_\phi\phi(x) + \alpha C d`.

        Splitting: :math:`A_x = (1-\alpha)C`, :math:`A_\phi = \alpha CW`, :math:`C` the
        Cayley map of :math:`L`. Euler: :math:`A_x = (1-\alpha)I + \alpha L`,
        :math:`A_\phi = \alpha W`, :math:`C = I`.
        """
        a = self.alpha
        w, lc = self.network.weight(), self.network.coupling()
        eye = torch.eye(self.n_hidden, dtype=w.dtype, device=w.device)
        if self.integrator == "splitting":
            c = cayley(lc, a)
            return (1.0 - a) * c, a * (c @ w), c
        return (1.0 - a) * eye + a * lc, a * w, eye

    def forward(self, inputs, *, initial_state=None, noise=True, generator=None) -> ModelOutput:
        """Run the network (deterministic; ``noise`` and ``generator`` are accepted and unused).

        Parameters
        ----------
        inputs : Tensor or array, shape (trial, time, n_input)
        initial_state : Tensor, shape (n_hidden,) or (trial, n_hidden), optional
            State :math:`x_0` (default zeros).
        noise : bool
            Accepted for the common interface of models; the network has no noise.
        generator : torch.Generator, optional
            Accepted for the common interface; unused.

        Returns
        -------
        ModelOutput
            ``outputs`` (trial, time, n_output), ``rates`` φ(x) and ``states`` x
            (trial, time, n_hidden), recorded after each step.
        """
        u = self._prepare_inputs(inputs)
        n_trials = u.shape[0]
        x = self._initial_state(initial_state, n_trials, u.dtype)
        if self.integrator == "euler" and self.training and not self._warned:
            bound = self.step_bound()
            if not bound.admissible(self.alpha):
                self._warned = True
                warnings.warn(
                    f"the couplings grew so that alpha = dt/tau = {self.alpha:.4g} exceeds the "
                    f"admissible Euler step {bound.alpha_max:.4g}: the discrete-time network "
                    "is no longer certified; use integrator='splitting'",
                    RuntimeWarning,
                    stacklevel=2,
                )
        a_x, a_phi, c = self.step_matrices()
        drive = u @ self.W_in.T
        if self.bias is not None:
            drive = drive + self.bias
        drive = self.alpha * (drive @ c.T)
        # One matmul per step on [x, φ(x)]: the two step matrices stacked.
        stacked = torch.cat([a_x.T, a_phi.T], dim=0)
        states = []
        for d_t in drive.unbind(1):
            x = torch.addmm(d_t, torch.cat([x, self.phi(x)], dim=1), stacked)
            states.append(x)
        xs = torch.stack(states, dim=1)
        rates = self.phi(xs)
        read = xs if self.readout == "state" else rates
        outputs = read @ self.W_out.T + self.bias_out
        return ModelOutput(outputs, rates, xs)

    def as_dynamics(self, kind: str | None = None, dt: float | None = None):
        """This network as a :class:`~neurodyn.dynamics.contracting.ContractingDynamics`.

        ``kind="ode"`` (default) is the continuous-time system the certificate is for;
        ``kind="map"`` is the step the forward pass takes.

        Parameters
        ----------
        kind : {"ode", "map"}, optional
            The continuous-time system the certificate is for (default), or the
            forward pass's step.
        dt : float, optional
            Must equal the model's ``dt`` when given.
        """
        if dt is not None and not math.isclose(float(dt), self.dt):
            raise ValueError(f"dt={dt} differs from the model's dt={self.dt}; leave it out")
        return ContractingDynamics.from_model(self, kind=kind or "ode")


def _module_seeds(seed: int, n: int) -> list[int]:
    rng = make_rng(seed, "init", 0)
    return [int(s) for s in rng.integers(0, 2**31 - 1, size=n)]


def _graph_arg(graph, n_modules):
    """A graph name, a DiGraph or a list of edges (as stored in a config)."""
    if isinstance(graph, (list, tuple)):
        return graph_from_edges(n_modules, graph)
    return graph


def _split(n_hidden, n_modules) -> int:
    n_hidden, n_modules = check_int("n_hidden", n_hidden), check_int("n_modules", n_modules)
    if n_hidden % n_modules:
        raise ValueError(
            f"n_hidden={n_hidden} is not a multiple of n_modules={n_modules}; expected "
            "equal modules of n_hidden / n_modules units"
        )
    return n_hidden // n_modules


class _ComboNet(RNNofRNNs):
    """A combo net: ``n_modules`` equal modules ``module_cls(size, seed=..., **own)``,
    assembled over ``graph`` with negative feedback; ``own``, the module options, also
    goes into the saved configuration."""

    def __init__(self, module_cls, own, n_input, n_hidden, n_output, n_modules, graph, p,
                 coupling_scale, feedback_metric, seed, **kwargs):  # fmt: skip
        size = _split(n_hidden, n_modules)
        seed = resolve_seed(seed)
        mods = [module_cls(size, seed=s, **own) for s in _module_seeds(seed, n_modules)]
        assembly = Assembly(mods, _graph_arg(graph, n_modules), coupling_scale=coupling_scale,
                            p=p, feedback_metric=feedback_metric, seed=seed)  # fmt: skip
        # A DiGraph is stored as the assembly's edges (nodes relabelled 0..n_modules-1).
        if isinstance(graph, nx.DiGraph):
            graph = [list(e) for e in assembly.graph.edges]
        self._own = {"n_hidden": int(n_hidden), "n_modules": int(n_modules), **own,
                     "graph": graph, "p": float(p), "coupling_scale": float(coupling_scale),
                     "feedback_metric": feedback_metric}  # fmt: skip
        super().__init__(assembly, n_input, n_output, seed=seed, **kwargs)

    def _base_config(self, network):
        return dict(self._own)


_COMMON = """
    n_input, n_hidden, n_output : int
        Sizes; ``n_hidden`` is split into ``n_modules`` equal modules.
    n_modules : int
    graph : {"all_to_all", "feed_forward", "random"}, networkx.DiGraph or list of edges
        Which modules couple (see :mod:`.graphs`).
    p : float
        Edge probability of a random graph.
    coupling_scale : float
        Initial coupling entries :math:`N(0, s^2/n)` on the graph's blocks.
    feedback_metric : {"module", "identity"}
        ``"identity"`` builds the known mistake :math:`L = B - B^\\top` (for tests).
    **kwargs
        Passed to :class:`RNNofRNNs` (``nonlinearity``, ``tau``, ``dt``, ``integrator``,
        ``readout``, ``input_scale``, ``bias``).
    seed : int, optional
        Seeds the modules, couplings, inputs and read-out.
"""


class SparseComboNet(_ComboNet):
    __doc__ = (
        r"""Sparse Combo Net: fixed sparse Theorem-1 modules, trained negative-feedback couplings.

    Parameters
    ----------
    density : float
        Connection density of every module (Theorem 1 needs about
        ``density * (module_size - 1) * scale / 2 < 1``).
    scale : float
        Module weights are :math:`U(-\text{scale}, \text{scale})`.
"""
        + _COMMON
        + """
    Examples
    --------
    >>> net = SparseComboNet(1, 32, 10, n_modules=4, density=0.15, seed=0)
    >>> net(torch.zeros(2, 5, 1)).outputs.shape
    torch.Size([2, 5, 10])
    >>> net.network.rate() > 0
    True
    """
    )

    kind = "sparse_combo"

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        n_modules: int = 8,
        density: float = 0.1,
        scale: float = 1.0,
        graph="all_to_all",
        p: float = 0.5,
        coupling_scale: float = 1.0,
        feedback_metric: str = "module",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(SparseModule, {"density": float(density), "scale": float(scale)},
                         n_input, n_hidden, n_output, n_modules, graph, p, coupling_scale,
                         feedback_metric, seed, **kwargs)  # fmt: skip


class SVDComboNet(_ComboNet):
    __doc__ = (
        r"""SVD Combo Net: trainable Theorem-5 modules with negative-feedback couplings.

    Parameters
    ----------
    margin : float
        Guaranteed rate of every module (singular values at most ``(1 - margin)/g``).
    metric_spread : float
        Spread of the modules' initial log-metric.
"""
        + _COMMON
        + """
    Examples
    --------
    >>> net = SVDComboNet(1, 32, 10, n_modules=4, seed=0)
    >>> net.network.rate() >= 0.05
    True
    """
    )

    kind = "svd_combo"

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        n_modules: int = 8,
        margin: float = 0.05,
        metric_spread: float = 0.25,
        graph="all_to_all",
        p: float = 0.5,
        coupling_scale: float = 1.0,
        feedback_metric: str = "module",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(SVDModule, {"margin": float(margin), "metric_spread": float(metric_spread)},
                         n_input, n_hidden, n_output, n_modules, graph, p, coupling_scale,
                         feedback_metric, seed, **kwargs)  # fmt: skip
