"""Max, average and stochastic pooling over (N, C, H, W) inputs.

All three loop over the kh * kw offsets of the window, each step one vectorized
operation on a strided slice (the same trick as ``functional.im2col``).
"""

import numpy as np

from cnnbook.numpy import functional as F
from cnnbook.numpy._random import resolve_generator
from cnnbook.numpy._utils import ADD_BATCH_AXIS, as_float_array, check_ndim, check_same_shape, pair
from cnnbook.numpy.module import Module


class _Pool2d(Module):
    """Shared window geometry of the pooling layers."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        # torch: the stride defaults to the kernel size (non-overlapping windows).
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name, minimum=0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(
                f"{name} expected padding at most half the kernel size {self.kernel_size}, got {self.padding}"
            )

    def _geometry(self, x):
        name = type(self).__name__
        check_ndim(x, 4, name, "(N, C, H, W)", hints={3: ADD_BATCH_AXIS})
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        try:
            oh = F.conv_output_size(x.shape[2], kh, sh, ph)
            ow = F.conv_output_size(x.shape[3], kw, sw, pw)
        except ValueError as error:
            raise ValueError(f"{name} with input shape {x.shape}: {error}") from None
        return oh, ow

    def _windows(self, oh, ow):
        """``(k, slice)`` for each window offset: ``xp[slice]`` is that offset's element of
        every window, shape (N, C, OH, OW)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))

    def _scatter(self, x_shape, oh, ow, grads, dtype):
        """Add ``grads(k)`` (N, C, OH, OW) onto offset k of every window; returns dx."""
        n, c, h, w = x_shape
        ph, pw = self.padding
        dxp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dtype)
        for k, window in self._windows(oh, ow):
            dxp[window] += grads(k)
        return dxp[:, :, ph : ph + h, pw : pw + w]

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s


class MaxPool2d(_Pool2d):
    """Maximum over each window, like ``torch.nn.MaxPool2d``.

    Padding is with -inf, so a padded position never wins. The gradient goes to the
    position of the maximum; on ties, to the first maximum in row-major window order
    (torch's rule), and a NaN counts as a maximum, as in torch. Computes in the input's
    floating dtype (float64 for integer input).

    Of torch's arguments, ``dilation``, ``return_indices`` and ``ceil_mode`` are left
    out (``cnnbook.torch.MaxPool2d`` has them), and an unbatched (C, H, W) input is not
    taken.

    Shape:
        Input: (N, C, H, W). Output: (N, C, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1 (likewise OW).
    """

    def forward(self, x):
        x = as_float_array(x, "MaxPool2d")
        oh, ow = self._geometry(x)
        xp = F.pad2d(x, self.padding, value=-np.inf)
        elements = [xp[window] for _, window in self._windows(oh, ow)]  # K views (N, C, OH, OW)
        out = elements[0].copy()
        for element in elements[1:]:
            np.maximum(out, element, out=out)  # propagates NaN, as torch does
        # The argmax is the first offset holding the maximum: scan backwards so that
        # earlier offsets overwrite later ones (torch's tie rule).
        index_dtype = np.uint8 if len(elements) <= 256 else np.intp
        argmax = np.full(out.shape, len(elements) - 1, dtype=index_dtype)
        for k in range(len(elements) - 2, -1, -1):
            np.copyto(argmax, k, where=elements[k] == out)
        nan_out = np.isnan(out)
        if np.any(nan_out):
            # NaN equals nothing: torch's kernel lets each NaN it meets take over, so
            # the gradient goes to the last NaN of the window.
            for k, element in enumerate(elements):
                np.copyto(argmax, k, where=nan_out & np.isnan(element))
        self._cache = (x.shape, argmax)
        return out

    def backward(self, dout):
        x_shape, argmax = self._saved()
        dout = as_float_array(dout, "MaxPool2d.backward", what="dout")
        check_same_shape(dout, argmax.shape, "MaxPool2d")
        zero = np.zeros((), dtype=dout.dtype)
        return self._scatter(x_shape, *argmax.shape[2:], lambda k: np.where(argmax == k, dout, zero), dout.dtype)


class AvgPool2d(_Pool2d):
    """Mean over each window, like ``torch.nn.AvgPool2d`` (zero padding counts towards
    the mean, torch's default ``count_include_pad=True``).

    Computes in the input's floating dtype (float64 for integer input). Of torch's
    arguments, ``ceil_mode``, ``count_include_pad`` and ``divisor_override`` are left
    out (``cnnbook.torch.AvgPool2d`` has them), and an unbatched (C, H, W) input is not
    taken.

    Shape:
        Input: (N, C, H, W). Output: (N, C, OH, OW) with
        OH = floor((H + 2 * padding[0] - kernel_size[0]) / stride[0]) + 1 (likewise OW).
    """

    def forward(self, x):
        x = as_float_array(x, "AvgPool2d")
        oh, ow = self._geometry(x)
        xp = F.pad2d(x, self.padding)
        out = np.zeros((x.shape[0], x.shape[1], oh, ow), dtype=x.dtype)
        for _, window in self._windows(oh, ow):
            out += xp[window]
        out /= self.kernel_size[0] * self.kernel_size[1]
        self._cache = (x.shape, out.shape)
        return out

    def backward(self, dout):
        x_shape, out_shape = self._saved()
        dout = as_float_array(dout, "AvgPool2d.backward", what="dout")
        check_same_shape(dout, out_shape, "AvgPool2d")
        share = dout / (self.kernel_size[0] * self.kernel_size[1])
        return self._scatter(x_shape, *out_shape[2:], lambda k: share, share.dtype)


class StochasticPool2d(_Pool2d):
    """Stochastic pooling (Zeiler & Fergus, 2013), which torch does not have.

    Within each window, ``p_i = a_i / sum_j a_j``. In training, one activation per window
    is sampled with probability ``p_i`` and passed on, and the gradient is routed to it
    (like max pooling, but the winner is random). In evaluation the output is the
    probability-weighted average ``sum_i p_i a_i = sum a_i ** 2 / sum a_i``, with the
    full gradient of that expression.

    Defined for non-negative inputs (place it after a ReLU); negative inputs raise
    ValueError. A window of zeros has no distribution to sample from: it outputs 0 in
    both modes and passes no gradient (its output is a constant), as in
    ``cnnbook.torch.StochasticPool2d``.

    ``generator`` (keyword-only, a ``numpy.random.Generator``) drives the sampling; by
    default the ``cnnbook.numpy`` default generator, reseeded by
    ``cnnbook.numpy.manual_seed``. Computes in the input's floating dtype (float64 for
    integer input).

    Shape:
        Input: (N, C, H, W). Output: (N, C, OH, OW) with
        OH = floor((H - kernel_size[0]) / stride[0]) + 1 (likewise OW).

    Zeiler, M. D. & Fergus, R. (2013). Stochastic Pooling for Regularization of Deep
    Convolutional Neural Networks. ICLR 2013, arXiv:1301.3557.
    """

    def __init__(self, kernel_size, stride=None, *, generator=None):
        super().__init__(kernel_size, stride)
        resolve_generator(generator, "StochasticPool2d")  # reject a bad generator now
        self.generator = generator

    def forward(self, x):
        x = as_float_array(x, "StochasticPool2d")
        oh, ow = self._geometry(x)
        if x.size and np.min(x) < 0:
            raise ValueError(
                f"StochasticPool2d expected non-negative inputs (e.g. after a ReLU), got a minimum of {np.min(x)}"
            )
        # acts[k] is offset k of every window: (K, N, C, OH, OW) with K = kh * kw.
        acts = np.stack([x[window] for _, window in self._windows(oh, ow)])
        cumulative = np.cumsum(acts, axis=0)
        total = cumulative[-1]
        empty = total == 0
        if self.training:
            # Inverse-CDF sampling: the chosen k is the first with cumulative[k] > u,
            # u ~ U(0, total). Zero activations add nothing to the cumulative sum, so
            # they can never be chosen.
            rng = resolve_generator(self.generator, "StochasticPool2d")
            u = rng.random(total.shape) * total
            chosen = np.sum(cumulative <= u, axis=0)
            overflow = chosen == len(acts)
            if np.any(overflow & ~empty):
                # u rounded up to total: take the last positive activation instead.
                last_positive = len(acts) - 1 - np.argmax(acts[::-1] > 0, axis=0)
                chosen = np.where(overflow, last_positive, chosen)
            chosen[empty] = 0
            out = np.take_along_axis(acts, chosen[None], axis=0)[0]
            chosen[empty] = -1  # no element of an all-zero window receives a gradient
            self._cache = (x.shape, True, chosen, None, None)
        else:
            squares = np.sum(acts * acts, axis=0)
            safe_total = np.where(empty, 1, total)
            out = np.where(empty, 0, squares / safe_total).astype(x.dtype, copy=False)
            self._cache = (x.shape, False, acts, safe_total, out)
        return out

    def backward(self, dout):
        x_shape, sampled, saved, safe_total, out = self._saved()
        dout = as_float_array(dout, "StochasticPool2d.backward", what="dout")
        out_shape = saved.shape if sampled else saved.shape[1:]
        check_same_shape(dout, out_shape, "StochasticPool2d")
        oh, ow = out_shape[2:]
        zero = np.zeros((), dtype=dout.dtype)
        if sampled:
            chosen = saved
            return self._scatter(x_shape, oh, ow, lambda k: np.where(chosen == k, dout, zero), dout.dtype)
        acts = saved
        # d/da_k of (sum a^2 / S) = (2 a_k S - sum a^2) / S^2 = (2 a_k - out) / S. In an
        # all-zero window a_k, out and so the gradient are 0 (S is replaced by 1).
        scale = dout / safe_total
        return self._scatter(x_shape, oh, ow, lambda k: (2 * acts[k] - out) * scale, dout.dtype)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
