"""Checking dataset files against their recorded checksums (``cnnbook data verify``)."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from cnnbook.data.catalog import DATASETS, FileSpec, dataset_spec, resolve_root

__all__ = ["check_file", "verify"]


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
    root = resolve_root(root)
    report = {}
    for name in names or DATASETS:
        spec = dataset_spec(name)
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
