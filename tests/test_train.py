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
    (legend,) = fig.legends  # one legend for the figure, none on the panels
    assert [t.get_text() for t in legend.get_texts()] == ["a train", "a held-out", "b train", "b held-out"]
    assert all(a.get_legend() is None and a.get_title() == "" for a in fig.axes)
    fig.canvas.draw()
    assert all(float(t).is_integer() for t in ax.get_xticks())  # epochs are whole numbers
    h.train_eval_loss, h.train_eval_acc = [0.9, 0.4], [0.6, 0.9]  # end-of-epoch measurements win
    fig = plot.plot_history(h)
    assert list(fig.axes[1].lines[0].get_ydata()) == [0.6, 0.9]
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


def test_a_loss_that_is_not_finite_stops_before_the_update():
    x, y = _blobs(64)
    train, _ = make_loaders(x, y, batch_size=32)
    model = torch.nn.Linear(2, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []

    def loss_fn(out, target):
        calls.append(1)
        loss = torch.nn.functional.cross_entropy(out, target)
        return loss if len(calls) < 2 else loss * float("inf")

    with pytest.raises(FloatingPointError, match="training loss became inf at step 2"):
        fit(model, train, epochs=1, loss_fn=loss_fn, optimizer=torch.optim.SGD(model.parameters(), lr=0.0), log=False)
    # lr 0 keeps the first step a no-op, so any change would come from stepping on inf
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]) and torch.isfinite(v).all()


def test_evaluate_uses_the_models_device(monkeypatch):
    import cnnbook.device

    # On a CUDA machine default_device() is CUDA while a model may stay on the CPU.
    monkeypatch.setattr(cnnbook.device, "default_device", lambda: torch.device("meta"))
    x, y = _blobs(40)
    _, val = make_loaders(x, y, x, y)
    loss, acc = evaluate(torch.nn.Linear(2, 3), val)
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_eval_train_measures_the_training_set_in_eval_mode():
    seed_everything(0)
    x, y = _blobs(200)
    train, val = make_loaders(x[:150], y[:150], x[150:], y[150:], batch_size=30)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3))
    h = fit(model, train, val, epochs=2, lr=0.05, log=False, eval_train=True)
    assert len(h.train_eval_acc) == len(h.train_eval_loss) == 2
    assert (h.train_eval_loss[-1], h.train_eval_acc[-1]) == pytest.approx(evaluate(model, train))
    assert not fit(model, train, epochs=1, log=False).train_eval_acc  # off by default


def test_eval_train_leaves_the_run_unchanged():
    # Measuring the training set must not draw from the loader's generator or torch's:
    # the same run with and without it takes the same steps (dropout masks included).
    x, y = _blobs(200)
    runs = []
    for eval_train in (False, True):
        seed_everything(0)
        train, val = make_loaders(x[:150], y[:150], x[150:], y[150:], batch_size=30, seed=1)
        model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                    torch.nn.Linear(16, 3))
        runs.append(fit(model, train, val, epochs=3, lr=0.05, log=False, eval_train=eval_train).step_loss)
    assert runs[0] == runs[1]


def test_scheduler_steps_once_per_epoch_and_aux_weight_scales_the_aux_loss():
    x, y = _blobs(64)
    train, _ = make_loaders(x, y, batch_size=64)  # one step per epoch
    model = torch.nn.Linear(2, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, train, epochs=3, optimizer=optimizer, scheduler=scheduler, log=False)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.125)

    grads = {}
    for weight in (0.0, 0.3, 0.6):
        torch.manual_seed(0)
        net = _AuxNet()
        fit(net, train, epochs=1, optimizer=torch.optim.SGD(net.parameters(), lr=0.0), aux_weight=weight, log=False)
        grads[weight] = net.aux.weight.grad.clone()
    assert torch.count_nonzero(grads[0.0]) == 0
    torch.testing.assert_close(grads[0.6], 2 * grads[0.3])


def test_history_last_names_what_it_knows():
    h = History(train_loss=[1.0, 0.5], val_acc=[0.7, 0.8])
    assert h.last() == 0.8 and h.last("train_loss") == 0.5
    with pytest.raises(ValueError, match="history has no val_loss values"):
        h.last("val_loss")
    with pytest.raises(ValueError, match="History has no metric 'val_accuracy'; expected one of: train_loss"):
        h.last("val_accuracy")


def _numpy_net():
    """A NumPy model: Linear -> ReLU -> Linear, float64."""
    import cnnbook.numpy as cn

    cn.manual_seed(0)
    return cn.Sequential(cn.Linear(2, 16), cn.ReLU(), cn.Linear(16, 3))


def test_fit_numpy_learns_and_its_helpers_agree():
    import cnnbook.numpy as cn
    from cnnbook.numpy.optim import SGD
    from cnnbook.train import evaluate_numpy, fit_numpy, predict_numpy

    x, y = _blobs(300)
    x = x.astype(np.float64)
    model = _numpy_net()
    loss_fn = cn.CrossEntropyLoss()
    steps = []
    h = fit_numpy(model, loss_fn, SGD(model.parameters(), lr=0.1), x[:200], y[:200], x[200:], y[200:],
                  epochs=3, batch_size=50, log=False, after_backward=lambda m, s: steps.append(s), eval_train=True)
    assert h.epochs == 3 and steps == list(range(12)) and len(h.step_loss) == 12
    assert h.val_acc[-1] > 0.9 and h.train_loss[-1] < h.train_loss[0]
    assert (h.train_eval_loss[-1], h.train_eval_acc[-1]) == pytest.approx(evaluate_numpy(model, loss_fn, x[:200], y[:200]))
    logits = predict_numpy(model, x[200:], batch_size=7)  # batches of 7 give the same logits
    np.testing.assert_allclose(logits, predict_numpy(model, x[200:]), rtol=1e-12)
    assert h.val_acc[-1] == pytest.approx((logits.argmax(1) == y[200:]).mean())
    assert model.training  # predict_numpy restores the mode


def test_fit_numpy_rejects_bad_arguments():
    import cnnbook.numpy as cn
    from cnnbook.numpy.optim import SGD
    from cnnbook.train import fit_numpy

    x, y = _blobs(40)
    x = x.astype(np.float64)
    model = _numpy_net()
    args = (model, cn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), x, y)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad!r}"):
            fit_numpy(*args, batch_size=bad, log=False)
    with pytest.raises(ValueError, match="x_val was given without y_val"):
        fit_numpy(*args, x_val=x, log=False)
    with pytest.raises(ValueError, match="expected as many held-out labels as images, got 3 and 40"):
        fit_numpy(*args, x_val=x, y_val=y[:3], log=False)
