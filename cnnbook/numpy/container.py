"""Sequential: a chain of layers with one forward and one backward."""

from cnnbook.numpy._utils import is_int, type_name
from cnnbook.numpy.module import Module


class Sequential(Module):
    """Layers applied in order, like ``torch.nn.Sequential``.

    ``forward`` runs the layers first to last; ``backward`` runs their backward passes
    last to first, each taking the gradient the next layer returned (the chain rule).
    Indexing gives a layer (``seq[0]``) or a new Sequential sharing the layers
    (``seq[1:]``); ``len`` and iteration work as for a list. Parameter names are
    ``'<index>.<name>'``, as in torch, so weights copy across by name. Each layer keeps
    its own dtype (float64 unless it was built with another ``dtype``).
    """

    def __init__(self, *layers):
        super().__init__()
        for layer in layers:
            self.append(layer)

    def append(self, layer):
        """Add ``layer`` at the end; returns self."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential expected cnnbook.numpy Modules, got {type_name(layer)}")
        setattr(self, str(len(self._modules)), layer)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        if not is_int(index):
            raise TypeError(f"Sequential indices must be integers or slices, got {type(index).__name__}")
        if not -len(layers) <= index < len(layers):
            raise IndexError(f"index {index} is out of range for a Sequential of {len(layers)} layers")
        return layers[index]

    def forward(self, x):
        for layer in self:
            x = layer(x)
        return x

    def backward(self, dout):
        for layer in reversed(list(self)):
            dout = layer.backward(dout)
        return dout
