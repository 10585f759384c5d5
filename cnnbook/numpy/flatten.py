"""Flatten: reshape, and reshape back in backward."""

import math

from cnnbook.numpy._utils import as_float_array, check_same_shape, is_int
from cnnbook.numpy.module import Module


class Flatten(Module):
    """Merge dimensions ``start_dim`` .. ``end_dim`` into one, like ``torch.nn.Flatten``.

    Keeps the input's floating dtype (float64 for integer input).

    Shape:
        Input: (N, *dims). Output: (N, prod(dims)) with the defaults start_dim=1, end_dim=-1.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        if not is_int(start_dim) or not is_int(end_dim):
            raise ValueError(f"Flatten expected integer start_dim and end_dim, got {start_dim!r}, {end_dim!r}")
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x):
        x = as_float_array(x, "Flatten")
        start = self.start_dim + x.ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + x.ndim if self.end_dim < 0 else self.end_dim
        if not (0 <= start <= end < x.ndim):
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) needs an input with "
                f"those dimensions in order, got input of shape {x.shape}"
            )
        out_shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
        self._cache = (x.shape, out_shape)
        return x.reshape(out_shape)

    def backward(self, dout):
        x_shape, out_shape = self._saved()
        dout = as_float_array(dout, "Flatten.backward", what="dout")
        check_same_shape(dout, out_shape, "Flatten")
        # A copy, not a view: whoever receives dx may write into it without touching dout.
        return dout.reshape(x_shape).copy()

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
