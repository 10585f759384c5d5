"""Loss functions: ``forward(prediction, target) -> float`` and ``backward() -> dprediction``."""

import numpy as np

from cnnbook.numpy import functional as F
from cnnbook.numpy._utils import as_float_array, check_ndim
from cnnbook.numpy.module import Module


class _Loss(Module):
    # reduction is keyword-only: torch's losses take weight or the deprecated
    # size_average first, so a positional reduction would mean something else there.
    def __init__(self, *, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"{type(self).__name__} expected reduction 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def _scale(self, grad, dout):
        """Multiply by the upstream gradient of the (scalar) loss, 1 by default."""
        dout = np.asarray(dout, dtype=grad.dtype)
        if dout.size != 1:
            raise ValueError(f"{type(self).__name__}.backward expected a scalar dout, got shape {dout.shape}")
        return grad * dout.reshape(())

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax followed by negative log-likelihood, like ``torch.nn.CrossEntropyLoss``.

    ``forward(logits, targets)`` returns ``-log softmax(logits)[n, targets[n]]`` averaged
    over the batch (``reduction='mean'``, torch's default) or summed. It goes through
    ``log_softmax``, never ``log(softmax)``, so logits of +-1000 give finite values.
    ``backward()`` returns ``(softmax(logits) - one_hot(targets)) / N`` (without the
    ``/ N`` for 'sum'). Computes in the logits' floating dtype (float64 for integers).

    Of torch's arguments only ``reduction`` ('mean' or 'sum'), keyword-only, is here:
    ``weight``, ``ignore_index``, ``label_smoothing``, ``reduction='none'``, probability
    targets and (C,) or (N, C, d1, ...) logits are in ``cnnbook.torch.CrossEntropyLoss``.

    Shape:
        logits: (N, C); targets: (N,) integer class indices in [0, C). Output: a float.
    """

    def forward(self, logits, targets):
        logits = as_float_array(logits, "CrossEntropyLoss", what="logits")
        check_ndim(logits, 2, "CrossEntropyLoss", "of logits (N, C)")
        targets = np.asarray(targets)
        n, c = logits.shape
        if targets.shape == logits.shape:
            raise ValueError(
                f"CrossEntropyLoss expected class indices of shape ({n},), got one-hot or probability "
                f"targets of shape {targets.shape}; pass the indices, as in targets.argmax(axis=1)"
            )
        if not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"CrossEntropyLoss expected integer class indices as targets, got dtype {targets.dtype}")
        if targets.shape != (n,):
            raise ValueError(f"CrossEntropyLoss expected targets of shape ({n},) for logits {logits.shape}, got {targets.shape}")
        if n and (targets.min() < 0 or targets.max() >= c):
            raise ValueError(
                f"CrossEntropyLoss expected targets in [0, {c - 1}] for {c} classes, "
                f"got values from {targets.min()} to {targets.max()}"
            )
        log_p = F.log_softmax(logits, axis=1)
        picked = log_p[np.arange(n), targets]
        loss = -picked.sum()
        if self.reduction == "mean":
            loss = loss / n
        self._cache = (log_p, targets)
        return float(loss)

    def backward(self, dout=1.0):
        log_p, targets = self._saved()
        n = log_p.shape[0]
        grad = np.exp(log_p)  # softmax, new array
        grad[np.arange(n), targets] -= 1
        if self.reduction == "mean":
            grad /= n
        return self._scale(grad, dout)


class MSELoss(_Loss):
    """Mean squared error ``mean((prediction - target) ** 2)``, like ``torch.nn.MSELoss``.

    ``backward()`` returns ``2 * (prediction - target) / n`` with n the number of
    elements (without the ``/ n`` for 'sum'). Computes in the inputs' floating dtype
    (float64 for integers). ``reduction`` ('mean' or 'sum') is keyword-only;
    ``reduction='none'`` is in ``cnnbook.torch.MSELoss``.

    Shape:
        prediction and target: the same shape, any. Output: a float.
    """

    def forward(self, prediction, target):
        prediction = as_float_array(prediction, "MSELoss", what="prediction")
        target = as_float_array(target, "MSELoss", what="target")
        if prediction.shape != target.shape:
            raise ValueError(
                f"MSELoss expected prediction and target of the same shape, got {prediction.shape} and {target.shape}"
            )
        diff = prediction - target
        loss = np.sum(diff * diff)
        if self.reduction == "mean":
            loss = loss / diff.size
        self._cache = diff
        return float(loss)

    def backward(self, dout=1.0):
        diff = self._saved()
        grad = 2 * diff
        if self.reduction == "mean":
            grad = grad / diff.size
        return self._scale(grad, dout)
