"""The checks that grade a NumPy layer or optimizer against torch, in float64.

One definition serves both the test suite of :mod:`cnnbook.numpy` and the learner's
exercises (``cnnbook exercises check``): a check is given a class and raises
:class:`CheckFailed` with a message that says what differs, where, and by how much.

- :mod:`cnnbook.checks.compare`: the primitives (``assert_close``,
  ``check_against_torch``, ``copy_params`` ...).
- :mod:`cnnbook.checks.layers`: one layer class in one setting against torch
  (``conv2d_case`` ...), centred differences, dropout's statistics.
- :mod:`cnnbook.checks.optim`: an optimizer's path against ``torch.optim``.
- :mod:`cnnbook.checks.signatures`: does a constructor mirror torch's.
- :mod:`cnnbook.checks.suite`: ``EXERCISES``, the fixed checks of each exercise.

This package uses torch; :mod:`cnnbook.numpy` itself never imports it.
"""

from cnnbook.checks.compare import (
    RTOL,
    CheckFailed,
    assert_close,
    check_accumulates,
    check_against_torch,
    copy_params,
    expect_value_error,
    relative_error_to_scale,
    to_numpy,
    to_torch,
)
from cnnbook.checks.layers import GRAD_TOL, Reseeded, check_gradients, spread
from cnnbook.checks.signatures import signature_mismatches
from cnnbook.checks.suite import EXERCISES, Check, Exercise

__all__ = [
    "RTOL",
    "GRAD_TOL",
    "CheckFailed",
    "assert_close",
    "check_accumulates",
    "check_against_torch",
    "check_gradients",
    "copy_params",
    "expect_value_error",
    "relative_error_to_scale",
    "to_numpy",
    "to_torch",
    "spread",
    "Reseeded",
    "signature_mismatches",
    "Check",
    "Exercise",
    "EXERCISES",
]
