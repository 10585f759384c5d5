"""``cnnbook train``: train any model of the zoo on a dataset, resumably, on one or many devices.

    cnnbook train lenet5 --dataset mnist10k --epochs 5
    torchrun --standalone --nproc_per_node=4 -m cnnbook train resnet18 --dataset cifar10 ...

The epochs run in :func:`cnnbook.train.fit`, the loop every notebook uses; this package adds
what a long run needs around it: the model built for the dataset, standardized data and
augmentation, an optimizer and schedule from the command line, one process per device
(:mod:`cnnbook.distributed`), and a run folder that rank 0 alone writes:

- ``config.json``: the command's settings, with the data's statistics and the world size;
- ``metrics.csv``: one row per epoch (losses, accuracies, learning rate, seconds, images/s);
- ``last.pt``: everything needed to continue (model, optimizer, schedule, gradient scaler,
  random state, metrics), written at the end of every epoch; ``best.pt``: the model of the
  epoch with the best held-out accuracy.

Every file is written to a temporary name and renamed into place, so a run killed at any
moment (even with SIGKILL) leaves complete files; ``--resume`` continues from ``last.pt``
and ends exactly where the uninterrupted run would have (on the CPU, to float rounding).
Checkpoints are read with ``torch.load(weights_only=True)``: no pickled code runs.

The package, by what a reader looks for: :mod:`~cnnbook.trainer.config` (the settings),
:mod:`~cnnbook.trainer.data` (loaders, augmentation), :mod:`~cnnbook.trainer.model` (the model
for the dataset), :mod:`~cnnbook.trainer.checkpoint` (the run folder's files),
:mod:`~cnnbook.trainer.run` (the run) and :mod:`~cnnbook.trainer.options` (the command line).
"""

from cnnbook.trainer.checkpoint import METRICS, CheckpointError, load_checkpoint
from cnnbook.trainer.config import TrainConfig
from cnnbook.trainer.data import augment_batch, loaders
from cnnbook.trainer.model import build_model
from cnnbook.trainer.options import add_arguments, config_from_args
from cnnbook.trainer.run import train

__all__ = ["TrainConfig", "CheckpointError", "METRICS", "train", "load_checkpoint", "build_model",
           "augment_batch", "loaders", "add_arguments", "config_from_args"]
