"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), the single-tower form torchvision uses."""

from torch import nn

from cnnbook.models.common import check_input, check_width_div, min_input_size_of

# One row per convolution: (out_channels, kernel_size, stride, padding, max pool after).
# Output shapes are for a 224 x 224 input, and for 28 x 28 with small_input.
ALEXNET_CONVS = (
    (64, 11, 4, 2, True),  # N x 64 x 27 x 27 (55 x 55 before the pool); small: 13 (28)
    (192, 5, 1, 2, True),  # N x 192 x 13 x 13; small: 6 x 6 (13 before the pool)
    (384, 3, 1, 1, False),  # N x 384 x 13 x 13; small: 6 x 6
    (256, 3, 1, 1, False),  # N x 256 x 13 x 13; small: 6 x 6
    (256, 3, 1, 1, True),  # N x 256 x 6 x 6; small: 2 x 2 (6 before the pool)
)
# With small_input the first convolution is 3x3, stride 1, padding 1 instead.
SMALL_INPUT_STEM = (64, 3, 1, 1, True)
# The hidden FC width at width_div=1, divided like the channels when hidden=None.
ALEXNET_HIDDEN = 4096


class AlexNet(nn.Module):
    """AlexNet: five convolutions, three max pools, three fully connected layers.

    This is the single-tower variant torchvision uses (64, 192, 384, 256, 256 channels),
    not the paper's two-GPU split (96, 256, 384, 384, 256), and like torchvision it leaves
    out local response normalization. At ImageNet settings it has 61,100,840 parameters.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input image.
        small_input: ``True`` for 28-32 pixel inputs: the 11x11 stride-4 first convolution
            becomes a 3x3 stride-1 one and the feature maps are pooled to 2x2 (instead of
            6x6) before the classifier. A 28x28 image then reaches the last convolution
            at 6x6 and leaves the third max pool at 2x2.
        width_div: a positive integer dividing every channel count (``c // width_div``,
            1 = torchvision's widths): the five convolutions (64, 192, 384, 256, 256) and,
            with ``hidden=None``, the two hidden FC layers (4096). Up to 64; small
            variants for a CPU use 4 to 16.
        hidden: width of the two hidden fully connected layers; ``None`` means
            ``4096 // width_div``, a number is taken as it is.
        dropout: dropout probability before each of the two hidden FC layers (0 turns it
            off).
        activation: a callable returning the non-linearity module, ``nn.ReLU`` as in the
            paper; pass ``nn.Tanh`` to repeat the paper's ReLU vs tanh comparison.
        pool_kernel_size: 3 for the paper's overlapping 3x3 stride-2 pooling, 2 for
            non-overlapping pooling.

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(63, 63)``, or
    ``(15, 15)`` with ``small_input=True`` (with ``pool_kernel_size=3``).

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification with
    deep convolutional neural networks", NIPS 2012.
    """

    def __init__(
        self,
        num_classes=1000,
        in_channels=3,
        small_input=False,
        width_div=1,
        hidden=None,
        dropout=0.5,
        activation=nn.ReLU,
        pool_kernel_size=3,
    ):
        super().__init__()
        convs = list(ALEXNET_CONVS)
        if small_input:
            convs[0] = SMALL_INPUT_STEM
        widths = {f"conv{i + 1}": row[0] for i, row in enumerate(convs)}
        if hidden is None:
            widths["hidden"] = ALEXNET_HIDDEN
        self.width_div = width_div = check_width_div("AlexNet", width_div, widths)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input
        hidden = ALEXNET_HIDDEN // width_div if hidden is None else hidden

        layers = []
        channels = in_channels
        for out_channels, kernel_size, stride, padding, pool in convs:
            out_channels //= width_div
            layers.append(nn.Conv2d(channels, out_channels, kernel_size, stride, padding))
            layers.append(activation())
            if pool:
                layers.append(nn.MaxPool2d(kernel_size=pool_kernel_size, stride=2))
            channels = out_channels
        self.features = nn.Sequential(*layers)

        pooled = 2 if small_input else 6
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(channels * pooled * pooled, hidden),
            activation(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            activation(),
            nn.Linear(hidden, num_classes),
        )

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: what the convolutions and max pools leave at 1x1."""
        return min_input_size_of(self.features)

    def forward_features(self, x):
        """The five convolutions with their pools (see ``ALEXNET_CONVS`` for the shapes)."""
        check_input(self, x)
        return self.features(x)  # N x 256 x 6 x 6 (N x 256 x 2 x 2 small_input at 28)

    def forward_head(self, x):
        """Pool to a fixed size, flatten, and the three fully connected layers."""
        x = self.flatten(self.avgpool(x))  # N x 9216 (N x 1024 small_input)
        return self.classifier(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def alexnet(num_classes=1000, in_channels=3, **kwargs):
    """AlexNet (torchvision's single tower); other keyword arguments go to :class:`AlexNet`."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, **kwargs)
