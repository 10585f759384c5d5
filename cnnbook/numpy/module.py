"""The base class of every NumPy layer: parameter registry, train/eval, zero_grad."""

from cnnbook.numpy.parameter import Parameter


class Module:
    """Base class for the NumPy layers, modelled on ``torch.nn.Module``.

    A subclass calls ``super().__init__()`` first, then assigns its ``Parameter`` s and
    sub-``Module`` s as attributes; assignment registers them (as torch does), so
    ``parameters()`` and ``named_parameters()`` find them without any bookkeeping in the
    subclass. A subclass implements ``forward(x)`` and ``backward(dout) -> dx``; its
    ``backward`` adds into the ``.grad`` of its parameters, as torch's gradients
    accumulate, and returns the gradient with respect to the forward input.

    Calling a module calls ``forward``. ``training`` (set by ``train()`` / ``eval()``)
    is a per-module flag, never a global one.
    """

    def __init__(self):
        # object.__setattr__ because our own __setattr__ needs these two to exist.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        self.training = True
        # What forward keeps for backward; None until the first forward.
        self._cache = None

    def __setattr__(self, name, value):
        parameters = self.__dict__.get("_parameters")
        if parameters is None:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        modules = self.__dict__["_modules"]
        parameters.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            parameters[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- forward / backward -------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _saved(self):
        """The forward cache, or a RuntimeError when there has been no forward."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): there is no "
                f"forward input to differentiate; call forward first"
            )
        return self._cache

    # -- the module tree -------------------------------------------------------------

    def named_children(self):
        yield from self._modules.items()

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix=""):
        """This module and all its descendants, with dotted names (torch's convention)."""
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """``(name, Parameter)`` pairs, e.g. ``('0.weight', p)``; each parameter once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    # -- modes and gradients ---------------------------------------------------------

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train expected mode to be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: dropout is the identity, batch norm uses running statistics."""
        return self.train(False)

    def zero_grad(self):
        """Set the gradient of every parameter to zeros."""
        for param in self.parameters():
            param.zero_grad()

    # -- printing --------------------------------------------------------------------

    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self._modules.items())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        lines.append(")")
        return "\n".join(lines)
