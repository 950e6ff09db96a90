"""TensorBoard's HParams rules applied to a parsed logdir (no pandas here).

Follows ``tensorboard/plugins/hparams/backend_context.py`` and
``list_session_groups.py`` (TensorBoard 2.21):

* a run's tag kind and HParams infos come from the tag's *first* metadata in the
  run (files in name order), as ``plugin_event_accumulator`` keeps it;
* a session is a run with a ``_hparams_/session_start_info``; its group is the
  start info's ``group_name``, or the session's own name when that is empty;
* the experiment is the declared ``_hparams_/experiment`` (first run holding one,
  runs in name order), else inferred from all session start infos: one type per
  hparam (mixed types become ``string``), numbers an interval, strings and bools
  a discrete set; hparams sorted by (does not differ, name), as TensorBoard does;
* inferred metrics are the ``(group, tag)`` of every scalar ``(run, tag)`` whose run
  is at or below a session (longest matching session; ``group`` = run path
  relative to it), sorted by ``(tag, group)``; none when no hparam was inferred;
* a metric is its ``(group, tag)``; its column name is ``<group>/<tag>`` unless two
  metrics flatten to the same name (:func:`~hparams_tools.io._model.name_metrics`);
* an hparam value that is NaN or +-inf is unset in its session (TensorBoard's session groups
  skip values ``MessageToJson`` cannot write), but still counts when inferring the
  hparam's type and interval;
* a metric's value in a session is the last value read of tag ``tag`` in run
  ``<session>/<group>``; a session without end info has status UNKNOWN.

One deliberate difference: TensorBoard names the logdir's own run ``"."`` and
then fails to match ``./train`` against run ``train`` (and calls the root's own
metrics group ``"."``), so a session written directly in the logdir loses its
metrics there. Here the root session's runs are matched like any other's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from ._logdir import LogdirState
from ._model import Discrete, HParamInfo, Interval, MetricInfo, name_metrics
from .events import (
    EXPERIMENT_TAG,
    HPARAMS_PLUGIN,
    SCALARS_PLUGIN,
    SESSION_END_TAG,
    SESSION_START_TAG,
    ExperimentInfo,
    SessionEnd,
    SessionStart,
)

__all__ = ["Model", "build_model", "parse_objective"]

_OBJECTIVE = re.compile(r"^\s*objective\s*:\s*(.+?)\s+(maximize|minimize)\s*$", re.I | re.M)


@dataclass
class Model:
    """Everything the frames are built from, as plain lists and numpy arrays."""

    declared: bool = False
    description: str = ""
    hparam_infos: dict[str, HParamInfo] = field(default_factory=dict)
    metric_infos: list[MetricInfo] = field(default_factory=list)
    objective: tuple[str, str] | None = None
    # sessions (sorted by name)
    sessions: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start_times: list[float] = field(default_factory=list)
    end_times: list[float] = field(default_factory=list)
    session_hparams: list[dict] = field(default_factory=list)
    # scalar series (run, tag), values sorted so each series is one contiguous slice
    series_run: list[str] = field(default_factory=list)
    series_tag: list[str] = field(default_factory=list)
    series_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    series_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    series_session: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # -1: none
    series_group: list[str] = field(default_factory=list)
    step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    wall: np.ndarray = field(default_factory=lambda: np.zeros(0))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # metric_series[i, j]: series id of metric j in session i, -1 when absent
    metric_series: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    n_runs: int = 0
    n_scalar_runs: int = 0
    experiment_conflict: str = ""  # one line when runs declare different experiments
    n_records: int = 0


def parse_objective(description: str) -> tuple[str, str] | None:
    """Find a line ``objective: <metric name> <maximize|minimize>`` in ``description``."""
    m = _OBJECTIVE.search(description or "")
    return (m.group(1).strip(), m.group(2).lower()) if m else None


def _run_join(session: str, group: str) -> str:
    if not group:
        return session
    return group if session == "." else f"{session}/{group}"


def _parent_session(run: str, sessions: set[str]) -> str | None:
    """Longest session that is ``run`` or a parent of it (``"."`` is everyone's parent)."""
    path = run
    while True:
        if path in sessions:
            return path
        if path == "." or not path:
            return None
        cut = path.rfind("/")
        path = path[:cut] if cut > 0 else "."


def _is_set(v: float | str | bool) -> bool:
    # TensorBoard's json_format_compat.is_serializable_value: a NaN or infinite number is unset
    return not isinstance(v, float) or math.isfinite(v)


def _set_hparams(hparams: dict) -> dict:
    """A session's hparams as TensorBoard's session groups show them (NaN and +-inf left out)."""
    if all(_is_set(v) for v in hparams.values()):
        return hparams
    return {k: v for k, v in hparams.items() if _is_set(v)}


def _value_to_string(v: float | str | bool) -> str:
    # TensorBoard's _protobuf_value_to_string: the JSON form of the google.protobuf.Value.
    if isinstance(v, str):
        return v
    from google.protobuf import json_format, struct_pb2

    pb = struct_pb2.Value(bool_value=v) if isinstance(v, bool) else struct_pb2.Value(number_value=v)
    return json_format.MessageToJson(pb)


_TYPE_NAMES = {bool: "bool", str: "string"}  # every other type (float, int) is "float"


def infer_hparam_infos(starts: list[SessionStart]) -> dict[str, HParamInfo]:
    """TensorBoard's ``_compute_hparam_infos``: types, domains and order from session start infos."""
    values: dict[str, list] = {}
    for s in starts:
        for name, v in s.hparams.items():
            values.setdefault(name, []).append(v)
    infos: list[tuple[bool, HParamInfo]] = []
    for name, vals in values.items():
        # plain Python per hparam: a start info may hold 100,000 of them with one value each
        types = {_TYPE_NAMES.get(type(v), "float") for v in vals}
        typ = types.pop() if len(types) == 1 else "string"
        if typ == "string":
            distinct = sorted({_value_to_string(v) for v in vals if _is_set(v)})
            domain: Interval | Discrete = Discrete(tuple(distinct))
            differs = len(distinct) > 1
        elif typ == "bool":
            distinct_b = sorted(set(vals))
            domain = Discrete(tuple(distinct_b))
            differs = len(distinct_b) > 1
        else:
            finite = [float(v) for v in vals if v == v]  # NaN aside (infinities count, as in TensorBoard)
            lo = min(finite) if finite else math.nan
            hi = max(finite) if finite else math.nan
            domain = Interval(lo, hi)
            differs = len(set(finite)) > 1
        infos.append((differs, HParamInfo(name, typ, "", "", domain)))
    infos.sort(key=lambda di: (not di[0], di[1].name))
    return {info.name: info for _, info in infos}


def _decode_infos(
    run_names: list[str], run_meta: dict[str, dict[str, tuple[str, object]]]
) -> tuple[dict[str, SessionStart], dict[str, SessionEnd], ExperimentInfo | None, str]:
    """Session start/end infos per run and the first declared experiment (runs in name order).

    Contents were decoded (and unusable ones reported as damage) by the parser: an entry that
    is not of its tag's kind is not a session here. The last item returned is a one-line note
    when runs declare different experiments (``""`` otherwise).
    """
    starts: dict[str, SessionStart] = {}
    ends: dict[str, SessionEnd] = {}
    experiment: ExperimentInfo | None = None
    declared: dict[str, ExperimentInfo] = {}
    for run in run_names:
        meta = run_meta[run]
        for tag, target, kind in ((SESSION_START_TAG, starts, SessionStart), (SESSION_END_TAG, ends, SessionEnd)):
            m = meta.get(tag)
            if m is not None and m[0] == HPARAMS_PLUGIN and isinstance(m[1], kind):
                target[run] = m[1]
        m = meta.get(EXPERIMENT_TAG)
        if m is not None and m[0] == HPARAMS_PLUGIN and isinstance(m[1], ExperimentInfo):
            declared[run] = m[1]
            if experiment is None:
                experiment = m[1]
    return starts, ends, experiment, _conflict_note(declared)


def _conflict_note(declared: dict[str, ExperimentInfo]) -> str:
    """One line when runs declare different experiments (creation times aside), else ``""``."""
    distinct = {(x.description, x.hparam_infos, x.metric_infos) for x in declared.values()}
    if len(distinct) < 2:
        return ""
    first = next(iter(declared))
    return (
        f"{len(declared)} runs declare {len(distinct)} different experiments; using the one of run "
        f"{first!r} (the first by name). TensorBoard uses whichever run it happens to meet first, "
        "which can change between starts"
    )


def _last_attempts(
    run_names: list[str], state: LogdirState, series_of_file: list[list[int]]
) -> dict[str, tuple[SessionStart, SessionEnd | None]]:
    """Per run: its *last* session start info (files in name order) and the first end info in or
    after that start's file -- the last attempt of a run restarted after a crash."""
    series = state.series
    out: dict[str, tuple[SessionStart, SessionEnd | None]] = {}
    for run in run_names:
        start: SessionStart | None = None
        end: SessionEnd | None = None
        for f in state.runs[run]:
            infos = {
                e.tag: e.content
                for e in (series[g] for g in series_of_file[f])
                if e.plugin == HPARAMS_PLUGIN and e.tag in (SESSION_START_TAG, SESSION_END_TAG)
            }
            if isinstance(infos.get(SESSION_START_TAG), SessionStart):
                start, end = infos[SESSION_START_TAG], None  # a new attempt: its own end info only
            if start is not None and end is None and isinstance(infos.get(SESSION_END_TAG), SessionEnd):
                end = infos[SESSION_END_TAG]
        if start is not None:
            out[run] = (start, end)
    return out


def build_model(state: LogdirState, *, attempts: str = "first") -> Model:
    """Apply TensorBoard's rules to everything parsed so far.

    Args:
        state: The parsed logdir.
        attempts: ``"first"`` (TensorBoard's rule: a run's first start and end infos, files in
            name order) or ``"last"`` (a run restarted after a crash, with one event file per
            attempt, takes the last attempt's start info and that attempt's end info).
    """
    model = Model()
    series = state.series
    # Each file's series in first-appearance order.
    series_of_file: list[list[int]] = [[] for _ in state.files]
    for gid, entry in enumerate(series):
        series_of_file[entry.file].append(gid)
    run_names = sorted(state.runs)
    model.n_runs = len(run_names)
    # First metadata of each tag in each run (files in name order) and, per run and tag, the
    # file-level series in file order.
    run_meta: dict[str, dict[str, tuple[str, bytes]]] = {}
    run_tags: dict[str, dict[str, list[int]]] = {}
    for run in run_names:
        meta: dict[str, tuple[str, bytes]] = {}
        by_tag: dict[str, list[int]] = {}
        for f in state.runs[run]:  # kept in name order by LogdirState
            for gid in series_of_file[f]:
                entry = series[gid]
                if entry.plugin is not None and entry.tag not in meta:
                    meta[entry.tag] = (entry.plugin, entry.content)
                by_tag.setdefault(entry.tag, []).append(gid)
        run_meta[run] = meta
        run_tags[run] = by_tag

    # Sessions.
    starts, ends, experiment, model.experiment_conflict = _decode_infos(run_names, run_meta)
    if attempts == "last":
        for run, (start, end) in _last_attempts(run_names, state, series_of_file).items():
            starts[run] = start
            if end is None:
                ends.pop(run, None)
            else:
                ends[run] = end
    session_names = sorted(starts)
    session_set = set(session_names)
    session_pos = {s: i for i, s in enumerate(session_names)}
    model.sessions = session_names
    for s in session_names:
        st = starts[s]
        end = ends.get(s)
        model.groups.append(st.group_name or s)
        model.statuses.append(end.status if end else "UNKNOWN")
        model.start_times.append(st.start_time)
        model.end_times.append(end.end_time if end else math.nan)
        model.session_hparams.append(_set_hparams(st.hparams))

    # Each run's session (longest enclosing session run) and metric group.
    run_place: dict[str, tuple[int, str]] = {}
    for run in run_names:
        parent = _parent_session(run, session_set)
        if parent is None:
            run_place[run] = (-1, "")
        elif run == parent:
            run_place[run] = (session_pos[parent], "")
        else:
            run_place[run] = (session_pos[parent], run if parent == "." else run[len(parent) + 1 :])

    # Scalar (run, tag) series, numbered in the long table's order: by session, group, tag
    # (series outside any session last). order[gid] ranks the file-level series so that a
    # stable sort of the values by it makes each run series contiguous, its files in name
    # order and, within a file, its values in read order.
    candidates = []
    for run in run_names:
        meta = run_meta[run]
        pos, group = run_place[run]
        for tag, gids in run_tags[run].items():
            m = meta.get(tag)
            if m is not None and m[0] == SCALARS_PLUGIN:
                key = (0, pos, group, tag) if pos >= 0 else (1, 0, run, tag)
                candidates.append((key, run, tag, pos, group, gids))
    candidates.sort(key=lambda c: c[0])
    rs_index: dict[tuple[str, str], int] = {}
    order_of_gid = [-1] * len(series)
    rsid_of_order: list[int] = []
    series_session = np.full(len(candidates), -1, dtype=np.int64)
    for rsid, (_, run, tag, pos, group, gids) in enumerate(candidates):
        rs_index[(run, tag)] = rsid
        model.series_run.append(run)
        model.series_tag.append(tag)
        model.series_group.append(group)
        series_session[rsid] = pos
        for gid in gids:
            order_of_gid[gid] = len(rsid_of_order)
            rsid_of_order.append(rsid)
    model.series_session = series_session
    del candidates, run_tags

    sid, step, wall, value = state.columns()
    order_arr = np.asarray(order_of_gid, dtype=np.int32)
    rsid_arr = np.asarray(rsid_of_order, dtype=np.int64)
    keys = order_arr[sid] if len(sid) else np.zeros(0, np.int32)
    keep = keys >= 0
    keys = keys[keep]
    if keys.size and not np.all(keys[1:] >= keys[:-1]):
        idx = np.argsort(keys, kind="stable")
        sel = np.flatnonzero(keep)[idx]
        keys = keys[idx]
        del idx
    else:
        sel = np.flatnonzero(keep)
    del keep
    model.step, model.wall, model.value = step[sel], wall[sel], value[sel]
    del sel
    n_series = len(model.series_run)
    per_order = np.bincount(keys, minlength=len(rsid_arr)) if keys.size else np.zeros(len(rsid_arr), np.int64)
    counts = (
        np.bincount(rsid_arr, weights=per_order, minlength=n_series).astype(np.int64)
        if n_series
        else np.zeros(0, np.int64)
    )
    model.series_stop = np.cumsum(counts)
    model.series_start = model.series_stop - counts
    model.n_scalar_runs = len(set(model.series_run))

    if experiment is not None:
        model.declared = True
        model.description = experiment.description
        model.hparam_infos = {h.name: h for h in sorted(experiment.hparam_infos, key=lambda h: h.name)}
        model.metric_infos = list(experiment.metric_infos)
    else:
        model.hparam_infos = infer_hparam_infos([starts[s] for s in session_names])
        if model.hparam_infos:
            names = sorted(
                {(model.series_tag[r], model.series_group[r]) for r in range(n_series) if series_session[r] >= 0}
            )
            model.metric_infos = [MetricInfo(group, tag) for tag, group in names]
    model.metric_infos = name_metrics(model.metric_infos)
    model.objective = parse_objective(model.description)

    # Which series holds each session's metric.
    ms = np.full((len(session_names), len(model.metric_infos)), -1, dtype=np.int64)
    for i, s in enumerate(session_names):
        for j, mi in enumerate(model.metric_infos):
            r = rs_index.get((_run_join(s, mi.group), mi.tag))
            if r is not None and counts[r] > 0:
                ms[i, j] = r
    model.metric_series = ms
    return model
