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

The package has a module per concern:

- :mod:`~cnnbook.data.catalog`: the datasets' files, checksums and mirrors; the data root;
- :mod:`~cnnbook.data.checksums`: checking files against their checksums (``verify``);
- :mod:`~cnnbook.data.download`: fetching from the mirrors (``fetch``);
- :mod:`~cnnbook.data.parsing`: the IDX and CIFAR-10 binary formats;
- :mod:`~cnnbook.data.loading`: datasets as arrays (``load_dataset``) and torch loaders.
"""

from cnnbook.data.catalog import DATASETS, DataError, DatasetSpec, FileSpec, data_root
from cnnbook.data.checksums import check_file, verify
from cnnbook.data.download import fetch
from cnnbook.data.loading import (
    MNIST10K_SEED,
    MNIST10K_TRAIN,
    load_cifar10,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_mnist10k,
    make_loaders,
)
from cnnbook.data.parsing import CIFAR10_CLASSES, parse_cifar10_batch, parse_idx, read_idx

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
    "parse_idx",
    "parse_cifar10_batch",
    "CIFAR10_CLASSES",
    "load_mnist",
    "load_mnist10k",
    "load_fashion_mnist",
    "load_cifar10",
    "load_dataset",
    "make_loaders",
    "MNIST10K_SEED",
    "MNIST10K_TRAIN",
]
