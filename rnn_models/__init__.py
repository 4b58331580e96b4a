"""Model families: constrained rate RNNs, timescale RNNs and PyTorch's RNN, GRU, LSTM.

Every model is a :class:`torch.nn.Module` following :class:`Model`: inputs
(trial, time, input) → :class:`ModelOutput` ``(outputs, rates, states)``.
"""

from .._validation import check_choice
from .base import Model, ModelOutput
from .irnn import IRNN
from .rate import NONLINEARITIES, RateRNN
from .rnns_of_rnns import RNNofRNNs, SparseComboNet, SVDComboNet
from .timescale import TIMESCALE_NONLINEARITIES, TimescaleRNN
from .torch_rnn import TorchRNN
from .wave import ReferenceWaveRNN, WaveRNN, wave_rnn_from_hidden

__all__ = [
    "IRNN",
    "MODELS",
    "NONLINEARITIES",
    "TIMESCALE_NONLINEARITIES",
    "Model",
    "ModelOutput",
    "RNNofRNNs",
    "RateRNN",
    "ReferenceWaveRNN",
    "SVDComboNet",
    "SparseComboNet",
    "TimescaleRNN",
    "TorchRNN",
    "WaveRNN",
    "build_model",
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
    "wave": wave_rnn_from_hidden,
}


def build_model(name: str, *args, **kwargs) -> Model:
    """Build a model by name (``"rate"``, ``"timescale"``, ``"rnn"``, ``"gru"``, ``"lstm"``)."""
    return MODELS[check_choice("model", name, MODELS)](*args, **kwargs)
