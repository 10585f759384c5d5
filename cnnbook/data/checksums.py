"""Checking dataset files against their recorded checksums (``cnnbook data verify``).

Loading uses the same check as ``verify``, so a file that verify calls corrupt is never
trained on: the files are small enough (MNIST's test images are 1.6 MB compressed,
7.8 MB decompressed) for the check to cost milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from cnnbook.data.catalog import DATASETS, DataError, FileSpec, dataset_spec, resolve_root

__all__ = ["check_bytes", "check_file", "verify"]


def check_bytes(blob: bytes, spec: FileSpec) -> tuple[str | None, bytes | None]:
    """Check a file's content against ``spec``: ``(None, payload)`` if good, else ``(why, None)``.

    A file equal to the published one is accepted at once (its payload, the decompressed
    content of a ``.gz`` file, is then ``None``: not computed). Otherwise the file must be
    readable gzip whose payload has the recorded size and checksum, which accepts a
    re-compressed copy of the official file.
    """
    published = hashlib.md5(blob).hexdigest()
    if published == spec.published_md5:
        return None, None
    if spec.md5 is None:
        return f"md5 {published} does not match the published {spec.published_md5}", None
    try:
        payload = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as exc:  # not gzip, truncated, bad CRC or data
        return f"not a readable gzip file ({exc})", None
    if spec.size and len(payload) != spec.size:
        return f"decompressed size {len(payload)} does not match the expected {spec.size}", None
    digest = hashlib.md5(payload).hexdigest()
    if digest != spec.md5:
        return f"decompressed md5 {digest} does not match the expected {spec.md5}", None
    return None, payload


def check_file(path, spec: FileSpec) -> str | None:
    """Return ``None`` if ``path`` holds ``spec``'s payload, else why it does not."""
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return check_bytes(blob, spec)[0]


def check_root(root) -> Path:
    """``root`` as a :class:`~pathlib.Path` if it is a readable folder, else :class:`DataError`."""
    root = resolve_root(root)
    if not root.exists():
        raise DataError(f"data root {root} does not exist (set CNNBOOK_DATA or --root to the folder "
                        f"that holds the datasets, or create it with `cnnbook data fetch mnist10k`)")
    if not root.is_dir():
        raise DataError(f"data root {root} is not a folder")
    try:
        next(root.iterdir(), None)
    except OSError as exc:
        raise DataError(f"data root {root} cannot be read ({exc.strerror or exc})") from None
    return root


def verify(root=None, names=None) -> dict:
    """Check every dataset file present under ``root``.

    Returns ``{dataset: {"status": ..., "files": {filename: status}}}`` where a file's
    status is ``"ok"``, ``"missing"`` or ``"corrupt: <why>"`` and a dataset's status is
    ``"complete"``, ``"partial"``, ``"missing"`` or ``"corrupt"``. Raises
    :class:`DataError` when ``root`` does not exist or cannot be read.
    """
    root = check_root(root)
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
