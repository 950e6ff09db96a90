"""Options and reading shared by ``analyze`` and ``suggest``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import HParamsToolsError


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction such as 0.2, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (e.g. 0.2 for the best 20%), got {text}")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add LOGDIR, --target, --goal, --value, --seed, --top and --quiet."""
    parser.add_argument("logdir", metavar="LOGDIR", help="TensorBoard log directory of the sweep (searched recursively)")
    parser.add_argument("--target", metavar="METRIC",
                        help="metric to explain, as the export names it (e.g. validation/epoch_accuracy); default: "
                             "the declared objective, else the first validation accuracy-like metric")
    parser.add_argument("--goal", choices=("maximize", "minimize"),
                        help="default: the objective's goal, else minimize for names with loss/error, else maximize")
    parser.add_argument("--value", default="last", metavar="MODE",
                        help="metric value per session: last (TensorBoard's; default), max, min or mean-last-K")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random step (default: 0)")
    parser.add_argument("--top", type=_fraction, default=0.2, metavar="FRACTION",
                        help="fraction of best sessions that defines the promising region (default: 0.2)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or status lines")
    from ._common import add_source_arguments

    add_source_arguments(parser)


def run_analysis(args: argparse.Namespace, command: str) -> Any:
    """Read the logdir and analyse it; damaged records become one warning line each on stderr."""
    from ..analysis import analyze
    from ..io.experiment import parse_value_mode
    from ._common import read_logdir

    parse_value_mode(args.value)
    if args.seed < 0:
        raise HParamsToolsError(f"--seed must be a non-negative integer, got {args.seed}")
    show = not args.quiet and sys.stderr.isatty()
    experiment = read_logdir(args.logdir, command, quiet=args.quiet, options=args)
    return analyze(experiment, target=args.target, goal=args.goal, value=args.value, seed=args.seed,
                   top=args.top, progress=show)
