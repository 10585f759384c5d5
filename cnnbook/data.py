"""Datasets of the course: where they live, how they are fetched, verified and loaded.

The data root is, in order of preference:

1. the ``CNNBOOK_DATA`` environment variable, if set;
2. ``data/`` at the repository root, when ``cnnbook`` runs from a checkout;
3. a per-user cache folder (``$XDG_CACHE_HOME/cnnbook`` or ``~/.cache/cnnbook``).

Each dataset has a folder under the root (``mnist/``, ``fashion-mnist/``, ``cifar-10/``)
holding the files exactly as published. A read-only root works for loading and verifying.

The book's default dataset is **MNIST-10k**: the official MNIST test set (10,000 digits)
split once and for all, with a fixed seed, into 8,000 training and 2,000 held-out images.
It is small enough for every chapter to train on a laptop CPU. Notebooks switch to the full
MNIST (60,000 training / 10,000 test images) with a parameter once it has been fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "DataError",
    "DatasetSpec",
    "FileSpec",
    "data_root",
    "fetch",
    "verify",
    "check_file",
    "read_idx",
    "load_mnist",
    "load_mnist10k",
    "load_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "make_loaders",
    "MNIST10K_SEED",
]

#: Seed of the permutation that splits the MNIST test set into MNIST-10k's two parts.
MNIST10K_SEED = 20100
MNIST10K_TRAIN = 8000


class DataError(RuntimeError):
    """A dataset is missing, corrupt or could not be fetched. The message says which file."""


@dataclass(frozen=True)
class FileSpec:
    """One published file of a dataset.

    ``md5`` is the checksum of the *decompressed* payload when it is known, so that a
    re-compressed copy of the official file is accepted; ``published_md5`` is the checksum
    of the file as the mirrors serve it. ``size`` is the decompressed size in bytes.
    """

    filename: str
    published_md5: str
    size: int
    md5: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    folder: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]

    def subset(self, filenames) -> DatasetSpec:
        files = tuple(f for f in self.files if f.filename in filenames)
        return DatasetSpec(self.name, self.folder, files, self.mirrors)


DATASETS = {
    "mnist": DatasetSpec(
        "mnist",
        "mnist",
        (
            FileSpec("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 47040016),
            FileSpec("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 60008),
            FileSpec(
                "t10k-images-idx3-ubyte.gz",
                "9fb629c4189551a2d022fa330f9573f3",
                7840016,
                md5="2646ac647ad5339dbf082846283269ea",
            ),
            FileSpec(
                "t10k-labels-idx1-ubyte.gz",
                "ec29112dd5afa0611ce80d1b7f02629c",
                10008,
                md5="27ae3e4e09519cfbb04c329615203637",
            ),
        ),
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist",
        "fashion-mnist",
        (
            FileSpec("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 47040016),
            FileSpec("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 60008),
            FileSpec("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 7840016),
            FileSpec("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 10008),
        ),
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
    ),
    "cifar10": DatasetSpec(
        "cifar10",
        "cifar-10",
        (FileSpec("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", 0),),
        ("https://www.cs.toronto.edu/~kriz/",),
    ),
}

# Names that fetch/verify accept besides DATASETS: a part of a dataset.
_PARTS = {
    "mnist10k": ("mnist", ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")),
}


def _spec(name) -> DatasetSpec:
    if isinstance(name, DatasetSpec):
        return name
    if name in DATASETS:
        return DATASETS[name]
    if name in _PARTS:
        parent, files = _PARTS[name]
        return DATASETS[parent].subset(files)
    known = ", ".join(sorted([*DATASETS, *_PARTS]))
    raise ValueError(f"unknown dataset {name!r}; expected one of: {known}")


def data_root() -> Path:
    """The folder that holds the datasets (see the module docstring for the order)."""
    env = os.environ.get("CNNBOOK_DATA")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file() and (repo / "notebooks").is_dir():
        return repo / "data"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cnnbook"


def _root(root) -> Path:
    return Path(root) if root is not None else data_root()


# --- checksums -------------------------------------------------------------------------


def _md5(stream) -> tuple[str, int]:
    digest, size = hashlib.md5(), 0
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def check_file(path, spec: FileSpec) -> str | None:
    """Return ``None`` if ``path`` holds ``spec``'s payload, else why it does not.

    A file equal to the published one is accepted at once. Otherwise its decompressed
    payload is compared with the recorded checksum, which accepts a re-compressed copy.
    """
    path = Path(path)
    with open(path, "rb") as f:
        published, _ = _md5(f)
    if published == spec.published_md5:
        return None
    if spec.md5 is None:
        return f"md5 {published} does not match the published {spec.published_md5}"
    try:
        with gzip.open(path, "rb") as f:
            payload, size = _md5(f)
    except (OSError, EOFError, zlib.error) as exc:
        return f"not a readable gzip file ({exc})"
    if payload != spec.md5:
        return f"decompressed md5 {payload} does not match the expected {spec.md5}"
    if size != spec.size:  # pragma: no cover - an md5 match with another size is impossible
        return f"decompressed size {size} does not match the expected {spec.size}"
    return None


def verify(root=None, names=None) -> dict:
    """Check every dataset file present under ``root``.

    Returns ``{dataset: {"status": ..., "files": {filename: status}}}`` where a file's
    status is ``"ok"``, ``"missing"`` or ``"corrupt: <why>"`` and a dataset's status is
    ``"complete"``, ``"partial"``, ``"missing"`` or ``"corrupt"``.
    """
    root = _root(root)
    report = {}
    for name in names or DATASETS:
        spec = _spec(name)
        files = {}
        for f in spec.files:
            path = root / spec.folder / f.filename
            if not path.is_file():
                files[f.filename] = "missing"
                continue
            why = check_file(path, f)
            files[f.filename] = "ok" if why is None else f"corrupt: {why}"
        states = set(s.split(":")[0] for s in files.values())
        if "corrupt" in states:
            status = "corrupt"
        elif states == {"ok"}:
            status = "complete"
        elif states == {"missing"}:
            status = "missing"
        else:
            status = "partial"
        report[spec.name if name in DATASETS else name] = {"status": status, "files": files}
    return report


# --- downloading -----------------------------------------------------------------------


def _download(url, dest: Path, spec: FileSpec, timeout: float, progress: bool) -> None:
    """Download ``url`` into a temp file beside ``dest``; rename it only once verified."""
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=spec.filename,
                      disable=not progress, leave=False) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        why = check_file(tmp, spec)
        if why is not None:
            raise DataError(f"{url}: {why}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch(name, root=None, *, mirrors=None, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download the files of dataset ``name`` that are not already present and valid.

    Each file is tried on every mirror in turn; it is written to a temporary file and
    renamed into place only after its checksum matches, so an interrupted or corrupt
    download never leaves a file behind. Raises :class:`DataError` naming every mirror's
    failure when no mirror delivers a valid file.
    """
    spec = _spec(name)
    mirrors = tuple(mirrors) if mirrors is not None else spec.mirrors
    folder = _root(root) / spec.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder}: {exc.strerror}") from None
    for f in spec.files:
        dest = folder / f.filename
        if dest.is_file() and check_file(dest, f) is None:
            continue
        if not os.access(folder, os.W_OK):
            raise DataError(f"{dest} is missing or corrupt and {folder} is not writable")
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + f.filename
            try:
                _download(url, dest, f, timeout, progress)
                break
            except DataError as exc:
                errors.append(str(exc))
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                reason = getattr(exc, "reason", None) or exc
                errors.append(f"{url}: {reason}")
        else:
            raise DataError(f"could not fetch {f.filename}: " + "; ".join(errors))
    return folder


# --- parsing ---------------------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed), the format of MNIST and Fashion-MNIST."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: expected an IDX header (0, 0, type, ndim), got {raw[:4]!r}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: expected {expected} bytes for shape {shape}, got {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _require(spec: DatasetSpec, root: Path, filenames) -> list[Path]:
    paths = [root / spec.folder / name for name in filenames]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{missing[0]} not found (data root {root}). Fetch it with "
            f"`cnnbook data fetch {spec.name}`, or set CNNBOOK_DATA to a folder that holds it."
        )
    return paths


def _images(x: np.ndarray, dtype) -> np.ndarray:
    """uint8 (N, H, W[, C]) -> (N, C, H, W) in [0, 1] of ``dtype``."""
    if x.ndim == 3:
        x = x[:, None]
    return (x.astype(dtype) / 255.0).astype(dtype)


def _load_idx_pair(name, split, root, dtype):
    spec = _spec(name)
    prefix = {"train": "train", "test": "t10k"}[split]
    images, labels = _require(
        spec, _root(root), (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    )
    x, y = read_idx(images), read_idx(labels)
    if len(x) != len(y):
        raise ValueError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels")
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
    x, y = _load_idx_pair("mnist", "test", root, dtype)
    order = np.random.default_rng(MNIST10K_SEED).permutation(len(x))
    train, val = order[:MNIST10K_TRAIN], order[MNIST10K_TRAIN:]
    return x[train], y[train], x[val], y[val]


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


def parse_cifar10_batch(raw: bytes, source="CIFAR-10 batch"):
    """Parse a CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (CHW)."""
    record = 1 + 3 * 32 * 32
    if len(raw) == 0 or len(raw) % record:
        raise ValueError(f"{source}: expected a multiple of {record} bytes, got {len(raw)}")
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
    labels = arr[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{source}: expected labels 0..9, got {labels.max()}")
    return arr[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(root=None, *, dtype=np.float32):
    """CIFAR-10 from the binary archive (no pickle): ``(x_train, y_train, x_test, y_test)``.

    Images are (N, 3, 32, 32) in [0, 1]; the archive is read in place, not extracted.
    """
    spec = _spec("cifar10")
    (archive,) = _require(spec, _root(root), ("cifar-10-binary.tar.gz",))
    parts = {"train": [], "test": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            base = os.path.basename(member.name)
            if base.startswith("data_batch_") and base.endswith(".bin"):
                split = "train"
            elif base == "test_batch.bin":
                split = "test"
            else:
                continue
            raw = tar.extractfile(member).read()
            parts[split].append(parse_cifar10_batch(raw, f"{archive}:{member.name}"))
    if not parts["train"] or not parts["test"]:
        raise ValueError(f"{archive}: expected data_batch_*.bin and test_batch.bin members")
    out = []
    for split in ("train", "test"):
        x = np.concatenate([p[0] for p in parts[split]])
        y = np.concatenate([p[1] for p in parts[split]])
        out += [(x.astype(dtype) / 255.0).astype(dtype), y]
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
