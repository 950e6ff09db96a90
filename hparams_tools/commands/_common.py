"""What every subcommand that reads a logdir does the same way."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING

from ..errors import DamagedFileWarning, ExperimentConflictWarning

if TYPE_CHECKING:  # pragma: no cover
    from ..io.experiment import Experiment


def read_logdir(logdir: str, command: str, *, quiet: bool, attempts: str = "first") -> "Experiment":
    """Read ``logdir`` for ``hparams-tools COMMAND``.

    A progress bar is shown on a terminal unless ``quiet``; each damaged record
    becomes one line ``hparams-tools COMMAND: warning: <file>: <reason> at byte
    <offset> (skipped)`` on stderr instead of Python's warning format.
    """
    from ..io.experiment import read_experiment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)
        warnings.simplefilter("ignore", ExperimentConflictWarning)  # said below, in one line
        experiment = read_experiment(logdir, progress=not quiet and sys.stderr.isatty(), attempts=attempts)
    if experiment.experiment_conflict:
        print(f"hparams-tools {command}: warning: {experiment.experiment_conflict}", file=sys.stderr)
    for damage in experiment.damage:
        print(f"hparams-tools {command}: warning: {damage.path}: {damage.reason} at byte {damage.offset} (skipped)",
              file=sys.stderr)
    return experiment
