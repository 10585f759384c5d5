"""The course's layers and optimizers, built from torch tensor primitives."""
