"""Downloads against a real HTTP server on 127.0.0.1, started by the tests."""

import gzip
import hashlib
import http.server
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cnnbook import cli, data

PAYLOAD = bytes(range(256)) * 40


def _spec(published: bytes, payload: bytes = PAYLOAD):
    f = data.FileSpec(
        "tiny-idx1-ubyte.gz",
        published_md5=hashlib.md5(published).hexdigest(),
        size=len(payload),
        md5=hashlib.md5(payload).hexdigest(),
    )
    return data.DatasetSpec("tiny", "tiny", (f,), mirrors=())


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``files``; under ``/garbage/`` it answers with a line that is not HTTP, under
    ``/truncated/`` it announces the whole file but sends half of it and hangs up, and under
    ``/chunked/`` it sends the file as one chunk, cut short the same way, and under
    ``/stall/`` it sends half of the file and then nothing for a minute."""

    files: dict = {}
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        if self.path.startswith("/garbage/"):
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if self.path.startswith("/chunked/"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n" % len(body) + body[: len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith(("/truncated/", "/stall/")):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if self.path.startswith("/stall/"):
                time.sleep(60)  # the server's threads are daemons: nothing waits for this one
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local HTTP server whose files (path -> bytes) a test sets."""
    handler = type("Handler", (_Handler,), {"files": {}, "hits": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.handler = handler
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here any more
    return port


def _leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_file_is_accepted(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/a/tiny-idx1-ubyte.gz"] = published
    folder = data.fetch(_spec(published), tmp_path, mirrors=[server.base + "/a/"], progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published
    assert _leftovers(folder) == ["tiny-idx1-ubyte.gz"]
    # a second fetch finds the valid file and downloads nothing
    data.fetch(_spec(published), tmp_path, mirrors=[server.base + "/a/"], progress=False)
    assert len(server.handler.hits) == 1


def test_recompressed_copy_is_accepted_by_its_payload(server, tmp_path):
    published = gzip.compress(PAYLOAD, compresslevel=9, mtime=0)
    recompressed = gzip.compress(PAYLOAD, compresslevel=1, mtime=1)
    assert recompressed != published
    server.handler.files["/tiny-idx1-ubyte.gz"] = recompressed
    folder = data.fetch(_spec(published), tmp_path, mirrors=[server.base], progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == recompressed


def test_corrupted_payload_is_rejected_and_nothing_is_left(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    corrupt = gzip.compress(PAYLOAD[:-1] + b"\x00")
    server.handler.files["/tiny-idx1-ubyte.gz"] = corrupt
    with pytest.raises(data.DataError, match=r"could not fetch tiny-idx1-ubyte.gz \(1 mirror tried\): .*decompressed md5"):
        data.fetch(_spec(published), tmp_path, mirrors=[server.base], progress=False)
    assert _leftovers(tmp_path / "tiny") == []


def test_first_mirror_down_second_mirror_used(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/second/tiny-idx1-ubyte.gz"] = published
    dead = f"http://127.0.0.1:{_closed_port()}/first/"
    mirrors = [dead, server.base + "/missing/", server.base + "/second/"]
    folder = data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published
    assert server.handler.hits == ["/missing/tiny-idx1-ubyte.gz", "/second/tiny-idx1-ubyte.gz"]


def test_no_server_gives_a_clear_error(tmp_path):
    published = gzip.compress(PAYLOAD)
    mirrors = [f"http://127.0.0.1:{_closed_port()}/", f"http://127.0.0.1:{_closed_port()}/"]
    with pytest.raises(data.DataError) as info:
        data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False, timeout=5)
    message = str(info.value)
    assert message.startswith("could not fetch tiny-idx1-ubyte.gz (2 mirrors tried): ")
    assert message.count("Connection refused") == 2
    assert _leftovers(tmp_path / "tiny") == []


def test_cli_fetch_offline_prints_one_line_and_exits_1(tmp_path, capsys, monkeypatch):
    published = gzip.compress(PAYLOAD)
    spec = _spec(published)
    spec = data.DatasetSpec(spec.name, spec.folder, spec.files, (f"http://127.0.0.1:{_closed_port()}/",))
    monkeypatch.setitem(data.DATASETS, "tiny", spec)
    assert cli.main(["data", "fetch", "tiny", "--root", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: could not fetch tiny-idx1-ubyte.gz")


def test_real_idx_file_through_the_server_then_loaded(server, tmp_path, monkeypatch):
    """The whole path: serve gzip IDX files, fetch them, load them as arrays."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 6, dtype=np.uint8)
    raw_images = bytes([0, 0, 8, 3]) + np.array([6, 28, 28], ">u4").tobytes() + images.tobytes()
    raw_labels = bytes([0, 0, 8, 1]) + np.array([6], ">u4").tobytes() + labels.tobytes()
    files = []
    for prefix in ("train", "t10k"):
        for kind, raw in (("images-idx3", raw_images), ("labels-idx1", raw_labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            blob = gzip.compress(raw)
            server.handler.files["/" + name] = blob
            files.append(data.FileSpec(name, hashlib.md5(blob).hexdigest(), len(raw)))
    spec = data.DatasetSpec("fashion-mnist", "fashion-mnist", tuple(files), (server.base,))
    monkeypatch.setitem(data.DATASETS, "fashion-mnist", spec)  # loading checks these checksums
    data.fetch("fashion-mnist", tmp_path, progress=False)
    x_train, y_train, x_test, y_test = data.load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(y_test, labels)
    np.testing.assert_allclose(x_train[:, 0] * 255, images, atol=1e-3)


# --- one bad mirror never stops the download ----------------------------------------------


def test_garbage_status_line_moves_on_to_the_next_mirror(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/good/tiny-idx1-ubyte.gz"] = published
    mirrors = [server.base + "/garbage/", server.base + "/good/"]
    folder = data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published
    assert server.handler.hits == ["/garbage/tiny-idx1-ubyte.gz", "/good/tiny-idx1-ubyte.gz"]


def test_malformed_url_moves_on_to_the_next_mirror(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/good/tiny-idx1-ubyte.gz"] = published
    mirrors = ["http://[::1/", "no-scheme.example/", server.base + "/good/"]
    folder = data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published


def test_short_read_moves_on_to_the_next_mirror(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/truncated/tiny-idx1-ubyte.gz"] = published
    server.handler.files["/good/tiny-idx1-ubyte.gz"] = published
    mirrors = [server.base + "/truncated/", server.base + "/good/"]
    folder = data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published
    assert _leftovers(folder) == ["tiny-idx1-ubyte.gz"]


def test_checksum_mismatch_moves_on_to_the_next_mirror(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/bad/tiny-idx1-ubyte.gz"] = gzip.compress(PAYLOAD[::-1])
    server.handler.files["/good/tiny-idx1-ubyte.gz"] = published
    mirrors = [server.base + "/bad/", server.base + "/good/"]
    folder = data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False)
    assert (folder / "tiny-idx1-ubyte.gz").read_bytes() == published


def test_every_mirror_failing_gives_one_error_listing_each(server, tmp_path):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/truncated/tiny-idx1-ubyte.gz"] = published
    server.handler.files["/chunked/tiny-idx1-ubyte.gz"] = published
    server.handler.files["/bad/tiny-idx1-ubyte.gz"] = gzip.compress(PAYLOAD[::-1])
    dead = f"http://127.0.0.1:{_closed_port()}/"
    mirrors = [server.base + "/garbage/", "http://[::1/", server.base + "/truncated/",
               server.base + "/chunked/", server.base + "/bad/", server.base + "/missing/", dead]
    with pytest.raises(data.DataError) as info:
        data.fetch(_spec(published), tmp_path, mirrors=mirrors, progress=False, timeout=5)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("could not fetch tiny-idx1-ubyte.gz (7 mirrors tried): ")
    reasons = message.split("tried): ", 1)[1].split("; ")
    assert len(reasons) == 7
    expected = [
        (server.base + "/garbage/", "malformed HTTP answer"),
        ("http://[::1/", "malformed URL"),
        (server.base + "/truncated/", f"short read: {len(published) // 2} of {len(published)} bytes"),
        (server.base + "/chunked/", "short read (a chunked answer ended early)"),
        (server.base + "/bad/", "decompressed md5"),
        (server.base + "/missing/", "HTTP 404"),
        (dead, "Connection refused"),
    ]
    for reason, (mirror, what) in zip(reasons, expected):
        assert reason.startswith(mirror + "tiny-idx1-ubyte.gz: ") and what in reason, reason
    assert _leftovers(tmp_path / "tiny") == []


def test_no_mirror_at_all_is_an_error(tmp_path):
    with pytest.raises(data.DataError, match="could not fetch tiny-idx1-ubyte.gz: no mirror to fetch it from"):
        data.fetch(_spec(gzip.compress(PAYLOAD)), tmp_path, mirrors=[], progress=False)


# --- temporary files and unwritable roots --------------------------------------------------


def test_stale_part_files_of_a_killed_download_are_removed(server, tmp_path):
    import fcntl

    published = gzip.compress(PAYLOAD)
    server.handler.files["/tiny-idx1-ubyte.gz"] = published
    folder = tmp_path / "tiny"
    folder.mkdir()
    stale = folder / ".tiny-idx1-ubyte.gz.k1ll3d.part"  # left by a download that was killed
    stale.write_bytes(published[:100])
    running = folder / ".tiny-idx1-ubyte.gz.runn1n.part"  # another download, still running
    running.write_bytes(published[:10])
    other = folder / ".other-file.gz.k1ll3d.part"  # another file's: not this fetch's business
    other.write_bytes(b"x")
    with open(running, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running download holds
        data.fetch(_spec(published), tmp_path, mirrors=[server.base], progress=False)
        assert _leftovers(folder) == [other.name, running.name, "tiny-idx1-ubyte.gz"]
    # a later fetch, once that download has died too, finds the file and tidies up
    data.fetch(_spec(published), tmp_path, mirrors=[server.base], progress=False)
    assert _leftovers(folder) == [other.name, "tiny-idx1-ubyte.gz"]
    assert len(server.handler.hits) == 1


def test_unwritable_folder_is_one_clear_error_before_any_download(server, tmp_path, monkeypatch):
    published = gzip.compress(PAYLOAD)
    server.handler.files["/tiny-idx1-ubyte.gz"] = published

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # as on a read-only or foreign folder
    with pytest.raises(data.DataError) as info:
        data.fetch(_spec(published), tmp_path, mirrors=[server.base, server.base], progress=False)
    folder = tmp_path / "tiny"
    assert str(info.value) == f"cannot write into {folder} (Permission denied); set CNNBOOK_DATA or --root to a writable folder"
    assert server.handler.hits == []


def test_cli_fetch_into_a_root_that_is_a_file_prints_one_line(tmp_path):
    import subprocess
    import sys

    root = tmp_path / "a-file"
    root.write_text("not a folder")
    proc = subprocess.run([sys.executable, "-m", "cnnbook", "data", "fetch", "mnist10k", "--root", str(root)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"error: cannot create {root}/mnist (Not a directory)"]
