"""Comparing a NumPy layer with torch: the primitives every check is built from.

A failed comparison raises :class:`CheckFailed` (an ``AssertionError``, so pytest shows
it as a failed assertion) whose message says, in words, what differs and where:
"grad of weight differs from torch: max relative error 0.43 at Conv2d(2, 3,
kernel_size=3, stride=2, padding=1) on an input of shape (2, 2, 7, 7); your forward
matches". The same message grades a learner's layer (``cnnbook exercises check``) and
fails a test of ``cnnbook.numpy``.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "RTOL",
    "CheckFailed",
    "to_torch",
    "to_numpy",
    "copy_params",
    "relative_error_to_scale",
    "assert_close",
    "check_against_torch",
    "check_accumulates",
    "expect_value_error",
]

RTOL = 1e-7  # max |ours - torch| <= RTOL * max |torch|, in float64


class CheckFailed(AssertionError):
    """A check found a difference; the message names what differs and the setting."""


def at(setting):
    return f" at {setting}" if setting else ""


def to_torch(x, grad=False):
    """A float64 torch tensor holding a copy of ``x``."""
    return torch.tensor(np.asarray(x), dtype=torch.float64, requires_grad=grad)


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def copy_params(layer, torch_layer):
    """Copy every parameter of a NumPy layer into the torch layer with the same names."""
    with torch.no_grad():
        for name, p in layer.named_parameters():
            torch_layer.get_parameter(name).copy_(torch.from_numpy(np.asarray(p.data)))


def relative_error_to_scale(actual, expected):
    """``max |actual - expected| / max |expected|``: one number, relative to the scale of
    ``expected`` (its largest entry), so that entries which cancel to about 0 are held to
    the same absolute standard as the rest. 0 for equal arrays, inf when ``expected`` is
    all zeros and ``actual`` is not."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.size == 0:
        return 0.0
    err = float(np.max(np.abs(actual - expected)))
    scale = float(np.max(np.abs(expected)))
    if err == 0:
        return 0.0
    return err / scale if scale > 0 else float("inf")


def _hint(actual, expected, reference):
    """A few words on the shape of a difference, when it has a recognisable one."""
    if actual.ndim == 2 and actual.shape == expected.shape[::-1] and actual.size > 1:
        if np.allclose(actual.T, expected, rtol=1e-6, atol=1e-12 * max(1.0, float(np.max(np.abs(expected))))):
            return f" (yours is the transpose of {reference}'s)"
    if actual.shape != expected.shape:
        return ""
    if actual.size and not np.any(actual) and np.any(expected):
        return " (yours is all zeros)"
    if actual.size > 1 and np.all(np.isfinite(actual)) and np.any(expected) and np.any(actual):
        nonzero = np.abs(expected) > 1e-12 * np.max(np.abs(expected))
        ratio = actual[nonzero] / expected[nonzero]
        if ratio.size > 1 and np.allclose(ratio, ratio[0], rtol=1e-6) and abs(ratio[0] - 1) > 1e-6 \
                and np.allclose(actual[~nonzero], 0):
            return f" (yours is {ratio[0]:.4g} times {reference}'s)"
    return ""


def assert_close(actual, expected, what="values", *, rtol=RTOL, atol=0.0, setting="", reference="torch", note=""):
    """Raise :class:`CheckFailed` unless ``actual`` equals ``expected`` to ``rtol``
    relative to the scale of ``expected`` (plus ``atol``); NaN must sit where the
    expected NaN is. ``what`` ("grad of weight") and ``setting`` ("Conv2d(...) on an
    input of shape ...") make the message; ``note`` (what the reference computes) ends
    a message about a difference in values."""
    expected = to_numpy(expected)
    if actual is None:
        raise CheckFailed(f"{what} is None{at(setting)}; {reference}'s has shape {expected.shape}")
    actual = to_numpy(actual)
    if not np.issubdtype(np.asarray(actual).dtype, np.number):
        raise CheckFailed(f"{what} is not an array of numbers (got dtype {actual.dtype}){at(setting)}")
    if actual.shape != expected.shape:
        raise CheckFailed(
            f"{what} has shape {actual.shape}, {reference}'s has shape {expected.shape}{at(setting)}"
            f"{_hint(actual, expected, reference)}"
        )
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if np.any(nan_a != nan_e):
        where = "NaN where" if np.any(nan_a & ~nan_e) else "a number where"
        theirs = "a number" if np.any(nan_a & ~nan_e) else "NaN"
        raise CheckFailed(f"{what} has {where} {reference}'s has {theirs}{at(setting)}")
    a, e = np.where(nan_e, 0.0, a), np.where(nan_e, 0.0, e)
    if np.any(np.isinf(a) != np.isinf(e)) or np.any(a[np.isinf(e)] != e[np.isinf(e)]):
        raise CheckFailed(f"{what} has infinite values where {reference}'s differ{at(setting)}")
    finite = np.isfinite(e)
    a, e = a[finite], e[finite]
    err = float(np.max(np.abs(a - e))) if a.size else 0.0
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    if err > rtol * scale + atol:
        relative = f"max relative error {err / scale:.2g}" if scale > 0 else f"max error {err:.2g}"
        raise CheckFailed(
            f"{what} differs from {reference}: {relative}{at(setting)}{_hint(actual, expected, reference)}"
            + (f" ({note})" if note else "")
        )


def check_against_torch(layer, torch_fn, x, rng, torch_params=(), *, setting="", backward=True, dout=None):
    """Forward and backward of ``layer`` against ``torch_fn(x_tensor)`` in float64.

    ``torch_params`` pairs (NumPy ``Parameter`` name, ``Parameter``, torch tensor) or
    (``Parameter``, torch tensor) whose gradients must match too. Checks, in this order:
    the output; then (unless ``backward`` is False) the input gradient and each parameter
    gradient for a random ``dout`` (standard normal from ``rng`` unless given); and that
    neither forward nor backward wrote into ``x`` or ``dout``.
    """
    x_before = np.array(x, copy=True)
    out = layer.forward(x)
    if not np.array_equal(x, x_before, equal_nan=True):
        raise CheckFailed(f"forward wrote into its input x{at(setting)}; compute into a new array")
    tx = to_torch(x, grad=True)
    t_out = torch_fn(tx)
    assert_close(out, t_out, "output", setting=setting)
    if not backward:
        return out
    if dout is None:
        dout = rng.standard_normal(np.shape(out))
    dout_before = np.array(dout, copy=True)
    if hasattr(layer, "zero_grad"):
        layer.zero_grad()
    pairs = [(f"grad of {name}", p, tp) for name, p, tp in _named(layer, torch_params)]
    for _, _, tp in pairs:
        tp.grad = None  # torch's gradients accumulate too: compare one backward pass with one
    dx = layer.backward(dout)
    t_out.backward(to_torch(dout))
    try:
        assert_close(dx, tx.grad, "grad of input", setting=setting)
        for what, p, tp in pairs:
            assert_close(p.grad, tp.grad, what, setting=setting)
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}; your forward matches") from None
    if not np.array_equal(dout, dout_before, equal_nan=True):
        raise CheckFailed(f"backward wrote into dout, the gradient it was given{at(setting)}; compute into a new array")
    if not np.array_equal(x, x_before, equal_nan=True):
        raise CheckFailed(f"backward wrote into the forward input x{at(setting)}; compute into a new array")
    return out


def _named(layer, torch_params):
    names = {id(p): name for name, p in layer.named_parameters()} if hasattr(layer, "named_parameters") else {}
    for pair in torch_params:
        if len(pair) == 3:
            yield pair
        else:
            p, tp = pair
            yield names.get(id(p), "parameter"), p, tp


def check_accumulates(layer, x, rng, *, setting=""):
    """Two backward passes add up: each parameter's grad after two is twice that after one
    (torch's ``.grad`` accumulates; ``zero_grad()`` resets it)."""
    params = list(layer.named_parameters())
    if not params:
        return
    out = layer.forward(x)
    dout = rng.standard_normal(np.shape(out))
    layer.zero_grad()
    layer.backward(dout)
    once = {name: np.array(p.grad, copy=True) for name, p in params}
    layer.forward(x)
    layer.backward(dout)
    for name, p in params:
        if not np.allclose(p.grad, 2 * once[name], rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(once[name]))))):
            raise CheckFailed(
                f"grad of {name} after two backward passes is not twice that after one{at(setting)}: "
                f"backward must add into .grad (+=), as torch's gradients accumulate, not replace it"
            )
    layer.zero_grad()


def expect_value_error(call, what, *, match=None):
    """``call()`` must raise ValueError (whose message contains ``match``, if given).

    ``what`` says what the call does wrong, in the words of a sentence:
    "Conv2d(3, 2, 3) on an input with 4 channels".
    """
    try:
        result = call()
    except ValueError as error:
        if match is not None and match not in str(error):
            raise CheckFailed(f"{what} should raise ValueError mentioning {match!r}; yours said: {error}") from None
        return
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - what a learner's code raised is the finding
        raise CheckFailed(
            f"{what} should raise ValueError with a clear message; yours raised "
            f"{type(error).__name__}: {error}"
        ) from None
    if isinstance(result, np.ndarray):
        raise CheckFailed(f"{what} should raise ValueError; yours returned an output of shape {result.shape}")
    raise CheckFailed(f"{what} should raise ValueError; yours accepted it")
