"""Optimizers against ``torch.optim``: the same path, step by step, in float64.

Both optimizers start from the same point of a non-convex function of two parameters of
different shapes and take :data:`STEPS` steps, each from its own gradient (NumPy's
written out, torch's from autograd). :func:`check_optimizer` compares the optimizer state
and the parameters after every step and names the first that differs; the test suite
also runs ``cnnbook.torch.optim`` through :func:`run_torch` and :func:`assert_same_state`.
"""

from __future__ import annotations

import numpy as np
import torch

from cnnbook.checks.compare import CheckFailed, assert_close, expect_value_error, relative_error_to_scale
from cnnbook.numpy.parameter import Parameter

__all__ = [
    "STEPS",
    "SHAPES",
    "OPTIM_RTOL",
    "STATE_ATOL",
    "PARITY_CASES",
    "INVALID",
    "start_point",
    "loss_and_grad_numpy",
    "loss_torch",
    "split",
    "flat",
    "run_torch",
    "assert_same_state",
    "describe",
    "check_optimizer",
    "check_rejects",
]

STEPS = 150
SHAPES = [(4,), (2, 3)]  # two parameters, so every run also covers several shapes
OPTIM_RTOL = 1e-9  # max |ours - torch| <= OPTIM_RTOL * max |torch|
# Near a minimum the gradient is a difference of O(1) terms, so gradient-like state (a
# momentum buffer, Adam's m) can be at rounding level, ~1e-16, where relative error means
# nothing: state is compared with this absolute floor.
STATE_ATOL = 1e-14

# Curvatures of the quadratic part, one per coordinate of the flattened parameters.
CURVATURE = np.linspace(0.5, 3.0, 10)

# Settings that each move the parameters well away from the start and are numerically
# stable over STEPS steps (tests/test_optim.py checks both for every entry).
PARITY_CASES = [
    ("SGD", dict(lr=0.02)),
    ("SGD", dict(lr=0.02, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.05)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.3, eps=1e-3)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(rho=0.5)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.003, alpha=0.9, eps=1e-4)),
    ("RMSprop", dict(lr=0.005, momentum=0.5)),
    ("RMSprop", dict(lr=0.005, centered=True)),
    ("RMSprop", dict(lr=0.003, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.005, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
]

# Hyperparameters torch.optim rejects with ValueError, and the argument at fault.
INVALID = [
    ("SGD", dict(lr=-0.1), "lr"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "momentum"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
    ("SGD", dict(lr=0.1, nesterov=True), "nesterov=True"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov=True"),
    ("Adagrad", dict(lr=-0.01), "lr"),
    ("Adagrad", dict(lr_decay=-1.0), "lr_decay"),
    ("Adagrad", dict(weight_decay=-1.0), "weight_decay"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ("Adagrad", dict(eps=-1e-10), "eps"),
    ("Adadelta", dict(lr=-1.0), "lr"),
    ("Adadelta", dict(rho=1.5), "rho"),
    ("Adadelta", dict(rho=-0.1), "rho"),
    ("Adadelta", dict(eps=-1e-6), "eps"),
    ("Adadelta", dict(weight_decay=-1.0), "weight_decay"),
    ("RMSprop", dict(lr=-0.01), "lr"),
    ("RMSprop", dict(alpha=-0.5), "alpha"),
    ("RMSprop", dict(eps=-1e-8), "eps"),
    ("RMSprop", dict(weight_decay=-1.0), "weight_decay"),
    ("RMSprop", dict(momentum=-0.9), "momentum"),
    ("Adam", dict(lr=-1e-3), "lr"),
    ("Adam", dict(betas=(1.0, 0.999)), "betas[0]"),
    ("Adam", dict(betas=(-0.1, 0.999)), "betas[0]"),
    ("Adam", dict(betas=(0.9, 1.0)), "betas[1]"),
    ("Adam", dict(eps=-1e-8), "eps"),
    ("Adam", dict(weight_decay=-1.0), "weight_decay"),
]


def start_point():
    return np.random.default_rng(0).uniform(-1.5, 1.5, size=10)


def loss_and_grad_numpy(v):
    """f(v) = Σ c·v²/2 + Σ sin(2v) + ½ Σ (v[i+1] − v[i]²)², and its gradient.

    A quadratic bowl with ripples and a Rosenbrock-like chain: non-convex, several
    local minima, bounded below.
    """
    r = v[1:] - v[:-1] ** 2
    f = np.sum(0.5 * CURVATURE * v * v + np.sin(2 * v)) + 0.5 * np.sum(r * r)
    g = CURVATURE * v + 2 * np.cos(2 * v)
    g[:-1] -= 2 * v[:-1] * r
    g[1:] += r
    return f, g


def loss_torch(params):
    v = torch.cat([p.reshape(-1) for p in params])
    c = torch.from_numpy(CURVATURE)
    r = v[1:] - v[:-1] ** 2
    return torch.sum(0.5 * c * v * v + torch.sin(2 * v)) + 0.5 * torch.sum(r * r)


def split(v):
    """The flat vector as arrays of SHAPES."""
    out, i = [], 0
    for shape in SHAPES:
        n = int(np.prod(shape))
        out.append(v[i:i + n].reshape(shape))
        i += n
    return out


def flat(params):
    return np.concatenate([np.asarray(p.detach() if torch.is_tensor(p) else p.data).ravel()
                           for p in params])


def _as_array(x):
    return x.detach().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=np.float64)


def run_torch(opt_cls, kwargs, v0, steps=STEPS):
    """Parameters and optimizer after ``steps`` steps, and the path every 10 steps."""
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in split(v0)]
    opt = opt_cls(params, **kwargs)
    path = []
    for i in range(steps):
        opt.zero_grad()
        loss_torch(params).backward()
        opt.step()
        if i % 10 == 9:
            path.append(flat(params))
    return params, opt, np.array(path)


def _numpy_step(params, opt):
    opt.zero_grad()
    _, g = loss_and_grad_numpy(flat(params))
    for p, gp in zip(params, split(g)):
        p.grad += gp
    opt.step()


def assert_same_state(params, opt, ref_params, ref_opt, what, steps=STEPS):
    """Same state keys as torch.optim, and the same values, for every parameter."""
    for i, (p, q) in enumerate(zip(params, ref_params)):
        ours, ref = opt.state.get(p, {}), ref_opt.state.get(q, {})
        if sorted(ours) != sorted(ref):
            raise CheckFailed(f"{what}: state keys of parameter {i} are {sorted(ours)}, torch's are {sorted(ref)}")
        for key in ref:
            if key == "step":
                if not float(ours[key]) == float(ref[key]) == steps:
                    raise CheckFailed(f"{what}: state 'step' of parameter {i} is {ours[key]}, torch's is {float(ref[key]):g}")
            else:
                assert_close(_as_array(ours[key]), _as_array(ref[key]), f"{what} {key}[{i}]",
                             rtol=OPTIM_RTOL, atol=STATE_ATOL)


def describe(name, kwargs):
    """``SGD(lr=0.01, momentum=0.9, nesterov=True)``."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _step_ratio(ours, theirs):
    """r when the step taken is r times torch's step (to rounding), else None."""
    if not np.any(theirs) or not np.any(ours):
        return None
    r = float(np.dot(ours, theirs) / np.dot(theirs, theirs))
    if abs(r - 1) > 1e-6 and np.allclose(ours, r * theirs, rtol=1e-6, atol=1e-9 * np.max(np.abs(theirs))):
        return r
    return None


def check_optimizer(cls, name, kwargs, steps=STEPS):
    """``cls(params, **kwargs)`` against ``torch.optim.<name>`` for ``steps`` steps.

    After every step: the state (torch's keys, then each value) and then the parameters.
    The message names the step, the setting and what differs first; when the parameters
    differ while the state matches, it says so (the update computed from the state is at
    fault), with the ratio of the two steps when yours is a multiple of torch's.
    """
    setting = describe(name, kwargs)
    v0 = start_point()
    tparams = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in split(v0)]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    params = [Parameter(a, dtype=np.float64) for a in split(v0)]
    opt = cls(params, **kwargs)
    for step in range(1, steps + 1):
        before_t = flat(tparams)
        topt.zero_grad()
        loss_torch(tparams).backward()
        topt.step()
        before = flat(params)
        _numpy_step(params, opt)
        after_t, after = flat(tparams), flat(params)
        when = f"after step {step} of {setting}"
        state_keys = []
        for i, (p, q) in enumerate(zip(params, tparams)):
            ours = opt.state.get(p, {}) if isinstance(getattr(opt, "state", None), dict) else {}
            ref = topt.state.get(q, {})
            if sorted(ours) != sorted(ref):
                raise CheckFailed(
                    f"{when}, the state of parameter {i} holds {sorted(ours)}, torch's holds {sorted(ref)}: "
                    f"keep it in self.state[p] under torch's names"
                )
            for key in ref:
                if key == "step":
                    if float(ours[key]) != float(ref[key]):
                        raise CheckFailed(f"{when}, state 'step' of parameter {i} is {ours[key]!r}, torch's is {float(ref[key]):g}")
                    continue
                try:
                    assert_close(_as_array(ours[key]), _as_array(ref[key]), f"state {key!r} of parameter {i}",
                                 rtol=OPTIM_RTOL, atol=STATE_ATOL)
                except CheckFailed as failure:
                    raise CheckFailed(f"{when}, {failure}") from None
            state_keys = sorted(ref)
        error = relative_error_to_scale(after, after_t)
        if not error <= OPTIM_RTOL:
            ratio = _step_ratio(after - before, after_t - before_t)
            detail = f"max relative error {error:.2g}" if np.isfinite(error) else "they are not finite"
            if ratio is not None:
                detail += f"; your step is {ratio:.4g} times torch's"
            if state_keys:
                detail += f"; the state ({', '.join(state_keys)}) matches torch's, so the update computed from it differs"
            raise CheckFailed(f"{when}, the parameters differ from torch.optim's: {detail}")
    return params, opt


def check_rejects(cls, name, kwargs, arg):
    """``cls([p], **kwargs)`` raises ValueError, as torch.optim does."""
    expect_value_error(lambda: cls([Parameter(np.zeros(2))], **kwargs),
                       f"{describe(name, kwargs)} (a bad {arg.split('[')[0]})")
