"""Small helpers shared by the model families: the ``width_div`` check, the smallest
input a chain of layers takes, and the input check every ``forward_features`` starts with."""

import numbers

from torch import nn


def is_count(n, least=1):
    """Whether ``n`` is an integer (not a ``bool``) of at least ``least``: a channel or
    block count a configuration may hold."""
    return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= least


def check_width_div(family, width_div, channels, grouped=()):
    """Return ``width_div`` as an ``int`` after checking it suits a model's channel counts.

    Every family divides its channel counts with ``c // width_div``. That must leave each
    count that is nonzero at width 1 (a count of 0, such as a DPN stage without a dense
    path, stays 0) with at least one channel, and each grouped convolution with a channel
    count that its group count divides.

    Args:
        family: the model's name, for the message.
        width_div: the divisor to check: a positive integer (``bool`` is not one).
        channels: ``{name: channel count at width_div=1}``.
        grouped: ``(channels, groups)`` pairs at width_div=1 for the grouped convolutions;
            ``width_div`` divides both, and the group count never drops below 1.

    Raises:
        ValueError: ``width_div`` is not a positive integer, or it is too large for the
            model; the message names the largest ``width_div`` that works.
    """
    if isinstance(width_div, bool) or not isinstance(width_div, numbers.Integral):
        raise ValueError(
            f"{family}: width_div must be a positive integer, got {width_div!r} "
            f"({type(width_div).__name__})"
        )
    width_div = int(width_div)
    if width_div < 1:
        raise ValueError(f"{family}: width_div must be a positive integer, got {width_div}")
    problem = _width_div_problem(width_div, channels, grouped)
    if problem is None:
        return width_div
    positive = [c for c in channels.values() if c > 0]
    working = [
        k for k in range(1, min(positive) + 1) if _width_div_problem(k, channels, grouped) is None
    ]
    message = (
        f"{family}: width_div={width_div} {problem}; the largest width_div that works "
        f"is {working[-1]}"
    )
    if len(working) < working[-1]:  # not every value up to the largest works
        message += f" (these work: {', '.join(map(str, working))})"
    raise ValueError(message)


def _width_div_problem(k, channels, grouped):
    """What goes wrong when every channel count is divided by ``k``; ``None`` if nothing."""
    for name, c in channels.items():
        if c > 0 and c // k == 0:
            return f"would leave {name} ({c} channels at width_div=1) with none"
    for c, groups in grouped:
        groups_k = max(1, groups // k)
        if (c // k) % groups_k != 0:
            return (
                f"would give a grouped convolution {c // k} channels in {groups_k} groups "
                f"({c} in {groups} at width_div=1), which the groups do not divide"
            )
    return None


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _spatial_layers(layers):
    """The convolutions and pools among ``layers`` and their submodules, in order."""
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            yield layer
        else:
            yield from _spatial_layers(layer.children())


def _min_side(need, kernel, stride, padding, dilation, ceil_mode):
    """Smallest input side from which one layer gives an output of ``need`` pixels.

    Inverts PyTorch's output size ``floor((n + 2p - d(k-1) - 1 + (s-1 if ceil)) / s) + 1``,
    which in ceil mode loses its last window when it would start past the left padding
    and the input (``(out-1) s >= n + p``).
    """
    span = dilation * (kernel - 1) + 1
    if ceil_mode:
        side = max((need - 2) * stride + span - 2 * padding + 1, (need - 1) * stride - padding + 1)
    else:
        side = (need - 1) * stride + span - 2 * padding
    return max(1, side)


def min_input_size_of(*layers):
    """Smallest ``(H, W)`` input that the chain ``layers`` leaves at least 1x1.

    ``layers`` is the path an image takes through a model, first layer first: modules
    whose ``nn.Conv2d``, ``nn.MaxPool2d`` and ``nn.AvgPool2d`` layers (found among their
    submodules in the order they were registered) run one after the other. Going
    backwards from a 1x1 output, each layer's kernel, stride, padding, dilation and
    ``ceil_mode`` give the smallest input that makes the output its successor needs.
    Layers that keep the size (stride 1 and "same" padding) and adaptive pools can be
    left out, as can branches that run side by side with a layer of the same size change
    (a ResNet shortcut beside its block); layers that run in parallel must not be listed
    one after the other.
    """
    need = [1, 1]
    for layer in reversed(list(_spatial_layers(layers))):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.stride or layer.kernel_size)
        dilation = _pair(getattr(layer, "dilation", 1))
        padding = layer.padding
        if padding == "same":  # stride 1 by torch's rule: the size does not change
            continue
        padding = (0, 0) if padding == "valid" else _pair(padding)
        ceil_mode = getattr(layer, "ceil_mode", False)
        for axis in range(2):
            need[axis] = _min_side(
                need[axis], kernel[axis], stride[axis], padding[axis], dilation[axis], ceil_mode
            )
    return tuple(need)


def check_input(model, x, size=None):
    """Raise ``ValueError`` unless ``x`` is a batch ``model`` can take, before it runs.

    ``x`` must be ``(N, model.in_channels, H, W)`` with ``(H, W)`` at least
    ``model.min_input_size``, or exactly ``size`` when that is given (LeNet-5's fixed
    input). Only shapes are checked: a dtype or device that does not match the model's
    parameters is left for PyTorch to report.
    """
    shape = tuple(x.shape)
    name = type(model).__name__
    if x.dim() != 4 or shape[1] != model.in_channels:
        raise ValueError(
            f"{name} expected input of shape (N, {model.in_channels}, H, W), got shape {shape}"
        )
    if size is not None:
        if shape[2:] != tuple(size):
            raise ValueError(
                f"{name} expected {size[0]}x{size[1]} input, got {shape[2]}x{shape[3]} "
                f"(input shape {shape})"
            )
        return
    min_h, min_w = model.min_input_size
    if shape[2] < min_h or shape[3] < min_w:
        hint = ""
        if getattr(model, "small_input", True) is False:
            hint = "; build it with small_input=True for MNIST- or CIFAR-sized images"
        raise ValueError(
            f"{name} expected images of at least {min_h}x{min_w} pixels (its pooling and "
            f"strides shrink them), got {shape[2]}x{shape[3]} (input shape {shape}){hint}"
        )
