"""Checked claims: the line they print, strict and fast mode, the runner, `book claims`."""

import json

import nbformat
import numpy as np
import pytest

from cnnbook import book, cli
from cnnbook.book import MIME, Claim, ClaimFailed, Claims, read_claims


def test_a_claim_prints_its_mark_sentence_and_numbers(capsys):
    claim = Claims(strict=True)
    assert claim("He keeps the variance closer to 1 than Xavier", 0.972 > 0.893,
                 He=np.float32(0.972), Xavier=0.893) is None  # nothing for a cell to echo
    made = claim.made[-1]
    assert capsys.readouterr().out.strip() == \
        "✓ He keeps the variance closer to 1 than Xavier (He 0.972, Xavier 0.893)"
    assert made.held and made.numbers == {"He": pytest.approx(0.972), "Xavier": 0.893}
    assert isinstance(made.numbers["He"], float)  # JSON-friendly, not a NumPy scalar
    claim("names", True, {"held-out": 0.5}, n_train=8000, params=61706)
    assert capsys.readouterr().out.strip() == "✓ names (held-out 0.5, n train 8000, params 61,706)"


def test_strict_mode_raises_and_fast_mode_only_prints(capsys):
    with pytest.raises(ClaimFailed, match=r"^✗ B beats A \(A 2, B 1\)$"):
        Claims(strict=True)("B beats A", 1 > 2, A=2, B=1)
    assert capsys.readouterr().out.startswith("✗ B beats A")
    fast = Claims(strict=False)
    fast("B beats A", 1 > 2, A=2, B=1)
    assert not fast.made[-1].held
    assert capsys.readouterr().out.strip() == "✗ B beats A (A 2, B 1) [fast mode: not enforced]"


def test_a_claim_needs_a_sentence_and_a_single_truth_value():
    claim = Claims(strict=False)
    with pytest.raises(ValueError, match="must be True or False, got ndarray"):
        claim("all positive", np.array([1, 2]) > 0)
    with pytest.raises(ValueError, match="a claim needs a sentence"):
        claim("  ", True)
    with pytest.raises(ValueError, match="strict must be True or False"):
        Claims(strict="yes")
    claim("numpy bools are fine", np.float64(2.0) > 1)
    assert claim.made[-1].held


def test_korean_sentence_prints_on_a_second_line():
    made = Claim("A beats B", True, {"A": 2}, ko="A가 B보다 낫다")
    assert made.line() == "✓ A beats B (A 2)\n  A가 B보다 낫다"
    assert Claim.from_json(json.loads(json.dumps(made.to_json()))) == made


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("FAST = False")
    params.metadata["tags"] = ["parameters"]
    setup = nbformat.v4.new_code_cell("from cnnbook.book import Claims\nclaim = Claims(strict=not FAST)")
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), params, setup]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


def test_runner_fails_on_a_failed_claim_and_fast_mode_records_it(tmp_path):
    src = _notebook(tmp_path / "04_claims.ipynb", "claim('one is one', 1 == 1, x=1)",
                    "claim('two is three', 2 == 3, two=2)")
    with pytest.raises(book.BookError, match=r"04_claims.ipynb: cell 5 \(In \[4\]\) failed: "
                                             r"ClaimFailed: ✗ two is three \(two 2\)"):
        book.run_notebook(src, tmp_path / "full.ipynb")
    fast = tmp_path / "fast.ipynb"
    book.run_notebook(src, fast, fast=True)
    claims = read_claims(fast)
    # papermill injects a parameters cell after cell 2, so the claims sit in cells 5 and 6
    assert [(cell, c.text, c.held, c.strict) for cell, c in claims] == [
        (5, "one is one", True, False), (6, "two is three", False, False)]
    text = nbformat.read(fast, as_version=4).cells[-1].outputs[0]["data"]["text/plain"]
    assert text == "✗ two is three (two 2) [fast mode: not enforced]"


def _executed(path, *claims):
    """A notebook whose outputs hold the given claims, as the book runner would write them."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("claim(...)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": c.line(), MIME: c.to_json()})
                    for c in claims]
    nb.cells = [nbformat.v4.new_markdown_cell("# x"), cell]
    nbformat.write(nb, path)


def test_book_claims_lists_every_claim_and_fails_on_a_failed_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    _executed(tmp_path / "01_a.ipynb", Claim("A holds", True, {"x": 1.5}))
    _executed(tmp_path / "02_b.ipynb")
    assert cli.main(["book", "claims"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["01_a.ipynb [cell 2] ✓ A holds (x 1.5)", "02_b.ipynb: no claims",
                   "1 claim(s) in 2 notebook(s): 1 held, 0 failed"]
    _executed(tmp_path / "02_b.ipynb", Claim("B holds", False, {"y": 2}))
    assert cli.main(["book", "claims"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "02_b.ipynb [cell 2] ✗ B holds (y 2)" and out[-1].endswith("1 held, 1 failed")
    assert cli.main(["book", "claims", "01"]) == 0


def test_read_claims_names_an_unreadable_notebook(tmp_path):
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="01_bad.ipynb: not a readable notebook"):
        read_claims(bad)


@pytest.mark.parametrize("path", book.list_notebooks(), ids=lambda p: p.name)
def test_every_committed_notebook_checks_its_conclusions(path):
    claims = read_claims(path)
    assert claims, f"{path.name} draws conclusions from numbers but checks none of them with a claim"
    failed = [c.line() for _, c in claims if not c.held]
    assert not failed, f"{path.name} holds failed claims: {failed}"
    assert all(c.strict for _, c in claims), f"{path.name} was committed from a fast-mode run"
