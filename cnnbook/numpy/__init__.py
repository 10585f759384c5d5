"""NumPy reference layers with hand-written forward and backward passes.

``import cnnbook.numpy as cn`` gives the layers (``cn.Conv2d``, ``cn.ReLU`` ...) with
``torch.nn``'s names, constructor arguments and parameter shapes, the losses, L1/L2
penalties, gradient checking, ``cn.functional`` (stateless functions such as
``im2col`` and ``conv2d_loop``), ``cn.init`` (torch.nn.init's initializers) and
``cn.optim`` (torch.optim's optimizers), reachable after the one import as
``torch.optim`` is after ``import torch``.
``cn.manual_seed(seed)`` reseeds the generator that initialization, dropout and
stochastic pooling draw from by default.
"""

from cnnbook.numpy import functional, init, optim
from cnnbook.numpy._random import default_generator, manual_seed
from cnnbook.numpy.activation import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from cnnbook.numpy.container import Sequential
from cnnbook.numpy.conv import Conv2d
from cnnbook.numpy.dropout import Dropout
from cnnbook.numpy.flatten import Flatten
from cnnbook.numpy.gradcheck import gradcheck, gradient_errors, numerical_gradient, relative_error
from cnnbook.numpy.linear import Linear
from cnnbook.numpy.loss import CrossEntropyLoss, MSELoss
from cnnbook.numpy.module import Module
from cnnbook.numpy.normalization import BatchNorm1d, BatchNorm2d
from cnnbook.numpy.parameter import Parameter
from cnnbook.numpy.pooling import AvgPool2d, MaxPool2d, StochasticPool2d
from cnnbook.numpy.regularization import l1_penalty, l2_penalty

__all__ = [
    "Parameter",
    "Module",
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
    "l1_penalty",
    "l2_penalty",
    "numerical_gradient",
    "gradcheck",
    "gradient_errors",
    "relative_error",
    "manual_seed",
    "default_generator",
    "functional",
    "init",
    "optim",
]
