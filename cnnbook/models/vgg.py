"""VGG (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions, declared by a list."""

from torch import nn

from cnnbook.models.common import check_input, check_width_div, min_input_size_of

# A number is a 3x3 convolution (padding 1) with that many output channels, followed by
# ReLU; "M" is a 2x2 max pool with stride 2. At 224 x 224 input the five pools leave the
# maps at N x 64 x 112 x 112, N x 128 x 56 x 56, N x 256 x 28 x 28, N x 512 x 14 x 14 and
# N x 512 x 7 x 7; with small_input a 28 x 28 input leaves them at 14, 7, 4, 2 and 1 pixels
# (32 x 32: 16, 8, 4, 2, 1). The keys are the number of weight layers (convolutions + 3 FC
# layers), the paper's configurations A, B, D and E.
VGG_CFGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [
        64, 64, "M",
        128, 128, "M",
        256, 256, 256, 256, "M",
        512, 512, 512, 512, "M",
        512, 512, 512, 512, "M",
    ],
}
# The hidden FC width at width_div=1, divided like the channels when hidden=None.
VGG_HIDDEN = 4096


class VGG(nn.Module):
    """A VGG network built from a configuration list such as ``VGG_CFGS[16]``.

    Every convolution is 3x3 with padding 1, so only the max pools shrink the maps. The
    classifier is three fully connected layers (``hidden``, ``hidden``, ``num_classes``)
    with ReLU and dropout, as in the paper and torchvision. With ``batch_norm=True`` a
    ``BatchNorm2d`` follows each convolution (torchvision's ``vgg*_bn``; the convolutions
    keep their bias, as there). At ImageNet settings VGG-11 has 132,863,336 parameters and
    VGG-16 138,357,544.

    Args:
        cfg: list of output channel counts and ``"M"`` (max pool), see ``VGG_CFGS``.
        batch_norm: add batch normalization after each convolution.
        num_classes: number of output logits.
        in_channels: channels of the input image.
        small_input: ``True`` for 28-32 pixel inputs: the max pools round up
            (``ceil_mode=True``) so five of them take 28 -> 14 -> 7 -> 4 -> 2 -> 1 and 32 ->
            16 -> 8 -> 4 -> 2 -> 1, and the classifier sees the 1x1 map (``C`` features)
            instead of the 7x7 map (``49 C`` features) pooled for ImageNet.
        width_div: a positive integer dividing every channel count (``c // width_div``,
            1 = the paper's widths): each convolution of ``cfg`` and, with
            ``hidden=None``, the two hidden FC layers (4096). Up to 64 for the paper's
            configurations; small variants for a CPU use 4 to 16.
        hidden: width of the two hidden fully connected layers; ``None`` means
            ``4096 // width_div``, a number is taken as it is.
        dropout: dropout probability after each hidden FC layer.

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(32, 32)`` for the
    paper's configurations (five pools), ``(1, 1)`` with ``small_input=True``.

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: K. Simonyan, A. Zisserman, "Very deep convolutional networks for
    large-scale image recognition", ICLR 2015 (arXiv:1409.1556).
    """

    def __init__(
        self,
        cfg,
        batch_norm=False,
        num_classes=1000,
        in_channels=3,
        small_input=False,
        width_div=1,
        hidden=None,
        dropout=0.5,
    ):
        super().__init__()
        unknown = [
            v for v in cfg
            if v != "M" and not (isinstance(v, int) and not isinstance(v, bool) and v > 0)
        ]
        if unknown:
            raise ValueError(
                f"VGG cfg entries must be positive channel counts or 'M', got {unknown}"
            )
        widths = {f"convolution {i + 1}": v for i, v in enumerate(v for v in cfg if v != "M")}
        if hidden is None:
            widths["hidden"] = VGG_HIDDEN
        self.width_div = width_div = check_width_div("VGG", width_div, widths)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input
        hidden = VGG_HIDDEN // width_div if hidden is None else hidden

        layers = []
        channels = in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=small_input))
                continue
            out_channels = v // width_div
            layers.append(nn.Conv2d(channels, out_channels, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
            channels = out_channels
        self.features = nn.Sequential(*layers)

        pooled = 1 if small_input else 7
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(
            nn.Linear(channels * pooled * pooled, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        self._init_weights()

    def _init_weights(self):
        # torchvision's initialization: He (fan-out) for convolutions, N(0, 0.01) for the
        # FC layers. Without batch norm, the default init trains the deep variants slowly.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: ``2**pools`` pixels, or 1 when the pools round up."""
        return min_input_size_of(self.features)

    def forward_features(self, x):
        """The convolution stack (see ``VGG_CFGS`` for the shape after each pool)."""
        check_input(self, x)
        return self.features(x)  # N x 512 x 7 x 7 (N x 512 x 1 x 1 small_input)

    def forward_head(self, x):
        """Pool to a fixed size, flatten, and the three fully connected layers."""
        x = self.flatten(self.avgpool(x))  # N x 25088 (N x 512 small_input)
        return self.classifier(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def _vgg(depth, batch_norm, num_classes, in_channels, kwargs):
    return VGG(
        VGG_CFGS[depth],
        batch_norm=batch_norm,
        num_classes=num_classes,
        in_channels=in_channels,
        **kwargs,
    )


def vgg11(num_classes=1000, in_channels=3, batch_norm=False, **kwargs):
    """VGG-11 (configuration A); other keyword arguments go to :class:`VGG`."""
    return _vgg(11, batch_norm, num_classes, in_channels, kwargs)


def vgg13(num_classes=1000, in_channels=3, batch_norm=False, **kwargs):
    """VGG-13 (configuration B); other keyword arguments go to :class:`VGG`."""
    return _vgg(13, batch_norm, num_classes, in_channels, kwargs)


def vgg16(num_classes=1000, in_channels=3, batch_norm=False, **kwargs):
    """VGG-16 (configuration D); other keyword arguments go to :class:`VGG`."""
    return _vgg(16, batch_norm, num_classes, in_channels, kwargs)


def vgg19(num_classes=1000, in_channels=3, batch_norm=False, **kwargs):
    """VGG-19 (configuration E); other keyword arguments go to :class:`VGG`."""
    return _vgg(19, batch_norm, num_classes, in_channels, kwargs)


def vgg11_bn(num_classes=1000, in_channels=3, **kwargs):
    """VGG-11 with batch normalization after each convolution."""
    return _vgg(11, True, num_classes, in_channels, kwargs)


def vgg13_bn(num_classes=1000, in_channels=3, **kwargs):
    """VGG-13 with batch normalization after each convolution."""
    return _vgg(13, True, num_classes, in_channels, kwargs)


def vgg16_bn(num_classes=1000, in_channels=3, **kwargs):
    """VGG-16 with batch normalization after each convolution."""
    return _vgg(16, True, num_classes, in_channels, kwargs)


def vgg19_bn(num_classes=1000, in_channels=3, **kwargs):
    """VGG-19 with batch normalization after each convolution."""
    return _vgg(19, True, num_classes, in_channels, kwargs)
