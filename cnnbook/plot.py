"""Figures of the course: one style and palette, helpers that take data and return figures.

Call :func:`setup` once at the top of a notebook. Every helper returns its ``Figure``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PALETTE", "setup", "plot_history", "show_images", "show_filters", "color"]

#: The book's palette (colour-blind friendly, Okabe & Ito 2008), used in this order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
           "#56B4E9", "#F0E442", "#000000")


def color(i: int) -> str:
    """The i-th colour of the palette (cycling)."""
    return PALETTE[i % len(PALETTE)]


def setup(dpi: int = 100) -> None:
    """Apply the book's matplotlib style: palette, grid, a resolution readable on a laptop."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "figure.figsize": (6.4, 3.6),
        "font.size": 10,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "image.cmap": "gray",
    })


def _histories(histories):
    from cnnbook.train import History

    if isinstance(histories, History):
        return {"": histories}
    if not isinstance(histories, dict) or not histories:
        raise ValueError(f"expected a History or a non-empty dict of name -> History, got {type(histories).__name__}")
    return histories


def plot_history(histories, metrics=("loss", "acc"), *, title=None, val=True):
    """Training curves per epoch: one panel per metric, solid train, dashed held-out.

    ``histories`` is a :class:`~cnnbook.train.History` or a dict ``name -> History``. The
    training curve is the end-of-epoch measurement when the history has one (``fit(...,
    eval_train=True)``), else the running mean over the epoch's batches. One legend, beside
    the panels, keeps the curves clear.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    histories = _histories(histories)
    names = {"loss": "loss", "acc": "accuracy"}
    for m in metrics:
        if m not in names:
            raise ValueError(f"metrics must be among {tuple(names)}, got {m!r}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics) + 1.6, 3.4), squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        for i, (name, h) in enumerate(histories.items()):
            epochs = np.arange(1, h.epochs + 1)
            train = getattr(h, f"train_eval_{metric}") or getattr(h, f"train_{metric}")
            label = f"{name} train" if name else "train"
            ax.plot(epochs, train, color=color(i), marker="o", ms=3, label=label)
            held = getattr(h, f"val_{metric}")
            if val and held:
                label = f"{name} held-out" if name else "held-out"
                ax.plot(epochs, held, color=color(i), linestyle="--", marker="o", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(names[metric])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _grid(n, ncols):
    ncols = max(1, min(ncols, n))
    return int(np.ceil(n / ncols)), ncols


def show_images(images, labels=None, *, ncols=8, title=None, cmap="gray", size=1.1):
    """A grid of images: (N, H, W), (N, 1, H, W) or (N, 3, H, W) arrays or tensors."""
    import matplotlib.pyplot as plt

    images = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"expected a non-empty batch of images, got shape {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"expected {len(images)} labels, got {len(labels)}")
    rows, cols = _grid(len(images), ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap if images.ndim == 3 else None)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_filters(weight, *, ncols=8, title=None, size=0.9):
    """Convolution filters (out, in, kh, kw) or first-layer weight rows reshaped to images.

    Each filter is scaled to its own range, on a diverging map centred at zero for
    one-channel filters (blue negative, red positive); three-channel filters as RGB.
    """
    import matplotlib.pyplot as plt

    w = np.asarray(weight.detach().cpu() if hasattr(weight, "detach") else weight, dtype=float)
    if w.ndim != 4:
        raise ValueError(f"expected filters of shape (out, in, kh, kw), got {w.shape}")
    rows, cols = _grid(len(w), ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(w):
            continue
        if w.shape[1] == 3:
            f = w[i].transpose(1, 2, 0)
            f = (f - f.min()) / (np.ptp(f) or 1.0)
            ax.imshow(f)
        else:
            f = w[i, 0]
            lim = np.abs(f).max() or 1.0
            ax.imshow(f, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
