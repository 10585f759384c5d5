"""Every committed notebook follows the book's conventions (notebooks/README.md)."""

import ast
import json
import re

import papermill
import pytest

from cnnbook.book import list_notebooks
from cnnbook.book.edition import HANGUL

NOTEBOOKS = list_notebooks()


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _code(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_the_book_has_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opening_and_parameters(path):
    nb = _load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# ")
    assert HANGUL.search("".join(first["source"])), "the opening gives the Korean terms"
    code = _code(nb)
    tags = code[0].get("metadata", {}).get("tags", [])
    assert "parameters" in tags, "the first code cell is tagged 'parameters'"
    assert re.search(r"^FAST = False\b", "".join(code[0]["source"]), re.M)
    assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in code) == 1


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((NOTEBOOKS[0].parent / "ko").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_one_title_style(path):
    # "# 03 · Weight initialization (가중치 초기화)": the notebook's number, a middle dot, the title
    title = "".join(_load(path)["cells"][0]["source"]).splitlines()[0]
    assert re.match(rf"# {path.name[:2]} · \S", title), title


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_with_outputs_top_to_bottom(path):
    nb = _load(path)
    code = _code(nb)
    counts = [c.get("execution_count") for c in code]
    assert None not in counts, "every code cell was executed"
    assert counts == list(range(counts[0], counts[0] + len(counts))), "executed top to bottom, once"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, "no error outputs"
    assert not any("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"]), \
        "committed at default settings, not with injected parameters"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert images >= 1, "the notebook shows at least one figure"
    assert path.stat().st_size < 2_000_000, "a notebook with outputs stays under 2 MB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    # papermill skips (with a warning) a parameter line it cannot parse, such as one whose
    # comment holds an '='; such a parameter could not be listed or checked by name.
    source = "".join(_code(_load(path))[0]["source"])
    assigned = {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    found = set(papermill.inspect_notebook(str(path)))
    assert "FAST" in found and found == assigned
