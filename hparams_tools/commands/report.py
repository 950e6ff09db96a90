"""``hparams-tools report``: one self-contained offline HTML report of one or several sweeps."""

from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import DamagedFileWarning

DESCRIPTION = """\
Write ONE self-contained HTML file (inline plotly.js, styles and images; no CDN, no network
request) that opens anywhere: overview (sessions by status, best configuration and score, sweep
time), a sortable leaderboard of all sessions, findings, importances, interactive plots (parallel
coordinates with brushing, rotatable 3D scatter and surface, contour, learning curves) and static
ones (slices, scatter matrix, group means), the suggested next search space with the command to
run it, and data-quality notes (dropped/imputed values, damaged files skipped).

With several logdirs, they are compared side by side (overview columns, best so far against
trials and epochs). The suggested space is also written beside the report (in the -o file's
directory, not the current one) as <report stem>_next_space.yaml (--no-space-file to skip); the
command prints where, with the command that runs it.

A logdir without sessions is reported as such. Exit status: 0 ok, 2 bad input (missing logdir,
unknown --target, unwritable output; nothing is half-written).
"""

EPILOG = """\
examples:
  hparams-tools report logs/flowers/default -o report.html
  hparams-tools report logs/random logs/bayesian -o compare.html --target validation/epoch_loss
  hparams-tools report logs/flowers/default -o r.html --value max --seed 1 --quiet
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained offline HTML report (plots, leaderboard, findings, next space)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("logdirs", nargs="+", metavar="LOGDIR", help="TensorBoard log directories (compared side by side)")
    parser.add_argument("-o", "--output", metavar="FILE", default="report.html", help="HTML file to write (default: report.html)")
    parser.add_argument("--target", metavar="METRIC",
                        help="target metric, e.g. validation/epoch_accuracy (default: the declared objective)")
    parser.add_argument("--goal", choices=("maximize", "minimize"), help="default: the objective's, else from the metric name")
    parser.add_argument("--value", default="last", metavar="MODE",
                        help="metric value per session: last (default), max, min or mean-last-K")
    parser.add_argument("--seed", type=int, default=0, help="seed of the analysis and the plots' sampling (default: 0)")
    parser.add_argument("--title", help="page title")
    parser.add_argument("--max-points", type=int, default=2000, metavar="N",
                        help="sessions drawn at most per plot; a seeded sample beyond (default: 2000)")
    parser.add_argument("--no-space-file", action="store_true", help="do not write the suggested space beside the report")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    from ._common import add_source_arguments

    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools report``; returns the exit status (errors are raised)."""
    from ..io.sources import detect_kind
    from ..report import write_report
    from ._common import read_logdir

    def said(path, command: str) -> None:  # where the space file went, and how to run it
        if not args.quiet:
            print(f"wrote the suggested next space to {path}\n  run it with: {command}", file=sys.stderr)

    # other sources (and a restarted run's last attempt) are read here, their notes printed; plain
    # TensorBoard logdirs are read by the report, which lists their damage in its data-quality section
    sources = [d if detect_kind(d, args.source_kind) == "tensorboard" and args.attempts == "first"
               else read_logdir(d, "report", quiet=args.quiet, options=args)
               for d in args.logdirs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)  # the report lists damage in its data-quality section
        path = write_report(
            sources, args.output, target=args.target, goal=args.goal, value=args.value, seed=args.seed,
            title=args.title, progress=not args.quiet, write_space=not args.no_space_file, max_points=args.max_points,
            on_space_file=said,
        )
    if not args.quiet:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0
