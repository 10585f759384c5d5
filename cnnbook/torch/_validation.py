"""Argument and input checks shared by the torch twins.

Every check raises ``ValueError`` with a message that names the layer, what it
expected and what it got, so a shape bug in a notebook points at its cause.
"""

import torch


def pair(value, name, layer):
    """``value`` as an ``(h, w)`` tuple of ints; an int means the same size on both axes."""
    if isinstance(value, bool):
        raise ValueError(f"{layer} expected {name} to be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return (value[0], value[1])
    raise ValueError(f"{layer} expected {name} to be an int or a pair of ints, got {value!r}")


def check_positive(values, name, layer):
    """Raise unless every entry of the int or tuple ``values`` is at least 1."""
    items = values if isinstance(values, tuple) else (values,)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items):
        raise ValueError(f"{layer} expected a positive {name}, got {values!r}")


def check_non_negative(values, name, layer):
    """Raise unless every entry of the int or tuple ``values`` is at least 0."""
    items = values if isinstance(values, tuple) else (values,)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items):
        raise ValueError(f"{layer} expected a non-negative {name}, got {values!r}")


def check_tensor(x, what, layer):
    """Raise unless ``x`` is a tensor; ``what`` is e.g. "the target"."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{layer} expected {what} to be a torch.Tensor, got {type(x).__name__}")


def check_rank(x, ranks, layer, layout, hints=None):
    """Raise unless ``x.dim()`` is one of ``ranks``; ``layout`` reads like "(N, C, H, W)".

    ``hints`` maps a wrong rank to the likely fix, which the message then ends with.
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{layer} expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in ranks:
        wanted = " or ".join(f"{r}D" for r in ranks)
        hint = (hints or {}).get(x.dim())
        raise ValueError(
            f"{layer} expected a {wanted} input {layout}, got a {x.dim()}D input "
            f"(input shape {tuple(x.shape)})" + (f"; {hint}" if hint else "")
        )


def check_size(x, dim, expected, what, layer, hint=""):
    """Raise unless ``x.shape[dim] == expected``; ``what`` is e.g. "channels"; a ``hint``
    at the likely fix ends the message."""
    got = x.shape[dim]
    if got != expected:
        raise ValueError(
            f"{layer} expected input with {expected} {what}, got {got} "
            f"(input shape {tuple(x.shape)})" + (f"; {hint}" if hint else "")
        )


def check_reduction(reduction, layer):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"{layer} expected reduction 'mean', 'sum' or 'none', got {reduction!r}"
        )
