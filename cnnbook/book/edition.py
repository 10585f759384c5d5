"""Translated editions of the book, kept in step with the English notebooks by construction.

The Korean edition lives in ``notebooks/ko/``, one notebook per English notebook with the
same file name. Only its prose is its own: every code cell, with its outputs, is copied from
the English notebook, and every markdown cell is a translation of the English cell with the
same id. A translated cell records which version of the English cell it translates (a hash
of the English source, in the cell's metadata), so an English edit without its translation
is visible, and a test turns it into a red CI instead of a stale edition.

- :func:`sync` rebuilds each twin: code and outputs from the English notebook, prose from
  the twin as it is (an English cell without a translation is copied in English and marked
  untranslated);
- :func:`status` lists the cells that need (re-)translating;
- :func:`export` and :func:`apply` move prose out to a translator and back: ``apply``
  writes a translation and records the English version it translates.

``cnnbook book edition sync|status|export|apply`` runs them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnnbook.book import launch, runner

__all__ = ["LANGUAGES", "HANGUL", "Pending", "source_hash", "twin_path", "sync", "status", "export",
           "apply", "problems"]

#: The editions besides English: code -> the language's own name.
LANGUAGES = {"ko": "한국어"}
_KEY = "cnnbook"
#: A Hangul syllable: what Korean prose is written in.
HANGUL = re.compile("[\uac00-\ud7a3]")


def source_hash(text: str) -> str:
    """The version stamp of an English cell's source."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_lang(lang):
    if lang not in LANGUAGES:
        raise ValueError(f"unknown edition {lang!r}; expected one of: {', '.join(LANGUAGES)}")


def twin_path(english: Path, lang: str) -> Path:
    """Where the ``lang`` edition of an English notebook lives."""
    _check_lang(lang)
    return Path(english).parent / lang / Path(english).name


def _english(names, folder):
    return runner.list_notebooks(names, folder=folder)


def _read(path):
    return nbformat.read(path, as_version=4)


def _translates(cell):
    return cell.get("metadata", {}).get(_KEY, {}).get("translates")


def _cell_id(cell, number):
    if not cell.get("id"):
        raise ValueError(f"cell {number} has no id (nbformat >= 4.5 gives every cell one): "
                         "re-save the notebook with a current Jupyter")
    return cell["id"]


def _is_badge(cell):
    return launch.BADGE_TAG in cell.get("metadata", {}).get("tags", [])


def _build_twin(english, previous, relpath):
    """The twin of ``english``: its code cells as they are, translated prose where the
    previous twin has it (matched by cell id), English prose marked untranslated elsewhere.
    The "Open in Colab" badge needs no translator: the twin's badge opens the twin."""
    prose = {}
    if previous is not None:
        prose = {c["id"]: c for c in previous.cells if c.cell_type == "markdown" and c.get("id")}
    twin = copy.deepcopy(english)
    for number, cell in enumerate(twin.cells, 1):
        cell_id = _cell_id(cell, number)
        if cell.cell_type != "markdown":
            continue
        old = prose.get(cell_id)
        meta = cell.setdefault("metadata", {})
        if _is_badge(cell):
            stamp = source_hash(cell.source)
            cell.source = launch.badge_source(relpath)
            meta[_KEY] = {"translates": stamp}
        elif old is not None and _translates(old) is not None:
            cell.source = old.source
            meta[_KEY] = {"translates": _translates(old)}
        else:
            meta[_KEY] = {"translates": None}
    return twin


def sync(lang="ko", names=None, *, folder=None) -> list[Path]:
    """Rebuild the ``lang`` twin of each English notebook (all, or those named); returns
    the twins written. Translations are kept; nothing English is changed."""
    _check_lang(lang)
    written = []
    for english in _english(names, folder):
        path = twin_path(english, lang)
        previous = _read(path) if path.exists() else None
        twin = _build_twin(_read(english), previous, f"notebooks/{lang}/{english.name}")
        twin.metadata[_KEY] = {"edition": lang}
        path.parent.mkdir(parents=True, exist_ok=True)
        text = nbformat.writes(twin) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


@dataclass(frozen=True)
class Pending:
    """A cell of an edition that needs translating: ``reason`` is ``"missing"`` (no twin at
    all), ``"untranslated"`` or ``"stale"`` (the English cell changed since)."""

    notebook: str
    cell: str | None
    reason: str

    def line(self) -> str:
        where = self.notebook if self.cell is None else f"{self.notebook} cell {self.cell}"
        return f"{where}: {self.reason}"


def status(lang="ko", names=None, *, folder=None) -> list[Pending]:
    """The cells of the ``lang`` edition that need (re-)translating, in book order."""
    _check_lang(lang)
    pending = []
    for english in _english(names, folder):
        path = twin_path(english, lang)
        if not path.exists():
            pending.append(Pending(english.name, None, "missing"))
            continue
        twin = {c.get("id"): c for c in _read(path).cells}
        for number, cell in enumerate(_read(english).cells, 1):
            if cell.cell_type != "markdown":
                continue
            cell_id = _cell_id(cell, number)
            ours = twin.get(cell_id)
            stamp = None if ours is None else _translates(ours)
            if stamp is None:
                pending.append(Pending(english.name, cell_id, "untranslated"))
            elif stamp != source_hash(cell.source):
                pending.append(Pending(english.name, cell_id, "stale"))
    return pending


def export(lang="ko", names=None, *, folder=None, every=False) -> dict:
    """The prose to translate, as ``{notebook: {cell id: {"en": ..., lang: ...}}}``: the
    cells that need it (or ``every`` markdown cell), the English source and the current
    translation (``None`` where there is none)."""
    _check_lang(lang)
    wanted = {(p.notebook, p.cell) for p in status(lang, names, folder=folder)}
    out = {}
    for english in _english(names, folder):
        path = twin_path(english, lang)
        twin = {c.get("id"): c for c in _read(path).cells} if path.exists() else {}
        cells = {}
        for cell in _read(english).cells:
            if cell.cell_type != "markdown":
                continue
            if not every and (english.name, cell.id) not in wanted and (english.name, None) not in wanted:
                continue
            ours = twin.get(cell.id)
            current = ours.source if ours is not None and _translates(ours) is not None else None
            cells[cell.id] = {"en": cell.source, lang: current}
        if cells:
            out[english.name] = cells
    return out


def apply(translations: dict, lang="ko", *, folder=None) -> int:
    """Write translations ``{notebook: {cell id: text or {lang: text}}}`` into the ``lang``
    edition, each stamped with the English version it translates; returns how many cells.

    The twin is synced first, so code and outputs are the English ones afterwards.
    """
    _check_lang(lang)
    count = 0
    for name, cells in translations.items():
        (english,) = _english([name], folder)
        sync(lang, [english], folder=folder)
        path = twin_path(english, lang)
        twin = _read(path)
        source = {c.id: c for c in _read(english).cells if c.cell_type == "markdown"}
        by_id = {c.id: c for c in twin.cells}
        for cell_id, text in cells.items():
            if isinstance(text, dict):
                text = text.get(lang)
            if text is None:
                continue
            if cell_id not in source:
                raise ValueError(f"{name}: no markdown cell {cell_id!r} in the English notebook")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{name} cell {cell_id}: expected the translated text, got {text!r}")
            by_id[cell_id].source = text
            by_id[cell_id].metadata[_KEY] = {"translates": source_hash(source[cell_id].source)}
            count += 1
        path.write_text(nbformat.writes(twin) + "\n", encoding="utf-8")
    return count


def _comparable(cell):
    """What must be identical between a code cell and its twin."""
    return {k: cell.get(k) for k in ("cell_type", "source", "outputs", "execution_count")} | {
        "tags": cell.get("metadata", {}).get("tags", [])}


def problems(lang="ko", names=None, *, folder=None) -> list[str]:
    """Every way the ``lang`` edition is out of step with the English book, one line each
    (empty when in step): a missing twin, cells that differ in number, order or kind, a code
    cell or output that differs, prose untranslated, stale, or without the language's script."""
    _check_lang(lang)
    hint = f"run `cnnbook book edition status --lang {lang}` to list what needs translating"
    found = []
    for english in _english(names, folder):
        path = twin_path(english, lang)
        rel = f"notebooks/{lang}/{english.name}"
        if not path.exists():
            found.append(f"{rel} is missing (create it with `cnnbook book edition sync --lang {lang}`)")
            continue
        en, ko = _read(english).cells, _read(path).cells
        if [(c.get("id"), c.cell_type) for c in en] != [(c.get("id"), c.cell_type) for c in ko]:
            found.append(f"{rel}: its cells do not match the English notebook's (ids, order or kinds); "
                         f"run `cnnbook book edition sync --lang {lang}`")
            continue
        for number, (a, b) in enumerate(zip(en, ko), 1):
            if a.cell_type != "markdown":
                if _comparable(a) != _comparable(b):
                    found.append(f"{rel} cell {number} ({a.id}): code or outputs differ from the English "
                                 f"notebook's; run `cnnbook book edition sync --lang {lang}`")
                continue
            stamp = _translates(b)
            if stamp is None:
                found.append(f"{rel} cell {number} ({a.id}): not translated yet; {hint}")
            elif stamp != source_hash(a.source):
                found.append(f"{rel} cell {number} ({a.id}): the English cell changed since it was "
                             f"translated; {hint}")
            elif lang == "ko" and _has_words(a.source) and not HANGUL.search(b.source) and not _is_badge(a):
                found.append(f"{rel} cell {number} ({a.id}): marked translated but holds no Hangul")
    return found


def _has_words(markdown: str) -> bool:
    """Whether a cell has prose to translate: English words outside code and math."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|<[^>]+>|\]\([^)]*\)", " ", text, flags=re.S)
    return re.search(r"[A-Za-z]{3,}", text) is not None


def write_json(data, path) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
