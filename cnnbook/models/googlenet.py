"""GoogLeNet / Inception v1 (Szegedy et al., 2014), with batch norm after each convolution."""

from collections import namedtuple

import torch
from torch import nn

from cnnbook.models.common import check_input, check_width_div, min_input_size_of

# The nine inception modules: name -> (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj),
# the columns of the paper's Table 1. A module's output has ch1x1 + ch3x3 + ch5x5 +
# pool_proj channels, and that is the next module's input.
INCEPTION_CFG = {
    "inception3a": (64, 96, 128, 16, 32, 32),  # 256 channels
    "inception3b": (128, 128, 192, 32, 96, 64),  # 480
    "inception4a": (192, 96, 208, 16, 48, 64),  # 512
    "inception4b": (160, 112, 224, 24, 64, 64),  # 512
    "inception4c": (128, 128, 256, 24, 64, 64),  # 512
    "inception4d": (112, 144, 288, 32, 64, 64),  # 528
    "inception4e": (256, 160, 320, 32, 128, 128),  # 832
    "inception5a": (256, 160, 320, 32, 128, 128),  # 832
    "inception5b": (384, 192, 384, 48, 128, 128),  # 1024
}
# The stem's two widths (conv1 and conv2, conv3) and the auxiliary heads' (1x1 conv, FC).
STEM_WIDTHS = (64, 192)
AUX_WIDTHS = (128, 1024)

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux1", "aux2"])
GoogLeNetOutputs.__doc__ = """What GoogLeNet returns in training mode with auxiliary classifiers.

``aux1`` is the classifier on inception4a's output, ``aux2`` the one on inception4d's.
"""


class BasicConv2d(nn.Module):
    """Convolution (no bias), batch norm, ReLU: every convolution of GoogLeNet.

    The bias is left out because the batch norm right after it subtracts the mean anyway.

    Shape: as ``nn.Conv2d`` with the same arguments.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """The inception module: 1x1, 3x3, 5x5 convolutions and a pool, side by side.

    The 3x3 and 5x5 branches start with a 1x1 convolution that reduces the channels
    (``ch3x3red``, ``ch5x5red``), and the pooling branch ends with one (``pool_proj``);
    these 1x1 "bottlenecks" are what keep the module affordable. The third branch uses a
    5x5 convolution as in the paper (torchvision's GoogLeNet uses 3x3 there).

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=5, padding=2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: 4x4 average pool, 1x1 conv, FC, dropout, FC (as torchvision).

    The paper pools 5x5 with stride 3, which gives the same 4x4 map from a 14x14 input;
    the adaptive pool also accepts the smaller maps of ``small_input``.

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, num_classes)``.
    """

    def __init__(self, in_channels, num_classes, width_div=1, dropout=0.7):
        super().__init__()
        conv_channels, hidden = (w // width_div for w in AUX_WIDTHS)
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = BasicConv2d(in_channels, conv_channels, kernel_size=1)
        self.flatten = nn.Flatten(1)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, hidden)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.conv(self.avgpool(x))  # N x 128 x 4 x 4
        x = self.relu(self.fc1(self.flatten(x)))  # N x 1024
        return self.fc2(self.dropout(x))  # N x num_classes


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1): a stem, nine inception modules, global average pooling.

    The layers, their widths and the map sizes are those of the paper's Table 1 (with
    ``small_input=False``), including the 5x5 convolution of the third inception branch,
    where torchvision's GoogLeNet has 3x3 (a known slip it keeps for its pretrained
    weights, pytorch/vision issue 906, which gives its model fewer parameters). The model
    departs from the paper where torchvision's does:

    - Batch norm follows every convolution (the paper predates batch norm), and the
      convolutions have no bias.
    - The two local response normalizations of the paper's stem (after the first max
      pool and after the 3x3 convolution) are left out.
    - The last max pool (``maxpool4``, between inception4e and inception5a) is 2x2 with
      stride 2 where Table 1 has 3x3 with stride 2 like the other three. Both take a
      14x14 map to 7x7 (every max pool rounds up, ``ceil_mode=True``).
    - The auxiliary classifiers pool to 4x4 adaptively instead of with a 5x5 stride-3
      average pool (the same 4x4 from the paper's 14x14 maps), see :class:`InceptionAux`.
    - The final 7x7 average pool is an adaptive one, so other input sizes work.

    At ImageNet settings the model has 7,005,832 parameters without the auxiliary
    classifiers and 13,385,816 with them.

    With ``aux_logits=True`` two auxiliary classifiers sit on inception4a and
    inception4d. In training mode ``forward`` then returns ``GoogLeNetOutputs(logits,
    aux1, aux2)`` (a named tuple; the paper adds the auxiliary losses with weight 0.3);
    in eval mode, and always when ``aux_logits=False``, it returns the logits alone.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input image.
        aux_logits: build the two auxiliary classifiers.
        small_input: ``True`` for 28-32 pixel inputs: the 7x7 stride-2 first convolution
            becomes 3x3 stride 1 and the two stem max pools are left out, so a 28x28
            image keeps 28x28 through the stem and inception3a-3b, is pooled to 14x14 for
            inception4a-4e and to 7x7 for inception5a-5b: the sizes a 224x224 image has
            there. (Without it, a 28x28 image would reach the inception modules at 4x4,
            2x2 and 1x1.)
        width_div: a positive integer dividing every channel count (``c // width_div``):
            the stem (64, 192), every column of ``INCEPTION_CFG`` and the auxiliary heads
            (128, 1024). Up to 16 (``ch5x5red`` is 16 in inception3a and 4a); small
            variants for a CPU use 4 to 16.
        dropout: dropout before the final FC layer (0.4 in the paper).
        aux_dropout: dropout inside the auxiliary classifiers (0.7 in the paper).

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(15, 15)``, or
    ``(2, 2)`` with ``small_input=True``.

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``, or three of them in training mode with
          ``aux_logits=True``.

    Reference: C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
    (arXiv:1409.4842).
    """

    def __init__(
        self,
        num_classes=1000,
        in_channels=3,
        aux_logits=True,
        small_input=False,
        width_div=1,
        dropout=0.4,
        aux_dropout=0.7,
    ):
        super().__init__()
        widths = {"conv1": STEM_WIDTHS[0], "conv3": STEM_WIDTHS[1]}
        columns = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
        for name, row in INCEPTION_CFG.items():
            widths.update({f"{name} {column}": w for column, w in zip(columns, row)})
        if aux_logits:
            widths.update({"aux conv": AUX_WIDTHS[0], "aux fc": AUX_WIDTHS[1]})
        self.width_div = width_div = check_width_div("GoogLeNet", width_div, widths)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.aux_logits = aux_logits
        self.small_input = small_input

        c1, c3 = (w // width_div for w in STEM_WIDTHS)
        if small_input:
            self.conv1 = BasicConv2d(in_channels, c1, kernel_size=3, stride=1, padding=1)
            self.maxpool1 = nn.Identity()
        else:
            self.conv1 = BasicConv2d(in_channels, c1, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(c1, c1, kernel_size=1)
        self.conv3 = BasicConv2d(c1, c3, kernel_size=3, padding=1)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        channels = c3
        tap_channels = {}
        for name, widths in INCEPTION_CFG.items():
            module = Inception(channels, *(w // width_div for w in widths))
            self.add_module(name, module)
            channels = module.out_channels
            tap_channels[name] = channels
        if aux_logits:
            aux_args = (num_classes, width_div, aux_dropout)
            self.aux1 = InceptionAux(tap_channels["inception4a"], *aux_args)
            self.aux2 = InceptionAux(tap_channels["inception4d"], *aux_args)
        else:
            self.aux1 = None
            self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        self._init_weights()

    def _init_weights(self):
        # torchvision's initialization: truncated normal, std 0.01, for conv and FC weights.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: what the stem and the four max pools leave at 1x1."""
        return min_input_size_of(
            self.conv1, self.maxpool1, self.maxpool2, self.maxpool3, self.maxpool4
        )

    def _features(self, x, with_aux):
        # Shapes are for a 224 x 224 input; with small_input a 28 x 28 input has the same
        # sizes from maxpool2 on (the stem keeps it at 28 x 28).
        check_input(self, x)
        x = self.maxpool1(self.conv1(x))  # N x 64 x 56 x 56 (small: 28 x 28)
        x = self.conv3(self.conv2(x))  # N x 192 x 56 x 56 (small: 28 x 28)
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14
        x = self.inception4a(x)  # N x 512 x 14 x 14
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        aux2 = self.aux2(x) if with_aux else None
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7
        x = self.inception5a(x)  # N x 832 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7
        return x, aux1, aux2

    def forward_features(self, x):
        """Stem and the nine inception modules, without the auxiliary classifiers."""
        return self._features(x, with_aux=False)[0]

    def forward_head(self, x):
        """Global average pooling, dropout and one FC layer."""
        x = self.flatten(self.avgpool(x))  # N x 1024
        return self.fc(self.dropout(x))  # N x num_classes

    def forward(self, x):
        with_aux = self.training and self.aux_logits
        x, aux1, aux2 = self._features(x, with_aux)
        logits = self.forward_head(x)
        if with_aux:
            return GoogLeNetOutputs(logits, aux1, aux2)
        return logits


def googlenet(num_classes=1000, in_channels=3, **kwargs):
    """GoogLeNet, with auxiliary classifiers by default; other keyword arguments go to
    :class:`GoogLeNet`."""
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels, **kwargs)
