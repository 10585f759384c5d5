"""One check of a layer class in one setting: the layer against its torch namesake.

Each function builds the layer from the class it is given (``cnnbook.numpy.Conv2d``, or
the ``Conv2d`` a learner wrote), copies its parameters into torch's, and compares the
forward pass, then (unless ``backward=False``) the gradients. The test suite calls them
with settings drawn by Hypothesis; the exercises (:mod:`cnnbook.checks.suite`) with a
fixed list of settings.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from cnnbook.checks.compare import (
    CheckFailed,
    assert_close,
    at,
    check_against_torch,
    copy_params,
    to_torch,
)
from cnnbook.numpy.gradcheck import gradient_errors

__all__ = [
    "GRAD_TOL",
    "spread",
    "Reseeded",
    "call_repr",
    "linear_case",
    "activation_case",
    "conv2d_case",
    "pool_case",
    "batchnorm_case",
    "cross_entropy_case",
    "check_gradients",
    "check_sigmoid_is_stable",
    "check_dropout_statistics",
    "check_dropout_modes",
    "check_dropout_generator",
]

GRAD_TOL = 1e-7  # relative error of an analytic gradient against centred differences


def call_repr(name, *args, **kwargs):
    """``Conv2d(2, 3, kernel_size=3, stride=2)``: how the setting reads in a message."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _on(layer_text, x):
    return f"{layer_text} on an input of shape {tuple(np.shape(x))}"


def _checked_copy(layer, torch_layer, setting):
    """``copy_params``, after checking that the layer holds torch's parameters."""
    ours = dict(layer.named_parameters()) if hasattr(layer, "named_parameters") else {}
    theirs = dict(torch_layer.named_parameters())
    if sorted(ours) != sorted(theirs):
        raise CheckFailed(
            f"the parameters are {sorted(ours)}, torch's are {sorted(theirs)}{at(setting)}: "
            f"keep them as attributes with torch's names"
        )
    for name, p in ours.items():
        if tuple(np.shape(p.data)) != tuple(theirs[name].shape):
            raise CheckFailed(f"{name} has shape {np.shape(p.data)}, torch's has shape {tuple(theirs[name].shape)}{at(setting)}")
    copy_params(layer, torch_layer)


def _pairs(layer, torch_layer):
    theirs = dict(torch_layer.named_parameters())
    return [(name, p, theirs[name]) for name, p in layer.named_parameters()]


# -- inputs for centred differences ------------------------------------------------------


def spread(shape, seed=0, low=0.05):
    """Distinct values at least ``low`` apart from 0 and from each other (relative to
    eps = 1e-6): no ReLU kink and no max-pool tie lies within a nudge."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    values = (rng.permutation(n) + 1) * (low / 2) + rng.uniform(0, low / 4, n)
    signs = rng.choice([-1.0, 1.0], n)
    return (values * signs).reshape(shape)


class Reseeded:
    """Wrap a stochastic layer so that every forward draws the same numbers: a gradient
    check evaluates the layer many times and needs the same function each time.

    ``make_layer(generator)`` builds the layer; its forward is handed a generator reset
    to the same state before every call.
    """

    def __init__(self, make_layer, seed=0):
        self.generator = np.random.default_rng(seed)
        self.seed = seed
        self.layer = make_layer(self.generator)

    def forward(self, x):
        self.generator.bit_generator.state = np.random.PCG64(self.seed).state
        return self.layer.forward(x)

    def backward(self, dout):
        return self.layer.backward(dout)

    def named_parameters(self):
        return self.layer.named_parameters()

    def __repr__(self):
        return f"{self.layer!r} with a generator reset before every forward"


def check_gradients(layer, x, *args, setting="", tol=GRAD_TOL):
    """Every gradient of ``layer`` (input and each parameter) against centred differences
    (:func:`cnnbook.numpy.gradient_errors`): relative error below ``tol``."""
    errors = gradient_errors(layer, x, *args)
    for name, error in errors.items():
        if not error < tol:
            what = "grad of input" if name == "input" else f"grad of {name}"
            raise CheckFailed(
                f"{what} differs from centred differences: relative error {error:.2g}{at(setting)} "
                f"(the slope measured by nudging each number by ±1e-6)"
            )
    return errors


# -- Linear and activations -------------------------------------------------------------------


def linear_case(Linear, lead, in_features, out_features, bias, seed, *, backward=True):
    """``Linear(in_features, out_features, bias=bias)`` against ``torch.nn.Linear`` on an
    input of shape ``(*lead, in_features)``."""
    rng = np.random.default_rng(seed)
    layer = Linear(in_features, out_features, bias=bias)
    tl = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch.float64)
    x = rng.standard_normal((*lead, in_features))
    text = call_repr("Linear", in_features, out_features) if bias else call_repr("Linear", in_features, out_features, bias=False)
    setting = _on(text, x)
    _checked_copy(layer, tl, setting)
    check_against_torch(layer, tl, x, rng, _pairs(layer, tl), setting=setting, backward=backward)
    return layer


def activation_case(cls, torch_fn, x, seed=0, *, backward=True, text=None):
    """An elementwise layer ``cls()`` against ``torch_fn`` on ``x``."""
    rng = np.random.default_rng(seed)
    layer = cls()
    setting = _on(text or f"{cls.__name__}()", x)
    check_against_torch(layer, torch_fn, x, rng, setting=setting, backward=backward)
    return layer


def activation_input(seed=0):
    """Values of all sizes, the kinks at exactly 0, and far-out values (+-50, +-1000)."""
    x = np.random.default_rng(seed).standard_normal((3, 4, 5)) * 4
    x.flat[:5] = 0.0
    x.flat[5:9] = [1000.0, -1000.0, 50.0, -50.0]
    return x


def check_sigmoid_is_stable(Sigmoid):
    """``Sigmoid`` on +-1000 with NumPy's overflow turned into an error."""
    x = np.array([[1000.0, -1000.0, 0.0, 50.0, -50.0]])
    setting = "Sigmoid() on an input holding -1000 and 1000"
    layer = Sigmoid()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            out = layer.forward(x)
        except FloatingPointError as error:
            raise CheckFailed(
                f"the output overflows ({error}){at(setting)}: exp(-x) is inf for x = -1000; "
                f"compute it without overflow, e.g. exp(x) / (1 + exp(x)) where x < 0"
            ) from None
    assert_close(out, torch.sigmoid(to_torch(x)), "output", setting=setting)


# -- Conv2d ------------------------------------------------------------------------------------


def conv2d_case(Conv2d, n, c_in, c_out, h, w, kernel, stride, padding, bias, seed, *, backward=True):
    """``Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)`` against
    ``torch.nn.Conv2d`` on an (n, c_in, h, w) input; returns the layer."""
    rng = np.random.default_rng(seed)
    layer = Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)
    tl = torch.nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias, dtype=torch.float64)
    x = rng.standard_normal((n, c_in, h, w))
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding)
    if not bias:
        kwargs["bias"] = False
    setting = _on(call_repr("Conv2d", c_in, c_out, **kwargs), x)
    _checked_copy(layer, tl, setting)
    check_against_torch(layer, tl, x, rng, _pairs(layer, tl), setting=setting, backward=backward)
    return layer


# -- pooling ------------------------------------------------------------------------------------


def pool_case(cls, x, kernel, stride=None, padding=0, *, seed=0, backward=True, note=""):
    """``cls(kernel, stride, padding)`` (MaxPool2d or AvgPool2d) against torch's
    ``max_pool2d`` / ``avg_pool2d`` on ``x``; ``note`` says what is special about ``x``."""
    rng = np.random.default_rng(seed)
    name = cls.__name__
    torch_pool = {"MaxPool2d": TF.max_pool2d, "AvgPool2d": TF.avg_pool2d}.get(name)
    if torch_pool is None:
        raise ValueError(f"pool_case expected MaxPool2d or AvgPool2d, got {name}")
    kwargs = {}
    if stride is not None:
        kwargs["stride"] = stride
    if padding != 0:
        kwargs["padding"] = padding
    layer = cls(kernel, **kwargs)
    setting = _on(call_repr(name, kernel, **kwargs), x) + (f" {note}" if note else "")
    check_against_torch(layer, lambda tx: torch_pool(tx, kernel, stride, padding), x, rng,
                        setting=setting, backward=backward)
    return layer


# -- batch norm ---------------------------------------------------------------------------------

_RUNNING_NOTE = {
    "running_mean": "torch keeps (1 - momentum) * running_mean + momentum * the batch mean",
    "running_var": "torch keeps (1 - momentum) * running_var + momentum * the unbiased batch "
                   "variance, which divides by m - 1 where normalizing divides by m",
}


def batchnorm_case(BatchNorm, shape, *, momentum=0.1, eps=1e-5, affine=True, seed=0, batches=3, backward=True):
    """``BatchNorm(C, eps, momentum, affine)`` against torch's namesake: ``batches``
    training batches (output, gradients), then the running statistics, then a batch in
    evaluation mode. With ``affine`` the weight and bias start away from 1 and 0."""
    rng = np.random.default_rng(seed)
    name = BatchNorm.__name__
    c = shape[1]
    layer = BatchNorm(c, eps=eps, momentum=momentum, affine=affine)
    tl = getattr(torch.nn, name)(c, eps=eps, momentum=momentum, affine=affine, dtype=torch.float64)
    kwargs = {}
    if eps != 1e-5:
        kwargs["eps"] = eps
    if momentum != 0.1:
        kwargs["momentum"] = momentum
    if not affine:
        kwargs["affine"] = False
    text = call_repr(name, c, **kwargs)
    if affine:
        layer.weight.data[...] = rng.uniform(0.5, 2.0, c) * rng.choice([-1.0, 1.0], c)
        layer.bias.data[...] = rng.normal(0.0, 0.5, c)
    _checked_copy(layer, tl, _on(text, shape))
    pairs = _pairs(layer, tl)
    for b in range(1, batches + 1):
        x = rng.normal(rng.normal(0, 2), rng.uniform(0.5, 3.0), size=shape)
        setting = f"{_on(text, x)}, training batch {b}"
        check_against_torch(layer, tl, x, rng, pairs, setting=setting, backward=backward)
    after = f"{text} after {batches} training batches of shape {tuple(shape)}"
    note = dict(_RUNNING_NOTE)
    if momentum is None:
        note = {k: "with momentum=None torch keeps the plain average over all batches so far, "
                   "of the batch means and of the unbiased batch variances" for k in note}
    for buffer in ("running_mean", "running_var"):
        ours = getattr(layer, buffer, None)
        if ours is None:
            raise CheckFailed(f"{buffer} is missing{at(after)}: keep the running statistics in self.{buffer}")
        assert_close(ours, getattr(tl, buffer), buffer, setting=after, note=note[buffer])
    layer.eval()
    tl.eval()
    x = rng.normal(0.5, 2.0, size=shape)
    check_against_torch(layer, tl, x, rng, pairs, setting=f"{_on(text, x)} in evaluation mode, after {batches} training batches",
                        backward=backward)
    return layer


# -- cross entropy ------------------------------------------------------------------------------


def cross_entropy_case(CrossEntropyLoss, n, c, reduction, scale, seed, *, backward=True, dout=1.0):
    """``CrossEntropyLoss(reduction=reduction)`` against ``torch.nn.functional.cross_entropy``
    on (n, c) standard normal logits times ``scale`` (1000: the stability test)."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * scale
    targets = rng.integers(0, c, n)
    loss_fn = CrossEntropyLoss() if reduction == "mean" else CrossEntropyLoss(reduction=reduction)
    text = call_repr("CrossEntropyLoss") if reduction == "mean" else call_repr("CrossEntropyLoss", reduction=reduction)
    setting = f"{text} on logits of shape {logits.shape}" + (f" scaled to about ±{scale:g}" if scale != 1 else "")
    before = logits.copy()
    loss = loss_fn.forward(logits, targets)
    tl = to_torch(logits, grad=True)
    t_loss = TF.cross_entropy(tl, torch.from_numpy(targets), reduction=reduction)
    if not np.isscalar(loss) and np.ndim(loss) != 0:
        raise CheckFailed(f"the loss should be one number, got an array of shape {np.shape(loss)}{at(setting)}")
    assert_close(np.asarray(loss, dtype=np.float64), t_loss, "loss", setting=setting)
    if not np.array_equal(logits, before):
        raise CheckFailed(f"forward wrote into the logits{at(setting)}; compute into a new array")
    if not backward:
        return loss_fn
    grad = loss_fn.backward() if dout == 1.0 else loss_fn.backward(dout)
    (t_loss * dout).backward()
    what = "grad of logits" if dout == 1.0 else f"grad of logits for backward({dout!r})"
    try:
        assert_close(grad, tl.grad, what, setting=setting)
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}; your loss matches") from None
    if not np.array_equal(logits, before):
        raise CheckFailed(f"backward wrote into the logits{at(setting)}; compute into a new array")
    return loss_fn


# -- dropout -----------------------------------------------------------------------------------


def check_dropout_statistics(Dropout, p, seed=0, shape=(400, 500)):
    """In training: the drop rate is p (within 5 standard errors), the kept values are the
    input times 1 / (1 - p), and backward uses forward's mask and scale."""
    rng = np.random.default_rng(seed + 1)
    layer = Dropout(p, generator=np.random.default_rng(seed))
    text = call_repr("Dropout", p) + f" in training on an input of shape {shape}"
    x = rng.uniform(1.0, 2.0, shape)  # positive: a dropped value is exactly 0, a kept one is not
    x_before = x.copy()
    out = np.asarray(layer.forward(x))
    if out.shape != x.shape:
        raise CheckFailed(f"the output has shape {out.shape}, expected the input's {x.shape}{at(text)}")
    if not np.array_equal(x, x_before):
        raise CheckFailed(f"forward wrote into its input x{at(text)}; compute into a new array")
    kept = out != 0
    rate = 1 - kept.mean()
    se = np.sqrt(p * (1 - p) / x.size)
    if abs(rate - p) > 5 * se + 1e-12:
        raise CheckFailed(
            f"{text}: {rate:.1%} of the values were zeroed, expected about {p:.0%} "
            f"(each value is zeroed with probability p, independently)"
        )
    if kept.any():
        scale = out[kept] / x[kept]
        expected = 1 / (1 - p)
        if not np.allclose(scale, expected, rtol=1e-12):
            got = f"{scale[0]:.4g} times the input" if np.allclose(scale, scale[0], rtol=1e-12) else "not one fixed multiple of the input"
            raise CheckFailed(
                f"{text}: the kept values are {got}; torch's are 1 / (1 - p) = {expected:.4g} times "
                f"(inverted dropout scales the survivors in training, so evaluation needs no change)"
            )
    dout = rng.standard_normal(shape)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    assert_close(dx, dout * kept / (1 - p), "grad of input", setting=text,
                 note="backward multiplies dout by the mask of the last forward, scaled by 1 / (1 - p)")
    if not np.array_equal(dout, dout_before):
        raise CheckFailed(f"backward wrote into dout{at(text)}; compute into a new array")


def check_dropout_modes(Dropout, *, backward=True):
    """Evaluation mode is the identity; p = 0 keeps everything and p = 1 drops everything."""
    x = np.random.default_rng(0).standard_normal((6, 7))
    for p in (0.5, 0.0):
        layer = Dropout(p)
        if p == 0.5:
            layer.eval()
        text = call_repr("Dropout", p) + (" in evaluation mode" if p == 0.5 else " in training")
        out = layer.forward(x)
        assert_close(out, x, "output", setting=text, reference="the input",
                     note="evaluation mode (and p = 0) is the identity")
        if backward:
            dout = x[::-1].copy()
            assert_close(layer.backward(dout), dout, "grad of input", setting=text, reference="dout")
    layer = Dropout(1.0)
    text = "Dropout(1.0) in training"
    with np.errstate(all="ignore"):
        out = np.asarray(layer.forward(x))
    assert_close(out, np.zeros_like(x), "output", setting=text, reference="all zeros",
                 note="p = 1 drops every value; beware 1 / (1 - p)")
    if backward:
        with np.errstate(all="ignore"):
            dx = layer.backward(np.ones_like(x))
        assert_close(dx, np.zeros_like(x), "grad of input", setting=text, reference="all zeros")


def check_dropout_generator(Dropout):
    """The mask is drawn from ``generator`` when one is given: the same generator state
    gives the same mask, and the next forward draws a new one."""
    text = "Dropout(0.5, generator=g)"
    x = np.ones((20, 30))
    g = np.random.default_rng(5)
    layer = Dropout(0.5, generator=g)
    first = np.array(layer.forward(x))
    second = np.array(layer.forward(x))
    g.bit_generator.state = np.random.PCG64(5).state
    again = np.array(layer.forward(x))
    if not np.array_equal(first, again):
        raise CheckFailed(
            f"{text} drew a different mask after g was reset to the same state: draw the mask "
            f"from self.generator when one is given (and from cnnbook.numpy.default_generator otherwise)"
        )
    if np.array_equal(first, second):
        raise CheckFailed(f"{text} drew the same mask on two forward passes in a row: draw a new mask on every forward")
