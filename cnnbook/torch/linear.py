"""The fully connected layer, written as a matrix product."""

import math

import torch
from torch import nn
from torch.nn import init

from cnnbook.torch._validation import check_positive, check_size


class Linear(nn.Module):
    """Fully connected layer ``y = x W^T + b``, the twin of ``torch.nn.Linear``.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias`` ``(out_features,)``,
    initialized like torch's: ``kaiming_uniform_(a=sqrt(5))`` for the weight, which
    works out to ``U(-1/sqrt(in_features), 1/sqrt(in_features))``, and the same bound
    for the bias.

    Shape:
        - Input: ``(*, in_features)``, any number of leading dimensions.
        - Output: ``(*, out_features)``.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_positive(in_features, "in_features", "Linear")
        check_positive(out_features, "out_features", "Linear")
        self.in_features = in_features
        self.out_features = out_features
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty((out_features, in_features), **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # Same calls in the same order as torch.nn.Linear, so that under the same seed
        # both draw identical numbers.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if not isinstance(x, torch.Tensor) or x.dim() < 1:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"Linear expected an input of shape (*, {self.in_features}), got {shape}"
            )
        hint = ""
        if x.dim() > 2 and math.prod(x.shape[1:]) == self.in_features:
            hint = "flatten it first (Flatten() before this layer): each sample holds that many values"
        check_size(x, -1, self.in_features, "features in its last dimension", "Linear", hint)
        out = x @ self.weight.T
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
