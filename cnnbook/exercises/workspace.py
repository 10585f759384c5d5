"""A learner's workspace: ``DIR/my_layers.py`` (the stubs) and ``DIR/notebooks/``.

``init_workspace(DIR)`` writes both and never overwrites a file that is there.
``Workspace(DIR)`` is what an exercise notebook holds: ``ws.numpy`` is ``cnnbook.numpy``
with the classes the learner has written taking the place of the book's, and
``ws.check("Conv2d")`` grades them.
"""

from __future__ import annotations

import types
from pathlib import Path

import cnnbook.numpy as cn
from cnnbook.exercises.grading import (
    FAILED,
    ExerciseError,
    exercise_names,
    format_report,
    grade,
    join_and,
    load_module,
    unwritten_methods,
)
from cnnbook.checks.suite import EXERCISES
from cnnbook.numpy import optim as np_optim

__all__ = ["MODULE_FILE", "TEMPLATE", "ExerciseNotPassed", "Workspace", "init_workspace"]

MODULE_FILE = "my_layers.py"
TEMPLATE = Path(__file__).with_name("my_layers_template.py")


class ExerciseNotPassed(AssertionError):
    """An exercise checked in a notebook failed: the cells below would run a wrong layer."""


def init_workspace(folder, *, book=None, notebooks=None):
    """Write ``folder/my_layers.py`` and the exercise notebooks into ``folder/notebooks/``.

    ``book`` is the folder of the book's notebooks (default: the checkout's). Nothing is
    written when any of the files is already there (ExerciseError names it): a learner's
    work is never overwritten. Returns the paths written.
    """
    from cnnbook.exercises.notebooks import exercise_notebooks

    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ExerciseError(f"{folder} is a file, not a folder: choose a folder for the workspace")
    generated = exercise_notebooks(book, names=notebooks)  # before writing anything
    targets = {folder / MODULE_FILE: TEMPLATE.read_text(encoding="utf-8")}
    for name, text in generated.items():
        targets[folder / "notebooks" / name] = text
    existing = [path for path in targets if path.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ExerciseError(
            f"{existing[0]} already exists{more}: `cnnbook exercises init` never overwrites your work. "
            f"Choose another folder, or move the existing files away first."
        )
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in targets.items():
        with open(path, "x", encoding="utf-8") as f:  # "x": fail rather than overwrite
            f.write(text)
        written.append(path)
    return written


class Workspace:
    """The learner's workspace as an exercise notebook uses it.

    ``Workspace("..")`` loads ``../my_layers.py``. ``ws.numpy`` is a module with
    everything ``cnnbook.numpy`` has, where each exercise the learner has written (no
    method still raising NotImplementedError) is the learner's class, and the others are
    still the book's; ``ws.numpy.optim`` likewise. ``ws.check(*names)`` grades the
    exercises and prints the report; it raises :class:`ExerciseNotPassed` when one fails.
    When the file has changed since it was loaded, ``check`` loads it again first and
    updates ``ws.numpy`` in place (so ``cn = ws.numpy`` sees the new classes; a name bound
    earlier, as ``SGD = ws.numpy.optim.SGD``, keeps the old class until the notebook is run
    from the top again).
    """

    def __init__(self, folder=".", *, quiet=False):
        self.folder = Path(folder).expanduser()
        self.path = self.folder / MODULE_FILE
        self.numpy = types.ModuleType("cnnbook.numpy+my_layers", cn.__doc__)
        self.numpy.optim = types.ModuleType("cnnbook.numpy.optim+my_layers", np_optim.__doc__)
        self.module = None
        self.yours, self.books = [], []
        self._loaded = None  # the text of the file as last loaded
        self.reload()
        if not quiet:
            print(self.summary())

    def reload(self):
        """Load ``my_layers.py`` again and rebuild ``self.numpy`` in place."""
        text = self.path.read_text(encoding="utf-8") if self.path.is_file() else None
        module = load_module(self.path)
        self._loaded = text
        numpy_names = {k: v for k, v in vars(cn).items() if not k.startswith("__") and k != "optim"}
        optim_names = {k: v for k, v in vars(np_optim).items() if not k.startswith("__")}
        yours, books = [], []
        for name, exercise in EXERCISES.items():
            cls = getattr(module, name, None)
            written = isinstance(cls, type) and not unwritten_methods(cls, exercise.methods)
            if written:
                (optim_names if exercise.kind == "optimizer" else numpy_names)[name] = cls
            (yours if written else books).append(name)
        self.numpy.__dict__.update(numpy_names)
        self.numpy.optim.__dict__.update(optim_names)
        self.module, self.yours, self.books = module, yours, books
        return self

    def summary(self):
        lines = [f"{self.path}: yours: {', '.join(self.yours) or 'none yet'}"]
        if self.books:
            lines.append(f"  the book's until you write them: {', '.join(self.books)}")
        return "\n".join(lines)

    def check(self, *names):
        """Grade ``names`` (all by default) in the current ``my_layers.py``; print the report.

        Raises ExerciseNotPassed when one fails; a not yet written one only says so (the
        notebook goes on with the book's class).
        """
        names = exercise_names(names)
        text = self.path.read_text(encoding="utf-8") if self.path.is_file() else None
        if text != self._loaded:
            self.reload()
            print(f"{self.path} has changed: loaded again. Run the notebook from the top to use it everywhere.")
        results = grade(self.module, names, path=self.path.resolve())
        print(format_report(results, source=str(self.path)))
        waiting = [r.name for r in results if not r.ok and r.status != FAILED]
        if waiting:
            print(f"Until you write {join_and(waiting)}, the cells below use the book's.")
        failed = [r.name for r in results if r.status == FAILED]
        if failed:
            raise ExerciseNotPassed(
                f"{join_and(failed)} failed the check: fix {'it' if len(failed) == 1 else 'them'} in {self.path} "
                f"and run this cell again (the cells below would run the wrong layer)"
            )
        return results
