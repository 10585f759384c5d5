"""cnnbook.torch layers against torch.nn: forward, backward, state, init and errors.

Each twin gets the state_dict of its torch.nn namesake, both run on the same float64
input, and the outputs, the input gradient and every parameter gradient must agree to
1e-7 relative (with a 1e-12 absolute floor for entries that cancel to ~0). Hypothesis
draws the shapes, strides, paddings and kernel sizes; when torch rejects a drawn
configuration, the twin must reject it too, with a ValueError.
"""

import inspect
import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

import cnnbook.numpy as cn
import cnnbook.torch as ct

RTOL, ATOL = 1e-7, 1e-12
F64 = torch.float64

TWIN_NAMES = [
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
    "Flatten", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Sequential",
    "CrossEntropyLoss", "MSELoss",
]


def assert_close(actual, expected, rtol=RTOL, atol=ATOL):
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


def randn(shape, seed, dtype=F64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def compare(ours, theirs, x, seed, rtol=RTOL, atol=ATOL):
    """Forward and backward of two modules holding the same state, on copies of ``x``."""
    for module in (ours, theirs):
        module.zero_grad(set_to_none=True)
    x_ours = x.clone().requires_grad_()
    x_theirs = x.clone().requires_grad_()
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    if isinstance(y_theirs, tuple):  # MaxPool2d(return_indices=True)
        assert torch.equal(y_ours[1], y_theirs[1])
        y_ours, y_theirs = y_ours[0], y_theirs[0]
    assert y_ours.shape == y_theirs.shape and y_ours.dtype == y_theirs.dtype
    assert_close(y_ours, y_theirs, rtol, atol)
    grad_out = randn(y_theirs.shape, seed + 1, y_theirs.dtype)  # not ones: catches transposes
    y_ours.backward(grad_out)
    y_theirs.backward(grad_out)
    assert_close(x_ours.grad, x_theirs.grad, rtol, atol)
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert ours_params.keys() == theirs_params.keys()
    for name, param in theirs_params.items():
        assert_close(ours_params[name].grad, param.grad, rtol, atol)


def check_twin(make_ours, make_theirs, x, seed):
    """Compare the twin with torch on ``x``; if torch rejects it, the twin must too.

    Returns whether torch accepted the configuration.
    """
    try:
        theirs = make_theirs().to(F64)
        theirs(x.clone())
    except (RuntimeError, ValueError):
        with pytest.raises(ValueError):
            make_ours()(x.clone())
        return False
    ours = make_ours().to(F64)
    ours.load_state_dict(theirs.state_dict())
    compare(ours, theirs, x, seed)
    return True


def sizes(low, high):
    """An int or an (h, w) pair, as torch's layers accept both."""
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


def image_shapes(channels, max_side=9):
    side = st.integers(1, max_side)
    batched = st.tuples(st.integers(1, 3), st.just(channels), side, side)
    return st.one_of(batched, st.tuples(st.just(channels), side, side))


# ---------------------------------------------------------------- linear and convolution


@settings(max_examples=30, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), max_size=2),
    in_features=st.integers(1, 6),
    out_features=st.integers(1, 6),
    bias=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_linear_matches_torch(lead, in_features, out_features, bias, seed):
    x = randn((*lead, in_features), seed)
    assert check_twin(
        lambda: ct.Linear(in_features, out_features, bias),
        lambda: nn.Linear(in_features, out_features, bias),
        x, seed,
    )


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    padding = draw(st.one_of(sizes(0, 2), st.sampled_from(["valid", "same"])))
    stride = 1 if padding == "same" else draw(sizes(1, 3))
    kwargs = dict(
        kernel_size=draw(sizes(1, 4)),
        stride=stride,
        padding=padding,
        dilation=draw(sizes(1, 2)),
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])),
    )
    shape = draw(image_shapes(in_channels))
    return in_channels, out_channels, kwargs, shape, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=50, deadline=None)
@given(case=conv_cases())
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv2d_matches_torch(case):
    in_channels, out_channels, kwargs, shape, seed = case
    check_twin(
        lambda: ct.Conv2d(in_channels, out_channels, **kwargs),
        lambda: nn.Conv2d(in_channels, out_channels, **kwargs),
        randn(shape, seed), seed,
    )


def test_conv2d_common_configurations_match_torch():
    # The layers the chapters use, so they are compared whatever hypothesis draws.
    cases = [
        (1, 6, dict(kernel_size=5), (4, 1, 28, 28)),  # LeNet
        (3, 8, dict(kernel_size=3, padding=1), (2, 3, 16, 16)),  # VGG
        (3, 8, dict(kernel_size=7, stride=2, padding=3, bias=False), (2, 3, 20, 20)),  # ResNet stem
        (3, 8, dict(kernel_size=11, stride=4, padding=2), (2, 3, 35, 35)),  # AlexNet
        (8, 8, dict(kernel_size=3, padding=1, groups=4), (2, 8, 9, 9)),  # DPN grouped
    ]
    for seed, (cin, cout, kwargs, shape) in enumerate(cases):
        assert check_twin(
            lambda: ct.Conv2d(cin, cout, **kwargs), lambda: nn.Conv2d(cin, cout, **kwargs),
            randn(shape, seed), seed,
        )


# ---------------------------------------------------------------- pooling


def pool_input(shape, seed, ties):
    if ties:
        # a few repeated values, half of them exactly 0 (as after ReLU): the gradient
        # must go to the same one of several equal maxima as torch's
        g = torch.Generator().manual_seed(seed)
        return torch.randint(-2, 3, shape, generator=g).clamp(min=0).to(F64)
    return randn(shape, seed)


@settings(max_examples=50, deadline=None)
@given(
    kernel_size=sizes(1, 4),
    stride=st.one_of(st.none(), sizes(1, 3)),
    padding=sizes(0, 2),
    dilation=sizes(1, 2),
    return_indices=st.booleans(),
    ceil_mode=st.booleans(),
    shape=image_shapes(2),
    ties=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_maxpool2d_matches_torch(kernel_size, stride, padding, dilation, return_indices,
                                 ceil_mode, shape, ties, seed):
    args = (kernel_size, stride, padding, dilation, return_indices, ceil_mode)
    x = pool_input(shape, seed, ties)
    try:
        y = nn.MaxPool2d(kernel_size, stride, padding, dilation, False, ceil_mode)(x)
    except RuntimeError:
        pass
    else:
        # A dilated window can fall entirely into the padding (a 1x1 input, kernel 2,
        # dilation 2, padding 1): both output -inf, but torch's index then points
        # outside the input, and its gradient with it. Nothing sensible to compare.
        assume(not torch.isinf(y).any())
    check_twin(lambda: ct.MaxPool2d(*args), lambda: nn.MaxPool2d(*args), x, seed)


@settings(max_examples=50, deadline=None)
@given(
    kernel_size=sizes(1, 4),
    stride=st.one_of(st.none(), sizes(1, 3)),
    padding=sizes(0, 2),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
    divisor_override=st.one_of(st.none(), st.integers(1, 5)),
    shape=image_shapes(2),
    seed=st.integers(0, 2**31 - 1),
)
def test_avgpool2d_matches_torch(kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override, shape, seed):
    args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    check_twin(lambda: ct.AvgPool2d(*args), lambda: nn.AvgPool2d(*args), randn(shape, seed), seed)


def test_pooling_common_configurations_match_torch():
    x = randn((2, 3, 13, 13), 0)
    for seed, (ours, theirs) in enumerate([
        (ct.MaxPool2d(2), nn.MaxPool2d(2)),
        (ct.MaxPool2d(3, 2), nn.MaxPool2d(3, 2)),  # AlexNet's overlapping pooling
        (ct.MaxPool2d(3, 2, 1), nn.MaxPool2d(3, 2, 1)),  # ResNet stem
        (ct.MaxPool2d(3, 2, ceil_mode=True), nn.MaxPool2d(3, 2, ceil_mode=True)),  # GoogLeNet
        (ct.AvgPool2d(2), nn.AvgPool2d(2)),  # LeNet subsampling, DenseNet transition
        (ct.AvgPool2d(3, 1, 1), nn.AvgPool2d(3, 1, 1)),
    ]):
        compare(ours, theirs, x, seed)


# ---------------------------------------------------------------- batch normalization


@settings(max_examples=20, deadline=None)
@given(
    two_d=st.booleans(),
    batch=st.integers(2, 4),
    channels=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    eps=st.sampled_from([1e-5, 1e-3]),
    momentum=st.sampled_from([0.1, 0.5, None]),
    affine=st.booleans(),
    bias=st.booleans(),
    track_running_stats=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_batchnorm_training_steps_and_eval_match_torch(two_d, batch, channels, spatial, eps, momentum,
                                                       affine, bias, track_running_stats, seed):
    if two_d:
        ours_cls, theirs_cls = ct.BatchNorm2d, nn.BatchNorm2d
        shape = (batch, channels, *(spatial + [3, 2])[:2])
    else:
        ours_cls, theirs_cls = ct.BatchNorm1d, nn.BatchNorm1d
        shape = (batch, channels, *spatial[:1])
    args = (channels, eps, momentum, affine, track_running_stats)
    theirs = theirs_cls(*args, dtype=F64, bias=bias)
    if affine:  # away from the ones/zeros init, so a swapped weight and bias would show
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(randn(p.shape, seed + 7))
    ours = ours_cls(*args, dtype=F64, bias=bias)
    ours.load_state_dict(theirs.state_dict())

    for step in range(3):
        # a shifted, scaled batch so that the running estimates move visibly
        x = randn(shape, seed + 10 * step) * (1 + step) + step
        compare(ours, theirs, x, seed + step)
        for name, buffer in theirs.named_buffers():
            assert_close(dict(ours.named_buffers())[name], buffer)
    if track_running_stats:
        assert int(ours.num_batches_tracked) == 3
        assert not torch.equal(ours.running_mean, torch.zeros_like(ours.running_mean))

    ours.eval()
    theirs.eval()
    compare(ours, theirs, randn(shape, seed + 99) * 2 - 1, seed + 99)
    for name, buffer in theirs.named_buffers():  # eval leaves the buffers alone
        assert_close(dict(ours.named_buffers())[name], buffer)


def test_batchnorm_running_var_is_unbiased_and_momentum_weighted():
    # The formulas written out independently of torch: after one step from the
    # initial (0, 1) buffers, running = momentum * batch statistic + (1 - momentum) * initial.
    x = randn((5, 3), 0) * 3 + 2
    bn = ct.BatchNorm1d(3, momentum=0.25, dtype=F64)
    bn(x)
    n = x.shape[0]
    mean = x.sum(0) / n
    unbiased = ((x - mean) ** 2).sum(0) / (n - 1)
    assert_close(bn.running_mean, 0.25 * mean)
    assert_close(bn.running_var, 0.75 + 0.25 * unbiased)
    bn.eval()
    assert_close(bn(x), (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps))


# ---------------------------------------------------------------- activations, flatten, losses

ACTIVATIONS = [
    (ct.ReLU, nn.ReLU, {}),
    (ct.LeakyReLU, nn.LeakyReLU, {}),
    (ct.LeakyReLU, nn.LeakyReLU, {"negative_slope": 0.2}),
    (ct.ELU, nn.ELU, {}),
    (ct.ELU, nn.ELU, {"alpha": 0.5}),
    (ct.Sigmoid, nn.Sigmoid, {}),
    (ct.Tanh, nn.Tanh, {}),
]


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=st.integers(0, 2**31 - 1))
@pytest.mark.parametrize("ours_cls, theirs_cls, kwargs", ACTIVATIONS)
def test_activation_matches_torch(ours_cls, theirs_cls, kwargs, shape, seed):
    x = randn(shape, seed) * 2.5
    x.view(-1)[::3] = 0.0  # exact zeros: the kink, where the chosen derivative must match
    compare(ours_cls(**kwargs), theirs_cls(**kwargs), x, seed)


@pytest.mark.parametrize("ours_cls, theirs_cls, kwargs", ACTIVATIONS)
def test_activation_is_stable_at_large_inputs(ours_cls, theirs_cls, kwargs):
    x = torch.tensor([-1000.0, -50.0, -1e-9, 0.0, 1e-9, 50.0, 1000.0], dtype=F64, requires_grad=True)
    y = ours_cls(**kwargs)(x)
    y.backward(torch.ones_like(y))
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
    # values only: torch's own tanh/sigmoid gradients lose relative accuracy out there
    assert_close(y, theirs_cls(**kwargs)(x.detach()))


@pytest.mark.parametrize("ours_cls, theirs_cls, kwargs", [a for a in ACTIVATIONS if "inplace" in
                                                          inspect.signature(a[0]).parameters])
def test_activation_inplace_overwrites_input_and_keeps_gradient(ours_cls, theirs_cls, kwargs):
    base_ours = randn((4, 5), 3).requires_grad_()
    base_theirs = base_ours.detach().clone().requires_grad_()
    x_ours, x_theirs = base_ours * 1.5, base_theirs * 1.5  # non-leaf, as torch requires
    y_ours = ours_cls(**kwargs, inplace=True)(x_ours)
    y_theirs = theirs_cls(**kwargs, inplace=True)(x_theirs)
    assert y_ours.data_ptr() == x_ours.data_ptr()
    assert_close(x_ours, y_theirs)
    g = randn((4, 5), 4)
    y_ours.backward(g)
    y_theirs.backward(g)
    assert_close(base_ours.grad, base_theirs.grad)


@pytest.mark.parametrize("start_dim, end_dim, shape", [
    (1, -1, (2, 3, 4, 5)), (0, -1, (2, 3)), (1, 2, (2, 3, 4, 5)), (-2, -1, (2, 3, 4)), (2, 2, (2, 3, 4)),
])
def test_flatten_matches_torch(start_dim, end_dim, shape):
    compare(ct.Flatten(start_dim, end_dim), nn.Flatten(start_dim, end_dim), randn(shape, 0), 0)


@st.composite
def cross_entropy_cases(draw):
    classes = draw(st.integers(1, 5))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    unbatched = not extra and draw(st.booleans())
    shape = (classes,) if unbatched else (draw(st.integers(1, 4)), classes, *extra)
    kwargs = dict(
        reduction=draw(st.sampled_from(["mean", "sum", "none"])),
        label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])),
    )
    if draw(st.booleans()):
        kwargs["weight"] = torch.rand(classes, generator=torch.Generator().manual_seed(classes),
                                      dtype=F64) + 0.5
    probabilities = draw(st.booleans())
    if not probabilities and classes > 1 and draw(st.booleans()):
        kwargs["ignore_index"] = draw(st.integers(0, classes - 1))
    scale = draw(st.sampled_from([1.0, 10.0, 300.0]))
    return shape, kwargs, probabilities, scale, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=50, deadline=None)
@given(case=cross_entropy_cases())
def test_cross_entropy_matches_torch(case):
    shape, kwargs, probabilities, scale, seed = case
    class_dim = 0 if len(shape) == 1 else 1
    logits = randn(shape, seed) * scale
    g = torch.Generator().manual_seed(seed + 1)
    if probabilities:
        target = torch.softmax(torch.randn(shape, generator=g, dtype=F64), dim=class_dim)
    else:
        target_shape = shape[:class_dim] + shape[class_dim + 1:]
        target = torch.randint(0, shape[class_dim], target_shape, generator=g)
        if "ignore_index" in kwargs:
            # at least one counted sample, else the mean is 0/0
            target.view(-1)[0] = (kwargs["ignore_index"] + 1) % shape[class_dim]
    ours_logits = logits.clone().requires_grad_()
    theirs_logits = logits.clone().requires_grad_()
    loss_ours = ct.CrossEntropyLoss(**kwargs)(ours_logits, target)
    loss_theirs = nn.CrossEntropyLoss(**kwargs)(theirs_logits, target)
    assert loss_ours.shape == loss_theirs.shape
    assert_close(loss_ours, loss_theirs)
    grad_out = randn(loss_theirs.shape, seed + 2)
    loss_ours.backward(grad_out)
    loss_theirs.backward(grad_out)
    assert_close(ours_logits.grad, theirs_logits.grad)


def test_cross_entropy_is_stable_at_extreme_logits():
    logits = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=F64,
                          requires_grad=True)
    target = torch.tensor([1, 2])
    loss = ct.CrossEntropyLoss()(logits, target)
    loss.backward()
    assert math.isfinite(loss.item()) and torch.isfinite(logits.grad).all()
    assert_close(loss, nn.CrossEntropyLoss()(logits.detach(), target))
    # sample 0 puts its target 2000 below the best logit: loss 2000, halved by the mean
    assert abs(loss.item() - 1000.0) < 1e-9


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(reduction):
    pred = randn((4, 3), 0).requires_grad_()
    target = randn((4, 3), 1)
    ours = ct.MSELoss(reduction=reduction)(pred, target)
    theirs = nn.MSELoss(reduction=reduction)(pred.detach().requires_grad_(), target)
    assert_close(ours, theirs)
    g = randn(ours.shape, 2)
    (grad_ours,) = torch.autograd.grad(ours, pred, g)
    p = pred.detach().requires_grad_()
    (grad_theirs,) = torch.autograd.grad(nn.MSELoss(reduction=reduction)(p, target), p, g)
    assert_close(grad_ours, grad_theirs)


# ---------------------------------------------------------------- a whole network


def small_cnn(lib):
    return lib.Sequential(
        lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 6, 3, groups=2), lib.ELU(), lib.AvgPool2d(2), lib.Flatten(),
        lib.Linear(6, 5), lib.BatchNorm1d(5), lib.LeakyReLU(), lib.Dropout(0.0),
        lib.Linear(5, 3), lib.Tanh(),
    )


@pytest.mark.parametrize("direction", ["torch->twin", "twin->torch"])
def test_sequential_network_state_dicts_copy_both_ways(direction):
    ours, theirs = small_cnn(ct).to(F64), small_cnn(nn).to(F64)
    if direction == "torch->twin":
        ours.load_state_dict(theirs.state_dict())
    else:
        theirs.load_state_dict(ours.state_dict())
    x = randn((4, 1, 10, 10), 0)
    for step in range(2):  # training mode: batch statistics, buffers updated
        compare(ours, theirs, x + step, step)
    for name, buffer in theirs.named_buffers():
        assert_close(ours.get_buffer(name), buffer)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, x, 5)
    assert isinstance(ours, nn.Sequential) and len(ours) == 14 and isinstance(ours[1], ct.BatchNorm2d)


# ---------------------------------------------------------------- signatures, state, init


SHARED_NAMES = sorted(set(ct.__all__) & set(cn.__all__) - {"optim"})


def test_both_halves_keep_each_layer_in_the_same_file():
    # cnnbook/numpy/conv.py next to cnnbook/torch/conv.py, and so on: a reader finds a
    # twin where its namesake is.
    assert "Flatten" in SHARED_NAMES and "StochasticPool2d" in SHARED_NAMES
    files = {name: (getattr(cn, name).__module__.rsplit(".", 1)[1], getattr(ct, name).__module__.rsplit(".", 1)[1])
             for name in SHARED_NAMES}
    assert {name: pair for name, pair in files.items() if pair[0] != pair[1]} == {}


# torch's deprecated loss flags, which reduction replaced: the twins leave them out.
DEPRECATED = {"size_average", "reduce"}


@pytest.mark.parametrize("name", TWIN_NAMES)
def test_constructor_signature_equals_torch(name):
    # torch's parameters, names, order and defaults, less the deprecated ones; a
    # parameter that came after one of those can no longer sit in its torch position,
    # so it is keyword-only.
    expected, after_dropped = [], False
    for p in inspect.signature(getattr(nn, name)).parameters.values():
        if p.name in DEPRECATED:
            after_dropped = True
            continue
        kind = p.KEYWORD_ONLY if after_dropped and p.kind is p.POSITIONAL_OR_KEYWORD else p.kind
        expected.append((p.name, kind, p.default))
    ours = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(ct, name)).parameters.values()]
    assert ours == expected


STATE_CASES = [
    ("Linear", (5, 3), {}),
    ("Linear", (5, 3), {"bias": False}),
    ("Conv2d", (4, 6, 3), {}),
    ("Conv2d", (4, 6, (3, 2)), {"groups": 2, "bias": False}),
    ("BatchNorm1d", (5,), {}),
    ("BatchNorm2d", (5,), {"affine": False}),
    ("BatchNorm2d", (5,), {"track_running_stats": False}),
    ("BatchNorm2d", (5,), {"bias": False}),
    ("CrossEntropyLoss", (), {"weight": torch.ones(3)}),
    ("MaxPool2d", (2,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", STATE_CASES)
def test_parameters_and_buffers_have_torch_names_and_shapes(name, args, kwargs):
    ours, theirs = getattr(ct, name)(*args, **kwargs), getattr(nn, name)(*args, **kwargs)

    def layout(items):
        return [(k, tuple(v.shape), v.dtype) for k, v in items]

    assert layout(ours.named_parameters()) == layout(theirs.named_parameters())
    assert layout(ours.named_buffers()) == layout(theirs.named_buffers())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    for attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        assert (getattr(ours, attr, None) is None) == (getattr(theirs, attr, None) is None)


@pytest.mark.parametrize("name, args, kwargs", [c for c in STATE_CASES if c[0] in
                                                ("Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d")])
def test_default_init_draws_what_torch_draws(name, args, kwargs):
    torch.manual_seed(123)
    theirs = getattr(nn, name)(*args, **kwargs)
    torch.manual_seed(123)
    ours = getattr(ct, name)(*args, **kwargs)
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


@pytest.mark.parametrize("layer, fan_in", [
    (ct.Linear(400, 300), 400),
    (ct.Conv2d(16, 64, 5), 16 * 25),
    (ct.Conv2d(16, 64, (3, 5), groups=4), 4 * 15),
])
def test_default_init_bounds_are_torch_bounds(layer, fan_in):
    # kaiming_uniform_(a=sqrt(5)) has bound gain * sqrt(3 / fan_in) with
    # gain = sqrt(2 / (1 + 5)), which is 1 / sqrt(fan_in); the bias uses the same bound.
    bound = 1 / math.sqrt(fan_in)
    for tensor in (layer.weight, layer.bias):
        values = tensor.detach()
        assert values.abs().max() <= bound
        assert values.abs().max() > 0.9 * bound  # fills the range, not a narrower one
    w = layer.weight.detach()
    assert abs(w.std().item() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b/sqrt(3)


# ---------------------------------------------------------------- errors


ERRORS = [
    (lambda: ct.Conv2d(3, 8, 3)(torch.randn(2, 4, 8, 8)),
     r"Conv2d expected input with 3 channels, got 4 \(input shape \(2, 4, 8, 8\)\)"),
    (lambda: ct.Conv2d(3, 8, 3)(torch.randn(8, 8)),
     r"Conv2d expected a 3D or 4D input \(N, C, H, W\) or \(C, H, W\), got a 2D input"),
    (lambda: ct.Conv2d(1, 1, 5, padding=1)(torch.randn(1, 1, 2, 2)),
     r"Conv2d expected a padded input of at least \(5, 5\) .* got \(4, 4\)"),
    (lambda: ct.Conv2d(1, 1, 3, padding=2, padding_mode="reflect")(torch.randn(1, 1, 2, 2)),
     r"padding_mode='reflect' expected padding smaller than the input"),
    (lambda: ct.Conv2d(0, 8, 3), r"Conv2d expected a positive in_channels, got 0"),
    (lambda: ct.Conv2d(3, 8, (3, 0)), r"Conv2d expected a positive kernel_size, got \(3, 0\)"),
    (lambda: ct.Conv2d(3, 8, 3, stride=0), r"Conv2d expected a positive stride, got \(0, 0\)"),
    (lambda: ct.Conv2d(3, 8, 3, padding=-1), r"Conv2d expected a non-negative padding"),
    (lambda: ct.Conv2d(3, 8, 3, groups=2), r"divisible by groups=2, got in_channels=3"),
    (lambda: ct.Conv2d(3, 8, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
    (lambda: ct.Conv2d(3, 8, 3, padding_mode="mirror"), r"expected padding_mode in"),
    (lambda: ct.Conv2d(3, 8, 2.5), r"kernel_size to be an int or a pair of ints, got 2.5"),
    (lambda: ct.Linear(5, 3)(torch.randn(2, 4)),
     r"Linear expected input with 5 features in its last dimension, got 4 \(input shape \(2, 4\)\)"),
    (lambda: ct.Linear(5, 0), r"Linear expected a positive out_features, got 0"),
    (lambda: ct.MaxPool2d(3)(torch.randn(1, 1, 2, 2)),
     r"MaxPool2d expected an input at least as large as kernel_size \(3, 3\) after padding "
     r"\(0, 0\), got spatial size \(2, 2\)"),
    (lambda: ct.MaxPool2d(2)(torch.randn(4, 4)), r"MaxPool2d expected a 3D or 4D input"),
    (lambda: ct.MaxPool2d(2, padding=2), r"MaxPool2d expected padding at most half the kernel"),
    (lambda: ct.MaxPool2d(0), r"MaxPool2d expected a positive kernel_size"),
    (lambda: ct.AvgPool2d(2, stride=0), r"AvgPool2d expected a positive stride"),
    (lambda: ct.AvgPool2d(3)(torch.randn(2, 2, 5)), r"AvgPool2d expected an input at least as large"),
    (lambda: ct.AvgPool2d(2, padding=2), r"AvgPool2d expected padding at most half the kernel size"),
    (lambda: ct.StochasticPool2d((2, 0)), r"StochasticPool2d expected a positive kernel_size"),
    (lambda: ct.BatchNorm2d(3)(torch.randn(2, 4, 5, 5)),
     r"BatchNorm2d expected input with 3 features \(dimension 1\), got 4"),
    (lambda: ct.BatchNorm2d(3)(torch.randn(3, 5, 5)),
     r"BatchNorm2d expected a 4D input \(N, C, H, W\), got a 3D input"),
    (lambda: ct.BatchNorm1d(3)(torch.randn(2, 3, 4, 4)), r"BatchNorm1d expected a 2D or 3D input"),
    (lambda: ct.BatchNorm1d(3)(torch.randn(1, 3)), r"expected more than 1 value per feature"),
    (lambda: ct.BatchNorm1d(0), r"BatchNorm1d expected a positive num_features, got 0"),
    (lambda: ct.Dropout(1.5), r"Dropout expected a probability p in \[0, 1\], got 1.5"),
    (lambda: ct.Flatten()(torch.randn(5)),
     r"Flatten\(start_dim=1, end_dim=-1\) expected an input with at least 2 dimensions, got a 1D input"),
    (lambda: ct.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0, 1, 2])),
     r"expected class-index targets of shape \(4,\) for input shape \(4, 3\), got \(3,\)"),
    (lambda: ct.CrossEntropyLoss()(torch.randn(2, 3), torch.tensor([0, 3])),
     r"expected class indices in \[0, 3\) or ignore_index=-100, got 3"),
    (lambda: ct.CrossEntropyLoss(weight=torch.ones(4))(torch.randn(2, 3), torch.tensor([0, 1])),
     r"expected weight with 3 entries \(one per class\), got 4"),
    (lambda: ct.CrossEntropyLoss(reduction="avg"), r"expected reduction 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: ct.MSELoss()(torch.randn(4, 1), torch.randn(4)),
     r"MSELoss expected a target of the input's shape \(4, 1\), got \(4,\)"),
    (lambda: ct.MSELoss()(torch.randn(2), [1.0, 2.0]), r"MSELoss expected the target to be a torch.Tensor, got list"),
    # the usual slips get a hint at the fix
    (lambda: ct.Conv2d(3, 8, 3)(torch.randn(2, 8, 8, 3)),
     r"Conv2d expected input with 3 channels, got 8 \(input shape \(2, 8, 8, 3\)\); channels last\? .*permute\(0, 3, 1, 2\)"),
    (lambda: ct.Linear(48, 3)(torch.randn(2, 3, 4, 4)), r"got 4 \(input shape \(2, 3, 4, 4\)\); flatten it first"),
    (lambda: ct.BatchNorm1d(3)(torch.randn(2, 3, 4, 4)), r"got a 4D input .*BatchNorm2d takes \(N, C, H, W\)"),
    (lambda: ct.BatchNorm2d(3)(torch.randn(2, 3)), r"got a 2D input .*BatchNorm1d takes \(N, C\)"),
    (lambda: ct.CrossEntropyLoss()(torch.randn(2, 3), torch.eye(3, dtype=torch.long)[[0, 2]]),
     r"class-index targets of shape \(2,\) .* got \(2, 3\): one-hot targets\? .*argmax"),
    (lambda: ct.CrossEntropyLoss()(torch.randn(2, 3), torch.tensor([0.0, 2.0])),
     r"class indices as an integer tensor .* got a torch.float32 tensor of shape \(2,\).*target.long\(\)"),
    (lambda: ct.CrossEntropyLoss()(torch.randn(2, 3), [0, 2]),
     r"CrossEntropyLoss expected the target to be a torch.Tensor, got list"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_bad_input_raises_value_error_naming_expected_and_got(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- dtype and device


FLOAT32_CASES = [
    (lambda lib: lib.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 9, 9)),
    (lambda lib: lib.Linear(6, 4), (3, 6)),
    (lambda lib: lib.MaxPool2d(3, 2, 1), (2, 3, 9, 9)),
    (lambda lib: lib.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 9, 9)),
    (lambda lib: lib.BatchNorm2d(3), (2, 3, 5, 5)),
    (lambda lib: lib.BatchNorm1d(3), (4, 3)),
    (lambda lib: lib.ELU(), (4, 3)),
    (lambda lib: lib.Sigmoid(), (4, 3)),
    (lambda lib: lib.Tanh(), (4, 3)),
]


@pytest.mark.parametrize("make, shape", FLOAT32_CASES)
def test_float32_stays_float32_and_matches_torch(make, shape):
    ours, theirs = make(ct), make(nn)
    ours.load_state_dict(theirs.state_dict())
    x = randn(shape, 0, torch.float32)
    compare(ours, theirs, x, 0, rtol=1e-5, atol=1e-6)
    assert ours(x).dtype == torch.float32


@pytest.mark.parametrize("make, shape", FLOAT32_CASES + [
    (lambda lib: lib.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True), (2, 3, 8, 8)),
    (lambda lib: lib.Dropout(0.3), (4, 3)),
    (lambda lib: lib.Flatten(), (2, 3, 4)),
])
def test_layers_create_no_tensors_on_a_fixed_device(make, shape):
    # On the "meta" device tensors have shapes but no data, and mixing one with a CPU
    # tensor is an error: a layer that built a helper tensor on the CPU (instead of on
    # x.device) fails here just as it would on CUDA.
    ours, theirs = make(ct).to("meta"), make(nn).to("meta")
    x = torch.empty(shape, device="meta")
    y_ours, y_theirs = ours(x), theirs(x)
    if isinstance(y_theirs, tuple):
        assert y_ours[1].device.type == "meta" and y_ours[1].shape == y_theirs[1].shape
        y_ours, y_theirs = y_ours[0], y_theirs[0]
    assert y_ours.device.type == "meta" and y_ours.shape == y_theirs.shape
