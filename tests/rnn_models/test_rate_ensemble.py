"""RateEnsemble: K rate networks stacked, each running as it runs alone.

Tolerance: network k of the ensemble runs the operations its RateRNN runs, on its
slice of the stacked parameters; only the memory those slices sit in differs, which
can change how a BLAS product blocks its sums on some processors: a few ulp per
product, ε = 2^-24 relative. Over T = 12 steps of a recurrence whose Jacobian has
norm of order 1 (spectral radius 1, leak 0.2-0.33) such differences add up to at most
T · 16 ε ≈ 1.2e-5 relative; RTOL = 1e-5 with ATOL = 1e-6 bounds that on values of
order 1 (rates and outputs here are below 3).
"""

import doctest

import numpy as np
import pytest
import torch

import neurodyn.rnn_models.rate_ensemble as module
from neurodyn.rnn_models import RateRNN
from neurodyn.rnn_models.rate_ensemble import RateEnsemble

RTOL, ATOL = 1e-5, 1e-6


def networks():
    options = [
        dict(tau=30.0, noise_rec=0.1, noise_in=0.05, seed=0),
        dict(tau=50.0, noise_rec=0.0, noise_in=0.0, seed=1, e_fraction=0.75),
        dict(tau=[30.0] * 8 + [60.0] * 8, noise_rec=0.2, noise_in=0.0, seed=2, tau_min=12.0),
    ]
    return [RateRNN(3, 16, 2, dt=10.0, dale=True, train_tau=True, **o) for o in options]


def inputs(k, n_trials=5, n_steps=12):
    return torch.randn(n_trials, n_steps, 3, generator=torch.Generator().manual_seed(k))


def test_each_network_runs_as_alone_with_its_own_noise_and_gradient():
    nets = networks()
    ens = RateEnsemble(nets)
    # Networks 2 and 0, each on its own trials (of their own lengths) and noise stream.
    batches = [inputs(2, n_steps=12), inputs(0, n_steps=9)]
    outs = ens.run_networks(
        batches, networks=[2, 0], generators=[torch.Generator().manual_seed(s) for s in (7, 8)]
    )
    loss = sum(out.outputs.pow(2).sum() + out.rates.sum() for out in outs)
    loss.backward()
    for out, k, u, seed in zip(outs, (2, 0), batches, (7, 8), strict=True):
        alone = nets[k]
        ref = alone(u, generator=torch.Generator().manual_seed(seed))
        for a, b in zip(out, ref, strict=True):
            torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)
        (ref.outputs.pow(2).sum() + ref.rates.sum()).backward()
        for name, p in alone.named_parameters():
            torch.testing.assert_close(ens.get_parameter(name).grad[k], p.grad, rtol=RTOL,
                                       atol=ATOL, msg=name)  # fmt: skip
    # Network 1 did not run: its rows have no gradient.
    assert all(p.grad[1].abs().max() == 0 for p in ens.parameters())


def test_forward_runs_every_network_on_shared_or_own_trials():
    nets = networks()
    ens = RateEnsemble(nets)
    shared = inputs(3)
    out = ens(shared, noise=False)
    assert tuple(out.outputs.shape) == (3, 5, 12, 2) and tuple(out.states.shape) == (3, 5, 12, 16)
    own = torch.stack([inputs(k) for k in range(3)])
    out_own = ens(own, noise=False)
    for k, net in enumerate(nets):
        torch.testing.assert_close(out.rates[k], net(shared, noise=False).rates, rtol=RTOL,
                                   atol=ATOL)  # fmt: skip
        torch.testing.assert_close(out_own.outputs[k], net(own[k], noise=False).outputs,
                                   rtol=RTOL, atol=ATOL)  # fmt: skip


def test_networks_come_back_as_the_rate_networks_they_were():
    nets = networks()
    ens = RateEnsemble(nets)
    for k, net in enumerate(nets):
        back = ens.network(k)
        assert back.config() == net.config()
        for (name, v), w in zip(net.state_dict().items(), back.state_dict().values(), strict=True):
            assert torch.equal(v, w), name
    # Setting a network's state changes its rows only.
    ens.load_network_state(0, nets[1].state_dict())
    assert torch.equal(ens.weight_rec[0], nets[1].weight_rec)
    assert torch.equal(ens.weight_rec[1], nets[1].weight_rec)
    assert torch.equal(ens.weight_rec[2], nets[2].weight_rec)
    torch.testing.assert_close(ens.tau[2], nets[2].tau)


def test_penalties_are_each_networks_own():
    nets = networks()
    ens = RateEnsemble(nets)
    out = ens(inputs(4), noise=False)
    reg = ens.regularization(out.rates)
    for k, net in enumerate(nets):
        alone = net.regularization(net(inputs(4), noise=False).rates)
        for key in ("rate", "weight"):
            torch.testing.assert_close(reg[key][k], alone[key], rtol=RTOL, atol=0)
    pair = torch.stack(ens.weight_penalties([2, 0]))
    np.testing.assert_allclose(pair.detach(), reg["weight"][[2, 0]].detach())


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: [], "at least one"),
        (lambda: [RateRNN(3, 16, 2), RateRNN(3, 8, 2)], "n_hidden=8"),
        (lambda: [RateRNN(3, 16, 2), RateRNN(3, 16, 2, dale=True)], "dale=True"),
        (lambda: [RateRNN(3, 16, 2), RateRNN(3, 16, 2, bias=False)], "bias=False"),
        (lambda: [RateRNN(3, 16, 2), RateRNN(3, 16, 2).double()], "dtypes"),
        (lambda: [RateRNN(3, 16, 2), object()], "expected a RateRNN"),
    ],
)
def test_networks_of_another_shape_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        RateEnsemble(make())


def test_bad_calls_are_refused():
    ens = RateEnsemble(networks())
    with pytest.raises(ValueError, match="distinct indices"):
        ens.run_networks([inputs(0)] * 2, networks=[1, 1])
    with pytest.raises(ValueError, match="2 batches for 3 networks"):
        ens.run_networks([inputs(0)] * 2)
    with pytest.raises(ValueError, match=r"expected \(3, trial"):
        ens(torch.zeros(2, 4, 12, 3))
    with pytest.raises(ValueError, match="network index"):
        ens.network(3)
    with pytest.raises(ValueError, match="initial_state"):
        ens(inputs(0), initial_state=torch.zeros(16))


def test_examples_run():
    outcome = doctest.testmod(module)
    assert outcome.attempted > 0 and outcome.failed == 0
