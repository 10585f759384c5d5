"""Flatten: merge a range of dimensions into one (autograd reshapes the gradient back)."""

import torch
from torch import nn


class Flatten(nn.Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one, twin of ``torch.nn.Flatten``.

    The default keeps the batch axis: ``(N, C, H, W) -> (N, C * H * W)``, the step
    between the convolutional features and the fully connected head.

    Shape:
        - Input: ``(*, S_start, ..., S_end, *)``.
        - Output: ``(*, S_start * ... * S_end, *)``.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"Flatten expected a torch.Tensor, got {type(x).__name__}")
        rank = max(x.dim(), 1)  # a 0-d tensor flattens like a 1-d one, as in torch
        start = self.start_dim + rank if self.start_dim < 0 else self.start_dim
        end = self.end_dim + rank if self.end_dim < 0 else self.end_dim
        if not (0 <= start < rank and 0 <= end < rank):
            needed = max(
                self.start_dim + 1 if self.start_dim >= 0 else -self.start_dim,
                self.end_dim + 1 if self.end_dim >= 0 else -self.end_dim,
            )
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) expected an input "
                f"with at least {needed} dimensions, got a {x.dim()}D input "
                f"(input shape {tuple(x.shape)})"
            )
        if start > end:
            raise ValueError(
                f"Flatten expected start_dim to come before end_dim, got start_dim="
                f"{self.start_dim}, end_dim={self.end_dim} for a {x.dim()}D input"
            )
        return x.flatten(start, end)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
