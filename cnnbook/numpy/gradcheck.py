"""Centered-difference gradient checking for any layer or loss.

The analytic gradient a backward pass returns is compared with the slope measured by
nudging one input at a time: ``(f(x + eps) - f(x - eps)) / (2 * eps)``, whose error
shrinks like eps ** 2 (one-sided differences only like eps). Work in float64: with
eps = 1e-6, float32 rounding alone would swamp the slope.
"""

import copy

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """The gradient of the scalar function ``f`` at ``x`` by centered differences.

    ``f(x)`` must return a number. Each entry of ``x`` is nudged in place to
    ``x + eps`` and ``x - eps`` and then restored exactly, so ``f`` may also read ``x``
    another way (a layer reading its own ``weight.data``, say). Costs 2 * x.size calls.

    Shape:
        x: any shape (a writable floating ndarray). Output: the same shape, float64.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"numerical_gradient expected a floating ndarray x, got {type(x).__name__}")
    if not eps > 0:
        raise ValueError(f"numerical_gradient expected a positive eps, got {eps!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = float(f(x))
        x[index] = original - eps
        f_minus = float(f(x))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """``||a - b|| / max(||a||, ||b||)``, 0 when both are zero.

    One number per array rather than per entry: entries whose true gradient is about 0
    (a ReLU's dead units) would otherwise divide rounding noise by nearly nothing. An
    array whose true gradient is exactly zero throughout (the bias of a convolution
    followed by batch norm) still compares noise with noise and can report ~1.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error expected arrays of the same shape, got {a.shape} and {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def gradient_errors(module, x, *args, dout=None, eps=1e-6, seed=0):
    """Relative error of ``module``'s analytic gradients, by name.

    ``module`` is a layer (``forward(x)``, ``backward(dout)``) or a loss
    (``forward(x, *args) -> float``, ``backward()``); ``args`` are further forward
    arguments that are not differentiated (a loss's targets). For a layer the checked
    scalar is ``sum(forward(x) * dout)``, with ``dout`` standard normal from ``seed``
    unless given, which checks the whole backward pass at once.

    The result maps ``'input'`` and each parameter name to ``relative_error(analytic,
    numerical)``. The check runs on a deep copy of ``module`` and a float64 copy of
    ``x``, so the caller's gradients, batch-norm running statistics and input stay as
    they were. Stochastic layers must draw the same numbers on every call: check them
    in eval mode, or with a generator that their forward reseeds.
    """
    module = copy.deepcopy(module)
    params = list(module.named_parameters()) if hasattr(module, "named_parameters") else []
    for name, p in params:
        if p.dtype != np.float64:
            raise ValueError(f"gradient check needs float64 parameters, got {name} of dtype {p.dtype}")
        p.grad = np.zeros_like(p.data)
    x = np.array(x, dtype=np.float64)  # our own copy, nudged in place below
    out = module.forward(x, *args)
    if np.ndim(out) == 0:  # a loss
        analytic_dx = module.backward()

        def f(_):
            return float(module.forward(x, *args))

    else:
        if dout is None:
            dout = np.random.default_rng(seed).standard_normal(np.shape(out))
        dout = np.asarray(dout, dtype=np.float64)
        analytic_dx = module.backward(dout)

        def f(_):
            return float(np.sum(module.forward(x, *args) * dout))

    errors = {"input": relative_error(analytic_dx, numerical_gradient(f, x, eps))}
    for name, p in params:
        errors[name] = relative_error(p.grad, numerical_gradient(f, p.data, eps))
    return errors


def gradcheck(module, x, *args, dout=None, eps=1e-6, seed=0):
    """The largest relative error over the input and parameter gradients of ``module``
    (see ``gradient_errors``). Below about 1e-7 in float64 the backward pass is right;
    a mistake usually shows as 1e-2 or more.
    """
    return max(gradient_errors(module, x, *args, dout=dout, eps=eps, seed=seed).values())
