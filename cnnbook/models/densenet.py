"""DenseNet-BC (Huang et al., 2016): every layer sees the feature maps of all layers before it."""

import torch
from torch import nn

from cnnbook.models.common import check_input, check_width_div, is_count, min_input_size_of


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1 (to ``bn_size * growth_rate``), BN-ReLU-Conv3x3 (to ``growth_rate``).

    The normalization and activation come *before* each convolution: the pre-activation
    ordering of He et al. (2016, "Identity Mappings in Deep Residual Networks"), which the
    DenseNet paper adopts. The 1x1 "bottleneck" keeps the 3x3 convolution's cost fixed
    while the input keeps growing. Dropout (``drop_rate > 0``) follows the 3x3
    convolution; with ``drop_rate=0`` the layer has no dropout module (``dropout`` is
    ``None``).

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, growth_rate, H, W)``: only the new maps; the block concatenates.
    """

    def __init__(self, in_channels, growth_rate, bn_size=4, drop_rate=0.0):
        super().__init__()
        inner = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, inner, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(inner)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(inner, growth_rate, kernel_size=3, padding=1, bias=False)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else None

    def forward(self, x):
        x = self.conv1(self.relu1(self.norm1(x)))
        x = self.conv2(self.relu2(self.norm2(x)))
        return x if self.dropout is None else self.dropout(x)


class DenseBlock(nn.Module):
    """``num_layers`` dense layers; layer ``i`` reads the concatenation of the block input
    and the ``i`` outputs before it.

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, in_channels + num_layers * growth_rate, H, W)``.
    """

    def __init__(self, num_layers, in_channels, growth_rate, bn_size=4, drop_rate=0.0):
        super().__init__()
        self.out_channels = in_channels + num_layers * growth_rate
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)
            for i in range(num_layers)
        )

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 to ``out_channels`` (the compression), then 2x2 average pooling.

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, out_channels, floor(H / 2), floor(W / 2))``.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


# depth -> the arguments that make the paper's ImageNet DenseNet-BC of that depth.
DENSENET_CFGS = {
    121: dict(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64),
    169: dict(growth_rate=32, block_config=(6, 12, 32, 32), num_init_features=64),
    201: dict(growth_rate=32, block_config=(6, 12, 48, 32), num_init_features=64),
}


class DenseNet(nn.Module):
    """DenseNet-BC: a stem, four dense blocks joined by transitions, global pooling, FC.

    Dense block ``i`` has ``block_config[i]`` layers, each adding ``growth_rate //
    width_div`` maps; each transition multiplies the channel count by ``compression``
    (rounding down) and halves the resolution. At ImageNet settings DenseNet-121 has
    7,978,856 parameters.

    Args:
        growth_rate: maps each dense layer adds (``k`` in the paper) at width_div=1.
        block_config: four layer counts, e.g. ``(6, 12, 24, 16)`` for DenseNet-121.
        num_init_features: channels of the stem convolution at width_div=1.
        bn_size: the 1x1 bottleneck has ``bn_size * growth_rate`` channels.
        compression: fraction of the channels a transition keeps (``theta``; 0.5 in
            DenseNet-BC, 1 turns compression off).
        drop_rate: dropout after each dense layer.
        num_classes: number of output logits.
        in_channels: channels of the input image.
        small_input: ``True`` for 28-32 pixel inputs: the stem is a 3x3 stride-1
            convolution without the max pool, so a 28x28 image runs the four dense
            blocks at 28, 14, 7 and 3 pixels (32x32: 32, 16, 8, 4).
        width_div: a positive integer dividing every channel count (``c // width_div``):
            ``growth_rate`` and ``num_init_features``, and with them the bottlenecks
            (``bn_size`` times the growth rate) and the transitions, which follow from
            them. Up to 32 for the paper's configurations (``growth_rate=32``).

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(29, 29)``, or
    ``(8, 8)`` with ``small_input=True`` (the three transitions' 2x2 average pools).

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely connected
    convolutional networks", CVPR 2017 (arXiv:1608.06993).
    """

    def __init__(
        self,
        growth_rate=32,
        block_config=(6, 12, 24, 16),
        num_init_features=64,
        bn_size=4,
        compression=0.5,
        drop_rate=0.0,
        num_classes=1000,
        in_channels=3,
        small_input=False,
        width_div=1,
    ):
        super().__init__()
        if len(block_config) != 4 or any(n < 1 for n in block_config):
            raise ValueError(
                f"block_config must be four positive layer counts, got {tuple(block_config)}"
            )
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression}")
        widths = {"growth_rate": growth_rate, "num_init_features": num_init_features}
        bad = {name: w for name, w in widths.items() if not is_count(w)}
        if bad:
            raise ValueError(f"DenseNet expected positive integer widths, got {bad}")
        self.width_div = check_width_div("DenseNet", width_div, widths)
        growth_rate //= self.width_div
        num_init_features //= self.width_div
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input

        if small_input:
            self.conv0 = nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False)
            self.pool0 = nn.Identity()
        else:
            self.conv0 = nn.Conv2d(
                in_channels, num_init_features, 7, stride=2, padding=3, bias=False
            )
            self.pool0 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.norm0 = nn.BatchNorm2d(num_init_features)
        self.relu0 = nn.ReLU()

        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size, drop_rate)
            self.add_module(f"denseblock{i + 1}", block)
            channels = block.out_channels
            if i < len(block_config) - 1:
                out_channels = int(channels * compression)
                if out_channels < 1:
                    raise ValueError(
                        f"DenseNet: compression={compression} leaves transition {i + 1} "
                        f"no channels ({channels} in); expected at least one"
                    )
                self.add_module(f"transition{i + 1}", Transition(channels, out_channels))
                channels = out_channels
        # The last block's output is normalized once more: its maps were never normalized
        # together before they reach the classifier.
        self.norm5 = nn.BatchNorm2d(channels)
        self.relu5 = nn.ReLU()
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(channels, num_classes)
        self._init_weights()

    def _init_weights(self):
        # torchvision's initialization: He (fan-in) for convolutions, zero FC bias.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: what the stem and transitions leave at 1x1."""
        return min_input_size_of(
            self.conv0, self.pool0, self.transition1, self.transition2, self.transition3
        )

    def forward_features(self, x):
        """Stem, dense blocks and transitions, final BN-ReLU. Shapes: DenseNet-121 at 224
        (and the map sizes at 28 x 28 with small_input)."""
        check_input(self, x)
        x = self.pool0(self.relu0(self.norm0(self.conv0(x))))  # N x 64 x 56 x 56 (small: 28)
        x = self.denseblock1(x)  # N x 256 x 56 x 56 (small: 28 x 28)
        x = self.transition1(x)  # N x 128 x 28 x 28 (small: 14 x 14)
        x = self.denseblock2(x)  # N x 512 x 28 x 28
        x = self.transition2(x)  # N x 256 x 14 x 14 (small: 7 x 7)
        x = self.denseblock3(x)  # N x 1024 x 14 x 14
        x = self.transition3(x)  # N x 512 x 7 x 7 (small: 3 x 3)
        x = self.denseblock4(x)  # N x 1024 x 7 x 7
        return self.relu5(self.norm5(x))

    def forward_head(self, x):
        """Global average pooling and one FC layer."""
        x = self.flatten(self.avgpool(x))  # N x 1024
        return self.classifier(x)

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def _densenet(depth, num_classes, in_channels, kwargs):
    return DenseNet(
        **{**DENSENET_CFGS[depth], **kwargs}, num_classes=num_classes, in_channels=in_channels
    )


def densenet121(num_classes=1000, in_channels=3, **kwargs):
    """DenseNet-121 (k = 32, blocks 6-12-24-16); keyword arguments go to :class:`DenseNet`."""
    return _densenet(121, num_classes, in_channels, kwargs)


def densenet169(num_classes=1000, in_channels=3, **kwargs):
    """DenseNet-169 (k = 32, blocks 6-12-32-32); keyword arguments go to :class:`DenseNet`."""
    return _densenet(169, num_classes, in_channels, kwargs)


def densenet201(num_classes=1000, in_channels=3, **kwargs):
    """DenseNet-201 (k = 32, blocks 6-12-48-32); keyword arguments go to :class:`DenseNet`."""
    return _densenet(201, num_classes, in_channels, kwargs)
