"""Export an :class:`~hparams_tools.io.experiment.Experiment` as JSON, CSV or Parquet.

JSON is a list with one object per session::

    [{"session": "run-0", "group": "g0", "status": "SUCCESS", "start_time": 1700000000.0,
      "end_time": 1700000100.0, "hparams": {"lr": 0.01, "optimizer": "adam"},
      "metrics": {"validation/epoch_accuracy": 0.91, "train/epoch_loss": null}}]

NaN and infinities become ``null``; a session's missing hparams are left out of its ``"hparams"``.
CSV and Parquet hold the flat table (:meth:`Experiment.table`) with ``session`` as first column.
Every file is written atomically (:func:`hparams_tools._files.atomic_write`).
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_write
from .._format import is_missing, json_safe
from ..errors import HParamsToolsError, OutputError, require

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .experiment import Experiment

__all__ = ["FORMATS", "resolve_format", "session_records", "flat_table", "render", "export"]

FORMATS = ("csv", "json", "parquet")
_SUFFIXES = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_STDOUT_FORMAT = "csv"


def resolve_format(output: str | os.PathLike[str] | None, format: str | None) -> str:
    """Pick the export format: ``format`` if given, else from the output file's suffix.

    Args:
        output: Output path, or ``None`` for standard output (defaults to CSV).
        format: ``"csv"``, ``"json"``, ``"parquet"`` or ``None``.

    Returns:
        The format name.

    Raises:
        HParamsToolsError: for an unknown format or a suffix that names none.
    """
    if format is not None:
        fmt = format.lower()
        if fmt not in FORMATS:
            raise HParamsToolsError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
        return fmt
    if output is None:
        return DEFAULT_STDOUT_FORMAT
    suffix = Path(output).suffix.lower()
    if suffix not in _SUFFIXES:
        raise HParamsToolsError(
            f"cannot tell the format from the file name {str(output)!r}; "
            f"use a .csv, .json or .parquet name or --format {{{','.join(FORMATS)}}}"
        )
    return _SUFFIXES[suffix]


def session_records(experiment: "Experiment", value: str = "last") -> list[dict[str, Any]]:
    """One JSON-ready dict per session (sorted by session name).

    Args:
        experiment: The experiment to export.
        value: Metric value mode (``last``, ``max``, ``min``, ``mean-last-K``).

    Returns:
        ``[{"session", "group", "status", "start_time", "end_time", "hparams", "metrics"}, ...]``.
    """
    sessions = experiment.sessions
    index = sessions.index
    # Whole columns at once (no per-row .loc): 10,000 sessions export in a fraction of a second.
    hparams = experiment.hparams.reindex(index)
    hp_names = [str(c) for c in hparams.columns]
    hp_rows = hparams.astype(object).to_numpy().tolist()
    metrics = experiment.metrics(value).reindex(index)
    metric_names = [str(c) for c in metrics.columns]
    metric_rows = metrics.to_numpy(dtype=float).tolist()
    columns = zip(
        index, sessions["group"].tolist(), sessions["status"].tolist(),
        sessions["start_time"].tolist(), sessions["end_time"].tolist(),
    )
    records = []
    for i, (session, group, status, start, end) in enumerate(columns):
        records.append(
            {
                "session": str(session),
                "group": str(group),
                "status": str(status),
                "start_time": json_safe(start),
                "end_time": json_safe(end),
                "hparams": {n: json_safe(v) for n, v in zip(hp_names, hp_rows[i]) if not is_missing(v)},
                "metrics": {n: (v if math.isfinite(v) else None) for n, v in zip(metric_names, metric_rows[i])},
            }
        )
    return records


def flat_table(experiment: "Experiment", value: str = "last") -> "pd.DataFrame":
    """The flat table (:meth:`Experiment.table`) with ``session`` as its first column."""
    table = experiment.table(value)
    table.index.name = "session"
    return table.reset_index()


def _parquet_safe(table: "pd.DataFrame") -> "pd.DataFrame":
    """Parquet columns need one type: a mixed-type object column (an hparam that is a number in one
    session and a string in another) becomes strings, as TensorBoard's inference treats it."""
    table = table.copy()
    for column in table.columns:
        if table[column].dtype != object:
            continue
        kinds = {type(v) for v in table[column] if not is_missing(v)}
        if len(kinds) > 1:
            table[column] = [None if is_missing(v) else _as_string(v) for v in table[column]]
    return table


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as TensorBoard stringifies bools
    return str(value)


def render(experiment: "Experiment", format: str, value: str = "last") -> str | bytes:
    """Render the export in ``format`` as text (CSV, JSON) or bytes (Parquet)."""
    if format == "json":
        return json.dumps(session_records(experiment, value), indent=2, allow_nan=False) + "\n"
    if format == "csv":
        return flat_table(experiment, value).to_csv(index=False, lineterminator="\n")
    if format == "parquet":
        require("pyarrow")
        buffer = io.BytesIO()
        _parquet_safe(flat_table(experiment, value)).to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise HParamsToolsError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")


def export(
    experiment: "Experiment",
    output: str | os.PathLike[str],
    *,
    format: str | None = None,
    value: str = "last",
) -> Path:
    """Write ``experiment`` to ``output`` atomically (an existing file is replaced only on success).

    Args:
        experiment: The experiment to export.
        output: Destination file.
        format: ``csv``, ``json`` or ``parquet``; from the suffix of ``output`` when ``None``.
        value: Metric value mode.

    Returns:
        The path written.

    Raises:
        OutputError: if ``output`` cannot be written.
        HParamsToolsError: for an unknown format or value mode.
    """
    output = Path(output)
    data = render(experiment, resolve_format(output, format), value)
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with atomic_write(output, mode) as fh:
            fh.write(data)
    except PermissionError as exc:
        raise OutputError(f"cannot write {output}: permission denied") from exc
    return output
