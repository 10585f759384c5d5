"""Your layers and optimizers (직접 만드는 층과 옵티마이저).

Write the methods that still raise NotImplementedError, one exercise at a time, and grade
them from this folder:

    cnnbook exercises check                # every exercise
    cnnbook exercises check Conv2d         # one or a few

The checks are the tests that the book's own cnnbook.numpy passes: the forward pass
against torch, the backward pass against torch's autograd and against centred
differences, the errors for bad input, and for the optimizers 150 steps against
torch.optim, over several shapes and settings, in float64. A method that still raises
NotImplementedError counts as not yet written. The exercise notebooks (notebooks/) run
your classes in place of the book's once you have written them.

The rules every layer here follows (those of cnnbook.numpy and torch):

- forward(x) keeps in self._cache what backward will need, and returns the output;
- backward(dout) gets dL/d(output) and returns dL/dx; it *adds* the gradients of the
  parameters into their .grad (+=): torch's gradients accumulate until zero_grad();
- neither forward nor backward writes into x or dout: compute new arrays;
- parameters carry torch's names (weight, bias, running_mean ...) and shapes.

What you use but do not write comes from cnnbook.numpy: Module (the parameter registry,
train()/eval(), zero_grad()), Parameter (data and grad), init (torch's default
initialization), functional (im2col, col2im, pad2d, conv_output_size, log_softmax,
sigmoid ...) and optim.Optimizer (parameter groups, self.state, and a step() that calls
your _update(p, group) for every parameter). The code marked "given" is written for you.
"""

import math

import numpy as np

from cnnbook.numpy import Module, Parameter, default_generator, init
from cnnbook.numpy import functional as F
from cnnbook.numpy.optim import Optimizer


def _pair(value, name, owner, minimum=1):
    """Given: an int or an (h, w) pair of ints, each at least ``minimum``, as a tuple."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= minimum for v in pair):
        raise ValueError(f"{owner} expected {name} to be an int or a pair of ints >= {minimum}, got {value!r}")
    return pair


def _as_float(x):
    """Given: ``x`` as a floating array (integers become float64), not a copy when it already is one."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _dtype(dtype):
    """Given: the parameters' dtype, float64 unless the layer is asked for another."""
    return np.dtype(np.float64 if dtype is None else dtype)


# -- Linear and activations ----------------------------------------------------------------


class Linear(Module):
    """Affine map ``y = x @ weight.T + bias``, like ``torch.nn.Linear``.

    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,), with
    torch's default initialization; float64 unless ``dtype`` says otherwise.

    Shape:
        Input: (*, in_features), any number of leading dimensions.
        Output: (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None):
        # Given: the parameters.
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features)), dtype=dtype)
        self.bias = Parameter(np.empty(out_features), dtype=dtype) if bias else None
        init.default_init_(self.weight, self.bias)

    def forward(self, x):
        x = np.asarray(x, dtype=self.weight.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:  # given: a clear error for a wrong input
            raise ValueError(f"Linear expected input with {self.in_features} features in its last "
                             f"dimension, got input of shape {x.shape}")
        # Keep x for backward; return x @ weight.T, plus bias when there is one.
        raise NotImplementedError("Linear.forward: return x @ weight.T + bias, and keep x in self._cache")

    def backward(self, dout):
        # With x from forward, and all leading dimensions of x and dout folded into one
        # (reshape(-1, features)): add dout.T @ x into self.weight.grad and dout summed
        # over the samples into self.bias.grad; return dL/dx = dout @ weight.
        raise NotImplementedError("Linear.backward: weight.grad += dout.T @ x, bias.grad += dout summed "
                                  "over the samples; return dout @ weight")


class ReLU(Module):
    """``max(x, 0)``. The derivative at exactly 0 is taken as 0, as torch does.

    Shape:
        Input: any shape. Output: the same shape.
    """

    def forward(self, x):
        x = _as_float(x)  # given
        raise NotImplementedError("ReLU.forward: return max(x, 0) as a new array, and keep where x > 0")

    def backward(self, dout):
        raise NotImplementedError("ReLU.backward: return dout where x > 0 and 0 elsewhere (a new array)")


class Sigmoid(Module):
    """Logistic sigmoid, computed without overflow (see ``functional.sigmoid``).

    sigmoid(x) = 1 / (1 + exp(-x)), but exp(-x) overflows for x = -1000; for negative x write it as exp(x) / (1 + exp(x)),
    which only exponentiates non-positive numbers (``cnnbook.numpy.functional.sigmoid``
    shows how). Its derivative is sigmoid(x) * (1 - sigmoid(x)).

    Shape:
        Input: any shape. Output: the same shape.
    """

    def forward(self, x):
        x = _as_float(x)  # given
        raise NotImplementedError("Sigmoid.forward: return sigmoid(x) without overflow, and keep it for backward")

    def backward(self, dout):
        raise NotImplementedError("Sigmoid.backward: return dout * s * (1 - s), with s the forward output")


# -- Conv2d ----------------------------------------------------------------------------------


class Conv2d(Module):
    """2-D convolution (cross-correlation) over (N, C, H, W) inputs, like ``torch.nn.Conv2d``.

    ``weight`` has shape (out_channels, in_channels, kh, kw) and ``bias`` (out_channels,).
    ``kernel_size``, ``stride`` and ``padding`` are an int or an (h, w) pair; padding is
    with zeros. ``out[n, f, i, j] = bias[f] + sum over c, u, v of
    x_padded[n, c, i * sh + u, j * sw + v] * weight[f, c, u, v]``.

    Shape:
        Input: (N, C_in, H, W). Output: (N, C_out, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1,
        OW = floor((W + 2 * padding[1] - kernel_size[1]) / stride[1]) + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, bias=True, dtype=None):
        # Given: the arguments as (h, w) pairs, and the parameters.
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.padding = _pair(padding, "padding", "Conv2d", minimum=0)
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size), dtype=dtype)
        self.bias = Parameter(np.empty(out_channels), dtype=dtype) if bias else None
        init.default_init_(self.weight, self.bias)

    def output_shape(self, input_shape):
        """Given: (N, C_out, OH, OW) for an input of shape (N, C_in, H, W); ValueError when it does not fit."""
        if len(input_shape) != 4 or input_shape[1] != self.in_channels:
            raise ValueError(f"Conv2d expected an input of shape (N, {self.in_channels}, H, W), "
                             f"got {tuple(input_shape)}")
        n, _, h, w = input_shape
        oh = F.conv_output_size(h, self.kernel_size[0], self.stride[0], self.padding[0])
        ow = F.conv_output_size(w, self.kernel_size[1], self.stride[1], self.padding[1])
        return n, self.out_channels, oh, ow

    def forward(self, x):
        x = np.asarray(x, dtype=self.weight.dtype)
        n, f, oh, ow = self.output_shape(x.shape)  # given: raises ValueError for a wrong input
        # F.im2col(x, self.kernel_size, self.stride, self.padding) gives one column per
        # output position, (N, C*kh*kw, OH*OW); the weight as a (F, C*kh*kw) matrix times
        # those columns is the convolution. Keep what backward needs.
        raise NotImplementedError("Conv2d.forward: the convolution (see the comment above), with stride, "
                                  "padding and bias")

    def backward(self, dout):
        # dL/dweight: dout (as (N, F, OH*OW)) times the columns of forward, summed over the
        # images; dL/dbias: dout summed over N, OH and OW; dL/dx: weight.T times dout gives
        # the gradient of every column, and F.col2im adds each column back onto its window
        # (the same kernel_size, stride and padding as forward).
        raise NotImplementedError("Conv2d.backward: add into weight.grad and bias.grad; return dL/dx")


# -- pooling -----------------------------------------------------------------------------------


class _Pool2d(Module):
    """Given: the window geometry shared by the two pooling layers."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        # torch: the stride defaults to the kernel size (windows side by side).
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name, minimum=0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name} expected padding at most half the kernel size {self.kernel_size}, "
                             f"got {self.padding}")

    def output_size(self, x):
        """(OH, OW) for an input x of shape (N, C, H, W); ValueError when it does not fit."""
        name = type(self).__name__
        if x.ndim != 4:
            raise ValueError(f"{name} expected a 4-D input (N, C, H, W), got shape {x.shape}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (F.conv_output_size(x.shape[2], kh, sh, ph), F.conv_output_size(x.shape[3], kw, sw, pw))


class MaxPool2d(_Pool2d):
    """Maximum over each window, like ``torch.nn.MaxPool2d``.

    Padding is with -inf, so a padded position never wins. The gradient of each window
    goes to the position of its maximum; on ties, to the first maximum in row-major
    window order (torch's rule).

    Shape:
        Input: (N, C, H, W). Output: (N, C, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1 (likewise OW).
    """

    def forward(self, x):
        x = _as_float(x)  # given
        oh, ow = self.output_size(x)  # given: raises ValueError for a wrong input
        # Pad with -inf (F.pad2d(x, self.padding, value=-np.inf)); for each of the kh*kw
        # offsets (i, j) of the window, xp[:, :, i : i + sh*oh : sh, j : j + sw*ow : sw]
        # is that offset's value in every window. Keep which offset won, for backward.
        raise NotImplementedError("MaxPool2d.forward: the maximum of each window; remember the first "
                                  "position that holds it")

    def backward(self, dout):
        raise NotImplementedError("MaxPool2d.backward: send each dout value to the position of its "
                                  "window's (first) maximum; return dL/dx of the input's shape")


class AvgPool2d(_Pool2d):
    """Mean over each window, like ``torch.nn.AvgPool2d`` (zero padding counts towards
    the mean, torch's default ``count_include_pad=True``).

    Shape:
        Input: (N, C, H, W). Output: (N, C, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1 (likewise OW).
    """

    def forward(self, x):
        x = _as_float(x)  # given
        oh, ow = self.output_size(x)  # given: raises ValueError for a wrong input
        raise NotImplementedError("AvgPool2d.forward: the sum of each (zero-padded) window divided by kh * kw")

    def backward(self, dout):
        raise NotImplementedError("AvgPool2d.backward: every position of a window gets dout / (kh * kw); "
                                  "overlapping windows add up; drop the padding")


# -- BatchNorm2d --------------------------------------------------------------------------------


class BatchNorm2d(Module):
    """Batch normalization over a (N, C, H, W) input, like ``torch.nn.BatchNorm2d``:
    statistics per channel over the batch and both spatial dimensions.

    Training: normalize each channel with the batch mean and the biased batch variance
    (dividing by m, the number of values per channel), ``x_hat = (x - mean) /
    sqrt(var + eps)``, then ``out = weight * x_hat + bias`` when ``affine``; update
    ``running_mean`` and ``running_var`` as ``(1 - momentum) * running + momentum *
    batch``, where the batch variance for ``running_var`` is the unbiased one (divided by
    m - 1), as in torch. With ``momentum=None`` the running statistics are the plain
    average over the batches seen so far (``num_batches_tracked`` counts them).
    Evaluation: normalize with the running statistics instead.

    Shape:
        Input: (N, C, H, W). Output: the same shape.

    Ioffe, S. & Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift. ICML 2015, arXiv:1502.03167.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, *, dtype=None):
        # Given: the parameters and the running statistics (buffers, not parameters).
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        dtype = _dtype(dtype)
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None  # gamma
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if affine else None  # beta
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self.dtype = dtype

    def forward(self, x):
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4 or x.shape[1] != self.num_features:  # given: clear errors for a wrong input
            raise ValueError(f"BatchNorm2d expected an input of shape (N, {self.num_features}, H, W), got {x.shape}")
        if self.training and x.size // self.num_features <= 1:
            raise ValueError(f"BatchNorm2d expected more than 1 value per channel when training, got input of shape {x.shape}")
        # Statistics over axes (0, 2, 3); reshape a (C,) vector to (1, C, 1, 1) to broadcast.
        # In training also update the running statistics (in place: self.running_mean[...] = ...).
        raise NotImplementedError("BatchNorm2d.forward: normalize per channel, scale and shift; in training "
                                  "update running_mean and running_var")

    def backward(self, dout):
        # weight.grad += sum of dout * x_hat, bias.grad += sum of dout (over N, H, W). In
        # evaluation mode the statistics are constants: dx = dout * weight / sqrt(var + eps).
        # In training mean and var depend on every x of the channel too:
        # dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps), with g = dout * weight
        # and the means over N, H and W.
        raise NotImplementedError("BatchNorm2d.backward: add into weight.grad and bias.grad; return dL/dx")


# -- Dropout ------------------------------------------------------------------------------------


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the survivors by
    ``1 / (1 - p)``, like ``torch.nn.Dropout``; the identity in evaluation.

    Scaling at training time ("inverted" dropout) keeps the expected activation the same
    in both modes. Draw the mask from ``generator`` (a ``numpy.random.Generator``) when one
    is given, else from ``cnnbook.numpy.default_generator``; a new mask on every forward.
    ``p = 1`` drops everything (mind the division by 1 - p).

    Shape:
        Input: any shape. Output: the same shape.

    Srivastava, N. et al. (2014). Dropout: A Simple Way to Prevent Neural Networks from
    Overfitting. JMLR 15, 1929-1958.
    """

    def __init__(self, p=0.5, *, generator=None):
        # Given: the arguments, checked.
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout expected a probability p in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = generator

    def forward(self, x):
        x = _as_float(x)  # given
        rng = self.generator if self.generator is not None else default_generator  # given
        # In training: keep = rng.random(x.shape) >= p; the output is x * keep / (1 - p).
        # Keep the scaled mask for backward. In evaluation (not self.training): x unchanged.
        raise NotImplementedError("Dropout.forward: zero each value with probability p and scale the rest by "
                                  "1 / (1 - p) in training; the identity in evaluation")

    def backward(self, dout):
        raise NotImplementedError("Dropout.backward: dout times forward's scaled mask (in evaluation: dout)")


# -- CrossEntropyLoss -----------------------------------------------------------------------------


class CrossEntropyLoss(Module):
    """Softmax followed by negative log-likelihood, like ``torch.nn.CrossEntropyLoss``.

    ``forward(logits, targets)`` returns ``-log softmax(logits)[n, targets[n]]`` averaged
    over the batch (``reduction='mean'``) or summed (``'sum'``), as a Python float. Use
    ``log_softmax`` (``cnnbook.numpy.functional.log_softmax`` subtracts the maximum
    first), never ``log(softmax)``: logits of +-1000 must give finite values.
    ``backward(dout=1.0)`` returns ``dout * (softmax(logits) - one_hot(targets)) / N``
    (without the ``/ N`` for 'sum').

    Shape:
        logits: (N, C); targets: (N,) integer class indices in [0, C). Output: a float.
    """

    def __init__(self, *, reduction="mean"):
        # Given.
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"CrossEntropyLoss expected reduction 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, logits, targets):
        logits, targets = np.asarray(logits, dtype=np.float64), np.asarray(targets)
        # Given: clear errors for the usual slips.
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss expected 2-D logits (N, C), got shape {logits.shape}")
        n, c = logits.shape
        if not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"CrossEntropyLoss expected integer class indices as targets, got dtype {targets.dtype}")
        if targets.shape != (n,):
            raise ValueError(f"CrossEntropyLoss expected targets of shape ({n},), got {targets.shape}")
        if n and (targets.min() < 0 or targets.max() >= c):
            raise ValueError(f"CrossEntropyLoss expected targets in [0, {c - 1}], got values from "
                             f"{targets.min()} to {targets.max()}")
        raise NotImplementedError("CrossEntropyLoss.forward: the mean (or sum) of -log_softmax(logits)[n, target]; "
                                  "keep what backward needs")

    def backward(self, dout=1.0):
        raise NotImplementedError("CrossEntropyLoss.backward: dout * (softmax - one_hot) / N ('sum': without / N)")


# -- optimizers -----------------------------------------------------------------------------------
#
# Each optimizer writes _update(p, group): the update of one Parameter p with the
# hyperparameters of its group (group["lr"], group["momentum"] ...). Read p.grad, change
# p.data in place (p.data -= ...; never write into p.grad), and keep what must last from
# one step to the next in self.state[p], a dict created empty on the parameter's first
# step, under torch's names (the check compares it with torch.optim's state). Every rule
# starts with weight decay folded into the gradient: g = p.grad + weight_decay * p.data.


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum, like ``torch.optim.SGD``.

    Update rule, with momentum μ and dampening τ::

        g ← ∇f(θ) + λ·θ
        if μ ≠ 0:
            b ← g                          on the first step (a copy)
            b ← μ·b + (1 − τ)·g            on later steps
            g ← g + μ·b  if nesterov,  else  g ← b
        θ ← θ − γ·g

    State: ``momentum_buffer`` (b), only when μ ≠ 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        # Given: the checks of torch.optim.SGD, and the parameter groups.
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD expected lr, momentum and weight_decay >= 0, got lr={lr!r}, "
                             f"momentum={momentum!r}, weight_decay={weight_decay!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD expected momentum > 0 and dampening == 0 for nesterov=True, got "
                             f"momentum={momentum!r}, dampening={dampening!r}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p, group):
        raise NotImplementedError("SGD._update: the rule in the docstring, for one parameter p")


class Adagrad(Optimizer):
    r"""Adagrad: a learning rate per weight, shrinking where gradients have been large.

    Update rule, with lr_decay η; the sum s starts at ``initial_accumulator_value``::

        g ← ∇f(θ) + λ·θ
        γₜ ← γ / (1 + (t − 1)·η)
        s ← s + g²
        θ ← θ − γₜ · g / (√s + ε)

    State: ``step`` (t, counting from 1 on the first step) and ``sum`` (s).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        # Given.
        for name, value in dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                initial_accumulator_value=initial_accumulator_value, eps=eps).items():
            if value < 0:
                raise ValueError(f"Adagrad expected {name} >= 0, got {value!r}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _update(self, p, group):
        raise NotImplementedError("Adagrad._update: the rule in the docstring, for one parameter p")


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a decaying root-mean-square of past gradients.

    Update rule, with smoothing constant α; v, m and b start at zero::

        g ← ∇f(θ) + λ·θ
        v ← α·v + (1 − α)·g²
        if centered:  m ← α·m + (1 − α)·g;   v̂ ← v − m²     else  v̂ ← v
        if μ > 0:     b ← μ·b + g / (√v̂ + ε);   θ ← θ − γ·b
        else:         θ ← θ − γ·g / (√v̂ + ε)

    State: ``step``, ``square_avg`` (v), ``grad_avg`` (m, only when centered) and
    ``momentum_buffer`` (b, only when μ > 0).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        # Given.
        for name, value in dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum).items():
            if value < 0:
                raise ValueError(f"RMSprop expected {name} >= 0, got {value!r}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, p, group):
        raise NotImplementedError("RMSprop._update: the rule in the docstring, for one parameter p")


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop's scaling, and bias correction.

    Update rule; m and v start at zero, t counts the steps from 1::

        g ← ∇f(θ) + λ·θ
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        amsgrad:  v_max ← max(v_max, v), used in place of v below
        m̂ ← m / (1 − β₁ᵗ);   v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − γ · m̂ / (√v̂ + ε)

    The bias correction undoes the pull towards the zero start: early on m and v average
    only t gradients, with weights that sum to 1 − βᵗ.

    State: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and ``max_exp_avg_sq`` (v_max,
    only with amsgrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        # Given.
        if not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"Adam expected betas to be a pair (beta1, beta2), got {betas!r}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam expected betas in [0, 1), got {betas!r}")
        for name, value in dict(lr=lr, eps=eps, weight_decay=weight_decay).items():
            if value < 0:
                raise ValueError(f"Adam expected {name} >= 0, got {value!r}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _update(self, p, group):
        raise NotImplementedError("Adam._update: the rule in the docstring, for one parameter p")
