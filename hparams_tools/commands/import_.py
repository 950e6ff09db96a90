"""``hparams-tools import``: any sweep (keras-tuner, Optuna, MLflow, a table of runs) as a TensorBoard HParams logdir."""

from __future__ import annotations

import argparse
import sys

from ._common import add_source_arguments, read_logdir

DESCRIPTION = """\
Read a sweep that wrote no TensorBoard HParams data and write it as a TensorBoard HParams logdir
(through hparams-tools' own event writer; no TensorFlow needed): the experiment with its
hyperparameter domains and display names, one session per trial/run with its group, status and
start/end times, and every metric with all its steps. Then `tensorboard --logdir LOGDIR` shows the
sweep in the HParams tab, and every hparams-tools command reads it like any other logdir.

SOURCE (detected; --source-kind overrides):
  keras-tuner  a project directory (oracle.json, trial_*/trial.json), or the directory holding one
  optuna       sqlite:///study.db, another RDB URL, or a journal file (--study NAME if several)
  mlflow       an mlruns/ file store (--study NAME picks the experiment if several have runs)
  table        .csv/.tsv/.parquet/.jsonl, one row per run (--hparams/--metrics pick the columns;
               default: W&B's config.* / summary.* columns)

What a source lacks (wall times, domains, types) is said in one warning line each; nothing is guessed.
The logdir is written into a temporary directory beside LOGDIR and renamed at the end, so it is never
half-written; a non-empty LOGDIR is replaced only with --overwrite.
Exit status: 0 ok (also with warnings), 2 unusable source or output.
"""

EPILOG = """\
examples:
  hparams-tools import logs/flowers/.keras_tuner/sweep -o logs/kt
  hparams-tools import sqlite:///study.db --study mnist -o logs/optuna
  hparams-tools import journal.log -o logs/optuna
  hparams-tools import mlruns -o logs/mlflow
  hparams-tools import wandb_runs.csv -o logs/wandb --metrics 'summary.val_*'
  tensorboard --logdir logs/optuna
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``import`` subcommand."""
    parser = subparsers.add_parser(
        "import",
        help="write a keras-tuner, Optuna, MLflow or CSV/W&B sweep as a TensorBoard HParams logdir",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("logdir", metavar="SOURCE", help="the sweep to read (see above)")
    parser.add_argument("-o", "--output", required=True, metavar="LOGDIR", help="TensorBoard logdir to write")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty LOGDIR")
    parser.add_argument("-q", "--quiet", action="store_true", help="no status lines (warnings are still printed)")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hparams-tools import``; returns the exit status (errors are raised)."""
    from pathlib import Path

    from ..errors import OutputError
    from ..io.sources import write_logdir

    out = Path(args.output)
    # Check the output before reading a possibly large source.
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; give a directory to write the logdir into")
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise OutputError(f"{out} is not empty; pass --overwrite to replace it, or choose another -o")
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: directory {out.parent} does not exist")
    experiment = read_logdir(args.logdir, "import", quiet=args.quiet, options=args)
    write_logdir(experiment, out, overwrite=args.overwrite)
    if not args.quiet:
        n = len(experiment.sessions)
        print(f"hparams-tools import: wrote {n} session{'s' * (n != 1)} to {out}; "
              f"view it with: tensorboard --logdir {out}", file=sys.stderr)
    return 0
