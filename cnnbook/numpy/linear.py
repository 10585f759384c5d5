"""Fully connected layer."""

import math

import numpy as np

from cnnbook.numpy import init
from cnnbook.numpy._utils import as_float_array, check_dtype, check_positive_int, check_same_shape
from cnnbook.numpy.module import Module
from cnnbook.numpy.parameter import Parameter


class Linear(Module):
    """Affine map ``y = x @ weight.T + bias``, like ``torch.nn.Linear``.

    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,); both
    start from torch's default initialization (U(-1/sqrt(in_features), ...)). They are
    float64 unless ``dtype`` (keyword-only: torch's ``device`` comes before it) says
    otherwise, and inputs are cast to it.

    Shape:
        Input: (*, in_features), any number of leading dimensions.
        Output: (*, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", "Linear")
        self.out_features = check_positive_int(out_features, "out_features", "Linear")
        dtype = check_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.empty(self.out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)

    def forward(self, x):
        x = as_float_array(x, "Linear", self.weight.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            hint = ""
            if x.ndim > 2 and math.prod(x.shape[1:]) == self.in_features:
                hint = "; flatten it first (Flatten() before this layer): each sample holds that many values"
            raise ValueError(
                f"Linear expected input with {self.in_features} features in its last dimension, "
                f"got input of shape {x.shape}{hint}"
            )
        self._cache = x
        out = x @ self.weight.data.T
        if self.bias is not None:
            out += self.bias.data
        return out

    def backward(self, dout):
        x = self._saved()
        dout = as_float_array(dout, "Linear.backward", self.weight.dtype, what="dout")
        check_same_shape(dout, x.shape[:-1] + (self.out_features,), "Linear")
        # Leading dimensions are all "batch": fold them into one for the sums over samples.
        x2 = x.reshape(-1, self.in_features)
        d2 = dout.reshape(-1, self.out_features)
        self.weight.grad += d2.T @ x2
        if self.bias is not None:
            self.bias.grad += d2.sum(axis=0)
        return dout @ self.weight.data

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
