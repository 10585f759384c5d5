"""One helper that fixes every random number generator the course uses."""

import random

import numpy as np


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's, torch's and ``cnnbook.numpy``'s generators.

    Returns a fresh ``np.random.Generator`` for code that wants its own stream. It is
    seeded from ``(seed, 1)``, not ``seed`` alone, so its numbers are independent of the
    ``cnnbook.numpy`` generator's (which is reseeded with ``seed``): data drawn from one is
    not correlated with weights drawn from the other. With the same seed, a notebook run twice on the same machine prints the
    same numbers (on a CPU; some CUDA kernels are not deterministic).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    else:
        torch.manual_seed(seed)
    import cnnbook.numpy as cn

    if hasattr(cn, "manual_seed"):
        cn.manual_seed(seed)
    return np.random.default_rng([int(seed), 1])
