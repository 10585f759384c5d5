"""Dual Path Networks (Chen et al., 2017): a residual path and a dense path side by side."""

import torch
from torch import nn

from cnnbook.models.common import check_input, check_width_div, is_count, min_input_size_of


class BnActConv2d(nn.Sequential):
    """BN-ReLU-Conv (pre-activation), the unit DPN builds everything from.

    Shape: as ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
    groups=groups)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels, eps=0.001)
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, kernel_size // 2,
            groups=groups, bias=False,
        )


class DualPathBlock(nn.Module):
    """The dual-path micro-block: 1x1, grouped 3x3, 1x1, whose output is split in two.

    The block carries one tensor whose first ``res_channels`` channels are the residual
    path and the rest the dense path. The bottleneck's output is split the same way: its
    first ``res_channels`` channels are *added* to the residual path (as in ResNeXt) and
    its last ``inc`` channels are *concatenated* to the dense path (as in DenseNet). So
    the residual path keeps its width, re-using features, while the dense path grows by
    ``inc`` channels per block, exploring new ones.

    The first block of a stage (``project=True``) turns its input into fresh paths with a
    BN-ReLU-1x1 convolution (stride ``stride``) to ``res_channels + 2 * inc`` channels.
    With ``b=True`` (DPN-68b) the last 1x1 convolution is two convolutions, one per path,
    after a shared BN-ReLU; the parameter count is the same.

    With ``inc=0`` the block has no dense path: it adds its bottleneck's output to the
    residual path and concatenates nothing (a pre-activation ResNeXt block).

    Shape:
        - Input: ``(N, in_channels, H, W)``.
        - Output: ``(N, res_channels + D + inc, H_out, W_out)`` where ``D`` is the input's
          dense channels (``in_channels - res_channels``, or ``2 * inc`` after a
          projection) and ``H_out = ceil(H / stride)``.
    """

    def __init__(
        self, in_channels, mid_channels, res_channels, inc, groups, stride=1, project=False,
        b=False,
    ):
        super().__init__()
        if not project and stride != 1:
            raise ValueError(f"a block with stride {stride} must project its input (project=True)")
        if not project and in_channels < res_channels:
            raise ValueError(
                f"a block without projection needs at least res_channels={res_channels} "
                f"input channels (residual + dense), got {in_channels}"
            )
        if inc < 0:
            raise ValueError(f"inc must be at least 0 (0: no dense path), got {inc}")
        self.res_channels = res_channels
        self.inc = inc
        self.c1x1_w = (
            BnActConv2d(in_channels, res_channels + 2 * inc, 1, stride=stride) if project else None
        )
        self.c1x1_a = BnActConv2d(in_channels, mid_channels, 1)
        self.c3x3_b = BnActConv2d(mid_channels, mid_channels, 3, stride=stride, groups=groups)
        if b:
            self.c1x1_c = nn.Sequential(nn.BatchNorm2d(mid_channels, eps=0.001), nn.ReLU())
            self.c1x1_c1 = nn.Conv2d(mid_channels, res_channels, 1, bias=False)
            self.c1x1_c2 = nn.Conv2d(mid_channels, inc, 1, bias=False) if inc else None
        else:
            self.c1x1_c = BnActConv2d(mid_channels, res_channels + inc, 1)
            self.c1x1_c1 = None
            self.c1x1_c2 = None

    def main_path(self):
        """The bottleneck's three units, in order (the projection runs beside them)."""
        return self.c1x1_a, self.c3x3_b, self.c1x1_c

    def forward(self, x):
        paths = x if self.c1x1_w is None else self.c1x1_w(x)
        residual, dense = paths[:, : self.res_channels], paths[:, self.res_channels :]
        y = self.c1x1_c(self.c3x3_b(self.c1x1_a(x)))
        if self.c1x1_c1 is None:
            new_residual, new_dense = y[:, : self.res_channels], y[:, self.res_channels :]
        else:
            new_residual = self.c1x1_c1(y)
            new_dense = y[:, :0] if self.c1x1_c2 is None else self.c1x1_c2(y)
        if dense.shape[1] == 0 and new_dense.shape[1] == 0:  # no dense path (inc=0)
            return residual + new_residual
        return torch.cat([residual + new_residual, dense, new_dense], dim=1)


# depth -> the arguments of the paper's ImageNet DPN of that depth (timm's dpn68 ... dpn131).
DPN_CFGS = {
    68: dict(
        num_init_features=10, k_r=128, groups=32, k_sec=(3, 4, 12, 3), inc_sec=(16, 32, 32, 64),
        widths=(64, 128, 256, 512), stem_kernel_size=3,
    ),
    92: dict(
        num_init_features=64, k_r=96, groups=32, k_sec=(3, 4, 20, 3), inc_sec=(16, 32, 24, 128)
    ),
    98: dict(
        num_init_features=96, k_r=160, groups=40, k_sec=(3, 6, 20, 3), inc_sec=(16, 32, 32, 128)
    ),
    131: dict(
        num_init_features=128, k_r=160, groups=40, k_sec=(4, 8, 28, 3), inc_sec=(16, 32, 32, 128)
    ),
}


class DPN(nn.Module):
    """Dual Path Network: a stem, four stages of dual-path blocks, global pooling, FC.

    Stage ``i`` (0-based) has ``k_sec[i]`` blocks whose residual path is ``widths[i]``
    channels wide, whose dense path grows by ``inc_sec[i]`` per block, and whose
    bottleneck has ``k_r * 2**i`` channels in ``groups`` groups (all divided by
    ``width_div``, see below). Every stage but the first halves the resolution in its
    first block. At ImageNet settings DPN-68, -92, -98 and -131 have 12,611,602,
    37,668,392, 61,570,728 and 79,254,504 parameters (the counts of timm and imgclsmob;
    timm's classifier is a 1x1 convolution, here an ``nn.Linear`` with the same
    parameters).

    ``inc_sec=(0, 0, 0, 0)`` switches the dense path off: every block then only adds to
    its residual path (a pre-activation ResNeXt with DPN's widths), and the features have
    ``widths[3]`` channels. A stage with ``inc_sec[i] = 0`` has no dense path, whatever
    the others have, since each stage starts its paths afresh.

    Args:
        num_init_features: channels of the stem convolution.
        k_r: bottleneck channels of the first stage (doubled at each later stage).
        groups: groups of the 3x3 convolution; ``k_r`` must be a multiple of it.
        k_sec: four block counts.
        inc_sec: four dense-path increments per block; 0 turns a stage's dense path off.
        widths: residual-path channels of the four stages; ``(64, 128, 256, 512)`` for
            DPN-68, ``(256, 512, 1024, 2048)`` for the larger models.
        stem_kernel_size: the stem convolution's kernel (3 for DPN-68, 7 otherwise); it
            has stride 2 and is followed by a 3x3 stride-2 max pool.
        b: DPN-68b's split last convolution (see :class:`DualPathBlock`); ``False`` in
            timm's dpn68, dpn92, dpn98 and dpn131.
        drop_rate: dropout before the classifier.
        num_classes: number of output logits.
        in_channels: channels of the input image.
        small_input: ``True`` for 28-32 pixel inputs: the stem is a 3x3 stride-1
            convolution without the max pool, so a 28x28 image runs the four stages at 28,
            14, 7 and 4 pixels (32x32: 32, 16, 8, 4).
        width_div: a positive integer dividing every channel count (``c // width_div``):
            ``num_init_features``, ``k_r``, ``widths`` and ``inc_sec``. It divides
            ``groups`` too (``max(1, groups // width_div)``), so the channels per group
            (``k_r // groups``) stay the same when ``width_div`` divides both ``k_r`` and
            ``groups`` (DPN-92 at 8: ``k_r`` 12 in 4 groups of 3, as 96 in 32); a
            ``width_div`` that leaves the bottleneck's channels not a multiple of its
            groups is refused, and the message lists the values that work. DPN-68 takes
            1, 2, 4, 8 and 10 (its stem has 10 channels), DPN-92 up to 16 except 3, 5, 6,
            7, 9 and 13.

    ``min_input_size`` is the smallest ``(H, W)`` the model takes: ``(1, 1)`` in both
    forms (every stride-2 layer pads enough to leave a 1x1 map at 1x1).

    Shape:
        - Input: ``(N, in_channels, H, W)``, 224 x 224 at ImageNet settings, 28 x 28 or
          32 x 32 with ``small_input=True``.
        - Output: ``(N, num_classes)``.

    Reference: Y. Chen, J. Li, H. Xiao, X. Jin, S. Yan, J. Feng, "Dual path networks",
    NIPS 2017 (arXiv:1707.01629).
    """

    def __init__(
        self,
        num_init_features=64,
        k_r=96,
        groups=32,
        k_sec=(3, 4, 20, 3),
        inc_sec=(16, 32, 24, 128),
        widths=(256, 512, 1024, 2048),
        stem_kernel_size=7,
        b=False,
        drop_rate=0.0,
        num_classes=1000,
        in_channels=3,
        small_input=False,
        width_div=1,
    ):
        super().__init__()
        k_sec, inc_sec, widths = tuple(k_sec), tuple(inc_sec), tuple(widths)
        if (
            not (len(k_sec) == len(inc_sec) == len(widths) == 4)
            or not all(is_count(n, 1) for n in k_sec + widths)
            or not all(is_count(n, 0) for n in inc_sec)
        ):
            raise ValueError(
                "k_sec, inc_sec and widths must each have four entries (positive block "
                "counts in k_sec, positive widths, increments of at least 0 in inc_sec), "
                f"got k_sec={k_sec}, inc_sec={inc_sec}, widths={widths}"
            )
        sizes = dict(num_init_features=num_init_features, k_r=k_r, groups=groups)
        bad = {name: n for name, n in sizes.items() if not is_count(n, 1)}
        if bad:
            raise ValueError(f"DPN expected positive integers, got {bad}")
        if k_r % groups != 0:
            raise ValueError(f"k_r must be a multiple of groups, got k_r={k_r}, groups={groups}")
        counts = dict(num_init_features=num_init_features, k_r=k_r)
        counts.update({f"widths[{i}]": w for i, w in enumerate(widths)})
        counts.update({f"inc_sec[{i}]": inc for i, inc in enumerate(inc_sec)})
        self.width_div = check_width_div("DPN", width_div, counts, grouped=[(k_r, groups)])
        num_init_features //= self.width_div
        k_r //= self.width_div
        groups = max(1, groups // self.width_div)
        inc_sec = tuple(inc // self.width_div for inc in inc_sec)
        widths = tuple(w // self.width_div for w in widths)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.small_input = small_input

        if small_input:
            kernel_size, stride = 3, 1
            self.pool1 = nn.Identity()
        else:
            kernel_size, stride = stem_kernel_size, 2
            self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.conv1 = nn.Sequential(
            nn.Conv2d(
                in_channels, num_init_features, kernel_size, stride, kernel_size // 2, bias=False
            ),
            nn.BatchNorm2d(num_init_features, eps=0.001),
            nn.ReLU(),
        )

        channels = num_init_features
        for i, (num_blocks, inc, width) in enumerate(zip(k_sec, inc_sec, widths)):
            mid = k_r * 2**i
            blocks = [
                DualPathBlock(
                    channels, mid, width, inc, groups, stride=1 if i == 0 else 2, project=True, b=b
                )
            ]
            channels = width + 3 * inc
            for _ in range(num_blocks - 1):
                blocks.append(DualPathBlock(channels, mid, width, inc, groups, b=b))
                channels += inc
            # Named after the paper's stages: conv1 is the stem, conv2 ... conv5 the blocks.
            self.add_module(f"conv{i + 2}", nn.Sequential(*blocks))
        # Both paths are normalized together once more before the classifier.
        self.conv5_bn_ac = nn.Sequential(nn.BatchNorm2d(channels, eps=0.001), nn.ReLU())
        self.num_features = channels

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.dropout = nn.Dropout(drop_rate)
        self.classifier = nn.Linear(channels, num_classes)

    def blocks(self):
        """The dual-path blocks of the four stages, in order."""
        return [b for i in range(2, 6) for b in getattr(self, f"conv{i}")]

    @property
    def min_input_size(self):
        """Smallest ``(H, W)`` input: what the stem and the blocks leave at 1x1."""
        return min_input_size_of(
            self.conv1, self.pool1, *(unit for b in self.blocks() for unit in b.main_path())
        )

    def forward_features(self, x):
        """Stem and the four stages. Shapes: DPN-92 at 224 (residual + dense channels),
        and the map sizes at 28 x 28 with small_input."""
        check_input(self, x)
        x = self.pool1(self.conv1(x))  # N x 64 x 56 x 56 (small: 28 x 28)
        x = self.conv2(x)  # N x (256 + 80) x 56 x 56 (small: 28 x 28)
        x = self.conv3(x)  # N x (512 + 192) x 28 x 28 (small: 14 x 14)
        x = self.conv4(x)  # N x (1024 + 528) x 14 x 14 (small: 7 x 7)
        x = self.conv5(x)  # N x (2048 + 640) x 7 x 7 (small: 4 x 4)
        return self.conv5_bn_ac(x)

    def forward_head(self, x):
        """Global average pooling, dropout and one FC layer."""
        x = self.flatten(self.avgpool(x))  # N x 2688
        return self.classifier(self.dropout(x))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def _dpn(depth, num_classes, in_channels, kwargs):
    return DPN(**{**DPN_CFGS[depth], **kwargs}, num_classes=num_classes, in_channels=in_channels)


def dpn68(num_classes=1000, in_channels=3, **kwargs):
    """DPN-68 (timm's dpn68; ``b=True`` gives dpn68b); keyword arguments go to :class:`DPN`."""
    return _dpn(68, num_classes, in_channels, kwargs)


def dpn92(num_classes=1000, in_channels=3, **kwargs):
    """DPN-92; keyword arguments go to :class:`DPN`."""
    return _dpn(92, num_classes, in_channels, kwargs)


def dpn98(num_classes=1000, in_channels=3, **kwargs):
    """DPN-98; keyword arguments go to :class:`DPN`."""
    return _dpn(98, num_classes, in_channels, kwargs)


def dpn131(num_classes=1000, in_channels=3, **kwargs):
    """DPN-131; keyword arguments go to :class:`DPN`."""
    return _dpn(131, num_classes, in_channels, kwargs)
