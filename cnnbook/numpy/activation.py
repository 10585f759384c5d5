"""Elementwise activation layers. Each backward multiplies ``dout`` by the local
derivative, computed from what forward cached, into a new array."""

import numpy as np

from cnnbook.numpy import functional as F
from cnnbook.numpy._utils import as_float_array, check_same_shape
from cnnbook.numpy.module import Module


class _Elementwise(Module):
    def _check_dout(self, dout, shape):
        dout = as_float_array(dout, f"{type(self).__name__}.backward", what="dout")
        check_same_shape(dout, shape, type(self).__name__)
        return dout


class ReLU(_Elementwise):
    """``max(x, 0)``. The derivative at exactly 0 is taken as 0, as torch does.

    Computes in the input's floating dtype (float64 for integer input). Torch's
    ``inplace`` is left out here and in the other activations: forward returns a new
    array.

    Shape:
        Input: any shape. Output: the same shape.
    """

    def forward(self, x):
        x = as_float_array(x, "ReLU")
        positive = x > 0
        self._cache = positive
        return np.where(positive, x, np.zeros((), dtype=x.dtype))

    def backward(self, dout):
        positive = self._saved()
        dout = self._check_dout(dout, positive.shape)
        return np.where(positive, dout, np.zeros((), dtype=dout.dtype))


class LeakyReLU(_Elementwise):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (Maas et al., 2013).

    Computes in the input's floating dtype (float64 for integer input). No ``inplace``.

    Shape:
        Input: any shape. Output: the same shape.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        x = as_float_array(x, "LeakyReLU")
        positive = x > 0
        self._cache = positive
        return np.where(positive, x, x * x.dtype.type(self.negative_slope))

    def backward(self, dout):
        positive = self._saved()
        dout = self._check_dout(dout, positive.shape)
        return np.where(positive, dout, dout * dout.dtype.type(self.negative_slope))

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise (Clevert et al., 2016).

    Smooth at 0 when alpha = 1; its negative saturation pushes mean activations
    toward zero. Computes in the input's floating dtype (float64 for integer input).
    No ``inplace``.

    Shape:
        Input: any shape. Output: the same shape.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        x = as_float_array(x, "ELU")
        positive = x > 0
        # expm1 of min(x, 0): accurate near 0 and no overflow warning for large positive x.
        negative_part = x.dtype.type(self.alpha) * np.expm1(np.minimum(x, 0))
        self._cache = (positive, negative_part)
        return np.where(positive, x, negative_part)

    def backward(self, dout):
        positive, negative_part = self._saved()
        dout = self._check_dout(dout, positive.shape)
        # For x <= 0: d/dx alpha * (exp(x) - 1) = alpha * exp(x) = negative_part + alpha.
        slope = negative_part + negative_part.dtype.type(self.alpha)
        return np.where(positive, dout, dout * slope)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(_Elementwise):
    """Logistic sigmoid, computed without overflow (see ``functional.sigmoid``).

    Computes in the input's floating dtype (float64 for integer input).

    Shape:
        Input: any shape. Output: the same shape.
    """

    def forward(self, x):
        out = F.sigmoid(x)
        self._cache = out
        return out

    def backward(self, dout):
        out = self._saved()
        dout = self._check_dout(dout, out.shape)
        return dout * out * (1 - out)


class Tanh(_Elementwise):
    """Hyperbolic tangent.

    Computes in the input's floating dtype (float64 for integer input).

    Shape:
        Input: any shape. Output: the same shape.
    """

    def forward(self, x):
        out = F.tanh(x)
        self._cache = out
        return out

    def backward(self, dout):
        out = self._saved()
        dout = self._check_dout(dout, out.shape)
        return dout * (1 - out * out)
