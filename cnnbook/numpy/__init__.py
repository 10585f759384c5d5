"""NumPy reference layers with hand-written forward and backward passes."""

from cnnbook.numpy.parameter import Parameter

__all__ = ["Parameter"]
