"""Other sweep sources as the same :class:`~hparams_tools.io.experiment.Experiment`.

``read_experiment(source)`` detects what ``source`` is (:func:`detect_kind`) and, for anything but a
TensorBoard logdir, calls :func:`read_source`:

============== ======================================================= =============================
kind           source                                                  module
============== ======================================================= =============================
keras-tuner    project directory (``oracle.json``, ``trial_*/``)       :mod:`.keras_tuner`
optuna         ``sqlite:///study.db``, another RDB URL, a journal file :mod:`.optuna`
mlflow         ``mlruns/`` file store                                  :mod:`.mlflow`
table          ``.csv``/``.tsv``/``.parquet``/``.jsonl`` of runs       :mod:`.table`
============== ======================================================= =============================

:func:`write_logdir` writes any experiment as a TensorBoard HParams logdir (``hparams-tools import``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ._runs import SourceError, Sweep
from .detect import KINDS, detect_kind

if TYPE_CHECKING:  # pragma: no cover
    from ._build import ImportedExperiment


def __getattr__(name: str):
    # The model builder pulls in pandas; the CLI's parser only needs KINDS, so load it on first use.
    if name == "ImportedExperiment":
        from ._build import ImportedExperiment

        return ImportedExperiment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["KINDS", "detect_kind", "read_source", "read_sweep", "ImportedExperiment", "SourceError",
           "write_logdir"]


def read_sweep(
    source: str | os.PathLike[str],
    kind: str,
    *,
    study: str | None = None,
    hparams: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> Sweep:
    """Read ``source`` of ``kind`` into a plain :class:`Sweep` (see :func:`read_source`)."""
    text = os.fspath(source)
    if (hparams or metrics) and kind != "table":
        raise SourceError(f"--hparams/--metrics choose columns of a table of runs; {text} is a {kind} source")
    if kind == "keras-tuner":
        from .keras_tuner import read_keras_tuner

        return read_keras_tuner(text, project=study)
    if kind == "optuna":
        from .optuna import read_optuna

        return read_optuna(text, study=study)
    if kind == "mlflow":
        from .mlflow import read_mlflow

        return read_mlflow(text, experiment=study)
    if kind == "table":
        from .table import read_table

        if study is not None:
            raise SourceError("--study picks an Optuna study, MLflow experiment or keras-tuner project; "
                              f"{text} is a table")
        return read_table(text, hparams=list(hparams or []) or None, metrics=list(metrics or []) or None)
    raise SourceError(f"unknown source kind {kind!r}; use one of {', '.join(KINDS)}")


def read_source(
    source: str | os.PathLike[str],
    kind: str,
    *,
    study: str | None = None,
    hparams: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> "ImportedExperiment":
    """Read a non-TensorBoard source into an :class:`ImportedExperiment`.

    Args:
        source: Path or URL.
        kind: ``keras-tuner``, ``optuna``, ``mlflow`` or ``table`` (see :func:`detect_kind`).
        study: Optuna study, MLflow experiment or keras-tuner project, when the source holds several.
        hparams: Table only: hyperparameter columns (names or shell patterns).
        metrics: Table only: metric columns (names or shell patterns).

    Returns:
        The experiment; :attr:`ImportedExperiment.notes` says what the source lacks.

    Raises:
        SourceError: the source cannot be used (one line saying why and what to do).
        MissingDependencyError: an optional dependency the source needs is missing.
    """

    from ._build import ImportedExperiment

    def reread() -> Sweep:
        return read_sweep(source, kind, study=study, hparams=hparams, metrics=metrics)

    return ImportedExperiment(source, reread(), reread)


def write_logdir(experiment, logdir: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``experiment`` as a TensorBoard HParams logdir; see :func:`.write.write_logdir`."""
    from .write import write_logdir as _write

    return _write(experiment, logdir, overwrite=overwrite)
