r"""How a model is fitted to recorded activity: which of its quantities meet the neurons.

:func:`~neurodyn.train.fit` trains on a recording (:mod:`neurodyn.io.recordings`)
with the loop it uses for tasks. This module turns the recording into the training
Dataset that loop reads (``inputs``; ``targets`` = the activity along ``output``;
``mask`` = the observation mask) and builds the :class:`Observation` that maps the
model's forward pass to what the objective (:mod:`neurodyn.train.objectives`)
compares with the activity:

``observed="units"`` (or an array of unit indices; CURBD, Perich et al. 2020)
    recorded neuron :math:`i` is unit :math:`j_i` of the network (the first
    ``n_neurons`` units for ``"units"``). ``"mse"`` compares the rates
    :math:`\phi(x_{j_i})` with the activity; ``"poisson"`` reads :math:`\phi(x)` as a
    rate in spikes per ms, so the expected count per bin is
    :math:`\lambda = \phi(x_{j_i})\,\Delta t + \varepsilon` (:data:`RATE_FLOOR`
    keeps :math:`\log\lambda` finite where a rectified φ is 0; it needs a
    non-negative φ).
``observed="readout"`` (LFADS / LINT style)
    the neurons are the model's own output layer :math:`y = W^{out} r + b^{out}`
    (``n_output`` must equal the number of neurons): linear for ``"mse"``
    (:math:`\hat a = y`), exponential-Poisson for ``"poisson"``,
    :math:`\lambda = e^{y}\,\Delta t` counts per bin (:math:`e^{y}` in spikes per
    ms, :math:`\Delta t` in ms).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from ..dynamics.nonlinearities import NONLINEARITIES
from ..io.recordings import check_recording

logger = logging.getLogger(__name__)

__all__ = [
    "OBSERVED",
    "RATE_FLOOR",
    "Observation",
    "is_recording",
    "recorded_data",
    "recorded_validation",
]

#: The named ways recorded neurons relate to a model (an array of unit indices is the third).
OBSERVED = ("units", "readout")

#: Expected count per bin added to :math:`\phi(x)\,\Delta t` under ``observed="units"``
#: with the Poisson objective: a count seen where a rectified unit is silent costs
#: :math:`-k\log\varepsilon \approx 18.4\,k` nats instead of an infinite loss.
RATE_FLOOR = 1e-8


def is_recording(data) -> bool:
    """Whether ``data`` is a recorded-activity Dataset (it has an ``activity`` variable).

    Parameters
    ----------
    data : object
        What :func:`~neurodyn.train.fit` was given to train on.

    Examples
    --------
    >>> from neurodyn.io import recording
    >>> from neurodyn.tasks import FlipFlop
    >>> rec = recording(np.ones((4, 6, 2)), dt=10.0, kind="counts")
    >>> is_recording(rec), is_recording(FlipFlop().batch(2, seed=0).to_xarray())
    (True, False)
    """
    return isinstance(data, xr.Dataset) and "activity" in data.data_vars


@dataclass(frozen=True)
class Observation:
    r"""How the recorded neurons are read from a model's forward pass.

    Attributes
    ----------
    objective : {"mse", "poisson"}
    units : tuple of int or None
        The unit of each recorded neuron; None for the model's readout.
    dt : float
        Bin width (ms).

    Examples
    --------
    Three recorded neurons read as the first three units of a softplus network, with
    the Poisson objective: the expected count per bin is :math:`\phi(x)\Delta t`
    (plus :data:`RATE_FLOOR`).

    >>> from neurodyn.rnn_models import RateRNN
    >>> model = RateRNN(1, 8, 1, nonlinearity="softplus", seed=0)
    >>> obs = Observation("poisson", units=(0, 1, 2), dt=10.0)
    >>> out = model(torch.zeros(4, 6, 1), noise=False)
    >>> eta = obs.predict(out)
    >>> eta.shape, torch.allclose(eta.exp(), out.rates[..., :3] * 10.0 + RATE_FLOOR)
    (torch.Size([4, 6, 3]), True)
    >>> torch.allclose(obs.rates(out), eta.exp())
    True
    """

    objective: str
    units: tuple[int, ...] | None
    dt: float

    def predict(self, out) -> torch.Tensor:
        """What the objective compares with the activity: predicted activity (``"mse"``)
        or the log expected count per bin :math:`\\log\\lambda` (``"poisson"``).

        Parameters
        ----------
        out : ModelOutput
            The model's forward pass (its ``rates``, or its ``outputs`` for the
            readout), shaped (trial, time, ...).

        Returns
        -------
        torch.Tensor, shape (trial, time, neuron)
        """
        if self.units is None:
            if self.objective == "mse":
                return out.outputs
            return out.outputs + math.log(self.dt)
        n = len(self.units)
        if self.units == tuple(range(n)):
            rates = out.rates[..., :n]
        else:
            index = torch.as_tensor(self.units, device=out.rates.device)
            rates = out.rates.index_select(-1, index)
        if self.objective == "mse":
            return rates
        return torch.log(rates * self.dt + RATE_FLOOR)

    def rates(self, out) -> torch.Tensor:
        """The predicted activity: rates (``"mse"``) or expected counts per bin (``"poisson"``).

        Parameters
        ----------
        out : ModelOutput
            The model's forward pass.

        Returns
        -------
        torch.Tensor, shape (trial, time, neuron)
        """
        pred = self.predict(out)
        return pred if self.objective == "mse" else torch.exp(pred)


def recorded_data(model, recorded, *, objective, observed) -> tuple[xr.Dataset, Observation]:
    """Check a recording against the model; return its training Dataset and the
    :class:`Observation` of its neurons.

    Parameters
    ----------
    model : Model
    recorded : xarray.Dataset
        A recording (:func:`~neurodyn.io.check_recording` checks it).
    objective : {"mse", "poisson"} or None
        None: ``"poisson"`` for spike counts, else ``"mse"``.
    observed : {"units", "readout"}, array of int or None
        How the neurons relate to the model (None: ``"units"``).

    Returns
    -------
    data : xarray.Dataset
        ``inputs`` (trial, time, input), ``targets`` (the activity, along ``output``
        labelled by neuron; NaN where unobserved) and ``mask``, with ``attrs["dt"]``.
    observation : Observation

    Raises
    ------
    ValueError
        Naming ``recorded``'s problem, ``objective`` or ``observed``.

    Examples
    --------
    Spike counts of three neurons default to the Poisson objective, the neurons read
    as the model's first units:

    >>> from neurodyn.io import recording
    >>> from neurodyn.rnn_models import RateRNN
    >>> rec = recording(np.ones((4, 6, 3)), dt=10.0, kind="counts")
    >>> model = RateRNN(1, 8, 1, nonlinearity="softplus", dt=10.0, seed=0)
    >>> data, obs = recorded_data(model, rec, objective=None, observed=None)
    >>> obs
    Observation(objective='poisson', units=(0, 1, 2), dt=10.0)
    >>> dict(data.sizes), list(data.data_vars)
    ({'trial': 4, 'time': 6, 'input': 1, 'output': 3}, ['inputs', 'targets', 'mask'])
    >>> recorded_data(RateRNN(1, 8, 3, dt=10.0), rec, objective="poisson",
    ...               observed="readout")[1].units is None  # the model's own readout
    True
    """
    check_recording(recorded)
    objective = _objective(objective, recorded.attrs["kind"])
    n_neurons = recorded.sizes["neuron"]
    obs = Observation(
        objective, _units(model, observed, n_neurons, objective), float(recorded.attrs["dt"])
    )
    return training_dataset(model, recorded, "recorded"), obs


def recorded_validation(model, validation, recorded) -> xr.Dataset:
    """The training Dataset of ``validation``, a held-out recording of the neurons of
    ``recorded`` (same number and kind).

    Parameters
    ----------
    model : Model
        The model fitted (its ``n_input`` is checked against the inputs).
    validation : xarray.Dataset
        The held-out recording.
    recorded : xarray.Dataset
        The recording trained on.

    Returns
    -------
    xarray.Dataset
        ``inputs``, ``targets`` and ``mask``, as :func:`recorded_data` makes them.

    Raises
    ------
    ValueError
        Naming ``validation``.

    Examples
    --------
    >>> from neurodyn.io import recording
    >>> from neurodyn.rnn_models import RateRNN
    >>> model = RateRNN(1, 8, 1, dt=10.0)
    >>> rec = recording(np.ones((4, 6, 3)), dt=10.0, kind="counts")
    >>> held_out = recording(np.ones((2, 6, 3)), dt=10.0, kind="counts")
    >>> dict(recorded_validation(model, held_out, rec).sizes)
    {'trial': 2, 'time': 6, 'input': 1, 'output': 3}
    >>> recorded_validation(model, recording(np.ones((2, 6, 2)), dt=10.0, kind="counts"), rec)
    Traceback (most recent call last):
    ...
    ValueError: validation has 2 neurons of kind 'counts'; recorded has 3 of kind 'counts'
    """
    check_recording(validation)
    n_neurons, kind = recorded.sizes["neuron"], recorded.attrs["kind"]
    if validation.sizes["neuron"] != n_neurons or validation.attrs["kind"] != kind:
        raise ValueError(
            f"validation has {validation.sizes['neuron']} neurons of kind "
            f"{validation.attrs['kind']!r}; recorded has {n_neurons} of kind {kind!r}"
        )
    return training_dataset(model, validation, "validation")


def _objective(objective, kind: str) -> str:
    if objective is None:
        return "poisson" if kind == "counts" else "mse"
    if objective == "poisson" and kind != "counts":
        raise ValueError(
            "objective='poisson' needs spike counts (recorded.attrs['kind'] == 'counts'); "
            f"this recording holds {kind!r}: use objective='mse'"
        )
    return objective


def _units(model, observed, n_neurons: int, objective: str) -> tuple[int, ...] | None:
    """The unit of each neuron (None for the readout), checked against the model."""
    if observed is None:
        observed = "units"
    if isinstance(observed, str):
        if observed == "readout":
            if model.n_output != n_neurons:
                raise ValueError(
                    f"observed='readout' needs the model's n_output to equal the number of "
                    f"recorded neurons ({n_neurons}); the model has n_output={model.n_output}"
                )
            return None
        if n_neurons > model.n_hidden:
            raise ValueError(
                f"observed='units' maps the {n_neurons} recorded neurons to the model's first "
                f"units, but it has n_hidden={model.n_hidden}"
            )
        units = tuple(range(n_neurons))
    else:
        units = _unit_indices(observed, n_neurons, model.n_hidden)
    if objective == "poisson":
        _check_nonnegative_rates(model)
    return units


def _unit_indices(observed, n_neurons: int, n_hidden: int) -> tuple[int, ...]:
    a = np.asarray(observed)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError(
            f"observed must be 'units', 'readout' or a 1-D array of unit indices, got {observed!r}"
        )
    if a.size != n_neurons or len(set(a.tolist())) != a.size:
        raise ValueError(
            f"observed must hold {n_neurons} distinct unit indices (one per recorded neuron), "
            f"got {a.size} with {len(set(a.tolist()))} distinct"
        )
    if a.min() < 0 or a.max() >= n_hidden:
        raise ValueError(f"observed holds unit indices outside [0, {n_hidden}): {a.tolist()}")
    return tuple(int(i) for i in a)


def _check_nonnegative_rates(model) -> None:
    """Rates read as Poisson intensities must be non-negative."""
    name = model.config().get("nonlinearity")
    phi = NONLINEARITIES.get(name) if isinstance(name, str) else None
    if phi is None or phi.lower < 0:
        raise ValueError(
            "observed='units' with objective='poisson' reads the rates φ(x) as spikes per ms, "
            f"so φ must be non-negative; the model's nonlinearity is {name!r} (use 'softplus', "
            "'relu' or 'rectified_tanh', or observed='readout' with its exponential link)"
        )


def training_dataset(model, rec: xr.Dataset, what: str) -> xr.Dataset:
    """The inputs/targets/mask Dataset of a recording, as :func:`fit` trains on it.

    Inputs after a trial's length (padding, possibly NaN) become 0; a recording
    without inputs drives the model with zeros on its ``n_input`` channels.
    """
    n_trial, n_time = rec.sizes["trial"], rec.sizes["time"]
    valid = np.arange(n_time)[None, :] < rec["length"].values[:, None]
    if "inputs" in rec.data_vars:
        if rec.sizes["input"] != model.n_input:
            raise ValueError(
                f"{what} has {rec.sizes['input']} input channels; the model expects "
                f"n_input={model.n_input}"
            )
        inputs = np.where(valid[..., None], rec["inputs"].values, 0.0).astype(np.float32)
    else:
        # A recording of spontaneous activity: legitimate, so no refusal, but said, since
        # a file read without its input channels lands here too.
        logger.info(
            "%s has no inputs: the model's %d input channel(s) receive zeros", what, model.n_input
        )
        inputs = np.zeros((n_trial, n_time, model.n_input), dtype=np.float32)
    mask = rec["mask"].values.astype(np.float32)
    targets = np.where(mask > 0, rec["activity"].values, np.nan).astype(np.float32)
    trial_coords = {k: c for k, c in rec.coords.items() if c.dims == ("trial",)}
    ds = xr.Dataset(
        {
            "inputs": (("trial", "time", "input"), inputs),
            "targets": (("trial", "time", "output"), targets),
            "mask": (("trial", "time", "output"), mask),
        },
        coords={
            **trial_coords,
            "time": rec["time"].values,
            "input": [f"in{i}" for i in range(inputs.shape[-1])],
            "output": np.asarray(rec["neuron"].values),
        },
        attrs={"dt": float(rec.attrs["dt"])},
    )
    return ds
