"""The ``hparams-tools`` command line: argparse subcommands, each a thin call into the API.

Every subcommand lives in :mod:`hparams_tools.commands` as a module with
``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int``.
:func:`main` turns every :class:`~hparams_tools.errors.HParamsToolsError`
into one line on stderr and exit status 2, and so does every usage error
(:class:`OneLineArgumentParser`, also used by ``python -m training.sweep``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from . import __version__
from ._format import one_line
from .errors import HParamsToolsError

__all__ = ["main", "build_parser", "OneLineArgumentParser", "error_line"]

COMMANDS = ("export", "analyze", "suggest", "plot", "report", "import_")


def error_line(prog: str, message: object) -> str:
    """The one line a command prints for a bad input: ``PROG: error: MESSAGE``, control characters escaped."""
    return f"{prog}: error: {one_line(str(message))}"


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line: ``PROG: error: MESSAGE (see 'PROG --help')``.

    Subcommand parsers are of the same class (argparse's default), so each names
    its own usage; an unknown option after a subcommand is reported by that
    subcommand's parser rather than the top-level one.
    """

    def add_subparsers(self, **kwargs):  # noqa: D102 - argparse's, remembered for parse_args
        self._commands = super().add_subparsers(**kwargs)
        return self._commands

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse's
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "_commands", None)
            chosen = getattr(namespace, commands.dest, None) if commands is not None else None
            owner = commands.choices.get(chosen, self) if chosen is not None else self
            owner.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace

    def error(self, message: str):  # noqa: D102 - argparse's, without the multi-line usage block
        self.exit(2, f"{error_line(self.prog, message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = OneLineArgumentParser(
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
        print(error_line(f"hparams-tools {args.command}", exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hparams-tools: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # e.g. `hparams-tools export LOGDIR | head`: the reader went away; not an error of ours
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
