"""Torch devices: which one a call runs on, decided in one place.

Every public entry point that runs a network (:func:`neurodyn.fit`,
:func:`neurodyn.simulate`, the run folders and the command line) takes
``device=`` and resolves it with :func:`resolve_device`:

``"auto"``
    CUDA (the current CUDA device) when ``torch.cuda.is_available()``, else the CPU.
``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a :class:`torch.device`
    That device; a device this process cannot use is refused with a ValueError
    that says why, before anything is computed or written.

Trial data are always drawn with NumPy on the CPU and then moved (:func:`to_device`),
so the same seed gives the same trials on every device; see
:func:`neurodyn.simulate` for what is reproducible of the network's noise.
"""

from __future__ import annotations

import re

__all__ = ["AUTO", "model_device", "resolve_device", "to_device"]

#: The device argument that picks CUDA when present, else the CPU.
AUTO = "auto"

_SPEC = re.compile(r"^(cpu|cuda|mps)(:\d+)?$")


def resolve_device(device=AUTO):
    """The :class:`torch.device` that ``device`` names, checked to be usable here.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a
        :class:`torch.device`.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``device`` is not one of the above, or names a device that this process
        cannot use (no CUDA build or no GPU, an index beyond the GPUs present).

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    import torch

    if isinstance(device, torch.device):
        spec = str(device)
    elif isinstance(device, str):
        spec = device.strip().lower()
    else:
        spec = None
    if spec == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec is None or not _SPEC.match(spec):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device, "
            f"got {device!r}"
        )
    dev = torch.device(spec)
    if dev.type == "cuda":
        _check_cuda(torch, dev, device)
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r}: this PyTorch build or machine has no MPS (Apple GPU) "
            "support; use device='cpu' or 'auto'"
        )
    return dev


def _check_cuda(torch, dev, device) -> None:
    if not torch.cuda.is_available():
        build = (
            f"this PyTorch build ({torch.__version__}) has no CUDA support"
            if torch.version.cuda is None
            else "no CUDA GPU is visible to this process"
        )
        raise ValueError(
            f"device={device!r} asks for a GPU, but torch.cuda.is_available() is False: "
            f"{build}; use device='cpu', or 'auto' to take a GPU only when one is present"
        )
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise ValueError(
            f"device={device!r}: this process sees {count} CUDA device(s), "
            f"numbered 0 to {count - 1}"
        )


def model_device(model):
    """The device of ``model``'s first parameter or buffer (the CPU if it has neither).

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> from neurodyn.rnn_models import RateRNN
    >>> model_device(RateRNN(1, 4, 1))
    device(type='cpu')
    """
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def to_device(array, device, *, dtype=None):
    """A NumPy array as a tensor on ``device`` (pinned and copied asynchronously to a GPU).

    Parameters
    ----------
    array : ndarray
    device : torch.device
    dtype : torch.dtype, optional
        Cast after the copy (default: the array's own).

    Examples
    --------
    >>> import numpy as np, torch
    >>> to_device(np.ones(3, dtype=np.float32), torch.device("cpu")).sum().item()
    3.0
    """
    import torch

    if not array.flags.writeable:  # torch warns about sharing read-only memory
        array = array.copy()
    tensor = torch.from_numpy(array)
    if device.type == "cuda":
        # A pinned host buffer lets the copy overlap with the GPU's queued work.
        tensor = tensor.pin_memory().to(device, non_blocking=True)
    elif device.type != "cpu":
        tensor = tensor.to(device)
    return tensor if dtype is None else tensor.to(dtype)
