"""The run folder's files: written atomically (a temporary name, renamed when complete), and
checkpoints read back with ``torch.load(weights_only=True)``."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

__all__ = ["CheckpointError", "METRICS", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "load_checkpoint"]

CHECKPOINT_FORMAT = "cnnbook-train-checkpoint"
CHECKPOINT_VERSION = 1

#: The columns of ``metrics.csv``.
METRICS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds",
           "images_per_second")


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or was written by another run or program."""


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
