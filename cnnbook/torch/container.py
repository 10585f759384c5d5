"""Sequential: a chain of layers, ``torch.nn.Sequential`` itself."""

from torch import nn


class Sequential(nn.Sequential):
    """Layers applied one after another, ``torch.nn.Sequential`` itself.

    Indexing, slicing, ``len``, ``append`` and named children (``Sequential(OrderedDict)``)
    all behave as in torch, so a model built from ``cnnbook.torch`` layers prints, saves
    and loads like a ``torch.nn`` one.

    Shape:
        - Input: whatever the first layer takes.
        - Output: whatever the last layer returns.
    """
