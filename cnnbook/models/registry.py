"""The model factories by name: ``list_models()`` and ``get_model(name, **kwargs)``."""

from cnnbook.models.alexnet import alexnet
from cnnbook.models.densenet import densenet121, densenet169, densenet201
from cnnbook.models.dpn import dpn68, dpn92, dpn98, dpn131
from cnnbook.models.googlenet import googlenet
from cnnbook.models.lenet import lenet5
from cnnbook.models.resnet import resnet18, resnet34, resnet50, resnet101, resnet152
from cnnbook.models.vgg import (
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

# In the order of the course, LeNet (1998) to DPN (2017).
_FACTORIES = {
    f.__name__: f
    for f in (
        lenet5,
        alexnet,
        vgg11, vgg13, vgg16, vgg19,
        vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn,
        googlenet,
        resnet18, resnet34, resnet50, resnet101, resnet152,
        densenet121, densenet169, densenet201,
        dpn68, dpn92, dpn98, dpn131,
    )
}


def list_models():
    """Names of all registered models, in the order of the course (LeNet to DPN)."""
    return list(_FACTORIES)


def get_model(name, **kwargs):
    """Build the model registered as ``name``; keyword arguments go to its factory.

    For example ``get_model("resnet18", num_classes=10, in_channels=1, small_input=True,
    width_div=4)`` is a narrow ResNet-18 for MNIST (16 channels in its first stage). An
    unknown name raises ``ValueError``.
    """
    try:
        factory = _FACTORIES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown model {name!r}; expected one of: {', '.join(_FACTORIES)}"
        ) from None
    return factory(**kwargs)
