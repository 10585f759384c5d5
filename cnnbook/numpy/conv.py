"""2-D convolution via im2col."""

import numpy as np

from cnnbook.numpy import functional as F
from cnnbook.numpy import init
from cnnbook.numpy._utils import (
    ADD_BATCH_AXIS,
    as_float_array,
    check_dtype,
    check_ndim,
    check_positive_int,
    check_same_shape,
    pair,
)
from cnnbook.numpy.module import Module
from cnnbook.numpy.parameter import Parameter


# Two layouts for the same im2col convolution, chosen by measurement (bench/):
# - per image (``functional.im2col``, torch's ``unfold`` layout): copies and adds
#   move rows of OW numbers. Fast for wide feature maps; for narrow ones the
#   per-row overhead of NumPy dominates (an 8 x 8 map has rows of 8 numbers).
# - batch last (below): copies and adds move rows of N numbers and the products are
#   single large ones, at the price of transposing the input, output and gradients,
#   which grows expensive (cache-unfriendly) for large maps.
# Outputs narrower than this many columns take the batch-last layout.
BATCH_LAST_BELOW_WIDTH = 16


def _im2col_batch_last(x, kernel_size, stride, padding, oh, ow):
    """``functional.im2col`` with the batch as the last axis:
    ``cols[(c, i, j), (oh, ow, n)] = x_padded[n, c, oh * sh + i, ow * sw + j]``.

    Each kernel offset then copies rows of N contiguous numbers instead of rows of OW,
    and the convolution is one large matrix product instead of N small ones.
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    xt = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)  # padded, batch last
    xt[:, ph : ph + h, pw : pw + w] = x.transpose(1, 2, 3, 0)
    cols = np.empty((c, kh, kw, oh, ow, n), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xt[:, i : i + sh * oh : sh, j : j + sw * ow : sw]
    return cols.reshape(c * kh * kw, oh * ow * n)


def _col2im_batch_last(cols, x_shape, kernel_size, stride, padding, out_size):
    """The adjoint of ``_im2col_batch_last`` (``functional.col2im`` with the batch last):
    add each column back onto its patch; returns (N, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x_shape
    oh, ow = out_size
    cols = cols.reshape(c, kh, kw, oh, ow, n)
    dxt = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxt[:, i : i + sh * oh : sh, j : j + sw * ow : sw] += cols[:, i, j]
    return np.ascontiguousarray(dxt[:, ph : ph + h, pw : pw + w].transpose(3, 0, 1, 2))


class Conv2d(Module):
    """2-D convolution (cross-correlation) over (N, C, H, W) inputs, like ``torch.nn.Conv2d``.

    ``weight`` has shape (out_channels, in_channels, kh, kw) and ``bias`` (out_channels,).
    ``kernel_size``, ``stride`` and ``padding`` are an int or an (h, w) pair; padding is
    with zeros. Parameters and computation are float64 unless ``dtype`` says otherwise.

    Of torch's arguments, ``dilation``, ``groups``, ``padding_mode``, string ``padding``
    ('same', 'valid') and ``device`` are left out (``cnnbook.torch.Conv2d`` has all but
    ``device``), and an unbatched (C, H, W) input is not taken. Because torch's
    positional order puts ``dilation`` and ``groups`` before ``bias``, ``bias`` and
    ``dtype`` are keyword-only here.

    Forward unrolls the input with im2col (one column per output position) so the
    convolution becomes matrix products; backward uses the same columns for the weight
    gradient and col2im (im2col's adjoint) for the input gradient. Wide outputs use
    ``functional.im2col`` / ``col2im`` as they are (one product per image, as in
    ``functional.conv2d``); narrow ones lay the same columns out with the batch last
    (see ``BATCH_LAST_BELOW_WIDTH``), which is faster there. Both give torch's numbers.

    Shape:
        Input: (N, C_in, H, W). Output: (N, C_out, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1,
        OW = floor((W + 2 * padding[1] - kernel_size[1]) / stride[1]) + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, bias=True, dtype=None):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = check_positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        dtype = check_dtype(dtype, "Conv2d")
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)

    def output_shape(self, input_shape):
        """(N, C_out, OH, OW) for an input of shape (N, C_in, H, W); ValueError when it does not fit."""
        if len(input_shape) != 4:
            raise ValueError(f"Conv2d.output_shape expected an input shape (N, C, H, W), got {tuple(input_shape)}")
        n, c, h, w = input_shape
        if c != self.in_channels:
            hint = ""
            if w == self.in_channels:  # (N, H, W, C), as images come from most image libraries
                hint = "; channels last? transpose to (N, C, H, W), as in x.transpose(0, 3, 1, 2)"
            raise ValueError(
                f"Conv2d expected input with {self.in_channels} channels, got {c} (input shape {tuple(input_shape)}){hint}"
            )
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        try:
            oh = F.conv_output_size(h, kh, sh, ph)
            ow = F.conv_output_size(w, kw, sw, pw)
        except ValueError as error:
            raise ValueError(f"Conv2d with input shape {tuple(input_shape)}: {error}") from None
        return n, self.out_channels, oh, ow

    def forward(self, x):
        x = as_float_array(x, "Conv2d", self.weight.dtype)
        check_ndim(x, 4, "Conv2d", "(N, C, H, W)", hints={3: ADD_BATCH_AXIS})
        out_shape = self.output_shape(x.shape)
        n, f, oh, ow = out_shape
        w2 = self.weight.data.reshape(f, -1)  # (F, C*kh*kw)
        batch_last = ow < BATCH_LAST_BELOW_WIDTH
        if batch_last:
            cols = _im2col_batch_last(x, self.kernel_size, self.stride, self.padding, oh, ow)  # (C*kh*kw, OH*OW*N)
            out = w2 @ cols  # (F, OH*OW*N): the whole batch in one product
            if self.bias is not None:
                out += self.bias.data[:, None]
            out = np.ascontiguousarray(out.reshape(f, oh, ow, n).transpose(3, 0, 1, 2))
        else:
            cols = F.im2col(x, self.kernel_size, self.stride, self.padding)  # (N, C*kh*kw, OH*OW)
            out = np.matmul(w2, cols)  # (N, F, OH*OW), one product per image, already NCHW
            if self.bias is not None:
                out += self.bias.data[:, None]
            out = out.reshape(out_shape)
        self._cache = (x.shape, cols, out_shape, batch_last)
        return out

    def backward(self, dout):
        x_shape, cols, out_shape, batch_last = self._saved()
        dout = as_float_array(dout, "Conv2d.backward", self.weight.dtype, what="dout")
        check_same_shape(dout, out_shape, "Conv2d")
        n, f = out_shape[:2]
        w2 = self.weight.data.reshape(f, -1)  # (F, C*kh*kw)
        if batch_last:
            d = np.ascontiguousarray(dout.transpose(1, 2, 3, 0)).reshape(f, -1)  # (F, OH*OW*N), like cols
            # dW = d @ cols.T, written as the transpose of cols @ d.T: the same numbers,
            # and BLAS is faster with the long axis of both operands in that orientation.
            dw = (cols @ d.T).T
            db = d.sum(axis=1)
            dx = _col2im_batch_last(w2.T @ d, x_shape, self.kernel_size, self.stride, self.padding, out_shape[2:])
        else:
            d = dout.reshape(n, f, -1)  # (N, F, OH*OW)
            # dW = sum over images of d[n] @ cols[n].T; the batched product reads cols
            # through a transposed view instead of copying it.
            dw = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0)
            db = d.sum(axis=(0, 2))
            dx = F.col2im(np.matmul(w2.T, d), x_shape, self.kernel_size, self.stride, self.padding)
        self.weight.grad += dw.reshape(self.weight.shape)
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s
