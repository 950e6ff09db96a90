"""The ``hparams-tools`` command line: argparse subcommands, each a thin call into the API.

Every subcommand lives in :mod:`hparams_tools.commands` as a module with
``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int``.
:func:`main` turns every :class:`~hparams_tools.errors.HParamsToolsError`
into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from . import __version__
from .errors import HParamsToolsError

__all__ = ["main", "build_parser"]

COMMANDS = ("export", "analyze", "suggest", "plot", "report", "import_")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="hparams-tools",
        description=(
            "Read TensorBoard HParams logdirs without TensorFlow: export sessions as tables, "
            "analyse which hyperparameters matter, suggest the next search space and write "
            "an offline HTML report."
        ),
        epilog="Run 'hparams-tools COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"{__package__}.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 2 bad input or usage, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HParamsToolsError as exc:
        print(f"hparams-tools {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hparams-tools: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `hparams-tools export LOGDIR | head`: the reader went away; not an error of ours
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
