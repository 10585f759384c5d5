"""2-D convolution as im2col (``F.unfold``) followed by one matrix product."""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn import init

from cnnbook.torch._validation import (
    check_non_negative,
    check_positive,
    check_rank,
    check_size,
    pair,
)

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(nn.Module):
    """2-D convolution (cross-correlation, as in every deep learning library), twin of
    ``torch.nn.Conv2d``.

    Each receptive field is copied into a column (``F.unfold``, "im2col"), and the
    convolution becomes one matrix product of the flattened filters with those
    columns. ``groups`` splits the channels into independent convolutions; padding
    may be an int, a pair, ``'valid'`` (none) or ``'same'`` (output as large as the
    input, stride 1 only; an odd total goes to the bottom/right, as in torch), with
    ``padding_mode`` ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    ``weight`` has shape ``(out_channels, in_channels // groups, kH, kW)`` and
    ``bias`` ``(out_channels,)``; both are initialized like torch's (bound
    ``1/sqrt(fan_in)`` with ``fan_in = in_channels // groups * kH * kW``).

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        - Output: ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``, where
          ``H_out = floor((H + pad_top + pad_bottom - dilation[0] * (kH - 1) - 1) / stride[0]) + 1``
          and likewise for ``W_out``.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = "Conv2d"
        check_positive(in_channels, "in_channels", name)
        check_positive(out_channels, "out_channels", name)
        check_positive(groups, "groups", name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d expected in_channels and out_channels divisible by groups={groups}, "
                f"got in_channels={in_channels}, out_channels={out_channels}"
            )
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.dilation = pair(dilation, "dilation", name)
        check_positive(self.kernel_size, "kernel_size", name)
        check_positive(self.stride, "stride", name)
        check_positive(self.dilation, "dilation", name)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"Conv2d expected padding_mode in {_PADDING_MODES}, got {padding_mode!r}"
            )

        # (left, right, top, bottom): the order F.pad takes for the last two dims.
        if isinstance(padding, str):
            if padding == "valid":
                self._pads = (0, 0, 0, 0)
            elif padding == "same":
                if self.stride != (1, 1):
                    raise ValueError(
                        f"Conv2d padding='same' needs stride 1, got stride={self.stride}"
                    )
                total_h = self.dilation[0] * (self.kernel_size[0] - 1)
                total_w = self.dilation[1] * (self.kernel_size[1] - 1)
                self._pads = (total_w // 2, total_w - total_w // 2,
                              total_h // 2, total_h - total_h // 2)
            else:
                raise ValueError(
                    f"Conv2d expected padding 'valid', 'same', an int or a pair, got {padding!r}"
                )
        else:
            padding = pair(padding, "padding", name)
            check_non_negative(padding, "padding", name)
            self._pads = (padding[1], padding[1], padding[0], padding[0])

        self.in_channels = in_channels
        self.out_channels = out_channels
        self.padding = padding
        self.groups = groups
        self.padding_mode = padding_mode

        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(
            torch.empty((out_channels, in_channels // groups, *self.kernel_size), **factory)
        )
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # Same calls in the same order as torch.nn.Conv2d: identical draws under one seed.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight[0].numel()
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _pad(self, x):
        left, right, top, bottom = self._pads
        if not any(self._pads):
            return x
        height, width = x.shape[-2:]
        # reflect mirrors without repeating the edge, so it needs pad < size;
        # circular wraps around once, so it needs pad <= size.
        if self.padding_mode == "reflect" and (max(top, bottom) >= height or max(left, right) >= width):
            raise ValueError(
                f"Conv2d with padding_mode='reflect' expected padding smaller than the input, "
                f"got padding {self.padding} for input shape {tuple(x.shape)}"
            )
        if self.padding_mode == "circular" and (max(top, bottom) > height or max(left, right) > width):
            raise ValueError(
                f"Conv2d with padding_mode='circular' expected padding at most the input size, "
                f"got padding {self.padding} for input shape {tuple(x.shape)}"
            )
        mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
        return F.pad(x, self._pads, mode=mode)

    def forward(self, x):
        check_rank(x, (3, 4), "Conv2d", "(N, C, H, W) or (C, H, W)")
        hint = ""
        if x.dim() == 4 and x.shape[-1] == self.in_channels:  # (N, H, W, C), as from most image libraries
            hint = "channels last? permute to (N, C, H, W), as in x.permute(0, 3, 1, 2)"
        check_size(x, -3, self.in_channels, "channels", "Conv2d", hint)
        unbatched = x.dim() == 3
        if unbatched:
            x = x.unsqueeze(0)
        padded = self._pad(x)
        n, c, height, width = padded.shape
        kh, kw = self.kernel_size
        extent = (self.dilation[0] * (kh - 1) + 1, self.dilation[1] * (kw - 1) + 1)
        if extent[0] > height or extent[1] > width:
            raise ValueError(
                f"Conv2d expected a padded input of at least {extent} for kernel_size "
                f"{self.kernel_size} and dilation {self.dilation}, got {(height, width)} "
                f"(input shape {tuple(x.shape)}, padding {self.padding})"
            )
        out_h = (height - extent[0]) // self.stride[0] + 1
        out_w = (width - extent[1]) // self.stride[1] + 1

        g = self.groups
        cols = F.unfold(padded, self.kernel_size, dilation=self.dilation, stride=self.stride)
        # (N, C*kH*kW, L): channel is the slowest index, so each group's rows are contiguous
        cols = cols.view(n, g, (c // g) * kh * kw, out_h * out_w)  # (N, G, C/G*kH*kW, L)
        filters = self.weight.view(g, self.out_channels // g, -1)  # (G, O/G, C/G*kH*kW)
        out = filters @ cols  # (N, G, O/G, L), the batch dimension broadcast
        out = out.reshape(n, self.out_channels, out_h, out_w)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
