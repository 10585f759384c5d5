"""The exercise edition: learners write the layers and optimizers, the book's checks grade them.

    cnnbook exercises init DIR          DIR/my_layers.py (stubs) and DIR/notebooks/ (exercise notebooks)
    cnnbook exercises check [NAME ...] [--module DIR/my_layers.py]

- :mod:`cnnbook.exercises.grading`: load a learner's module, grade it with
  :data:`cnnbook.checks.EXERCISES` (the checks the test suite runs on ``cnnbook.numpy``),
  format the report.
- :mod:`cnnbook.exercises.workspace`: ``init_workspace`` and ``Workspace``, what an
  exercise notebook holds (``workspace.numpy``, ``workspace.check(NAME)``).
- :mod:`cnnbook.exercises.notebooks`: the exercise edition of a chapter, generated from
  the book's notebook and its ``exercise:NAME`` / ``exercise-remove`` cell tags.
- ``my_layers_template.py``: the stubs a workspace starts from.
"""

from cnnbook.checks.suite import EXERCISES
from cnnbook.exercises.grading import (
    FAILED,
    NOT_WRITTEN,
    PASSED,
    ExerciseError,
    Result,
    exercise_names,
    format_report,
    grade,
    load_module,
)
from cnnbook.exercises.notebooks import CHAPTERS, NotebookError, exercise_notebook, exercise_notebooks
from cnnbook.exercises.workspace import MODULE_FILE, TEMPLATE, ExerciseNotPassed, Workspace, init_workspace

__all__ = [
    "EXERCISES",
    "CHAPTERS",
    "PASSED",
    "NOT_WRITTEN",
    "FAILED",
    "ExerciseError",
    "ExerciseNotPassed",
    "NotebookError",
    "Result",
    "MODULE_FILE",
    "TEMPLATE",
    "Workspace",
    "exercise_names",
    "exercise_notebook",
    "exercise_notebooks",
    "format_report",
    "grade",
    "init_workspace",
    "load_module",
]

