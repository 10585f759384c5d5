"""What changes when training runs in several processes: PyTorch's own distributed engine.

``torchrun --nproc_per_node=N -m cnnbook train ...`` starts N processes and tells each its
rank through environment variables. :func:`setup` reads them, joins the process group
(NCCL on CUDA, Gloo on the CPU) and picks the process's device; everything else the training
loop needs from this module is small: whether this process is the one that writes
(:attr:`World.main`), a sum across processes (:func:`all_reduce_sum`), the shard of the
held-out set each process evaluates (:func:`shard`), and the model wrapper
(:func:`wrap`, ``DistributedDataParallel``). A single process (plain ``cnnbook train``)
runs the same code with a world of size 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

__all__ = ["World", "setup", "cleanup", "is_initialized", "all_reduce_sum", "barrier", "shard", "wrap",
           "unwrap"]


@dataclass(frozen=True)
class World:
    """This process's place: ``rank`` of ``size`` processes, its ``device``."""

    rank: int
    size: int
    local_rank: int
    device: torch.device
    backend: str | None  # None for a single process

    @property
    def main(self) -> bool:
        """True in the process that writes files and logs: rank 0, or the only process."""
        return self.rank == 0


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None


def setup(device=None) -> World:
    """Join the process group that ``torchrun`` describes, or stay a single process.

    ``device``: the device of a single process (default: CUDA, then MPS, then the CPU). In a
    group each process uses ``cuda:LOCAL_RANK`` when CUDA is present, else the CPU.
    """
    import torch.distributed as dist

    from cnnbook.device import default_device

    size = _env_int("WORLD_SIZE", 1)
    if size <= 1:
        return World(0, 1, 0, torch.device(device) if device else default_device(), None)
    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"process {local_rank} on this machine has no GPU: "
                             f"{torch.cuda.device_count()} GPU(s) for --nproc_per_node processes")
        device, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(device)
    else:
        device, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return World(rank, size, local_rank, device, backend)


def cleanup() -> None:
    """Leave the process group, if one was joined."""
    import torch.distributed as dist

    if is_initialized():
        dist.destroy_process_group()


def is_initialized() -> bool:
    """Whether this process has joined a process group."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def all_reduce_sum(values, device) -> list[float]:
    """Sum each number over every process (each process passes its own)."""
    import torch.distributed as dist

    if not is_initialized():
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def barrier() -> None:
    import torch.distributed as dist

    if is_initialized():
        dist.barrier()


def shard(n, world: World) -> range:
    """The indices of ``n`` examples that this process evaluates: every example exactly once
    over all processes (no padding, unlike ``DistributedSampler``)."""
    return range(world.rank, n, world.size)


def wrap(model, world: World, *, sync_bn=False):
    """``DistributedDataParallel`` around ``model`` in a group (BatchNorm synchronized across
    processes on request), the model itself in a single process."""
    if sync_bn and world.device.type != "cuda":
        raise ValueError(f"--sync-bn needs CUDA: torch's SyncBatchNorm only runs on GPUs, not on {world.device.type}")
    if world.size == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [world.device.index] if world.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model):
    """The model inside a ``DistributedDataParallel`` wrapper (or the model itself)."""
    return getattr(model, "module", model)
