"""`cnnbook train`: its files, resuming (also after SIGKILL), two Gloo processes, bad input."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from cnnbook import cli
from cnnbook.data import DataError, load_dataset
from cnnbook.trainer import METRICS, TrainConfig, augment_batch, build_model, load_checkpoint


def _have_mnist():
    try:
        load_dataset("mnist10k", n_train=1, n_val=1)
    except DataError:
        return False
    return True


needs_mnist = pytest.mark.skipif(not _have_mnist(), reason="MNIST's test set is not under the data root "
                                 "(set CNNBOOK_DATA to a folder holding mnist/, or `cnnbook data fetch mnist10k`)")

# A small run: 1,024 training images, batches of 64 (16 steps an epoch), LeNet-5.
SMALL = ["lenet5", "--dataset", "mnist10k", "--n-train", "1024", "--batch-size", "64", "--quiet"]


def _metrics(folder, keep_time=False):
    with open(folder / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if not keep_time:
        for row in rows:
            del row["seconds"], row["images_per_second"]
    return rows


def _assert_same_weights(a, b, **tolerance):
    ma, mb = load_checkpoint(a)["model"], load_checkpoint(b)["model"]
    assert ma.keys() == mb.keys()
    for k in ma:
        torch.testing.assert_close(ma[k], mb[k], **tolerance)


def _command(*args):
    return [sys.executable, "-m", "cnnbook", "train", *args]


def _env():
    # One thread per process: steady on a 2-core machine, and the same arithmetic every run.
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _kill_after_first_epoch(args, out, *, group=False):
    """Start a run and SIGKILL it (its whole process group with ``group``) about halfway
    through epoch 2."""
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=group)
    deadline = time.monotonic() + 300
    while not (out / "last.pt").exists():
        assert proc.poll() is None, "the run ended before it wrote its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(float(_metrics(out, keep_time=True)[0]["seconds"]) / 2)  # about half of epoch 2
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
    proc.wait()
    assert load_checkpoint(out / "last.pt")["epoch"] < 3, "killed too late to test resuming"


@needs_mnist
def test_files_of_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *SMALL, "--epochs", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "config.json", "last.pt", "metrics.csv"]
    rows = _metrics(out, keep_time=True)
    assert [r["epoch"] for r in rows] == ["1", "2"] and list(rows[0]) == list(METRICS)
    assert float(rows[1]["val_acc"]) > max(0.5, float(rows[0]["val_acc"])) and float(rows[1]["images_per_second"]) > 0
    assert float(rows[1]["lr"]) < float(rows[0]["lr"])  # cosine schedule
    config = json.loads((out / "config.json").read_text())
    assert config["run"]["model"] == "lenet5" and config["model_kwargs"]["small_input"] is True
    assert config["data"]["image_shape"] == [1, 28, 28] and config["world_size"] == 1
    last = load_checkpoint(out / "last.pt")
    assert last["epoch"] == 2
    assert last["history"]["val_acc"] == pytest.approx([float(r["val_acc"]) for r in rows], abs=1e-6)
    best = load_checkpoint(out / "best.pt")
    assert best["best_val_acc"] == max(last["history"]["val_acc"])
    assert "held-out accuracy" in capsys.readouterr().out


@needs_mnist
def test_resume_after_sigkill_ends_like_the_uninterrupted_run(tmp_path):
    args = [*SMALL, "--n-train", "2048", "--epochs", "3"]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    subprocess.run(_command(*args, "--out", str(whole)), env=_env(), check=True, capture_output=True)
    _kill_after_first_epoch(_command(*args, "--out", str(broken)), broken)
    subprocess.run(_command(*args, "--out", str(broken), "--resume"), env=_env(), check=True, capture_output=True)
    _assert_same_weights(whole / "last.pt", broken / "last.pt", rtol=1e-6, atol=1e-7)
    assert _metrics(whole) == _metrics(broken)
    assert not list(broken.glob(".*.tmp")), "no temporary file left behind"


@needs_mnist
def test_two_gloo_processes_train_like_one(tmp_path):
    # LeNet-5 has no batch norm, so two processes with half the batch each and averaged
    # gradients take the same steps as one process with the whole batch.
    args = [*SMALL, "--epochs", "2"]
    one, two = tmp_path / "one", tmp_path / "two"
    subprocess.run(_command(*args, "--out", str(one)), env=_env(), check=True, capture_output=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                "-m", "cnnbook", "train"]
    done = subprocess.run([*torchrun, *args, "--out", str(two)], env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((two / "config.json").read_text())["world_size"] == 2
    _assert_same_weights(one / "last.pt", two / "last.pt", rtol=1e-4, atol=1e-5)
    for a, b in zip(_metrics(one), _metrics(two)):
        assert a["val_acc"] == b["val_acc"]  # every held-out image counted once
        assert float(a["train_loss"]) == pytest.approx(float(b["train_loss"]), rel=1e-4)

    # A two-process run killed in epoch 2 and resumed ends where the uninterrupted one did.
    broken = tmp_path / "broken"
    args3 = [*SMALL, "--n-train", "2048", "--epochs", "3"]
    whole = tmp_path / "whole"
    subprocess.run([*torchrun, *args3, "--out", str(whole)], env=_env(), check=True, capture_output=True)
    _kill_after_first_epoch([*torchrun, *args3, "--out", str(broken)], broken, group=True)
    resumed = subprocess.run([*torchrun, *args3, "--out", str(broken), "--resume"], env=_env(),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _assert_same_weights(whole / "last.pt", broken / "last.pt", rtol=1e-6, atol=1e-7)
    assert _metrics(whole) == _metrics(broken)


def _error_line(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@needs_mnist
def test_bad_input_is_one_line_and_loses_nothing(tmp_path, capsys):
    assert "unknown model 'lenet6'" in _error_line(capsys, ["train", "lenet6", "--out", str(tmp_path / "a")])
    assert "unknown dataset 'mnist11k'" in _error_line(capsys, ["train", "lenet5", "--dataset", "mnist11k"])
    line = _error_line(capsys, ["train", "alexnet", "--model-arg", "small_input=false", "--n-train", "64",
                                "--out", str(tmp_path / "b")])
    assert "alexnet cannot take 28x28 images" in line
    assert "no checkpoint at" in _error_line(capsys, ["train", *SMALL, "--out", str(tmp_path / "c"), "--resume"])
    assert "--resume needs --out" in _error_line(capsys, ["train", *SMALL, "--resume"])
    if not torch.cuda.is_available():
        assert "--sync-bn needs CUDA" in _error_line(capsys, ["train", *SMALL, "--sync-bn", "--out", str(tmp_path / "d")])

    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"\x00not a checkpoint at all")
    (run / "metrics.csv").write_text("epoch\n1\n")
    line = _error_line(capsys, ["train", *SMALL, "--epochs", "2", "--out", str(run), "--resume"])
    assert "last.pt is damaged or not a checkpoint" in line
    torch.save({"weights": torch.zeros(2)}, run / "last.pt")
    line = _error_line(capsys, ["train", *SMALL, "--epochs", "2", "--out", str(run), "--resume"])
    assert "is not a cnnbook train checkpoint" in line
    assert (run / "metrics.csv").read_text() == "epoch\n1\n"  # nothing overwritten
    assert sorted(p.name for p in run.iterdir()) == ["last.pt", "metrics.csv"]


@needs_mnist
def test_resuming_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *SMALL, "--n-train", "128", "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    line = _error_line(capsys, ["train", *SMALL, "--n-train", "128", "--epochs", "1", "--lr", "0.01",
                                "--out", str(out), "--resume"])
    assert "belongs to another run" in line and "lr: 0.002 in the checkpoint, 0.01 now" in line


def test_config_checks_its_values():
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'; expected one of: adam, sgd"):
        TrainConfig("lenet5", optimizer="adamw")
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        TrainConfig("lenet5", epochs=0)
    assert TrainConfig("lenet5", optimizer="sgd").lr == 0.1


def test_models_are_built_for_the_images():
    model, kwargs = build_model("lenet5", (1, 28, 28), 10)
    assert kwargs["small_input"] is True
    model, kwargs = build_model("lenet5", (3, 32, 32), 10)
    assert kwargs["small_input"] is False and model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="--model-arg does not fit resnet18"):
        build_model("resnet18", (1, 28, 28), 10, {"no_such_argument": 1})


def test_augmentation_crops_and_flips():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    out = augment_batch(x, generator=g, padding=2)
    assert out.shape == x.shape
    assert torch.equal(augment_batch(x, generator=torch.Generator().manual_seed(0), padding=2), out)
    x = torch.randn(64, 1, 4, 4)
    same = augment_batch(x, generator=torch.Generator().manual_seed(1), padding=0)  # flips only
    flipped = [bool(torch.equal(a, b.flip(-1))) for a, b in zip(same, x)]
    kept = [bool(torch.equal(a, b)) for a, b in zip(same, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 16 < sum(flipped) < 48
