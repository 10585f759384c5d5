"""Small helpers shared by the model families."""

import functools
import numbers

import torch


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


def check_input(model, x, size=None):
    """Raise ``ValueError`` unless ``x`` is an ``(N, model.in_channels, H, W)`` batch.

    ``size``, when given, is the one ``(H, W)`` the model accepts (LeNet-5's fixed input).
    """
    shape = tuple(x.shape)
    name = type(model).__name__
    if x.dim() != 4 or shape[1] != model.in_channels:
        raise ValueError(
            f"{name} expected input of shape (N, {model.in_channels}, H, W), got shape {shape}"
        )
    if size is not None and shape[2:] != tuple(size):
        raise ValueError(
            f"{name} expected {size[0]}x{size[1]} input, got {shape[2]}x{shape[3]} "
            f"(input shape {shape})"
        )


def smallest_input_side(model, limit=4096):
    """The smallest ``s`` such that ``model`` takes an ``(2, in_channels, s, s)`` batch.

    Found by running the model on shapes alone (parameters and inputs on the ``meta``
    device: no memory, no arithmetic), in the model's current mode. ``None`` if even
    ``limit`` pixels are too few.
    """
    tensors = dict(model.named_parameters())
    tensors.update(model.named_buffers())
    meta = {name: torch.empty_like(t, device="meta") for name, t in tensors.items()}

    def fits(side):
        x = torch.empty(2, model.in_channels, side, side, device="meta")
        try:
            torch.func.functional_call(model, meta, (x,))
        except (RuntimeError, ValueError):
            return False
        return True

    model._probing_input_size = True
    try:
        low, high = 0, 1  # low never fits (or is 0), high is being tried
        while not fits(high):
            low, high = high, 2 * high
            if high > limit:
                return None
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if fits(middle) else (middle, high)
        return high
    finally:
        model._probing_input_size = False


def explains_small_inputs(forward):
    """Decorate the method that computes a model's features (the one that calls
    ``check_input``): an image too small for the model's downsampling raises
    ``ValueError`` naming the smallest size that works, instead of the ``RuntimeError`` of
    whichever pooling or convolution ran out of pixels.

    The smallest size is only worked out when the forward pass has failed, so the
    check costs nothing on inputs that fit.
    """

    @functools.wraps(forward)
    def checked(model, x, *args, **kwargs):
        try:
            return forward(model, x, *args, **kwargs)
        except RuntimeError:
            if getattr(model, "_probing_input_size", False):
                raise
            side = smallest_input_side(model)
            if side is None or min(x.shape[2:]) >= side:
                raise
        hint = ""
        if getattr(model, "small_input", True) is False:
            hint = "; build it with small_input=True for MNIST- or CIFAR-sized images"
        raise ValueError(
            f"{type(model).__name__} expected images of at least {side}x{side} pixels "
            f"(its pooling and strides shrink them), got {x.shape[2]}x{x.shape[3]} "
            f"(input shape {tuple(x.shape)}){hint}"
        )

    return checked
