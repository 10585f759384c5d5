"""Optimizers: cnnbook.numpy.optim and cnnbook.torch.optim trace torch.optim's path.

The parity tests run 150 steps on a non-convex function of two parameters of different
shapes, in float64, from the same start, with torch.optim, cnnbook.torch.optim and
cnnbook.numpy.optim, and compare parameters and optimizer state. Each setting is first
checked to be numerically stable: a 1e-15 nudge of the start must move torch.optim's own
path by less than 1e-12; on a chaotic path rounding differences would grow and the
comparison would say nothing.
"""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnbook
import cnnbook.checks as checks
import cnnbook.numpy as cn
import cnnbook.torch as ct
from cnnbook.checks.optim import (
    INVALID,
    OPTIM_RTOL,
    PARITY_CASES,
    SHAPES,
    assert_same_state,
    check_optimizer,
    flat,
    loss_and_grad_numpy,
    loss_torch,
    run_torch,
    split,
    start_point,
)
from cnnbook.numpy import optim as np_optim
from cnnbook.numpy.parameter import Parameter
from cnnbook.torch import optim as our_torch_optim

NAMES = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam"]
NUDGE, STABLE = 1e-15, 1e-12


def assert_close(ours, ref, what, atol=0.0):
    checks.assert_close(ours, ref, what, rtol=OPTIM_RTOL, atol=atol)


@pytest.mark.parametrize("package, name", [("cnnbook.numpy", "SGD"), ("cnnbook.torch", "Adam")])
def test_optim_is_reachable_from_the_imported_package(package, name):
    """``import cnnbook.numpy as cn; cn.optim.SGD`` works, as ``torch.optim`` does after
    ``import torch``. In a fresh interpreter: in this one an earlier ``import
    cnnbook.numpy.optim`` would have set the attribute already and hidden the bug."""
    code = f"import {package} as lib; print(lib.optim.{name}.__module__)"
    env = dict(os.environ)
    root = str(Path(cnnbook.__file__).resolve().parents[1])  # this checkout, even if not installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{package}.optim"


@pytest.mark.parametrize("name, kwargs", PARITY_CASES, ids=[f"{n}-{k}" for n, k in PARITY_CASES])
def test_parity_with_torch_optim(name, kwargs):
    v0 = start_point()
    ref_params, ref_opt, ref = run_torch(getattr(torch.optim, name), kwargs, v0)
    assert np.max(np.abs(ref[-1] - v0)) > 1e-2, "the setting barely moves: a weak test"

    # Stability of torch's own path: a chaotic setting would amplify rounding.
    nudged = v0 + NUDGE
    assert np.all(nudged != v0)
    moved = np.max(np.abs(run_torch(getattr(torch.optim, name), kwargs, nudged)[2] - ref))
    assert moved < STABLE, f"{name}{kwargs} is not stable: a 1e-15 nudge moved it {moved:.2e}"

    # The whole path is compared, not only where it ends: the NumPy half after every step
    # (the check that grades the exercises), the torch half every 10 steps.
    check_optimizer(getattr(np_optim, name), name, kwargs)
    what = f"{our_torch_optim.__name__}.{name}{kwargs}"
    params, opt, path = run_torch(getattr(our_torch_optim, name), kwargs, v0)
    for i, (ours, theirs) in enumerate(zip(path, ref)):
        assert_close(ours, theirs, f"{what} after {10 * i + 10} steps")
    assert_same_state(params, opt, ref_params, ref_opt, what)


def test_stability_check_catches_a_chaotic_setting():
    """The guard above is not vacuous: twice the Adam step size below makes the path chaotic.

    With lr=0.01 instead of 0.005 the 1e-15 nudge grows to ~1e-6 within 150 steps, and so
    would any rounding difference between two implementations.
    """
    v0 = start_point()
    kwargs = dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1)
    ref = run_torch(torch.optim.Adam, kwargs, v0)[2]
    moved = np.max(np.abs(run_torch(torch.optim.Adam, kwargs, v0 + NUDGE)[2] - ref))
    assert moved > 1e3 * STABLE


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_match_torch(name):
    ref = inspect.signature(getattr(torch.optim, name)).parameters
    for module in (np_optim, our_torch_optim):
        ours = inspect.signature(getattr(module, name)).parameters
        # Ours is a prefix of torch's argument list (torch's extra options come after).
        assert list(ours) == list(ref)[:len(ours)], module.__name__
        for arg, p in ours.items():
            assert p.default == ref[arg].default, f"{module.__name__}.{name} {arg}"


def test_param_groups_with_different_settings():
    v0 = start_point()

    def groups(ps):  # the second group overrides lr and turns momentum off
        return [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.005, "momentum": 0.0}]

    results = []
    for cls in (torch.optim.SGD, our_torch_optim.SGD):
        ps = [torch.tensor(a, requires_grad=True) for a in split(v0)]
        opt = cls(groups(ps), lr=0.01, momentum=0.9)
        for _ in range(50):
            opt.zero_grad()
            loss_torch(ps).backward()
            opt.step()
        results.append(flat(ps))
    ps = [Parameter(a) for a in split(v0)]
    opt = np_optim.SGD(groups(ps), lr=0.01, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.005]
    for _ in range(50):
        opt.zero_grad()
        _, g = loss_and_grad_numpy(flat(ps))
        for p, gp in zip(ps, split(g)):
            p.grad += gp
        opt.step()
    assert "momentum_buffer" in opt.state[ps[0]] and ps[1] not in opt.state
    results.append(flat(ps))
    assert_close(results[1], results[0], "cnnbook.torch groups")
    assert_close(results[2], results[0], "cnnbook.numpy groups")


@pytest.mark.parametrize("name", NAMES)
def test_numpy_state_is_lazy_and_grads_are_only_read(name):
    rng = np.random.default_rng(1)
    params = [Parameter(rng.normal(size=s)) for s in SHAPES]
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else {}
    opt = getattr(np_optim, name)(params, **kwargs)
    assert opt.state == {}
    grads = [rng.normal(size=s) for s in SHAPES]
    for p, g in zip(params, grads):
        p.grad += g
    before = [p.data.copy() for p in params]
    opt.step()
    for p, g, b in zip(params, grads, before):
        assert p in opt.state and opt.state[p], "state created on the first step"
        np.testing.assert_array_equal(p.grad, g)  # step never writes into grad
        assert not np.array_equal(p.data, b)  # and it did move the parameter
        assert p.data.shape == b.shape
    if name == "SGD":  # the first-step buffer is a copy of the gradient, not a view of it
        b = opt.state[params[0]]["momentum_buffer"]
        np.testing.assert_array_equal(b, grads[0])
        params[0].grad += 1.0
        np.testing.assert_array_equal(b, grads[0])
    else:
        assert all(opt.state[p]["step"] == 1 for p in params)


@pytest.mark.parametrize("name", NAMES)
def test_torch_state_is_lazy_and_skips_params_without_grad(name):
    used = torch.linspace(-1.0, 1.0, 3, requires_grad=True)
    unused = torch.ones(2, requires_grad=True)
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else {}
    opt = getattr(our_torch_optim, name)([used, unused], **kwargs)
    assert len(opt.state) == 0
    before = unused.detach().clone()
    (used ** 2).sum().backward()
    opt.step()
    assert set(opt.state) == {used}
    assert torch.equal(unused.detach(), before)


def test_sgd_without_momentum_keeps_no_state():
    p = Parameter(np.ones(3))
    opt = np_optim.SGD([p], lr=0.5)
    p.grad += 2.0
    opt.step()
    assert opt.state == {}
    np.testing.assert_array_equal(p.data, np.zeros(3))


@pytest.mark.parametrize("name", NAMES)
def test_zero_grad(name):
    params = [Parameter(np.ones(s)) for s in SHAPES]
    opt = getattr(np_optim, name)(params)
    for p in params:
        p.grad += 3.0
    opt.zero_grad()
    for p in params:
        assert p.grad.shape == p.data.shape
        np.testing.assert_array_equal(p.grad, np.zeros(p.data.shape))

    t = torch.ones(3, requires_grad=True)
    t.sum().backward()
    topt = getattr(our_torch_optim, name)([t])
    topt.zero_grad()
    assert t.grad is None  # torch's default, set_to_none=True


@pytest.mark.parametrize("name", NAMES)
def test_closure(name):
    v0 = start_point()
    losses = []
    for module in (torch.optim, our_torch_optim):
        ps = [torch.tensor(a, requires_grad=True) for a in split(v0)]
        opt = getattr(module, name)(ps)

        def closure():
            opt.zero_grad()
            loss = loss_torch(ps)
            loss.backward()
            return loss

        losses.append([opt.step(closure).item() for _ in range(5)])
        losses.append(flat(ps))
    ps = [Parameter(a) for a in split(v0)]
    opt = getattr(np_optim, name)(ps)

    def closure():
        opt.zero_grad()
        loss, g = loss_and_grad_numpy(flat(ps))
        for p, gp in zip(ps, split(g)):
            p.grad += gp
        return loss

    losses.append([opt.step(closure) for _ in range(5)])
    losses.append(flat(ps))
    for i in (2, 4):
        assert_close(np.array(losses[i]), np.array(losses[0]), f"losses {i}")
        assert_close(losses[i + 1], losses[1], f"params {i}")


@pytest.mark.parametrize("name, kwargs, arg", INVALID, ids=[f"{n}-{k}" for n, k, _ in INVALID])
def test_invalid_hyperparameters_raise_like_torch(name, kwargs, arg):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    for params, module in (([Parameter(np.zeros(2))], np_optim),
                           ([torch.zeros(2, requires_grad=True)], our_torch_optim)):
        with pytest.raises(ValueError) as info:
            getattr(module, name)(params, **kwargs)
        message = str(info.value)
        assert name in message and arg.split("[")[0] in message and "got" in message, message
        if arg in kwargs or arg.startswith("betas"):  # the message shows the value that came
            value = kwargs["betas"][int(arg[6])] if arg.startswith("betas") else kwargs[arg]
            assert f"got {value!r}" in message, message


@pytest.mark.parametrize("module", [np_optim, our_torch_optim], ids=["numpy", "torch"])
def test_passing_the_parameters_method_instead_of_calling_it(module):
    model = (cn.Linear if module is np_optim else ct.Linear)(2, 2)
    with pytest.raises(TypeError, match=r"SGD expected an iterable of parameters, got a method: call it, as in model.parameters\(\)"):
        module.SGD(model.parameters, lr=0.1)


@pytest.mark.parametrize("module", [np_optim, our_torch_optim], ids=["numpy", "torch"])
def test_betas_must_be_a_pair(module):
    params = [Parameter(np.zeros(2))] if module is np_optim else [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=r"Adam expected betas to be a pair \(beta1, beta2\), got 0.9"):
        module.Adam(params, betas=0.9)


def test_torch_tensors_in_a_numpy_optimizer_are_named_as_such():
    with pytest.raises(TypeError, match=r"SGD can only optimize cnnbook.numpy Parameters, got torch.nn.parameter.Parameter"):
        np_optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)


def test_bad_params_argument():
    with pytest.raises(ValueError, match="empty"):
        np_optim.SGD([], lr=0.1)
    p = Parameter(np.zeros(2))
    with pytest.raises(TypeError):
        np_optim.SGD(p, lr=0.1)  # a Parameter, not an iterable of them
    with pytest.raises(TypeError):
        np_optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="twice"):
        np_optim.SGD([p, p], lr=0.1)


# Settings that create every piece of state each optimizer has.
FULL_STATE = {
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "Adadelta": dict(lr=1.0, rho=0.9, weight_decay=0.01),
    "RMSprop": dict(lr=0.01, alpha=0.9, weight_decay=0.01, momentum=0.5, centered=True),
    "Adam": dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True),
}
STATE_ARRAYS = {
    "SGD": {"momentum_buffer"},
    "Adagrad": {"sum"},
    "Adadelta": {"square_avg", "acc_delta"},
    "RMSprop": {"square_avg", "momentum_buffer", "grad_avg"},
    "Adam": {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
}


def as_numpy_scalars(kwargs):
    """The same hyperparameters as NumPy float64 scalars, as a sweep over
    ``np.logspace`` or ``np.linspace`` hands them over."""
    def convert(v):
        if isinstance(v, bool):
            return v
        return tuple(np.float64(b) for b in v) if isinstance(v, tuple) else np.float64(v)

    return {k: convert(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("scalars", ["python", "numpy"])
@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_keep_float32_parameters_and_state(name, scalars):
    kwargs = FULL_STATE[name] if scalars == "python" else as_numpy_scalars(FULL_STATE[name])
    p = Parameter(np.ones((2, 3), dtype=np.float32))
    opt = getattr(np_optim, name)([p], **kwargs)
    t = torch.ones((2, 3), dtype=torch.float32, requires_grad=True)
    topt = getattr(our_torch_optim, name)([t], **kwargs)
    for _ in range(2):  # the second step takes the branches that update existing state
        p.grad += 0.5
        opt.step()
        t.grad = torch.full_like(t, 0.5)
        topt.step()
    assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    assert {k: v.dtype for k, v in opt.state[p].items() if k in STATE_ARRAYS[name]} == dict.fromkeys(
        STATE_ARRAYS[name], np.dtype(np.float32))
    assert t.dtype == torch.float32
    assert {k: v.dtype for k, v in topt.state[t].items() if k in STATE_ARRAYS[name]} == dict.fromkeys(
        STATE_ARRAYS[name], torch.float32)


# Settings that make each optimizer converge on the regression below. After 500 steps
# the loss ratio is below 1e-19 for all but Adadelta, which gets to ~3e-5 by step 200 and
# then bounces at ~5e-4: its step never shrinks below about √ε·g/RMS[g] (measured over
# 2000 steps, the plateau drops with ε, from ~2e-2 at ε=1e-4 to ~4e-5 at ε=1e-8, while
# the start slows down).
TRAIN = {"SGD": dict(lr=0.05, momentum=0.9), "Adagrad": dict(lr=0.1), "Adadelta": dict(),
         "RMSprop": dict(lr=0.003), "Adam": dict(lr=0.01)}


@pytest.mark.parametrize("name", NAMES)
def test_two_layer_linear_regression_converges(name):
    """y = x·W1ᵀ·W2ᵀ fitted to a noiseless linear map, full batch, hand-written backward."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 5))
    y = x @ rng.normal(size=(5, 2))
    w1 = Parameter(rng.normal(size=(4, 5)) * 0.5)  # torch's Linear(5, 4).weight layout
    w2 = Parameter(rng.normal(size=(2, 4)) * 0.5)  # Linear(4, 2)
    opt = getattr(np_optim, name)([w1, w2], **TRAIN[name])

    def loss_and_backward():
        h = x @ w1.data.T  # (64, 4)
        err = h @ w2.data.T - y  # (64, 2)
        dout = 2 * err / err.size  # d mean(err²)
        w2.grad += dout.T @ h
        w1.grad += (dout @ w2.data).T @ x
        return np.mean(err ** 2)

    first = loss_and_backward()
    opt.zero_grad()
    for _ in range(500):
        opt.zero_grad()
        last = loss_and_backward()
        opt.step()
    # W2·W1 can represent the target map exactly, so the loss can go to zero.
    assert last < 1e-2 * first, f"{name}: loss {first:.3g} -> {last:.3g}"
