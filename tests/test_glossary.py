"""The glossary lists one Korean term per concept, and the book keeps to it: each term appears
in the notebook that introduces it, and the other common terms the glossary names appear
nowhere else, in the English notebooks and in the Korean edition."""

import json
import re
from pathlib import Path

import pytest

from cnnbook.book import list_notebooks, notebooks_dir

GLOSSARY = notebooks_dir() / "glossary.md"
_ROW = re.compile(r"^\|(?P<en>[^|]+)\|(?P<ko>[^|]+)\|\s*\[(?P<nb>\d\d)\]\((?P<link>[^)]+)\)\s*\|(?P<other>[^|]*)\|\s*$")


def _rows():
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows.append({k: v.strip() for k, v in match.groupdict().items()})
    return rows


ROWS = _rows()


def _terms(cell):
    return [t.strip() for t in cell.split("/") if t.strip()]


def _prose(path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_the_glossary_is_a_table_of_unique_terms():
    assert len(ROWS) >= 50, "the glossary lists the book's key terms"
    english = [r["en"].lower() for r in ROWS]
    korean = [r["ko"] for r in ROWS]
    assert len(set(english)) == len(english), "one row per English concept"
    assert len(set(korean)) == len(korean), "one Korean term per concept, used once"
    names = {p.name for p in list_notebooks()}
    for row in ROWS:
        assert row["link"] in names and row["link"].startswith(row["nb"]), row


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["en"])
def test_each_term_appears_where_it_is_introduced(row):
    # In the English notebook beside the English term, or in its Korean twin's prose.
    twin = notebooks_dir() / "ko" / row["link"]
    text = _prose(notebooks_dir() / row["link"]) + (_prose(twin) if twin.exists() else "")
    for term in _terms(row["ko"]):
        assert term in text, f"{row['link']} introduces {row['en']!r} but never writes {term!r}"


def _editions():
    folders = [("English", notebooks_dir())]
    if (notebooks_dir() / "ko").is_dir():
        folders.append(("Korean", notebooks_dir() / "ko"))
    return folders


@pytest.mark.parametrize("edition,folder", _editions(), ids=lambda x: x if isinstance(x, str) else "")
def test_other_terms_are_not_used(edition, folder):
    # The book's own terms are removed first, so that e.g. 정규화 inside 배치 정규화 does not count.
    ours = sorted({t for r in ROWS for t in _terms(r["ko"])}, key=len, reverse=True)
    found = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        text = _prose(path)
        for term in ours:
            text = text.replace(term, " ")
        for row in ROWS:
            if path.name == row["link"]:
                continue  # the introducing notebook may name the alternatives
            for other in _terms(row["other"]):
                if other in text:
                    found.append(f"{edition} {path.name}: {other!r} (the book's term is {row['ko']!r})")
    assert not found, "\n".join(found)
