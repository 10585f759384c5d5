"""cnnbook.numpy.init against torch.nn.init's formulas, layers' default initialization,
and reproducibility through manual_seed and explicit generators."""

import math

import numpy as np
import pytest
import torch

import cnnbook.numpy as cn
from cnnbook.numpy import init


@pytest.mark.parametrize(
    "nonlinearity, param",
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def torch_bound(shape, fn, **kwargs):
    """The largest |value| torch's initializer draws for ``shape`` (over a large sample,
    so it sits within a hair of the true bound)."""
    return float(fn(torch.empty(shape, dtype=torch.float64), **kwargs).abs().max())


UNIFORM = [
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, dict(a=math.sqrt(5)), lambda fi, fo: 1 / math.sqrt(fi)),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, dict(nonlinearity="relu"), lambda fi, fo: math.sqrt(6 / fi)),
    (init.kaiming_uniform_, torch.nn.init.kaiming_uniform_, dict(mode="fan_out", nonlinearity="relu"), lambda fi, fo: math.sqrt(6 / fo)),
    (init.xavier_uniform_, torch.nn.init.xavier_uniform_, dict(gain=2.0), lambda fi, fo: 2 * math.sqrt(6 / (fi + fo))),
]


@pytest.mark.parametrize("ours, theirs, kwargs, bound", UNIFORM)
def test_uniform_initializers_have_torch_bounds(ours, theirs, kwargs, bound):
    shape = (64, 32, 3, 3)
    fan_in, fan_out = 32 * 9, 64 * 9
    w = ours(np.empty(shape), generator=np.random.default_rng(0), **kwargs)
    b = bound(fan_in, fan_out)
    assert np.abs(w).max() <= b
    # fills the interval: the sample extremes and variance of U(-b, b)
    assert np.abs(w).max() > 0.999 * b and torch_bound(shape, theirs, **kwargs) == pytest.approx(np.abs(w).max(), rel=2e-3)
    assert w.var() == pytest.approx(b**2 / 3, rel=0.02)
    assert abs(w.mean()) < 4 * b / math.sqrt(3 * w.size)


NORMAL = [
    (init.kaiming_normal_, dict(), lambda fi, fo: math.sqrt(2 / (1 + 0.0)) / math.sqrt(fi)),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), lambda fi, fo: math.sqrt(2 / fo)),
    (init.xavier_normal_, dict(), lambda fi, fo: math.sqrt(2 / (fi + fo))),
    (init.normal_, dict(mean=0.0, std=0.3), lambda fi, fo: 0.3),
]


@pytest.mark.parametrize("ours, kwargs, std", NORMAL)
def test_normal_initializers_have_torch_std(ours, kwargs, std):
    w = ours(np.empty((128, 50)), generator=np.random.default_rng(1), **kwargs)
    expected = std(50, 128)
    assert w.std() == pytest.approx(expected, rel=0.02)
    assert abs(w.mean()) < 4 * expected / math.sqrt(w.size)


def test_kaiming_normal_std_agrees_with_torch_sample():
    torch.manual_seed(0)
    theirs = torch.nn.init.kaiming_normal_(torch.empty(256, 100, dtype=torch.float64), mode="fan_out").std().item()
    ours = init.kaiming_normal_(np.empty((256, 100)), mode="fan_out", generator=np.random.default_rng(0)).std()
    assert ours == pytest.approx(theirs, rel=0.03)


@pytest.mark.parametrize(
    "ours, theirs", [(lambda: cn.Linear(400, 3000), lambda: torch.nn.Linear(400, 3000)), (lambda: cn.Conv2d(16, 512, 5), lambda: torch.nn.Conv2d(16, 512, 5))]
)
def test_default_layer_initialization_matches_torch(ours, theirs):
    # Large layers, so that the sample statistics below sit many standard errors inside
    # their tolerances; seeded, so that the test draws the same numbers every run.
    cn.manual_seed(0)
    torch.manual_seed(0)
    layer, tl = ours(), theirs()
    fan_in = int(np.prod(layer.weight.shape[1:]))
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and torch's bias rule
    for p, tp in ((layer.weight, tl.weight), (layer.bias, tl.bias)):
        values, t_values = p.data, tp.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(t_values).max() <= bound
        # same distribution: uniform on (-bound, bound), as torch's sample is
        assert np.abs(values).max() > 0.95 * bound
        assert values.var() == pytest.approx(bound**2 / 3, rel=0.2 if p is layer.bias else 0.02)
        assert values.var() == pytest.approx(t_values.var(), rel=0.3 if p is layer.bias else 0.04)


def test_fills_in_place_and_returns_its_argument():
    arr = np.zeros((3, 4), dtype=np.float32)
    assert init.uniform_(arr, -1, 1) is arr
    assert arr.dtype == np.float32 and np.all(np.abs(arr) <= 1) and np.any(arr != 0)
    p = cn.Parameter(np.zeros((3, 4)))
    data = p.data
    assert init.xavier_uniform_(p) is p
    assert p.data is data and np.any(data != 0)
    assert np.all(init.constant_(p, 0.25).data == 0.25)
    assert np.all(init.zeros_(arr) == 0)
    assert np.all(init.ones_(arr) == 1)


def test_manual_seed_makes_initialization_reproducible():
    cn.manual_seed(42)
    a = cn.Conv2d(3, 4, 3)
    cn.manual_seed(42)
    b = cn.Conv2d(3, 4, 3)
    c = cn.Conv2d(3, 4, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)
    # float32 layers built after the same seed hold the same values, rounded
    cn.manual_seed(42)
    a32 = cn.Conv2d(3, 4, 3, dtype=np.float32)
    np.testing.assert_array_equal(a32.weight.data, a.weight.data.astype(np.float32))


def test_explicit_generator_is_used_and_default_left_alone():
    cn.manual_seed(0)
    expected_next = np.random.Generator(np.random.PCG64(0)).random()
    a = init.normal_(np.empty(5), generator=np.random.default_rng(9))
    b = init.normal_(np.empty(5), generator=np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert cn.default_generator.random() == expected_next


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.xavier_uniform_(np.empty(4)), r"at least 2 dimensions .* got shape \(4,\)"),
        (lambda: init.kaiming_normal_(np.empty((2, 2)), mode="fan_avg"), r"'fan_in' or 'fan_out', got 'fan_avg'"),
        (lambda: init.calculate_gain("softplus"), r"expected one of .* got 'softplus'"),
        (lambda: init.calculate_gain("leaky_relu", "a"), r"number for negative_slope, got 'a'"),
        (lambda: init.uniform_(np.zeros(3, dtype=np.int64)), r"floating array, got dtype int64"),
        (lambda: init.uniform_([0.0, 1.0]), r"ndarray or a Parameter, got list"),
        (lambda: init.uniform_(np.zeros(3), 1, 0), r"a <= b, got a=1, b=0"),
        (lambda: cn.manual_seed(-1), r"non-negative integer, got -1"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_generator_that_is_not_one_is_a_type_error():
    with pytest.raises(TypeError, match="numpy.random.Generator or None, got int"):
        init.normal_(np.empty(3), generator=3)
