"""The Korean edition is kept in step with the English book: sync, status, apply, and the test
that turns an English edit without its translation into a failure."""

import json

import nbformat
import pytest

from cnnbook import book, cli
from cnnbook.book import edition


def _english(folder, name="01_a.ipynb", prose="Deep nets learn their features.", code="print(1 + 1)"):
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# 01 · Deep learning (딥러닝)")
    text = nbformat.v4.new_markdown_cell(prose)
    cell = nbformat.v4.new_code_cell(code, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    math = nbformat.v4.new_markdown_cell("$$y = Wx$$")
    nb.cells = [title, text, cell, math]
    for i, c in enumerate(nb.cells):
        c.id = f"cell-{i}"
    nbformat.write(nb, folder / name)
    return folder / name


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    _english(tmp_path)
    return tmp_path


def _translate_all(folder):
    data = edition.export("ko", folder=folder)
    texts = {"cell-0": "# 01 · 딥러닝 (Deep learning)", "cell-1": "깊은 신경망은 특징을 스스로 배운다.",
             "cell-3": "$$y = Wx$$"}
    for cells in data.values():
        for cell_id, entry in cells.items():
            entry["ko"] = texts.get(cell_id)
    return edition.apply(data, "ko", folder=folder)


def test_sync_copies_code_and_outputs_and_marks_prose_untranslated(folder):
    (twin,) = edition.sync("ko", folder=folder)
    assert twin == folder / "ko" / "01_a.ipynb"
    nb = nbformat.read(twin, as_version=4)
    assert nb.cells[2].outputs[0]["text"] == "2\n" and nb.metadata["cnnbook"]["edition"] == "ko"
    assert [p.line() for p in edition.status("ko", folder=folder)] == [
        "01_a.ipynb cell cell-0: untranslated", "01_a.ipynb cell cell-1: untranslated",
        "01_a.ipynb cell cell-3: untranslated"]
    assert edition.sync("ko", folder=folder) == []  # nothing to rewrite the second time


def test_translations_stay_in_step_until_the_english_changes(folder):
    assert _translate_all(folder) == 3
    assert edition.status("ko", folder=folder) == [] and edition.problems("ko", folder=folder) == []
    twin = nbformat.read(folder / "ko" / "01_a.ipynb", as_version=4)
    assert twin.cells[1].source == "깊은 신경망은 특징을 스스로 배운다."

    # An English prose edit: the translation is now stale, and sync keeps the old Korean text.
    _english(folder, prose="Deep nets learn their own features from raw pixels.")
    problems = edition.problems("ko", folder=folder)
    assert problems == ["notebooks/ko/01_a.ipynb cell 2 (cell-1): the English cell changed since it was "
                        "translated; run `cnnbook book edition status --lang ko` to list what needs translating"]
    edition.sync("ko", folder=folder)
    assert [p.reason for p in edition.status("ko", folder=folder)] == ["stale"]
    assert nbformat.read(folder / "ko" / "01_a.ipynb", as_version=4).cells[1].source.startswith("깊은")


def test_a_changed_code_cell_or_output_and_a_missing_twin_fail(folder):
    _translate_all(folder)
    _english(folder, code="print(2 + 2)")  # a code edit (the outputs too would change in a run)
    (line,) = edition.problems("ko", folder=folder)
    assert "cell 3 (cell-2): code or outputs differ from the English notebook's" in line
    edition.sync("ko", folder=folder)
    assert edition.problems("ko", folder=folder) == []  # code needs no translator

    _english(folder, name="02_b.ipynb")
    assert edition.problems("ko", folder=folder) == [
        "notebooks/ko/02_b.ipynb is missing (create it with `cnnbook book edition sync --lang ko`)"]


def test_a_translation_must_be_in_the_language(folder):
    data = edition.export("ko", folder=folder)
    for entry in data["01_a.ipynb"].values():
        entry["ko"] = entry["en"]  # "translated" by copying the English
    edition.apply(data, "ko", folder=folder)
    problems = edition.problems("ko", folder=folder)
    # the title holds Hangul already and the formula needs no translation; the prose does
    assert problems == ["notebooks/ko/01_a.ipynb cell 2 (cell-1): marked translated but holds no Hangul"]


def test_the_badge_of_a_twin_opens_the_twin(folder):
    from cnnbook.book import launch

    launch.add_launch(folder / "01_a.ipynb", "notebooks/01_a.ipynb")
    _translate_all(folder)  # the badge needs no translator
    assert edition.status("ko", folder=folder) == [] and edition.problems("ko", folder=folder) == []
    twin = nbformat.read(folder / "ko" / "01_a.ipynb", as_version=4)
    (badge,) = [c for c in twin.cells if launch.BADGE_TAG in c.metadata.get("tags", [])]
    assert launch.colab_url("notebooks/ko/01_a.ipynb") in badge.source


def test_cli_status_export_and_apply(folder, tmp_path, capsys):
    assert cli.main(["book", "edition", "sync"]) == 0
    assert cli.main(["book", "edition", "status"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "3 cell(s) of the ko edition need translating"
    out = tmp_path / "todo.json"
    assert cli.main(["book", "edition", "export", "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    for cell_id, entry in data["01_a.ipynb"].items():
        entry["ko"] = "번역: " + entry["en"]
    out.write_text(json.dumps(data, ensure_ascii=False))
    assert cli.main(["book", "edition", "apply", str(out)]) == 0
    assert cli.main(["book", "edition", "status"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    capsys.readouterr()
    assert cli.main(["book", "edition", "apply", str(bad)]) == 1
    assert "bad.json: expected JSON as `cnnbook book edition export` writes it" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown edition 'fr'"):
        edition.status("fr", folder=folder)


def test_the_korean_edition_is_in_step_with_the_english_book():
    problems = edition.problems("ko")
    assert not problems, f"{len(problems)} problem(s), first: " + "\n".join(problems[:10])
