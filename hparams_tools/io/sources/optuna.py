"""An Optuna storage (SQLite or another RDB URL, or a journal file) as a sweep.

The storage is read directly, without Optuna and without ever writing to it: a SQLite file is
opened read-only (``file:...?mode=ro``), so a corrupt or foreign database is never modified
(Optuna's own ``RDBStorage`` would create tables or migrate the schema); other RDB URLs
(PostgreSQL, MySQL...) go through SQLAlchemy (installed with Optuna: ``pip install
'hparams-tools[optuna]'``) with SELECT statements only; a journal file is replayed from its JSON
lines. Nothing is unpickled.

Mapping (documented in the README):

* states: COMPLETE -> SUCCESS; PRUNED -> FAILURE (TensorBoard has no "pruned"; the analysis then
  drops pruned trials as Optuna's importances do); FAIL -> FAILURE; RUNNING -> RUNNING;
  WAITING -> UNKNOWN;
* distributions: Float/Int -> an interval (``log`` in the description: "log scale"), Categorical
  -> a discrete set;
* objective values -> metric ``value`` (``values_0``, ``values_1``... for several objectives, or the
  study's metric names), at the trial's last reported step; intermediate values -> metric
  ``intermediate_value`` with their steps;
* times: ``datetime_start``/``datetime_complete``; Optuna records no time per intermediate value.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ...errors import require
from .._model import HParamInfo, Interval
from ._runs import MAX_LINE_BYTES, Run, SourceError, Sweep, domain_of, the_only

__all__ = ["read_optuna", "is_journal", "is_sqlite_file", "STATE"]

STATE = {"COMPLETE": "SUCCESS", "PRUNED": "FAILURE", "FAIL": "FAILURE", "RUNNING": "RUNNING",
         "WAITING": "UNKNOWN"}
_STATE_BY_NUMBER = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}
_DIRECTION = {1: "minimize", 2: "maximize", "MINIMIZE": "minimize", "MAXIMIZE": "maximize"}
_VALUE_TYPE = {"INF_POS": math.inf, "INF_NEG": -math.inf, "NAN": math.nan}
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


# -- detection -------------------------------------------------------------------------------------
def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a file starting with SQLite's magic header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def is_journal(path: Path) -> bool:
    """Whether ``path`` is a file whose first line is an Optuna journal operation."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(MAX_LINE_BYTES)
        return isinstance(json.loads(first), dict) and "op_code" in json.loads(first)
    except (OSError, ValueError):
        return False


# -- plain study data --------------------------------------------------------------------------------
class _Study:
    def __init__(self, name: str) -> None:
        self.name = name
        self.directions: list[str] = []
        self.metric_names: list[str] | None = None
        self.trials: list[dict] = []


def _new_trial(number: int) -> dict:
    return {"number": number, "state": "RUNNING", "start": None, "complete": None, "params": {},
            "values": None, "intermediate": {}}


def _parse_time(text: object) -> float:
    if not isinstance(text, str) or not text:
        return math.nan
    try:
        # Optuna's RDB stores naive local times (datetime.now()); the journal stores UTC with an offset.
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return math.nan


def _distribution(text: str | dict) -> dict:
    try:
        dist = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        raise SourceError(f"a parameter distribution is not JSON: {str(text)[:80]!r}") from None
    if not isinstance(dist, dict) or not isinstance(dist.get("attributes"), dict):
        raise SourceError(f"unknown parameter distribution {str(text)[:80]!r}")
    return dist


def _external(dist: dict, internal: float) -> float | str | bool | None:
    """Optuna's ``to_external_repr``: a categorical's internal value is the index of its choice."""
    attrs = dist["attributes"]
    if dist.get("name") == "CategoricalDistribution":
        choices = attrs.get("choices") or []
        index = int(internal)
        choice = choices[index] if 0 <= index < len(choices) else None
        return choice if isinstance(choice, (bool, str)) else float(choice) if isinstance(choice, (int, float)) else None
    return float(internal)


# -- SQL ---------------------------------------------------------------------------------------------
_QUERIES = {
    "studies": "SELECT study_id, study_name FROM studies ORDER BY study_id",
    "directions": "SELECT objective, direction FROM study_directions WHERE study_id = :sid ORDER BY objective",
    "attrs": "SELECT key, value_json FROM study_system_attributes WHERE study_id = :sid",
    "trials": "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials "
              "WHERE study_id = :sid ORDER BY number",
    "params": "SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p "
              "JOIN trials t ON p.trial_id = t.trial_id WHERE t.study_id = :sid",
    "values": "SELECT v.trial_id, v.objective, v.value, v.value_type FROM trial_values v "
              "JOIN trials t ON v.trial_id = t.trial_id WHERE t.study_id = :sid",
    "intermediate": "SELECT i.trial_id, i.step, i.intermediate_value, i.intermediate_value_type "
                    "FROM trial_intermediate_values i JOIN trials t ON i.trial_id = t.trial_id "
                    "WHERE t.study_id = :sid ORDER BY i.step",
}


def _sqlite_rows(path: Path):
    """``query(name, **params) -> rows`` over a read-only SQLite connection."""
    if not path.is_file():
        raise SourceError(f"{path} does not exist; pass an Optuna storage such as sqlite:///study.db")
    # mode=ro: never create, migrate or otherwise modify what we read
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)

    def query(name: str, **params):
        return conn.execute(_QUERIES[name], params).fetchall()

    return query, conn.close


def _read_only_url(url: str) -> str:
    """A SQLite URL of any driver (``sqlite+pysqlite:///x.db``) opened read-only, as SQLAlchemy's URI form."""
    scheme, sep, rest = url.partition(":///")
    if scheme.split("+")[0] != "sqlite" or not sep or rest.startswith("file:"):
        return url
    path, _, query = rest.partition("?")
    return f"{scheme}:///file:{quote(path)}?mode=ro&uri=true" + (f"&{query}" if query else "")


def _sqlalchemy_rows(url: str):
    sqlalchemy = require("sqlalchemy", extra="optuna")
    engine = sqlalchemy.create_engine(_read_only_url(url))
    conn = engine.connect()

    def query(name: str, **params):
        return [tuple(r) for r in conn.execute(sqlalchemy.text(_QUERIES[name]), params)]

    def close() -> None:
        conn.close()
        engine.dispose()

    return query, close


def _nothing() -> None:
    pass


def _read_rdb(source: str, study_name: str | None) -> _Study:
    path = Path(source[len("sqlite:///"):]) if source.startswith("sqlite:///") else None
    if path is None and "://" not in source:
        path = Path(source)
    close = _nothing
    try:
        query, close = _sqlite_rows(path) if path is not None else _sqlalchemy_rows(source)
        studies = query("studies")
        sid, name = _pick([(row[1], row[0]) for row in studies], study_name, source)
        study = _Study(name)
        study.directions = [_DIRECTION.get(d, str(d).lower()) for _, d in query("directions", sid=sid)]
        for key, value in query("attrs", sid=sid):
            if key == "study:metric_names":
                study.metric_names = json.loads(value)
        by_id = {}
        for trial_id, number, state, start, complete in query("trials", sid=sid):
            t = _new_trial(int(number))
            t.update(state=str(state), start=_parse_time(str(start) if start else None),
                     complete=_parse_time(str(complete) if complete else None))
            by_id[trial_id] = t
            study.trials.append(t)
        for trial_id, pname, pvalue, dist_json in query("params", sid=sid):
            if trial_id in by_id:
                by_id[trial_id]["params"][pname] = (_distribution(dist_json), pvalue)
        for trial_id, objective, value, value_type in query("values", sid=sid):
            if trial_id in by_id:
                values = by_id[trial_id]["values"] = by_id[trial_id]["values"] or {}
                values[int(objective)] = _VALUE_TYPE.get(value_type, value if value is not None else math.nan)
        for trial_id, step, value, value_type in query("intermediate", sid=sid):
            if trial_id in by_id:
                by_id[trial_id]["intermediate"][int(step)] = _VALUE_TYPE.get(
                    value_type, value if value is not None else math.nan)
        return study
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"{source} is not a readable Optuna SQLite storage ({exc}); check the file") from None
    except Exception as exc:  # SQLAlchemy's errors (no tables, cannot connect) without importing it eagerly
        if type(exc).__module__.startswith("sqlalchemy"):
            raise SourceError(f"{source}: cannot read the Optuna storage ({str(exc).splitlines()[0]})") from None
        raise
    finally:
        close()


def _pick(studies: list[tuple[str, object]], wanted: str | None, source: str) -> tuple[object, str]:
    names = [n for n, _ in studies]
    if wanted is not None:
        for name, sid in studies:
            if name == wanted:
                return sid, name
        raise SourceError(f"{source} has no study {wanted!r}; studies: {', '.join(names) or 'none'}")
    name, sid = the_only(studies, names, where=source, what="studies", none=f"{source} holds no Optuna study")
    return sid, name


# -- journal -----------------------------------------------------------------------------------------
def _journal_ops(path: Path, notes: list[str]):
    with open(path, "rb") as fh:
        number = 0
        while True:
            line = fh.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise SourceError(f"{path}: line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB; "
                                  "not an Optuna journal")
            try:
                op = json.loads(line)
            except ValueError:
                if not line.endswith(b"\n") and not fh.read(1):
                    notes.append(f"{path.name}: the last line is incomplete (a writer still running or killed); skipped")
                    return
                raise SourceError(f"{path}: line {number} is not JSON; not an Optuna journal file") from None
            if not isinstance(op, dict) or "op_code" not in op:
                raise SourceError(f"{path}: line {number} is not an Optuna journal operation")
            yield op


def _read_journal(path: Path, study_name: str | None, notes: list[str]) -> _Study:
    """Replay the journal as Optuna's ``JournalStorageReplayResult`` does (without its worker bookkeeping)."""
    studies: dict[int, _Study] = {}
    trials: list[tuple[int, dict]] = []  # global trial id -> (study id, trial)
    next_sid = 0
    try:
        for op in _journal_ops(path, notes):
            code = op["op_code"]
            if code == 0:  # CREATE_STUDY
                if op["study_name"] not in {s.name for s in studies.values()}:
                    studies[next_sid] = _Study(op["study_name"])
                    studies[next_sid].directions = [_DIRECTION.get(d, str(d)) for d in op["directions"]]
                    next_sid += 1
            elif code == 1:  # DELETE_STUDY
                studies.pop(op["study_id"], None)
            elif code == 3:  # SET_STUDY_SYSTEM_ATTR
                study = studies.get(op["study_id"])
                if study is not None and "study:metric_names" in op["system_attr"]:
                    study.metric_names = op["system_attr"]["study:metric_names"]
            elif code == 4:  # CREATE_TRIAL (possibly a whole enqueued/added trial)
                study = studies.get(op["study_id"])
                if study is None:
                    continue
                t = _new_trial(len(study.trials))
                dists = {k: _distribution(v) for k, v in (op.get("distributions") or {}).items()}
                t.update(state=_STATE_BY_NUMBER.get(op.get("state", 0), "RUNNING"),
                         start=_parse_time(op.get("datetime_start")), complete=_parse_time(op.get("datetime_complete")),
                         params={k: (dists[k], v) for k, v in (op.get("params") or {}).items() if k in dists},
                         intermediate={int(k): v for k, v in (op.get("intermediate_values") or {}).items()})
                values = op.get("values") or ([op["value"]] if op.get("value") is not None else None)
                t["values"] = dict(enumerate(values)) if values else None
                study.trials.append(t)
                trials.append((op["study_id"], t))
            elif code in (5, 6, 7):
                if not 0 <= op["trial_id"] < len(trials):
                    continue
                sid, t = trials[op["trial_id"]]
                if sid not in studies or t["state"] not in ("RUNNING", "WAITING"):
                    continue  # Optuna ignores updates of finished trials
                if code == 5:  # SET_TRIAL_PARAM
                    t["params"][op["param_name"]] = (_distribution(op["distribution"]), op["param_value_internal"])
                elif code == 6:  # SET_TRIAL_STATE_VALUES
                    state = _STATE_BY_NUMBER.get(op["state"], "RUNNING")
                    if state == "RUNNING":
                        t["start"] = _parse_time(op.get("datetime_start"))
                    elif state != "WAITING":
                        t["complete"] = _parse_time(op.get("datetime_complete"))
                    t["state"] = state
                    if op.get("values") is not None:
                        t["values"] = dict(enumerate(op["values"]))
                else:  # SET_TRIAL_INTERMEDIATE_VALUE
                    t["intermediate"][int(op["step"])] = op["intermediate_value"]
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{path}: not a valid Optuna journal ({type(exc).__name__}: {exc})") from None
    sid, _ = _pick([(s.name, i) for i, s in studies.items()], study_name, str(path))
    return studies[sid]  # type: ignore[index]


# -- to a sweep --------------------------------------------------------------------------------------
def _merge_infos(trials: list[dict], notes: list[str]) -> list[HParamInfo]:
    dists: dict[str, list[dict]] = {}
    for t in trials:
        for name, (dist, _) in t["params"].items():
            dists.setdefault(name, []).append(dist)
    infos = []
    for name in sorted(dists):
        kinds = {d.get("name") for d in dists[name]}
        if kinds == {"CategoricalDistribution"}:
            choices = [c for d in dists[name] for c in d["attributes"].get("choices") or []]
            if any(c is None for c in choices):
                notes.append(f"parameter {name!r}: the choice None cannot be an HParams value; trials with it leave "
                             f"{name!r} unset")
            typ, domain = domain_of([c for c in choices if c is not None] or [""])
            infos.append(HParamInfo(name, typ, "", "Optuna CategoricalDistribution", domain))
            continue
        numeric = [d for d in dists[name] if d.get("name") != "CategoricalDistribution"]
        if len(numeric) != len(dists[name]):
            notes.append(f"parameter {name!r} has categorical and numeric distributions in different trials; "
                         "no domain declared")
            infos.append(HParamInfo(name, None, "", "", None))
            continue
        lows = [d["attributes"].get("low") for d in numeric]
        highs = [d["attributes"].get("high") for d in numeric]
        log = any(d["attributes"].get("log") or "Log" in str(d.get("name")) for d in numeric)
        step = {d["attributes"].get("step", d["attributes"].get("q")) for d in numeric} - {None}
        description = f"Optuna {'/'.join(sorted(str(k) for k in kinds))}"
        description += ", log scale" if log else ""
        description += f", step {step.pop()}" if len(step) == 1 else ""
        domain = Interval(min(float(v) for v in lows if v is not None) if any(v is not None for v in lows) else None,
                          max(float(v) for v in highs if v is not None) if any(v is not None for v in highs) else None)
        if len(set(zip(lows, highs))) > 1:
            notes.append(f"parameter {name!r}: its range changed between trials; the domain covers all of them")
        infos.append(HParamInfo(name, "float", "", description, domain))
    return infos


def _objective_names(study: _Study) -> list[str]:
    n = max(len(study.directions), 1)
    if study.metric_names and len(study.metric_names) == n:
        return [str(m) for m in study.metric_names]
    return ["value"] if n == 1 else [f"values_{i}" for i in range(n)]


def _study_to_sweep(study: _Study, source: str, notes: list[str]) -> Sweep:
    sweep = Sweep("optuna", source, notes=notes)
    sweep.hparam_infos = _merge_infos(study.trials, sweep.notes)
    names = _objective_names(study)
    width = len(str(max((t["number"] for t in study.trials), default=0)))
    pruned = 0
    unknown_states = set()
    for t in study.trials:
        state = t["state"]
        if state not in STATE:
            unknown_states.add(state)
        pruned += state == "PRUNED"
        run = Run(name=f"trial-{t['number']:0{width}d}", status=STATE.get(state, "UNKNOWN"),
                  start_time=t["start"] if t["start"] is not None else math.nan,
                  end_time=t["complete"] if t["complete"] is not None else math.nan)
        for pname, (dist, internal) in t["params"].items():
            value = _external(dist, internal)
            if value is not None:
                run.hparams[pname] = value
        steps = sorted(t["intermediate"])
        if steps:
            run.metrics[("", "intermediate_value")] = [
                (s, math.nan, float(t["intermediate"][s]) if t["intermediate"][s] is not None else math.nan)
                for s in steps]
        for i, value in sorted((t["values"] or {}).items()):
            if i < len(names):
                run.metrics[("", names[i])] = [(steps[-1] if steps else 0, run.end_time,
                                               float(value) if value is not None else math.nan)]
        sweep.runs.append(run)
    if not sweep.runs:
        raise SourceError(f"{source}: study {study.name!r} has no trials")
    from .._model import MetricInfo

    sweep.metric_infos = [MetricInfo("", n, "", f"objective {i}: {d}") for i, (n, d) in
                          enumerate(zip(names, study.directions or ["minimize"]))]
    if any(r.metrics.get(("", "intermediate_value")) for r in sweep.runs):
        sweep.metric_infos.append(MetricInfo("", "intermediate_value", "", "values reported with trial.report()"))
        sweep.notes.append("Optuna records no wall time per intermediate value; only trial start/end times")
    sweep.description = f"Optuna study {study.name}"
    if len(study.directions) == 1:
        sweep.description += f"\nobjective: {names[0]} {study.directions[0]}"
    else:
        sweep.notes.append(f"{len(study.directions)} objectives ({', '.join(names)}); no single objective declared")
    if pruned:
        sweep.notes.append(f"{pruned} pruned trial(s) shown as FAILURE (TensorBoard has no pruned status); "
                           "their intermediate values are kept")
    if unknown_states:
        sweep.notes.append(f"unknown Optuna trial state(s) {', '.join(sorted(unknown_states))} shown as UNKNOWN")
    return sweep


def read_optuna(source: str, *, study: str | None = None) -> Sweep:
    """Read one study of an Optuna storage.

    Args:
        source: ``sqlite:///path.db``, a SQLite file path, another SQLAlchemy RDB URL, or a journal file.
        study: The study name; needed when the storage holds several.

    Returns:
        The :class:`Sweep` (sessions ``trial-<number>``).

    Raises:
        SourceError: no such file, not an Optuna storage, a corrupt file, several studies and no name.
        MissingDependencyError: a non-SQLite RDB URL without SQLAlchemy installed.
    """
    notes: list[str] = []
    path = Path(source)
    if "://" not in source and path.is_file() and not is_sqlite_file(path) and path.suffix not in SQLITE_SUFFIXES:
        data = _read_journal(Path(source), study, notes)
    else:
        data = _read_rdb(source, study)
        notes.append("Optuna's RDB storage keeps times without a time zone; read as this machine's local time, "
                     "as Optuna does")
    return _study_to_sweep(data, source, notes)
