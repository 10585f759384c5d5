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
    "check_command",
    "init_command",
]


def init_command(folder, book=None):
    """``cnnbook exercises init``: make the workspace and say what to do next; exit status."""
    import sys

    try:
        written = init_workspace(folder, book=book)
    except ExerciseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    notebooks = [p for p in written if p.suffix == ".ipynb"]
    print(f"Made an exercise workspace in {folder}:")
    print(f"  {written[0]}  the classes you write: {len(EXERCISES)} exercises, every one a stub")
    for p in notebooks:
        print(f"  {p}  exercises: {', '.join(CHAPTERS[_stem(p)])}" if _stem(p) in CHAPTERS else f"  {p}")
    print(f"Next: write a method in {written[0].name}, then `cnnbook exercises check --module {written[0]}`"
          f" (or run it in {folder}), or open a notebook in {folder}/notebooks/.")
    return 0


def _stem(path):
    for stem in CHAPTERS:
        if path.stem == stem or path.stem[:2] == stem[:2]:
            return stem
    return path.stem


def check_command(names, module="my_layers.py"):
    """``cnnbook exercises check``: grade, print the report; 0 only when every exercise checked passes."""
    import sys
    from pathlib import Path

    try:
        chosen = exercise_names(names)
        learner = load_module(module)
    except ExerciseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    results = grade(learner, chosen, path=Path(learner.__file__).resolve())
    print(format_report(results, source=str(module)))
    return 0 if all(r.ok for r in results) else 1
