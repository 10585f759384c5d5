"""One ``cnnbook train`` run in this process (one of many under ``torchrun``)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from cnnbook.trainer.checkpoint import (
    _HISTORY_KEYS,
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointError,
    _atomic_write,
    _metrics_csv,
    _remove_stale_temporaries,
    load_checkpoint,
)
from cnnbook.trainer.config import TrainConfig
from cnnbook.trainer.data import loaders
from cnnbook.trainer.model import build_model

__all__ = ["train"]


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
        train_loader, val_loader, data = loaders(config, world)
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
