"""The data layer: IDX/CIFAR parsing, MNIST-10k, verification and the command line."""

import gzip
import hashlib
import io
import os
import re
import struct
import tarfile

import numpy as np
import pytest

from cnnbook import cli, data


def write_idx(path, array, compress=True):
    array = np.asarray(array)
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    raw = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(raw)
    return raw


def test_read_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-idx3-ubyte.gz", images)
    write_idx(tmp_path / "b-idx3-ubyte", images, compress=False)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a-idx3-ubyte.gz"), images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "b-idx3-ubyte"), images)
    big_endian = np.array([1, -2, 70000], dtype=">i4")
    write_idx(tmp_path / "c.gz", big_endian)
    assert data.read_idx(tmp_path / "c.gz").tolist() == [1, -2, 70000]


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    raw = write_idx(tmp_path / "ok", np.zeros((2, 2, 2), np.uint8), compress=False)
    (tmp_path / "short").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="expected 24 bytes for shape \\(2, 2, 2\\), got 23"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="expected an IDX header"):
        data.read_idx(tmp_path / "foreign")


def register(monkeypatch, name, folder, files, payloads):
    """Make ``name`` a known dataset whose checksums are those of the files just written."""
    specs = tuple(
        data.FileSpec(path.name, hashlib.md5(path.read_bytes()).hexdigest(), len(payloads[path.name]),
                      md5=hashlib.md5(payloads[path.name]).hexdigest())
        for path in files
    )
    monkeypatch.setitem(data.DATASETS, name, data.DatasetSpec(name, folder, specs, mirrors=()))


def _fake_fashion(root, monkeypatch, n_train=5, n_test=3):
    """Small Fashion-MNIST files under ``root``, registered with their checksums."""
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    parts, files, payloads = {}, [], {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, array in (("images-idx3", x), ("labels-idx1", y)):
            path = folder / f"{prefix}-{kind}-ubyte.gz"
            payloads[path.name] = write_idx(path, array)
            files.append(path)
        parts[prefix] = (x, y)
    register(monkeypatch, "fashion-mnist", "fashion-mnist", files, payloads)
    return parts


def test_fashion_mnist_parser_on_small_files(tmp_path, monkeypatch):
    parts = _fake_fashion(tmp_path, monkeypatch)
    x_train, y_train, x_test, y_test = data.load_fashion_mnist(tmp_path)
    assert x_train.shape == (5, 1, 28, 28) and x_test.shape == (3, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(x_train[:, 0] * 255, parts["train"][0], atol=1e-4)
    np.testing.assert_array_equal(y_test, parts["t10k"][1])


def test_mismatched_image_and_label_counts_are_reported(tmp_path, monkeypatch):
    _fake_fashion(tmp_path, monkeypatch, n_test=3)
    folder = tmp_path / "fashion-mnist"
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    payload = write_idx(labels, np.zeros(4, np.uint8))
    spec = data.DATASETS["fashion-mnist"]
    files = [folder / f.filename for f in spec.files]
    payloads = {p.name: gzip.decompress(p.read_bytes()) for p in files}
    assert payloads[labels.name] == payload
    register(monkeypatch, "fashion-mnist", "fashion-mnist", files, payloads)  # the checksums agree
    with pytest.raises(data.DataError, match="holds 3 images but .* holds 4 labels"):
        data.load_fashion_mnist(tmp_path)


def _fake_cifar(root, monkeypatch, batches=2, per_batch=4):
    rng = np.random.default_rng(1)
    folder = root / "cifar-10"
    folder.mkdir(parents=True)
    members, expected = {}, {"train": [], "test": []}
    for name in [f"data_batch_{i + 1}.bin" for i in range(batches)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, per_batch, dtype=np.uint8)
        pixels = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        members[name] = np.concatenate([labels[:, None], pixels], axis=1).tobytes()
        expected["test" if name.startswith("test") else "train"].append((pixels, labels))
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    archive = folder / "cifar-10-binary.tar.gz"
    spec = data.FileSpec(archive.name, hashlib.md5(archive.read_bytes()).hexdigest(), 0)
    monkeypatch.setitem(data.DATASETS, "cifar10", data.DatasetSpec("cifar10", "cifar-10", (spec,), ()))
    return expected


def test_cifar10_binary_parser_on_small_archive(tmp_path, monkeypatch):
    expected = _fake_cifar(tmp_path, monkeypatch)
    x_train, y_train, x_test, y_test = data.load_cifar10(tmp_path)
    assert x_train.shape == (8, 3, 32, 32) and x_test.shape == (4, 3, 32, 32)
    pixels = np.concatenate([p for p, _ in expected["train"]])
    np.testing.assert_allclose(x_train.reshape(8, -1) * 255, pixels, atol=1e-3)
    np.testing.assert_array_equal(y_test, expected["test"][0][1])
    # channel-major layout: the first 1024 bytes of a record are the red plane
    np.testing.assert_allclose(x_train[0, 0].ravel() * 255, pixels[0, :1024], atol=1e-3)


# --- damaged files: loading refuses them with one error naming the file and the fix ----


def _damage(path, how):
    """Damage a gzip IDX file the way a bad disk, download or copy would."""
    blob = path.read_bytes()
    payload = gzip.decompress(blob)
    if how == "pixel":  # header intact, one byte of the payload changed, still valid gzip
        changed = bytearray(payload)
        changed[-100] ^= 0xFF
        path.write_bytes(gzip.compress(bytes(changed), compresslevel=1))
    elif how == "not-gzip":
        path.write_bytes(b"<html>503 Service Unavailable</html>")
    elif how == "truncated":  # a download cut short
        path.write_bytes(blob[: len(blob) // 2])
    elif how == "short-payload":  # valid gzip, intact header, items missing at the end
        path.write_bytes(gzip.compress(payload[:-28 * 28], compresslevel=1))
    elif how == "flipped-byte":  # a flipped bit inside the compressed stream
        changed = bytearray(blob)
        changed[len(blob) // 2] ^= 0x01
        path.write_bytes(bytes(changed))
    else:  # pragma: no cover
        raise AssertionError(how)


DAMAGE = {
    "pixel": "decompressed md5 [0-9a-f]+ does not match",
    "not-gzip": "not a readable gzip file",
    "truncated": "not a readable gzip file .*end-of-stream",
    "short-payload": "decompressed size 2368 does not match the expected 3152",
    "flipped-byte": "not a readable gzip file|does not match",
}


@pytest.mark.parametrize("how", DAMAGE)
def test_loading_refuses_a_damaged_file_naming_it_and_the_fix(tmp_path, monkeypatch, how):
    _fake_fashion(tmp_path, monkeypatch, n_test=4)
    damaged = tmp_path / "fashion-mnist" / "t10k-images-idx3-ubyte.gz"
    _damage(damaged, how)
    with pytest.raises(data.DataError) as info:
        data.load_fashion_mnist(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{damaged} is damaged (")
    assert re.search(DAMAGE[how], message), message
    assert "`cnnbook data verify`" in message and "`cnnbook data fetch fashion-mnist`" in message
    assert "\n" not in message
    # verify agrees with loading
    report = data.verify(tmp_path, names=["fashion-mnist"])["fashion-mnist"]
    assert report["status"] == "corrupt"
    assert report["files"][damaged.name].startswith("corrupt: ")


def test_loading_refuses_a_damaged_cifar_archive(tmp_path, monkeypatch):
    _fake_cifar(tmp_path, monkeypatch)
    archive = tmp_path / "cifar-10" / "cifar-10-binary.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-50])
    with pytest.raises(data.DataError, match=r"cifar-10-binary.tar.gz is damaged \(md5 .*cnnbook data fetch cifar10"):
        data.load_cifar10(tmp_path)


def test_read_idx_names_a_file_that_is_not_gzip(tmp_path):
    (tmp_path / "x-idx1-ubyte.gz").write_bytes(b"plain text")
    with pytest.raises(ValueError, match=r"x-idx1-ubyte.gz: not a readable gzip file"):
        data.read_idx(tmp_path / "x-idx1-ubyte.gz")


def test_cifar10_batch_of_wrong_length_is_rejected():
    with pytest.raises(ValueError, match="multiple of 3073 bytes, got 3074"):
        data.parse_cifar10_batch(b"\x00" * 3074)


def test_missing_dataset_names_the_file_and_the_fix(tmp_path):
    # the dataset the caller asked for: MNIST-10k needs only the test files, not the full set
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte.gz not found .*`cnnbook data fetch mnist10k`"):
        data.load_mnist10k(tmp_path)
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte.gz not found .*`cnnbook data fetch mnist10k`"):
        data.load_dataset("mnist10k", root=tmp_path)
    with pytest.raises(data.DataError, match=r"train-images-idx3-ubyte.gz not found .*`cnnbook data fetch mnist`"):
        data.load_mnist(tmp_path)


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ValueError, match="expected one of: .*mnist10k"):
        data.load_dataset("imagenet")
    with pytest.raises(ValueError, match="n_train must be in 1..8000"):
        data.load_dataset("mnist10k", n_train=0)


def test_data_root_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv("CNNBOOK_DATA")
    assert data.data_root().name == "data"  # running from the checkout


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_cli_verify_of_a_root_that_is_not_a_folder_fails_in_one_line(tmp_path, capsys, kind):
    root = tmp_path / "no" / "such" / "dir"
    if kind == "file":
        root = tmp_path / "a-file"
        root.write_text("not a folder")
    assert cli.main(["data", "verify", "--root", str(root)]) == 1
    captured = capsys.readouterr()
    expected = "does not exist" if kind == "missing" else "is not a folder"
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: data root {root} {expected}")
    assert "data root:" not in captured.out
    with pytest.raises(data.DataError, match=f"data root {re.escape(str(root))} {expected}"):
        data.verify(root)


# --- the real MNIST test set (through CNNBOOK_DATA) -----------------------------------


MNIST_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _data_required() -> bool:
    """CI gives the data and sets CNNBOOK_REQUIRE_DATA=1 (.ci/run): no skipping there."""
    return os.environ.get("CNNBOOK_REQUIRE_DATA", "") not in ("", "0")


@pytest.fixture(scope="module")
def mnist10k():
    """MNIST-10k from the data root. Skipped, saying why, when the files are not there (with
    CNNBOOK_REQUIRE_DATA set, as in CI, that fails instead); a damaged copy fails, never skips."""
    root = data.data_root()
    missing = [name for name in MNIST_TEST_FILES if not (root / "mnist" / name).is_file()]
    if missing:
        reason = (f"MNIST's test set is not under the data root {root} (no mnist/{missing[0]}): "
                  f"run `cnnbook data fetch mnist10k`, or set CNNBOOK_DATA to a folder holding mnist/")
        if _data_required():
            pytest.fail(f"{reason} (CNNBOOK_REQUIRE_DATA is set: the MNIST tests must run)")
        pytest.skip(reason)
    return data.load_mnist10k()


def test_mnist10k_split_is_fixed_disjoint_and_complete(mnist10k):
    x_train, y_train, x_val, y_val = mnist10k
    assert x_train.shape == (8000, 1, 28, 28) and x_val.shape == (2000, 1, 28, 28)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() == 1
    # the two parts are the official test set under the documented permutation:
    # training images order[:8000], held-out images order[8000:], in that order
    folder = data.data_root() / "mnist"
    x_all = data.read_idx(folder / "t10k-images-idx3-ubyte.gz")
    y_all = data.read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    order = np.random.default_rng(20100).permutation(10000)
    assert data.MNIST10K_SEED == 20100  # the seed data/README.md documents
    np.testing.assert_array_equal(np.sort(order), np.arange(10000))
    np.testing.assert_array_equal(np.rint(x_train[:, 0] * 255).astype(np.uint8), x_all[order[:8000]])
    np.testing.assert_array_equal(np.rint(x_val[:, 0] * 255).astype(np.uint8), x_all[order[8000:]])
    np.testing.assert_array_equal(y_train, y_all[order[:8000]])
    np.testing.assert_array_equal(y_val, y_all[order[8000:]])
    counts = np.bincount(y_train, minlength=10) + np.bincount(y_val, minlength=10)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    again = data.load_mnist10k()
    np.testing.assert_array_equal(again[0], x_train)
    np.testing.assert_array_equal(again[1], y_train)


def test_mnist_tests_without_data_say_why_and_fail_in_ci(tmp_path):
    """Run one MNIST test with an empty data root: a skip whose reason names the root and
    the fix, shown in pytest's summary; with CNNBOOK_REQUIRE_DATA set (CI), a failure instead."""
    import subprocess
    import sys

    test = f"{__file__}::test_mnist10k_split_is_fixed_disjoint_and_complete"
    # neither the suite's conftest (it imports torch) nor plugins (hypothesis takes seconds)
    command = [sys.executable, "-m", "pytest", test, "-ra", "-q", "-p", "no:cacheprovider", "--noconftest"]
    env = {k: v for k, v in os.environ.items() if k != "CNNBOOK_REQUIRE_DATA"}
    env.update(CNNBOOK_DATA=str(tmp_path), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, proc.stdout
    assert f"not under the data root {tmp_path} (no mnist/t10k-images-idx3-ubyte.gz)" in skipped[0]
    assert "`cnnbook data fetch mnist10k`" in skipped[0] and "CNNBOOK_DATA" in skipped[0]
    proc = subprocess.run(command, capture_output=True, text=True, env={**env, "CNNBOOK_REQUIRE_DATA": "1"})
    assert proc.returncode == 1 and "1 error" in proc.stdout, proc.stdout
    assert "CNNBOOK_REQUIRE_DATA is set: the MNIST tests must run" in proc.stdout


def test_verify_accepts_the_recompressed_official_test_set(mnist10k):
    report = data.verify(names=["mnist10k"])
    assert report["mnist10k"]["status"] == "complete"


def _copy_mnist(tmp_path):
    src = data.data_root() / "mnist"
    dst = tmp_path / "mnist"
    dst.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_a_damaged_copy_of_mnist_is_refused_by_loading(mnist10k, tmp_path):
    dst = _copy_mnist(tmp_path)
    np.testing.assert_array_equal(data.load_mnist10k(tmp_path)[1], mnist10k[1])  # the copy loads
    _damage(dst / "t10k-images-idx3-ubyte.gz", "pixel")
    with pytest.raises(data.DataError, match=r"t10k-images-idx3-ubyte.gz is damaged \(decompressed md5 "
                                             r".*`cnnbook data fetch mnist10k`"):
        data.load_mnist10k(tmp_path)


def test_cli_verify_passes_then_fails_on_a_corrupted_copy(mnist10k, tmp_path, capsys):
    dst = _copy_mnist(tmp_path)
    assert cli.main(["data", "verify", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist          partial" in out
    raw = bytearray((dst / "t10k-images-idx3-ubyte.gz").read_bytes())
    raw[5000] ^= 0xFF
    (dst / "t10k-images-idx3-ubyte.gz").write_bytes(bytes(raw))
    assert cli.main(["data", "verify", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "t10k-images-idx3-ubyte.gz is corrupt" in err[0]


def test_cli_verify_in_a_subprocess_prints_no_traceback(mnist10k, tmp_path):
    import subprocess
    import sys

    dst = _copy_mnist(tmp_path)
    (dst / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    env = dict(os.environ, CNNBOOK_DATA=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "cnnbook", "data", "verify"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {dst}/t10k-labels-idx1-ubyte.gz is corrupt (not a readable gzip file (Not a gzipped file (b'no'))); "
        "`cnnbook data fetch mnist10k` downloads it again"
    ]
