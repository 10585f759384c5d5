"""The exercise edition of a chapter, generated from the book's notebook.

The book's notebooks carry two kinds of cell tags for it (nothing else about them
changes, and the book runs them as always):

- ``exercise:NAME`` (``exercise:Conv2d``): this cell holds or shows the book's code for
  the exercise NAME. The exercise edition replaces it by the exercise: a markdown cell
  saying what to write in ``my_layers.py`` and a code cell that grades it,
  ``workspace.check("Conv2d")``. A cell may carry several such tags (one block each, in
  order); an exercise may be tagged in any chapter, once per notebook.
- ``exercise-after:NAME``: the cell stays, and the exercise block follows it (where a
  chapter uses a layer without showing its code).
- ``exercise-remove``: the exercise edition leaves this cell out (it gives the answer
  away, or it uses code that was removed).

Every generated notebook also gets, after its title, a note on the exercise edition;
after the ``parameters`` cell, a setup cell (``workspace = Workspace("..")``, which loads
``../my_layers.py``); its imports of ``cnnbook.numpy`` rebound to ``workspace.numpy``,
which holds the learner's classes once written and the book's until then (``import
cnnbook.numpy as cn`` becomes ``cn = workspace.numpy``; ``from cnnbook.numpy.optim import
SGD`` becomes ``SGD = workspace.numpy.optim.SGD``); and, for each exercise of the chapter
(:data:`CHAPTERS`) that no cell is tagged with, the exercise block in a section right after
the setup cell. Outputs are cleared.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat

from cnnbook.checks.suite import EXERCISES
from cnnbook.exercises.grading import ExerciseError, join_and

__all__ = [
    "CHAPTERS",
    "EXERCISE_TAG",
    "AFTER_TAG",
    "REMOVE_TAG",
    "WORKSPACE",
    "NotebookError",
    "rewrite_imports",
    "exercise_notebook",
    "exercise_notebooks",
]

# The chapters with exercises: notebook -> the exercises it introduces, in order.
CHAPTERS = {
    "05_dropout": ("Dropout",),
    "07_batch_normalization": ("BatchNorm2d",),
    "08_convolution": ("Conv2d",),
    "09_pooling": ("MaxPool2d", "AvgPool2d"),
    "11_numpy_cnn": ("Linear", "ReLU", "Sigmoid", "CrossEntropyLoss"),
    "12_optimizers": ("SGD", "Adagrad", "RMSprop", "Adam"),
}

EXERCISE_TAG = "exercise:"
AFTER_TAG = "exercise-after:"
REMOVE_TAG = "exercise-remove"
WORKSPACE = "workspace"  # the name the generated notebook binds the Workspace to

_MAGIC = re.compile(r"^\s*[%!]")


class NotebookError(ExerciseError):
    """A book notebook cannot be turned into its exercise edition; names the cell."""


# -- imports -----------------------------------------------------------------------------------


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _mask_magics(source):
    """IPython magics and shell lines are not Python: each becomes a ``pass`` at its own
    indentation (so an ``if`` whose body is a ``%pip`` line still parses), keeping line numbers."""
    out = []
    for line in source.splitlines(keepends=True):
        match = _MAGIC.match(line)
        out.append(line[:match.end() - 1] + "pass\n" if match else line)
    return "".join(out)


def _parse(source, where):
    masked = _mask_magics(source)
    try:
        return ast.parse(masked)
    except SyntaxError as error:
        raise NotebookError(f"{where}: the cell is not valid Python (line {error.lineno}: {error.msg})") from None


def _target(module, name):
    """What ``from module import name`` becomes in the exercise edition, or None to keep it."""
    if module == "cnnbook" and name == "numpy":
        return f"{WORKSPACE}.numpy"
    if module == "cnnbook.numpy" and name == "optim":
        return f"{WORKSPACE}.numpy.optim"
    if name in EXERCISES and (module == "cnnbook.numpy" or module.startswith("cnnbook.numpy.")):
        if EXERCISES[name].kind == "optimizer":
            return f"{WORKSPACE}.numpy.optim.{name}"
        return f"{WORKSPACE}.numpy.{name}"
    return None


def _replacement(node, where):
    """The lines that replace the import ``node``, or None when it stays as it is."""
    keep, bind = [], []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in ("cnnbook.numpy", "cnnbook.numpy.optim"):
                if alias.asname is None:
                    raise NotebookError(
                        f"{where}: `import {alias.name}` cannot be rebound to the learner's classes; "
                        f"write `import {alias.name} as NAME` and use NAME"
                    )
                suffix = ".optim" if alias.name.endswith(".optim") else ""
                bind.append((alias.asname, f"{WORKSPACE}.numpy{suffix}"))
            else:
                keep.append(alias)
        if not bind:
            return None
        lines = [f"import {', '.join(_alias(a) for a in keep)}"] if keep else []
    else:
        module = node.module or ""
        if node.level or not (module == "cnnbook" or module == "cnnbook.numpy" or module.startswith("cnnbook.numpy.")):
            return None
        for alias in node.names:
            if alias.name == "*":
                raise NotebookError(f"{where}: `from {module} import *` hides which names are the learner's; "
                                    f"import the names")
            target = _target(module, alias.name)
            if target is None:
                keep.append(alias)
            else:
                bind.append((alias.asname or alias.name, target))
        if not bind:
            return None
        lines = [f"from {module} import {', '.join(_alias(a) for a in keep)}"] if keep else []
    for name, target in bind:
        if target.endswith(".numpy") or target.endswith(".optim"):
            lines.append(f"{name} = {target}  # cnnbook.numpy{target.split('numpy', 1)[1]}, with the classes you wrote")
        else:
            lines.append(f"{name} = {target}  # yours once written in my_layers.py")
    return lines


def _alias(alias):
    return alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"


def rewrite_imports(source, where="the cell"):
    """``source`` with its imports of ``cnnbook.numpy`` rebound to ``workspace.numpy``.

    Raises NotebookError for what cannot be rebound safely: ``import cnnbook.numpy``
    without a name, a star import, ``cnnbook.numpy.Conv2d`` spelled out, an import sharing
    its line with other code.
    """
    tree = _parse(source, where)
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node) or ""
            parts = dotted.split(".")
            if parts[:2] == ["cnnbook", "numpy"] and len(parts) > 2 and (parts[2] in EXERCISES or parts[2] == "optim"):
                raise NotebookError(
                    f"{where}: `{'.'.join(parts[:3])}` bypasses the learner's classes; import cnnbook.numpy "
                    f"as cn and write cn.{'.'.join(parts[2:3])}"
                )
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        new = _replacement(node, where)
        if new is None:
            continue
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        before, after = first[: node.col_offset], last[node.end_col_offset:]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            raise NotebookError(f"{where}: put the import of cnnbook.numpy on a line of its own (line {node.lineno})")
        newline = "\n" if last.endswith("\n") else ""
        text = "".join(f"{before}{line}\n" for line in new)
        edits.append((node.lineno - 1, node.end_lineno, text[:-1] + newline if text else ""))
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def _names_used(source):
    names = set()
    try:
        tree = ast.parse(_mask_magics(source))
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


# -- cells ---------------------------------------------------------------------------------------


def _cell(kind, source, cell_id):
    cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
    cell["id"] = cell_id
    return cell


def _methods_text(name):
    methods = EXERCISES[name].methods
    return " and ".join(f"`{name}.{m}`" for m in methods)


_STAGE_WORDS = {
    "forward": "the forward pass against torch",
    "statistics": "the drop rate and the scaling",
    "backward": "the backward pass against torch's autograd",
    "centred differences": "the gradients against centred differences",
    "steps": "150 steps against `torch.optim` (the state and the parameters after every step)",
    "bad input": "the errors for bad input",
}


_DROPOUT_WORDS = {  # a random layer: no elementwise comparison with torch
    "forward": "evaluation mode, p = 0, p = 1 and the masks drawn",
    "backward": "the backward pass",
}


def exercise_cells(name):
    """The exercise block: what to write, and the cell that grades it."""
    exercise = EXERCISES[name]
    what = {"layer": "the layer", "loss": "the loss", "optimizer": "the optimizer"}[exercise.kind]
    words = dict(_STAGE_WORDS, **_DROPOUT_WORDS) if name == "Dropout" else _STAGE_WORDS
    checks = join_and([words[s] for s in exercise.stages() if s in words])
    book = f"cnnbook.numpy.optim.{name}" if exercise.kind == "optimizer" else f"cnnbook.numpy.{name}"
    text = (
        f"### Exercise (연습 문제): `{name}`\n\n"
        f"Write {_methods_text(name)} in `my_layers.py` (in the workspace folder, one level up from "
        f"this notebook): {exercise.summary}. The docstring and the comments of the stub say what "
        f"to compute; what is marked *given* is written for you.\n\n"
        f"The cell below grades {what} with the checks the book's own `{book}` passes: "
        f"{checks}, in several settings, in float64. In a terminal, `cnnbook exercises check {name}` runs the same checks. "
        f"Once you have written it, `{name}` in this notebook is yours; until then the cells use the book's."
    )
    slug = name.lower()
    return [_cell("markdown", text, f"exercise-{slug}-task"),
            _cell("code", f'{WORKSPACE}.check("{name}")', f"exercise-{slug}-check")]


def _intro(source_name, exercises):
    listed = ", ".join(f"`{n}`" for n in exercises) if exercises else "none"
    return (
        "> **Exercise edition (연습 문제판).** This copy of the chapter runs your own code: the classes "
        "you write in `../my_layers.py` take the place of the book's `cnnbook.numpy` classes wherever "
        "the chapter uses them, once you have written them. Where the book shows how a layer or an "
        "optimizer is computed, this edition asks you to write it, and a check cell grades it with the "
        "tests the book's own code passes.\n>\n"
        f"> This chapter's exercises: {listed}. Generated from the book's `{source_name}` by "
        "`cnnbook exercises init`; edit `my_layers.py`, and run this notebook from the top after you change it."
    )


_SETUP = (
    "# Exercise edition: the classes you write in ../my_layers.py take the place of the book's\n"
    "from cnnbook.exercises import Workspace\n\n"
    f"{WORKSPACE} = Workspace(\"..\")  # loads ../my_layers.py; {WORKSPACE}.check(NAME) grades an exercise"
)


# -- notebooks -------------------------------------------------------------------------------------


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_notebook(nb, source_name, exercises=()):
    """The exercise edition of the notebook ``nb`` (an nbformat v4 notebook, not modified).

    ``exercises`` are the chapter's own exercises: those that no cell is tagged with get
    their block in a section after the setup cell. Raises NotebookError naming the cell.
    """
    nb = copy.deepcopy(nb)
    for name in exercises:
        if name not in EXERCISES:
            raise NotebookError(f"{source_name}: {name!r} is not an exercise ({', '.join(EXERCISES)})")
    used = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            used |= _names_used(cell.source)
    if WORKSPACE in used:
        raise NotebookError(f"{source_name}: the notebook uses the name {WORKSPACE!r}, which the exercise "
                            f"edition binds to the learner's workspace")
    cells, tagged, params_at = [], [], None
    for i, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {i + 1}" + (f" (id {cell.get('id')})" if cell.get("id") else "")
        tags = _tags(cell)
        names = [t[len(EXERCISE_TAG):] for t in tags if t.startswith(EXERCISE_TAG)]
        after = [t[len(AFTER_TAG):] for t in tags if t.startswith(AFTER_TAG)]
        unknown_tags = [t for t in tags if t.startswith("exercise") and t != REMOVE_TAG
                        and not t.startswith((EXERCISE_TAG, AFTER_TAG))]
        if unknown_tags:
            raise NotebookError(f"{where}: unknown tag {unknown_tags[0]!r}; the exercise tags are "
                                f"'{EXERCISE_TAG}NAME', '{AFTER_TAG}NAME' and '{REMOVE_TAG}'")
        for tag, name in [(EXERCISE_TAG, n) for n in names] + [(AFTER_TAG, n) for n in after]:
            if name not in EXERCISES:
                raise NotebookError(f"{where}: tag '{tag}{name}' names no exercise; the exercises are "
                                    f"{', '.join(EXERCISES)}")
            if name in tagged:
                raise NotebookError(f"{where}: a second cell tagged with the exercise {name}")
            tagged.append(name)
        kinds = [t for t, present in ((REMOVE_TAG, REMOVE_TAG in tags), (f"{EXERCISE_TAG}{names[0] if names else ''}", names),
                                      (f"{AFTER_TAG}{after[0] if after else ''}", after)) if present]
        if "parameters" in tags and kinds:
            raise NotebookError(f"{where}: the parameters cell stays in the exercise edition and comes first; "
                                f"move the tag '{kinds[0]}' to another cell")
        if len(kinds) > 1:
            raise NotebookError(f"{where}: tagged both '{kinds[0]}' and '{kinds[1]}'; keep one kind")
        if REMOVE_TAG in tags:
            continue
        if names:
            for name in names:
                cells += exercise_cells(name)
            continue
        cell = copy.deepcopy(cell)
        cell.metadata["tags"] = [t for t in tags if not t.startswith(AFTER_TAG)]
        if not cell.metadata["tags"]:
            del cell.metadata["tags"]
        if cell.cell_type == "code":
            cell.source = rewrite_imports(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        if "parameters" in tags and params_at is None:
            params_at = len(cells)
        cells.append(cell)
        for name in after:
            cells += exercise_cells(name)
    # The setup cell: after the parameters cell, else before the first code cell.
    if params_at is not None:
        setup_at = params_at + 1
    else:
        setup_at = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    untagged = [n for n in exercises if n not in tagged]
    block = [_cell("code", _SETUP, "exercise-setup")]
    if untagged:
        block.append(_cell("markdown", "## Exercises of this chapter (이 장의 연습 문제)\n\n"
                                       "Write these in `my_layers.py` as you read the chapter; each check cell "
                                       "can be run again whenever you have changed the file.",
                           "exercise-section"))
        for name in untagged:
            block += exercise_cells(name)
    cells[setup_at:setup_at] = block
    title = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("#") else 0
    cells.insert(title, _cell("markdown", _intro(source_name, list(exercises) + [n for n in tagged if n not in exercises]),
                              "exercise-intro"))
    nb.cells = cells
    meta = nb.metadata.get("cnnbook", {})
    meta["exercise_edition"] = {
        "from": source_name,
        "exercises": list(exercises) + [n for n in tagged if n not in exercises],
        "tagged": tagged,
        "at_the_start": untagged,
    }
    nb.metadata["cnnbook"] = nbformat.from_dict(meta)
    if nb.nbformat_minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    ids = [c.get("id") for c in nb.cells if c.get("id")]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise NotebookError(f"{source_name}: two cells would have the id {dup!r}")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise NotebookError(f"{source_name}: the exercise edition is not a valid notebook: {error.message}") from None
    return nb


def _find(book, stem):
    exact = book / f"{stem}.ipynb"
    if exact.is_file():
        return exact
    same_number = sorted(book.glob(f"{stem[:2]}_*.ipynb"))
    if len(same_number) == 1:
        return same_number[0]
    raise NotebookError(f"the book in {book} has no notebook {stem}.ipynb (chapter {stem[:2]})")


def exercise_notebooks(book=None, names=None):
    """The exercise editions of the chapters :data:`CHAPTERS` (or the ones named), as
    ``{file name: notebook JSON}``, from the book's notebooks in ``book`` (default: the
    checkout's ``notebooks/``)."""
    from cnnbook.book import notebooks_dir

    book = Path(book) if book is not None else notebooks_dir()
    if not book.is_dir():
        raise NotebookError(f"{book} is not a folder of notebooks: pass the book's notebooks/ folder "
                            f"(in a clone of cnnbook), as in `cnnbook exercises init DIR --book PATH/notebooks`")
    stems = list(CHAPTERS) if names is None else list(names)
    out = {}
    for stem in stems:
        if stem not in CHAPTERS:
            raise NotebookError(f"{stem!r} is not a chapter with exercises ({', '.join(CHAPTERS)})")
        path = _find(book, stem)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as error:  # noqa: BLE001 - an unreadable notebook, whatever the reason
            raise NotebookError(f"{path} could not be read as a notebook: {error}") from None
        out[path.name] = nbformat.writes(exercise_notebook(nb, path.name, CHAPTERS[stem])) + "\n"
    return out
