"""cnnbook: a notebook course on deep learning and convolutional neural networks.

Subpackages:

- ``cnnbook.numpy``: reference layers with hand-written forward and backward passes,
  initializers, optimizers and gradient checking, in NumPy.
- ``cnnbook.torch``: the same layers and optimizers built from torch primitives, with
  ``torch.nn`` / ``torch.optim`` names and arguments.
- ``cnnbook.models``: the model families of the course (LeNet to DPN).

Shared plumbing: ``cnnbook.data`` (datasets), ``cnnbook.train`` (training loops),
``cnnbook.plot`` (figures), ``cnnbook.seed`` (reproducibility), ``cnnbook.book``
(running the notebooks).
"""

__version__ = "0.1.0"
