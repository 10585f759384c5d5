"""cnnbook: a notebook course on deep learning and convolutional neural networks.

Subpackages:

- ``cnnbook.numpy``: reference layers with hand-written forward and backward passes,
  initializers, optimizers and gradient checking, in NumPy.
- ``cnnbook.torch``: the same layers and optimizers built from torch primitives, with
  ``torch.nn`` / ``torch.optim`` names and arguments.
- ``cnnbook.models``: the model families of the course (LeNet to DPN).

Shared plumbing: ``cnnbook.data`` (datasets), ``cnnbook.train`` (training loops),
``cnnbook.trainer`` and ``cnnbook.distributed`` (the ``cnnbook train`` command, on one
or many devices), ``cnnbook.plot`` (figures), ``cnnbook.seed`` (reproducibility),
``cnnbook.checks`` (the checks of a NumPy layer or optimizer against torch),
``cnnbook.exercises`` (the exercise edition, graded by those checks) and ``cnnbook.book``
(the book's tooling: running the notebooks, their claims, the website, the Korean
edition).
"""

__version__ = "0.1.0"
