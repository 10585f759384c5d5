"""The ``cnnbook`` command: data, book, training and environment.

    cnnbook data verify                  check the dataset files under the data root
    cnnbook data fetch NAME              download a dataset (mnist, mnist10k, fashion-mnist, cifar10)
    cnnbook book run [--fast] [--jobs N] [--timeout S] [NOTEBOOK ...]   execute the notebooks
    cnnbook book prepare [--fast]        parameterized copies for the test suite (nbval)
    cnnbook book claims [NOTEBOOK ...]   the checked claims of the committed notebooks
    cnnbook book html [--output DIR]     the book as a website (default build/html)
    cnnbook book launch [--check] [NOTEBOOK ...]   Colab badges and install lines
    cnnbook book edition sync|status|export|apply  the Korean edition, kept in step
    cnnbook train MODEL --dataset NAME --epochs N ...   train a model of the zoo (see --help)
    cnnbook exercises init DIR     an exercise workspace: DIR/my_layers.py (stubs), DIR/notebooks/
    cnnbook exercises check [NAME ...] [--module DIR/my_layers.py]   grade the exercises written so far
    cnnbook env                          versions, device, data root
"""

from __future__ import annotations

import argparse
import sys

from cnnbook.book.runner import DEFAULT_TIMEOUT

EXIT_OK, EXIT_FAIL = 0, 1


def _print_err(message):
    print(f"error: {message}", file=sys.stderr)


def _data_verify(args):
    from cnnbook import data
    from cnnbook.data.catalog import fetch_name

    root = data.data_root() if args.root is None else args.root
    report = data.verify(root)  # DataError when the root is missing or unreadable
    print(f"data root: {root}")
    failed = []
    for name, entry in report.items():
        files = entry["files"]
        ok = sum(s == "ok" for s in files.values())
        print(f"  {name:14s} {entry['status']:9s} ({ok}/{len(files)} files)")
        for filename, status in files.items():
            if status.startswith("corrupt"):
                path = f"{root}/{data.DATASETS[name].folder}/{filename}"
                failed.append(f"{path} is corrupt ({status.removeprefix('corrupt: ')}); "
                              f"`cnnbook data fetch {fetch_name(name, filename)}` downloads it again")
    for line in failed:
        _print_err(line)
    return EXIT_FAIL if failed else EXIT_OK


def _data_fetch(args):
    from cnnbook import data

    folder = data.fetch(args.name, args.root, progress=not args.quiet)
    print(f"{args.name}: verified in {folder}")
    return EXIT_OK


def _book_run(args):
    import time

    from cnnbook import book

    start = time.perf_counter()
    results = book.run_book(args.notebooks, fast=args.fast, output_dir=args.output,
                            in_place=args.in_place, jobs=args.jobs or book.default_jobs(),
                            timeout=args.timeout)
    where = "in place" if args.in_place else f"into {args.output}"
    print(f"{len(results)} notebook(s) executed {where} in {time.perf_counter() - start:.0f} s")
    return EXIT_OK


def _book_prepare(args):
    from cnnbook import book

    paths = book.prepare(args.notebooks, fast=args.fast, output_dir=args.output)
    print(f"{len(paths)} notebook(s) prepared in {args.output}")
    return EXIT_OK


def _book_claims(args):
    from cnnbook import book

    notebooks = book.list_notebooks(args.notebooks)
    total = failed = 0
    for nb in notebooks:
        claims = book.read_claims(nb)
        if not claims:
            print(f"{nb.name}: no claims")
        for cell, claim in claims:
            first = claim.line().splitlines()[0]
            print(f"{nb.name} [cell {cell}] {first}")
            total += 1
            failed += not claim.held
    print(f"{total} claim(s) in {len(notebooks)} notebook(s): {total - failed} held, {failed} failed")
    return EXIT_FAIL if failed else EXIT_OK


def _train(args):
    from cnnbook import trainer

    trainer.train(trainer.config_from_args(args))
    return EXIT_OK


def _book_edition(args):
    import json
    from pathlib import Path

    from cnnbook.book import edition

    if args.action_edition == "sync":
        written = edition.sync(args.lang, args.notebooks)
        print(f"{len(written)} notebook(s) of the {args.lang} edition rewritten")
        pending = edition.status(args.lang, args.notebooks)
        if pending:
            print(f"{len(pending)} cell(s) need translating: `cnnbook book edition status --lang {args.lang}`")
        return EXIT_OK
    if args.action_edition == "status":
        pending = edition.status(args.lang, args.notebooks)
        for item in pending:
            print(item.line())
        print(f"{len(pending)} cell(s) of the {args.lang} edition need translating")
        return EXIT_FAIL if pending else EXIT_OK
    if args.action_edition == "export":
        data = edition.export(args.lang, args.notebooks, every=args.all)
        if args.output:
            edition.write_json(data, args.output)
            print(f"{sum(len(c) for c in data.values())} cell(s) written to {args.output}")
        else:
            print(json.dumps(data, ensure_ascii=False, indent=1))
        return EXIT_OK
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{args.file}: expected JSON as `cnnbook book edition export` writes it ({exc})") from None
    count = edition.apply(data, args.lang)
    print(f"{count} translated cell(s) written into the {args.lang} edition")
    return EXIT_OK


def _book_html(args):
    import time
    from pathlib import Path

    from cnnbook.book import site

    start = time.perf_counter()
    site.build_site(args.output, log=lambda line: print(line, file=sys.stderr))
    homes = ", ".join(f"{Path(args.output) / e.prefix / 'index.html'} ({e.lang})" for e in site.EDITIONS)
    print(f"website built in {time.perf_counter() - start:.0f} s: {homes}")
    return EXIT_OK


def _book_launch(args):
    from cnnbook.book import launch, list_notebooks

    changed = launch.launch_book(args.notebooks, check=args.check)
    for nb in changed:
        print(f"{nb.name}: {'needs its badge or install lines' if args.check else 'updated'}")
    total = len(list_notebooks(args.notebooks))
    print(f"{len(changed)} of {total} notebook(s) {'to update' if args.check else 'updated'}")
    return EXIT_FAIL if args.check and changed else EXIT_OK


def _env(args):
    import platform

    import matplotlib
    import numpy
    import torch

    import cnnbook
    from cnnbook import data
    from cnnbook.device import default_device

    print(f"cnnbook     {cnnbook.__version__}")
    print(f"python      {platform.python_version()}")
    print(f"numpy       {numpy.__version__}")
    print(f"torch       {torch.__version__}")
    print(f"matplotlib  {matplotlib.__version__}")
    device = default_device()
    extra = f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""
    print(f"device      {device}{extra}; {torch.get_num_threads()} CPU threads")
    root = data.data_root()
    try:
        report = data.verify(root)
    except data.DataError as exc:  # no data root yet: worth a line, not a failure
        print(f"data root   {root} ({str(exc).removeprefix(f'data root {root} ')})")
        return EXIT_OK
    print(f"data root   {root}")
    for name, entry in report.items():
        print(f"  {name:14s} {entry['status']}")
    return EXIT_OK


def _exercises_init(args):
    from cnnbook import exercises

    try:
        written = exercises.init_workspace(args.dir, book=args.book)
    except exercises.ExerciseError as error:  # not among main()'s: importing it costs torch
        _print_err(str(error))
        return EXIT_FAIL
    module = written[0]
    print(f"Made an exercise workspace in {args.dir}:")
    print(f"  {module}  the classes you write: {len(exercises.EXERCISES)} exercises, every one a stub")
    for p in written:
        if p.suffix == ".ipynb":
            names = _chapter_exercises(p)
            print(f"  {p}  exercises: {', '.join(names)}" if names else f"  {p}")
    print(f"Next: write a method in {module.name}, then `cnnbook exercises check --module {module}`"
          f" (or run it in {args.dir}), or open a notebook in {args.dir}/notebooks/.")
    return EXIT_OK


def _chapter_exercises(path):
    """The exercises of the chapter an exercise notebook comes from (by name or number)."""
    from cnnbook.exercises import CHAPTERS

    for stem, names in CHAPTERS.items():
        if path.stem == stem or path.stem[:2] == stem[:2]:
            return names
    return ()


def _exercises_check(args):
    from pathlib import Path

    from cnnbook import exercises

    try:
        chosen = exercises.exercise_names(args.names)
        learner = exercises.load_module(args.module)
    except exercises.ExerciseError as error:
        _print_err(str(error))
        return EXIT_FAIL
    results = exercises.grade(learner, chosen, path=Path(learner.__file__).resolve())
    print(exercises.format_report(results, source=str(args.module)))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAIL


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnbook", description="The cnnbook course: data, book, training, exercises, environment.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_data = sub.add_parser("data", help="datasets: verify or fetch")
    data_sub = p_data.add_subparsers(dest="action", required=True)
    p = data_sub.add_parser("verify", help="check every dataset file under the data root")
    p.add_argument("--root", default=None, help="data root (default: CNNBOOK_DATA, data/, or the user cache)")
    p.set_defaults(func=_data_verify)
    p = data_sub.add_parser("fetch", help="download a dataset and verify it")
    p.add_argument("name", help="mnist, mnist10k, fashion-mnist or cifar10")
    p.add_argument("--root", default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_data_fetch)

    p_book = sub.add_parser("book", help="the notebooks: run, prepare, claims, edition, html, launch")
    book_sub = p_book.add_subparsers(dest="action", required=True)
    p = book_sub.add_parser("run", help="execute the notebooks in course order with papermill")
    p.add_argument("notebooks", nargs="*",
                   help="notebooks to run (numbers like 3 or 03, names or paths); default all")
    p.add_argument("--fast", action="store_true", help="fast mode (FAST=True): small data, few epochs")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--output", default="build/book", help="output folder (default build/book)")
    where.add_argument("--in-place", action="store_true",
                       help="write outputs back into notebooks/ (to commit them)")
    p.add_argument("--jobs", type=_positive_int, default=None,
                   help="notebooks run at once (default: one per core, at most 4)")
    p.add_argument("--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"seconds a cell may run before its notebook is stopped (default {DEFAULT_TIMEOUT})")
    p.set_defaults(func=_book_run)
    p = book_sub.add_parser("prepare", help="parameterized copies with committed outputs, for nbval")
    p.add_argument("notebooks", nargs="*")
    p.add_argument("--fast", action="store_true",
                   help="inject FAST=True, as the test suite does (default: the full mode, "
                        "like `book run` and cnnbook.book.prepare)")
    p.add_argument("--output", default="build/nbtest")
    p.set_defaults(func=_book_prepare)

    p = book_sub.add_parser("claims", help="list the checked claims of the committed notebooks")
    p.add_argument("notebooks", nargs="*", help="notebooks to read (names or prefixes); default all")
    p.set_defaults(func=_book_claims)

    p_edition = book_sub.add_parser("edition", help="translated editions: sync, status, export, apply")
    edition_sub = p_edition.add_subparsers(dest="action_edition", required=True)
    for name, text in (("sync", "rebuild each twin: code and outputs from English, prose kept"),
                       ("status", "list the cells that need (re-)translating (exit 1 if any)"),
                       ("export", "write the prose to translate as JSON"),
                       ("apply", "write translations from a JSON file, stamped with the English version")):
        p = edition_sub.add_parser(name, help=text)
        p.add_argument("--lang", default="ko", help="the edition (default ko)")
        if name == "apply":
            p.add_argument("file", help="JSON as export writes it, with the translations filled in")
        else:
            p.add_argument("notebooks", nargs="*", help="notebooks (names or prefixes); default all")
        if name == "export":
            p.add_argument("--output", default=None, help="file to write (default: standard output)")
            p.add_argument("--all", action="store_true", help="every prose cell, not only those that need it")
        p.set_defaults(func=_book_edition)

    p = book_sub.add_parser("html", help="build the book's website from the committed notebooks")
    p.add_argument("--output", default="build/html", help="output folder (default build/html)")
    p.set_defaults(func=_book_html)

    p = book_sub.add_parser("launch", help="give notebooks their Colab badge and install lines")
    p.add_argument("notebooks", nargs="*", help="notebooks (names or prefixes); default all")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if any would change")
    p.set_defaults(func=_book_launch)

    p = sub.add_parser(
        "train", help="train a model of the zoo on a dataset (resumable; torchrun for many processes)",
        description="Train MODEL on a dataset, writing config.json, metrics.csv, last.pt and best.pt "
                    "to the run folder. Under torchrun (torchrun --standalone --nproc_per_node=N -m "
                    "cnnbook train ...) every process runs this command and rank 0 writes the files.")
    from cnnbook.trainer import add_arguments

    add_arguments(p)
    p.set_defaults(func=_train)

    p_ex = sub.add_parser("exercises", help="the exercise edition: write the layers, graded by the book's checks")
    ex_sub = p_ex.add_subparsers(dest="action", required=True)
    p = ex_sub.add_parser("init", help="a workspace: DIR/my_layers.py with stubs, DIR/notebooks/ with exercise notebooks")
    p.add_argument("dir", help="the workspace folder (made if missing; existing files are never overwritten)")
    p.add_argument("--book", default=None, help="the book's notebooks folder (default: this checkout's notebooks/)")
    p.set_defaults(func=_exercises_init)
    p = ex_sub.add_parser("check", help="grade the exercises in my_layers.py (exit 0 only when all checked pass)")
    p.add_argument("names", nargs="*", help="exercises to check (default: all), e.g. Conv2d Adam")
    p.add_argument("--module", default="my_layers.py", help="the module to grade (default: ./my_layers.py)")
    p.set_defaults(func=_exercises_check)

    p = sub.add_parser("env", help="versions, device, data root")
    p.set_defaults(func=_env)
    return parser


def main(argv=None) -> int:
    from cnnbook.book import BookError
    from cnnbook.data import DataError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, BookError, ValueError, OSError) as exc:
        _print_err(str(exc))
        return EXIT_FAIL
    except KeyboardInterrupt:
        _print_err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
