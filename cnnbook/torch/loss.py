"""Cross-entropy (from a stable log-softmax) and mean squared error.

Torch's deprecated ``size_average`` and ``reduce`` flags, which ``reduction`` replaced,
are left out; the arguments that came after them in torch are keyword-only here.
"""

import torch
from torch import nn

from cnnbook.torch._validation import check_reduction, check_tensor


def log_softmax(x, dim):
    """``x - log(sum(exp(x)))`` along ``dim``, stable for any finite logits.

    Subtracting the maximum first makes every exponent at most 0, so ``exp`` cannot
    overflow and the largest term is exactly 1, so the ``log`` never sees 0. The
    shift cancels in the result, and it is detached because its gradient cancels too.
    """
    shift = x.amax(dim=dim, keepdim=True).detach()
    # a slice that is all -inf (or holds +inf) would give inf - inf; shift by 0 there
    shift = torch.where(torch.isfinite(shift), shift, 0.0)
    shifted = x - shift
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class CrossEntropyLoss(nn.Module):
    """Cross-entropy of logits against class targets, twin of ``torch.nn.CrossEntropyLoss``.

    With ``log p = log_softmax(input)`` over the class dimension and class-index targets
    ``y``, the loss of sample ``n`` is ``-weight[y_n] * log p[n, y_n]`` (``weight``
    defaults to ones); samples whose target is ``ignore_index`` count for nothing.
    ``reduction='mean'`` divides the sum by the total weight of the counted samples
    (their number when ``weight`` is None), ``'sum'`` adds, ``'none'`` returns each.
    ``label_smoothing = eps`` mixes in the uniform distribution:
    ``(1 - eps) * nll + eps / C * sum_c(-weight[c] * log p[n, c])``.

    Targets may also be class probabilities of the input's shape (a float tensor); then
    the loss is ``-sum_c weight[c] * t[n, c] * log p[n, c]`` (with ``t`` smoothed the same
    way) and ``'mean'`` divides by the number of samples.

    Of torch's arguments the deprecated ``size_average`` and ``reduce`` are left out, so
    ``ignore_index``, ``reduction`` and ``label_smoothing`` are keyword-only.
    ``cnnbook.numpy.CrossEntropyLoss`` has only ``reduction`` ('mean' or 'sum') and
    takes ``(N, C)`` logits with class-index targets.

    Shape:
        - Input: ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``, unnormalized logits.
        - Target: class indices of shape ``()``, ``(N,)`` or ``(N, d1, ...)``, values in
          ``[0, C)`` or ``ignore_index``; or probabilities of the input's shape.
        - Output: a scalar, or the target's shape (index targets) or the input's shape
          without ``C`` (probabilities) for ``reduction='none'``.
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__()
        check_reduction(reduction, "CrossEntropyLoss")
        self.reduction = reduction
        if weight is not None and (not isinstance(weight, torch.Tensor) or weight.dim() != 1):
            raise ValueError(
                "CrossEntropyLoss expected weight to be a 1D tensor with one entry per class, "
                f"got {weight if not isinstance(weight, torch.Tensor) else tuple(weight.shape)!r}"
            )
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss expected label_smoothing in [0, 1], got {label_smoothing!r}"
            )
        # a buffer, as in torch: it follows .to(device) and appears in the state_dict
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        if not isinstance(input, torch.Tensor) or input.dim() < 1:
            raise ValueError(
                "CrossEntropyLoss expected logits of shape (C,), (N, C) or (N, C, d1, ...), got "
                f"{tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__}"
            )
        check_tensor(target, "the target", "CrossEntropyLoss")
        class_dim = 0 if input.dim() == 1 else 1
        num_classes = input.shape[class_dim]
        if self.weight is not None and self.weight.shape[0] != num_classes:
            raise ValueError(
                f"CrossEntropyLoss expected weight with {num_classes} entries (one per class), "
                f"got {self.weight.shape[0]}"
            )
        # weight laid out along the class dimension, to broadcast against the logits
        class_weight = None
        if self.weight is not None:
            class_weight = self.weight.view((-1,) + (1,) * (input.dim() - 1 - class_dim))
        log_p = log_softmax(input, class_dim)
        eps = self.label_smoothing
        expected = input.shape[:class_dim] + input.shape[class_dim + 1:]  # of class indices

        if target.is_floating_point():
            if target.shape == expected:
                raise ValueError(
                    "CrossEntropyLoss expected class indices as an integer tensor (or probabilities "
                    f"of the input's shape {tuple(input.shape)}), got a {target.dtype} tensor of shape "
                    f"{tuple(target.shape)}; convert it with target.long()"
                )
            if target.shape != input.shape:
                raise ValueError(
                    "CrossEntropyLoss expected probability targets of the input's shape "
                    f"{tuple(input.shape)}, got {tuple(target.shape)}"
                )
            if eps > 0:
                target = target * (1 - eps) + eps / num_classes
            weighted = log_p * target if class_weight is None else log_p * target * class_weight
            loss = -weighted.sum(dim=class_dim)
            return _reduce(loss, self.reduction)

        if target.shape != expected:
            hint = ""
            if target.shape == input.shape:
                hint = f": one-hot targets? pass target.argmax(dim={class_dim}), or probabilities as floats"
            raise ValueError(
                f"CrossEntropyLoss expected class-index targets of shape {tuple(expected)} "
                f"for input shape {tuple(input.shape)}, got {tuple(target.shape)}{hint}"
            )
        counted = target != self.ignore_index
        if target.numel() and ((target[counted] < 0) | (target[counted] >= num_classes)).any():
            bad = target[counted & ((target < 0) | (target >= num_classes))]
            raise ValueError(
                f"CrossEntropyLoss expected class indices in [0, {num_classes}) or "
                f"ignore_index={self.ignore_index}, got {bad[0].item()}"
            )
        safe_target = torch.where(counted, target, 0).long()
        picked = log_p.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
        if self.weight is None:
            sample_weight = counted.to(log_p.dtype)
        else:
            sample_weight = self.weight[safe_target] * counted
        # where, not a product, so an ignored sample's -inf log p cannot become NaN
        nll = torch.where(counted, -sample_weight * picked, 0.0)
        if eps > 0:
            total = log_p if class_weight is None else log_p * class_weight
            smooth = torch.where(counted, -total.sum(dim=class_dim), 0.0)
        if self.reduction == "mean":
            # divide by the total weight of the counted samples, like torch's nll_loss
            denominator = sample_weight.sum()
            nll = nll.sum() / denominator
            if eps > 0:
                smooth = smooth.sum() / denominator
        elif self.reduction == "sum":
            nll = nll.sum()
            if eps > 0:
                smooth = smooth.sum()
        if eps == 0:
            return nll
        return (1 - eps) * nll + (eps / num_classes) * smooth

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(nn.Module):
    """Mean squared error ``mean((input - target)^2)``, twin of ``torch.nn.MSELoss``.

    Unlike torch, which broadcasts mismatched shapes with a warning, a shape mismatch
    (the classic ``(N, 1)`` against ``(N,)``) raises ``ValueError``. Torch's deprecated
    ``size_average`` and ``reduce`` are left out, so ``reduction`` is keyword-only.
    ``cnnbook.numpy.MSELoss`` has ``reduction`` 'mean' and 'sum' only.

    Shape:
        - Input: any shape.
        - Target: the input's shape.
        - Output: a scalar, or the input's shape for ``reduction='none'``.
    """

    def __init__(self, *, reduction="mean"):
        super().__init__()
        check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, input, target):
        check_tensor(input, "the input", "MSELoss")
        check_tensor(target, "the target", "MSELoss")
        if input.shape != target.shape:
            raise ValueError(
                f"MSELoss expected a target of the input's shape {tuple(input.shape)}, "
                f"got {tuple(target.shape)}"
            )
        return _reduce((input - target) ** 2, self.reduction)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"
