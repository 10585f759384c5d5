"""cnnbook.torch's random layers, Dropout and StochasticPool2d, tested statistically.

Every statistical bound is five standard deviations of the quantity it bounds, so a
correct layer fails with probability below 1e-6; the seeds are fixed anyway.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import cnnbook.torch as ct

F64 = torch.float64


def five_sigma(p, n):
    """Five standard deviations of the fraction of successes in n Bernoulli(p) draws."""
    return 5 * math.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_drops_a_fraction_p_and_scales_the_rest(p):
    torch.manual_seed(0)
    n = 200_000
    x = torch.rand(n, dtype=F64) + 0.5  # no zeros of its own
    y = ct.Dropout(p)(x)
    dropped = y == 0
    assert abs(dropped.double().mean().item() - p) < five_sigma(p, n)
    torch.testing.assert_close(y[~dropped], x[~dropped] / (1 - p), rtol=1e-15, atol=0)
    # inverted dropout keeps the expectation: y - x = x * (mask / (1 - p) - 1) has mean 0
    # and variance x^2 * p / (1 - p) per element
    spread = math.sqrt((x * x).mean().item() * p / (1 - p) / n)
    assert abs(y.mean().item() - x.mean().item()) < 5 * spread


def test_dropout_gradient_is_the_same_mask_and_scale():
    torch.manual_seed(1)
    x = (torch.rand(1000, dtype=F64) + 0.5).requires_grad_()
    y = ct.Dropout(0.3)(x)
    g = torch.randn(1000, dtype=F64)
    y.backward(g)
    kept = y.detach() != 0
    assert 600 < kept.sum() < 800
    torch.testing.assert_close(x.grad, g * kept / 0.7)


def test_dropout_draws_a_fresh_mask_each_call_and_is_the_identity_in_eval():
    torch.manual_seed(2)
    layer = ct.Dropout(0.5)
    x = torch.ones(1000, dtype=F64)
    assert not torch.equal(layer(x) == 0, layer(x) == 0)
    layer.eval()
    assert layer(x) is x


def test_dropout_extremes_and_inplace():
    x = torch.rand(100, dtype=F64) + 0.5
    assert torch.equal(ct.Dropout(0.0)(x), x)
    base = x.clone().requires_grad_()
    y = ct.Dropout(1.0)(base)
    y.sum().backward()
    assert torch.equal(y, torch.zeros_like(x)) and torch.equal(base.grad, torch.zeros_like(x))
    z = x.clone()
    out = ct.Dropout(0.5, inplace=True)(z)
    assert out.data_ptr() == z.data_ptr() and (z == 0).any() and not (x == 0).any()


def test_dropout_mask_equals_torch_under_the_same_seed():
    # Both draw bernoulli(1 - p) over a tensor like the input, so on the CPU one seed
    # gives one mask: the twin is torch's dropout, not merely one like it.
    x = torch.randn(4, 500, dtype=F64)
    torch.manual_seed(3)
    theirs = nn.Dropout(0.3)(x)
    torch.manual_seed(3)
    ours = ct.Dropout(0.3)(x)
    assert torch.equal(ours, theirs)


# ---------------------------------------------------------------- stochastic pooling


def test_stochastic_pool_samples_in_proportion_to_the_activations():
    torch.manual_seed(4)
    windows = 40_000
    # every 2x2 window holds 1, 2, 3, 4 (in a random order per window): p = a / 10
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    order = torch.argsort(torch.rand(windows, 4), dim=1)
    x = values[order].view(1, windows, 2, 2)
    y = ct.StochasticPool2d(2)(x).flatten()
    for value in values.tolist():
        frequency = (y == value).double().mean().item()
        assert abs(frequency - value / 10) < five_sigma(value / 10, windows), value
    assert torch.isin(y, values).all()


def test_stochastic_pool_never_samples_a_zero_activation():
    torch.manual_seed(5)
    x = torch.tensor([[0.0, 1e-3], [5.0, 0.0]], dtype=F64).repeat(1, 5000, 1, 1)
    y = ct.StochasticPool2d(2)(x).flatten()
    assert not (y == 0).any()
    # 1e-3 against 5: about 1 sample in 5000 is the small one; it must not be excluded
    assert abs((y == 1e-3).double().mean().item() - 1e-3 / 5.001) < five_sigma(2e-4, 5000)


@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 2), (2, 1), ((2, 3), (1, 2))])
def test_stochastic_pool_routes_the_gradient_to_the_sampled_element(kernel_size, stride):
    torch.manual_seed(6)
    x = (torch.rand(2, 3, 7, 8, dtype=F64) + 0.1).requires_grad_()  # distinct values
    layer = ct.StochasticPool2d(kernel_size, stride)
    y = layer(x)
    g = torch.randn(y.shape, dtype=F64)
    y.backward(g)

    # Rebuild the expected gradient window by window: the output is one element of
    # its window, found by value, and its upstream gradient lands there (adding up
    # where overlapping windows picked the same element).
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    stride = stride if stride is not None else kernel_size
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    expected = torch.zeros_like(x)
    data = x.detach()
    for n, c, i, j in torch.cartesian_prod(*(torch.arange(s) for s in y.shape)).tolist():
        window = data[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
        hits = (window == y[n, c, i, j]).nonzero()
        assert len(hits) == 1  # the output is one of the window's elements
        r, s = hits[0].tolist()
        expected[n, c, i * sh + r, j * sw + s] += g[n, c, i, j]
    # (overlapping windows add in another order: equal up to rounding)
    torch.testing.assert_close(x.grad, expected, rtol=1e-14, atol=1e-15)


def reference_eval(x, kernel_size, stride):
    """sum_i p_i a_i = sum a^2 / sum a, from torch's own average pooling (1/k cancels)."""
    mean = F.avg_pool2d(x, kernel_size, stride)
    mean_sq = F.avg_pool2d(x * x, kernel_size, stride)
    nonzero = mean > 0
    return torch.where(nonzero, mean_sq / torch.where(nonzero, mean, 1.0), 0.0)


@settings(max_examples=25, deadline=None)
@given(
    kernel_size=st.integers(1, 3),
    stride=st.one_of(st.none(), st.integers(1, 3)),
    batch=st.integers(1, 2),
    height=st.integers(3, 7),
    width=st.integers(3, 7),
    seed=st.integers(0, 2**31 - 1),
)
def test_stochastic_pool_eval_is_the_probability_weighted_average(kernel_size, stride, batch,
                                                                  height, width, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 2, height, width, generator=g, dtype=F64).clamp(min=0)  # half zeros
    x[:, 0, :3, :3] = 0.0  # at least one window of zeros
    layer = ct.StochasticPool2d(kernel_size, stride).eval()
    ours_x = x.clone().requires_grad_()
    ref_x = x.clone().requires_grad_()
    y = layer(ours_x)
    expected = reference_eval(ref_x, kernel_size, stride)
    torch.testing.assert_close(y, expected, rtol=1e-12, atol=1e-15)
    upstream = torch.randn(y.shape, generator=g, dtype=F64)
    y.backward(upstream)
    expected.backward(upstream)
    assert torch.isfinite(ours_x.grad).all()
    torch.testing.assert_close(ours_x.grad, ref_x.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("training", [True, False])
def test_stochastic_pool_window_of_zeros_gives_zero_and_no_gradient(training):
    x = torch.zeros(1, 1, 4, 4, dtype=F64)
    x[0, 0, 2:, 2:] = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64)
    x.requires_grad_()
    layer = ct.StochasticPool2d(2).train(training)
    y = layer(x)
    assert torch.equal(y[0, 0, 0], torch.zeros(2, dtype=F64))
    assert torch.equal(y[0, 0, 1, 0], torch.tensor(0.0, dtype=F64))
    assert y[0, 0, 1, 1] > 0
    y.sum().backward()
    assert torch.equal(x.grad[0, 0, :, :2], torch.zeros(4, 2, dtype=F64))
    assert torch.equal(x.grad[0, 0, :2], torch.zeros(2, 4, dtype=F64))
    assert torch.isfinite(x.grad).all() and x.grad[0, 0, 2:, 2:].sum() > 0


def test_stochastic_pool_rejects_negative_input_and_oversized_kernels():
    with pytest.raises(ValueError, match=r"StochasticPool2d expected a non-negative input .* "
                                         r"got a minimum of -0.5"):
        ct.StochasticPool2d(2)(torch.tensor([[[[1.0, -0.5], [2.0, 3.0]]]]))
    with pytest.raises(ValueError, match=r"StochasticPool2d expected an input at least as large as "
                                         r"kernel_size \(3, 3\)"):
        ct.StochasticPool2d(3)(torch.ones(1, 1, 2, 5))
    with pytest.raises(ValueError, match=r"StochasticPool2d expected a 3D or 4D input"):
        ct.StochasticPool2d(2)(torch.ones(4, 4))


@pytest.mark.parametrize("training", [True, False])
def test_stochastic_pool_keeps_float32_and_takes_unbatched_input(training):
    torch.manual_seed(7)
    layer = ct.StochasticPool2d(2).train(training)
    x = torch.rand(3, 6, 6)
    y = layer(x)
    assert y.shape == (3, 3, 3) and y.dtype == torch.float32
    assert torch.equal(layer.eval()(x), layer.eval()(x.unsqueeze(0)).squeeze(0))
