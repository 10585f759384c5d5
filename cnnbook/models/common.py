"""Small helpers shared by the model families."""


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
