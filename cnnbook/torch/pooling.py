"""Pooling layers built from window views (``Tensor.unfold``) and reductions.

``x.unfold(2, kH, sH).unfold(3, kW, sW)`` is a strided view of shape
``(N, C, H_out, W_out, kH, kW)``: every pooling window, without copying the input.
Max pooling takes ``max`` over the last two axes, average pooling ``sum`` divided by
the window's count, stochastic pooling samples one element per window.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnnbook.torch._validation import (
    check_non_negative,
    check_positive,
    check_rank,
    pair,
)


def _output_size(size, extent, stride, padding, ceil_mode):
    """Torch's pooling output length along one axis (``pooling_output_shape``).

    With ``ceil_mode`` a last, partial window is kept as long as it starts inside the
    input or the left padding (never in the right padding alone).
    """
    span = size + 2 * padding - extent
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def _check_fits(layer, x, out_size, kernel, padding):
    if out_size[0] < 1 or out_size[1] < 1:
        raise ValueError(
            f"{layer} expected an input at least as large as kernel_size {kernel} after "
            f"padding {padding}, got spatial size {tuple(x.shape[-2:])} "
            f"(input shape {tuple(x.shape)})"
        )


def _windows(x, extent, stride, dilation=(1, 1)):
    """All pooling windows of ``x`` (N, C, H, W) as a view (N, C, H_out, W_out, kH, kW)."""
    windows = x.unfold(2, extent[0], stride[0]).unfold(3, extent[1], stride[1])
    if dilation != (1, 1):
        windows = windows[..., :: dilation[0], :: dilation[1]]
    return windows


class MaxPool2d(nn.Module):
    """Max pooling over 2-D windows, twin of ``torch.nn.MaxPool2d``.

    Padding is filled with ``-inf``, so a padded position never wins a window. The
    gradient flows only to the maximum of each window (the first one in row-major
    order when several are equal, as in torch). ``return_indices=True`` also returns
    the position of each maximum in the flattened, unpadded ``H * W`` plane, as torch
    does for ``MaxUnpool2d``. (A dilated window can lie entirely in the padding; it
    outputs ``-inf`` like torch's, but its index points into the padding.)

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, where
          ``H_out = floor((H + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) / stride[0]) + 1``
          (``ceil`` instead of ``floor`` with ``ceil_mode=True``, dropping a last window
          that would start in the right padding), likewise for ``W_out``.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices=False,
        ceil_mode=False,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode
        kernel, stride, padding, dilation = self._sizes()
        check_positive(kernel, "kernel_size", "MaxPool2d")
        check_positive(stride, "stride", "MaxPool2d")
        check_non_negative(padding, "padding", "MaxPool2d")
        check_positive(dilation, "dilation", "MaxPool2d")
        # torch's rule: at most half the (undilated) kernel, so no window is all padding
        if any(p > k // 2 for k, p in zip(kernel, padding)):
            raise ValueError(
                f"MaxPool2d expected padding at most half the kernel size, got "
                f"padding={self.padding} for kernel_size={self.kernel_size}"
            )

    def _sizes(self):
        return (
            pair(self.kernel_size, "kernel_size", "MaxPool2d"),
            pair(self.stride, "stride", "MaxPool2d"),
            pair(self.padding, "padding", "MaxPool2d"),
            pair(self.dilation, "dilation", "MaxPool2d"),
        )

    def forward(self, x):
        check_rank(x, (3, 4), "MaxPool2d", "(N, C, H, W) or (C, H, W)")
        kernel, stride, padding, dilation = self._sizes()
        unbatched = x.dim() == 3
        x4 = x.unsqueeze(0) if unbatched else x
        height, width = x4.shape[-2:]
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        out_size = tuple(
            _output_size(s, e, st, p, self.ceil_mode)
            for s, e, st, p in zip((height, width), extent, stride, padding)
        )
        _check_fits("MaxPool2d", x, out_size, kernel, padding)
        # ceil_mode's last window may reach past the padding: pad that too with -inf.
        extra = tuple(
            max(0, (o - 1) * st + e - (s + 2 * p))
            for o, st, e, s, p in zip(out_size, stride, extent, (height, width), padding)
        )
        padded = F.pad(
            x4,
            (padding[1], padding[1] + extra[1], padding[0], padding[0] + extra[0]),
            value=-math.inf,
        )
        windows = _windows(padded, extent, stride, dilation)  # (N, C, H_out, W_out, kH, kW)
        n, c, out_h, out_w = windows.shape[:4]
        # max with dim returns the first maximal index, and its gradient goes there only.
        out, arg = windows.reshape(n, c, out_h, out_w, -1).max(dim=-1)
        if unbatched:
            out = out.squeeze(0)
        if not self.return_indices:
            return out
        # window-local (i, j) -> row and column in the unpadded input
        ki = torch.div(arg, kernel[1], rounding_mode="floor")
        kj = arg - ki * kernel[1]
        top = torch.arange(out_h, device=x.device) * stride[0] - padding[0]
        left = torch.arange(out_w, device=x.device) * stride[1] - padding[1]
        rows = top.view(-1, 1) + ki * dilation[0]
        cols = left.view(1, -1) + kj * dilation[1]
        indices = rows * width + cols
        return out, (indices.squeeze(0) if unbatched else indices)

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(nn.Module):
    """Average pooling over 2-D windows, twin of ``torch.nn.AvgPool2d``.

    Each output is the window's sum divided by a count: the window size including
    zero padding (``count_include_pad=True``, torch's default), only the input
    positions it covers (``count_include_pad=False``), or ``divisor_override``. The
    extra positions a ``ceil_mode`` window reaches past the padding are never counted.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, where
          ``H_out = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1``
          (``ceil`` with ``ceil_mode=True``, as for ``MaxPool2d``), likewise for ``W_out``.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override
        kernel, stride, padding = self._sizes()
        check_positive(kernel, "kernel_size", "AvgPool2d")
        check_positive(stride, "stride", "AvgPool2d")
        check_non_negative(padding, "padding", "AvgPool2d")
        if divisor_override is not None:
            check_positive(divisor_override, "divisor_override", "AvgPool2d")
        if any(p > k // 2 for k, p in zip(kernel, padding)):
            raise ValueError(
                f"AvgPool2d expected padding at most half the kernel size, got "
                f"padding={self.padding} for kernel_size={self.kernel_size}"
            )

    def _sizes(self):
        return (
            pair(self.kernel_size, "kernel_size", "AvgPool2d"),
            pair(self.stride, "stride", "AvgPool2d"),
            pair(self.padding, "padding", "AvgPool2d"),
        )

    def forward(self, x):
        check_rank(x, (3, 4), "AvgPool2d", "(N, C, H, W) or (C, H, W)")
        kernel, stride, padding = self._sizes()
        unbatched = x.dim() == 3
        x4 = x.unsqueeze(0) if unbatched else x
        height, width = x4.shape[-2:]
        out_size = tuple(
            _output_size(s, k, st, p, self.ceil_mode)
            for s, k, st, p in zip((height, width), kernel, stride, padding)
        )
        _check_fits("AvgPool2d", x, out_size, kernel, padding)
        extra = tuple(
            max(0, (o - 1) * st + k - (s + 2 * p))
            for o, st, k, s, p in zip(out_size, stride, kernel, (height, width), padding)
        )
        pads = (padding[1], padding[1] + extra[1], padding[0], padding[0] + extra[0])
        sums = _windows(F.pad(x4, pads), kernel, stride).sum(dim=(-2, -1))  # (N, C, H_out, W_out)

        if self.divisor_override is not None:
            out = sums / self.divisor_override
        else:
            # Count what each window covers by pooling a mask of ones in the same way:
            # ones over input and padding, or over the input alone, never over `extra`.
            if self.count_include_pad:
                mask = x4.new_ones((height + 2 * padding[0], width + 2 * padding[1]))
                mask = F.pad(mask, (0, extra[1], 0, extra[0]))
            else:
                mask = F.pad(x4.new_ones((height, width)), pads)
            counts = mask.unfold(0, kernel[0], stride[0]).unfold(1, kernel[1], stride[1])
            out = sums / counts.sum(dim=(-2, -1))  # counts: (H_out, W_out), broadcast
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class StochasticPool2d(nn.Module):
    """Stochastic pooling (Zeiler & Fergus, 2013), which ``torch.nn`` does not have.

    For a window with non-negative activations ``a_i`` let ``p_i = a_i / sum_j a_j``.

    - Training: sample one position per window with probability ``p_i`` and output its
      activation. The output is that element, so the gradient flows to it alone.
    - Eval: output the probability-weighted average ``sum_i p_i a_i``, which the paper
      uses at test time (a cheap model average over the possible samples).

    A window of zeros outputs 0 in both modes and passes no gradient (every ``p_i`` is
    undefined there and the output is a constant). The layer is defined for
    non-negative inputs, such as ReLU outputs; a negative input raises ``ValueError``.
    Samples come from torch's global generator (``torch.manual_seed``);
    ``cnnbook.numpy.StochasticPool2d`` takes a keyword-only ``generator``.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``, where
          ``H_out = floor((H - kernel_size[0]) / stride[0]) + 1``, likewise for ``W_out``.

    Reference: M. D. Zeiler and R. Fergus, "Stochastic Pooling for Regularization of
    Deep Convolutional Neural Networks", ICLR 2013, arXiv:1301.3557.
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        kernel, stride = self._sizes()
        check_positive(kernel, "kernel_size", "StochasticPool2d")
        check_positive(stride, "stride", "StochasticPool2d")

    def _sizes(self):
        return (
            pair(self.kernel_size, "kernel_size", "StochasticPool2d"),
            pair(self.stride, "stride", "StochasticPool2d"),
        )

    def forward(self, x):
        check_rank(x, (3, 4), "StochasticPool2d", "(N, C, H, W) or (C, H, W)")
        kernel, stride = self._sizes()
        out_size = tuple(
            _output_size(s, k, st, 0, False) for s, k, st in zip(x.shape[-2:], kernel, stride)
        )
        _check_fits("StochasticPool2d", x, out_size, kernel, (0, 0))
        if x.numel() and (x < 0).any():
            raise ValueError(
                "StochasticPool2d expected a non-negative input (it samples with probability "
                f"proportional to the activations; apply ReLU first), got a minimum of "
                f"{x.min().item():g} (input shape {tuple(x.shape)})"
            )
        unbatched = x.dim() == 3
        x4 = x.unsqueeze(0) if unbatched else x
        windows = _windows(x4, kernel, stride)
        n, c, out_h, out_w = windows.shape[:4]
        a = windows.reshape(n, c, out_h, out_w, -1)  # (N, C, H_out, W_out, kH*kW)
        total = a.sum(dim=-1)
        nonzero = total > 0

        if self.training:
            with torch.no_grad():
                # The weights need not sum to 1. A zero window gets uniform weights so
                # multinomial accepts it; its output is masked to 0 below anyway.
                weights = torch.where(nonzero.unsqueeze(-1), a, 1.0).reshape(-1, a.shape[-1])
                choice = torch.multinomial(weights, 1).view(n, c, out_h, out_w, 1)
            picked = a.gather(-1, choice).squeeze(-1)
            out = torch.where(nonzero, picked, 0.0)
        else:
            # Dividing by 1 in zero windows keeps their gradient finite (it is masked).
            p = a / torch.where(nonzero, total, 1.0).unsqueeze(-1)
            out = torch.where(nonzero, (p * a).sum(dim=-1), 0.0)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
