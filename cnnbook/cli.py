"""The ``cnnbook`` command: data, book and environment.

    cnnbook data verify            check the dataset files under the data root
    cnnbook data fetch NAME        download a dataset (mnist, mnist10k, fashion-mnist, cifar10)
    cnnbook book run [--fast] [--jobs N] [NOTEBOOK ...]
    cnnbook book prepare [--fast]  parameterized copies for the test suite (nbval)
    cnnbook book claims [NOTEBOOK ...]   the checked claims of the committed notebooks
    cnnbook env                    versions, device, data root
    cnnbook exercises init DIR     an exercise workspace: DIR/my_layers.py (stubs), DIR/notebooks/
    cnnbook exercises check [NAME ...] [--module DIR/my_layers.py]   grade the exercises written so far
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAIL = 0, 1


def _print_err(message):
    print(f"error: {message}", file=sys.stderr)


def _data_verify(args):
    from cnnbook import data

    root = data.data_root() if args.root is None else args.root
    report = data.verify(root)
    print(f"data root: {root}")
    failed = []
    for name, entry in report.items():
        files = entry["files"]
        ok = sum(s == "ok" for s in files.values())
        print(f"  {name:14s} {entry['status']:9s} ({ok}/{len(files)} files)")
        for filename, status in files.items():
            if status.startswith("corrupt"):
                failed.append(f"{root}/{data.DATASETS[name].folder}/{filename} is corrupt ({status[9:]})")
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
                            in_place=args.in_place, jobs=args.jobs or book.default_jobs())
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
    print(f"data root   {root}")
    for name, entry in data.verify(root).items():
        print(f"  {name:14s} {entry['status']}")
    return EXIT_OK


def _exercises_init(args):
    from cnnbook import exercises

    return exercises.init_command(args.dir, book=args.book)


def _exercises_check(args):
    from cnnbook import exercises

    return exercises.check_command(args.names, module=args.module)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnbook", description="The cnnbook course: data, book, environment.")
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

    p_book = sub.add_parser("book", help="execute the notebooks")
    book_sub = p_book.add_subparsers(dest="action", required=True)
    p = book_sub.add_parser("run", help="execute the notebooks in course order with papermill")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (names or prefixes like 03); default all")
    p.add_argument("--fast", action="store_true", help="fast mode (FAST=True): small data, few epochs")
    p.add_argument("--output", default="build/book", help="output folder (default build/book)")
    p.add_argument("--in-place", action="store_true", help="write outputs back into notebooks/ (to commit them)")
    p.add_argument("--jobs", type=_positive_int, default=None,
                   help="notebooks run at once (default: one per core, at most 4)")
    p.set_defaults(func=_book_run)
    p = book_sub.add_parser("prepare", help="parameterized copies with committed outputs, for nbval")
    p.add_argument("notebooks", nargs="*")
    p.add_argument("--fast", action="store_true")
    p.add_argument("--output", default="build/nbtest")
    p.set_defaults(func=_book_prepare)

    p = book_sub.add_parser("claims", help="list the checked claims of the committed notebooks")
    p.add_argument("notebooks", nargs="*", help="notebooks to read (names or prefixes); default all")
    p.set_defaults(func=_book_claims)

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
