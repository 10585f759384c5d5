"""ResNet (He et al., 2015), and the same networks without shortcuts ("plain" networks)."""

from torch import nn

from cnnbook.models.common import check_input, check_width_div, min_input_size_of


def conv3x3(in_channels, out_channels, stride=1):
    """3x3 convolution with padding 1 and no bias (batch norm follows it)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels, out_channels, stride=1):
    """1x1 convolution without bias (batch norm follows it)."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class _ResidualBlock(nn.Module):
    """What the two blocks share: the shortcut, added after their main path is built."""

    def add_shortcut(self):
        """Make a plain block (``residual=False``) residual, in place.

        Where the identity cannot be added (the block changes the resolution or the
        channel count) this builds the projection ``downsample``: a 1x1 convolution with
        batch norm, the paper's option B. Building it after the main path means the block's
        other layers draw the same random numbers whether or not it has a shortcut.
        """
        self.residual = True
        if self.stride != 1 or self.in_channels != self.out_channels:
            self.downsample = nn.Sequential(
                conv1x1(self.in_channels, self.out_channels, self.stride),
                nn.BatchNorm2d(self.out_channels),
            )

    def _add_shortcut_to(self, out, x):
        if not self.residual:
            return out
        return out + (x if self.downsample is None else self.downsample(x))


class BasicBlock(_ResidualBlock):
    """Two 3x3 convolutions and a shortcut: ``relu(F(x) + x)``, ResNet-18/34's block.

    When the block changes the resolution or the channel count, the shortcut is a 1x1
    convolution with batch norm (``downsample``, the paper's option B). With
    ``residual=False`` the shortcut, and with it ``downsample``, is left out: the block is
    ``relu(F(x))``, a layer pair of the paper's plain network. The layers of ``F`` have
    the same names and shapes either way (see :meth:`add_shortcut`).

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, channels, H_out, W_out)``, ``H_out = ceil(H / stride)``.
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, residual=True):
        super().__init__()
        self.in_channels, self.stride = in_channels, stride
        self.out_channels = out_channels = channels * self.expansion
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU()
        self.residual, self.downsample = False, None
        if residual:
            self.add_shortcut()

    def main_path(self):
        """The convolutions of ``F``, in order (the shortcut runs beside them)."""
        return self.conv1, self.conv2

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(self._add_shortcut_to(out, x))


class Bottleneck(_ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand (4x) and a shortcut: ResNet-50/101/152's block.

    The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5"; the paper puts
    it on the first 1x1). Shortcut and ``residual=False`` as in :class:`BasicBlock`.

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, 4 * channels, H_out, W_out)``, ``H_out = ceil(H / stride)``.
    """

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, residual=True):
        super().__init__()
        self.in_channels, self.stride = in_channels, stride
        self.out_channels = out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu2 = nn.ReLU()
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu3 = nn.ReLU()
        self.residual, self.downsample = False, None
        if residual:
            self.add_shortcut()

    def main_path(self):
        """The convolutions of ``F``, in order (the shortcut runs beside them)."""
        return self.conv1, self.conv2, self.conv3

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu3(self._add_shortcut_to(out, x))


# The width of the stem and the first stage at width_div=1; stage i has 2**i times it.
RESNET_WIDTH = 64

# depth -> (block, number of blocks in each of the four stages), the paper's Table 1.
RESNET_CFGS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """ResNet: a stem, four stages of residual blocks, global average pooling, one FC layer.

    Stage ``i`` (0-based) has ``layers[i]`` blocks of width ``(64 // width_div) * 2**i``
    (times 4 at the output of a Bottleneck); every stage but the first halves the
    resolution in its first block. At ImageNet settings ResNet-18, -34 and -50 have
    11,689,512, 21,797,672 and 25,557,032 parameters.

    A plain net (``residual=False``) and its residual twin built from the same seed start
    from the same weights: their shared layers have the same names and shapes, and the
    shortcut projections are built (and initialized) after every other layer, so they do
    not shift the random numbers the other layers draw. Copying works too:
    ``residual.load_state_dict(plain.state_dict(), strict=False)`` copies every tensor
    but the projections' and reports only ``downsample`` tensors as missing.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: four block counts, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: number of output logits.
        in_channels: channels of the input image.
        width_div: a positive integer dividing every channel count: the stem and the first
            stage get ``64 // width_div`` channels, stage ``i`` ``2**i`` times that. Up to
            64; small variants for a CPU use 4 or 8 (16 or 8 channels in the first
            stage).
        small_input: ``True`` for 28-32 pixel inputs: the stem is a 3x3 stride-1
            convolution without the max pool (as the paper's CIFAR networks), so a 28x28
            image leaves the four stages at 28, 14, 7 and 4 pixels instead of being cut to
            7x7 by the stem.
        residual: ``False`` removes every shortcut (and the projection convolutions of the
            downsampling ones), giving the paper's plain network of the same depth.
        zero_init_residual: start the last batch norm of each block at zero, so that each
            residual block starts as the identity (Goyal et al., 2017).

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(1, 1)`` in both
    forms, since every stride-2 layer pads enough to leave even a 1x1 map at 1x1 (a
    224x224 image is still at 7x7 after the last stage).

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
    recognition", CVPR 2016 (arXiv:1512.03385).
    """

    def __init__(
        self,
        block,
        layers,
        num_classes=1000,
        in_channels=3,
        width_div=1,
        small_input=False,
        residual=True,
        zero_init_residual=False,
    ):
        super().__init__()
        if len(layers) != 4 or any(n < 1 for n in layers):
            raise ValueError(f"layers must be four positive block counts, got {tuple(layers)}")
        self.width_div = check_width_div("ResNet", width_div, {"the first stage": RESNET_WIDTH})
        width = RESNET_WIDTH // self.width_div
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input
        self.residual = residual

        if small_input:
            self.conv1 = conv3x3(in_channels, width)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()

        channels = width
        for i, num_blocks in enumerate(layers):
            stride = 1 if i == 0 else 2
            blocks = []
            for j in range(num_blocks):
                # Plain for now: the shortcuts are added after every other layer, below.
                blocks.append(block(channels, width * 2**i, stride if j == 0 else 1, False))
                channels = width * 2**i * block.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(channels, num_classes)
        self._init_weights(self.modules())
        # The shortcuts come last, built and initialized after every other layer, so
        # that a plain twin (residual=False) built from the same seed draws the same
        # random numbers for every layer the two nets share.
        if residual:
            for b in self.blocks():
                b.add_shortcut()
                if b.downsample is not None:
                    self._init_weights(b.downsample.modules())
        if zero_init_residual:
            for b in self.blocks():
                nn.init.zeros_(b.bn3.weight if isinstance(b, Bottleneck) else b.bn2.weight)

    def blocks(self):
        """The residual (or plain) blocks of the four stages, in order."""
        return [b for i in range(1, 5) for b in getattr(self, f"layer{i}")]

    @staticmethod
    def _init_weights(modules):
        # torchvision's initialization: He (fan-out) for convolutions.
        for m in modules:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: what the stem and the blocks' main paths leave at 1x1."""
        return min_input_size_of(
            self.conv1, self.maxpool, *(conv for b in self.blocks() for conv in b.main_path())
        )

    def forward_features(self, x):
        """Stem and the four stages. Shapes for 224 x 224 input at width_div=1 with
        Bottleneck blocks (e = 4; BasicBlock: e = 1), and for 28 x 28 with small_input."""
        check_input(self, x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # N x 64 x 56 x 56 (small: 28)
        x = self.layer1(x)  # N x 64e x 56 x 56 (small: 28 x 28)
        x = self.layer2(x)  # N x 128e x 28 x 28 (small: 14 x 14)
        x = self.layer3(x)  # N x 256e x 14 x 14 (small: 7 x 7)
        x = self.layer4(x)  # N x 512e x 7 x 7 (small: 4 x 4)
        return x

    def forward_head(self, x):
        """Global average pooling and one FC layer."""
        x = self.flatten(self.avgpool(x))  # N x 512e
        return self.fc(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def _resnet(depth, num_classes, in_channels, kwargs):
    block, layers = RESNET_CFGS[depth]
    return ResNet(block, layers, num_classes=num_classes, in_channels=in_channels, **kwargs)


def resnet18(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-18 (BasicBlock, 2-2-2-2); other keyword arguments go to :class:`ResNet`."""
    return _resnet(18, num_classes, in_channels, kwargs)


def resnet34(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-34 (BasicBlock, 3-4-6-3); other keyword arguments go to :class:`ResNet`."""
    return _resnet(34, num_classes, in_channels, kwargs)


def resnet50(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-50 (Bottleneck, 3-4-6-3); other keyword arguments go to :class:`ResNet`."""
    return _resnet(50, num_classes, in_channels, kwargs)


def resnet101(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-101 (Bottleneck, 3-4-23-3); other keyword arguments go to :class:`ResNet`."""
    return _resnet(101, num_classes, in_channels, kwargs)


def resnet152(num_classes=1000, in_channels=3, **kwargs):
    """ResNet-152 (Bottleneck, 3-8-36-3); other keyword arguments go to :class:`ResNet`."""
    return _resnet(152, num_classes, in_channels, kwargs)
