"""The model families of the course, from LeNet to DPN.

Each family lives in its own module and is declared from a small configuration table
(``VGG_CFGS``, ``RESNET_CFGS``, ``INCEPTION_CFG``, ``DENSENET_CFGS``, ``DPN_CFGS``). Every
model has ``forward_features(x)`` and ``forward_head(x)`` with ``forward(x) ==
forward_head(forward_features(x))`` (GoogLeNet in training mode also returns its auxiliary
logits), and the same arguments for its size and its input:

- ``width_div``: a positive integer that divides every channel count of the model
  (``c // width_div``; 1, the default, gives the published widths and parameter counts).
  What it divides, family by family: LeNet-5's 6, 16, 120 maps and 84 F6 units;
  AlexNet's and VGG's convolutions and, with ``hidden=None``, their 4096-unit hidden
  layers; GoogLeNet's stem, inception table and auxiliary heads; ResNet's stem and stage
  widths (64 // width_div, doubled at each stage); DenseNet's growth rate and initial
  features; DPN's initial features, residual widths, increments, bottleneck widths and
  its group count (never below one group). A value that is not a positive integer, or
  one that would leave a layer without channels (or a grouped convolution with channels
  its groups do not divide), raises ``ValueError`` naming the largest one that works.
- ``small_input=True`` adapts the stem to 28-32 pixel inputs (MNIST, CIFAR), keeping the
  feature maps large enough to be worth convolving; each family's docstring gives the
  map sizes.
- ``min_input_size``: the smallest ``(H, W)`` the model takes, worked out from the
  kernels, strides, padding and rounding of its downsampling layers. A smaller image
  raises ``ValueError`` before anything runs (LeNet-5 takes exactly this size).

The factories (``lenet5``, ``alexnet``, ``vgg16``, ``resnet18``, ...) take
``num_classes`` and ``in_channels`` (defaults 1000 and 3; 10 and 1 for ``lenet5``) and
pass any other keyword argument to the family's class. ``list_models()`` names them all
and ``get_model(name, **kwargs)`` builds one by name. ``count_parameters``,
``count_macs`` and ``layer_table`` describe a built model.
"""

from cnnbook.models.alexnet import AlexNet, alexnet
from cnnbook.models.densenet import (
    DENSENET_CFGS,
    DenseBlock,
    DenseLayer,
    DenseNet,
    Transition,
    densenet121,
    densenet169,
    densenet201,
)
from cnnbook.models.dpn import DPN, DPN_CFGS, DualPathBlock, dpn68, dpn92, dpn98, dpn131
from cnnbook.models.googlenet import (
    INCEPTION_CFG,
    BasicConv2d,
    GoogLeNet,
    GoogLeNetOutputs,
    Inception,
    InceptionAux,
    googlenet,
)
from cnnbook.models.lenet import LeNet5, lenet5
from cnnbook.models.registry import get_model, list_models
from cnnbook.models.resnet import (
    RESNET_CFGS,
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from cnnbook.models.summary import (
    LayerRow,
    count_macs,
    count_parameters,
    format_layer_table,
    layer_table,
)
from cnnbook.models.vgg import (
    VGG,
    VGG_CFGS,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    # registry
    "list_models",
    "get_model",
    # summaries
    "LayerRow",
    "count_parameters",
    "count_macs",
    "layer_table",
    "format_layer_table",
    # LeNet
    "LeNet5",
    "lenet5",
    # AlexNet
    "AlexNet",
    "alexnet",
    # VGG
    "VGG",
    "VGG_CFGS",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg11_bn",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
    # GoogLeNet
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "BasicConv2d",
    "INCEPTION_CFG",
    "googlenet",
    # ResNet
    "ResNet",
    "BasicBlock",
    "Bottleneck",
    "RESNET_CFGS",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    # DenseNet
    "DenseNet",
    "DenseBlock",
    "DenseLayer",
    "Transition",
    "DENSENET_CFGS",
    "densenet121",
    "densenet169",
    "densenet201",
    # DPN
    "DPN",
    "DualPathBlock",
    "DPN_CFGS",
    "dpn68",
    "dpn92",
    "dpn98",
    "dpn131",
]
