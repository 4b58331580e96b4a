"""Silencing units: what a lesion must and must not change."""

import numpy as np
import pytest
import torch

from neurodyn.analysis import silence_units
from neurodyn.rnn_models import RateRNN


def _net(dale: bool) -> RateRNN:
    return RateRNN(3, 12, 2, dt=10.0, tau=50.0, nonlinearity="softplus", dale=dale, seed=3)


def _outputs(net, inputs):
    with torch.no_grad():
        return net(inputs).outputs.numpy()


@pytest.mark.parametrize("dale", [False, True])
def test_a_silenced_unit_reaches_nothing(dale):
    """Whatever a silenced unit does (here: its bias is changed), the outputs and the
    other units' activity stay the same to the last bit: its outgoing weights are 0."""
    net = _net(dale)
    inputs = torch.randn(4, 30, 3, generator=torch.Generator().manual_seed(0))
    units = [1, 7]
    a = silence_units(net, units)
    b = silence_units(net, units)
    with torch.no_grad():
        b.bias[units] += 5.0
    with torch.no_grad():
        ra, rb = a(inputs), b(inputs)
    others = np.setdiff1d(np.arange(12), units)
    np.testing.assert_array_equal(ra.outputs.numpy(), rb.outputs.numpy())
    np.testing.assert_array_equal(ra.rates.numpy()[..., others], rb.rates.numpy()[..., others])
    # ... while in the intact network the same change does reach the outputs.
    c = _net(dale)
    with torch.no_grad():
        c.bias[units] += 5.0
    assert not np.allclose(_outputs(c, inputs), _outputs(net, inputs))


def test_effective_weights_of_silenced_units_are_zero_and_the_original_is_kept():
    net = _net(dale=True)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    work = silence_units(net, [0, 5])
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    with torch.no_grad():
        w, w_in, w_out = work.W.numpy(), work.W_in.numpy(), work.W_out.numpy()
    assert np.all(w[:, [0, 5]] == 0) and np.all(w[[0, 5], :] == 0)
    assert np.all(w_in[[0, 5], :] == 0) and np.all(w_out[:, [0, 5]] == 0)
    # Dale's law still holds for the units left: signs by presynaptic type.
    assert np.all(w[:, :9][np.arange(12) != 0] >= 0) and np.all(w[:, 10:] <= 0)


def test_silencing_nothing_changes_nothing_and_bad_indices_are_refused():
    net = _net(dale=False)
    inputs = torch.randn(2, 10, 3, generator=torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(_outputs(silence_units(net, []), inputs), _outputs(net, inputs))
    with pytest.raises(ValueError, match="units"):
        silence_units(net, [12])
    with pytest.raises(ValueError, match="units"):
        silence_units(net, [-1])
    with pytest.raises(ValueError, match="units"):
        silence_units(net, [0.5])
