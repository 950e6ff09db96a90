"""``hparams-tools suggest``: write the next search space of a sweep as a space file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._format import show_path
from ._analysis_args import add_common, run_analysis

DESCRIPTION = """\
Analyse a sweep (as `hparams-tools analyze` does) and write the next search space as a YAML space file
that `python -m training.sweep --space FILE` runs directly. The file names a new experiment
(<name>-next, then <name>-next2...), and the command printed at the end runs it into a new logdir
beside the analysed one.

Per hyperparameter: the range of the best --top fraction of sessions (default 20%), widened by a margin
(in log space for log-scaled ones) and pushed beyond a searched bound where the best sessions sit at it;
categories and grid values kept where they occur among the best; hyperparameters that no method finds
important fixed at the best session's value; a recommended method (grid around the best when the narrowed
space is small, else Bayesian optimisation). Every parameter carries a comment saying why.

The file is written atomically (an existing file is replaced only by a complete, valid one).
Exit status: 0 ok, 2 unusable input or an unwritable output path.
"""

EPILOG = """\
examples:
  hparams-tools suggest logs/flowers -o next_space.yaml
  hparams-tools suggest logs/flowers -o next.yaml --top 0.1 --target validation/epoch_loss
  python -m training.sweep --space next_space.yaml --logdir logs/flowers-next
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``suggest`` subcommand."""
    parser = subparsers.add_parser(
        "suggest", help="write the next search space (YAML) from a sweep's results",
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser)
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="space file to write (YAML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools suggest``; returns the exit status (errors are raised)."""
    from .._files import check_writable
    from ..space import next_space_command, save_space

    out = Path(args.output)
    check_writable(out)  # before the analysis: fail fast
    result = run_analysis(args, "suggest")
    save_space(result.next_space, out, comments=result.next_space_comments, header=result.next_space_header)
    if not args.quiet:
        space = result.next_space
        free = [n for n, p in space.parameters.items() if not p.is_fixed]
        fixed = [n for n, p in space.parameters.items() if p.is_fixed]
        print(f"hparams-tools suggest: wrote {show_path(out)}: method {space.method}, {len(free)} searched "
              f"({', '.join(free) or 'none'}), {len(fixed)} fixed ({', '.join(fixed) or 'none'})", file=sys.stderr)
        print(f"run it with: {next_space_command(out, args.logdir)}", file=sys.stderr)
    return 0
