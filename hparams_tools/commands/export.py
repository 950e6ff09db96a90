"""``hparams-tools export``: every HParams session of a logdir as CSV, JSON or Parquet."""

from __future__ import annotations

import argparse
import sys

from .._format import show_path
from ..errors import NoHParamsDataError, OutputError
from ._common import add_source_arguments, read_logdir

DESCRIPTION = """\
Read a TensorBoard logdir (no TensorFlow needed) and write one row/object per HParams session:
its run path, group, status, start/end time, hyperparameters and metric values.

Formats: csv (the flat table, session first), json (a list of objects with "session", "group",
"status", "start_time", "end_time", "hparams" and "metrics"; NaN/inf become null), parquet
(needs pyarrow). The format comes from --format, else from the -o file's suffix; without -o the
output goes to stdout as CSV (JSON with --format json; Parquet needs -o).

Damaged records (truncated, bad CRC) are skipped with one warning line each on stderr; every
intact record is used. Exit status: 0 ok (also with warnings), 2 unusable input or output.
"""

EPILOG = """\
examples:
  hparams-tools export logs/flowers                       # CSV to stdout
  hparams-tools export logs/flowers -o results.json       # format from the suffix
  hparams-tools export logs/flowers -o r.parquet --value max
  hparams-tools export logs/flowers --format json --value mean-last-3 | jq '.[0]'
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export HParams sessions (hparams + metrics) as CSV, JSON or Parquet",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("logdir", metavar="LOGDIR", help="TensorBoard log directory (searched recursively)")
    parser.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    parser.add_argument(
        "--format", choices=None, metavar="{csv,json,parquet}",
        help="output format (default: from the -o suffix; csv on stdout)",
    )
    parser.add_argument(
        "--value", default="last", metavar="MODE",
        help="metric value per session: last (TensorBoard's; default), max, min or mean-last-K (e.g. mean-last-3)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools export``; returns the exit status (errors are raised, never sys.exit)."""
    from .._files import check_writable
    from ..io.experiment import parse_value_mode
    from ..io.export import export, render, resolve_format

    # Validate everything cheap before reading the logdir.
    parse_value_mode(args.value)
    fmt = resolve_format(args.output, args.format)
    if args.output is None and fmt == "parquet":
        raise OutputError("parquet is a binary format: give an output file, e.g. -o results.parquet")
    if args.output is not None:
        check_writable(args.output)

    experiment = read_logdir(args.logdir, "export", quiet=args.quiet, options=args)
    if len(experiment.sessions) == 0:
        raise NoHParamsDataError(f"{args.logdir}: no HParams sessions found")

    if args.output is None:
        sys.stdout.write(render(experiment, fmt, args.value))
        sys.stdout.flush()
    else:
        export(experiment, args.output, format=fmt, value=args.value)
        if not args.quiet:
            n = len(experiment.sessions)
            print(f"hparams-tools export: wrote {n} session{'s' * (n != 1)} to {show_path(args.output)}", file=sys.stderr)
    return 0
