"""Downloads against a real HTTP server on 127.0.0.1, started by the tests."""

import gzip
import hashlib
import http.server
import socket
import threading
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
    files: dict = {}
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
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
    with pytest.raises(data.DataError, match="could not fetch tiny-idx1-ubyte.gz: .*decompressed md5"):
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
    assert message.startswith("could not fetch tiny-idx1-ubyte.gz: ")
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
