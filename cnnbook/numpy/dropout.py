"""Inverted dropout (Srivastava et al., 2014)."""

import numpy as np

from cnnbook.numpy._random import resolve_generator
from cnnbook.numpy._utils import as_float_array, check_same_shape
from cnnbook.numpy.module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the survivors by
    ``1 / (1 - p)``, like ``torch.nn.Dropout``; the identity in evaluation.

    Scaling at training time ("inverted" dropout) keeps the expected activation the
    same in both modes, so evaluation needs no rescaling. ``generator`` (keyword-only, a
    ``numpy.random.Generator``) draws the masks; by default the ``cnnbook.numpy``
    default generator, reseeded by ``cnnbook.numpy.manual_seed``. Computes in the
    input's floating dtype (float64 for integer input). Torch's ``inplace`` is left
    out: forward returns a new array.

    Shape:
        Input: any shape. Output: the same shape.

    Srivastava, N. et al. (2014). Dropout: A Simple Way to Prevent Neural Networks from
    Overfitting. JMLR 15, 1929-1958.
    """

    def __init__(self, p=0.5, *, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout expected a probability p in [0, 1], got {p!r}")
        resolve_generator(generator, "Dropout")  # reject a bad generator now
        self.p = float(p)
        self.generator = generator

    def forward(self, x):
        x = as_float_array(x, "Dropout")
        if not self.training or self.p == 0:
            self._cache = (x.shape, None)
            return x.copy()
        if self.p == 1:
            scaled_mask = np.zeros_like(x)
        else:
            rng = resolve_generator(self.generator, "Dropout")
            draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
            keep = rng.random(x.shape, dtype=draw_dtype) >= self.p
            scaled_mask = keep * x.dtype.type(1.0 / (1.0 - self.p))
        self._cache = (x.shape, scaled_mask)
        return x * scaled_mask

    def backward(self, dout):
        x_shape, scaled_mask = self._saved()
        dout = as_float_array(dout, "Dropout.backward", what="dout")
        check_same_shape(dout, x_shape, "Dropout")
        if scaled_mask is None:
            return dout.copy()
        return dout * scaled_mask

    def extra_repr(self):
        return f"p={self.p}"
