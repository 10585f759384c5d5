"""The `cnnbook` command: every subcommand's success path, usage errors and interruptions.

Errors are one line on stderr starting with ``error:`` and exit 1; usage errors are
argparse's (exit 2); Ctrl-C exits 130. Never a traceback.
"""

import gzip
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from test_download import PAYLOAD, _spec, server  # noqa: F401 - server is a fixture

from cnnbook import book, cli, data


def cnnbook(*args, env=None, **kwargs):
    """Run ``python -m cnnbook ARGS`` in a process of its own."""
    return subprocess.run([sys.executable, "-m", "cnnbook", *args], capture_output=True, text=True,
                          env=env, timeout=120, **kwargs)


# --- usage errors: argparse's message, exit 2 ------------------------------------------------


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: command"),
    (["dta", "verify"], "argument command: invalid choice: 'dta'"),
    (["data"], "the following arguments are required: action"),
    (["book", "run", "--output", "x", "--in-place"], "argument --in-place: not allowed with argument --output"),
    (["book", "run", "--timeout", "0"], "argument --timeout: expected a positive number of seconds, got '0'"),
    (["book", "run", "--jobs", "two"], "argument --jobs: expected a positive integer, got 'two'"),
])
def test_usage_errors_exit_2_with_argparse_message(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)  # never the real book
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: cnnbook") and err.splitlines()[-1].startswith("cnnbook"), err
    assert f"error: {message}" in err.splitlines()[-1], err


def test_no_arguments_in_a_process_of_its_own_prints_usage_without_traceback():
    for args in ([], ["dta"]):
        proc = cnnbook(*args)
        assert proc.returncode == 2
        assert proc.stderr.startswith("usage: cnnbook") and "Traceback" not in proc.stderr
        assert proc.stdout == ""


# --- env ----------------------------------------------------------------------------------


def test_env_prints_versions_device_and_data_root(tmp_path, monkeypatch, capsys):
    import numpy
    import torch

    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("CNNBOOK_DATA", str(tmp_path))
    assert cli.main(["env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("cnnbook     ")
    assert f"numpy       {numpy.__version__}" in lines and f"torch       {torch.__version__}" in lines
    assert any(line.startswith("device      cpu") or line.startswith("device      cuda")
               or line.startswith("device      mps") for line in lines)
    assert f"data root   {tmp_path}" in lines
    statuses = {line.split()[0]: line.split()[1] for line in lines[lines.index(f"data root   {tmp_path}") + 1:]}
    assert set(statuses) == set(data.DATASETS)
    assert statuses["mnist"] in ("partial", "missing") and statuses["cifar10"] == "missing"


def test_env_with_a_data_root_that_does_not_exist_says_so(tmp_path, monkeypatch, capsys):
    root = tmp_path / "not-yet"
    monkeypatch.setenv("CNNBOOK_DATA", str(root))
    assert cli.main(["env"]) == 0  # a fresh machine has no data yet: not an error here
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith(f"data root   {root} (does not exist")
    assert "`cnnbook data fetch mnist10k`" in lines[-1]


# --- data fetch and verify ------------------------------------------------------------------


def test_data_fetch_from_the_local_server(server, tmp_path, monkeypatch, capsys):  # noqa: F811
    published = gzip.compress(PAYLOAD)
    server.handler.files["/tiny-idx1-ubyte.gz"] = published
    spec = _spec(published)
    monkeypatch.setitem(data.DATASETS, "tiny", data.DatasetSpec("tiny", "tiny", spec.files, (server.base,)))
    assert cli.main(["data", "fetch", "tiny", "--root", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"tiny: verified in {tmp_path / 'tiny'}"] and captured.err == ""
    assert (tmp_path / "tiny" / "tiny-idx1-ubyte.gz").read_bytes() == published
    assert cli.main(["data", "verify", "--root", str(tmp_path)]) == 0
    assert "  tiny           complete  (1/1 files)" in capsys.readouterr().out


def test_data_fetch_of_an_unknown_dataset_lists_the_known_ones(tmp_path, capsys):
    assert cli.main(["data", "fetch", "imagenet", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: unknown dataset 'imagenet'; expected one of: cifar10, fashion-mnist, mnist, mnist10k"]


def test_ctrl_c_during_a_download_exits_130_in_one_line_leaving_nothing(server, tmp_path):  # noqa: F811
    """A real SIGINT while `cnnbook data fetch` waits on a mirror that stalls."""
    published = gzip.compress(PAYLOAD)
    server.handler.files["/stall/tiny-idx1-ubyte.gz"] = published
    f = _spec(published).files[0]
    script = (
        "import sys\n"
        "from cnnbook import cli, data\n"
        f"spec = data.FileSpec({f.filename!r}, {f.published_md5!r}, {f.size}, md5={f.md5!r})\n"
        f"data.DATASETS['tiny'] = data.DatasetSpec('tiny', 'tiny', (spec,), ({server.base + '/stall/'!r},))\n"
        f"sys.exit(cli.main(['data', 'fetch', 'tiny', '--root', {str(tmp_path)!r}, '--quiet']))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 30
    while not list((tmp_path / "tiny").glob(".*.part")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the download has started
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.splitlines() == ["error: interrupted"]
    assert out == "" and sorted(p.name for p in (tmp_path / "tiny").iterdir()) == []  # no .part left


def test_ctrl_c_exits_130_with_one_line(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "verify", interrupted)
    assert cli.main(["data", "verify", "--root", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


# --- book -------------------------------------------------------------------------------------


def _notebook(path, source):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("FAST = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return path


def test_book_run_success(tmp_path, monkeypatch, capsys):
    _notebook(tmp_path / "01_a.ipynb", "print('mode:', 'fast' if FAST else 'full')")
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    out = tmp_path / "build"
    assert cli.main(["book", "run", "1", "--fast", "--jobs", "1", "--output", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[1/1] 01_a.ipynb ... ok (") and lines[0].endswith(" s)")
    assert lines[1].startswith(f"1 notebook(s) executed into {out} in ")
    cells = nbformat.read(out / "01_a.ipynb", as_version=4).cells
    assert cells[-1].outputs[0]["text"] == "mode: fast\n"
    assert nbformat.read(tmp_path / "01_a.ipynb", as_version=4).cells[-1].outputs == []  # source untouched


def test_book_run_of_a_notebook_that_does_not_exist_lists_the_valid_ones(tmp_path, monkeypatch, capsys):
    _notebook(tmp_path / "01_a.ipynb", "pass")
    _notebook(tmp_path / "02_b.ipynb", "pass")
    monkeypatch.setattr(book.runner, "notebooks_dir", lambda: tmp_path)
    for command in (["book", "run", "21"], ["book", "prepare", "21"], ["book", "claims", "21"]):
        assert cli.main(command) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"error: no notebook '21' in {tmp_path}; expected a number or a name of: 01_a, 02_b"]
