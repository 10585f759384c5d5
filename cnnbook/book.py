"""Run the book: execute the notebooks headlessly, in course order, with papermill.

Every notebook has one cell tagged ``parameters`` holding ``FAST = False`` (and the
epochs and dataset sizes that follow from it). The fast mode (``FAST=True``) is what the
test suite runs; the default mode produces the outputs committed with the notebooks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BookError", "notebooks_dir", "list_notebooks", "run_notebook", "run_book", "prepare"]


class BookError(RuntimeError):
    """A notebook failed; the message names the notebook and the cell."""


def notebooks_dir() -> Path:
    """``notebooks/`` of the checkout ``cnnbook`` runs from, else of the working folder."""
    repo = Path(__file__).resolve().parent.parent / "notebooks"
    return repo if repo.is_dir() else Path.cwd() / "notebooks"


def list_notebooks(names=None, folder=None) -> list[Path]:
    """The book's notebooks in course order (``NN_topic.ipynb``), or the ones named.

    A name may be a path, a file name or a prefix such as ``03``.
    """
    folder = Path(folder) if folder is not None else notebooks_dir()
    every = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path)
            continue
        matches = [p for p in every if p.name == name or p.name.startswith(name)]
        if len(matches) != 1:
            known = ", ".join(p.name for p in every) or "none"
            what = "matches several" if matches else "matches no"
            raise ValueError(f"{name!r} {what} notebook in {folder} (notebooks: {known})")
        chosen.append(matches[0])
    return chosen


def _parameters(fast: bool) -> dict:
    return {"FAST": True} if fast else {}


@dataclass
class Result:
    notebook: Path
    output: Path
    seconds: float


def run_notebook(path, output, *, fast=False, timeout=1800) -> Result:
    """Execute one notebook with papermill into ``output`` (which may be ``path`` itself).

    Raises :class:`BookError` naming the notebook, the failing cell and the error.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path, output = Path(path), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(path), str(output),
            parameters=_parameters(fast),
            cwd=str(path.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
        )
    except PapermillExecutionError as exc:
        raise BookError(
            f"{path.name}: cell {exc.cell_index + 1} (In [{exc.exec_count}]) failed: "
            f"{exc.ename}: {exc.evalue}"
        ) from None
    return Result(path, output, time.perf_counter() - start)


def run_book(names=None, *, fast=False, output_dir="build/book", in_place=False, log=print):
    """Execute the notebooks in order; stop at the first failure (raising :class:`BookError`)."""
    notebooks = list_notebooks(names)
    if not notebooks:
        raise BookError(f"no notebooks found in {notebooks_dir()}")
    results = []
    for i, nb in enumerate(notebooks, 1):
        out = nb if in_place else Path(output_dir) / nb.name
        log(f"[{i}/{len(notebooks)}] {nb.name} ...", end="", flush=True)
        result = run_notebook(nb, out, fast=fast)
        log(f" ok ({result.seconds:.1f} s)")
        results.append(result)
    return results


def prepare(names=None, *, fast=True, output_dir="build/nbtest") -> list[Path]:
    """Write parameterized copies of the notebooks, keeping their committed outputs.

    The test suite runs nbval on these copies: it executes each one (in fast mode) and
    compares the cells marked for checking with the committed outputs.
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
