"""One click to run (cnnbook.book.launch): the Colab badge and the set-up cell's install lines."""

import sys

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from cnnbook import cli
from cnnbook.book import launch, list_notebooks
from cnnbook.book.launch import _setup_cell

PIP = 'install -q "cnnbook @ git+https://github.com/cnnbook/cnnbook@main"'
FETCH = "cnnbook data fetch {DATASET} --quiet"


def _notebook(path, setup="from cnnbook.seed import seed_everything\n_ = seed_everything(0)", dataset=True):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('FAST = False\nDATASET = "mnist10k"' if dataset else "FAST = False")
    params.metadata["tags"] = ["parameters"]
    out = nbformat.v4.new_code_cell("print('done')")
    out.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    out.execution_count = 3
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · A chapter (장)"), params,
                nbformat.v4.new_code_cell(setup), out]
    nbformat.write(nb, path)
    return path


def _run_lines(source, namespace):
    """Execute a cell's source as IPython would (its own transformer turns `%pip` and `!`
    into calls on the shell), recording the magics and shell commands instead of running them."""
    calls = []

    class Shell:
        def run_line_magic(self, name, line):
            calls.append((name, line))

        def system(self, command):
            calls.append(("!", command))

    exec(TransformerManager().transform_cell(source), {"get_ipython": Shell, **namespace})
    return calls


def test_badge_after_the_title_and_install_lines_atop_the_setup_cell(tmp_path):
    path = _notebook(tmp_path / "01_a.ipynb")
    assert launch.add_launch(path, "notebooks/01_a.ipynb") is True
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.startswith("# 01")
    badge = nb.cells[1]
    assert badge.cell_type == "markdown" and badge.metadata["tags"] == ["launch-badge"]
    assert badge.source == ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                            "(https://colab.research.google.com/github/cnnbook/cnnbook/blob/main/notebooks/01_a.ipynb)")
    assert nb.cells[2].source == 'FAST = False\nDATASET = "mnist10k"'  # parameters untouched
    assert nb.cells[3].source == launch.install_lines() + "from cnnbook.seed import seed_everything\n_ = seed_everything(0)"
    assert nb.cells[4].outputs[0]["text"] == "done\n" and nb.cells[4].execution_count == 3


def test_adding_twice_changes_nothing_and_a_new_address_replaces_the_old(tmp_path, monkeypatch):
    path = _notebook(tmp_path / "01_a.ipynb")
    launch.add_launch(path, "notebooks/01_a.ipynb")
    once = path.read_bytes()
    assert launch.add_launch(path, "notebooks/01_a.ipynb") is False
    assert path.read_bytes() == once

    monkeypatch.setattr(launch, "REPOSITORY", "https://github.com/someone/fork")
    monkeypatch.setattr(launch, "BRANCH", "dev")
    assert launch.add_launch(path, "notebooks/01_a.ipynb") is True
    nb = nbformat.read(path, as_version=4)
    assert sum("launch-badge" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert "github/someone/fork/blob/dev/notebooks/01_a.ipynb" in nb.cells[1].source
    setup = nb.cells[3].source
    assert setup.count("find_spec") == 1 and "cnnbook @ git+https://github.com/someone/fork@dev" in setup
    assert "cnnbook/cnnbook" not in setup


def test_no_dataset_no_fetch_and_no_cnnbook_no_install(tmp_path):
    path = _notebook(tmp_path / "01_a.ipynb", dataset=False)
    launch.add_launch(path, "notebooks/01_a.ipynb")
    assert nbformat.read(path, as_version=4).cells[3].source.startswith(launch.install_lines(False))
    assert "data fetch" not in launch.install_lines(False)
    path = _notebook(tmp_path / "02_b.ipynb", setup="import math")
    launch.add_launch(path, "notebooks/02_b.ipynb")
    nb = nbformat.read(path, as_version=4)
    assert "find_spec" not in "".join(c.source for c in nb.cells)
    assert "launch-badge" in nb.cells[1].metadata["tags"]


def test_install_lines_do_nothing_where_cnnbook_is_installed():
    assert _run_lines(launch.install_lines(), {"DATASET": "mnist10k"}) == []


def test_install_lines_install_and_fetch_where_cnnbook_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cnnbook", None)  # find_spec("cnnbook") is None: not installed
    calls = _run_lines(launch.install_lines(), {"DATASET": "mnist10k"})
    assert calls == [("pip", PIP), ("!", FETCH)]


def test_every_committed_notebook_has_a_setup_cell_for_the_install_lines():
    for path in list_notebooks():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert _setup_cell(nb) is code[1], f"{path.name}: the set-up cell follows the parameters"


def test_launch_command_updates_then_checks(tmp_path, monkeypatch, capsys):
    from cnnbook.book import runner

    _notebook(tmp_path / "01_a.ipynb")
    _notebook(tmp_path / "02_b.ipynb")
    monkeypatch.setattr(runner, "notebooks_dir", lambda: tmp_path)
    assert cli.main(["book", "launch", "--check"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "2 of 2 notebook(s) to update"
    assert cli.main(["book", "launch", "01"]) == 0
    assert cli.main(["book", "launch"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 of 2 notebook(s) updated"
    assert cli.main(["book", "launch", "--check"]) == 0
    nb = nbformat.read(tmp_path / "02_b.ipynb", as_version=4)
    assert nb.cells[1].source.endswith(f"/blob/main/{tmp_path.name}/02_b.ipynb)")


@pytest.mark.parametrize("bad", ["https://gitlab.com/a/b", "github.com/a/b"])
def test_the_repository_must_be_on_github(monkeypatch, bad):
    monkeypatch.setattr(launch, "REPOSITORY", bad)
    with pytest.raises(ValueError, match="not a GitHub repository address"):
        launch.colab_url("notebooks/01_a.ipynb")


def test_every_committed_notebook_has_its_badge_and_install_lines():
    from cnnbook.book import launch as launch_module

    stale = launch_module.launch_book(check=True)
    assert not stale, f"run `cnnbook book launch`: {[p.name for p in stale]}"
