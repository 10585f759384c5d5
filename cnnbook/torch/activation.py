"""Elementwise activations written as formulas, each stable for large ``|x|``.

Each function is built so that autograd's derivative at the kink ``x = 0`` is the one
torch uses: ReLU' (0) = 0, LeakyReLU'(0) = negative_slope, ELU'(0) = alpha.
"""

import torch
from torch import nn


def relu(x):
    """``max(x, 0)``; NaN stays NaN, and the gradient at 0 is 0."""
    return torch.where(x <= 0, 0.0, x)


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return torch.where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    ``expm1`` keeps the small negative values accurate, and it only ever sees
    ``min(x, 0)``: ``exp`` of a large positive ``x`` would overflow in the branch that
    ``where`` discards, and its infinite gradient times 0 would be NaN.
    """
    positive = x > 0
    negative_part = torch.where(positive, 0.0, x)
    return torch.where(positive, x, alpha * torch.expm1(negative_part))


def sigmoid(x):
    """``1 / (1 + exp(-x))`` without overflow.

    ``exp`` is only taken of ``-|x|`` (at most 0): for ``x >= 0`` the usual form, for
    ``x < 0`` the equal ``exp(x) / (1 + exp(x))``. ``-|x|`` is written with ``where`` so
    that its gradient at 0 is -1, not the 0 that ``abs`` would give there.
    """
    nonneg = x >= 0
    e = torch.exp(torch.where(nonneg, -x, x))  # exp(-|x|), in (0, 1]
    return torch.where(nonneg, 1 / (1 + e), e / (1 + e))


def tanh(x):
    """``(1 - exp(-2|x|)) / (1 + exp(-2|x|))`` with the sign of ``x``.

    ``expm1`` keeps ``1 - exp(-2|x|)`` accurate near 0, where the plain difference
    would cancel; only ``exp`` of non-positive numbers is taken, so nothing overflows.
    """
    nonneg = x >= 0
    m = torch.expm1(-2 * torch.where(nonneg, x, -x))  # exp(-2|x|) - 1, in (-1, 0]
    magnitude = -m / (2 + m)
    return torch.where(nonneg, magnitude, -magnitude)


def _result(x, out, inplace):
    # In place means the caller's tensor ends up holding the result, as in torch. The
    # formulas above never save x itself for backward (only masks and exp results), so
    # overwriting x afterwards leaves the gradient intact.
    return x.copy_(out) if inplace else out


class ReLU(nn.Module):
    """Rectified linear unit ``max(x, 0)``, twin of ``torch.nn.ReLU``.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return _result(x, relu(x), self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(nn.Module):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise; twin of ``torch.nn.LeakyReLU``.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.

    Reference: A. L. Maas, A. Y. Hannun and A. Y. Ng, "Rectifier Nonlinearities Improve
    Neural Network Acoustic Models", ICML 2013 workshop.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return _result(x, leaky_relu(x, self.negative_slope), self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(nn.Module):
    """Exponential linear unit, twin of ``torch.nn.ELU``.

    ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise: smooth at 0 when
    ``alpha = 1`` and saturating at ``-alpha`` for large negative inputs.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.

    Reference: D.-A. Clevert, T. Unterthiner and S. Hochreiter, "Fast and Accurate Deep
    Network Learning by Exponential Linear Units (ELUs)", ICLR 2016, arXiv:1511.07289.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return _result(x, elu(x, self.alpha), self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Sigmoid(nn.Module):
    """Logistic function ``1 / (1 + exp(-x))``, twin of ``torch.nn.Sigmoid``; no overflow
    at any finite input.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.
    """

    def forward(self, x):
        return sigmoid(x)


class Tanh(nn.Module):
    """Hyperbolic tangent, twin of ``torch.nn.Tanh``; no overflow at any finite input.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.
    """

    def forward(self, x):
        return tanh(x)
