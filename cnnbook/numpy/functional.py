"""Stateless NumPy functions: activations, stable softmax, im2col/col2im and convolution.

The layers in ``cnnbook.numpy`` use these; notebooks use them directly to show one
idea at a time (a loop convolution next to the im2col one, for example).
"""

import numpy as np

from cnnbook.numpy._utils import as_float_array, check_ndim, is_int, pair


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` that does not overflow for large ``|x|``.

    ``exp(-x)`` overflows for x = -1000; rewriting the negative half as
    ``exp(x) / (1 + exp(x))`` only ever exponentiates non-positive numbers.
    """
    x = as_float_array(x, "sigmoid")
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh(x):
    """Hyperbolic tangent (``np.tanh`` is already stable)."""
    return np.tanh(as_float_array(x, "tanh"))


def relu(x):
    """``max(x, 0)`` elementwise."""
    x = as_float_array(x, "relu")
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` computed as ``x - max - log(sum(exp(x - max)))``.

    Subtracting the maximum makes the largest exponent ``exp(0) = 1``, so logits of
    +-1000 neither overflow nor produce ``log(0)``.
    """
    x = as_float_array(x, "log_softmax")
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for stability."""
    x = as_float_array(x, "softmax")
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def conv_output_size(size, kernel, stride=1, padding=0):
    """Output length of a convolution or pooling along one axis.

    ``floor((size + 2 * padding - kernel) / stride) + 1``, the formula in the ``Shape:``
    section of ``torch.nn.Conv2d``. Raises ValueError when the kernel does not fit in
    the padded input or a size is out of range.
    """
    for name, value, minimum in (("size", size, 1), ("kernel", kernel, 1), ("stride", stride, 1), ("padding", padding, 0)):
        if not is_int(value) or value < minimum:
            bound = "positive" if minimum == 1 else "non-negative"
            raise ValueError(f"conv_output_size expected {name} to be a {bound} integer, got {value!r}")
    if kernel > size + 2 * padding:
        raise ValueError(
            f"kernel size {kernel} is larger than the padded input size {size + 2 * padding} "
            f"(input {size} + 2 * padding {padding})"
        )
    return (size + 2 * padding - kernel) // stride + 1


def _geometry(x_shape, kernel_size, stride, padding, owner):
    kh, kw = pair(kernel_size, "kernel_size", owner)
    sh, sw = pair(stride, "stride", owner)
    ph, pw = pair(padding, "padding", owner, minimum=0)
    _, _, h, w = x_shape
    oh = conv_output_size(h, kh, sh, ph)
    ow = conv_output_size(w, kw, sw, pw)
    return kh, kw, sh, sw, ph, pw, oh, ow


def pad2d(x, padding, value=0.0):
    """``x`` of shape (N, C, H, W) with ``padding = (ph, pw)`` rows/columns of ``value``
    on each side; ``x`` itself (no copy) when there is nothing to pad."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def im2col(x, kernel_size, stride=1, padding=0):
    """Unroll every kernel-sized patch of ``x`` into a column.

    ``cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh * sh + i, ow * sw + j]``: the
    same layout as ``torch.nn.functional.unfold``, so a convolution becomes one matrix
    product per image, ``weight.reshape(F, -1) @ cols[n]``.

    Built with one strided copy per kernel offset ``(i, j)``: kh * kw vectorized copies
    instead of a Python loop over output positions.

    Shape:
        x: (N, C, H, W) -> cols: (N, C * kh * kw, OH * OW) with
        OH = floor((H + 2 * ph - kh) / sh) + 1 (and likewise OW).
    """
    x = as_float_array(x, "im2col")
    check_ndim(x, 4, "im2col", "(N, C, H, W)")
    kh, kw, sh, sw, ph, pw, oh, ow = _geometry(x.shape, kernel_size, stride, padding, "im2col")
    n, c = x.shape[:2]
    xp = pad2d(x, (ph, pw))
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # Kernel offset (i, j) sees rows i, i + sh, ... and columns j, j + sw, ...
            cols[:, :, i, j] = xp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of ``im2col``: add every column back onto the patch it came from.

    Where patches overlap, their contributions add up; that sum is exactly the gradient
    of ``im2col``, which is why a convolution's backward pass uses it. Same as
    ``torch.nn.functional.fold`` with ``output_size = x_shape[2:]``.

    Shape:
        cols: (N, C * kh * kw, OH * OW) -> (N, C, H, W) = ``x_shape``.
    """
    cols = as_float_array(cols, "col2im")
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"col2im expected x_shape (N, C, H, W), got {x_shape}")
    kh, kw, sh, sw, ph, pw, oh, ow = _geometry(x_shape, kernel_size, stride, padding, "col2im")
    n, c, h, w = x_shape
    expected = (n, c * kh * kw, oh * ow)
    if cols.shape != expected:
        raise ValueError(f"col2im expected cols of shape {expected} for x_shape {x_shape}, got {cols.shape}")
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # One vectorized add per kernel offset; np.add.at is not needed because the
            # positions within one offset's slice never repeat.
            dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += cols[:, :, i, j]
    return dxp[:, :, ph : ph + h, pw : pw + w]


def _check_conv_args(x, weight, bias, owner):
    x = as_float_array(x, owner)
    weight = as_float_array(weight, owner, what="weight")
    check_ndim(x, 4, owner, "(N, C, H, W)")
    if weight.ndim != 4:
        raise ValueError(f"{owner} expected a 4-D weight (F, C, kh, kw), got shape {weight.shape}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"{owner} expected input with {weight.shape[1]} channels (weight shape {weight.shape}), "
            f"got {x.shape[1]} (input shape {x.shape})"
        )
    if bias is not None:
        bias = as_float_array(bias, owner, what="bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"{owner} expected bias of shape ({weight.shape[0]},), got {bias.shape}")
    return x, weight, bias


def conv2d_loop(x, weight, bias=None, stride=1, padding=0):
    """Convolution (cross-correlation, as in every deep learning library) by plain loops.

    ``out[n, f, oh, ow] = bias[f] + sum over c, i, j of
    x_padded[n, c, oh * sh + i, ow * sw + j] * weight[f, c, i, j]``, one output value
    at a time. Slow; it is here to be read, and to check ``conv2d`` against.

    Shape:
        x: (N, C, H, W), weight: (F, C, kh, kw), bias: (F,) -> (N, F, OH, OW) with
        OH = floor((H + 2 * ph - kh) / sh) + 1 (and likewise OW).
    """
    x, weight, bias = _check_conv_args(x, weight, bias, "conv2d_loop")
    f_out, _, kh, kw = weight.shape
    _, _, sh, sw, ph, pw, oh, ow = _geometry(x.shape, (kh, kw), stride, padding, "conv2d_loop")
    xp = pad2d(x, (ph, pw))
    out = np.zeros((x.shape[0], f_out, oh, ow), dtype=np.result_type(x, weight))
    for n in range(x.shape[0]):
        for f in range(f_out):
            for r in range(oh):
                for s in range(ow):
                    window = xp[n, :, r * sh : r * sh + kh, s * sw : s * sw + kw]  # (C, kh, kw)
                    out[n, f, r, s] = np.sum(window * weight[f])
            if bias is not None:
                out[n, f] += bias[f]
    return out


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """Convolution as im2col followed by one matrix product per image.

    Same result as ``conv2d_loop`` and ``torch.nn.functional.conv2d``.

    Shape:
        x: (N, C, H, W), weight: (F, C, kh, kw), bias: (F,) -> (N, F, OH, OW) with
        OH = floor((H + 2 * ph - kh) / sh) + 1 (and likewise OW).
    """
    x, weight, bias = _check_conv_args(x, weight, bias, "conv2d")
    f_out, _, kh, kw = weight.shape
    _, _, _, _, _, _, oh, ow = _geometry(x.shape, (kh, kw), stride, padding, "conv2d")
    cols = im2col(x, (kh, kw), stride, padding)  # (N, C*kh*kw, OH*OW)
    out = np.matmul(weight.reshape(f_out, -1), cols)  # (N, F, OH*OW)
    if bias is not None:
        out += bias[:, None]
    return out.reshape(x.shape[0], f_out, oh, ow)
