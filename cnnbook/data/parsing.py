"""Reading the published file formats: IDX (MNIST, Fashion-MNIST) and CIFAR-10's binary batches."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["CIFAR10_CLASSES", "parse_cifar10_batch", "parse_idx", "read_idx"]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes, source="IDX data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file; ``source`` names them in errors."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{source}: expected an IDX header (0, 0, type, ndim), got {raw[:4]!r}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{source}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{source}: expected {expected} bytes for shape {shape}, got {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed when its name ends in ``.gz``), the format of MNIST
    and Fashion-MNIST. Raises ``ValueError`` naming the file when it cannot be decoded."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # not gzip, truncated, bad CRC or data
            raise ValueError(f"{path}: not a readable gzip file ({exc})") from None
    return parse_idx(raw, str(path))


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
