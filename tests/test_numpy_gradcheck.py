"""Centered-difference gradient checks of every cnnbook.numpy layer and loss (float64),
and tests of the checker itself."""

import numpy as np
import pytest

import cnnbook.numpy as cn
from cnnbook.checks import GRAD_TOL, Reseeded, spread

TOL = GRAD_TOL


CASES = [
    ("Linear", lambda: cn.Linear(5, 3), spread((4, 5))),
    ("Linear no bias, 3-D input", lambda: cn.Linear(5, 3, bias=False), spread((2, 3, 5))),
    ("Conv2d", lambda: cn.Conv2d(2, 3, 3), spread((2, 2, 5, 5))),
    ("Conv2d stride padding", lambda: cn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2)), spread((2, 2, 6, 5))),
    ("Conv2d 1x1", lambda: cn.Conv2d(3, 2, 1, bias=False), spread((2, 3, 3, 3))),
    ("MaxPool2d", lambda: cn.MaxPool2d(2), spread((2, 2, 4, 4))),
    ("MaxPool2d overlapping padded", lambda: cn.MaxPool2d(3, stride=2, padding=1), spread((2, 2, 5, 5))),
    ("AvgPool2d", lambda: cn.AvgPool2d((2, 3), stride=1, padding=1), spread((2, 2, 4, 5))),
    ("StochasticPool2d eval", lambda: cn.StochasticPool2d(2).eval(), np.abs(spread((2, 2, 4, 4)))),
    ("StochasticPool2d eval overlapping", lambda: cn.StochasticPool2d(3, stride=1).eval(), np.abs(spread((1, 2, 4, 4)))),
    ("StochasticPool2d train", lambda: Reseeded(lambda g: cn.StochasticPool2d(2, generator=g)), np.abs(spread((2, 2, 4, 4)))),
    ("BatchNorm1d train", lambda: cn.BatchNorm1d(3), spread((5, 3))),
    ("BatchNorm1d train 3-D", lambda: cn.BatchNorm1d(3), spread((4, 3, 2))),
    ("BatchNorm2d train", lambda: cn.BatchNorm2d(2), spread((3, 2, 2, 3))),
    ("BatchNorm2d eval", lambda: cn.BatchNorm2d(2).eval(), spread((3, 2, 2, 3))),
    ("Dropout train", lambda: Reseeded(lambda g: cn.Dropout(0.4, generator=g)), spread((4, 5))),
    ("Dropout eval", lambda: cn.Dropout(0.4).eval(), spread((4, 5))),
    ("Flatten", lambda: cn.Flatten(), spread((2, 3, 2))),
    ("ReLU", lambda: cn.ReLU(), spread((3, 4))),
    ("LeakyReLU", lambda: cn.LeakyReLU(0.1), spread((3, 4))),
    ("ELU", lambda: cn.ELU(0.7), spread((3, 4))),
    ("Sigmoid", lambda: cn.Sigmoid(), spread((3, 4))),
    ("Tanh", lambda: cn.Tanh(), spread((3, 4))),
    (
        "Sequential CNN",
        lambda: cn.Sequential(
            cn.Conv2d(1, 2, 3, padding=1, bias=False), cn.BatchNorm2d(2), cn.ReLU(), cn.MaxPool2d(2),
            cn.Flatten(), cn.Linear(8, 3), cn.ELU(), cn.Linear(3, 2),
        ),
        spread((3, 1, 4, 4)),
    ),
]


@pytest.mark.parametrize("name, make, x", CASES, ids=[c[0] for c in CASES])
def test_layer_gradients_match_centered_differences(name, make, x):
    layer = make()
    errors = cn.gradient_errors(layer, x)
    assert set(errors) == {"input"} | {n for n, _ in layer.named_parameters()}
    assert max(errors.values()) < TOL, errors


def test_batchnorm_with_non_trivial_affine_parameters():
    layer = cn.BatchNorm2d(2)
    layer.weight.data[...] = [0.5, -2.0]
    layer.bias.data[...] = [1.0, 0.3]
    assert cn.gradcheck(layer, spread((3, 2, 2, 2))) < TOL


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_gradients_match_centered_differences(reduction):
    logits = spread((4, 5), low=0.5)
    assert cn.gradcheck(cn.CrossEntropyLoss(reduction=reduction), logits, np.array([0, 4, 2, 2])) < TOL
    assert cn.gradcheck(cn.MSELoss(reduction=reduction), spread((3, 2)), spread((3, 2), seed=1)) < TOL


def test_penalty_gradients_match_centered_differences():
    w = cn.Parameter(spread((3, 4)))
    for penalty in (cn.l1_penalty, cn.l2_penalty):
        w.zero_grad()
        penalty([w], 0.3)
        numeric = cn.numerical_gradient(lambda _: penalty([cn.Parameter(w.data)], 0.3), w.data)
        assert cn.relative_error(w.grad, numeric) < TOL


def test_numerical_gradient_of_known_functions():
    x = spread((2, 3))
    np.testing.assert_allclose(cn.numerical_gradient(lambda v: np.sum(v**2), x), 2 * x, rtol=1e-8)
    np.testing.assert_allclose(cn.numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x), rtol=1e-8)


def test_numerical_gradient_restores_x_exactly():
    x = spread((3, 3))
    before = x.copy()
    cn.numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_array_equal(x, before)


class WrongLinear(cn.Linear):
    """A Linear whose bias gradient is off by a factor of 2, the kind of bug gradcheck exists for."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.bias.grad *= 0.5
        return dx


def test_gradcheck_catches_a_wrong_backward():
    errors = cn.gradient_errors(WrongLinear(4, 3), spread((5, 4)))
    assert errors["bias"] > 0.1
    assert errors["input"] < TOL and errors["weight"] < TOL


def test_gradcheck_leaves_the_caller_state_alone():
    layer = cn.Sequential(cn.Conv2d(1, 2, 2), cn.BatchNorm2d(2))
    layer[0].weight.grad[...] = 7.0
    weight_before = layer[0].weight.data.copy()
    x = spread((2, 1, 3, 3))
    x_before = x.copy()
    cn.gradcheck(layer, x)
    np.testing.assert_array_equal(layer[0].weight.grad, 7.0)
    np.testing.assert_array_equal(layer[0].weight.data, weight_before)
    np.testing.assert_array_equal(layer[1].running_mean, 0.0)  # many forwards ran on a copy
    assert layer[1].num_batches_tracked == 0
    np.testing.assert_array_equal(x, x_before)


def test_gradcheck_refuses_float32_parameters():
    with pytest.raises(ValueError, match="float64 parameters, got weight of dtype float32"):
        cn.gradcheck(cn.Linear(2, 2, dtype=np.float32), np.ones((1, 2)))


def test_relative_error():
    assert cn.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert cn.relative_error(np.array([1.0, 0.0]), np.array([0.0, 0.0])) == 1.0
    assert cn.relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0 + 5e-6])) == pytest.approx(1e-6)
