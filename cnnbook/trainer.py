"""``cnnbook train``: train any model of the zoo on a dataset, resumably, on one or many devices.

    cnnbook train lenet5 --dataset mnist10k --epochs 5
    torchrun --standalone --nproc_per_node=4 -m cnnbook train resnet18 --dataset cifar10 ...

The epochs run in :func:`cnnbook.train.fit`, the loop every notebook uses; this module adds
what a long run needs around it: the model built for the dataset, standardized data and
augmentation, an optimizer and schedule from the command line, one process per device
(:mod:`cnnbook.distributed`), and a run folder that rank 0 alone writes:

- ``config.json``: the command's settings, with the data's statistics and the world size;
- ``metrics.csv``: one row per epoch (losses, accuracies, learning rate, seconds, images/s);
- ``last.pt``: everything needed to continue (model, optimizer, schedule, gradient scaler,
  random state, metrics), written at the end of every epoch; ``best.pt``: the model of the
  epoch with the best held-out accuracy.

Every file is written to a temporary name and renamed into place, so a run killed at any
moment (even with SIGKILL) leaves complete files; ``--resume`` continues from ``last.pt``
and ends exactly where the uninterrupted run would have (on the CPU, to float rounding).
Checkpoints are read with ``torch.load(weights_only=True)``: no pickled code runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

__all__ = ["TrainConfig", "CheckpointError", "train", "load_checkpoint", "build_model",
           "add_arguments", "config_from_args", "METRICS"]

DATASETS = ("mnist10k", "mnist", "fashion-mnist", "cifar10")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "step", "none")
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.1}
CHECKPOINT_FORMAT = "cnnbook-train-checkpoint"
CHECKPOINT_VERSION = 1

#: The columns of ``metrics.csv``.
METRICS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds",
           "images_per_second")


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or was written by another run or program."""


@dataclass
class TrainConfig:
    """The settings of one ``cnnbook train`` run (the command's options)."""

    model: str
    dataset: str = "mnist10k"
    epochs: int = 10
    batch_size: int = 64
    lr: float | None = None  # None: 2e-3 for Adam, 0.1 for SGD
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    augment: bool = False
    amp: bool = False
    seed: int = 0
    out: str | None = None
    resume: bool = False
    sync_bn: bool = False
    quiet: bool = False
    n_train: int | None = None
    model_args: dict = field(default_factory=dict)
    data_root: str | None = None

    def __post_init__(self):
        from cnnbook.models import list_models

        if self.model not in list_models():
            raise ValueError(f"unknown model {self.model!r}; expected one of: {', '.join(list_models())}")
        for name, value, allowed in (("dataset", self.dataset, DATASETS),
                                     ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("schedule", self.schedule, SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of: {', '.join(allowed)}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_train is not None and (not isinstance(self.n_train, int) or self.n_train < 1):
            raise ValueError(f"n_train must be a positive integer, got {self.n_train!r}")
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed!r}")
        if self.resume and not self.out:
            raise ValueError("--resume needs --out DIR: the folder of the run to continue")

    def describe(self) -> dict:
        """The settings that define the run (what must match to resume it)."""
        keep = ("model", "dataset", "epochs", "batch_size", "optimizer", "momentum", "weight_decay",
                "schedule", "augment", "seed", "sync_bn", "n_train", "model_args", "lr")
        return {k: getattr(self, k) for k in keep}


# --- data -------------------------------------------------------------------------------


def _standardize(x_train, x_val):
    """Each channel to mean 0 and std 1, with the training set's statistics."""
    mean = x_train.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), dtype=np.float64)
    scale = lambda x: ((x - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)  # noqa: E731
    return scale(x_train), scale(x_val), mean.tolist(), std.tolist()


def augment_batch(x, generator=None, padding=4):
    """Random crop (after zero padding) and random horizontal flip of an image batch, on
    the batch's device: the usual CIFAR-10 augmentation (He et al. 2016)."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    flip = torch.rand(n, generator=generator).lt(0.5).tolist()
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


class _Augmented:
    """A training loader whose image batches are augmented as they are drawn."""

    def __init__(self, loader):
        self.loader = loader
        self.sampler = loader.sampler

    def __iter__(self):
        for x, y in self.loader:
            yield augment_batch(x), y

    def __len__(self):
        return len(self.loader)


def _loaders(config: TrainConfig, world):
    import torch
    from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

    from cnnbook import distributed
    from cnnbook.data import load_dataset

    if config.batch_size % world.size:
        raise ValueError(f"--batch-size is the global batch and must be divisible by the "
                         f"{world.size} processes, got {config.batch_size}")
    x_train, y_train, x_val, y_val = load_dataset(config.dataset, config.data_root, n_train=config.n_train)
    x_train, x_val, mean, std = _standardize(x_train, x_val)
    train_set = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    val_set = TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val))
    # One sampler for one process and for many: the order of epoch e depends only on the
    # seed and e, so a resumed run sees the batches the uninterrupted run saw.
    sampler = DistributedSampler(train_set, num_replicas=world.size, rank=world.rank, shuffle=True,
                                 seed=config.seed)
    pin = world.device.type == "cuda"
    train = DataLoader(train_set, batch_size=config.batch_size // world.size, sampler=sampler,
                       pin_memory=pin)
    val = DataLoader(Subset(val_set, distributed.shard(len(val_set), world)), batch_size=1000,
                     pin_memory=pin)
    if config.augment and config.dataset == "cifar10":
        train = _Augmented(train)
    shape = tuple(x_train.shape[1:])
    classes = int(max(y_train.max(), y_val.max())) + 1
    return train, val, {"image_shape": list(shape), "num_classes": classes, "mean": mean, "std": std,
                        "n_train": len(train_set), "n_val": len(val_set)}


# --- model ------------------------------------------------------------------------------


def _fits(name, kwargs, shape):
    """Whether the model built with ``kwargs`` takes images of ``shape`` (tried on shapes
    alone, on the meta device)."""
    import torch

    from cnnbook.models import get_model

    with torch.device("meta"):
        model = get_model(name, **kwargs).eval()
        try:
            model(torch.empty(1, *shape))
        except ValueError:
            return False
    return True


def build_model(name, shape, num_classes, model_args=None):
    """Model ``name`` for images of ``shape`` (C, H, W) and ``num_classes`` classes: the
    family's small-input form where it has one and the images fit it, else its standard
    form. Returns the model and the arguments it was built with.

    Raises ``ValueError`` when no form of the model takes such images.
    """
    import inspect

    import torch

    from cnnbook.models import get_model

    kwargs = {"num_classes": num_classes, "in_channels": shape[0], **(model_args or {})}
    try:
        with torch.device("meta"):
            family = type(get_model(name, **kwargs))
    except TypeError as exc:
        raise ValueError(f"--model-arg does not fit {name}: {exc}") from None
    tries = [kwargs]
    if "small_input" in inspect.signature(family).parameters and "small_input" not in kwargs:
        tries = [{**kwargs, "small_input": True}, {**kwargs, "small_input": False}]
    for candidate in tries:
        if _fits(name, candidate, shape):
            return get_model(name, **candidate), candidate
    raise ValueError(f"{name} cannot take {shape[1]}x{shape[2]} images with {shape[0]} channel(s) "
                     f"in any of its forms")


# --- files ------------------------------------------------------------------------------


def _atomic_write(path: Path, write) -> None:
    """Write ``path`` through a temporary file in the same folder, renamed when complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _remove_stale_temporaries(folder: Path) -> None:
    for stale in folder.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def _metrics_csv(history) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRICS)
    for i in range(history.epochs):
        writer.writerow([i + 1, f"{history.train_loss[i]:.6f}", f"{history.train_acc[i]:.6f}",
                         f"{history.val_loss[i]:.6f}", f"{history.val_acc[i]:.6f}", f"{history.lr[i]:.6g}",
                         f"{history.seconds[i]:.3f}", f"{history.images_per_second[i]:.1f}"])
    return out.getvalue().encode()


_HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "seconds", "lr", "images_per_second")


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by ``cnnbook train`` (tensors and plain data only).

    Raises :class:`CheckpointError` naming the file when it is missing, damaged, or not a
    ``cnnbook train`` checkpoint.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged file
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [""]
        why = next((line for line in lines if "Unpickler error" in line), lines[0])
        raise CheckpointError(f"{path} is damaged or not a checkpoint ({type(exc).__name__}: {why[:200]})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a cnnbook train checkpoint "
                              f"(expected format {CHECKPOINT_FORMAT!r})")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')!r}, "
                              f"this cnnbook reads version {CHECKPOINT_VERSION}")
    return state


# --- the run ----------------------------------------------------------------------------


def _optimizer(config, params):
    import torch

    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def _scheduler(config, optimizer):
    import torch

    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 3), gamma=0.1)
    return None


def _default_out(config) -> str:
    return os.path.join("runs", f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")


def train(config: TrainConfig, *, log=print):
    """Run ``config`` in this process (one of many under ``torchrun``); returns the
    :class:`~cnnbook.train.History` and the run folder."""
    import torch

    import cnnbook
    from cnnbook import distributed
    from cnnbook.seed import seed_everything
    from cnnbook.train import History, amp_supported, fit

    world = distributed.setup()
    try:
        main = world.main
        say = log if main else (lambda *a, **k: None)
        out = Path(config.out or _default_out(config))
        checkpoint = load_checkpoint(out / "last.pt") if config.resume else None
        if checkpoint is not None:
            before = checkpoint["config"]["run"]
            mismatched = {k: (before.get(k), v) for k, v in config.describe().items() if before.get(k) != v}
            if mismatched:
                what = ", ".join(f"{k}: {a!r} in the checkpoint, {b!r} now" for k, (a, b) in mismatched.items())
                raise CheckpointError(f"{out / 'last.pt'} belongs to another run ({what})")
        if config.amp and not amp_supported(world.device):
            say(f"--amp does nothing on {world.device.type}: mixed precision runs on CUDA and the CPU")

        seed_everything(config.seed)
        train_loader, val_loader, data = _loaders(config, world)
        model, model_kwargs = build_model(config.model, data["image_shape"], data["num_classes"],
                                          config.model_args)
        model.to(world.device)
        optimizer = _optimizer(config, model.parameters())
        scheduler = _scheduler(config, optimizer)
        scaler = torch.amp.GradScaler("cuda") if config.amp and world.device.type == "cuda" else None
        history, best = History(), -1.0
        if checkpoint is not None:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
            if scheduler is not None:
                scheduler.load_state_dict(checkpoint["scheduler"])
            if scaler is not None and checkpoint.get("scaler"):
                scaler.load_state_dict(checkpoint["scaler"])
            history = History(**{k: list(checkpoint["history"][k]) for k in _HISTORY_KEYS})
            best = float(checkpoint["best_val_acc"])
            torch.set_rng_state(checkpoint["rng"]["torch"])
            if world.device.type == "cuda" and checkpoint["rng"].get("cuda") is not None:
                torch.cuda.set_rng_state(checkpoint["rng"]["cuda"], world.device)
            say(f"resuming {out} after epoch {history.epochs} of {config.epochs}")
        ddp_model = distributed.wrap(model, world, sync_bn=config.sync_bn)

        settings = {
            "run": config.describe(),
            "epochs": config.epochs,
            "amp": config.amp,
            "model_kwargs": model_kwargs,
            "data": data,
            "world_size": world.size,
            "device": str(world.device),
            "versions": {"cnnbook": cnnbook.__version__, "torch": str(torch.__version__)},
        }
        if main:
            out.mkdir(parents=True, exist_ok=True)
            _remove_stale_temporaries(out)
            _atomic_write(out / "config.json", lambda f: f.write(json.dumps(settings, indent=2).encode()))
            say(f"{config.model} on {config.dataset} ({data['n_train']} training, {data['n_val']} held-out "
                f"images), {world.size} process(es) on {world.device}; writing to {out}")

        def on_epoch_end(epoch, h):
            nonlocal best
            if not main:
                return
            improved = h.val_acc[-1] > best
            best = max(best, h.val_acc[-1])
            state = {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "epoch": epoch,
                "model": distributed.unwrap(ddp_model).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scaler": scaler.state_dict() if scaler is not None else None,
                "history": {k: getattr(h, k) for k in _HISTORY_KEYS},
                "best_val_acc": best,
                "rng": {"torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state(world.device) if world.device.type == "cuda" else None},
                "config": settings,
            }
            _atomic_write(out / "metrics.csv", lambda f: f.write(_metrics_csv(h)))
            if improved:
                _atomic_write(out / "best.pt", lambda f: torch.save({**state, "rng": None}, f))
            _atomic_write(out / "last.pt", lambda f: torch.save(state, f))

        history = fit(ddp_model, train_loader, val_loader, epochs=config.epochs, optimizer=optimizer,
                      scheduler=scheduler, device=world.device, amp=config.amp, scaler=scaler,
                      history=history, on_epoch_end=on_epoch_end, progress=main and not config.quiet,
                      log=main)
        distributed.barrier()
        if main and history.epochs:
            say(f"done: held-out accuracy {history.val_acc[-1]:.4f} (best {best:.4f}); files in {out}")
        return history, out
    finally:
        distributed.cleanup()


# --- command line -----------------------------------------------------------------------


def _model_arg(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``cnnbook train``."""
    p.add_argument("model", metavar="MODEL",
                   help="a registered model, e.g. lenet5, resnet18, densenet121 (all: cnnbook.models.list_models())")
    p.add_argument("--dataset", default="mnist10k", help=f"{', '.join(DATASETS)} (default mnist10k)")
    p.add_argument("--epochs", type=int, default=10, help="number of epochs (default 10)")
    p.add_argument("--batch-size", type=int, default=64,
                   help="the GLOBAL batch size, split evenly over the processes (default 64)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 2e-3 for adam, 0.1 for sgd)")
    p.add_argument("--optimizer", default="adam", help="adam or sgd (momentum 0.9) (default adam)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (default 0)")
    p.add_argument("--schedule", default="cosine", help="cosine, step or none (default cosine, per epoch)")
    p.add_argument("--augment", action="store_true", help="random crop and flip (CIFAR-10 only)")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: float16 with a gradient scaler on CUDA, bfloat16 on the CPU")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (default 0)")
    p.add_argument("--out", default=None, help="run folder (default runs/MODEL-DATASET-TIMESTAMP)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--sync-bn", action="store_true", help="synchronize batch norm across processes")
    p.add_argument("--n-train", type=int, default=None, help="use only the first N training images (quick trials)")
    p.add_argument("--model-arg", action="append", type=_model_arg, default=[], metavar="KEY=VALUE",
                   help="an argument of the model's factory, e.g. width_div=4 (repeatable; JSON values)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--root", default=None, help="data root (default: CNNBOOK_DATA, data/, or the user cache)")


def config_from_args(args) -> TrainConfig:
    names = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["model_args"] = dict(args.model_arg)
    values["data_root"] = args.root
    return TrainConfig(**values)
