"""Downloading a dataset from its mirrors (``cnnbook data fetch``)."""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from cnnbook.data.catalog import DataError, FileSpec, dataset_spec, resolve_root
from cnnbook.data.checksums import check_file

__all__ = ["fetch"]


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
    spec = dataset_spec(name)
    mirrors = tuple(mirrors) if mirrors is not None else spec.mirrors
    folder = resolve_root(root) / spec.folder
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
