"""Optimizers for NumPy ``Parameter``s, with ``torch.optim``'s names, defaults and rules.

Each optimizer reads ``p.grad`` and updates ``p.data`` in place, so layers that hold the
``Parameter`` see the new values. Per-parameter state (momentum buffers, running averages)
lives in ``optimizer.state[p]``, is created on the first ``step()``, and uses torch's key
names (``momentum_buffer``, ``sum``, ``square_avg``, ``acc_delta``, ``exp_avg`` ...), so a
test can compare it entry by entry with ``torch.optim``'s.

The optimizers come simplest first: SGD, Adagrad, Adadelta, RMSprop, Adam. Every update rule
starts the same way, with L2 weight decay folded into the gradient, ``g = grad + λ·θ``, as
``torch.optim`` does (Adam's decoupled form is ``torch.optim.AdamW``, not included here).

Math symbols in the docstrings: θ parameter, γ learning rate ``lr``, λ ``weight_decay``,
ε ``eps``, t the step count (1 on the first step); squares, square roots, products and
divisions of arrays are elementwise.
"""

import inspect
import math

import numpy as np

from cnnbook.numpy._utils import type_name
from cnnbook.numpy.parameter import Parameter

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam"]


def _check(optimizer, name, value, ok, expected):
    """Raise ``ValueError`` naming the expected range and the value that came."""
    if not ok:
        raise ValueError(f"{optimizer} expected {name} {expected}, got {value!r}")


def _check_params_argument(params, optimizer):
    """Reject the usual slip: ``model.parameters`` (or the model) instead of ``model.parameters()``."""
    if callable(params):
        if inspect.ismethod(params) or inspect.isfunction(params):
            fix = f"got a {type(params).__name__}: call it, as in model.parameters()"
        else:
            fix = f"got {type_name(params)}: pass model.parameters()"
        raise TypeError(f"{optimizer} expected an iterable of parameters, {fix}")


def _plain(value):
    """A NumPy scalar as the Python number it holds (a tuple such as betas item by item).

    Under NumPy 2's promotion rules ``np.float64(0.9) * state`` turns float32 state into
    float64, while a Python float keeps the array's dtype; hyperparameters swept with
    ``np.linspace`` or ``np.logspace`` are NumPy scalars.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    return value


def _grad_with_weight_decay(p, weight_decay):
    """``∇f(θ) + λ·θ`` as a new array; for λ = 0, ``p.grad`` itself, which is only read."""
    return p.grad + weight_decay * p.data if weight_decay != 0 else p.grad


class Optimizer:
    """Base class: parameter groups, lazily filled per-parameter state, ``zero_grad``.

    ``params`` is an iterable of ``Parameter``s, or of dicts (parameter groups) each with a
    ``"params"`` entry and any hyperparameters that override ``defaults`` for that group,
    as in ``torch.optim``::

        SGD([{"params": body}, {"params": head, "lr": 0.1}], lr=0.01, momentum=0.9)

    Subclasses implement ``_update(p, group)``, the update of one parameter.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        _check_params_argument(params, name)
        if isinstance(params, Parameter) or isinstance(params, (set, dict)):
            raise TypeError(
                f"{name} expected an ordered iterable of Parameters or of parameter-group "
                f"dicts, got {type(params).__name__}"
            )
        self.defaults = dict(defaults)
        # Keyed by the Parameter object itself (hashed by identity); an entry appears on
        # the parameter's first step(), never in the constructor.
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name} expected at least one parameter, got an empty list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters; hyperparameters it leaves out come from ``defaults``."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name} expected a parameter group dict, got {type(param_group).__name__}"
            )
        params = param_group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name} expected an ordered collection of Parameters, got a set")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{name} can only optimize cnnbook.numpy Parameters, got {type_name(p)}")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError(f"{name} expected each Parameter once, got a Parameter twice")
        # A new dict: the caller's dict is left as it was.
        group = {key: _plain(value) for key, value in {**self.defaults, **param_group}.items() if key != "params"}
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self):
        """Set every parameter's gradient to zeros (gradients accumulate, as in torch)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad()

    def step(self, closure=None):
        """Update every parameter from its ``grad``; return ``closure()`` if one is given.

        ``closure``, as in torch, recomputes the loss and the gradients; it runs before
        the update.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                self._update(p, group)
        return loss

    def _update(self, p, group):
        raise NotImplementedError

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum, like ``torch.optim.SGD``.

    Update rule, with momentum μ and dampening τ::

        g ← ∇f(θ) + λ·θ
        if μ ≠ 0:
            b ← g                          on the first step
            b ← μ·b + (1 − τ)·g            on later steps
            g ← g + μ·b  if nesterov,  else  g ← b
        θ ← θ − γ·g

    Torch's momentum differs from the textbook form of Sutskever et al. (2013), which
    keeps a velocity that already contains the learning rate::

        v ← μ·v − γ·∇f(θ);   θ ← θ + v

    With v = −γ·b the two trace the same path while γ is constant. When γ changes (a
    schedule), the velocity keeps the old step sizes in its history, whereas torch's
    buffer of gradients is multiplied by the new γ all at once. Torch also starts the
    buffer at b = g, so dampening does not shrink the first step.

    Nesterov momentum in Sutskever's form takes the gradient at the look-ahead point:
    v ← μ·v − γ·∇f(θ + μ·v); θ ← θ + v. Torch's ``g + μ·b`` is the same method written
    for the look-ahead point φ = θ + μ·v itself (Bengio et al., 2013, "Advances in
    optimizing recurrent networks"): with v = −γ·b and constant γ, torch's θ is
    Sutskever's φ, so the gradient is always taken at the parameters being stored.

    Args:
        params: iterable of ``Parameter``s or of parameter-group dicts.
        lr: learning rate γ (default 1e-3, torch's default since torch 2.4).
        momentum: momentum factor μ ≥ 0 (default 0: plain SGD).
        dampening: τ, scales the new gradient in the buffer by (1 − τ) (default 0).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        nesterov: use Nesterov momentum; needs μ > 0 and τ = 0 (default False).

    Reference: Sutskever, Martens, Dahl, Hinton, "On the importance of initialization
    and momentum in deep learning", ICML 2013.
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
            state = self.state.setdefault(p, {})
            if "momentum_buffer" not in state:
                b = g.copy()  # g may be p.grad itself, which backward keeps adding into
            else:
                b = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            state["momentum_buffer"] = b
            g = g + mu * b if group["nesterov"] else b
        p.data -= group["lr"] * g


class Adagrad(Optimizer):
    r"""Adagrad: a learning rate per weight, shrinking where gradients have been large.

    Update rule, with lr_decay η; the sum s starts at ``initial_accumulator_value``::

        g ← ∇f(θ) + λ·θ
        γₜ ← γ / (1 + (t − 1)·η)
        s ← s + g²
        θ ← θ − γₜ · g / (√s + ε)

    ε is added after the square root (as in the paper's diag(G)^½ + δ).

    Args:
        params: iterable of ``Parameter``s or of parameter-group dicts.
        lr: learning rate γ (default 1e-2).
        lr_decay: η ≥ 0 (default 0).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        initial_accumulator_value: starting value of s, ≥ 0 (default 0).
        eps: ε ≥ 0 (default 1e-10).

    Reference: Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization", JMLR 2011.
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
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        g = _grad_with_weight_decay(p, group["weight_decay"])
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"] = state["sum"] + g * g
        p.data -= lr * (g / (np.sqrt(s) + group["eps"]))


class Adadelta(Optimizer):
    r"""Adadelta: decaying averages of squared gradients and of squared steps.

    Update rule, with decay rate ρ; both averages start at zero::

        g ← ∇f(θ) + λ·θ
        E[g²] ← ρ·E[g²] + (1 − ρ)·g²
        Δ ← √(E[Δ²] + ε) / √(E[g²] + ε) · g
        E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²
        θ ← θ − γ·Δ

    ε sits inside both square roots. Zeiler's method has no learning rate: the ratio of
    the two root-mean-squares gives the step its units. ``lr`` is torch's addition; its
    default 1.0 is the original method. With γ ≠ 1 the average E[Δ²] still collects the
    unscaled Δ, not the step γ·Δ actually taken.

    Args:
        params: iterable of ``Parameter``s or of parameter-group dicts.
        lr: γ, scales the step (default 1.0).
        rho: ρ in [0, 1] (default 0.9).
        eps: ε ≥ 0 (default 1e-6).
        weight_decay: L2 penalty λ ≥ 0 (default 0).

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _check("Adadelta", "lr", lr, 0.0 <= lr, ">= 0")
        _check("Adadelta", "rho", rho, 0.0 <= rho <= 1.0, "in [0, 1]")
        _check("Adadelta", "eps", eps, 0.0 <= eps, ">= 0")
        _check("Adadelta", "weight_decay", weight_decay, 0.0 <= weight_decay, ">= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, group):
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            state["acc_delta"] = np.zeros_like(p.data)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        sq = state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(sq + eps) * g
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        p.data -= group["lr"] * delta


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a decaying root-mean-square of past gradients.

    Update rule, with smoothing constant α; v, m and b start at zero::

        g ← ∇f(θ) + λ·θ
        v ← α·v + (1 − α)·g²
        if centered:  m ← α·m + (1 − α)·g;   v̂ ← v − m²     else  v̂ ← v
        if μ > 0:     b ← μ·b + g / (√v̂ + ε);   θ ← θ − γ·b
        else:         θ ← θ − γ·g / (√v̂ + ε)

    ε is added after the square root (TensorFlow's RMSprop puts it inside, √(v̂ + ε)).
    The centered variant, from Graves (2013), divides by an estimate of the gradient's
    standard deviation instead of its root-mean-square.

    Args:
        params: iterable of ``Parameter``s or of parameter-group dicts.
        lr: learning rate γ (default 1e-2).
        alpha: α ≥ 0 (default 0.99; Hinton's lecture uses 0.9).
        eps: ε ≥ 0 (default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        momentum: μ ≥ 0 (default 0).
        centered: normalize by the centered second moment (default False).

    References: Hinton, Srivastava, Swersky, "Neural Networks for Machine Learning",
    lecture 6e, 2012; Graves, "Generating Sequences With Recurrent Neural Networks",
    arXiv:1308.0850, 2013.
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
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        alpha, mu = group["alpha"], group["momentum"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
        if group["centered"]:
            m = state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
            v = v - m * m
        denom = np.sqrt(v) + group["eps"]
        if mu > 0:
            b = state["momentum_buffer"] = mu * state["momentum_buffer"] + g / denom
            p.data -= group["lr"] * b
        else:
            p.data -= group["lr"] * (g / denom)


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSprop's scaling, and bias correction.

    Update rule; m and v start at zero::

        g ← ∇f(θ) + λ·θ
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        amsgrad:  v_max ← max(v_max, v), used in place of v below
        m̂ ← m / (1 − β₁ᵗ);   v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − γ · m̂ / (√v̂ + ε)

    The bias correction undoes the pull towards the zero start: early on m and v
    average only t gradients, with weights that sum to 1 − βᵗ.

    ε is added to the bias-corrected √v̂, as in the paper's Algorithm 1. The paper's
    "more efficient" ordering (end of its Section 2), used by TensorFlow/Keras, folds both
    corrections into the step size, γₜ = γ·√(1 − β₂ᵗ)/(1 − β₁ᵗ), and adds ε̂ to the
    uncorrected √v. The two agree only for ε̂ = ε·√(1 − β₂ᵗ): the same ``eps`` number
    damps the early steps more in that form.

    Weight decay here is the L2 term added to the gradient, so it is scaled by 1/√v̂
    like the gradient; Loshchilov and Hutter's decoupled decay is ``torch.optim.AdamW``.

    Args:
        params: iterable of ``Parameter``s or of parameter-group dicts.
        lr: learning rate γ (default 1e-3).
        betas: (β₁, β₂), each in [0, 1) (default (0.9, 0.999)).
        eps: ε ≥ 0 (default 1e-8).
        weight_decay: L2 penalty λ ≥ 0 (default 0).
        amsgrad: use the running maximum of v (Reddi et al., 2018) (default False).

    References: Kingma, Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015;
    Reddi, Kale, Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.
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
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        g = _grad_with_weight_decay(p, group["weight_decay"])
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
        # √v̂ + ε computed as √v / √(1 − β₂ᵗ) + ε, and m̂ folded into the step size: the
        # same numbers as m̂ / (√v̂ + ε), in torch's order of operations.
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        p.data -= group["lr"] / (1 - beta1**t) * (m / denom)
