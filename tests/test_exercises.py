"""The exercise edition: the checks grade cnnbook.numpy and a learner's my_layers.py alike.

The reference (a module that re-exports cnnbook.numpy) and an independent solution
(tests/my_layers_solution.py: the template with every body written) pass every check;
bugs planted in that solution fail with a message that names what is wrong; stubs are
"not yet written"; a broken module is one message; ``init`` never overwrites; the
exercise notebooks are generated from the book's by their cell tags.
"""

import contextlib
import inspect
import io
import json
import re
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

import cnnbook.numpy as cn
from cnnbook import cli
from cnnbook.checks import EXERCISES
from cnnbook.exercises import (
    CHAPTERS,
    FAILED,
    NOT_WRITTEN,
    PASSED,
    TEMPLATE,
    ExerciseError,
    ExerciseNotPassed,
    NotebookError,
    Workspace,
    exercise_notebook,
    exercise_notebooks,
    format_report,
    grade,
    init_workspace,
    load_module,
)
from cnnbook.exercises.grading import unwritten_methods
from cnnbook.exercises.notebooks import rewrite_imports
from cnnbook.numpy import optim as np_optim

SOLUTION = Path(__file__).with_name("my_layers_solution.py")

REEXPORT = """\
from cnnbook.numpy import AvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout, Linear, MaxPool2d, ReLU, Sigmoid
from cnnbook.numpy.optim import SGD, Adagrad, Adam, RMSprop
"""


def write(folder, text, name="my_layers.py"):
    path = Path(folder) / name
    path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    return path


def report(result):
    return " | ".join([result.message, *result.details])


# -- the reference and a solution pass ---------------------------------------------------------


def test_the_exercises_are_the_issues_list():
    assert list(EXERCISES) == ["Linear", "ReLU", "Sigmoid", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d",
                               "Dropout", "CrossEntropyLoss", "SGD", "Adagrad", "RMSprop", "Adam"]
    for exercise in EXERCISES.values():
        stages = exercise.stages()
        assert stages[0] == "interface"
        assert ("bad input" in stages) == (exercise.name not in ("ReLU", "Sigmoid"))  # any array suits those
        assert ("steps" in stages) == (exercise.kind == "optimizer")
        assert exercise.kind == "optimizer" or {"forward", "backward", "centred differences"} <= set(stages)


def test_the_reference_passes_every_check(tmp_path):
    module = load_module(write(tmp_path, REEXPORT))
    assert module.Conv2d is cn.Conv2d and module.Adam is np_optim.Adam
    results = grade(module)
    assert [r.name for r in results] == list(EXERCISES)
    assert all(r.status == PASSED for r in results), format_report(results)
    assert all(r.passed == r.total == len(EXERCISES[r.name].checks) for r in results)
    assert sum(r.total for r in results) > 150


def test_an_independent_solution_passes_every_check(tmp_path):
    results = grade(load_module(write(tmp_path, SOLUTION.read_text())))
    assert all(r.status == PASSED for r in results), format_report(results)


# -- planted bugs ----------------------------------------------------------------------------------

# (exercise, a line of the solution, what replaces it, what the report must say)
BUGS = {
    "Linear: transposed weight gradient": (
        "Linear", "self.weight.grad += d2.T @ x2", "self.weight.grad += x2.T @ d2",
        r"grad of weight differs from torch: .* at Linear\(4, 4\) .*\(yours is the transpose of torch's\)"),
    "Conv2d: no bias gradient": (
        "Conv2d", "self.bias.grad += d.sum(axis=(0, 2))", "pass",
        r"^grad of bias differs from torch: max relative error 1 at Conv2d\(.*\(yours is all zeros\); your forward matches"),
    "Conv2d: stride ignored in backward": (
        "Conv2d", "dxp[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += dcols[:, :, i, j]",
        "dxp[:, :, i : i + oh, j : j + ow] += dcols[:, :, i, j]",
        r"^grad of input differs from torch: max relative error [\d.]+ at Conv2d\(3, 4, kernel_size=3, stride=2, "
        r"padding=1\) on an input of shape \(2, 3, 7, 7\); your forward matches"),
    "MaxPool2d: ties routed to the last maximum": (
        "MaxPool2d", "first = np.argmax(windows, axis=0)  # the first maximum, as torch",
        "first = len(windows) - 1 - np.argmax(windows[::-1], axis=0)",
        r"^grad of input differs from torch: .* with ties \(equal maxima in a window: torch sends the gradient "
        r"to the first of them, in row-major order\); your forward matches"),
    "BatchNorm2d: biased variance in running_var": (
        "BatchNorm2d", "factor * var * m / (m - 1)", "factor * var",
        r"^running_var differs from torch: .* after 3 training batches .*unbiased batch variance"),
    "Dropout: no rescaling": (
        "Dropout", "(rng.random(x.shape) >= self.p) / (1 - self.p)", "(rng.random(x.shape) >= self.p) * 1.0",
        r"^Dropout\(0.3\) in training .*: the kept values are 1 times the input; torch's are 1 / \(1 - p\) = 1.429 times"),
    "Adam: no bias correction": (
        "Adam", "m_hat = m / (1 - beta1 ** t)\n        v_hat = v / (1 - beta2 ** t)", "m_hat, v_hat = m, v",
        r"^after step 1 of Adam\(\), the parameters differ from torch.optim's: .*your step is 3.16\d* times "
        r"torch's; the state \(exp_avg, exp_avg_sq, step\) matches torch's"),
    "SGD: Nesterov as plain momentum": (
        "SGD", 'g = g + mu * b if group["nesterov"] else b', "g = b",
        r"^after step 1 of SGD\(lr=0.01, momentum=0.9, nesterov=True\), the parameters differ from torch.optim's: "
        r".*your step is 0.52\d* times torch's; the state \(momentum_buffer\) matches"),
}


@pytest.mark.parametrize("bug", BUGS)
def test_a_planted_bug_fails_with_a_message_naming_it(bug, tmp_path):
    name, line, replacement, expected = BUGS[bug]
    solution = SOLUTION.read_text()
    assert solution.count(line) == 1, f"the solution no longer has the line {line!r}"
    path = write(tmp_path, solution.replace(line, replacement))
    [result] = grade(load_module(path), [name])
    assert result.status == FAILED
    assert re.search(expected, report(result)), report(result)
    assert result.passed < result.total


def test_a_crash_in_the_learners_code_names_the_line_and_the_setting(tmp_path):
    solution = SOLUTION.read_text().replace("self._cache = x > 0", "self._cache = x > 0\n        x[0, 0, 0] = 1 / 0")
    [result] = grade(load_module(write(tmp_path, solution)), ["relu"])
    assert result.status == FAILED
    assert re.match(r"ZeroDivisionError: division by zero \(line \d+ of my_layers.py, in ReLU.forward: "
                    r"x\[0, 0, 0\] = 1 / 0\), while checking ReLU\(\) on values around 0 and far from it$", result.message), result.message


def test_forward_writing_into_its_input_is_named(tmp_path):
    solution = SOLUTION.read_text().replace("        self._cache = x > 0\n", "        self._cache = x > 0\n        x *= 1.0\n        x[0] = 0\n")
    [result] = grade(load_module(write(tmp_path, solution)), ["ReLU"])
    assert result.status == FAILED and result.message.startswith("forward wrote into its input x at ReLU()")


# -- stubs and partial work -------------------------------------------------------------------------


def test_the_template_is_all_stubs_and_reported_as_not_yet_written(tmp_path):
    results = grade(load_module(write(tmp_path, TEMPLATE.read_text())))
    assert all(r.status == NOT_WRITTEN for r in results)
    conv = results[list(EXERCISES).index("Conv2d")]
    assert conv.message == "Conv2d.forward and Conv2d.backward still raise NotImplementedError"
    assert results[-1].message == "Adam._update still raises NotImplementedError"
    text = format_report(results)
    assert text.count("not yet written") == len(EXERCISES) + 1  # and the summary line
    assert "0 passed, 0 failed, 13 not yet written (of 13)." in text


def test_a_half_written_layer_is_not_yet_written_and_says_what_passes(tmp_path):
    solution = SOLUTION.read_text()
    start = solution.index("        x, cols = self._cache")  # Conv2d.backward's body
    end = solution.index("class _Pool2d")
    body = solution[start:end]
    solution = solution.replace(body, '        raise NotImplementedError("Conv2d.backward: later")\n\n\n' + "# " + "-" * 10 + "\n\n\n")
    module = load_module(write(tmp_path, solution))
    assert unwritten_methods(module.Conv2d, ("forward", "backward")) == ["backward"]
    [result] = grade(module, ["Conv2d"])
    assert result.status == NOT_WRITTEN
    assert result.message == "Conv2d.backward still raises NotImplementedError"
    assert result.details == ["passed so far: forward (6 checks)"]


def test_a_missing_class_or_a_function_in_its_place(tmp_path):
    module = load_module(write(tmp_path, "def Linear(*args):\n    return None\n"))
    results = {r.name: r for r in grade(module, ["Linear", "ReLU"])}
    assert results["ReLU"].status == NOT_WRITTEN and results["ReLU"].message == "my_layers.py has no ReLU"
    assert results["Linear"].status == FAILED and "is a function, not a class" in results["Linear"].message


def test_stub_detection_reads_the_method_body():
    class Written(cn.Module):
        def forward(self, x):
            if x is None:
                raise NotImplementedError("a case not supported")  # not a stub: only one branch
            return x

    class Stub(cn.Module):
        def forward(self, x):
            x = np.asarray(x)  # given lines before the stub's raise
            raise NotImplementedError

    assert unwritten_methods(Written, ("forward", "backward")) == ["backward"]  # Module's default
    assert unwritten_methods(Stub, ("forward",)) == ["forward"]
    assert unwritten_methods(cn.Conv2d, ("forward", "backward")) == []


# -- a broken module is one clear message ----------------------------------------------------------


@pytest.mark.parametrize("source, expected", [
    ("import numpy as np\n\nclass Linear:\n    def forward(self, x)\n        return x\n",
     r"^my_layers.py has a syntax error at line 4: expected ':'\n    def forward\(self, x\)\n\s+\^$"),
    ("import numpyy\n", r"^my_layers.py could not be imported: ModuleNotFoundError at line 1 \(import numpyy\): "
                        r"No module named 'numpyy'$"),
    ("x = 1\nclass ReLU(Modul):\n    pass\n",
     r"^my_layers.py could not be imported: NameError at line 2 \(class ReLU\(Modul\):\): name 'Modul' is not defined"),
    ("import sys\nsys.exit(3)\n", r"^my_layers.py could not be imported: SystemExit at line 2 \(sys.exit\(3\)\): 3$"),
])
def test_a_module_that_does_not_load_is_one_message(tmp_path, source, expected):
    with pytest.raises(ExerciseError) as info:
        load_module(write(tmp_path, source))
    assert re.search(expected, str(info.value)), str(info.value)


def test_a_missing_module_says_how_to_make_one(tmp_path):
    with pytest.raises(ExerciseError, match=r"does not exist: make a workspace with `cnnbook exercises init DIR`"):
        load_module(tmp_path / "my_layers.py")
    with pytest.raises(ExerciseError, match=r"is a folder without my_layers.py"):
        load_module(tmp_path)
    write(tmp_path, REEXPORT)
    assert load_module(tmp_path).Linear is cn.Linear  # the workspace folder will do
    with pytest.raises(ExerciseError, match=r"is not a folder of notebooks: pass the book's notebooks/ folder"):
        init_workspace(tmp_path / "ex", book=tmp_path / "nowhere")
    assert not (tmp_path / "ex").exists()


def test_unknown_exercise_names_are_refused():
    with pytest.raises(ExerciseError, match=r"there is no exercise 'Conv3d'; the exercises are: Linear, ReLU"):
        grade(cn, ["Conv3d"])
    assert [r.name for r in grade(cn, ["relu", "ReLU"])] == ["ReLU"]  # any case, once


# -- the template ---------------------------------------------------------------------------------


def test_the_template_mirrors_cnnbook_numpy():
    spec = load_module(TEMPLATE)
    for name, exercise in EXERCISES.items():
        ours = getattr(spec, name)
        book = getattr(np_optim if exercise.kind == "optimizer" else cn, name)
        assert inspect.signature(ours) == inspect.signature(book), name
        assert first_sentence(ours.__doc__) == first_sentence(book.__doc__), name
        assert unwritten_methods(ours, exercise.methods) == list(exercise.methods), name
        for method in exercise.methods:  # every stub says what to compute
            with pytest.raises(NotImplementedError, match=rf"{name}\.{method}: \w+"):
                _call_stub(ours, method)


def first_sentence(doc):
    return " ".join(doc.split("\n\n")[0].split()).split(". ")[0]


def _call_stub(cls, method):
    if cls.__name__ in ("SGD", "Adagrad", "RMSprop", "Adam"):
        p = cn.Parameter(np.ones(2))
        return cls([p])._update(p, cls([p]).param_groups[0])
    layer = {"Linear": lambda: cls(3, 2), "Conv2d": lambda: cls(1, 1, 1), "MaxPool2d": lambda: cls(2),
             "AvgPool2d": lambda: cls(2), "BatchNorm2d": lambda: cls(1)}.get(cls.__name__, cls)()
    if method == "backward":
        return layer.backward(np.ones(1))
    if cls.__name__ == "CrossEntropyLoss":
        return layer.forward(np.ones((2, 3)), np.array([0, 1]))
    shape = {"Linear": (2, 3), "Conv2d": (1, 1, 2, 2), "MaxPool2d": (1, 1, 2, 2), "AvgPool2d": (1, 1, 2, 2),
             "BatchNorm2d": (2, 1, 2, 2)}.get(cls.__name__, (2, 3))
    return layer.forward(np.ones(shape))


# -- the command line -----------------------------------------------------------------------------


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_init_then_check_reports_every_exercise_not_yet_written(tmp_path):
    # The book's own notebooks, as from a fresh clone.
    code, out, err = run_cli("exercises", "init", str(tmp_path / "ex"))
    assert code == 0, err
    assert (tmp_path / "ex" / "my_layers.py").read_text() == TEMPLATE.read_text()
    made = sorted(p.name for p in (tmp_path / "ex" / "notebooks").iterdir())
    assert [n[:2] for n in made] == ["05", "07", "08", "09", "11", "12"]
    code, out, err = run_cli("exercises", "check", "--module", str(tmp_path / "ex" / "my_layers.py"))
    assert code == 1 and err == ""
    assert len(re.findall(r"\.\.\. not yet written: ", out)) == len(EXERCISES)
    assert "0 passed, 0 failed, 13 not yet written (of 13)." in out


def test_check_exits_0_only_when_every_exercise_checked_passes(tmp_path):
    path = write(tmp_path, REEXPORT)
    assert run_cli("exercises", "check", "ReLU", "Sigmoid", "--module", str(path))[0] == 0
    code, out, _ = run_cli("exercises", "check", "relu", "Dropout", "--module", str(write(tmp_path, SOLUTION.read_text().replace(
        "(rng.random(x.shape) >= self.p) / (1 - self.p)", "(rng.random(x.shape) >= self.p) * 1.0"), "buggy.py")))
    assert code == 1 and re.search(r"ReLU \.+ passed", out) and re.search(r"Dropout \.+ FAILED", out)
    code, _, err = run_cli("exercises", "check", "Conv3d", "--module", str(path))
    assert code == 1 and "error: there is no exercise 'Conv3d'" in err
    code, _, err = run_cli("exercises", "check", "--module", str(write(tmp_path, "def broken(:\n", "broken.py")))
    assert code == 1 and err.startswith("error: broken.py has a syntax error at line 1")


def test_init_refuses_to_overwrite_a_learners_work(tmp_path):
    book = tiny_book(tmp_path / "book")
    assert run_cli("exercises", "init", str(tmp_path / "ex"), "--book", str(book))[0] == 0
    mine = tmp_path / "ex" / "my_layers.py"
    mine.write_text("# my work\n")
    code, out, err = run_cli("exercises", "init", str(tmp_path / "ex"), "--book", str(book))
    assert code == 1 and "my_layers.py already exists (and 6 more): `cnnbook exercises init` never overwrites" in err
    assert mine.read_text() == "# my work\n"
    mine.unlink()  # a notebook alone is work too
    with pytest.raises(ExerciseError, match=r"05_dropout.ipynb already exists"):
        init_workspace(tmp_path / "ex", book=book)
    assert not mine.exists()  # nothing written when anything is in the way
    with pytest.raises(ExerciseError, match="is a file, not a folder"):
        init_workspace(mine.parent / "notebooks" / "05_dropout.ipynb", book=book)


# -- the exercise notebooks --------------------------------------------------------------------------


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for i, (kind, source, tags) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell["id"] = f"c{i}"
        if tags:
            cell.metadata["tags"] = list(tags)
        if kind == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="book output\n")]
            cell.execution_count = i
        nb.cells.append(cell)
    return nb


def chapter(*extra):
    return notebook(
        ("md", "# 08 · Convolution (합성곱)\n\nIntro.", ()),
        ("code", "FAST = False", ("parameters",)),
        ("code", "import inspect\n\nimport numpy as np\n\nimport cnnbook.numpy as cn\n"
                 "from cnnbook.numpy import functional as F, optim as np_optim\nfrom cnnbook.numpy.optim import SGD", ()),
        ("md", "The book's backward:", ()),
        ("code", "print(inspect.getsource(cn.Conv2d.backward))", ("exercise:Conv2d",)),
        ("code", "def conv_backward(x):\n    return x  # the answer, written out", ("exercise-remove", "nbval-check-output")),
        ("code", "layer = cn.Conv2d(1, 2, 3)\nout = layer(np.ones((1, 1, 4, 4)))\nopt = SGD(layer.parameters(), lr=0.1)",
         ("exercise-after:SGD", "nbval-check-output")),
        *extra,
    )


def tiny_book(folder):
    folder.mkdir(parents=True)
    for stem in CHAPTERS:
        nbformat.write(chapter(), folder / f"{stem}.ipynb")
    return folder


def test_a_notebook_becomes_its_exercise_edition():
    nb = chapter()
    out = exercise_notebook(nb, "08_convolution.ipynb", ("Conv2d", "MaxPool2d"))
    assert nb.cells[4].source.startswith("print(inspect")  # the book's notebook is left alone
    ids = [c.get("id") for c in out.cells]
    assert ids == ["c0", "exercise-intro", "c1", "exercise-setup", "exercise-section", "exercise-maxpool2d-task",
                   "exercise-maxpool2d-check", "c2", "c3", "exercise-conv2d-task", "exercise-conv2d-check", "c6",
                   "exercise-sgd-task", "exercise-sgd-check"]
    cells = dict(zip(ids, out.cells))
    assert "This chapter's exercises: `Conv2d`, `MaxPool2d`, `SGD`" in cells["exercise-intro"].source
    assert cells["c6"].metadata.tags == ["nbval-check-output"]
    assert cells["exercise-setup"].source.endswith('workspace = Workspace("..")  # loads ../my_layers.py; '
                                                   "workspace.check(NAME) grades an exercise")
    assert cells["exercise-conv2d-check"].source == 'workspace.check("Conv2d")'
    assert "Write `Conv2d.forward` and `Conv2d.backward` in `my_layers.py`" in cells["exercise-conv2d-task"].source
    assert cells["c2"].source == (
        "import inspect\n\nimport numpy as np\n\n"
        "cn = workspace.numpy  # cnnbook.numpy, with the classes you wrote\n"
        "from cnnbook.numpy import functional as F\n"
        "np_optim = workspace.numpy.optim  # cnnbook.numpy.optim, with the classes you wrote\n"
        "SGD = workspace.numpy.optim.SGD  # yours once written in my_layers.py"
    )
    assert all(c.outputs == [] and c.execution_count is None for c in out.cells if c.cell_type == "code")
    assert not any(t.startswith("exercise") for c in out.cells for t in c.metadata.get("tags", []))
    assert out.metadata.cnnbook.exercise_edition == {
        "from": "08_convolution.ipynb", "exercises": ["Conv2d", "MaxPool2d", "SGD"], "tagged": ["Conv2d", "SGD"],
        "at_the_start": ["MaxPool2d"]}
    nbformat.validate(out)


def test_an_exercise_notebook_runs_the_learners_classes(tmp_path, capsys):
    # Run the generated cells in-process, from the workspace's notebooks folder.
    (tmp_path / "notebooks").mkdir()
    solution = SOLUTION.read_text()
    path = write(tmp_path, solution)
    out = exercise_notebook(chapter(), "08_convolution.ipynb", ("Conv2d",))
    ns = run_cells(out, tmp_path / "notebooks")
    assert ns["cn"].Conv2d is ns["workspace"].module.Conv2d and ns["SGD"] is ns["workspace"].module.SGD
    assert ns["cn"].Flatten is cn.Flatten  # what is not an exercise stays the book's
    assert isinstance(ns["layer"], ns["workspace"].module.Conv2d) and ns["out"].shape == (1, 2, 2, 2)
    printed = capsys.readouterr().out
    assert "Conv2d ... passed" in printed and "yours: Linear, ReLU" in printed

    # Stubs: the chapter runs the book's classes and the check cell only says so.
    path.write_text(TEMPLATE.read_text())
    ns = run_cells(out, tmp_path / "notebooks")
    assert ns["cn"].Conv2d is cn.Conv2d and ns["SGD"] is np_optim.SGD
    printed = capsys.readouterr().out
    assert "Conv2d ... not yet written" in printed and "Until you write Conv2d, the cells below use the book's." in printed

    # A wrong layer stops the notebook at its check cell.
    path.write_text(solution.replace("self.bias.grad += d.sum(axis=(0, 2))", "pass"))
    with pytest.raises(ExerciseNotPassed, match=r"Conv2d failed the check: fix it in \.\./my_layers.py"):
        run_cells(out, tmp_path / "notebooks")


def run_cells(nb, folder):
    import os

    ns = {}
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for cell in nb.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, f"<cell {cell.get('id')}>", "exec"), ns)
    finally:
        os.chdir(cwd)
    return ns


def test_check_cells_reload_my_layers(tmp_path, capsys):
    path = write(tmp_path, TEMPLATE.read_text())
    ws = Workspace(tmp_path)
    numpy_view = ws.numpy
    assert numpy_view.ReLU is cn.ReLU and "the book's until you write them: Linear, ReLU" in capsys.readouterr().out
    path.write_text(SOLUTION.read_text())
    assert [r.status for r in ws.check("ReLU")] == [PASSED]
    assert ws.numpy is numpy_view and numpy_view.ReLU is ws.module.ReLU  # updated in place


@pytest.mark.parametrize("cells, message", [
    ([("code", "x = 1", ("exercise:Conv3d",))], r"cell 3 \(id c2\): tag 'exercise:Conv3d' names no exercise"),
    ([("code", "x = 1", ("exercise:Conv2d",)), ("code", "y = 1", ("exercise:Conv2d",))],
     r"cell 4 \(id c3\): a second cell tagged with the exercise Conv2d"),
    ([("code", "x = 1", ("exercise_remove",))], r"unknown tag 'exercise_remove'"),
    ([("code", "x = 1", ("exercise-remove", "exercise:ReLU"))], r"tagged both 'exercise-remove' and 'exercise:ReLU'"),
    ([("code", "x = 1", ("exercise-after:ReLU", "exercise:Linear"))], r"tagged both 'exercise:Linear' and 'exercise-after:ReLU'"),
    ([("code", "x = 1", ("exercise-after:Conv2d",)), ("code", "y = 1", ("exercise:Conv2d",))],
     r"a second cell tagged with the exercise Conv2d"),
    ([("code", "FAST = True", ("parameters", "exercise-remove"))], r"the parameters cell stays"),
    ([("code", "import cnnbook.numpy\nlayer = cnnbook.numpy.functional.relu", ())],
     r"`import cnnbook.numpy` cannot be rebound .* write `import cnnbook.numpy as NAME`"),
    ([("code", "import cnnbook\nlayer = cnnbook.numpy.Conv2d(1, 1, 1)", ())],
     r"`cnnbook.numpy.Conv2d` bypasses the learner's classes; import cnnbook.numpy as cn and write cn.Conv2d"),
    ([("code", "from cnnbook.numpy import *", ())], r"`from cnnbook.numpy import \*` hides"),
    ([("code", "x = 1; import cnnbook.numpy as cn", ())], r"put the import of cnnbook.numpy on a line of its own"),
    ([("code", "workspace = 3", ())], r"uses the name 'workspace'"),
    ([("code", "def f(:\n    pass", ())], r"cell 3 \(id c2\): the cell is not valid Python \(line 1"),
])
def test_a_notebook_the_generator_cannot_handle_is_named_with_its_cell(cells, message):
    nb = notebook(("md", "# Title", ()), ("code", "FAST = False", ("parameters",)), *cells)
    with pytest.raises(NotebookError, match=message):
        exercise_notebook(nb, "08_convolution.ipynb", ("Conv2d",))


def test_rewrite_imports_keeps_everything_else():
    source = ("%matplotlib inline\nif True:\n    from cnnbook.numpy import (Conv2d,  # the layer\n"
              "                               functional as F)\n    import cnnbook.torch as ct\n"
              "from cnnbook.numpy.conv import Conv2d as C2  # a submodule\nfrom cnnbook import numpy as cnp\n")
    assert rewrite_imports(source) == (
        "%matplotlib inline\nif True:\n    from cnnbook.numpy import functional as F\n"
        "    Conv2d = workspace.numpy.Conv2d  # yours once written in my_layers.py\n    import cnnbook.torch as ct\n"
        "C2 = workspace.numpy.Conv2d  # yours once written in my_layers.py\n"
        "cnp = workspace.numpy  # cnnbook.numpy, with the classes you wrote\n")
    untouched = "import numpy as np\nfrom cnnbook.numpy import functional as F\nfrom cnnbook.numpy.optim import Adadelta\n"
    assert rewrite_imports(untouched) == untouched


def test_the_books_notebooks_make_valid_exercise_editions():
    from cnnbook.exercises.notebooks import _mask_magics

    made = exercise_notebooks()
    assert [name[:2] for name in made] == ["05", "07", "08", "09", "11", "12"]
    for name, text in made.items():
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        edition = nb.metadata.cnnbook.exercise_edition
        stem = next(s for s in CHAPTERS if s[:2] == name[:2])
        assert set(edition["exercises"]) >= set(CHAPTERS[stem])
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        assert sum('workspace = Workspace("..")' in s for s in sources) == 1
        for exercise in edition["exercises"]:
            assert sources.count(f'workspace.check("{exercise}")') == 1
        assert not any(re.search(r"^\s*import cnnbook\.numpy as|^\s*from cnnbook\.numpy\.optim import", s, re.M)
                       for s in sources), name
        assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
        for source in sources:  # the rewritten cells are still Python (magics aside)
            compile(_mask_magics(source), name, "exec")
        json.loads(text)


# -- the NumPy CNN chapter trains the learner's layers ------------------------------------------------


def test_the_numpy_cnn_trains_the_learners_layers_as_it_trains_the_books(tmp_path, capsys):
    """Chapter 11's network, built from workspace.numpy as the exercise edition builds it,
    is made of the learner's classes and trains step for step as the book's does."""
    write(tmp_path, SOLUTION.read_text())
    mine = Workspace(tmp_path).numpy

    def numpy_cnn(lib, dtype=np.float64):  # the chapter's numpy_cnn, smaller: 12 x 12 inputs
        return lib.Sequential(
            lib.Conv2d(1, 4, kernel_size=3, dtype=dtype), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(4, 6, kernel_size=3, dtype=dtype), lib.ReLU(), lib.MaxPool2d(2),
            lib.Flatten(), lib.Linear(6, 16, dtype=dtype), lib.ReLU(), lib.Linear(16, 10, dtype=dtype))

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 1, 12, 12)), rng.integers(0, 10, 32)
    cn.manual_seed(0)
    book = numpy_cnn(cn)
    cn.manual_seed(0)
    ours = numpy_cnn(mine)
    assert type(ours[0]).__module__ != "cnnbook.numpy.conv" and type(ours[0]) is mine.Conv2d
    start = [p.data.copy() for p in book.parameters()]
    runs = []
    for model, lib in ((book, cn), (ours, mine)):
        for p, p0 in zip(model.parameters(), start, strict=True):
            np.testing.assert_array_equal(p.data, p0)  # the same start
        loss_fn, opt = lib.CrossEntropyLoss(), lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for step in range(5):
            batch = slice(8 * (step % 4), 8 * (step % 4) + 8)
            opt.zero_grad()
            losses.append(loss_fn.forward(model(x[batch]), y[batch]))
            model.backward(loss_fn.backward())
            opt.step()
        runs.append((np.array(losses), np.concatenate([p.data.ravel() for p in model.parameters()])))
    (book_losses, book_params), (our_losses, our_params) = runs
    assert book_losses[-1] != book_losses[0]
    np.testing.assert_allclose(our_losses, book_losses, rtol=1e-10)
    np.testing.assert_allclose(our_params, book_params, rtol=0, atol=1e-10 * np.abs(book_params).max())
