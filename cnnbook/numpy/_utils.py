"""Argument and input checks shared by the layers; every failure is a ValueError
that names what was expected and what came."""

import numbers

import numpy as np


# The fix for the usual rank slip of a 4-D layer: one image, without its batch axis.
ADD_BATCH_AXIS = "one image? add the batch axis first, as in x[None]"


def type_name(value):
    """``value``'s type, with its module unless built in: 'torch.nn.modules.activation.ReLU'
    says where a foreign object came from, where 'ReLU' alone would not."""
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def is_int(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def check_positive_int(value, name, owner):
    if not is_int(value) or value <= 0:
        raise ValueError(f"{owner} expected {name} to be a positive integer, got {value!r}")
    return int(value)


def pair(value, name, owner, minimum=1):
    """An int or a pair of ints (each >= minimum) as an (h, w) tuple."""
    if is_int(value):
        items = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        items = tuple(value)
    else:
        raise ValueError(f"{owner} expected {name} to be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{owner} expected {name} to be {bound}, got {value!r}")
    return int(items[0]), int(items[1])


def check_dtype(dtype, owner):
    """A floating numpy dtype: layers keep their parameters and compute in it.

    None means float64, NumPy's default, as torch's ``dtype=None`` means torch's default
    (float32).
    """
    try:
        dt = np.dtype(np.float64 if dtype is None else dtype)
    except TypeError as error:
        raise ValueError(f"{owner} expected a floating dtype, got {dtype!r}") from error
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"{owner} expected a floating dtype such as np.float32 or np.float64, got {dt}")
    return dt


def as_float_array(x, owner, dtype=None, what="input"):
    """``x`` as an ndarray in ``dtype`` (or its own floating dtype, float64 for ints).

    Never copies when ``x`` already is an array of that dtype: callers only read it.
    """
    try:
        arr = np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{owner} expected an array-like {what}, got {type(x).__name__}") from error
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if not np.issubdtype(arr.dtype, np.floating):
        if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            raise ValueError(f"{owner} expected a numeric {what}, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    return arr


def check_ndim(x, ndims, owner, layout, hints=None):
    """Raise unless ``x.ndim`` is one of ``ndims``; ``layout`` reads like '(N, C, H, W)'.

    ``hints`` maps a wrong rank to the likely fix, which the message then ends with.
    """
    if isinstance(ndims, int):
        ndims = (ndims,)
    if x.ndim not in ndims:
        expected = " or ".join(f"{n}-D" for n in ndims)
        hint = (hints or {}).get(x.ndim)
        raise ValueError(
            f"{owner} expected a {expected} input {layout}, got a {x.ndim}-D input of shape {x.shape}"
            + (f"; {hint}" if hint else "")
        )


def check_same_shape(dout, expected_shape, owner):
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"{owner}.backward expected dout of shape {tuple(expected_shape)} (the forward "
            f"output's shape), got {dout.shape}"
        )
