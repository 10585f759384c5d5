"""Downloading a dataset from its mirrors (``cnnbook data fetch``).

Each file is downloaded into a temporary ``.NAME.*.part`` file beside its destination and
renamed into place only once its checksum matches, so a failed or interrupted download
never leaves a file that looks complete. A running download holds a lock on its temporary
file; a ``.part`` file that nobody holds was left by a download that was killed, and the
next fetch of that file removes it.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from cnnbook.data.catalog import DataError, FileSpec, dataset_spec, resolve_root
from cnnbook.data.checksums import check_file

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, stale files are recognized by age
    fcntl = None

__all__ = ["fetch"]

# Without locks, a .part file untouched this long is taken to be stale.
STALE_PART_SECONDS = 24 * 3600


class _MirrorFailed(Exception):
    """One mirror did not deliver a valid file; the message says what it did."""


def _part_files(folder: Path, filename: str) -> list[Path]:
    return sorted(folder.glob(f".{filename}.*.part"))


def _is_stale(part: Path) -> bool:
    if fcntl is None:
        return time.time() - part.stat().st_mtime > STALE_PART_SECONDS
    with open(part, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a download in progress holds it
        return True


def _remove_stale_parts(folder: Path, filename: str) -> None:
    """Remove the temporary files of downloads of ``filename`` that were killed."""
    for part in _part_files(folder, filename):
        try:
            if _is_stale(part):
                part.unlink()
        except OSError:  # gone already, or not ours to remove: harmless
            pass


def _reason(exc: BaseException) -> str:
    """What a mirror did, in a few words."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, http.client.IncompleteRead):
        return "short read (a chunked answer ended early)"
    if isinstance(exc, http.client.HTTPException):
        return f"malformed HTTP answer ({type(exc).__name__}: {str(exc).strip()})"
    if isinstance(exc, ValueError):
        return f"malformed URL ({exc})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc)


def _write(out, block: bytes, tmp: Path) -> None:
    try:
        out.write(block)
    except OSError as exc:  # a full disk: the folder's fault, not the mirror's
        raise DataError(f"cannot write {tmp} ({exc.strerror or exc})") from None


def _download(url, out, tmp: Path, spec: FileSpec, timeout: float, progress: bool) -> None:
    """Download ``url`` into the open file ``out`` (at ``tmp``) and check it against ``spec``."""
    from tqdm.auto import tqdm

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=spec.filename,
                      disable=not progress, leave=False) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    _write(out, block, tmp)
                    received += len(block)
                    bar.update(len(block))
    except (OSError, http.client.HTTPException, ValueError) as exc:  # OSError: URLError, sockets, TLS
        raise _MirrorFailed(_reason(exc)) from None
    try:
        out.flush()
    except OSError as exc:
        raise DataError(f"cannot write {tmp} ({exc.strerror or exc})") from None
    if total is not None and received < total:
        raise _MirrorFailed(f"short read: {received} of {total} bytes")
    why = check_file(tmp, spec)
    if why is not None:
        raise _MirrorFailed(why)


def _fetch_file(url, dest: Path, spec: FileSpec, timeout: float, progress: bool) -> None:
    """Download one file from one mirror; it replaces ``dest`` only once it is verified.

    Raises :class:`_MirrorFailed` when the mirror is at fault, :class:`DataError` when the
    folder is (it cannot be written): then no other mirror would do better.
    """
    folder = dest.parent
    try:
        fd, name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise DataError(f"cannot write into {folder} ({exc.strerror or exc}); "
                        f"set CNNBOOK_DATA or --root to a writable folder") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            if fcntl is not None:
                fcntl.flock(out, fcntl.LOCK_EX)  # held until the file is renamed or removed
            _download(url, out, tmp, spec, timeout, progress)
            try:
                os.replace(tmp, dest)
            except OSError as exc:
                raise DataError(f"cannot write {dest} ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def fetch(name, root=None, *, mirrors=None, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download the files of dataset ``name`` that are not already present and valid.

    Each file is tried on every mirror in turn: a mirror that cannot be reached, answers
    with an error or with something that is not HTTP, sends less than it announced or a
    file whose checksum does not match is skipped for the next one. A file is written to a
    temporary file and renamed into place only after its checksum matches, so an
    interrupted or corrupt download never leaves a file behind. Raises :class:`DataError`
    naming what every mirror did when none delivers a valid file, or when the data root
    cannot be written.
    """
    spec = dataset_spec(name)
    mirrors = tuple(mirrors) if mirrors is not None else spec.mirrors
    folder = resolve_root(root) / spec.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {folder} ({exc.strerror or exc})") from None
    for f in spec.files:
        dest = folder / f.filename
        _remove_stale_parts(folder, f.filename)
        if dest.is_file() and check_file(dest, f) is None:
            continue
        if not os.access(folder, os.W_OK):
            raise DataError(f"{dest} is missing or corrupt and {folder} is not writable; "
                            f"set CNNBOOK_DATA or --root to a writable folder")
        if not mirrors:
            raise DataError(f"could not fetch {f.filename}: no mirror to fetch it from")
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + f.filename
            try:
                _fetch_file(url, dest, f, timeout, progress)
                break
            except _MirrorFailed as exc:
                errors.append(f"{url}: {exc}")
        else:
            tried = "1 mirror" if len(mirrors) == 1 else f"{len(mirrors)} mirrors"
            raise DataError(f"could not fetch {f.filename} ({tried} tried): " + "; ".join(errors))
    return folder
