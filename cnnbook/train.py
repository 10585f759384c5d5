"""The course's training loops: one for torch models, one for ``cnnbook.numpy`` models.

Both return a :class:`History` and draw nothing; ``cnnbook.plot`` draws histories.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["History", "fit", "evaluate", "fit_numpy", "evaluate_numpy", "predict_numpy"]


@dataclass
class History:
    """Per-epoch metrics of one training run (and the loss of every step)."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def last(self, key="val_acc"):
        values = getattr(self, key)
        if not values:
            raise ValueError(f"history has no {key} values")
        return values[-1]

    def _log(self, epoch, epochs):
        parts = [f"epoch {epoch}/{epochs}", f"loss {self.train_loss[-1]:.4f}",
                 f"acc {self.train_acc[-1]:.4f}"]
        if self.val_loss:
            parts += [f"val_loss {self.val_loss[-1]:.4f}", f"val_acc {self.val_acc[-1]:.4f}"]
        print("  ".join(parts))


def _check_epochs(epochs):
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")


# --- torch -----------------------------------------------------------------------------


def _main_and_aux(output):
    """A model may return ``(logits, aux1, ...)`` in training (GoogLeNet)."""
    if isinstance(output, (tuple, list)):
        return output[0], tuple(output[1:])
    return output, ()


def evaluate(model, loader, *, loss_fn=None, device=None):
    """Mean loss and accuracy of ``model`` (in eval mode) over ``loader``."""
    import torch

    from cnnbook.device import default_device

    device = device or default_device()
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits, _ = _main_and_aux(model(x))
            total_loss += float(loss_fn(logits, y)) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            count += len(y)
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got an empty loader")
    return total_loss / count, correct / count


def fit(model, train_loader, val_loader=None, *, epochs=1, optimizer=None, lr=1e-3,
        loss_fn=None, aux_weight=0.3, device=None, log=True, after_backward=None,
        scheduler=None) -> History:
    """Train a torch ``model`` and return its :class:`History`.

    - ``optimizer``: an optimizer over ``model.parameters()``; default Adam with ``lr``.
    - ``loss_fn``: default cross-entropy. A model that returns ``(logits, *aux)`` in
      training (GoogLeNet) is trained on ``loss(logits) + aux_weight * sum(loss(aux))``.
    - ``after_backward(model, step)``: called after each backward pass, before the update
      (to record gradient norms, say).
    - ``scheduler``: stepped once per epoch.
    - ``log``: print one line per epoch.

    The model is moved to ``device`` (default: CUDA, then MPS, then the CPU).
    """
    import torch

    from cnnbook.device import default_device

    _check_epochs(epochs)
    device = device or default_device()
    model.to(device)
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history, step = History(), 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            logits, aux = _main_and_aux(model(x))
            loss = loss_fn(logits, y)
            full = loss + aux_weight * sum(loss_fn(a, y) for a in aux) if aux else loss
            optimizer.zero_grad()
            full.backward()
            if after_backward is not None:
                after_backward(model, step)
            optimizer.step()
            step += 1
            value = float(loss.detach())
            if not np.isfinite(value):
                raise FloatingPointError(f"training loss became {value} at step {step}")
            history.step_loss.append(value)
            total_loss += value * len(y)
            correct += int((logits.argmax(1) == y).sum())
            count += len(y)
        if scheduler is not None:
            scheduler.step()
        history.train_loss.append(total_loss / count)
        history.train_acc.append(correct / count)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn=loss_fn, device=device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        if log:
            history._log(epoch, epochs)
    return history


# --- cnnbook.numpy ---------------------------------------------------------------------


def _batches(n, batch_size, rng=None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def predict_numpy(model, x, *, batch_size=500):
    """Logits of a ``cnnbook.numpy`` model over ``x``, in eval mode, batch by batch."""
    was_training = getattr(model, "training", True)
    model.eval()
    out = np.concatenate([model.forward(x[idx]) for idx in _batches(len(x), batch_size)])
    model.train(was_training)
    return out


def evaluate_numpy(model, loss_fn, x, y, *, batch_size=500):
    """Mean loss and accuracy of a ``cnnbook.numpy`` model over ``(x, y)``."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"expected as many labels as (a positive number of) images, got {len(y)} and {len(x)}")
    logits = predict_numpy(model, x, batch_size=batch_size)
    return float(loss_fn.forward(logits, y)), float((logits.argmax(1) == y).mean())


def fit_numpy(model, loss_fn, optimizer, x_train, y_train, x_val=None, y_val=None, *,
              epochs=1, batch_size=64, seed=0, log=True, after_backward=None) -> History:
    """Train a ``cnnbook.numpy`` model with mini-batches and return its :class:`History`.

    One step: ``optimizer.zero_grad()``; ``logits = model(x)``; ``loss_fn.forward``;
    ``model.backward(loss_fn.backward())``; ``after_backward(model, step)``;
    ``optimizer.step()``. The batch order is drawn from a generator seeded with ``seed``.
    """
    _check_epochs(epochs)
    if len(x_train) != len(y_train):
        raise ValueError(f"expected as many labels as images, got {len(y_train)} and {len(x_train)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    rng = np.random.default_rng(seed)
    history, step = History(), 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total_loss, correct = 0.0, 0
        for idx in _batches(len(x_train), batch_size, rng):
            x, y = x_train[idx], y_train[idx]
            optimizer.zero_grad()
            logits = model.forward(x)
            loss = loss_fn.forward(logits, y)
            model.backward(loss_fn.backward())
            if after_backward is not None:
                after_backward(model, step)
            optimizer.step()
            step += 1
            if not np.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss} at step {step}")
            history.step_loss.append(float(loss))
            total_loss += float(loss) * len(y)
            correct += int((logits.argmax(1) == y).sum())
        history.train_loss.append(total_loss / len(x_train))
        history.train_acc.append(correct / len(x_train))
        if x_val is not None:
            val_loss, val_acc = evaluate_numpy(model, loss_fn, x_val, y_val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        if log:
            history._log(epoch, epochs)
    return history
