"""Run the book: execute the notebooks headlessly, in course order, with papermill.

Every notebook has one cell tagged ``parameters`` holding ``FAST = False`` (and the
epochs and dataset sizes that follow from it). The fast mode (``FAST=True``) is what the
test suite runs; the default mode produces the outputs committed with the notebooks.

Notebooks run one per process: ``jobs`` of them at a time (each sets torch to one thread,
so on a machine with several cores several notebooks share it without slowing each other).

A notebook that fails stops the run with one :class:`BookError` naming the notebook and
the cell: a cell that raises, one that runs longer than ``timeout`` seconds, or a kernel
that dies.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

__all__ = ["BookError", "DEFAULT_TIMEOUT", "Result", "notebooks_dir", "list_notebooks",
           "run_notebook", "run_book", "prepare", "default_jobs"]


class BookError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


def notebooks_dir() -> Path:
    """``notebooks/`` of the checkout ``cnnbook`` runs from, else of the working folder."""
    repo = Path(__file__).resolve().parents[2] / "notebooks"
    return repo if repo.is_dir() else Path.cwd() / "notebooks"


def list_notebooks(names=None, folder=None) -> list[Path]:
    """The book's notebooks in course order (``NN_topic.ipynb``), or the ones named.

    A name may be a path, a file name (with or without ``.ipynb``), a number (``3`` or
    ``03``) or a prefix such as ``03_w``. A name that matches no notebook, or several,
    raises ``ValueError`` listing the notebooks there are.
    """
    folder = Path(folder) if folder is not None else notebooks_dir()
    every = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in map(str, names):
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path)
            continue
        if name.isdigit():
            matches = [p for p in every if int(p.name[:2]) == int(name)]
        else:
            matches = [p for p in every if name in (p.name, p.stem)] or [
                p for p in every if p.name.startswith(name)]
        if len(matches) != 1:
            known = ", ".join(p.stem for p in every) or "none"
            if matches:
                what = f"{name!r} matches several notebooks ({', '.join(p.name for p in matches)})"
            else:
                what = f"no notebook {name!r} in {folder}"
            raise ValueError(f"{what}; expected a number or a name of: {known}")
        chosen.append(matches[0])
    return chosen


def default_jobs() -> int:
    """Notebooks run at once by default: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def _parameters(fast: bool) -> dict:
    return {"FAST": True} if fast else {}


@dataclass
class Result:
    notebook: Path
    output: Path
    seconds: float


#: Seconds a cell may run before the notebook is stopped (``--timeout``).
DEFAULT_TIMEOUT = 1800


class _SaidByBookError(logging.Filter):
    """Drop nbclient's log lines about a timeout or a dead kernel: the BookError says it."""

    def filter(self, record):
        return not record.getMessage().startswith(
            ("Timeout waiting for execute reply", "Kernel died while waiting for execute reply"))


@contextmanager
def _quiet_duplicates():
    """While a notebook runs, the lines its BookError will repeat are not logged."""
    logger = logging.getLogger("papermill")  # the logger papermill hands to nbclient
    quiet = _SaidByBookError()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def run_notebook(path, output, *, fast=False, timeout=DEFAULT_TIMEOUT) -> Result:
    """Execute one notebook with papermill into ``output`` (which may be ``path`` itself).

    ``timeout`` is the number of seconds one cell may run. Raises :class:`BookError`
    naming the notebook and the cell when a cell raises, runs past ``timeout`` or its
    kernel dies (then the output holds the cells run so far).
    """
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    _check_timeout(timeout)
    path, output = Path(path), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = []  # index of each cell as it starts

    def cell_started(cell, cell_index):
        started.append(cell_index)

    def where():
        return f"cell {started[-1] + 1}" if started else "before the first cell"

    start = time.perf_counter()
    try:
        with _quiet_duplicates():
            pm.execute_notebook(
                str(path), str(output),
                parameters=_parameters(fast),
                cwd=str(path.parent),
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=timeout,
                # nbclient's options: follow the cells; stop a kernel at once when done, so
                # that one still running a timed-out cell is not left to print a traceback
                on_cell_start=cell_started,
                shutdown_kernel="immediate",
            )
    except PapermillExecutionError as exc:
        raise BookError(
            f"{path.name}: cell {exc.cell_index + 1} (In [{exc.exec_count}]) failed: "
            f"{exc.ename}: {exc.evalue}"
        ) from None
    except CellTimeoutError:
        raise BookError(f"{path.name}: {where()} timed out after {timeout:g} s "
                        f"(a longer limit: --timeout SECONDS)") from None
    except DeadKernelError:
        raise BookError(f"{path.name}: the kernel died during {where()} "
                        f"(it exited, crashed or ran out of memory)") from None
    except Exception as exc:  # a notebook that cannot be read, a kernel that cannot start ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BookError(f"{path.name}: could not be run: {type(exc).__name__}: {first}") from None
    _record_portable_paths(output, path)
    return Result(path, output, time.perf_counter() - start)


def _portable(path: Path) -> str:
    """``path`` relative to the working folder when inside it, else its name alone."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _record_portable_paths(output: Path, path: Path) -> None:
    """papermill records the absolute paths it ran with in the notebook's metadata; an
    output meant to be committed should not name a folder of one particular machine."""
    import nbformat

    nb = nbformat.read(output, as_version=4)
    meta = nb.metadata.get("papermill")
    if meta is None:
        return
    meta["input_path"], meta["output_path"] = _portable(path), _portable(output)
    nbformat.write(nb, output)


def _expected_seconds(path: Path) -> float:
    """How long the notebook took when its outputs were last written (0 if unknown)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
        return float(meta.get("papermill", {}).get("duration") or 0)
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def run_book(names=None, *, fast=False, output_dir="build/book", in_place=False, jobs=1,
             timeout=DEFAULT_TIMEOUT, log=print) -> list[Result]:
    """Execute the notebooks, ``jobs`` at a time; stop at the first failure (:class:`BookError`).

    With several jobs the longest notebooks (by their last recorded run) start first, so
    the book finishes sooner; each notebook's output is the same as in a run on its own.
    ``timeout`` is the number of seconds one cell may run.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    _check_timeout(timeout)
    notebooks = list_notebooks(names)
    if not notebooks:
        raise BookError(f"no notebooks found in {notebooks_dir()}")
    outputs = {nb: nb if in_place else Path(output_dir) / nb.name for nb in notebooks}
    if jobs == 1:
        results = []
        for i, nb in enumerate(notebooks, 1):
            log(f"[{i}/{len(notebooks)}] {nb.name} ...", end="", flush=True)
            try:
                result = run_notebook(nb, outputs[nb], fast=fast, timeout=timeout)
            except BaseException:
                log(" failed")
                raise
            log(f" ok ({result.seconds:.1f} s)")
            results.append(result)
        return results

    order = sorted(notebooks, key=_expected_seconds, reverse=True)
    done: dict[Path, Result] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        pending = {pool.submit(run_notebook, nb, outputs[nb], fast=fast, timeout=timeout): nb
                   for nb in order}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_EXCEPTION)
                for future in finished:
                    nb = pending.pop(future)
                    try:
                        result = future.result()  # raises the notebook's BookError
                    except BrokenProcessPool:  # which notebook's process died is not known
                        unfinished = [n.name for n in notebooks if n not in done]
                        raise BookError(f"a process running notebooks died (out of memory?); "
                                        f"unfinished: {', '.join(unfinished)}") from None
                    done[nb] = result
                    log(f"[{len(done)}/{len(notebooks)}] {nb.name} ok ({result.seconds:.1f} s)")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return [done[nb] for nb in notebooks]


def prepare(names=None, *, fast=False, output_dir="build/nbtest") -> list[Path]:
    """Write parameterized copies of the notebooks, keeping their committed outputs.

    The test suite runs nbval on these copies: it executes each one and compares the cells
    marked for checking with the committed outputs. Like :func:`run_book` (and
    ``cnnbook book prepare``) the default is the full mode; the suite asks for
    ``fast=True`` (``cnnbook book prepare --fast``).
    """
    import papermill as pm

    out = []
    for nb in list_notebooks(names):
        dest = Path(output_dir) / nb.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        pm.execute_notebook(str(nb), str(dest), parameters=_parameters(fast),
                            prepare_only=True, kernel_name="python3", progress_bar=False)
        out.append(dest)
    return out
