"""The command line of ``cnnbook train``: its options, and the settings they give."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from cnnbook.trainer.config import DATASETS, TrainConfig

__all__ = ["add_arguments", "config_from_args"]


def _model_arg(text):
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``cnnbook train``."""
    p.add_argument("model", metavar="MODEL",
                   help="a registered model, e.g. lenet5, resnet18, densenet121 (all: cnnbook.models.list_models())")
    p.add_argument("--dataset", default="mnist10k", help=f"{', '.join(DATASETS)} (default mnist10k)")
    p.add_argument("--epochs", type=int, default=10, help="number of epochs (default 10)")
    p.add_argument("--batch-size", type=int, default=64,
                   help="the GLOBAL batch size, split evenly over the processes (default 64)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 2e-3 for adam, 0.1 for sgd)")
    p.add_argument("--optimizer", default="adam", help="adam or sgd (momentum 0.9) (default adam)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (default 0)")
    p.add_argument("--schedule", default="cosine", help="cosine, step or none (default cosine, per epoch)")
    p.add_argument("--augment", action="store_true", help="random crop and flip (CIFAR-10 only)")
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: float16 with a gradient scaler on CUDA, bfloat16 on the CPU")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (default 0)")
    p.add_argument("--out", default=None, help="run folder (default runs/MODEL-DATASET-TIMESTAMP)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--sync-bn", action="store_true", help="synchronize batch norm across processes")
    p.add_argument("--n-train", type=int, default=None, help="use only the first N training images (quick trials)")
    p.add_argument("--model-arg", action="append", type=_model_arg, default=[], metavar="KEY=VALUE",
                   help="an argument of the model's factory, e.g. width_div=4 (repeatable; JSON values)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--root", default=None, help="data root (default: CNNBOOK_DATA, data/, or the user cache)")


def config_from_args(args) -> TrainConfig:
    names = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["model_args"] = dict(args.model_arg)
    values["data_root"] = args.root
    return TrainConfig(**values)
