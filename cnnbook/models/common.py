"""Small helpers shared by the model families."""

import functools

import torch


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
