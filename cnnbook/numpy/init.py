"""Weight initializers with ``torch.nn.init``'s names, arguments and formulas.

Each function fills an ndarray or a ``Parameter`` (its ``.data``) in place and returns
it. Random ones take ``generator`` (a ``numpy.random.Generator``) and otherwise draw
from ``cnnbook.numpy``'s default generator, which ``cnnbook.numpy.manual_seed``
reseeds. Values are drawn in float64 and stored in the array's own dtype, so a float32
and a float64 layer built after the same seed hold the same numbers up to rounding.
"""

import math
import numbers

import numpy as np

from cnnbook.numpy._random import resolve_generator
from cnnbook.numpy.parameter import Parameter


def _array(tensor, owner):
    """The ndarray behind ``tensor`` (an ndarray or a Parameter), checked writable and floating."""
    arr = tensor.data if isinstance(tensor, Parameter) else tensor
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{owner} expected an ndarray or a Parameter, got {type(tensor).__name__}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{owner} expected a floating array, got dtype {arr.dtype}")
    return arr


def calculate_gain(nonlinearity, param=None):
    """The gain torch recommends for a nonlinearity: the factor that keeps the variance
    of activations about constant from layer to layer.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with slope ``param``
    (default 0.01): sqrt(2 / (1 + slope ** 2)); selu: 3/4.
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain expected a number for negative_slope, got {param!r}")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain expected one of {linear_fns + ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu']}, "
        f"got {nonlinearity!r}"
    )


def _calculate_fan_in_and_fan_out(arr, owner):
    """torch's fans: fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field."""
    if arr.ndim < 2:
        raise ValueError(
            f"{owner} needs an array with at least 2 dimensions to compute fan in and fan out, "
            f"got shape {arr.shape}"
        )
    receptive_field = int(np.prod(arr.shape[2:])) if arr.ndim > 2 else 1
    return arr.shape[1] * receptive_field, arr.shape[0] * receptive_field


def _fan(arr, mode, owner):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{owner} expected mode 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(arr, owner)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b)."""
    arr = _array(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_ expected a <= b, got a={a}, b={b}")
    arr[...] = resolve_generator(generator, "uniform_").uniform(a, b, size=arr.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std ** 2)."""
    arr = _array(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_ expected a non-negative std, got {std}")
    arr[...] = resolve_generator(generator, "normal_").normal(mean, std, size=arr.shape)
    return tensor


def constant_(tensor, val):
    """Fill with the constant ``val``."""
    _array(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor):
    """Fill with zeros."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with ones."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations (forward) and of gradients (backward) equal on
    average for a linear or tanh network.
    """
    arr = _array(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(arr, "xavier_uniform_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-b, b) has standard deviation b / sqrt(3)
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, std ** 2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    arr = _array(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(arr, "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(-bound, bound) with bound = gain * sqrt(3 / fan).

    ``gain = calculate_gain(nonlinearity, a)``; ``fan`` is fan_in (keeps the forward
    variance) or fan_out (keeps the backward variance). torch's layers call this with
    ``a=sqrt(5)``, which gives bound = 1 / sqrt(fan_in).
    """
    arr = _array(tensor, "kaiming_uniform_")
    if arr.size == 0:  # torch warns and leaves an empty tensor alone
        return tensor
    fan = _fan(arr, mode, "kaiming_uniform_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, std ** 2) with std = gain / sqrt(fan)."""
    arr = _array(tensor, "kaiming_normal_")
    if arr.size == 0:
        return tensor
    fan = _fan(arr, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator=generator)


def default_init_(weight, bias=None):
    """torch's default for ``nn.Linear`` and ``nn.Conv2d``: kaiming_uniform_ with
    a=sqrt(5) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(_array(weight, "default_init_"), "default_init_")
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
    return weight, bias
