"""The package outside the checkout: the wheel, a fresh environment, papermill's own command.

The wheel is built from a copy of the checkout (so stale build folders cannot leak into it)
and installed, without its dependencies, into a new virtual environment that borrows this
environment's packages (torch is not installed twice); everything then runs from a folder
outside the checkout, with no PYTHONPATH and no CNNBOOK_DATA.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

import cnnbook

ROOT = Path(__file__).resolve().parents[1]
SKIP_COPY = {".git", ".venv", "build", "dist", ".pytest_cache", ".hypothesis", "__pycache__"}


def _copy_checkout(dest):
    def ignore(folder, names):
        skip = {n for n in names if n in SKIP_COPY or n.endswith(".egg-info")}
        if Path(folder) == ROOT / "data":  # downloaded datasets: only the README is the project's
            skip |= {n for n in names if n != "README.md"}
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def _can_build_without_isolation():
    import importlib.metadata as md

    if importlib.util.find_spec("setuptools") is None:
        return False
    major, minor = (int(x) for x in md.version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = _copy_checkout(tmp / "src")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)]
    if _can_build_without_isolation():  # else pip fetches setuptools from the index to build
        cmd.insert(4, "--no-build-isolation")
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    (path,) = (tmp / "dist").glob("cnnbook-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A new environment holding the installed wheel; the rest comes from this one."""
    tmp = tmp_path_factory.mktemp("venv")
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # Plain paths: the folders join sys.path after the venv's own, and their .pth files
    # (an editable install of cnnbook among them) are not run.
    (Path(site) / "_borrowed.pth").write_text("\n".join(sorted(here)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
                   check=True, capture_output=True, text=True)
    outside = tmp / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CNNBOOK_DATA", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(*args):
        return subprocess.run(args, cwd=outside, env=env, capture_output=True, text=True, timeout=300)

    run.env_dir, run.cache = env_dir, tmp / "cache"
    return run


def test_wheel_holds_every_module_and_no_notebooks_or_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    package = Path(cnnbook.__file__).parent
    modules = {f"cnnbook/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert "cnnbook/book/__init__.py" in modules and "cnnbook/book/site.py" in modules
    assert modules <= set(names), f"missing from the wheel: {sorted(modules - set(names))}"
    code = [n for n in names if not n.startswith("cnnbook-")]  # the rest is the wheel's metadata
    assert set(code) == modules, f"not modules of cnnbook: {sorted(set(code) - modules)}"


def test_installed_wheel_works_outside_the_checkout(venv):
    check = venv("python", "-c", """
import torch
import cnnbook, cnnbook.book, cnnbook.numpy as cn, cnnbook.torch as ct
from cnnbook import data, models
print(cnnbook.__file__)
print(data.data_root())
x = torch.zeros(2, 1, 32, 32)
print(tuple(models.get_model("lenet5", num_classes=10)(x).shape))
print(type(cn.Conv2d(1, 2, 3)).__name__, type(ct.Conv2d(1, 2, 3)).__name__)
""")
    assert check.returncode == 0, check.stderr
    where, root, shape, layers = check.stdout.splitlines()
    assert Path(where).is_relative_to(venv.env_dir), "cnnbook imported from the installed wheel"
    assert Path(root) == venv.cache / "cnnbook", "the data root is the user cache, not a data/ folder"
    assert shape == "(2, 10)" and layers == "Conv2d Conv2d"

    env = venv("cnnbook", "env")
    assert env.returncode == 0, env.stderr
    # The cache does not exist yet: `env` names it and says so on the same line.
    assert any(line.startswith(f"data root   {venv.cache / 'cnnbook'}") for line in env.stdout.splitlines())


def test_papermill_command_runs_a_notebook_in_fast_mode(tmp_path):
    # As a reader types it, from the checkout: papermill's own command line (13, the issue's
    # example: LeNet on 1,000 images for one epoch, about 20 s on 2 cores).
    from cnnbook import data

    status = data.verify(names=["mnist10k"])["mnist10k"]["status"]
    if status != "complete":
        if os.environ.get("CI"):
            pytest.fail(f"MNIST-10k is {status} under {data.data_root()}; .ci/run provides it")
        pytest.skip("MNIST-10k is not in the data root: `cnnbook data fetch mnist10k`")
    papermill = Path(sys.executable).parent / "papermill"
    out = tmp_path / "out.ipynb"
    run = subprocess.run([str(papermill), "notebooks/13_lenet.ipynb", str(out), "-p", "FAST", "True"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "FAST = True" in injected[0].source
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
