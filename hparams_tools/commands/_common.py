"""What every subcommand that reads a logdir does the same way."""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import TYPE_CHECKING

from ..errors import DamagedFileWarning, ExperimentConflictWarning

if TYPE_CHECKING:  # pragma: no cover
    from ..io.experiment import Experiment


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--source-kind``, ``--study``, ``--hparams``, ``--metrics``: read other sweeps than a TensorBoard logdir."""
    group = parser.add_argument_group(
        "other sources", "LOGDIR may also be a keras-tuner project directory, an Optuna storage (sqlite:///study.db, "
        "an RDB URL, a journal file), an MLflow mlruns/ directory or a .csv/.parquet/.jsonl table of runs")
    from ..io.sources.detect import KINDS

    group.add_argument("--source-kind", choices=KINDS,
                       help="what LOGDIR is (default: detected)")
    group.add_argument("--study", metavar="NAME",
                       help="Optuna study, MLflow experiment or keras-tuner project, when the source holds several")
    group.add_argument("--hparams", type=_columns, metavar="COLS",
                       help="table: hyperparameter columns, comma-separated names or patterns (default: config.*)")
    group.add_argument("--metrics", type=_columns, metavar="COLS",
                       help="table: metric columns, comma-separated names or patterns (default: summary.*)")
    parser.add_argument("--attempts", choices=("first", "last"), default="first",
                        help="a TensorBoard run restarted after a crash (two session start infos): 'first' is "
                             "TensorBoard's rule (the crashed attempt's hparams and end status), 'last' shows the "
                             "last attempt (default: first)")


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def read_logdir(logdir: str, command: str, *, quiet: bool, options: argparse.Namespace | None = None) -> "Experiment":
    """Read ``logdir`` (or another sweep source) for ``hparams-tools COMMAND``.

    A progress bar is shown on a terminal unless ``quiet``; each damaged record
    becomes one line ``hparams-tools COMMAND: warning: <file>: <reason> at byte
    <offset> (skipped)`` on stderr instead of Python's warning format. For another
    source, ``options`` carries :func:`add_source_arguments`' values; what was used
    for what is printed (unless ``quiet``) and each thing the source lacks is one
    warning line.
    """
    from ..io.read import read_experiment

    source = {k: getattr(options, k, None) for k in ("source_kind", "study", "hparams", "metrics")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)
        warnings.simplefilter("ignore", ExperimentConflictWarning)  # said below, in one line
        experiment = read_experiment(logdir, progress=not quiet and sys.stderr.isatty(),
                                     attempts=getattr(options, "attempts", "first"), **source)
    if getattr(experiment, "experiment_conflict", None):
        print(f"hparams-tools {command}: warning: {experiment.experiment_conflict}", file=sys.stderr)
    for damage in experiment.damage:
        print(f"hparams-tools {command}: warning: {damage.path}: {damage.reason} at byte {damage.offset} (skipped)",
              file=sys.stderr)
    if not quiet:
        for line in getattr(experiment, "choices", []):
            print(f"hparams-tools {command}: {line}", file=sys.stderr)
    for note in getattr(experiment, "notes", []):
        print(f"hparams-tools {command}: warning: {note}", file=sys.stderr)
    return experiment
