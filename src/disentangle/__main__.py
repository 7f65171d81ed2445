"""Command line: ``python -m disentangle <command> ...``.

Commands:
  book   --params FILE [--only NAME ...] [--no-build]   execute chapters + build the book
  params FILE                                        validate a params file
  data   download NAME [--root DIR]                  fetch a dataset (see data/download.py)
  study  run|status|aggregate PARAMS                 run or inspect a study (see study/cli.py)

Options (any command):
  --debug   show the full traceback of every error (by default, an error caused by
            bad input, a bad file or an interrupt is one or two lines naming the file)
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


def user_error(error: BaseException) -> str | None:
    """The one-line message of an error a user can cause (bad params, a missing,
    damaged or unwritable file, a dead worker), or None for a bug (traceback)."""
    from .data.download import DownloadError
    from .data.formats import DatasetFormatError
    from .io import DamagedFileError
    from .params import ParamsError
    from .study.executors import SlurmUnavailable, WorkersCrashed

    if isinstance(error, (ParamsError, DamagedFileError, DatasetFormatError, DownloadError, WorkersCrashed,
                          SlurmUnavailable)):
        return str(error)
    if isinstance(error, OSError) and (error.filename is not None or isinstance(error, FileNotFoundError)):
        if error.filename is not None and error.strerror:
            where = f"{error.filename}" + (f" -> {error.filename2}" if error.filename2 else "")
            return f"{where}: {error.strerror}"
        return str(error)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"error: unknown command {argv[0]!r}; choose one of: {', '.join(COMMANDS)} "
              f"(python -m disentangle --help)", file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - user errors in one line; bugs keep their traceback
        message = user_error(e)
        if debug or message is None:
            raise
        print(f"error: {message}\n(python -m disentangle --debug ... shows the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
