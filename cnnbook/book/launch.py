"""One click to run a notebook: its "Open in Colab" badge and the lines that install cnnbook.

The project's public repository is named here and nowhere else: the badges, the install
lines and the website's launch buttons all read :data:`REPOSITORY` and :data:`BRANCH`, so a
fork changes these two lines and runs ``cnnbook book launch`` to update its notebooks.

:func:`add_launch` writes both into a notebook and is idempotent (a second run changes
nothing; a changed address replaces the old one):

- a markdown cell tagged ``launch-badge`` right after the title cell, holding the badge;
- at the top of the set-up cell (the first code cell that imports ``cnnbook``), a few lines
  that install the package when the notebook runs where it is missing (Colab, a notebook
  downloaded alone) and do nothing where it is installed (a checkout, ``pip install``)::

      import importlib.util
      if importlib.util.find_spec("cnnbook") is None:  # e.g. in Colab
          %pip install -q "cnnbook @ git+https://github.com/cnnbook/cnnbook@main"
          !cnnbook data fetch {DATASET} --quiet

  The last line, there when the parameters cell names a ``DATASET``, fetches it into the
  user cache (the data root outside a checkout), as ``cnnbook data fetch`` always does.
  ``find_spec`` looks for the package without importing it, and the fetch runs in its own
  process, so a set-up cell that sets thread counts before NumPy is imported keeps working.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["REPOSITORY", "BRANCH", "BADGE_TAG", "colab_url", "badge_source", "pip_spec",
           "install_lines", "add_launch", "launch_book"]

#: The project's public repository (a fork changes this line) and the branch readers run.
REPOSITORY = "https://github.com/cnnbook/cnnbook"
BRANCH = "main"

COLAB = "https://colab.research.google.com"
BADGE_IMAGE = f"{COLAB}/assets/colab-badge.svg"
BADGE_ALT = "Open In Colab"
BADGE_TAG = "launch-badge"

_ASSIGNS_DATASET = re.compile(r"^DATASET\s*=", re.M)
_IMPORTS_CNNBOOK = re.compile(r"^\s*(import|from)\s+cnnbook\b", re.M)
# The install block as install_lines() writes it, whatever address it names.
_INSTALL_BLOCK = re.compile(
    r'^import importlib\.util\n'
    r'if importlib\.util\.find_spec\("cnnbook"\) is None:[^\n]*\n'
    r'    %pip install [^\n]*\n'
    r'(    !cnnbook data fetch [^\n]*\n)?\n?',
    re.M,
)


def _github_name() -> str:
    """``owner/name`` of :data:`REPOSITORY`."""
    match = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)(\.git)?/?", REPOSITORY)
    if not match:
        raise ValueError(f"not a GitHub repository address: {REPOSITORY!r}")
    return match.group(1)


def colab_url(relpath: str) -> str:
    """Colab's address for the notebook at ``relpath`` (from the repository root)."""
    return f"{COLAB}/github/{_github_name()}/blob/{BRANCH}/{Path(relpath).as_posix()}"


def badge_source(relpath: str, image: str = BADGE_IMAGE) -> str:
    """The badge cell's markdown: Colab's badge image linking to the notebook in Colab."""
    return f"[![{BADGE_ALT}]({image})]({colab_url(relpath)})"


def pip_spec() -> str:
    """What ``pip install`` gets outside a checkout: the package from the repository."""
    return f"cnnbook @ git+{REPOSITORY}@{BRANCH}"


def install_lines(fetch_dataset: bool = True) -> str:
    """The lines at the top of a set-up cell, ending with a blank line.

    With ``fetch_dataset``, the notebook's ``DATASET`` parameter is fetched after installing.
    """
    return (
        "import importlib.util\n"
        'if importlib.util.find_spec("cnnbook") is None:  # e.g. in Colab\n'
        f'    %pip install -q "{pip_spec()}"\n'
        + ("    !cnnbook data fetch {DATASET} --quiet\n" if fetch_dataset else "")
        + "\n"
    )


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def _setup_cell(nb):
    """The first code cell (not the parameters) that imports cnnbook, or None."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = _tags(cell)
        if "parameters" in tags or "injected-parameters" in tags:
            continue
        if _IMPORTS_CNNBOOK.search(_INSTALL_BLOCK.sub("", cell.source)):
            return cell
    return None


def _repo_relpath(path: Path) -> str:
    from cnnbook.book.runner import notebooks_dir

    root = notebooks_dir().resolve().parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside the repository {root}; pass relpath") from None


def add_launch(path, relpath: str | None = None, *, write: bool = True) -> bool:
    """Give the notebook at ``path`` its badge cell and install lines; True if it changed.

    ``relpath`` is the notebook's path in the repository (default: its path in this
    checkout, e.g. ``notebooks/13_lenet.ipynb``). Outputs, execution counts and every
    other cell are kept as they are; with ``write=False`` nothing is written (a check).
    """
    import nbformat

    path = Path(path)
    relpath = relpath or _repo_relpath(path)
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    before = nbformat.writes(nb)

    badge = badge_source(relpath)
    cells = [c for c in nb.cells if BADGE_TAG in _tags(c)]
    if cells:
        for extra in cells[1:]:
            nb.cells.remove(extra)
        cells[0].source = badge
    else:
        cell = nbformat.v4.new_markdown_cell(badge)
        cell.metadata["tags"] = [BADGE_TAG]
        # After the title cell: a notebook opens with its title (notebooks/README.md).
        at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
        nb.cells.insert(at, cell)

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = _INSTALL_BLOCK.sub("", cell.source)
    setup = _setup_cell(nb)
    if setup is not None:
        params = [c for c in nb.cells if c.cell_type == "code" and "parameters" in _tags(c)]
        has_dataset = any(_ASSIGNS_DATASET.search(c.source) for c in params)
        setup.source = install_lines(has_dataset) + setup.source

    after = nbformat.writes(nb)
    if after == before:
        return False
    if write:  # as papermill and nbformat write it; a final newline only if the file had one
        path.write_text(after + "\n" * text.endswith("\n"), encoding="utf-8")
    return True


def launch_book(names=None, *, check: bool = False) -> list[Path]:
    """Add badges and install lines to the book's notebooks (all, or those named).

    Returns the notebooks that changed (with ``check=True``: that would change; nothing
    is written).
    """
    from cnnbook.book.runner import list_notebooks

    return [nb for nb in list_notebooks(names) if add_launch(nb, write=not check)]
