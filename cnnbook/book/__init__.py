"""The book's tooling: running the notebooks, checking their claims, the website, the
translated editions.

- :mod:`cnnbook.book.runner`: execute the notebooks headlessly with papermill
  (``cnnbook book run``) and prepare fast-mode copies for the test suite.
- :mod:`cnnbook.book.claims`: checked claims, a notebook's conclusions tested by the run
  that produced them (``cnnbook book claims`` lists them).
- :mod:`cnnbook.book.site`: the book as a website (``cnnbook book html``), with its
  Sphinx extension :mod:`cnnbook.book.sphinx_ext`.
- :mod:`cnnbook.book.edition`: the Korean edition kept in step with the English
  notebooks (``cnnbook book edition``).
- :mod:`cnnbook.book.launch`: each notebook's Colab badge and install lines
  (``cnnbook book launch``); the project's repository address.

Layers and models never import this package.
"""

from cnnbook.book.claims import MIME, Claim, ClaimFailed, Claims, read_claims
from cnnbook.book.runner import (
    BookError,
    Result,
    default_jobs,
    list_notebooks,
    notebooks_dir,
    prepare,
    run_book,
    run_notebook,
)

__all__ = [
    "BookError",
    "Result",
    "notebooks_dir",
    "list_notebooks",
    "run_notebook",
    "run_book",
    "prepare",
    "default_jobs",
    "MIME",
    "Claim",
    "ClaimFailed",
    "Claims",
    "read_claims",
]
