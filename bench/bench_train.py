"""Speed of ``cnnbook train`` on the CPU: its overhead against a bare torch loop, and one
Gloo process against two.

    python bench/bench_train.py [--model lenet5] [--epochs 3] [--repeats 3] [--threads 1]

1. **Overhead.** The command's epoch loop (``cnnbook.train.fit``, which ``cnnbook train``
   runs: metrics, the finite-loss check before every step, the hooks) against the plainest
   loop over the same model, the same loaders (the command's own, ``cnnbook.trainer``) and the
   same batch size (forward, loss, ``zero_grad``, ``backward``, ``step``). The two alternate
   epoch by epoch in this process, ``--repeats * --epochs`` epochs each; the figure is the
   ratio of the medians of training images per second (held-out evaluation excluded from
   both). Target: within 5%.
2. **Processes.** ``torchrun --nproc_per_node=2`` (Gloo) against one process, the same global
   batch: training images per second of each, from ``metrics.csv``. A 2-core CPU cannot show
   real scaling (each process gets one core and the gradients cross processes); the figure
   shows that the path runs and what it costs.

Needs MNIST's test set under the data root (``cnnbook data fetch mnist10k`` or CNNBOOK_DATA).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bare_epoch(model, loader, optimizer, loss_fn):
    start, count = time.perf_counter(), 0
    model.train()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        count += len(y)
    return count / (time.perf_counter() - start)


def overhead(args):
    import torch

    from cnnbook import distributed
    from cnnbook.seed import seed_everything
    from cnnbook.train import History, fit
    from cnnbook.trainer import TrainConfig, build_model, loaders

    torch.set_num_threads(args.threads)
    config = TrainConfig(args.model, epochs=args.epochs, batch_size=args.batch_size, quiet=True,
                         schedule="none")
    seed_everything(config.seed)
    world = distributed.setup()
    train_loader, _, data = loaders(config, world)
    models = [build_model(config.model, data["image_shape"], data["num_classes"])[0] for _ in range(2)]
    optimizers = [torch.optim.Adam(m.parameters(), lr=config.lr) for m in models]
    loss_fn = torch.nn.CrossEntropyLoss()
    history, ours, bare = History(), [], []
    # Epochs alternate between the two loops, so that a slow spell of the machine hits both.
    for epoch in range(args.repeats * args.epochs):
        fit(models[0], train_loader, epochs=history.epochs + 1, optimizer=optimizers[0], history=history,
            device="cpu", log=False)
        ours.append(history.images_per_second[-1])
        train_loader.sampler.set_epoch(epoch)
        bare.append(bare_epoch(models[1], train_loader, optimizers[1], loss_fn))
        print(f"  epoch {epoch + 1}: cnnbook's loop {ours[-1]:8.0f} images/s   bare loop {bare[-1]:8.0f} images/s")
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"overhead: the training command's epoch loop runs at {ratio:.3f} of the bare loop's images/s "
          f"(medians of {len(ours)} alternating epochs; target: at least 0.95)")
    return ratio


def processes(args):
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    common = ["-m", "cnnbook", "train", args.model, "--epochs", str(args.epochs), "--batch-size",
              str(args.batch_size), "--schedule", "none", "--quiet"]
    results = {}
    for n in (1, 2):
        speeds = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as out:
                launcher = [sys.executable] if n == 1 else [
                    sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}"]
                subprocess.run([*launcher, *common, "--out", out], env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with open(Path(out) / "metrics.csv", newline="") as f:
                    speeds.append(statistics.median(float(r["images_per_second"]) for r in csv.DictReader(f)))
        results[n] = statistics.median(speeds)
        print(f"  {n} process(es): {results[n]:8.0f} training images/s (median of {args.repeats} runs)")
    print(f"two Gloo processes: {results[2] / results[1]:.2f} x the images/s of one")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = parser.parse_args()
    print(f"{args.model}, MNIST-10k, batch {args.batch_size}, {args.epochs} epochs, {args.threads} thread(s)")
    print("1. overhead of cnnbook train against a bare torch loop")
    overhead(args)
    print("2. one process against two (Gloo)")
    processes(args)


if __name__ == "__main__":
    main()
