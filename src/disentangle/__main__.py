"""Command line: ``python -m disentangle <command> ...``.

Commands:
  book   --params FILE [--only NAME ...] [--no-build]   execute chapters + build the book
  params FILE                                        validate a params file
  data   download NAME [--root DIR]                  fetch a dataset (see data/download.py)
  study  run|status|aggregate PARAMS                 run or inspect a study (see study/cli.py)
"""

from __future__ import annotations

import argparse
import sys


def _book(argv: list[str]) -> int:
    from . import book
    from .params import ParamsError

    ap = argparse.ArgumentParser(prog="python -m disentangle book", description="execute chapters and build the book")
    ap.add_argument("--params", required=True, help="params file, e.g. params/ci.yaml")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="re-execute only these chapters")
    ap.add_argument("--no-build", action="store_true", help="execute only; skip jupyter-book build")
    a = ap.parse_args(argv)
    try:
        book.run(a.params, only=a.only, build=not a.no_build)
    except (ParamsError, book.ChapterFailed) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _params(argv: list[str]) -> int:
    from .params import ParamsError, load

    ap = argparse.ArgumentParser(prog="python -m disentangle params", description="validate a params file")
    ap.add_argument("file")
    a = ap.parse_args(argv)
    try:
        p = load(a.file)
    except ParamsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{p.path}: ok (scale {p.shared['scale']}; chapters: {', '.join(p.chapters) or 'none'})")
    return 0


def _data(argv: list[str]) -> int:
    from .data.download import cli_main

    return cli_main(argv)


def _study(argv: list[str]) -> int:
    from .study.cli import cli_main

    return cli_main(argv)


COMMANDS = {"book": _book, "params": _params, "data": _data, "study": _study}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
