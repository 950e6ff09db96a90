"""Which kind of source a path or URL is.

Cheap checks only (a directory listing, a ``stat`` or two per child, the first bytes of a file), in order: a URL with a
scheme is an Optuna RDB storage; a directory with event files at its top is a TensorBoard logdir; another
directory is a keras-tuner project if it (or one child) holds
``oracle.json``, an MLflow file store if it (or its children) are experiments with ``meta.yaml``,
and otherwise a TensorBoard logdir (the reader then says if it holds no event files); a file is a
table by its suffix, an Optuna SQLite storage by its header or suffix, or an Optuna journal when its
first line is a journal operation. A missing path is left to the TensorBoard reader's message.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._runs import SourceError

__all__ = ["KINDS", "detect_kind"]

KINDS = ("tensorboard", "keras-tuner", "optuna", "mlflow", "table")
MAX_PROBED_ENTRIES = 256  # a directory with more entries is taken for a TensorBoard logdir without probing them


def detect_kind(source: str | os.PathLike[str], kind: str | None = None) -> str:
    """The kind of ``source``: one of :data:`KINDS`.

    Args:
        source: Path or URL.
        kind: An explicit kind (``--source-kind``) that overrides detection (validated).

    Raises:
        SourceError: an unknown ``kind``, or a file that is no source this tool reads.
    """
    if kind is not None:
        if kind not in KINDS:
            raise SourceError(f"unknown source kind {kind!r}; use one of {', '.join(KINDS)}")
        return kind
    text = os.fspath(source)
    if "://" in text:
        return "optuna"
    path = Path(text)
    if path.is_dir():
        names = _entry_names(path)
        # the usual logdir (an experiment file at its root), or one with many runs: no further look. A keras-tuner
        # directory or an MLflow store holds a few projects/experiments; probing thousands of run directories
        # for oracle.json/meta.yaml would cost a fifth of reading them (--source-kind names any other case)
        if any(n.startswith("events.out.tfevents.") for n in names) or len(names) > MAX_PROBED_ENTRIES:
            return "tensorboard"
        from .keras_tuner import is_keras_tuner
        from .mlflow import is_mlflow

        for probe, found in ((is_keras_tuner, "keras-tuner"), (is_mlflow, "mlflow")):
            try:
                if probe(path):
                    return found
            except OSError:  # an unreadable sub-directory: the TensorBoard reader reports it as damage
                continue
        return "tensorboard"
    if path.is_file():
        from .optuna import SQLITE_SUFFIXES, is_journal, is_sqlite_file
        from .table import TABLE_SUFFIXES

        if path.suffix.lower() in TABLE_SUFFIXES:
            return "table"
        if is_sqlite_file(path) or path.suffix.lower() in SQLITE_SUFFIXES:
            return "optuna"
        if is_journal(path):
            return "optuna"
        raise SourceError(
            f"{path} is not a directory (a TensorBoard logdir) nor a file hparams-tools reads; give a logdir, a keras-tuner "
            "project directory, an Optuna storage (sqlite:///study.db or a journal file), an MLflow mlruns/ "
            "directory or a .csv/.parquet/.jsonl table of runs (or name the kind with --source-kind)"
        )
    return "tensorboard"


def _entry_names(path: Path) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return [e.name for e in entries]
    except OSError:
        return []
