"""Batch normalization (Ioffe & Szegedy, 2015)."""

import numpy as np

from cnnbook.numpy._utils import as_float_array, check_dtype, check_ndim, check_positive_int, check_same_shape
from cnnbook.numpy.module import Module
from cnnbook.numpy.parameter import Parameter


class _BatchNorm(Module):
    """Shared code of BatchNorm1d and BatchNorm2d; the subclasses say which input ranks
    they take. Statistics are per channel (dimension 1), over all other dimensions."""

    _ndims = ()
    _layout = ""
    _rank_hints = {}  # a wrong rank -> the likely fix, for the error message

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, *, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_positive_int(num_features, "num_features", name)
        if not eps > 0:
            raise ValueError(f"{name} expected a positive eps, got {eps!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name} expected momentum in [0, 1] or None, got {momentum!r}")
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        dtype = check_dtype(dtype, name)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))  # gamma
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))  # beta
        else:
            self.weight = None
            self.bias = None
        # Buffers, not parameters: updated by forward in training, never by an optimizer.
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self.dtype = dtype

    def _check(self, x):
        name = type(self).__name__
        check_ndim(x, self._ndims, name, self._layout, self._rank_hints)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name} expected input with {self.num_features} channels, got {x.shape[1]} (input shape {x.shape})"
            )

    def forward(self, x):
        x = as_float_array(x, type(self).__name__, self.dtype)
        self._check(x)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcast a (C,) vector over x
        m = x.size // self.num_features  # values per channel
        if self.training:
            if m <= 1:
                raise ValueError(
                    f"{type(self).__name__} expected more than 1 value per channel when training, "
                    f"got input of shape {x.shape}"
                )
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased (divides by m): what normalizes the batch
            self.num_batches_tracked += 1
            factor = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
            # In place, so references to the buffers stay valid. The running variance is
            # the unbiased one (divides by m - 1), as in torch.
            self.running_mean *= 1 - factor
            self.running_mean += factor * mean
            self.running_var *= 1 - factor
            self.running_var += factor * var * (m / (m - 1))
        else:
            mean = self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        out = x_hat
        if self.affine:
            out = x_hat * self.weight.data.reshape(shape) + self.bias.data.reshape(shape)
        self._cache = (x_hat, inv_std, self.training, axes, shape, m)
        return out

    def backward(self, dout):
        x_hat, inv_std, batch_stats, axes, shape, m = self._saved()
        dout = as_float_array(dout, f"{type(self).__name__}.backward", self.dtype, what="dout")
        check_same_shape(dout, x_hat.shape, type(self).__name__)
        if self.affine:
            self.weight.grad += np.sum(dout * x_hat, axis=axes)
            self.bias.grad += np.sum(dout, axis=axes)
            dx_hat = dout * self.weight.data.reshape(shape)
        else:
            dx_hat = dout
        if not batch_stats:
            # Evaluation: mean and variance are constants, so the layer is affine in x.
            return dx_hat * inv_std.reshape(shape)
        # Training: the batch mean and variance depend on x too. Differentiating through
        # them gives dx = inv_std / m * (m * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)).
        sum_dx_hat = np.sum(dx_hat, axis=axes).reshape(shape)
        sum_dx_hat_x_hat = np.sum(dx_hat * x_hat, axis=axes).reshape(shape)
        return (inv_std.reshape(shape) / m) * (m * dx_hat - sum_dx_hat - x_hat * sum_dx_hat_x_hat)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a (N, C) or (N, C, L) input, like ``torch.nn.BatchNorm1d``.

    Training: normalize each channel with the batch mean and the biased batch variance,
    then scale by ``weight`` and shift by ``bias``; update ``running_mean`` and
    ``running_var`` (unbiased) as ``(1 - momentum) * running + momentum * batch``
    (``momentum=None``: a cumulative average). Evaluation: use the running statistics.

    ``weight``, ``bias`` and the running statistics are float64 unless ``dtype`` says
    otherwise, and inputs are cast to it. Of torch's arguments, ``track_running_stats``
    (here always True), ``device`` and the keyword-only ``bias`` (a shift is always
    learned when ``affine``) are left out; ``cnnbook.torch.BatchNorm1d`` has them. As
    ``track_running_stats`` comes before ``dtype`` in torch, ``dtype`` is keyword-only.

    Shape:
        Input: (N, C) or (N, C, L). Output: the same shape.

    Ioffe, S. & Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift. ICML 2015, arXiv:1502.03167.
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"
    _rank_hints = {4: "BatchNorm2d takes (N, C, H, W)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a (N, C, H, W) input, like ``torch.nn.BatchNorm2d``:
    statistics per channel over the batch and both spatial dimensions.

    Arguments as for ``BatchNorm1d``: float64 unless ``dtype`` says otherwise, and the
    same arguments of torch's left out.

    Shape:
        Input: (N, C, H, W). Output: the same shape.

    Ioffe, S. & Szegedy, C. (2015). Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift. ICML 2015, arXiv:1502.03167.
    """

    _ndims = (4,)
    _layout = "(N, C, H, W)"
    _rank_hints = {2: "BatchNorm1d takes (N, C) or (N, C, L)", 3: "BatchNorm1d takes (N, C) or (N, C, L)"}
