"""Loading the datasets as NumPy arrays, and torch loaders over them."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from cnnbook.data.catalog import DataError, FileSpec, dataset_spec, resolve_root
from cnnbook.data.checksums import check_bytes
from cnnbook.data.parsing import parse_cifar10_batch, parse_idx

__all__ = [
    "MNIST10K_SEED",
    "MNIST10K_TRAIN",
    "load_cifar10",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist10k",
    "make_loaders",
]

#: Seed of the permutation that splits the MNIST test set into MNIST-10k's two parts.
MNIST10K_SEED = 20100
MNIST10K_TRAIN = 8000


def _require(name, root: Path, filenames) -> list[tuple[Path, FileSpec]]:
    """The paths of a dataset's files and their specs; :class:`DataError` if one is missing.

    ``name`` is the dataset the caller asked for, the one the hint tells to fetch.
    """
    spec = dataset_spec(name)
    known = {f.filename: f for f in spec.files}
    paths = [root / spec.folder / filename for filename in filenames]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{missing[0]} not found (data root {root}). Fetch it with "
            f"`cnnbook data fetch {name}`, or set CNNBOOK_DATA to a folder that holds it."
        )
    return [(p, known[p.name]) for p in paths]


def _damaged(path: Path, why, name) -> DataError:
    return DataError(
        f"{path} is damaged ({why}). Check the data root with `cnnbook data verify`; "
        f"`cnnbook data fetch {name}` downloads the file again."
    )


def _read_checked(path: Path, spec: FileSpec, name) -> tuple[bytes, bytes | None]:
    """The file's bytes, once they match its recorded checksums (and its payload if computed)."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror or exc})") from None
    why, payload = check_bytes(blob, spec)
    if why is not None:
        raise _damaged(path, why, name)
    return blob, payload


def _read_idx_checked(path: Path, spec: FileSpec, name) -> np.ndarray:
    blob, payload = _read_checked(path, spec, name)
    try:
        return parse_idx(gzip.decompress(blob) if payload is None else payload, "IDX payload")
    except (ValueError, OSError, EOFError, zlib.error) as exc:
        raise _damaged(path, exc, name) from None


def _images(x: np.ndarray, dtype) -> np.ndarray:
    """uint8 images, (N, H, W) or already (N, C, H, W), as (N, C, H, W) in [0, 1] of ``dtype``."""
    if x.ndim == 3:
        x = x[:, None]
    return (x.astype(dtype) / 255.0).astype(dtype)


def _load_idx_pair(name, split, root, dtype):
    """One split of an IDX dataset, each file checked against its checksums first."""
    prefix = {"train": "train", "test": "t10k"}[split]
    (images, x_spec), (labels, y_spec) = _require(
        name, resolve_root(root), (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    )
    x, y = _read_idx_checked(images, x_spec, name), _read_idx_checked(labels, y_spec, name)
    if len(x) != len(y):
        raise DataError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels; "
                        f"`cnnbook data fetch {name}` downloads them again")
    return _images(x, dtype), y.astype(np.int64)


def load_mnist(root=None, *, dtype=np.float32):
    """Full MNIST: ``(x_train, y_train, x_test, y_test)``, images (N, 1, 28, 28) in [0, 1]."""
    return (*_load_idx_pair("mnist", "train", root, dtype), *_load_idx_pair("mnist", "test", root, dtype))


def load_fashion_mnist(root=None, *, dtype=np.float32):
    """Fashion-MNIST: ``(x_train, y_train, x_test, y_test)``, like :func:`load_mnist`."""
    return (
        *_load_idx_pair("fashion-mnist", "train", root, dtype),
        *_load_idx_pair("fashion-mnist", "test", root, dtype),
    )


def load_mnist10k(root=None, *, dtype=np.float32):
    """MNIST-10k: ``(x_train, y_train, x_val, y_val)`` with 8,000 and 2,000 images.

    The official MNIST test set, permuted once with ``MNIST10K_SEED``; the first 8,000
    images train and the last 2,000 are held out. The split never changes and the two
    parts never share an image. Images are (N, 1, 28, 28) in [0, 1], labels int64.
    """
    x, y = _load_idx_pair("mnist10k", "test", root, dtype)
    order = np.random.default_rng(MNIST10K_SEED).permutation(len(x))
    train, val = order[:MNIST10K_TRAIN], order[MNIST10K_TRAIN:]
    return x[train], y[train], x[val], y[val]


def load_cifar10(root=None, *, dtype=np.float32):
    """CIFAR-10 from the binary archive (no pickle): ``(x_train, y_train, x_test, y_test)``.

    Images are (N, 3, 32, 32) in [0, 1]; the archive is read in place, not extracted.
    """
    ((path, spec),) = _require("cifar10", resolve_root(root), ("cifar-10-binary.tar.gz",))
    blob, _ = _read_checked(path, spec, "cifar10")
    parts = {"train": [], "test": []}
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                base = os.path.basename(member.name)
                if base.startswith("data_batch_") and base.endswith(".bin"):
                    split = "train"
                elif base == "test_batch.bin":
                    split = "test"
                else:
                    continue
                raw = tar.extractfile(member).read()
                parts[split].append(parse_cifar10_batch(raw, member.name))
    except (tarfile.TarError, ValueError, OSError, EOFError, zlib.error) as exc:
        raise _damaged(path, exc, "cifar10") from None
    if not parts["train"] or not parts["test"]:
        raise _damaged(path, "expected data_batch_*.bin and test_batch.bin members", "cifar10")
    out = []
    for split in ("train", "test"):
        x = np.concatenate([p[0] for p in parts[split]])
        y = np.concatenate([p[1] for p in parts[split]])
        out += [_images(x, dtype), y]
    return tuple(out)


_LOADERS = {
    "mnist10k": load_mnist10k,
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
}


def load_dataset(name="mnist10k", root=None, *, dtype=np.float32, n_train=None, n_val=None):
    """Load a dataset by name as ``(x_train, y_train, x_val, y_val)`` NumPy arrays.

    ``n_train`` / ``n_val`` keep the first images of each part (for fast runs).
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; expected one of: {', '.join(_LOADERS)}")
    x_train, y_train, x_val, y_val = _LOADERS[name](root, dtype=dtype)
    for label, n, total in (("n_train", n_train, len(x_train)), ("n_val", n_val, len(x_val))):
        if n is not None and not 0 < n <= total:
            raise ValueError(f"{label} must be in 1..{total} for {name}, got {n}")
    return x_train[:n_train], y_train[:n_train], x_val[:n_val], y_val[:n_val]


def make_loaders(x_train, y_train, x_val=None, y_val=None, *, batch_size=64, seed=0,
                 val_batch_size=1000):
    """Torch ``DataLoader``s over NumPy arrays: a shuffled training loader (its own seeded
    generator, so the order does not depend on other random draws) and an ordered
    validation loader (``None`` when no validation arrays are given).

    Batches are gathered with one indexing operation each rather than image by image,
    which matters for large batches; the order is the one ``shuffle=True`` would give.
    """
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

    for name, size in (("batch_size", batch_size), ("val_batch_size", val_batch_size)):
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    if len(x_train) != len(y_train):
        raise ValueError(f"expected as many labels as images, got {len(y_train)} and {len(x_train)}")
    g = torch.Generator().manual_seed(seed)
    train_set = TensorDataset(torch.as_tensor(x_train), torch.as_tensor(y_train))
    sampler = BatchSampler(RandomSampler(train_set, generator=g), batch_size, drop_last=False)
    train = DataLoader(train_set, sampler=sampler, batch_size=None, generator=g)
    if x_val is None:
        return train, None
    if len(x_val) != len(y_val):
        raise ValueError(f"expected as many labels as images, got {len(y_val)} and {len(x_val)}")
    val_set = TensorDataset(torch.as_tensor(x_val), torch.as_tensor(y_val))
    val = DataLoader(val_set, sampler=BatchSampler(SequentialSampler(val_set), val_batch_size, False),
                     batch_size=None)
    return train, val
