"""The course's optimizers written from torch tensor operations.

Each class subclasses ``torch.optim.Optimizer`` and has the name, arguments, defaults and
update rule of its ``torch.optim`` namesake, so it traces the same path (in float64, to
rounding). Only the update itself is ours: the loop below uses plain tensor operations,
not ``torch.optim``'s functional helpers or its foreach/fused kernels. Parameter groups,
``zero_grad``, ``state_dict`` and ``load_state_dict`` come from ``torch.optim.Optimizer``.

State is created on a parameter's first ``step()`` and uses torch's key names; ``step``
is kept as a Python int. Options that only concern speed or special uses
(``foreach``, ``fused``, ``capturable``, ``differentiable``, ``maximize``) are left out.

The update rules are written out in the docstrings below; the NumPy twins in
``cnnbook.numpy.optim`` also say where torch's form differs from the paper's.
Symbols: θ parameter, γ ``lr``, λ ``weight_decay``, ε ``eps``, t the step count.
"""

import inspect
import math

import torch

__all__ = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam"]


def _check(optimizer, name, value, ok, expected):
    """Raise ``ValueError`` naming the expected range and the value that came."""
    if not ok:
        raise ValueError(f"{optimizer} expected {name} {expected}, got {value!r}")


def _grad_with_weight_decay(p, weight_decay):
    """``∇f(θ) + λ·θ`` as a new tensor; for λ = 0, ``p.grad`` itself, which is only read."""
    return p.grad.add(p, alpha=weight_decay) if weight_decay != 0 else p.grad


class _Optimizer(torch.optim.Optimizer):
    """``step()`` for all the optimizers below: closure, then ``_update`` per parameter."""

    def __init__(self, params, defaults):
        # The usual slip, model.parameters (or the model) for model.parameters(), would
        # otherwise fail inside torch with "'method' object is not iterable".
        if callable(params):
            name = type(self).__name__
            if inspect.ismethod(params) or inspect.isfunction(params):
                fix = f"got a {type(params).__name__}: call it, as in model.parameters()"
            else:
                fix = f"got a {type(params).__name__}: pass model.parameters()"
            raise TypeError(f"{name} expected an iterable of parameters, {fix}")
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()`` if given.

        ``closure`` recomputes the loss and the gradients; it runs, with gradients
        enabled, before the update.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:  # torch skips parameters that got no gradient
                    self._update(p, group)
        return loss

    def _update(self, p, group):
        raise NotImplementedError


class SGD(_Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    Update rule, with momentum μ and dampening τ::

        g ← ∇f(θ) + λ·θ
        if μ ≠ 0:
            b ← g                          on the first step
            b ← μ·b + (1 − τ)·g            on later steps
            g ← g + μ·b  if nesterov,  else  g ← b
        θ ← θ − γ·g

    ``cnnbook.numpy.optim.SGD`` explains how this buffer differs from Sutskever et al.'s
    velocity ``v ← μ·v − γ·∇f(θ); θ ← θ + v`` and from the look-ahead form of Nesterov.

    Args:
        params: iterable of tensors or of parameter-group dicts.
        lr: learning rate γ (default 1e-3, torch's default since torch 2.4).
        momentum: μ ≥ 0 (default 0).
        dampening: τ (default 0).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        nesterov: Nesterov momentum; needs μ > 0 and τ = 0 (default False).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        _check("SGD", "lr", lr, 0.0 <= lr, ">= 0")
        _check("SGD", "momentum", momentum, 0.0 <= momentum, ">= 0")
        _check("SGD", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "SGD expected momentum > 0 and dampening == 0 for nesterov=True, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _update(self, p, group):
        g = _grad_with_weight_decay(p, group["weight_decay"])
        mu = group["momentum"]
        if mu != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                # A copy: g may be p.grad itself, which backward keeps adding into.
                b = state["momentum_buffer"] = g.clone()
            else:
                b = state["momentum_buffer"]
                b.mul_(mu).add_(g, alpha=1 - group["dampening"])
            g = g.add(b, alpha=mu) if group["nesterov"] else b
        p.add_(g, alpha=-group["lr"])


class Adagrad(_Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    Update rule, with lr_decay η; the sum s starts at ``initial_accumulator_value``::

        g ← ∇f(θ) + λ·θ
        γₜ ← γ / (1 + (t − 1)·η)
        s ← s + g²
        θ ← θ − γₜ · g / (√s + ε)

    ``torch.optim.Adagrad`` fills its state in the constructor; this one, like the
    other optimizers here, on the first step. The numbers are the same.

    Args:
        params: iterable of tensors or of parameter-group dicts.
        lr: learning rate γ (default 1e-2).
        lr_decay: η ≥ 0 (default 0).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        initial_accumulator_value: starting value of s, ≥ 0 (default 0).
        eps: ε ≥ 0 (default 1e-10).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10):
        _check("Adagrad", "lr", lr, 0.0 <= lr, ">= 0")
        _check("Adagrad", "lr_decay", lr_decay, 0.0 <= lr_decay, ">= 0")
        _check("Adagrad", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        _check("Adagrad", "initial_accumulator_value", initial_accumulator_value,
               0.0 <= initial_accumulator_value, ">= 0")
        _check("Adagrad", "eps", eps, 0.0 <= eps, ">= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def _update(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        g = _grad_with_weight_decay(p, group["weight_decay"])
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s.addcmul_(g, g)
        p.addcdiv_(g, s.sqrt().add_(group["eps"]), value=-lr)


class Adadelta(_Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    Update rule, with decay rate ρ; both averages start at zero::

        g ← ∇f(θ) + λ·θ
        E[g²] ← ρ·E[g²] + (1 − ρ)·g²
        Δ ← √(E[Δ²] + ε) / √(E[g²] + ε) · g
        E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
        θ ← θ − γ·Δ

    Zeiler's original has no learning rate; γ = 1.0 (the default) is that method.

    Args:
        params: iterable of tensors or of parameter-group dicts.
        lr: γ, scales the step (default 1.0).
        rho: ρ in [0, 1] (default 0.9).
        eps: ε ≥ 0 (default 1e-6).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _check("Adadelta", "lr", lr, 0.0 <= lr, ">= 0")
        _check("Adadelta", "rho", rho, 0.0 <= rho <= 1.0, "in [0, 1]")
        _check("Adadelta", "eps", eps, 0.0 <= eps, ">= 0")
        _check("Adadelta", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)
            state["acc_delta"] = torch.zeros_like(p)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        sq, acc = state["square_avg"], state["acc_delta"]
        sq.mul_(rho).addcmul_(g, g, value=1 - rho)
        delta = acc.add(eps).sqrt_().div_(sq.add(eps).sqrt_()).mul_(g)
        acc.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-group["lr"])


class RMSprop(_Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    Update rule, with smoothing constant α; v, m and b start at zero::

        g ← ∇f(θ) + λ·θ
        v ← α·v + (1 − α)·g²
        if centered:  m ← α·m + (1 − α)·g;   v̂ ← v − m²     else  v̂ ← v
        if μ > 0:     b ← μ·b + g / (√v̂ + ε);   θ ← θ − γ·b
        else:         θ ← θ − γ·g / (√v̂ + ε)

    Args:
        params: iterable of tensors or of parameter-group dicts.
        lr: learning rate γ (default 1e-2).
        alpha: α ≥ 0 (default 0.99).
        eps: ε ≥ 0, added after the square root (default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        momentum: μ ≥ 0 (default 0).
        centered: normalize by the centered second moment (default False).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                 momentum=0, centered=False):
        _check("RMSprop", "lr", lr, 0.0 <= lr, ">= 0")
        _check("RMSprop", "alpha", alpha, 0.0 <= alpha, ">= 0")
        _check("RMSprop", "eps", eps, 0.0 <= eps, ">= 0")
        _check("RMSprop", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        _check("RMSprop", "momentum", momentum, 0.0 <= momentum, ">= 0")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _update(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        state["step"] += 1
        alpha, mu = group["alpha"], group["momentum"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if group["centered"]:
            m = state["grad_avg"]
            m.mul_(alpha).add_(g, alpha=1 - alpha)
            denom = v.addcmul(m, m, value=-1).sqrt_().add_(group["eps"])
        else:
            denom = v.sqrt().add_(group["eps"])
        if mu > 0:
            b = state["momentum_buffer"]
            b.mul_(mu).addcdiv_(g, denom)
            p.add_(b, alpha=-group["lr"])
        else:
            p.addcdiv_(g, denom, value=-group["lr"])


class Adam(_Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient, not AdamW's).

    Update rule; m and v start at zero::

        g ← ∇f(θ) + λ·θ
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        amsgrad:  v_max ← max(v_max, v), used in place of v below
        m̂ ← m / (1 − β₁ᵗ);   v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − γ · m̂ / (√v̂ + ε)

    ε is added to the bias-corrected √v̂ (the paper's Algorithm 1), not to √v as in
    TensorFlow's form; ``cnnbook.numpy.optim.Adam`` says how the two differ.

    Args:
        params: iterable of tensors or of parameter-group dicts.
        lr: learning rate γ (default 1e-3).
        betas: (β₁, β₂), each in [0, 1) (default (0.9, 0.999)).
        eps: ε ≥ 0 (default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        amsgrad: use the running maximum of v (default False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        _check("Adam", "lr", lr, 0.0 <= lr, ">= 0")
        if not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"Adam expected betas to be a pair (beta1, beta2), got {betas!r}")
        _check("Adam", "betas[0]", betas[0], 0.0 <= betas[0] < 1.0, "in [0, 1)")
        _check("Adam", "betas[1]", betas[1], 0.0 <= betas[1] < 1.0, "in [0, 1)")
        _check("Adam", "eps", eps, 0.0 <= eps, ">= 0")
        _check("Adam", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _update(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if group["amsgrad"]:
            v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # √v̂ + ε as √v / √(1 − β₂ᵗ) + ε, and 1/(1 − β₁ᵗ) folded into the step size.
        denom = v.sqrt().div_(math.sqrt(1 - beta2**t)).add_(group["eps"])
        p.addcdiv_(m, denom, value=-group["lr"] / (1 - beta1**t))
