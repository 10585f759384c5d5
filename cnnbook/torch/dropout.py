"""Inverted dropout with a sampled Bernoulli mask."""

import torch
from torch import nn


class Dropout(nn.Module):
    """Inverted dropout, twin of ``torch.nn.Dropout``.

    Training: every element is zeroed with probability ``p`` (a fresh Bernoulli mask
    per call) and the kept ones are scaled by ``1 / (1 - p)``, so the expected output
    equals the input and eval needs no rescaling. Eval: the identity. The gradient is
    the same mask times the same scale. ``inplace=True`` writes the result into the
    input tensor, as torch does. The masks come from torch's global generator
    (``torch.manual_seed``); ``cnnbook.numpy.Dropout`` takes a keyword-only
    ``generator`` instead of ``inplace``.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.

    Reference: N. Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks
    from Overfitting", JMLR 15, 2014.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout expected a probability p in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        if not self.training:
            return x
        # Scaling the mask, not the output, keeps p = 1 finite: every unit is dropped.
        keep = torch.empty_like(x).bernoulli_(1 - self.p)
        scale = 0.0 if self.p == 1 else 1 / (1 - self.p)
        mask = keep * scale
        return x.mul_(mask) if self.inplace else x * mask

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
