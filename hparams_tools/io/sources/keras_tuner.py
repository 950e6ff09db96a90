"""A keras-tuner project directory (``oracle.json``, ``trial_*/trial.json``) as a sweep.

keras-tuner writes a project directory ``<directory>/<project_name>/`` whatever the Keras
backend, with or without TensorBoard: ``oracle.json`` (the search space, start order, the start
time of trials it displayed) and one ``trial_<id>/trial.json`` per trial (hyperparameter values,
status, every reported metric observation with its step). Only these JSON files are read;
checkpoints and any pickles beside them are never opened.

Statuses: COMPLETED -> SUCCESS; FAILED and INVALID -> FAILURE; RUNNING -> RUNNING; IDLE and
STOPPED (created but never run) -> UNKNOWN.

What keras-tuner does not record, and the notes say so: end times (start times only when the
oracle displayed the trial), wall times of metric observations, and which metric is the objective.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path

from .._model import HParamInfo, Interval
from ._runs import MAX_JSON_BYTES, Run, SourceError, Sweep, domain_of, metric_key, read_text, the_only

__all__ = ["find_project", "read_keras_tuner", "is_keras_tuner"]

STATUS = {"COMPLETED": "SUCCESS", "FAILED": "FAILURE", "INVALID": "FAILURE", "RUNNING": "RUNNING",
          "IDLE": "UNKNOWN", "STOPPED": "UNKNOWN"}
_TRIAL_DIR = re.compile(r"^trial_[A-Za-z0-9_-]+$")


def _projects(path: Path) -> list[Path]:
    if (path / "oracle.json").is_file():
        return [path]
    try:
        children = sorted(p for p in path.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p for p in children if (p / "oracle.json").is_file()]


def is_keras_tuner(path: Path) -> bool:
    """Whether ``path`` is a keras-tuner project directory or holds project directories."""
    return path.is_dir() and bool(_projects(path))


def find_project(path: Path, project: str | None = None) -> Path:
    """The project directory in ``path`` (itself, or the one project below it, or ``project``).

    Raises:
        SourceError: no project, or several and ``project`` does not pick one.
    """
    projects = _projects(path)
    if project is not None:
        chosen = [p for p in projects if p.name == project]
        if not chosen:
            raise SourceError(f"{path} has no keras-tuner project {project!r}; "
                              f"projects: {', '.join(p.name for p in projects) or 'none'}")
        return chosen[0]
    return the_only(projects, [p.name for p in projects], where=path, what="keras-tuner projects",
                    none=f"{path} is not a keras-tuner project directory (no oracle.json)")


def _load_json(path: Path, what: str) -> dict:
    text = read_text(path, MAX_JSON_BYTES, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path} is not valid JSON ({exc.msg} at byte {exc.pos}; half-written by a running or killed "
            "tuner?); let the trial finish or remove that trial directory"
        ) from None
    if not isinstance(data, dict):
        raise SourceError(f"{path} is not a keras-tuner {what} (not a JSON object)")
    return data


def _hparam_info(entry: dict) -> HParamInfo | None:
    cls = entry.get("class_name")
    cfg = entry.get("config") or {}
    name = cfg.get("name")
    if not isinstance(name, str):
        return None
    log = cfg.get("sampling") in ("log", "reverse_log")
    description = f"keras-tuner {cls}" + (f", {cfg.get('sampling')} scale" if log else "")
    if cls in ("Int", "Float"):
        lo, hi = cfg.get("min_value"), cfg.get("max_value")
        return HParamInfo(name, "float", "", description,
                          Interval(float(lo) if lo is not None else None, float(hi) if hi is not None else None))
    if cls == "Boolean":
        return HParamInfo(name, "bool", "", description, domain_of([False, True])[1])
    if cls in ("Choice", "Fixed"):
        values = cfg.get("values") if cls == "Choice" else [cfg.get("value")]
        if not isinstance(values, list) or not values or any(isinstance(v, (list, dict)) or v is None
                                                             for v in values):
            return None
        typ, domain = domain_of(values)
        return HParamInfo(name, typ, "", description, domain)
    return None


def _value(v: object) -> float | str | bool | None:
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return None


def _observations(name: str, entry: object, trial: str, notes: list[str]) -> list[tuple[int, float, float]]:
    out = []
    several = False
    for obs in (entry or {}).get("observations", []) if isinstance(entry, dict) else []:
        values = obs.get("value") if isinstance(obs, dict) else None
        values = values if isinstance(values, list) else [values]
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numbers:
            continue
        several |= len(numbers) > 1
        # keras-tuner's MetricObservation.mean(): one value per execution of the trial
        out.append((int(obs.get("step") or 0), math.nan, sum(numbers) / len(numbers)))
    if several:
        notes.append(f"trial {trial}: metric {name!r} has several executions per step; their mean is used, "
                     "as keras-tuner does")
    return sorted(out, key=lambda p: p[0])


def _start_time(display: dict, trial_id: str) -> float:
    text = (display.get("trial_start") or {}).get(trial_id) if isinstance(display, dict) else None
    try:
        return datetime.fromisoformat(text).timestamp() if isinstance(text, str) else math.nan
    except ValueError:
        return math.nan


def read_keras_tuner(path: str | Path, *, project: str | None = None) -> Sweep:
    """Read a keras-tuner project directory (or the directory holding exactly one project).

    Args:
        path: The project directory, e.g. ``logs/flowers/.keras_tuner/sweep``, or its parent.
        project: Which project when ``path`` holds several.

    Returns:
        The :class:`Sweep`.

    Raises:
        SourceError: no project, an unreadable or half-written JSON file, no trials.
    """
    root = find_project(Path(path), project)
    oracle = _load_json(root / "oracle.json", "oracle file")
    sweep = Sweep("keras-tuner", str(root))
    space = (oracle.get("hyperparameters") or {}).get("space") or []
    infos = [info for info in (_hparam_info(e) for e in space if isinstance(e, dict)) if info is not None]
    sweep.hparam_infos = infos
    trial_dirs = sorted(p for p in root.iterdir() if p.is_dir() and _TRIAL_DIR.match(p.name))
    directions: dict[str, str] = {}
    display = oracle.get("display") or {}
    for d in trial_dirs:
        if not (d / "trial.json").is_file():
            sweep.notes.append(f"{d.name} has no trial.json (a trial just created?); skipped")
            continue
        trial = _load_json(d / "trial.json", "trial file")
        trial_id = str(trial.get("trial_id", d.name[len("trial_"):]))
        values = ((trial.get("hyperparameters") or {}).get("values") or {})
        status = str(trial.get("status", ""))
        run = Run(name=d.name, status=STATUS.get(status, "UNKNOWN"), start_time=_start_time(display, trial_id))
        if status not in STATUS:
            sweep.notes.append(f"{d.name}: unknown keras-tuner status {status!r}, shown as UNKNOWN")
        run.hparams = {k: v for k, v in ((k, _value(v)) for k, v in values.items()) if v is not None}
        metrics = ((trial.get("metrics") or {}).get("metrics") or {})
        for name, entry in metrics.items():
            points = _observations(name, entry, trial_id, sweep.notes)
            if points:
                run.metrics[metric_key(name)] = points
            if isinstance(entry, dict) and entry.get("direction") in ("min", "max"):
                directions.setdefault(name, entry["direction"])
        sweep.runs.append(run)
    if not sweep.runs:
        raise SourceError(f"{root} has no trials (trial_*/trial.json); has the search started?")
    sweep.notes.append("keras-tuner records no end times and no wall times of metric observations"
                       + ("" if any(math.isfinite(r.start_time) for r in sweep.runs) else ", and no start times here"))
    goals = {name: "maximize" if d == "max" else "minimize" for name, d in sorted(directions.items())}
    sweep.description = f"keras-tuner project {root.name}"
    if len(goals) == 1:  # the only metric the tuner saw is its objective
        sweep.description += "".join(f"\nobjective: {name} {goal}" for name, goal in goals.items())
    elif goals:
        sweep.notes.append("keras-tuner does not record which of its metrics was the objective; none is declared")
    return sweep
