"""The course's training loops: one for torch models, one for ``cnnbook.numpy`` models.

Both return a :class:`History` and draw nothing; ``cnnbook.plot`` draws histories.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["History", "fit", "evaluate", "fit_numpy", "evaluate_numpy", "predict_numpy"]


@dataclass
class History:
    """Per-epoch metrics of one training run (and the loss of every step).

    ``train_loss`` and ``train_acc`` are running means over the epoch's batches, taken in
    training mode while the weights still change (with dropout active): the first epoch's
    training accuracy can therefore sit *below* the held-out one. ``train_eval_loss`` and
    ``train_eval_acc`` are the training set measured again at the end of each epoch, in
    evaluation mode like the held-out metrics; they are filled when ``fit`` is called with
    ``eval_train=True``, and are the numbers to compare with the held-out ones. ``lr`` is
    the learning rate each epoch trained with, ``images_per_second`` its training speed
    (``fit`` fills both; ``fit_numpy`` neither).
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    train_eval_loss: list = field(default_factory=list)
    train_eval_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    images_per_second: list = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def last(self, key="val_acc"):
        """The last recorded value of a metric, e.g. ``h.last("train_loss")``."""
        values = getattr(self, key, None)
        if not isinstance(values, list):
            known = ", ".join(f.name for f in fields(self))
            raise ValueError(f"History has no metric {key!r}; expected one of: {known}")
        if not values:
            raise ValueError(f"history has no {key} values")
        return values[-1]

    def _log(self, epoch, epochs):
        parts = [f"epoch {epoch}/{epochs}", f"loss {self.train_loss[-1]:.4f}",
                 f"acc {self.train_acc[-1]:.4f}"]
        if self.train_eval_loss:
            parts += [f"train_eval_loss {self.train_eval_loss[-1]:.4f}",
                      f"train_eval_acc {self.train_eval_acc[-1]:.4f}"]
        if self.val_loss:
            parts += [f"val_loss {self.val_loss[-1]:.4f}", f"val_acc {self.val_acc[-1]:.4f}"]
        print("  ".join(parts))


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# --- torch -----------------------------------------------------------------------------


def _main_and_aux(output):
    """A model may return ``(logits, aux1, ...)`` in training (GoogLeNet)."""
    if isinstance(output, (tuple, list)):
        return output[0], tuple(output[1:])
    return output, ()


def _model_device(model):
    """The device of the model's first parameter or buffer (the CPU for a model with none)."""
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def evaluate(model, loader, *, loss_fn=None, device=None, amp=False):
    """Mean loss and accuracy of ``model`` (in eval mode) over ``loader``.

    Batches go to ``device``, by default the device the model is on. In a distributed run
    each process passes its own shard of the examples and the sums are combined, so every
    example counts once.
    """
    import torch

    from cnnbook import distributed

    device = device or _model_device(model)
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with _autocast(device, amp):
                logits, _ = _main_and_aux(model(x))
                loss = loss_fn(logits, y)
            total_loss += float(loss) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            count += len(y)
    model.train(was_training)
    total_loss, correct, count = distributed.all_reduce_sum((total_loss, correct, count), device)
    if count == 0:
        raise ValueError("evaluate() got an empty loader")
    return total_loss / count, correct / count


def _autocast(device, amp):
    """Mixed precision where it helps: float16 on CUDA (with a gradient scaler), bfloat16 on
    the CPU; nothing when ``amp`` is off."""
    import contextlib

    import torch

    if not amp:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def amp_supported(device) -> bool:
    """Whether ``fit(..., amp=True)`` uses mixed precision on ``device`` (CUDA or the CPU)."""
    import torch

    return torch.device(device).type in ("cuda", "cpu")


def _in_order(loader, batch_size=1000):
    """The loader's examples in order, in large batches, drawing nothing from any random
    generator: measuring the training set must not change the batches of later epochs."""
    import torch
    from torch.utils.data import BatchSampler, DataLoader, SequentialSampler, TensorDataset

    dataset = getattr(loader, "dataset", None)
    if dataset is None:
        raise ValueError("eval_train=True needs a DataLoader over a dataset (one with .dataset)")
    own = torch.Generator()  # DataLoader draws a seed each time it is iterated
    if isinstance(dataset, TensorDataset):  # one indexing operation per batch
        batches = BatchSampler(SequentialSampler(dataset), batch_size, drop_last=False)
        return DataLoader(dataset, sampler=batches, batch_size=None, generator=own)
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, generator=own)


class _NoBar:
    """What ``fit`` iterates when no progress bar is wanted: the loader itself."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        return iter(self.loader)

    def close(self):
        pass


def _progress_bar(loader, desc):
    """A tqdm bar over the batches: one line in a terminal, a widget in Jupyter, nothing in
    a log file. Imported only when wanted (tqdm.auto warns in a kernel without ipywidgets)."""
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, leave=False, disable=None, unit="batch", dynamic_ncols=True)


def _set_epoch(loader, epoch):
    """Tell a distributed sampler which epoch it is, so each epoch has its own order."""
    for sampler in (getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
        for candidate in (sampler, getattr(sampler, "sampler", None)):
            if hasattr(candidate, "set_epoch"):
                candidate.set_epoch(epoch)
                return


def fit(model, train_loader, val_loader=None, *, epochs=1, optimizer=None, lr=1e-3,
        loss_fn=None, aux_weight=0.3, device=None, log=True, after_backward=None,
        scheduler=None, eval_train=False, amp=False, scaler=None, history=None,
        on_epoch_end=None, progress=False) -> History:
    """Train a torch ``model`` and return its :class:`History`.

    - ``optimizer``: an optimizer over ``model.parameters()``; default Adam with ``lr``.
    - ``loss_fn``: default cross-entropy. A model that returns ``(logits, *aux)`` in
      training (GoogLeNet) is trained on ``loss(logits) + aux_weight * sum(loss(aux))``.
    - ``after_backward(model, step)``: called after each backward pass, before the update
      (to record gradient norms, say).
    - ``scheduler``: stepped once per epoch.
    - ``eval_train``: also measure the whole training set at the end of every epoch, in
      eval mode (``History.train_eval_loss`` / ``train_eval_acc``); costs one more pass.
    - ``log``: print one line per epoch; ``progress``: a progress bar per epoch.
    - ``amp``: mixed precision (``torch.autocast``): float16 with a gradient ``scaler`` on
      CUDA (made here unless given), bfloat16 on the CPU.
    - ``history``: the :class:`History` of the epochs already done, to continue a run:
      training then goes from epoch ``history.epochs + 1`` to ``epochs``.
    - ``on_epoch_end(epoch, history)``: called after each epoch (to write checkpoints).

    The model is moved to ``device`` (default: CUDA, then MPS, then the CPU). A loss that
    is not finite stops training with ``FloatingPointError`` before the update, so the
    model keeps the weights of the last good step. The same loop runs in every process of
    a distributed run (``cnnbook train`` under ``torchrun``): the model is then wrapped in
    ``DistributedDataParallel``, each loader gives this process's share of the data, and
    the epoch's metrics are summed over the processes.
    """
    import torch

    from cnnbook import distributed
    from cnnbook.device import default_device

    _check_positive("epochs", epochs)
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    if amp and scaler is None and device.type == "cuda":
        scaler = torch.amp.GradScaler("cuda")
    history = history if history is not None else History()
    step = len(history.step_loss)
    for epoch in range(history.epochs + 1, epochs + 1):
        start = time.perf_counter()
        _set_epoch(train_loader, epoch)
        model.train()
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        total_loss, correct, count = 0.0, 0, 0
        bar = _progress_bar(train_loader, f"epoch {epoch}/{epochs}") if progress else _NoBar(train_loader)
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with _autocast(device, amp):
                logits, aux = _main_and_aux(model(x))
                loss = loss_fn(logits, y)
                full = loss + aux_weight * sum(loss_fn(a, y) for a in aux) if aux else loss
            value, full_value = float(loss.detach()), float(full.detach())
            if not np.isfinite(full_value):
                raise FloatingPointError(f"training loss became {full_value} at step {step + 1}")
            optimizer.zero_grad()
            if scaler is not None:
                scaler.scale(full).backward()
            else:
                full.backward()
            if after_backward is not None:
                after_backward(model, step)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            step += 1
            history.step_loss.append(value)
            total_loss += value * len(y)
            correct += int((logits.argmax(1) == y).sum())
            count += len(y)
            if progress:
                seconds = time.perf_counter() - start
                bar.set_postfix(loss=f"{total_loss / count:.4f}", acc=f"{correct / count:.4f}",
                                img_s=f"{count / seconds:.0f}", refresh=False)
        bar.close()
        train_seconds = time.perf_counter() - start
        total_loss, correct, count = distributed.all_reduce_sum((total_loss, correct, count), device)
        if scheduler is not None:
            scheduler.step()
        history.train_loss.append(total_loss / count)
        history.train_acc.append(correct / count)
        history.images_per_second.append(count / train_seconds)
        if eval_train:
            train_loss, train_acc = evaluate(model, _in_order(train_loader), loss_fn=loss_fn, device=device, amp=amp)
            history.train_eval_loss.append(train_loss)
            history.train_eval_acc.append(train_acc)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn=loss_fn, device=device, amp=amp)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        if log:
            history._log(epoch, epochs)
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
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
              epochs=1, batch_size=64, seed=0, log=True, after_backward=None,
              eval_train=False) -> History:
    """Train a ``cnnbook.numpy`` model with mini-batches and return its :class:`History`.

    One step: ``optimizer.zero_grad()``; ``logits = model(x)``; ``loss_fn.forward``;
    ``model.backward(loss_fn.backward())``; ``after_backward(model, step)``;
    ``optimizer.step()``. The batch order is drawn from a generator seeded with ``seed``.
    ``eval_train`` measures the training set again at the end of each epoch, as in
    :func:`fit`. A loss that is not finite stops training before the update.
    """
    _check_positive("epochs", epochs)
    _check_positive("batch_size", batch_size)
    if len(x_train) != len(y_train):
        raise ValueError(f"expected as many labels as images, got {len(y_train)} and {len(x_train)}")
    if (x_val is None) != (y_val is None):
        given, missing = ("x_val", "y_val") if y_val is None else ("y_val", "x_val")
        raise ValueError(f"{given} was given without {missing}: pass both held-out arrays or neither")
    if x_val is not None and len(x_val) != len(y_val):
        raise ValueError(f"expected as many held-out labels as images, got {len(y_val)} and {len(x_val)}")
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
            if not np.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss} at step {step + 1}")
            model.backward(loss_fn.backward())
            if after_backward is not None:
                after_backward(model, step)
            optimizer.step()
            step += 1
            history.step_loss.append(float(loss))
            total_loss += float(loss) * len(y)
            correct += int((logits.argmax(1) == y).sum())
        history.train_loss.append(total_loss / len(x_train))
        history.train_acc.append(correct / len(x_train))
        if eval_train:
            train_loss, train_acc = evaluate_numpy(model, loss_fn, x_train, y_train)
            history.train_eval_loss.append(train_loss)
            history.train_eval_acc.append(train_acc)
        if x_val is not None:
            val_loss, val_acc = evaluate_numpy(model, loss_fn, x_val, y_val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        if log:
            history._log(epoch, epochs)
    return history
