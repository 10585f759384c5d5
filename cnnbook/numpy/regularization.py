"""L1 and L2 penalties on parameters, returning the penalty and adding its gradient.

Conventions (a notebook can show both):

- ``l1_penalty``: ``lam * sum(|w|)``, gradient ``lam * sign(w)`` (0 at w = 0, the
  subgradient torch's ``abs`` uses). Its pull towards zero does not fade as a weight
  shrinks, so it favours sparse weights; plain (sub)gradient steps leave them hovering
  within about ``lr * lam`` of zero rather than exactly at it (a proximal,
  soft-threshold step gives exact zeros).
- ``l2_penalty``: ``lam * sum(w ** 2)``, gradient ``2 * lam * w``. Plain SGD then
  shrinks every weight by the factor ``1 - 2 * lr * lam`` per step ("weight decay");
  torch's ``SGD(weight_decay=wd)`` adds ``wd * w`` to the gradient, which is this
  penalty with ``lam = wd / 2``.

Add the returned value to the data loss for reporting; the gradient is already in
each ``.grad``, so call these after the network's backward pass, before the update.
Pass only the parameters to regularize (usually weights, not biases).
"""

import numpy as np

from cnnbook.numpy.parameter import Parameter


def _checked(parameters, lam, owner):
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)) or not lam >= 0:
        raise ValueError(f"{owner} expected a non-negative number lam, got {lam!r}")
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    parameters = list(parameters)
    for p in parameters:
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner} expected Parameters (e.g. module.parameters()), got {type(p).__name__}")
    return parameters


def l1_penalty(parameters, lam):
    """Return ``lam * sum(|w|)`` over ``parameters`` and add ``lam * sign(w)`` to each ``w.grad``."""
    total = 0.0
    for p in _checked(parameters, lam, "l1_penalty"):
        total += float(np.sum(np.abs(p.data)))
        p.grad += p.dtype.type(lam) * np.sign(p.data)
    return lam * total


def l2_penalty(parameters, lam):
    """Return ``lam * sum(w ** 2)`` over ``parameters`` and add ``2 * lam * w`` to each ``w.grad``."""
    total = 0.0
    for p in _checked(parameters, lam, "l2_penalty"):
        total += float(np.sum(p.data * p.data))
        p.grad += p.dtype.type(2 * lam) * p.data
    return lam * total
