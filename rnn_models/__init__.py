"""Model families: rate, low-rank and timescale RNNs, and PyTorch's RNN, GRU, LSTM.

Every model is a :class:`torch.nn.Module` following :class:`Model`: inputs
(trial, time, input) → :class:`ModelOutput` ``(outputs, rates, states)``.
"""

import difflib
import inspect

from .._validation import check_choice
from .base import Model, ModelOutput
from .irnn import IRNN
from .low_rank import LowRankRNN
from .rate import NONLINEARITIES, RateRNN
from .rate_ensemble import RateEnsemble
from .rnns_of_rnns import RNNofRNNs, SparseComboNet, SVDComboNet
from .timescale import TIMESCALE_NONLINEARITIES, TimescaleRNN
from .torch_rnn import TorchRNN
from .wave import ReferenceWaveRNN, WaveRNN, wave_rnn_from_hidden

__all__ = [
    "IRNN",
    "MODELS",
    "NONLINEARITIES",
    "TIMESCALE_NONLINEARITIES",
    "LowRankRNN",
    "Model",
    "ModelOutput",
    "RNNofRNNs",
    "RateEnsemble",
    "RateRNN",
    "ReferenceWaveRNN",
    "SVDComboNet",
    "SparseComboNet",
    "TimescaleRNN",
    "TorchRNN",
    "WaveRNN",
    "build_model",
    "model_options",
]

#: Model constructors by name, as used by the command line and saved files.
MODELS = {
    "rate": RateRNN,
    "timescale": TimescaleRNN,
    "rnn": lambda *a, **k: TorchRNN("rnn", *a, **k),
    "gru": lambda *a, **k: TorchRNN("gru", *a, **k),
    "lstm": lambda *a, **k: TorchRNN("lstm", *a, **k),
    "sparse_combo": SparseComboNet,
    "svd_combo": SVDComboNet,
    "irnn": IRNN,
    "low_rank": LowRankRNN,
    "wave": wave_rnn_from_hidden,
}


#: The callables whose keyword arguments each name of MODELS accepts (a callable taking
#: ``**kwargs`` passes them on to the next one).
_TARGETS = {
    "rate": (RateRNN,),
    "timescale": (TimescaleRNN,),
    "rnn": (TorchRNN,),
    "gru": (TorchRNN,),
    "lstm": (TorchRNN,),
    "sparse_combo": (SparseComboNet, RNNofRNNs),
    "svd_combo": (SVDComboNet, RNNofRNNs),
    "irnn": (IRNN,),
    "low_rank": (LowRankRNN,),
    "wave": (wave_rnn_from_hidden, WaveRNN),
}
#: Arguments build_model fills itself (sizes, the cell type, the recurrent part).
_FILLED = {"cell", "network", "n_input", "n_hidden", "n_output", "n_neurons"}


def model_options(name: str) -> list[str]:
    """The keyword arguments :func:`build_model` accepts for the model ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`.

    Examples
    --------
    >>> "tau" in model_options("rate"), "tau" in model_options("gru")
    (True, False)
    """
    name = check_choice("model", name, MODELS)
    keep = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {
        p.name
        for fn in _TARGETS[name]
        for p in inspect.signature(fn).parameters.values()
        if p.kind in keep
    }
    return sorted(names - _FILLED)


def build_model(name: str, n_input: int, n_hidden: int, n_output: int, **kwargs) -> Model:
    """Build a model by name (a key of :data:`MODELS`: ``"rate"``, ``"gru"``, ``"wave"``…).

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`: ``"rate"``, ``"timescale"``, ``"rnn"``, ``"gru"``,
        ``"lstm"``, ``"sparse_combo"``, ``"svd_combo"``, ``"irnn"``, ``"low_rank"`` or
        ``"wave"``.
    n_input : int
        Input size (channels of the task's inputs).
    n_hidden : int
        Total number of hidden units (for ``"wave"`` the channels times the neurons per
        channel, see :func:`~neurodyn.rnn_models.wave.wave_rnn_from_hidden`; for the
        combo nets the units of all modules together).
    n_output : int
        Output size (channels of the task's targets).
    **kwargs
        Options of that model, as :func:`model_options` lists them (``seed``, ``dt``,
        ``tau``…).

    Returns
    -------
    Model

    Raises
    ------
    ValueError
        If ``name`` is unknown, or a keyword argument is not an option of that model
        (the message suggests the closest option and lists them all).

    Examples
    --------
    >>> build_model("gru", 3, 16, 2, seed=0).n_hidden
    16
    >>> build_model("rate", 3, 16, 2, nonlinarity="relu")
    Traceback (most recent call last):
    ...
    ValueError: model 'rate' has no option 'nonlinarity'. Did you mean 'nonlinearity'? Options: autapses, bias, dale, dt, e_fraction, input_mask, noise_in, noise_rec, nonlinearity, output_mask, readout_from_e, recurrent_mask, seed, spectral_radius, tau, tau_min, train_tau
    """
    name = check_choice("model", name, MODELS)
    options = model_options(name)
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        close = difflib.get_close_matches(unknown[0], options, n=1)
        hint = f". Did you mean {close[0]!r}?" if close else "."
        raise ValueError(
            f"model {name!r} has no option {unknown[0]!r}{hint} Options: {', '.join(options)}"
        )
    return MODELS[name](n_input, n_hidden, n_output, **kwargs)
