"""The model of a run: any model of the zoo, built for the dataset's images."""

from __future__ import annotations

__all__ = ["build_model"]


def _fits(name, kwargs, shape):
    """Whether the model built with ``kwargs`` takes images of ``shape`` (tried on shapes
    alone, on the meta device)."""
    import torch

    from cnnbook.models import get_model

    with torch.device("meta"):
        model = get_model(name, **kwargs).eval()
        try:
            model(torch.empty(1, *shape))
        except ValueError:
            return False
    return True


def build_model(name, shape, num_classes, model_args=None):
    """Model ``name`` for images of ``shape`` (C, H, W) and ``num_classes`` classes: the
    family's small-input form where it has one and the images fit it, else its standard
    form. Returns the model and the arguments it was built with.

    Raises ``ValueError`` when no form of the model takes such images.
    """
    import inspect

    import torch

    from cnnbook.models import get_model

    kwargs = {"num_classes": num_classes, "in_channels": shape[0], **(model_args or {})}
    try:
        with torch.device("meta"):
            family = type(get_model(name, **kwargs))
    except TypeError as exc:
        raise ValueError(f"--model-arg does not fit {name}: {exc}") from None
    tries = [kwargs]
    if "small_input" in inspect.signature(family).parameters and "small_input" not in kwargs:
        tries = [{**kwargs, "small_input": True}, {**kwargs, "small_input": False}]
    for candidate in tries:
        if _fits(name, candidate, shape):
            return get_model(name, **candidate), candidate
    raise ValueError(f"{name} cannot take {shape[1]}x{shape[2]} images with {shape[0]} channel(s) "
                     f"in any of its forms")
