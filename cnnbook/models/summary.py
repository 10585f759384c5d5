"""Counting a model's parameters and multiply-accumulates, and a per-layer table."""

from collections import namedtuple
from math import prod

import torch
from torch import nn

LayerRow = namedtuple("LayerRow", ["name", "type", "output_shape", "activations", "parameters"])
LayerRow.__doc__ = """One row of :func:`layer_table`.

``output_shape`` leaves out the batch dimension (a tuple of shapes for a module that
returns several tensors), ``activations`` is the number of output values per example and
``parameters`` the module's parameters, counted on its first call only.
"""


def count_parameters(model, trainable_only=False):
    """Number of parameters of ``model`` (each shared tensor once).

    With ``trainable_only=True`` only those with ``requires_grad`` count.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model, input_size):
    """Multiply-accumulates of one forward pass for one example of size ``input_size``.

    Counts the ``nn.Conv2d`` and ``nn.Linear`` layers, which do nearly all the work: a
    convolution costs ``out_elements * in_channels / groups * kernel_h * kernel_w``, a
    linear layer ``out_elements * in_features``. Biases, normalization, activations and
    pooling are left out. The model runs once in eval mode (so GoogLeNet's auxiliary
    classifiers, used in training only, do not count) under ``torch.no_grad()``, and its
    training flags are restored afterwards.

    Args:
        model: an ``nn.Module`` taking ``(N, C, H, W)`` batches.
        input_size: ``(C, H, W)`` of one example.
    """
    macs = []

    def hook(module, inputs, output):
        per_example = output.numel() // output.shape[0]
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs.append(per_example * (module.in_channels // module.groups) * kh * kw)
        else:
            macs.append(per_example * module.in_features)

    modules = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    _run_with_hooks(model, input_size, [(m, hook) for m in modules])
    return sum(macs)


def layer_table(model, input_size, depth=None):
    """A row per module call of one forward pass: name, type, output shape, sizes.

    Args:
        model: an ``nn.Module`` taking ``(N, C, H, W)`` batches; it runs once on zeros in
            eval mode under ``torch.no_grad()``, and its training flags are restored.
        input_size: ``(C, H, W)`` of one example.
        depth: ``None`` lists the leaf modules (single layers); an integer lists the
            modules that many levels below the model (1: its direct children, such as a
            ResNet's ``layer1``), plus the leaves above that level.

    Returns:
        A list of :class:`LayerRow` in the order the modules ran. A module that runs
        twice gives two rows. Modules that do not run in eval mode have no row.
    """
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be None or at least 1, got {depth}")
    chosen = []
    for name, module in model.named_modules():
        if not name:
            continue
        level = name.count(".") + 1
        is_leaf = next(module.children(), None) is None
        if depth is None:
            keep = is_leaf
        else:
            keep = level == depth or (level < depth and is_leaf)
        if keep:
            chosen.append((name, module))

    rows = []
    seen = set()

    def make_hook(name):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor):
                shape = tuple(output.shape[1:])
                activations = prod(shape)
            else:
                shape = tuple(tuple(t.shape[1:]) for t in output)
                activations = sum(prod(s) for s in shape)
            first_call = id(module) not in seen
            seen.add(id(module))
            parameters = count_parameters(module) if first_call else 0
            rows.append(LayerRow(name, type(module).__name__, shape, activations, parameters))

        return hook

    _run_with_hooks(model, input_size, [(m, make_hook(name)) for name, m in chosen])
    return rows


def format_layer_table(rows):
    """The rows of :func:`layer_table` as aligned text, with a total line."""
    header = ("layer", "type", "output shape", "activations", "parameters")
    lines = [
        (r.name, r.type, _format_shape(r.output_shape), f"{r.activations:,}", f"{r.parameters:,}")
        for r in rows
    ]
    total = sum(r.parameters for r in rows)
    lines.append(("total", "", "", "", f"{total:,}"))
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(5)]
    text = []
    for i, line in enumerate([header, *lines]):
        cells = [c.ljust(w) if j < 3 else c.rjust(w) for j, (c, w) in enumerate(zip(line, widths))]
        text.append("  ".join(cells).rstrip())
        if i == 0 or i == len(lines) - 1:
            text.append("-" * len(text[0]))
    return "\n".join(text)


def _format_shape(shape):
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_format_shape(s) for s in shape)
    return " x ".join(str(d) for d in shape)


def _run_with_hooks(model, input_size, hooks):
    """Run ``model`` once on a zero batch of one example with forward hooks attached."""
    input_size = tuple(input_size)
    if len(input_size) != 3 or not all(isinstance(d, int) and d > 0 for d in input_size):
        raise ValueError(f"input_size must be (C, H, W) of positive ints, got {input_size}")
    tensors = [*model.parameters(), *model.buffers()]
    floats = [t for t in tensors if t.is_floating_point()]
    device = tensors[0].device if tensors else torch.device("cpu")
    dtype = floats[0].dtype if floats else torch.get_default_dtype()
    x = torch.zeros((1, *input_size), device=device, dtype=dtype)

    training = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(hook) for m, hook in hooks]
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        for m, flag in training:
            m.training = flag
