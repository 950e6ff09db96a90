"""``read_experiment``: the one entry point that reads any sweep source as an :class:`Experiment`.

It sits above :mod:`.experiment` (TensorBoard logdirs) and :mod:`.sources` (keras-tuner, Optuna,
MLflow, tables), which both build the same model; keeping the dispatch here keeps the two
free of each other (no import circle).
"""

from __future__ import annotations

import os
from typing import Sequence

from ..errors import HParamsToolsError
from .experiment import Experiment, read_tensorboard
from .sources import detect_kind, read_source

__all__ = ["read_experiment"]


def read_experiment(
    logdir: str | os.PathLike[str],
    *,
    progress: bool = False,
    workers: int | None = None,
    attempts: str = "first",
    source_kind: str | None = None,
    study: str | None = None,
    hparams: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> Experiment:
    """Read a TensorBoard HParams logdir, or another sweep source as the same model.

    Args:
        logdir: The directory given to TensorBoard as ``--logdir``; or a keras-tuner project
            directory, an Optuna storage (``sqlite:///study.db``, an RDB URL, a journal file), an
            MLflow ``mlruns/`` directory or a table of runs (``.csv``/``.parquet``/``.jsonl``),
            see :mod:`hparams_tools.io.sources`.
        progress: Show a progress bar (tqdm) while parsing.
        workers: Processes used to parse; ``None`` forks a second process for big logdirs
            (from 6,000 event files) when the machine has an idle CPU (measured while the
            logdir is scanned), and uses one process otherwise; ``1`` never starts workers.
        attempts: Which attempt of a run restarted after a crash (two event files, two session
            start infos) the session shows. ``"first"`` is TensorBoard's rule: the first start
            info (the crashed attempt's hparams) and the first end info (often its FAILURE);
            ``"last"`` takes the last start info and the end info of that attempt (UNKNOWN if it
            wrote none). Scalars of all attempts are kept either way (the last value read is the
            last attempt's).
        source_kind: ``tensorboard``, ``keras-tuner``, ``optuna``, ``mlflow`` or ``table``;
            detected when ``None``.
        study: The Optuna study, MLflow experiment or keras-tuner project when a source holds several.
        hparams: For a table: hyperparameter columns (names or shell patterns).
        metrics: For a table: metric columns (names or shell patterns).

    Returns:
        The :class:`Experiment`.

    Raises:
        LogdirError: the path does not exist, is not a directory or holds no event files.
        EventFileError: no event file could be read at all.
        NoHParamsDataError: event files but no HParams session data.
        HParamsToolsError: ``attempts`` is not ``"first"`` or ``"last"``.

    Damaged records are skipped with a :class:`~hparams_tools.errors.DamagedFileWarning`
    naming the file and offset; they are listed in :attr:`Experiment.damage`.
    """
    kind = detect_kind(logdir, source_kind)
    if kind != "tensorboard":
        return read_source(logdir, kind, study=study, hparams=hparams, metrics=metrics)
    if study is not None or hparams or metrics:
        raise HParamsToolsError("--study, --hparams and --metrics apply to other sources, not a TensorBoard logdir")
    return read_tensorboard(logdir, progress=progress, workers=workers, attempts=attempts)
