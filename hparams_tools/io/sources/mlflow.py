"""An MLflow file store (``mlruns/``) as a sweep, read from its files (MLflow is not needed).

Layout read: ``mlruns/<experiment id>/meta.yaml`` (name, lifecycle stage) and
``mlruns/<experiment id>/<run id>/`` with ``meta.yaml`` (run name, status, start/end time in
milliseconds), ``params/<key>`` (one text value), ``metrics/<key>`` (lines ``timestamp value
step``; keys may contain ``/``). Artifacts are never opened.

Statuses: FINISHED -> SUCCESS; FAILED and KILLED -> FAILURE; RUNNING -> RUNNING; SCHEDULED ->
UNKNOWN. Deleted runs and experiments are skipped (with a note). MLflow keeps params as text and
records no domains: a param whose every value parses as a number becomes a number (noted), and
domains are inferred from the values (noted).
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from ._runs import (
    MAX_JSON_BYTES,
    MAX_TABLE_BYTES,
    Run,
    SourceError,
    Sweep,
    check_size,
    metric_key,
    numbers_from_strings,
    read_text,
    the_only,
    unique_names,
)

__all__ = ["read_mlflow", "is_mlflow", "STATUS"]

STATUS = {1: "RUNNING", 2: "UNKNOWN", 3: "SUCCESS", 4: "FAILURE", 5: "FAILURE",
          "RUNNING": "RUNNING", "SCHEDULED": "UNKNOWN", "FINISHED": "SUCCESS", "FAILED": "FAILURE",
          "KILLED": "FAILURE"}


def _meta(path: Path) -> dict:
    try:
        data = yaml.safe_load(read_text(path, MAX_JSON_BYTES, "MLflow meta.yaml"))  # safe_load: no object tags
    except yaml.YAMLError as exc:
        raise SourceError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}); half-written?") from None
    return data if isinstance(data, dict) else {}


def _is_experiment(path: Path) -> bool:
    return (path / "meta.yaml").is_file() and "experiment_id" in _meta(path / "meta.yaml") \
        and "run_id" not in _meta(path / "meta.yaml")


def _experiments(path: Path) -> list[Path]:
    if _is_experiment(path):
        return [path]
    try:
        children = sorted(p for p in path.iterdir() if p.is_dir() and p.name != ".trash")
    except OSError:
        return []
    return [p for p in children if _is_experiment(p)]


def is_mlflow(path: Path) -> bool:
    """Whether ``path`` is an MLflow file store (``mlruns/``) or one experiment directory of one."""
    return path.is_dir() and bool(_experiments(path))


def _runs_of(experiment: Path) -> list[Path]:
    return sorted(p for p in experiment.iterdir() if p.is_dir() and (p / "meta.yaml").is_file())


def _pick(path: Path, wanted: str | None) -> tuple[Path, dict]:
    found = [(e, _meta(e / "meta.yaml")) for e in _experiments(path)]
    active = [(e, m) for e, m in found if m.get("lifecycle_stage", "active") == "active"]
    if wanted is not None:
        for e, m in found:
            if wanted in (str(m.get("name")), str(m.get("experiment_id"))):
                return e, m
        raise SourceError(f"{path} has no MLflow experiment {wanted!r}; experiments: "
                          f"{', '.join(sorted(str(m.get('name')) for _, m in active)) or 'none'}")
    with_runs = [(e, m) for e, m in active if _runs_of(e)]
    return the_only(with_runs, sorted(str(m.get("name")) for _, m in with_runs), where=path,
                    what="MLflow experiments with runs", none=f"{path}: no MLflow experiment with runs")


def _read_metric(path: Path, key: str, run: str) -> list[tuple[int, float, float]]:
    check_size(path, MAX_TABLE_BYTES, "an MLflow metric file")
    points = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                wall = float(fields[0]) / 1000.0
                value = float(fields[1])
                step = int(fields[2]) if len(fields) > 2 else 0
            except (ValueError, IndexError):
                raise SourceError(f"{path}: line {n} is not 'timestamp value step'; not an MLflow metric file") from None
            points.append((step, wall, value))
    # several values at one step stay, in time order, as TensorBoard keeps repeated steps
    return sorted(points, key=lambda p: (p[0], p[1]))


def _files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p for p in sorted(directory.rglob("*")) if p.is_file()}


def read_mlflow(path: str | Path, *, experiment: str | None = None) -> Sweep:
    """Read the runs of one experiment of an MLflow file store.

    Args:
        path: ``mlruns/`` (or one experiment directory in it).
        experiment: Experiment name or id; needed when several experiments have runs.

    Returns:
        The :class:`Sweep` (sessions named by run name, made unique).

    Raises:
        SourceError: not a file store, several experiments and no name, unreadable files.
    """
    root = Path(path)
    exp_dir, exp_meta = _pick(root, experiment)
    sweep = Sweep("mlflow", str(exp_dir))
    raw_params: dict[str, list[str | None]] = {}
    metas = []
    deleted = 0
    for run_dir in _runs_of(exp_dir):
        meta = _meta(run_dir / "meta.yaml")
        if meta.get("lifecycle_stage", "active") != "active":
            deleted += 1
            continue
        metas.append((run_dir, meta))
    names = unique_names([str(m.get("run_name") or m.get("run_id") or d.name) for d, m in metas])
    for i, ((run_dir, meta), name) in enumerate(zip(metas, names)):
        status = meta.get("status")
        start, end = meta.get("start_time"), meta.get("end_time")
        run = Run(name=name, status=STATUS.get(status, "UNKNOWN"),
                  start_time=float(start) / 1000.0 if isinstance(start, (int, float)) else math.nan,
                  end_time=float(end) / 1000.0 if isinstance(end, (int, float)) else math.nan)
        for key, file in _files(run_dir / "params").items():
            raw_params.setdefault(key, [None] * len(metas))[i] = read_text(file, MAX_JSON_BYTES, "an MLflow param")
        for key, file in _files(run_dir / "metrics").items():
            points = _read_metric(file, key, name)
            if points:
                run.metrics[metric_key(key)] = points
        sweep.runs.append(run)
    if not sweep.runs:
        raise SourceError(f"{exp_dir}: the MLflow experiment has no runs")
    for key, values in sorted(raw_params.items()):
        values = values + [None] * (len(metas) - len(values))
        converted = numbers_from_strings(key, values, "MLflow param", sweep.notes)
        for run, value in zip(sweep.runs, converted):
            if value is not None:
                run.hparams[key] = value
    numeric = [k for k, vs in raw_params.items() if any(isinstance(run.hparams.get(k), float) for run in sweep.runs)]
    if numeric:
        sweep.notes.append(f"MLflow keeps params as text; {', '.join(sorted(numeric))} read as numbers "
                           "(every value parses as one)")
    sweep.notes.append("MLflow records no domains; each param's domain is inferred from its values")
    if deleted:
        sweep.notes.append(f"{deleted} deleted run(s) skipped")
    sweep.description = f"MLflow experiment {exp_meta.get('name', exp_dir.name)}"
    return sweep
