"""Speed of cnnbook.numpy next to torch on the CPU, measured side by side in one run.

1. Conv2d forward + backward (input, weight and bias gradients) on LeNet-sized layers,
   batch 64, float32: cnnbook.numpy.Conv2d against torch.nn.functional.conv2d.
   Target: the NumPy layer within 5x of torch.
2. One epoch of MNIST-10k (8,000 images, batch 64, plain SGD) for a small CNN built
   only from cnnbook.numpy layers, against the same network (same initial weights) in
   torch. Target: within 6x.

Run from the repository root (CNNBOOK_DATA names the folder that holds mnist/):

    CNNBOOK_DATA=/work/shared/data .venv/bin/python bench/bench_numpy.py

Threads: torch runs with torch.set_num_threads(2) (``--torch-threads`` changes it). NumPy's BLAS (OpenBLAS) runs with
one thread unless OPENBLAS_NUM_THREADS says otherwise: in one process with torch, the
two libraries' worker threads spin against each other and a two-thread OpenBLAS
becomes slower, not faster (the matrices here are small anyway). This only handicaps
NumPy, so the ratios are, if anything, pessimistic.

Timing: each number is the best of several repeats, NumPy and torch alternating so
that both meet the same machine load; the best repeat is the least disturbed by other
processes on a shared machine.
"""

import os

# Must be set before NumPy loads OpenBLAS (see the docstring).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import cnnbook.numpy as cn  # noqa: E402
from cnnbook.data import load_mnist10k  # noqa: E402

TORCH_THREADS = 2
CONV_TARGET = 5.0
TRAIN_TARGET = 6.0

# (in_channels, out_channels, kernel_size, input size): LeNet-5's two convolutions and
# those of the CNN trained below.
CONV_LAYERS = [(1, 6, 5, 32), (6, 16, 5, 14), (1, 8, 5, 28), (8, 16, 5, 12)]
BATCH = 64
LR = 0.05


def _best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_conv(repeats):
    """Best seconds of forward + backward for each layer, NumPy and torch."""
    rng = np.random.default_rng(0)
    rows = []
    for c_in, c_out, k, size in CONV_LAYERS:
        layer = cn.Conv2d(c_in, c_out, k, dtype=np.float32)
        x = rng.standard_normal((BATCH, c_in, size, size)).astype(np.float32)
        dout = rng.standard_normal(layer.output_shape(x.shape)).astype(np.float32)

        tx = torch.from_numpy(x.copy()).requires_grad_(True)  # torch computes dx too
        tw = torch.from_numpy(layer.weight.data.copy()).requires_grad_(True)
        tb = torch.from_numpy(layer.bias.data.copy()).requires_grad_(True)
        tdout = torch.from_numpy(dout)

        def numpy_step():
            layer.forward(x)
            layer.backward(dout)

        def torch_step():
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.conv2d(tx, tw, tb).backward(tdout)

        numpy_step(), torch_step()  # warm-up
        t_np = t_torch = float("inf")
        for _ in range(repeats):  # alternate, so both see the same machine load
            t_np = min(t_np, _best_time(numpy_step, 5))
            t_torch = min(t_torch, _best_time(torch_step, 5))
        rows.append(((c_in, c_out, k, size), t_np, t_torch))
    return rows


def numpy_cnn():
    return cn.Sequential(
        cn.Conv2d(1, 8, 5, dtype=np.float32), cn.ReLU(), cn.MaxPool2d(2),  # 8 x 12 x 12
        cn.Conv2d(8, 16, 5, dtype=np.float32), cn.ReLU(), cn.MaxPool2d(2),  # 16 x 4 x 4
        cn.Flatten(),
        cn.Linear(16 * 4 * 4, 64, dtype=np.float32), cn.ReLU(),
        cn.Linear(64, 10, dtype=np.float32),
    )


def torch_twin(net):
    """torch.nn with the same architecture and a copy of ``net``'s initial weights."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 4 * 4, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    state = {name: torch.from_numpy(p.data.copy()) for name, p in net.named_parameters()}
    model.load_state_dict(state)
    return model


def numpy_epoch(net, x, y):
    loss_fn = cn.CrossEntropyLoss()
    params = list(net.parameters())
    losses = []
    for start in range(0, len(x), BATCH):
        xb, yb = x[start : start + BATCH], y[start : start + BATCH]
        losses.append(loss_fn(net(xb), yb))
        net.zero_grad()
        net.backward(loss_fn.backward())
        for p in params:  # plain SGD, written inline
            p.data -= LR * p.grad
    return float(np.mean(losses))


def torch_epoch(model, x, y):
    loss_fn = torch.nn.CrossEntropyLoss()
    params = list(model.parameters())
    losses = []
    for start in range(0, len(x), BATCH):
        xb, yb = x[start : start + BATCH], y[start : start + BATCH]
        loss = loss_fn(model(xb), yb)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        losses.append(loss.item())
    return float(np.mean(losses))


def numpy_accuracy(net, x, y):
    net.eval()
    correct = sum(int((net(x[i : i + 500]).argmax(1) == y[i : i + 500]).sum()) for i in range(0, len(x), 500))
    net.train()
    return correct / len(x)


def torch_accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def bench_training(repeats):
    """Best seconds for one epoch over ``repeats`` fresh networks, with the last
    repeat's mean training loss and validation accuracy for each."""
    x_train, y_train, x_val, y_val = load_mnist10k()
    tx_train, ty_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    tx_val, ty_val = torch.from_numpy(x_val), torch.from_numpy(y_val)
    t_np = t_torch = float("inf")
    for r in range(repeats):
        cn.manual_seed(r)
        net = numpy_cnn()
        model = torch_twin(net)
        start = time.perf_counter()
        loss_np = numpy_epoch(net, x_train, y_train)
        t_np = min(t_np, time.perf_counter() - start)
        start = time.perf_counter()
        loss_torch = torch_epoch(model, tx_train, ty_train)
        t_torch = min(t_torch, time.perf_counter() - start)
    acc_np = numpy_accuracy(net, x_val, y_val)
    acc_torch = torch_accuracy(model, tx_val, ty_val)
    return t_np, t_torch, (loss_np, acc_np), (loss_torch, acc_torch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conv-repeats", type=int, default=7)
    parser.add_argument("--train-repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=TORCH_THREADS,
                        help="torch.set_num_threads (default 2, as the targets assume)")
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)
    print(
        f"numpy {np.__version__} (OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}), "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), batch {BATCH}, float32, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )

    print("\n1. Conv2d forward + backward (best of repeats, ms)")
    print(f"{'layer':>28} {'numpy':>8} {'torch':>8} {'ratio':>6}")
    rows = bench_conv(args.conv_repeats)
    for (c_in, c_out, k, size), t_np, t_torch in rows:
        label = f"{c_in}->{c_out} {k}x{k} on {size}x{size}"
        print(f"{label:>28} {t_np * 1e3:8.2f} {t_torch * 1e3:8.2f} {t_np / t_torch:6.2f}")
    conv_ratio = sum(r[1] for r in rows) / sum(r[2] for r in rows)
    worst = max(r[1] / r[2] for r in rows)
    print(f"conv ratio (total time, all layers): {conv_ratio:.2f}x; worst layer {worst:.2f}x "
          f"(target within {CONV_TARGET:g}x): {'ok' if worst <= CONV_TARGET else 'MISSED'}")

    print("\n2. One epoch of MNIST-10k, small CNN, plain SGD (best of repeats, s)")
    t_np, t_torch, (loss_np, acc_np), (loss_torch, acc_torch) = bench_training(args.train_repeats)
    print(f"numpy: {t_np:.2f} s (mean loss {loss_np:.3f}, val accuracy {acc_np:.3f})")
    print(f"torch: {t_torch:.2f} s (mean loss {loss_torch:.3f}, val accuracy {acc_torch:.3f})")
    train_ratio = t_np / t_torch
    print(f"training ratio: {train_ratio:.2f}x (target within {TRAIN_TARGET:g}x): "
          f"{'ok' if train_ratio <= TRAIN_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
