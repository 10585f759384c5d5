"""What the datasets are: their files, checksums and mirrors, and where they live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DATASETS", "DataError", "DatasetSpec", "FileSpec", "data_root", "dataset_spec", "fetch_name"]


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
PARTS = {
    "mnist10k": ("mnist", ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")),
}


def dataset_spec(name) -> DatasetSpec:
    """The :class:`DatasetSpec` of a dataset name (or of a part such as ``mnist10k``)."""
    if isinstance(name, DatasetSpec):
        return name
    if name in DATASETS:
        return DATASETS[name]
    if name in PARTS:
        parent, files = PARTS[name]
        return DATASETS[parent].subset(files)
    known = ", ".join(sorted([*DATASETS, *PARTS]))
    raise ValueError(f"unknown dataset {name!r}; expected one of: {known}")


def fetch_name(dataset: str, filename: str) -> str:
    """The smallest name ``cnnbook data fetch`` takes that downloads ``filename`` of ``dataset``
    (``mnist10k`` for MNIST's test files, not the whole of ``mnist``)."""
    for part, (parent, files) in PARTS.items():
        if parent == dataset and filename in files:
            return part
    return dataset


def data_root() -> Path:
    """The folder that holds the datasets (see :mod:`cnnbook.data` for the order)."""
    env = os.environ.get("CNNBOOK_DATA")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "notebooks").is_dir():
        return repo / "data"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cnnbook"


def resolve_root(root) -> Path:
    return Path(root) if root is not None else data_root()
