"""Training loops and plotting helpers on small synthetic problems."""

import numpy as np
import pytest
import torch

from cnnbook import plot
from cnnbook.data import make_loaders
from cnnbook.seed import seed_everything
from cnnbook.train import History, evaluate, fit


def _blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    x = (centers[y] + rng.normal(0, 0.5, (n, 2))).astype(np.float32)
    return x, y.astype(np.int64)


def test_fit_learns_and_records_history():
    seed_everything(0)
    x, y = _blobs()
    train, val = make_loaders(x[:300], y[:300], x[300:], y[300:], batch_size=32)
    model = torch.nn.Linear(2, 3)
    steps = []
    h = fit(model, train, val, epochs=3, lr=0.05, log=False, after_backward=lambda m, s: steps.append(s))
    assert h.epochs == 3 and len(h.val_acc) == 3 and len(h.step_loss) == 3 * 10
    assert steps == list(range(30))
    assert h.val_acc[-1] > 0.9 and h.train_loss[-1] < h.train_loss[0]
    assert evaluate(model, val)[1] == pytest.approx(h.val_acc[-1])


def test_fit_is_reproducible_with_the_seed_helper():
    x, y = _blobs()
    runs = []
    for _ in range(2):
        seed_everything(3)
        train, _ = make_loaders(x, y, batch_size=16, seed=3)
        model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        runs.append(fit(model, train, epochs=2, log=False).step_loss)
    assert runs[0] == runs[1]


class _AuxNet(torch.nn.Module):
    """Returns (logits, aux) in training, logits in eval, like GoogLeNet."""

    def __init__(self):
        super().__init__()
        self.main, self.aux = torch.nn.Linear(2, 3), torch.nn.Linear(2, 3)

    def forward(self, x):
        return (self.main(x), self.aux(x)) if self.training else self.main(x)


def test_fit_trains_auxiliary_heads_with_their_weight():
    x, y = _blobs(64)
    train, val = make_loaders(x, y, x, y, batch_size=64)
    model = _AuxNet()
    fit(model, train, val, epochs=1, log=False, aux_weight=0.3)
    assert model.aux.weight.grad is not None and model.aux.weight.grad.abs().sum() > 0


def test_fit_rejects_bad_epochs_and_reports_divergence():
    x, y = _blobs(64)
    train, _ = make_loaders(x, y)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        fit(torch.nn.Linear(2, 3), train, epochs=0)
    model = torch.nn.Linear(2, 3)
    with pytest.raises(FloatingPointError, match="training loss became"):
        fit(model, train, epochs=1, loss_fn=lambda out, y: out.sum() * float("nan"), log=False)


def test_plot_helpers_return_labelled_figures():
    plot.setup()
    h = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8], val_loss=[1.1, 0.7], val_acc=[0.4, 0.7])
    fig = plot.plot_history({"a": h, "b": h})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and len(ax.lines) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["a train", "a held-out"]
    fig = plot.show_images(np.zeros((5, 1, 8, 8)), labels=list("abcde"), ncols=3)
    assert len(fig.axes) == 6
    fig = plot.show_filters(np.random.default_rng(0).normal(size=(4, 3, 5, 5)))
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="expected filters of shape \\(out, in, kh, kw\\), got \\(4, 5\\)"):
        plot.show_filters(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="expected 5 labels, got 2"):
        plot.show_images(np.zeros((5, 8, 8)), labels=[1, 2])
    import matplotlib.pyplot as plt

    plt.close("all")


def test_make_loaders_batches_like_a_shuffled_loader():
    from torch.utils.data import DataLoader, TensorDataset

    x, y = _blobs(130)
    train, val = make_loaders(x, y, x[:50], y[:50], batch_size=32, seed=5, val_batch_size=20)
    reference = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=32,
                           shuffle=True, generator=torch.Generator().manual_seed(5))
    for _ in range(2):  # two epochs: the same order as shuffle=True, epoch after epoch
        ours, theirs = list(train), list(reference)
        assert [len(b[1]) for b in ours] == [32, 32, 32, 32, 2]
        for (xa, ya), (xb, yb) in zip(ours, theirs):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert [len(b[1]) for b in val] == [20, 20, 10]
    assert torch.equal(torch.cat([b[1] for b in val]), torch.as_tensor(y[:50]))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        make_loaders(x, y, batch_size=0)
