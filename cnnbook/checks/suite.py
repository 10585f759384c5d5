"""The exercises and what grades each: a fixed list of checks per class.

``EXERCISES[name].checks`` is what ``cnnbook exercises check NAME`` runs on a learner's
class, and what ``tests/test_exercises.py`` runs on ``cnnbook.numpy``'s own, so the two
cannot drift apart. The checks of one exercise come in stages, simplest first:

- ``interface``: the constructor takes the arguments of torch's namesake;
- ``forward``: the output against torch in every setting (layers and losses);
- ``backward``: the input and parameter gradients against torch's autograd, in every
  setting, plus gradient accumulation;
- ``centred differences``: every gradient against the slope measured by nudging;
- ``statistics``: what a random layer (dropout) must get right on average; batch
  norm's running statistics are part of its forward stage;
- ``steps``: an optimizer's state and parameters after each of 150 steps against
  ``torch.optim``, in every setting;
- ``bad input``: a wrong input shape or hyperparameter raises ValueError.

A check is ``run(cls)``; it raises :class:`~cnnbook.checks.compare.CheckFailed` with a
message for the learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as TF

from cnnbook.checks import layers as L
from cnnbook.checks.compare import CheckFailed, check_accumulates, expect_value_error
from cnnbook.checks.optim import INVALID, PARITY_CASES, check_optimizer, check_rejects, describe
from cnnbook.checks.signatures import signature_mismatches

__all__ = ["Check", "Exercise", "EXERCISES", "STAGES"]

STAGES = ("interface", "forward", "statistics", "backward", "centred differences", "steps", "bad input")


@dataclass(frozen=True)
class Check:
    """One check of one exercise: ``run(cls)`` raises CheckFailed when ``cls`` fails it."""

    stage: str
    setting: str  # short, for "passes at ..." summaries
    run: Callable[[type], object]


@dataclass(frozen=True)
class Exercise:
    """A class the learner writes, the methods they write, and what grades it."""

    name: str
    kind: str  # "layer", "loss" or "optimizer"
    methods: tuple[str, ...]
    summary: str  # what to compute, in one line
    checks: tuple[Check, ...]

    def stages(self):
        return [s for s in STAGES if any(c.stage == s for c in self.checks)]


def _interface(name, theirs):
    def run(cls):
        problems = signature_mismatches(cls, theirs)
        if problems:
            raise CheckFailed(
                f"{name}'s constructor does not take the arguments of {theirs.__module__}.{theirs.__qualname__}: "
                + "; ".join(problems)
            )
    return Check("interface", f"the constructor of {name}", run)


def _both(stage_setting, case):
    """A torch comparison as two checks: the forward stage (no backward) and the backward stage."""
    return [Check("forward", stage_setting, lambda cls: case(cls, False)),
            Check("backward", stage_setting, lambda cls: case(cls, True))]


def _accumulates(make, shape, setting):
    def run(cls):
        check_accumulates(make(cls), np.random.default_rng(0).standard_normal(shape), np.random.default_rng(1),
                          setting=setting)
    return Check("backward", f"{setting}, two backward passes", run)


def _gradcheck(make, x, setting, *args):
    def run(cls):
        L.check_gradients(make(cls), x, *args, setting=setting)
    return Check("centred differences", setting, run)


def _bad(call, what, match=None):
    return Check("bad input", what, lambda cls: expect_value_error(lambda: call(cls), what, match=match))


# -- Linear -----------------------------------------------------------------------------------

LINEAR_SETTINGS = [((4,), 5, 3, True), ((2, 3), 5, 3, False), ((6,), 4, 4, True), ((), 3, 2, True)]


def _linear():
    checks = [_interface("Linear", torch.nn.Linear)]
    for i, (lead, fin, fout, bias) in enumerate(LINEAR_SETTINGS):
        label = L.call_repr("Linear", fin, fout, **({} if bias else {"bias": False}))
        checks += _both(f"{label} on {(*lead, fin)}",
                        lambda cls, b, s=(lead, fin, fout, bias, i): L.linear_case(cls, *s, backward=b))
    checks.append(_accumulates(lambda cls: cls(5, 3), (4, 5), "Linear(5, 3)"))
    checks += [
        _gradcheck(lambda cls: cls(5, 3), L.spread((4, 5)), "Linear(5, 3) on an input of shape (4, 5)"),
        _gradcheck(lambda cls: cls(5, 3, bias=False), L.spread((2, 3, 5)), "Linear(5, 3, bias=False) on an input of shape (2, 3, 5)"),
        _bad(lambda cls: cls(4, 3).forward(np.ones((2, 5))), "Linear(4, 3) on an input with 5 features (shape (2, 5))"),
        _bad(lambda cls: cls(48, 3).forward(np.ones((2, 3, 4, 4))), "Linear(48, 3) on an unflattened input of shape (2, 3, 4, 4)"),
    ]
    return Exercise("Linear", "layer", ("forward", "backward"),
                    "y = x @ weight.T + bias, and its gradients", tuple(checks))


# -- activations -----------------------------------------------------------------------------


def _activation(name, torch_fn, summary):
    checks = [_interface(name, getattr(torch.nn, name))]
    checks += _both(f"{name}() on values around 0 and far from it",
                    lambda cls, b: L.activation_case(cls, torch_fn, L.activation_input(), backward=b))
    if name == "Sigmoid":
        checks.append(Check("forward", "Sigmoid() on ±1000", L.check_sigmoid_is_stable))
    x = L.spread((3, 4))
    checks.append(_gradcheck(lambda cls: cls(), x, f"{name}() on an input of shape (3, 4)"))
    return Exercise(name, "layer", ("forward", "backward"), summary, tuple(checks))


# -- Conv2d -----------------------------------------------------------------------------------

# (n, c_in, c_out, h, w, kernel, stride, padding, bias)
CONV2D_SETTINGS = [
    (2, 2, 3, 5, 5, 3, 1, 0, True),
    (2, 3, 4, 7, 7, 3, 2, 1, True),
    (2, 2, 3, 6, 5, (3, 2), (2, 1), (1, 2), True),
    (1, 3, 2, 4, 4, 1, 1, 0, False),
    (3, 2, 2, 8, 9, 4, 3, 0, True),
    (2, 1, 2, 6, 20, 5, 1, 2, True),  # a wide output: cnnbook.numpy's other layout
]


def _conv2d():
    checks = [_interface("Conv2d", torch.nn.Conv2d)]
    for i, s in enumerate(CONV2D_SETTINGS):
        n, c_in, c_out, h, w, k, st, p, bias = s
        label = L.call_repr("Conv2d", c_in, c_out, kernel_size=k, stride=st, padding=p, **({} if bias else {"bias": False}))
        checks += _both(f"{label} on {(n, c_in, h, w)}",
                        lambda cls, b, s=s, i=i: L.conv2d_case(cls, *s, seed=i, backward=b))
    checks.append(_accumulates(lambda cls: cls(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5),
                               "Conv2d(2, 3, kernel_size=3, stride=2, padding=1)"))
    checks += [
        _gradcheck(lambda cls: cls(2, 3, 3), L.spread((2, 2, 5, 5)), "Conv2d(2, 3, kernel_size=3) on an input of shape (2, 2, 5, 5)"),
        _gradcheck(lambda cls: cls(2, 3, (3, 2), stride=(2, 1), padding=(1, 2)), L.spread((2, 2, 6, 5)),
                   "Conv2d(2, 3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)) on an input of shape (2, 2, 6, 5)"),
        _bad(lambda cls: cls(3, 2, 3).forward(np.ones((2, 4, 8, 8))), "Conv2d(3, 2, 3) on an input with 4 channels (shape (2, 4, 8, 8))"),
        _bad(lambda cls: cls(3, 2, 3).forward(np.ones((3, 8, 8))), "Conv2d(3, 2, 3) on one image without its batch axis (shape (3, 8, 8))"),
        _bad(lambda cls: cls(1, 2, 5).forward(np.ones((1, 1, 3, 8))), "Conv2d(1, 2, 5) on an input of 3 rows, fewer than the kernel's 5"),
    ]
    return Exercise("Conv2d", "layer", ("forward", "backward"),
                    "cross-correlation of every window with every filter, with stride and zero padding, and its gradients",
                    tuple(checks))


# -- pooling ------------------------------------------------------------------------------------

TIES = "with ties (equal maxima in a window: torch sends the gradient to the first of them, in row-major order)"


def _pool_inputs():
    rng = np.random.default_rng(3)
    return {
        "normal": rng.standard_normal((2, 3, 4, 4)),
        "overlap": rng.standard_normal((2, 2, 5, 5)),
        "rect": rng.standard_normal((1, 2, 5, 7)),
        "negative": -np.abs(rng.standard_normal((1, 2, 4, 4))) - 1,
        "ties": rng.integers(0, 2, size=(2, 2, 4, 4)).astype(np.float64),
        "ties3": rng.integers(0, 3, size=(1, 3, 5, 5)).astype(np.float64),
    }


# (input, kernel, stride, padding, note)
MAXPOOL_SETTINGS = [
    ("normal", 2, None, 0, ""),
    ("overlap", 3, 2, 1, ""),
    ("rect", (2, 3), (1, 2), 0, ""),
    ("negative", 2, None, 1, "of negative values (padding must never win the max)"),
    ("ties", 2, None, 0, TIES),
    ("ties3", 3, 1, 1, TIES),
]
AVGPOOL_SETTINGS = [
    ("normal", 2, None, 0, ""),
    ("overlap", 3, 2, 1, "(zero padding counts towards the mean, as in torch)"),
    ("rect", (2, 3), 1, (1, 1), "(zero padding counts towards the mean, as in torch)"),
]


def _pool(name, settings, summary):
    inputs = _pool_inputs()
    checks = [_interface(name, getattr(torch.nn, name))]
    for key, k, st, p, note in settings:
        label = L.call_repr(name, k, **({} if st is None else {"stride": st}), **({"padding": p} if p else {}))
        kind = {"ties": " with ties", "ties3": " with ties", "negative": " of negative values"}.get(key, "")
        checks += _both(f"{label} on {inputs[key].shape}{kind}",
                        lambda cls, b, a=(inputs[key], k, st, p, note): L.pool_case(cls, *a[:4], note=a[4], backward=b))
    checks += [
        _gradcheck(lambda cls: cls(2), L.spread((2, 2, 4, 4)), f"{name}(2) on an input of shape (2, 2, 4, 4)"),
        _gradcheck(lambda cls: cls(3, stride=2, padding=1), L.spread((2, 2, 5, 5)),
                   f"{name}(3, stride=2, padding=1) on an input of shape (2, 2, 5, 5)"),
        _bad(lambda cls: cls(2).forward(np.ones((3, 8, 8))), f"{name}(2) on one image without its batch axis (shape (3, 8, 8))"),
        _bad(lambda cls: cls(3).forward(np.ones((1, 1, 2, 2))), f"{name}(3) on a 2 x 2 input, smaller than the kernel"),
        _bad(lambda cls: cls(2, padding=2), f"{name}(2, padding=2), padding more than half the kernel"),
    ]
    return Exercise(name, "layer", ("forward", "backward"), summary, tuple(checks))


# -- BatchNorm2d -------------------------------------------------------------------------------

# (shape, keyword arguments)
BATCHNORM_SETTINGS = [
    ((4, 3, 2, 3), {}),
    ((2, 2, 3, 3), dict(affine=False)),
    ((3, 2, 2, 2), dict(momentum=None)),
    ((5, 1, 1, 2), dict(momentum=0.5, eps=1e-3)),
]


def _batchnorm2d():
    checks = [_interface("BatchNorm2d", torch.nn.BatchNorm2d)]
    for i, (shape, kwargs) in enumerate(BATCHNORM_SETTINGS):
        checks += _both(f"{L.call_repr('BatchNorm2d', shape[1], **kwargs)} on {shape}",
                        lambda cls, b, a=(shape, kwargs, i): L.batchnorm_case(cls, a[0], seed=a[2], backward=b, **a[1]))
    checks.append(_accumulates(lambda cls: cls(2), (3, 2, 2, 2), "BatchNorm2d(2)"))

    def with_affine(cls):
        layer = cls(2)
        layer.weight.data[...] = [0.5, -2.0]
        layer.bias.data[...] = [1.0, 0.3]
        return layer

    def in_eval(cls):
        layer = with_affine(cls)
        layer.running_mean[...] = [0.3, -0.2]
        layer.running_var[...] = [0.5, 2.0]
        return layer.eval()

    checks += [
        _gradcheck(with_affine, L.spread((3, 2, 2, 3)), "BatchNorm2d(2) in training on an input of shape (3, 2, 2, 3)"),
        _gradcheck(in_eval, L.spread((3, 2, 2, 3)), "BatchNorm2d(2) in evaluation mode on an input of shape (3, 2, 2, 3)"),
        _bad(lambda cls: cls(3).forward(np.ones((2, 4, 3, 3))), "BatchNorm2d(3) on an input with 4 channels (shape (2, 4, 3, 3))"),
        _bad(lambda cls: cls(3).forward(np.ones((2, 3))), "BatchNorm2d(3) on a 2-D input of shape (2, 3)"),
        _bad(lambda cls: cls(3).forward(np.ones((1, 3, 1, 1))),
             "BatchNorm2d(3) in training on one value per channel (shape (1, 3, 1, 1)), which has no variance"),
    ]
    return Exercise("BatchNorm2d", "layer", ("forward", "backward"),
                    "normalize each channel with the batch's mean and variance, scale and shift; keep running statistics",
                    tuple(checks))


# -- Dropout -----------------------------------------------------------------------------------


def _dropout():
    checks = [_interface("Dropout", torch.nn.Dropout)]
    checks += [
        Check("forward", "Dropout(p) in evaluation mode, p = 0 and p = 1", lambda cls: L.check_dropout_modes(cls, backward=False)),
        Check("forward", "Dropout(0.5, generator=g)", L.check_dropout_generator),
    ]
    for p in (0.3, 0.5, 0.8):
        checks.append(Check("statistics", f"Dropout({p}) in training", lambda cls, p=p: L.check_dropout_statistics(cls, p)))
    checks.append(Check("backward", "Dropout(p) in evaluation mode, p = 0 and p = 1", L.check_dropout_modes))
    checks += [
        _gradcheck(lambda cls: L.Reseeded(lambda g: cls(0.4, generator=g)), L.spread((4, 5)),
                   "Dropout(0.4) in training (with the same mask on every pass) on an input of shape (4, 5)"),
        _gradcheck(lambda cls: cls(0.4).eval(), L.spread((4, 5)), "Dropout(0.4) in evaluation mode on an input of shape (4, 5)"),
        _bad(lambda cls: cls(1.5), "Dropout(1.5), a probability above 1"),
        _bad(lambda cls: cls(-0.1), "Dropout(-0.1), a negative probability"),
    ]
    return Exercise("Dropout", "layer", ("forward", "backward"),
                    "in training zero each value with probability p and scale the rest by 1 / (1 - p); identity in evaluation",
                    tuple(checks))


# -- CrossEntropyLoss ----------------------------------------------------------------------------

# (n, c, reduction, scale)
CROSS_ENTROPY_SETTINGS = [(5, 4, "mean", 1.0), (3, 6, "sum", 1.0), (4, 3, "mean", 1000.0), (2, 1, "mean", 1.0)]


def _cross_entropy():
    checks = [_interface("CrossEntropyLoss", torch.nn.CrossEntropyLoss)]
    for i, s in enumerate(CROSS_ENTROPY_SETTINGS):
        checks += _both(f"CrossEntropyLoss(reduction={s[2]!r}) on {s[:2]} logits" + (f" times {s[3]:g}" if s[3] != 1 else ""),
                        lambda cls, b, s=s, i=i: L.cross_entropy_case(cls, *s, seed=i, backward=b))
    checks.append(Check("backward", "CrossEntropyLoss().backward(3.0)",
                        lambda cls: L.cross_entropy_case(cls, 4, 5, "mean", 1.0, seed=7, dout=3.0)))
    logits = L.spread((4, 5), low=0.5)
    targets = np.array([0, 4, 2, 2])
    checks += [
        _gradcheck(lambda cls: cls(), logits, "CrossEntropyLoss() on logits of shape (4, 5)", targets),
        _gradcheck(lambda cls: cls(reduction="sum"), logits, "CrossEntropyLoss(reduction='sum') on logits of shape (4, 5)", targets),
        _bad(lambda cls: cls().forward(np.ones((2, 3)), np.array([0, 3])), "CrossEntropyLoss() with a target 3 for 3 classes (0, 1, 2)"),
        _bad(lambda cls: cls().forward(np.ones((2, 3)), np.array([0.0, 1.0])), "CrossEntropyLoss() with float targets"),
        _bad(lambda cls: cls().forward(np.ones((2, 3)), np.array([0, 1, 2])), "CrossEntropyLoss() with 3 targets for 2 rows of logits"),
        _bad(lambda cls: cls().forward(np.ones(3), np.array([0])), "CrossEntropyLoss() on 1-D logits"),
    ]
    return Exercise("CrossEntropyLoss", "loss", ("forward", "backward"),
                    "the mean (or sum) of -log softmax(logits)[target], computed stably, and its gradient",
                    tuple(checks))


# -- optimizers ----------------------------------------------------------------------------------

OPTIMIZER_SUMMARY = {
    "SGD": "p -= lr * g, with torch's momentum buffer, dampening, Nesterov momentum and weight decay",
    "Adagrad": "divide each step by the root of the sum of all past squared gradients",
    "RMSprop": "divide each step by the root of a moving average of squared gradients (centered, momentum)",
    "Adam": "moving averages of the gradient and its square, with bias correction",
}


def _optimizer(name):
    checks = [_interface(name, getattr(torch.optim, name))]
    for cname, kwargs in PARITY_CASES:
        if cname == name:
            checks.append(Check("steps", describe(name, kwargs),
                                lambda cls, kwargs=kwargs: check_optimizer(cls, name, kwargs)))
    for cname, kwargs, arg in INVALID:
        if cname == name:
            checks.append(Check("bad input", describe(name, kwargs),
                                lambda cls, kwargs=kwargs, arg=arg: check_rejects(cls, name, kwargs, arg)))
    return Exercise(name, "optimizer", ("_update",), OPTIMIZER_SUMMARY[name], tuple(checks))


EXERCISES = {
    e.name: e
    for e in [
        _linear(),
        _activation("ReLU", TF.relu, "max(x, 0), with torch's derivative 0 at exactly 0"),
        _activation("Sigmoid", torch.sigmoid, "1 / (1 + exp(-x)) without overflow, and its derivative"),
        _conv2d(),
        _pool("MaxPool2d", MAXPOOL_SETTINGS, "the maximum of each window; the gradient goes to the first maximum"),
        _pool("AvgPool2d", AVGPOOL_SETTINGS, "the mean of each window (zero padding included); the gradient is shared out"),
        _batchnorm2d(),
        _dropout(),
        _cross_entropy(),
        _optimizer("SGD"),
        _optimizer("Adagrad"),
        _optimizer("RMSprop"),
        _optimizer("Adam"),
    ]
}
