"""The book runner: course order, parameters, failures named by notebook and cell."""

import nbformat
import pytest

from cnnbook import book, cli


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("FAST = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), params]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


def test_list_notebooks_in_course_order_and_by_prefix(tmp_path):
    for name in ("10_c.ipynb", "02_b.ipynb", "01_a.ipynb", "notes.ipynb"):
        _notebook(tmp_path / name)
    assert [p.name for p in book.list_notebooks(folder=tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "10_c.ipynb"]
    assert [p.name for p in book.list_notebooks(["10", "01_a.ipynb"], folder=tmp_path)] == ["10_c.ipynb", "01_a.ipynb"]
    with pytest.raises(ValueError, match="'0' matches several notebook"):
        book.list_notebooks(["0"], folder=tmp_path)
    with pytest.raises(ValueError, match="'99' matches no notebook"):
        book.list_notebooks(["99"], folder=tmp_path)


def test_fast_mode_reaches_the_notebook(tmp_path):
    src = _notebook(tmp_path / "01_a.ipynb", "print('fast' if FAST else 'default')")
    for fast, expected in ((True, "fast"), (False, "default")):
        out = tmp_path / f"out_{fast}.ipynb"
        book.run_notebook(src, out, fast=fast)
        cell = nbformat.read(out, as_version=4).cells[-1]
        assert cell.outputs[0]["text"].strip() == expected


def test_failure_names_the_notebook_and_the_cell(tmp_path, capsys, monkeypatch):
    src = _notebook(tmp_path / "03_broken.ipynb", "x = 1", "raise ValueError('bad shape')")
    with pytest.raises(book.BookError, match=r"03_broken.ipynb: cell 4 \(In \[3\]\) failed: ValueError: bad shape"):
        book.run_notebook(src, tmp_path / "out.ipynb")
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    assert cli.main(["book", "run", "--output", str(tmp_path / "build")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: 03_broken.ipynb: cell 4 (In [3]) failed: ValueError: bad shape"]


def test_prepare_keeps_committed_outputs_and_injects_fast(tmp_path, monkeypatch):
    src = _notebook(tmp_path / "01_a.ipynb", "print('fast' if FAST else 'default')")
    book.run_notebook(src, src)  # execute in place, like `book run --in-place`
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    (dest,) = book.prepare(output_dir=tmp_path / "prepared")
    nb = nbformat.read(dest, as_version=4)
    sources = [c.source for c in nb.cells]
    assert any("FAST = True" in s for s in sources)  # papermill's injected parameters
    assert nb.cells[-1].outputs[0]["text"].strip() == "default"  # the committed output
