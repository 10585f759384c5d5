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


def test_list_notebooks_in_course_order_by_number_name_or_prefix(tmp_path):
    for name in ("10_c.ipynb", "02_b.ipynb", "01_a.ipynb", "notes.ipynb"):
        _notebook(tmp_path / name)
    assert [p.name for p in book.list_notebooks(folder=tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "10_c.ipynb"]
    chosen = book.list_notebooks(["10", "01_a.ipynb", "2", "02_b", "1"], folder=tmp_path)
    assert [p.name for p in chosen] == ["10_c.ipynb", "01_a.ipynb", "02_b.ipynb", "02_b.ipynb", "01_a.ipynb"]
    assert [p.name for p in book.list_notebooks(["10_"], folder=tmp_path)] == ["10_c.ipynb"]


def test_a_notebook_that_does_not_exist_lists_the_valid_ones(tmp_path):
    for name in ("10_c.ipynb", "02_b.ipynb", "01_a.ipynb"):
        _notebook(tmp_path / name)
    with pytest.raises(ValueError) as info:
        book.list_notebooks(["99"], folder=tmp_path)
    assert str(info.value) == f"no notebook '99' in {tmp_path}; expected a number or a name of: 01_a, 02_b, 10_c"
    with pytest.raises(ValueError, match="no notebook '03_x' in .*; expected a number or a name of: 01_a, 02_b, 10_c$"):
        book.list_notebooks(["03_x"], folder=tmp_path)
    _notebook(tmp_path / "02_z.ipynb")
    with pytest.raises(ValueError, match=r"'2' matches several notebooks \(02_b.ipynb, 02_z.ipynb\); "
                                         r"expected a number or a name of: 01_a, 02_b, 02_z, 10_c$"):
        book.list_notebooks(["2"], folder=tmp_path)


def test_fast_mode_reaches_the_notebook(tmp_path):
    src = _notebook(tmp_path / "01_a.ipynb", "print('fast' if FAST else 'default')")
    for fast, expected in ((True, "fast"), (False, "default")):
        out = tmp_path / f"out_{fast}.ipynb"
        book.run_notebook(src, out, fast=fast)
        cell = nbformat.read(out, as_version=4).cells[-1]
        assert cell.outputs[0]["text"].strip() == expected


def test_outputs_name_no_folder_of_this_machine(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    src = _notebook(tmp_path / "notebooks" / "01_a.ipynb", "x = 1")
    monkeypatch.chdir(tmp_path)
    book.run_notebook(src, tmp_path / "build" / "01_a.ipynb")
    meta = nbformat.read(tmp_path / "build" / "01_a.ipynb", as_version=4).metadata.papermill
    assert (meta.input_path, meta.output_path) == ("notebooks/01_a.ipynb", "build/01_a.ipynb")
    assert str(tmp_path) not in (tmp_path / "build" / "01_a.ipynb").read_text()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert book.runner._portable(tmp_path / "build" / "01_a.ipynb") == "01_a.ipynb"  # outside: the name


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
    (dest,) = book.prepare(output_dir=tmp_path / "prepared", fast=True)
    nb = nbformat.read(dest, as_version=4)
    sources = [c.source for c in nb.cells]
    assert any("FAST = True" in s for s in sources)  # papermill's injected parameters
    assert nb.cells[-1].outputs[0]["text"].strip() == "default"  # the committed output


def test_prepare_and_the_cli_agree_on_the_default_mode(tmp_path, monkeypatch, capsys):
    """Full mode unless asked for fast, as in `book run`: the API and the command agree."""
    _notebook(tmp_path / "01_a.ipynb", "print(FAST)")
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)

    def injected(folder):
        nb = nbformat.read(folder / "01_a.ipynb", as_version=4)
        return [c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]

    book.prepare(output_dir=tmp_path / "api")
    book.prepare(output_dir=tmp_path / "api-fast", fast=True)
    assert cli.main(["book", "prepare", "--output", str(tmp_path / "cli")]) == 0
    assert cli.main(["book", "prepare", "--fast", "--output", str(tmp_path / "cli-fast")]) == 0
    assert injected(tmp_path / "api") == injected(tmp_path / "cli") == []
    assert injected(tmp_path / "api-fast") == injected(tmp_path / "cli-fast")
    assert "FAST = True" in injected(tmp_path / "cli-fast")[0]
    assert capsys.readouterr().out.splitlines() == [
        f"1 notebook(s) prepared in {tmp_path / 'cli'}",
        f"1 notebook(s) prepared in {tmp_path / 'cli-fast'}",
    ]


# --- notebooks that never finish: a cell past the time limit, a kernel that dies ------------


SLEEPS = "import time\ntime.sleep(120)"
EXITS = "import os\nos._exit(1)"


def test_a_cell_past_the_timeout_names_the_notebook_and_the_cell(tmp_path, capsys, monkeypatch):
    src = _notebook(tmp_path / "03_slow.ipynb", "x = 1", SLEEPS, "y = 2")
    with pytest.raises(book.BookError) as info:
        book.run_notebook(src, tmp_path / "out.ipynb", timeout=2)
    assert str(info.value) == "03_slow.ipynb: cell 4 timed out after 2 s (a longer limit: --timeout SECONDS)"
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    assert cli.main(["book", "run", "3", "--jobs", "1", "--timeout", "2", "--output", str(tmp_path / "build")]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"error: {info.value}"]
    assert captured.out.splitlines() == ["[1/1] 03_slow.ipynb ... failed"]


def test_a_file_that_is_not_a_notebook_is_named(tmp_path):
    (tmp_path / "05_broken.ipynb").write_text("{ not json")
    with pytest.raises(book.BookError, match=r"^05_broken.ipynb: could not be run: NotJSONError: "):
        book.run_notebook(tmp_path / "05_broken.ipynb", tmp_path / "out.ipynb")


def test_a_kernel_that_dies_names_the_notebook_and_the_cell(tmp_path):
    src = _notebook(tmp_path / "04_crash.ipynb", "x = 1", EXITS)
    with pytest.raises(book.BookError) as info:
        book.run_notebook(src, tmp_path / "out.ipynb")
    assert str(info.value) == "04_crash.ipynb: the kernel died during cell 4 (it exited, crashed or ran out of memory)"


KILLS_ITS_WORKER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos._exit(0)"


@pytest.mark.parametrize("cell, expected", [
    (EXITS, "error: 02_bad.ipynb: the kernel died during cell 3 (it exited, crashed or ran out of memory)"),
    (SLEEPS, "error: 02_bad.ipynb: cell 3 timed out after 3 s (a longer limit: --timeout SECONDS)"),
    # the process that runs the notebook dies (as when the system runs out of memory): the
    # pool cannot tell whose it was, so every notebook not finished is named
    (KILLS_ITS_WORKER, r"error: a process running notebooks died \(out of memory\?\); "
                       r"unfinished: (01_good.ipynb, )?02_bad.ipynb"),
], ids=["kernel-dies", "timeout", "worker-dies"])
def test_parallel_run_reports_the_failing_notebook_in_one_line(tmp_path, cell, expected):
    """`cnnbook book run --jobs 2` in a process of its own: one line, exit 1, no traceback."""
    import re
    import subprocess
    import sys

    good = _notebook(tmp_path / "01_good.ipynb", "print('fine')")
    bad = _notebook(tmp_path / "02_bad.ipynb", cell)
    command = [sys.executable, "-m", "cnnbook", "book", "run", str(good), str(bad), "--jobs", "2",
               "--timeout", "3", "--output", str(tmp_path / "build")]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and re.fullmatch(expected if cell is KILLS_ITS_WORKER else re.escape(expected),
                                             errors[0]), proc.stderr
    assert proc.stderr.splitlines()[-1] == errors[0], proc.stderr
    # nbclient's own log lines about the same failure are not repeated
    assert "waiting for execute reply" not in proc.stderr, proc.stderr
