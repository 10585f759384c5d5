"""The trainable array of the NumPy half: data plus an accumulating gradient."""

import numpy as np


class Parameter:
    """A trainable array and its gradient, like ``torch.nn.Parameter``.

    ``grad`` has the shape and dtype of ``data``. Backward passes *add* into it, as
    torch's ``.grad`` accumulates, and ``zero_grad()`` sets it back to zeros.

    ``data`` is copied, in ``dtype`` when given (keyword-only: torch's second argument
    is ``requires_grad``), else in its own floating dtype; other data becomes float64.
    """

    def __init__(self, data, *, dtype=None):
        self.data = np.array(data, dtype=dtype, copy=True)
        if not np.issubdtype(self.data.dtype, np.floating):
            self.data = self.data.astype(np.float64)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad = np.zeros_like(self.data)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
