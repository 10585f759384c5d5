"""The data of a run: standardized with the training set's statistics, shared out between
the processes, augmented on request."""

from __future__ import annotations

import numpy as np

from cnnbook.trainer.config import TrainConfig

__all__ = ["augment_batch", "loaders"]


def _standardize(x_train, x_val):
    """Each channel to mean 0 and std 1, with the training set's statistics."""
    mean = x_train.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), dtype=np.float64)
    scale = lambda x: ((x - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)  # noqa: E731
    return scale(x_train), scale(x_val), mean.tolist(), std.tolist()


def augment_batch(x, generator=None, padding=4):
    """Random crop (after zero padding) and random horizontal flip of an image batch, on
    the batch's device: the usual CIFAR-10 augmentation (He et al. 2016)."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).tolist()
    flip = torch.rand(n, generator=generator).lt(0.5).tolist()
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


class _Augmented:
    """A training loader whose image batches are augmented as they are drawn."""

    def __init__(self, loader):
        self.loader = loader
        self.sampler = loader.sampler

    def __iter__(self):
        for x, y in self.loader:
            yield augment_batch(x), y

    def __len__(self):
        return len(self.loader)


def loaders(config: TrainConfig, world):
    import torch
    from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

    from cnnbook import distributed
    from cnnbook.data import load_dataset

    if config.batch_size % world.size:
        raise ValueError(f"--batch-size is the global batch and must be divisible by the "
                         f"{world.size} processes, got {config.batch_size}")
    x_train, y_train, x_val, y_val = load_dataset(config.dataset, config.data_root, n_train=config.n_train)
    x_train, x_val, mean, std = _standardize(x_train, x_val)
    train_set = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    val_set = TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val))
    # One sampler for one process and for many: the order of epoch e depends only on the
    # seed and e, so a resumed run sees the batches the uninterrupted run saw.
    sampler = DistributedSampler(train_set, num_replicas=world.size, rank=world.rank, shuffle=True,
                                 seed=config.seed)
    pin = world.device.type == "cuda"
    train = DataLoader(train_set, batch_size=config.batch_size // world.size, sampler=sampler,
                       pin_memory=pin)
    val = DataLoader(Subset(val_set, distributed.shard(len(val_set), world)), batch_size=1000,
                     pin_memory=pin)
    if config.augment and config.dataset == "cifar10":
        train = _Augmented(train)
    shape = tuple(x_train.shape[1:])
    classes = int(max(y_train.max(), y_val.max())) + 1
    return train, val, {"image_shape": list(shape), "num_classes": classes, "mean": mean, "std": std,
                        "n_train": len(train_set), "n_val": len(val_set)}
