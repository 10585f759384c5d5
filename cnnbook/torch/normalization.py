"""Batch normalization written out as its formulas."""

import torch
from torch import nn
from torch.nn import init

from cnnbook.torch._validation import check_positive, check_rank, check_size


class _BatchNorm(nn.Module):
    """Shared body of ``BatchNorm1d`` and ``BatchNorm2d``; subclasses fix the input rank."""

    _ranks = ()
    _layout = ""
    _rank_hints = {}  # a wrong rank -> the likely fix, for the error message

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        name = type(self).__name__
        check_positive(num_features, "num_features", name)
        if not eps > 0:
            raise ValueError(f"{name} expected a positive eps, got {eps!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name} expected momentum in [0, 1] or None, got {momentum!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {"device": device, "dtype": dtype}
        # Parameters and buffers are registered in torch's order with torch's names, so
        # state_dicts copy across in both directions.
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        name = type(self).__name__
        check_rank(x, self._ranks, name, self._layout, self._rank_hints)
        check_size(x, 1, self.num_features, "features (dimension 1)", name)
        # statistics over every axis except the feature axis 1
        dims = (0,) + tuple(range(2, x.dim()))
        shape = (1, -1) + (1,) * (x.dim() - 2)  # to broadcast (C,) against x

        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats:
            count = x.numel() // x.shape[1]
            if count <= 1:
                raise ValueError(
                    f"{name} expected more than 1 value per feature to compute batch "
                    f"statistics, got input shape {tuple(x.shape)}"
                )
            mean = x.mean(dim=dims)
            # The biased variance (divide by count) normalizes the batch ...
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)
            if self.training and self.track_running_stats:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:  # cumulative average over all batches so far
                    factor = 1.0 / self.num_batches_tracked.item()
                else:
                    factor = self.momentum
                with torch.no_grad():
                    # ... but the running estimate keeps the unbiased one (count - 1), as torch.
                    unbiased = var * (count / (count - 1))
                    self.running_mean.mul_(1 - factor).add_(factor * mean)
                    self.running_var.mul_(1 - factor).add_(factor * unbiased)
        else:
            mean, var = self.running_mean, self.running_var

        out = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        if self.weight is not None:
            out = out * self.weight.view(shape)
        if self.bias is not None:
            out = out + self.bias.view(shape)
        return out

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a 2-D or 3-D input, twin of ``torch.nn.BatchNorm1d``.

    Training: ``y = (x - mean_B) / sqrt(var_B + eps) * weight + bias`` with the mean and
    the *biased* variance of the batch (over ``N``, and ``L`` for 3-D input), and the
    running estimates move by ``running = (1 - momentum) * running + momentum * batch``,
    where the batch variance enters *unbiased* (times ``count / (count - 1)``);
    ``num_batches_tracked`` counts the steps (``momentum=None`` uses the cumulative
    average ``1 / num_batches_tracked``). Eval: the running estimates replace the batch
    statistics (unless ``track_running_stats=False``, which keeps none).

    ``weight`` (ones) and ``bias`` (zeros) have shape ``(num_features,)``, as do the
    buffers ``running_mean`` (zeros) and ``running_var`` (ones).

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)`` with ``C = num_features``.
        - Output: same shape as the input.

    Reference: S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift", ICML 2015, arXiv:1502.03167.
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"
    _rank_hints = {4: "BatchNorm2d takes (N, C, H, W)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a 4-D input, twin of ``torch.nn.BatchNorm2d``.

    The same formulas as ``BatchNorm1d``, with the statistics of each channel taken
    over ``N``, ``H`` and ``W``: convolutional features share one scale and shift per
    channel across all positions.

    Shape:
        - Input: ``(N, C, H, W)`` with ``C = num_features``.
        - Output: same shape as the input.

    Reference: Ioffe and Szegedy, 2015 (see ``BatchNorm1d``).
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"
    _rank_hints = {2: "BatchNorm1d takes (N, C) or (N, C, L)", 3: "BatchNorm1d takes (N, C) or (N, C, L)"}
