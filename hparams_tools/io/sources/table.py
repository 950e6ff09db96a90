"""A table of runs (CSV/TSV, Parquet or JSON lines), e.g. a Weights & Biases runs export, as a sweep.

One row per run. Which columns are hyperparameters and which are metrics:

* ``--hparams`` / ``--metrics``: comma-separated column names or shell patterns (``'val_*'``);
* by default, W&B's layouts: ``config.<name>`` columns are hyperparameters and ``summary.<name>``
  columns are metrics (the ``pd.json_normalize`` export and nested JSON lines), and ``config`` /
  ``summary`` columns holding JSON objects (the ``runs.summary._json_dict`` export) are expanded
  into those; W&B's own ``summary._*`` entries (``_runtime``, ``_step``...) are not metrics;
* with ``--metrics`` alone, every other column that is not the run's name, state or time is a
  hyperparameter.

The run name comes from a ``name``/``Name``/``run``/``id`` column, the status from
``state``/``State``/``status`` (finished -> SUCCESS; failed, crashed, killed -> FAILURE;
running -> RUNNING; else UNKNOWN), start time from ``created``/``Created``/``created_at`` and the
end from a runtime column. The choice is reported (``Sweep.choices``), and every text column whose
values all parse as numbers is read as numbers (CSV holds only text).

A table has one value per metric, so each metric is written at one step (``_step`` when given).
"""

from __future__ import annotations

import fnmatch
import json
import math
from pathlib import Path

from dataclasses import replace

from ...errors import require
from .._semantics import infer_hparam_infos
from ._runs import (
    MAX_LINE_BYTES,
    MAX_TABLE_BYTES,
    Run,
    SourceError,
    Sweep,
    check_size,
    metric_key,
    numbers_from_strings,
    unique_names,
)

__all__ = ["read_table", "TABLE_SUFFIXES", "STATUS"]

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson")
NAME_COLUMNS = ("name", "Name", "run_name", "run", "Run", "display_name", "id", "ID", "run_id")
STATUS_COLUMNS = ("state", "State", "status", "Status")
START_COLUMNS = ("created", "Created", "created_at", "createdAt", "start_time")
RUNTIME_COLUMNS = ("runtime", "Runtime", "summary._runtime", "_runtime")
STEP_COLUMNS = ("summary._step", "_step")
STATUS = {**dict.fromkeys(("finished", "success", "succeeded", "completed", "complete", "ok"), "SUCCESS"),
          **dict.fromkeys(("failed", "failure", "crashed", "killed", "error", "fail"), "FAILURE"),
          "running": "RUNNING"}
_PREFIXES = ("config.", "summary.")


def _load(path: Path) -> list[dict]:
    """Rows as dicts of column -> value (text for CSV/TSV, typed for Parquet/JSON lines)."""
    check_size(path, MAX_TABLE_BYTES, "a table of runs")
    suffix = _format(path)
    if suffix in (".csv", ".tsv"):
        import csv

        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                rows = [dict(r) for r in reader]
                header = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(f"{path} is not a readable CSV file ({exc})") from None
        if len(set(header)) != len(header):
            raise SourceError(f"{path}: duplicate column names in the header")
        return [{k: v for k, v in r.items() if k is not None} for r in rows]
    if suffix in (".parquet", ".pq"):
        pq = require("pyarrow.parquet", extra="analysis")
        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a damaged file
            raise SourceError(f"{path} is not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    rows = []
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            if len(line) > MAX_LINE_BYTES:
                raise SourceError(f"{path}: line {n} is longer than {MAX_LINE_BYTES // 2**20} MiB")
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise SourceError(f"{path}: line {n} is not JSON; expected one JSON object per line") from None
            if not isinstance(row, dict):
                raise SourceError(f"{path}: line {n} is not a JSON object")
            rows.append(_flatten(row))
    return rows


def _format(path: Path) -> str:
    """The table's format from its suffix, else from its first bytes (``--source-kind table``)."""
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return suffix
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.lstrip().startswith(b"{"):
        return ".jsonl"
    return ".tsv" if head.split(b"\n", 1)[0].count(b"\t") > head.split(b"\n", 1)[0].count(b",") else ".csv"


def _flatten(row: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _expand_json_columns(rows: list[dict], columns: list[str]) -> list[str]:
    """W&B's API export writes ``config``/``summary`` as JSON objects (``{...}`` text or dicts)."""
    expanded = []
    for col in ("config", "summary"):
        if col not in columns:
            continue
        parsed = []
        for r in rows:
            v = r.get(col)
            if isinstance(v, str) and v.strip().startswith("{"):
                try:
                    v = json.loads(v)
                except ValueError:
                    try:  # pandas' to_csv of a dict writes its repr: single quotes
                        v = json.loads(v.replace("'", '"'))
                    except ValueError:
                        v = None
            parsed.append(v if isinstance(v, dict) or v in (None, "") else None)
        if all(isinstance(v, dict) or v in (None, "") for v in parsed) and any(isinstance(v, dict) for v in parsed):
            for r, v in zip(rows, parsed):
                r.pop(col, None)
                r.update(_flatten(v, f"{col}.") if isinstance(v, dict) else {})
            expanded.append(col)
    return expanded


def _columns(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            seen.setdefault(k, None)
    return list(seen)


def _match(patterns: list[str], columns: list[str], option: str) -> list[str]:
    chosen: list[str] = []
    for pattern in patterns:
        hits = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
        if not hits:
            raise SourceError(f"{option} {pattern!r} matches no column; columns: {', '.join(columns)}")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def _first(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def _typed(name: str, values: list, notes: list[str]) -> list:
    """Text columns become numbers/bools when every value parses; typed values stay as they are."""
    if all(v is None or isinstance(v, str) for v in values):
        return numbers_from_strings(name, values, "column", notes)
    out = []
    for v in values:
        if isinstance(v, float) and math.isnan(v):
            v = None
        out.append(float(v) if isinstance(v, int) and not isinstance(v, bool) else v)
    return out


def _strip(column: str) -> str:
    for prefix in _PREFIXES:
        if column.startswith(prefix):
            return column[len(prefix):]
    return column


def _time(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        from datetime import datetime, timezone

        try:  # seconds (a runtime, a Unix time) or an ISO date
            return float(value)
        except ValueError:
            pass
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return math.nan
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return math.nan


def read_table(path: str | Path, *, hparams: list[str] | None = None, metrics: list[str] | None = None) -> Sweep:
    """Read a table of runs.

    Args:
        path: A ``.csv``/``.tsv``, ``.parquet`` or ``.jsonl``/``.ndjson`` file, one row per run.
        hparams: Hyperparameter columns (names or shell patterns); default: ``config.*``.
        metrics: Metric columns (names or shell patterns); default: ``summary.*`` without ``summary._*``.

    Returns:
        The :class:`Sweep`; ``Sweep.choices`` says which columns were used for what.

    Raises:
        SourceError: unreadable file, no rows, no metric column, a non-numeric metric column.
    """
    path = Path(path)
    rows = _load(path)
    if not rows:
        raise SourceError(f"{path} has no rows")
    columns = _columns(rows)
    expanded = _expand_json_columns(rows, columns)
    columns = _columns(rows)
    sweep = Sweep("table", str(path))
    name_col = _first(NAME_COLUMNS, columns)
    status_col = _first(STATUS_COLUMNS, columns)
    start_col = _first(START_COLUMNS, columns)
    runtime_col = _first(RUNTIME_COLUMNS, columns)
    step_col = _first(STEP_COLUMNS, columns)
    roles = {c for c in (name_col, status_col, start_col, runtime_col, step_col) if c}

    if metrics:
        metric_cols = _match(metrics, columns, "--metrics")
    else:
        metric_cols = [c for c in columns if c.startswith("summary.") and not c.startswith("summary._")]
    if not metric_cols:
        raise SourceError(
            f"{path} has no metric column (no summary.* columns); name them with --metrics COL[,COL...] "
            f"(columns: {', '.join(columns[:20])}{'...' if len(columns) > 20 else ''})")
    if hparams:
        hparam_cols = _match(hparams, columns, "--hparams")
    elif any(c.startswith("config.") for c in columns):
        hparam_cols = [c for c in columns if c.startswith("config.") and not c.startswith("config._")]
    elif metrics:
        hparam_cols = [c for c in columns if c not in roles and c not in metric_cols]
    else:
        hparam_cols = []
    if set(hparam_cols) & set(metric_cols):
        raise SourceError(f"column(s) {', '.join(sorted(set(hparam_cols) & set(metric_cols)))} chosen both as "
                          "hyperparameter and metric; narrow --hparams or --metrics")

    names = unique_names([str(r.get(name_col) or f"row-{i}") if name_col else f"row-{i:0{len(str(len(rows)))}d}"
                          for i, r in enumerate(rows)])
    runs = [Run(name=n) for n in names]
    for run, r in zip(runs, rows):
        state = str(r.get(status_col) or "").strip().lower() if status_col else ""
        run.status = STATUS.get(state, "UNKNOWN")
        run.start_time = _time(r.get(start_col)) if start_col else math.nan
        runtime = _time(r.get(runtime_col)) if runtime_col else math.nan
        run.end_time = run.start_time + runtime if math.isfinite(run.start_time) and math.isfinite(runtime) else math.nan
    unknown_states = sorted({str(r.get(status_col)) for r in rows} - {None, ""}
                            - {s for s in {str(r.get(status_col)) for r in rows} if s.strip().lower() in STATUS}) \
        if status_col else []
    for col in hparam_cols:
        for run, value in zip(runs, _typed(col, [r.get(col) for r in rows], sweep.notes)):
            if value is not None and isinstance(value, (float, str, bool)):
                run.hparams[_strip(col)] = value
    steps = [0] * len(rows)
    if step_col:
        steps = [int(v) if isinstance(v, float) and math.isfinite(v) else 0
                 for v in _typed(step_col, [r.get(step_col) for r in rows], [])]
    used_metrics = []
    for col in metric_cols:
        values = _typed(col, [r.get(col) for r in rows], [])
        if any(v is not None and (isinstance(v, bool) or not isinstance(v, float)) for v in values):
            if metrics:
                raise SourceError(f"metric column {col!r} is not numeric (e.g. "
                                  f"{next(v for v in values if v is not None and not isinstance(v, float))!r})")
            sweep.notes.append(f"column {col!r} is not numeric; not used as a metric")
            continue
        used_metrics.append(col)
        for run, value, step in zip(runs, values, steps):
            if value is not None:
                run.metrics[metric_key(_strip(col))] = [(step, run.end_time, value)]
    if not used_metrics:
        raise SourceError(f"{path} has no numeric metric column; name one with --metrics COL")
    sweep.runs = runs
    inferred = infer_hparam_infos(runs)  # a table declares no domains: TensorBoard's inference from values
    sweep.hparam_infos = [replace(info, display_name=col) for col in hparam_cols
                          for info in [inferred.get(_strip(col))] if info is not None]
    sweep.choices = [
        f"table {path.name}: {len(rows)} runs" + (f" (JSON in column {', '.join(expanded)} expanded)" if expanded else ""),
        f"hyperparameters: {', '.join(hparam_cols) or 'none'}",
        f"metrics: {', '.join(used_metrics)}",
        f"run name: {name_col or 'row number'}; status: {status_col or 'none'}; start time: {start_col or 'none'}"
        f"; runtime: {runtime_col or 'none'}",
    ]
    if not status_col:
        sweep.notes.append("the table has no state/status column; every run's status is UNKNOWN")
    if unknown_states:
        sweep.notes.append(f"unknown state(s) {', '.join(unknown_states)} shown as UNKNOWN")
    if not start_col:
        sweep.notes.append("the table has no start time column; start and end times are unknown")
    sweep.notes.append("a table holds one value per metric (no history); each is written at one step"
                       + (f" ({step_col})" if step_col else " (step 0)"))
    sweep.notes.append("a table records no domains; each hyperparameter's domain is inferred from its values")
    sweep.description = f"runs table {path.name}"
    return sweep
