"""The settings of one ``cnnbook train`` run, checked when they are made."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TrainConfig", "DATASETS", "OPTIMIZERS", "SCHEDULES", "DEFAULT_LR"]

DATASETS = ("mnist10k", "mnist", "fashion-mnist", "cifar10")
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "step", "none")
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.1}
@dataclass
class TrainConfig:
    """The settings of one ``cnnbook train`` run (the command's options)."""

    model: str
    dataset: str = "mnist10k"
    epochs: int = 10
    batch_size: int = 64
    lr: float | None = None  # None: 2e-3 for Adam, 0.1 for SGD
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    augment: bool = False
    amp: bool = False
    seed: int = 0
    out: str | None = None
    resume: bool = False
    sync_bn: bool = False
    quiet: bool = False
    n_train: int | None = None
    model_args: dict = field(default_factory=dict)
    data_root: str | None = None

    def __post_init__(self):
        from cnnbook.models import list_models

        if self.model not in list_models():
            raise ValueError(f"unknown model {self.model!r}; expected one of: {', '.join(list_models())}")
        for name, value, allowed in (("dataset", self.dataset, DATASETS),
                                     ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("schedule", self.schedule, SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of: {', '.join(allowed)}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_train is not None and (not isinstance(self.n_train, int) or self.n_train < 1):
            raise ValueError(f"n_train must be a positive integer, got {self.n_train!r}")
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed!r}")
        if self.resume and not self.out:
            raise ValueError("--resume needs --out DIR: the folder of the run to continue")

    def describe(self) -> dict:
        """The settings that define the run (what must match to resume it)."""
        keep = ("model", "dataset", "epochs", "batch_size", "optimizer", "momentum", "weight_decay",
                "schedule", "augment", "seed", "sync_bn", "n_train", "model_args", "lr")
        return {k: getattr(self, k) for k in keep}
