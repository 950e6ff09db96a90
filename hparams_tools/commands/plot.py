"""``hparams-tools plot``: write any single plot of a logdir as PNG, SVG or PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._format import show_path
from ..errors import OutputError
from ._common import add_source_arguments, read_logdir

FORMATS = ("png", "svg", "pdf")


def _kinds_help() -> str:
    from ..visualization import PLOT_KINDS

    return "\n".join(f"  {k:<15} {desc}" for k, (_, desc) in PLOT_KINDS.items())


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``plot`` subcommand."""
    from ..visualization import PLOT_KINDS

    parser = subparsers.add_parser(
        "plot",
        help="write one plot (parallel, slices, contour, ...) as PNG, SVG or PDF",
        description=("Draw one plot of a logdir with matplotlib and write it to a file; the format comes from the "
                     "-o suffix (png, svg or pdf).\n\nkinds:\n" + _kinds_help()),
        epilog=("examples:\n  hparams-tools plot parallel logs/flowers -o parallel.png\n"
                "  hparams-tools plot contour logs/flowers -o contour.svg --target validation/epoch_loss\n"
                "  hparams-tools plot history logs/random logs/bayesian -o history.pdf"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=list(PLOT_KINDS), metavar="KIND", help="plot kind (listed above)")
    parser.add_argument("logdirs", nargs="+", metavar="LOGDIR", help="log directory (several only for 'history')")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="output file: .png, .svg or .pdf")
    parser.add_argument("--target", metavar="METRIC", help="target metric (default: the declared objective)")
    parser.add_argument("--goal", choices=("maximize", "minimize"), help="default: the objective's, else from the name")
    parser.add_argument("--value", default="last", metavar="MODE", help="last (default), max, min or mean-last-K")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling / the contour's forest (default: 0)")
    parser.add_argument("--dpi", type=int, default=120, help="resolution of PNG output (default: 120)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools plot``; returns the exit status (errors are raised)."""
    from .._files import atomic_write, check_writable
    from ..io.experiment import parse_value_mode
    from ..visualization import PLOT_KINDS

    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(f"cannot tell the format of {show_path(out)}: use a .png, .svg or .pdf file name")
    check_writable(out)
    parse_value_mode(args.value)
    if len(args.logdirs) > 1 and args.kind != "history":
        raise OutputError(f"plot {args.kind} takes one LOGDIR; only 'history' compares several")
    exps = [read_logdir(d, "plot", quiet=args.quiet, options=args) for d in args.logdirs]
    fn = PLOT_KINDS[args.kind][0]
    opts = dict(target=args.target, goal=args.goal, value=args.value)
    if args.kind == "history":
        fig = fn(exps, **opts)
    elif args.kind == "importance":
        from ..analysis import analyze
        from ..visualization import plot_data

        data = plot_data(exps[0], **opts)
        fig = fn(analyze(exps[0], target=data.target, goal=data.goal, value=args.value, seed=args.seed,
                         progress=not args.quiet and sys.stderr.isatty()))
    elif args.kind == "groups":
        fig = fn(exps[0], **opts)
    else:
        fig = fn(exps[0], seed=args.seed, **opts)
    with atomic_write(out, "wb") as fh:
        fig.savefig(fh, format=fmt, dpi=args.dpi)
    if not args.quiet:
        print(f"wrote {show_path(out)}", file=sys.stderr)
    return 0
