"""LeNet-5 (LeCun et al., 1998), in today's common form and in the 1998 form."""

from torch import nn

from cnnbook.models.common import check_input, check_width_div

# The widths at width_div=1: C1, C3 and C5 maps, F6 units (the paper's 84).
LENET_WIDTHS = {"C1": 6, "C3": 16, "C5": 120, "F6": 84}


class LeNet5(nn.Module):
    """LeNet-5: three 5x5 convolutions, two subsampling layers, two fully connected layers.

    The layers keep the paper's names: C1 (``conv1``), S2 (``pool1``), C3 (``conv2``),
    S4 (``pool2``), C5 (``conv3``), F6 (``fc1``) and the output layer (``fc2``).

    ``classic=False`` (the default) is the form most courses and libraries use today:
    ReLU and 2x2 max pooling. ``classic=True`` is the 1998 form: tanh and 2x2 average
    subsampling. Both connect every S2 map to every C3 map (the paper connects each C3
    map to only 3 to 6 of the S2 maps) and end in a linear layer instead of the paper's
    RBF units; the paper's subsampling layers also had a trainable coefficient and bias
    per map, which these forms leave out. With these choices the model has 61,706
    parameters for 10 classes and one input channel, in both forms.

    Args:
        num_classes: number of output logits.
        in_channels: channels of the input image.
        classic: ``True`` for tanh and average subsampling, ``False`` for ReLU and max
            pooling.
        small_input: ``True`` for 28x28 input (MNIST as it comes): C1 pads its input
            with 2 pixels on each side, so a 28x28 image gives the same 28x28 C1 maps
            that a 32x32 image gives without padding. The parameter count is unchanged.
        width_div: a positive integer dividing every width (``c // width_div``): the C1,
            C3 and C5 maps (6, 16, 120) and F6's 84 units. Up to 6.

    ``min_input_size`` is the one size the model takes, ``(32, 32)`` or ``(28, 28)``.

    Shape:
        - Input: ``(N, in_channels, 32, 32)``, or ``(N, in_channels, 28, 28)`` with
          ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
    applied to document recognition", Proc. IEEE, 1998.
    """

    def __init__(
        self, num_classes=10, in_channels=1, classic=False, small_input=False, width_div=1
    ):
        super().__init__()
        self.width_div = check_width_div("LeNet5", width_div, LENET_WIDTHS)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.classic = classic
        self.small_input = small_input
        activation = nn.Tanh if classic else nn.ReLU
        pool = nn.AvgPool2d if classic else nn.MaxPool2d
        c1, c3, c5, f6 = (w // self.width_div for w in LENET_WIDTHS.values())

        self.conv1 = nn.Conv2d(in_channels, c1, kernel_size=5, padding=2 if small_input else 0)
        self.act1 = activation()
        self.pool1 = pool(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(c1, c3, kernel_size=5)
        self.act2 = activation()
        self.pool2 = pool(kernel_size=2, stride=2)
        # C5 is a convolution whose 5x5 kernel covers the whole 5x5 S4 map, so it acts
        # as a fully connected layer here, as in the paper.
        self.conv3 = nn.Conv2d(c3, c5, kernel_size=5)
        self.act3 = activation()
        self.flatten = nn.Flatten(1)
        self.fc1 = nn.Linear(c5, f6)
        self.act4 = activation()
        self.fc2 = nn.Linear(f6, num_classes)

    @property
    def min_input_size(self):
        """The one ``(H, W)`` the model takes: C5 must cover the whole S4 map."""
        return (28, 28) if self.small_input else (32, 32)

    def forward_features(self, x):
        """The convolution and subsampling layers, C1 to C5 (the same sizes for 32 x 32
        input, and 28 x 28 with ``small_input``)."""
        check_input(self, x, size=self.min_input_size)
        x = self.pool1(self.act1(self.conv1(x)))  # N x 6 x 14 x 14 (C1 28 x 28)
        x = self.pool2(self.act2(self.conv2(x)))  # N x 16 x 5 x 5 (C3 10 x 10)
        x = self.act3(self.conv3(x))  # N x 120 x 1 x 1
        return x

    def forward_head(self, x):
        """F6 and the output layer, from C5's ``(N, 120, 1, 1)`` maps to logits."""
        x = self.flatten(x)  # N x 120
        x = self.act4(self.fc1(x))  # N x 84
        return self.fc2(x)  # N x num_classes

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def lenet5(num_classes=10, in_channels=1, **kwargs):
    """LeNet-5 in today's form (ReLU, max pooling); ``classic=True`` gives the 1998 form.

    Other keyword arguments go to :class:`LeNet5`.
    """
    return LeNet5(num_classes=num_classes, in_channels=in_channels, **kwargs)
