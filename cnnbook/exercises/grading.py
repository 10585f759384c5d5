"""Grade a learner's ``my_layers.py``: load it, run each exercise's checks, report.

An exercise is *passed* when every check of :data:`cnnbook.checks.EXERCISES` passes,
*not yet written* while the module lacks the class or a method of it still raises
``NotImplementedError`` (a stub), and *failed* at the first stage with a check that
fails; the report gives that check's message and how many checks of the stage pass.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from cnnbook.checks.compare import CheckFailed
from cnnbook.checks.suite import EXERCISES

__all__ = [
    "PASSED",
    "NOT_WRITTEN",
    "FAILED",
    "ExerciseError",
    "Result",
    "exercise_names",
    "load_module",
    "unwritten_methods",
    "grade",
    "format_report",
]

PASSED, NOT_WRITTEN, FAILED = "passed", "not yet written", "FAILED"

# The defaults a class inherits when it does not define the method: not written either.
_BASE_STUBS = {"Module.forward", "Module.backward", "Optimizer._update"}


class ExerciseError(Exception):
    """Something the learner can fix, in one message: a module that does not load, an
    unknown exercise name, a workspace that would be overwritten."""


@dataclass
class Result:
    """How one exercise stands."""

    name: str
    status: str
    message: str = ""  # the first thing that differs, or what is not yet written
    details: list[str] = field(default_factory=list)
    passed: int = 0  # checks that passed
    total: int = 0  # checks of the exercise

    @property
    def ok(self):
        return self.status == PASSED


def exercise_names(names=None):
    """The exercises named (any case), in course order; all of them for none."""
    if not names:
        return list(EXERCISES)
    by_lower = {n.lower(): n for n in EXERCISES}
    chosen = []
    for name in names:
        canonical = by_lower.get(str(name).lower())
        if canonical is None:
            raise ExerciseError(f"there is no exercise {name!r}; the exercises are: {', '.join(EXERCISES)}")
        if canonical not in chosen:
            chosen.append(canonical)
    return [n for n in EXERCISES if n in chosen]


# -- loading ------------------------------------------------------------------------------------


def _module_name(path):
    name = path.stem if path.stem.isidentifier() else "my_layers"
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() != path:
        name = f"_cnnbook_exercises_{name}"
    return name


def load_module(path):
    """Import the learner's module from ``path``, afresh on every call.

    Raises :class:`ExerciseError` with one message when the file is missing, has a
    syntax error, or raises while it is imported (the line in the file, and the error).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / "my_layers.py").is_file():
            raise ExerciseError(f"{path} is a folder without my_layers.py: pass the module's path, or the "
                                f"workspace folder made by `cnnbook exercises init DIR`")
        path = path / "my_layers.py"
    if not path.is_file():
        hint = "" if path.suffix == ".py" else " (expected a .py file)"
        raise ExerciseError(
            f"{path} does not exist{hint}: make a workspace with `cnnbook exercises init DIR` "
            f"and check DIR/my_layers.py, or pass --module PATH"
        )
    path = path.resolve()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ExerciseError(f"{path} could not be read: {error}") from None
    try:
        compile(source, str(path), "exec")
    except SyntaxError as error:
        raise ExerciseError(_syntax_message(path, error)) from None
    linecache.checkcache(str(path))  # inspect.getsource must see the file as it is now
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module  # inspect.getsource(cls) looks the file up here
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:  # in a module it imports
        _restore(name, previous)
        raise ExerciseError(_syntax_message(Path(error.filename or path), error)) from None
    except (Exception, SystemExit) as error:  # noqa: BLE001 - any error while importing is the learner's to see
        _restore(name, previous)
        line = _learner_line(error, path)
        where = f" at line {line[1]} ({line[2].strip()})" if line else ""
        raise ExerciseError(
            f"{path.name} could not be imported: {type(error).__name__}{where}: {error}"
        ) from None
    return module


def _restore(name, previous):
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _syntax_message(path, error):
    text = (error.text or "").rstrip("\n")
    lines = [f"{path.name} has a syntax error at line {error.lineno}: {error.msg}"]
    if text.strip():
        stripped = text.lstrip()
        lines.append("    " + stripped)
        if error.offset:
            lines.append("    " + " " * max(0, error.offset - 1 - (len(text) - len(stripped))) + "^")
    return "\n".join(lines)


def _learner_line(error, path):
    """(function, line number, line) of the last frame of ``error`` in the file ``path``;
    the function by its qualified name (``Linear.backward``)."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if Path(code.co_filename).resolve() == path:
            found = (code.co_qualname, tb.tb_lineno, linecache.getline(code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return found


# -- stubs ----------------------------------------------------------------------------------------


def _is_stub(func):
    """Does ``func``'s body raise NotImplementedError at its top level (after any given lines)?"""
    qualname = getattr(func, "__qualname__", "")
    if qualname in _BASE_STUBS:
        return True
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else []
    for stmt in body:
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def unwritten_methods(cls, methods):
    """Which of ``methods`` of ``cls`` are still stubs (or missing)."""
    return [m for m in methods if not callable(getattr(cls, m, None)) or _is_stub(getattr(cls, m))]


# -- grading ----------------------------------------------------------------------------------------


def _raised_in(error):
    """'Conv2d.backward': the function that raised ``error`` (the innermost frame)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_qualname if tb is not None else "a method"


def _crash(error, check, path):
    """A message for an exception raised by the learner's code during ``check``."""
    where = ""
    line = _learner_line(error, path) if path is not None else None
    if line:
        where = f" (line {line[1]} of {path.name}, in {line[0]}: {line[2].strip()})"
    text = str(error).splitlines()[0].strip() if str(error).strip() else ""
    return f"{type(error).__name__}{': ' + text if text else ''}{where}, while checking {check.setting}"


def _kind(message):
    """What a failure is about, without its numbers and setting: two failures of one kind
    are reported once."""
    message = message.split(" at ")[0].split(", while checking")[0]
    return re.sub(r"\d+(\.\d+)?", "#", re.sub(r"\b\w+\([^()]*\)", "CALL", message))


def join_and(items):
    """'a', 'a and b', 'a, b and c': items joined as a sentence lists them."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def grade_one(module, name, path=None):
    exercise = EXERCISES[name]
    total = len(exercise.checks)
    where = path.name if path is not None else "the module"
    cls = getattr(module, name, None)
    if cls is None:
        return Result(name, NOT_WRITTEN, f"{where} has no {name}", total=total)
    if not isinstance(cls, type):
        return Result(name, FAILED, f"{name} in {where} is a {type(cls).__name__}, not a class", total=total)
    stubs = unwritten_methods(cls, exercise.methods)
    if len(stubs) == len(exercise.methods):
        methods = join_and(f"{name}.{m}" for m in stubs)
        return Result(name, NOT_WRITTEN, f"{methods} still raise{'s' if len(stubs) == 1 else ''} NotImplementedError",
                      total=total)
    passed = 0
    done = []  # (stage, number of checks) of the stages passed so far
    for stage in exercise.stages():
        checks = [c for c in exercise.checks if c.stage == stage]
        failures, passing = [], []
        for check in checks:
            try:
                check.run(cls)
            except NotImplementedError as error:
                message = f"{_raised_in(error)} still raises NotImplementedError"
                progress = [f"{s} ({n} check{'s' if n > 1 else ''})" for s, n in done if s != "interface"]
                if passing:
                    progress.append(f"{len(passing)} {stage} check{'s' if len(passing) > 1 else ''}")
                details = [f"passed so far: {join_and(progress)}"] if progress else []
                return Result(name, NOT_WRITTEN, message, details, passed=passed + len(passing), total=total)
            except CheckFailed as failure:
                failures.append(str(failure))
            except (Exception, SystemExit) as error:  # noqa: BLE001 - the learner's code raised: report it
                failures.append(_crash(error, check, path))
            else:
                passing.append(check.setting)
        passed += len(passing)
        if failures:
            shown = "; ".join(passing[:3]) + ("; ..." if len(passing) > 3 else "")
            details = [f"{stage}: {len(passing)} of {len(checks)} checks pass" + (f": {shown}" if passing else "")]
            other = next((f for f in failures[1:] if _kind(f) != _kind(failures[0])), None)
            if other is not None:
                details.append(f"another that fails: {other}")
            return Result(name, FAILED, failures[0], details, passed=passed, total=total)
        done.append((stage, len(checks)))
    summary = ", ".join(f"{s} ({n})" for s, n in done)
    return Result(name, PASSED, f"{total} checks: {summary}", passed=passed, total=total)


def grade(module, names=None, *, path=None):
    """Grade the exercises ``names`` (all by default) of ``module``: a list of Results.

    ``module`` is any object with the classes as attributes (a loaded module, a
    ``types.SimpleNamespace``); ``path`` is its file, used to point at the learner's line
    when their code raises.
    """
    if path is None and getattr(module, "__file__", None):
        path = Path(module.__file__).resolve()
    return [grade_one(module, name, path) for name in exercise_names(names)]


def format_report(results, source="my_layers.py", width=100):
    """The report ``cnnbook exercises check`` prints."""
    lines = [f"Checking {source}", ""]
    label = max(len(r.name) for r in results) + 3 if results else 10
    wrap = textwrap.TextWrapper(width=width, initial_indent=" " * 6, subsequent_indent=" " * 8,
                                break_long_words=False, break_on_hyphens=False)
    for r in results:
        head = f"  {r.name} {'.' * (label - len(r.name))} {r.status}"
        if r.status == PASSED:
            lines.append(f"{head} ({r.message})")
            continue
        if r.status == NOT_WRITTEN:
            lines.append(f"{head}: {r.message}")
            lines += [wrap.fill(d) for d in r.details]
            continue
        lines.append(head)
        lines.append(wrap.fill(r.message))
        lines += [wrap.fill(d) for d in r.details]
    counts = {s: sum(r.status == s for r in results) for s in (PASSED, FAILED, NOT_WRITTEN)}
    lines += ["", f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[NOT_WRITTEN]} not yet written "
                  f"(of {len(results)})."]
    if results and counts[PASSED] == len(results):
        lines.append("Every exercise checked here passes.")
    return "\n".join(lines)
