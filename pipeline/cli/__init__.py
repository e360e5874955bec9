"""`rootstock` command line: argparse and printing only; the library never imports it.

Every mistake a user can make reaches `main` as a RootstockError and is printed the same way,
one `FILE: field: reason` line per problem, with the error's exit code; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

from apache_beam.io.filesystem import BeamIOError

from rootstock.errors import RootstockError
from rootstock.pipeline.cli import catalog, curate, inspect, langid, mix, plan, release, tokens
from rootstock.pipeline.cli import report as report_cli  # `report` is the error printer below


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="rootstock", description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="Beam's INFO logging")
    sub = ap.add_subparsers(dest="command", required=True)
    curate.add_parsers(sub)
    release.add_parsers(sub)
    tokens.add_parsers(sub)
    mix.add_parsers(sub)
    catalog.add_parsers(sub)
    inspect.add_parsers(sub)
    langid.add_parsers(sub)
    plan.add_parsers(sub)
    report_cli.add_parsers(sub)
    return ap


def report(error: RootstockError) -> int:
    """Print ERROR as the command line does; return its exit code."""
    lines = error.lines() or [type(error).__name__]
    print(f"error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(line if line.startswith(("  ", "hint:")) else f"  {line}", file=sys.stderr)
    return error.exit_code


class _HideUserErrors(logging.Filter):
    """Beam logs an exception a DoFn raised, traceback and all, before it fails the pipeline;
    for a user's mistake (or Ctrl-C) the one report `main` prints is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (RootstockError, BeamIOError, KeyboardInterrupt)):
            return False
        # Ctrl-C inside a DoFn, which Beam logs (and wraps) before the run stops.
        return not (isinstance(error, RuntimeError) and str(error).startswith("KeyboardInterrupt"))


def storage_message(err: BeamIOError) -> str:
    """Beam's storage error as one line: without the step name and the empty exception list it
    appends (a path may hold `]` itself, so the step name is cut at its last `']`)."""
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    message = re.sub(r" \[while running '.*'\]", "", message)
    message = message.replace(" with exceptions None", "")
    empty = re.fullmatch(r"Empty match for pattern (.*)\. Disallowed\.", message)
    return f"{empty.group(1)}: no file matches this path or pattern" if empty else message


def main(argv: list[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_HideUserErrors())
    beam = getattr(args, "beam", False)
    if extra and not beam:
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args, extra) if beam else args.func(args)
    except RootstockError as err:
        return report(err)
    except BeamIOError as err:  # storage that refused: credentials, permissions, network
        return report(RootstockError(storage_message(err), hint="check the path and your credentials for it"))
    except KeyboardInterrupt:  # before or after the work a job keeps (see Interrupted)
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rootstock search … | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush is quiet
        return 0


if __name__ == "__main__":
    sys.exit(main())
