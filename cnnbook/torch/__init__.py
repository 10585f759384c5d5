"""The course's layers and optimizers, built from torch tensor primitives.

Every layer is a ``torch.nn.Module`` with the constructor arguments, defaults,
parameter and buffer names of its ``torch.nn`` namesake (less the losses' deprecated
``size_average`` and ``reduce``, which ``reduction`` replaced), so weights copy across
with ``load_state_dict`` in both directions, but its forward pass is written out from tensor
primitives (``F.unfold`` and a matrix product for convolution, window views for
pooling, the formulas for batch norm, a Bernoulli mask for dropout) and autograd
supplies the backward pass. ``StochasticPool2d`` has no ``torch.nn`` namesake.
``ct.optim`` holds the optimizers, with ``torch.optim``'s names.
"""

from cnnbook.torch import optim
from cnnbook.torch.activation import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from cnnbook.torch.container import Sequential
from cnnbook.torch.conv import Conv2d
from cnnbook.torch.dropout import Dropout
from cnnbook.torch.flatten import Flatten
from cnnbook.torch.linear import Linear
from cnnbook.torch.loss import CrossEntropyLoss, MSELoss
from cnnbook.torch.normalization import BatchNorm1d, BatchNorm2d
from cnnbook.torch.pooling import AvgPool2d, MaxPool2d, StochasticPool2d

__all__ = [
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "StochasticPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Dropout",
    "Flatten",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Sigmoid",
    "Tanh",
    "Sequential",
    "CrossEntropyLoss",
    "MSELoss",
    "optim",
]
