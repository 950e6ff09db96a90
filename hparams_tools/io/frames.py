"""The only place that turns the parsed model into pandas DataFrames.

Every builder takes the plain :class:`~hparams_tools.io._semantics.Model`
(lists and numpy arrays) and returns a fresh DataFrame. The long scalars table
is assembled column-wise from numpy arrays (categorical session/group/tag), never
row by row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._semantics import Model

__all__ = [
    "sessions_frame",
    "hparams_frame",
    "scalars_frame",
    "metrics_frame",
    "joined_frame",
    "unique_columns",
    "group_frame",
    "metric_values",
    "metric_steps_frame",
]


def _index(model: Model) -> pd.Index:
    return pd.Index(model.sessions, name="session", dtype=object)


def sessions_frame(model: Model) -> pd.DataFrame:
    """One row per session: group, status, start_time, end_time (seconds; NaN when unknown)."""
    return pd.DataFrame(
        {
            "group": pd.Series(model.groups, dtype=object, index=_index(model)),
            "status": pd.Series(model.statuses, dtype=object, index=_index(model)),
            "start_time": np.asarray(model.start_times, dtype=np.float64),
            "end_time": np.asarray(model.end_times, dtype=np.float64),
        },
        index=_index(model),
    )


def _hparam_column(values: list) -> pd.Series | np.ndarray:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    if present and len(present) == len(values) and all(isinstance(v, bool) for v in present):
        return np.array(values, dtype=bool)
    return np.array(values, dtype=object)


def hparams_frame(model: Model) -> pd.DataFrame:
    """One row per session, one column per hparam (``hparam_infos`` order, then any hparam a
    session logged that a declared experiment does not list).

    Numeric columns are float64 (NaN where missing); all-bool columns without gaps are bool;
    anything else (strings, mixed types, bools with gaps) is object with ``None`` for missing.
    Columns of one kind are built as one 2-D block (a start info may hold 100,000 hparams:
    one pandas Series per column would take tens of seconds).
    """
    index = _index(model)
    names = list(model.hparam_infos)
    # Hparams a session logged but a declared experiment left out: TensorBoard still shows them
    # in the session's hparams, so they are kept as extra columns (sorted by name) at the end.
    known = set(names)
    names += sorted({k for h in model.session_hparams for k in h if k not in known})
    by_kind: dict[str, tuple[list[str], list[np.ndarray]]] = {}
    for name in names:
        column = _hparam_column([h.get(name) for h in model.session_hparams])
        kind = column.dtype.kind
        entry = by_kind.setdefault(kind, ([], []))
        entry[0].append(name)
        entry[1].append(column)
    if not by_kind:
        return pd.DataFrame(index=index)
    blocks = [
        pd.DataFrame(
            np.column_stack(columns) if columns else np.zeros((len(index), 0)),
            index=index,
            columns=pd.Index(block_names, dtype=object),
            dtype=object if kind == "O" else None,  # keep object columns object (pandas 3 would infer str)
        )
        for kind, (block_names, columns) in by_kind.items()
    ]
    frame = blocks[0] if len(blocks) == 1 else pd.concat(blocks, axis=1)
    return frame if list(frame.columns) == names else frame[names]


def scalars_frame(model: Model) -> pd.DataFrame:
    """Long table of every value of every scalar series belonging to a session.

    Columns: session, group, tag (categoricals), step (int64), wall_time, value (float64);
    rows sorted by session, group, tag, then in TensorBoard's read order.
    """
    # The model numbers scalar series in this table's order, sessions' series first, so the
    # rows are one leading slice of the value columns: no gather, no sort.
    sess = model.series_session
    n = int(np.count_nonzero(sess >= 0))
    counts = (model.series_stop[:n] - model.series_start[:n]) if n else np.zeros(0, np.int64)
    total = int(model.series_stop[n - 1]) if n else 0
    groups = sorted(set(model.series_group[:n]))
    tags = sorted(set(model.series_tag[:n]))
    gpos = {g: i for i, g in enumerate(groups)}
    tpos = {t: i for i, t in enumerate(tags)}
    s_codes = np.repeat(sess[:n].astype(np.int32), counts)
    g_codes = np.repeat(np.array([gpos[g] for g in model.series_group[:n]], dtype=np.int32), counts)
    t_codes = np.repeat(np.array([tpos[t] for t in model.series_tag[:n]], dtype=np.int32), counts)
    idx = slice(0, total)
    return pd.DataFrame(
        {
            "session": pd.Categorical.from_codes(s_codes, categories=pd.Index(model.sessions, dtype=object)),
            "group": pd.Categorical.from_codes(g_codes, categories=pd.Index(groups, dtype=object)),
            "tag": pd.Categorical.from_codes(t_codes, categories=pd.Index(tags, dtype=object)),
            "step": model.step[idx],
            "wall_time": model.wall[idx],
            "value": model.value[idx],
        }
    )


def metric_values(model: Model, mode: str, k: int) -> np.ndarray:
    """Matrix ``[session, metric]`` of float64 values for a parsed value mode (NaN: absent).

    ``last`` is the last value read (TensorBoard's); ``max``/``min``/``mean-last`` ignore NaN
    values (NaN only when every considered value is NaN).
    """
    ms = model.metric_series
    out = np.full(ms.shape, np.nan)
    present = ms >= 0
    if not present.any():
        return out
    r = ms[present]
    start = model.series_start[r]
    stop = model.series_stop[r]
    v = model.value
    if mode == "last":
        out[present] = v[stop - 1]
        return out
    if mode == "mean-last":
        start = np.maximum(start, stop - k)
    counts = stop - start
    offsets = np.cumsum(counts) - counts
    idx = np.arange(int(counts.sum())) - np.repeat(offsets - start, counts)
    vals = v[idx]
    nan = np.isnan(vals)
    if mode in ("max", "min"):
        fill = -np.inf if mode == "max" else np.inf
        ufunc = np.maximum if mode == "max" else np.minimum
        res = ufunc.reduceat(np.where(nan, fill, vals), offsets)
        n_ok = np.add.reduceat((~nan).astype(np.int64), offsets)
        res[n_ok == 0] = np.nan
    else:  # mean-last
        sums = np.add.reduceat(np.where(nan, 0.0, vals), offsets)
        n_ok = np.add.reduceat((~nan).astype(np.int64), offsets)
        with np.errstate(invalid="ignore", divide="ignore"):
            res = sums / n_ok
    out[present] = res
    return out


def metrics_frame(model: Model, values: np.ndarray) -> pd.DataFrame:
    """Sessions x metrics (``MetricInfo.name`` columns, ``metric_infos`` order), float64."""
    columns = pd.Index([m.name for m in model.metric_infos], dtype=object)
    return pd.DataFrame(values, index=_index(model), columns=columns, dtype=np.float64)


def unique_columns(names: list[str], taken: set[str], prefix: str) -> list[str]:
    """The one rule for column names in joined tables: a name already taken gets ``<prefix>:``.

    ``taken`` holds the names to its left (and ``session``, the index that exports turn into a
    column); it is updated with the names returned.
    """
    out = []
    for name in names:
        while name in taken:
            name = f"{prefix}:{name}"
        taken.add(name)
        out.append(name)
    return out


def joined_frame(sessions: pd.DataFrame, hparams: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Session info, then hparams, then metrics.

    Column names follow :func:`unique_columns`: an hparam named like the index (``session``) or
    a session column (``group``, ``status``...) is prefixed ``hparam:``; a metric named like any
    of those or like an hparam is prefixed ``metric:``. Names stay unique, so CSV headers and the
    exported ``session`` column never clash.
    """
    taken = {str(sessions.index.name or "session"), *map(str, sessions.columns)}
    hp = hparams.copy()
    hp.columns = pd.Index(unique_columns([str(c) for c in hp.columns], taken, "hparam"), dtype=object)
    taken.update(map(str, hparams.columns))  # a metric named like an hparam is prefixed even then
    met = metrics.copy()
    met.columns = pd.Index(unique_columns([str(c) for c in met.columns], taken, "metric"), dtype=object)
    return pd.concat([sessions, hp, met], axis=1)


def group_frame(model: Model, values: np.ndarray) -> pd.DataFrame:
    """One row per group: ``count`` (sessions), then ``<metric>`` mean and ``<metric>:std``.

    As TensorBoard averages a group, a session lacking a metric is left out of that metric's
    mean (a NaN value it did log makes the mean NaN). ``std`` is the sample std (ddof=1).
    """
    groups = sorted(set(model.groups))
    gpos = {g: i for i, g in enumerate(groups)}
    codes = np.array([gpos[g] for g in model.groups], dtype=np.int64)
    present = model.metric_series >= 0
    data: dict[str, np.ndarray] = {"count": np.bincount(codes, minlength=len(groups)).astype(np.int64)}
    n_groups = len(groups)
    taken = {"group", "count"}
    names = unique_columns([m.name for m in model.metric_infos], taken, "metric")
    for j, name in enumerate(names):
        sel = present[:, j]
        c = codes[sel]
        vals = values[sel, j]
        n = np.bincount(c, minlength=n_groups).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(c, weights=vals, minlength=n_groups) / n  # NaN propagates, as in TB
            dev = vals - mean[c]
            std = np.sqrt(np.bincount(c, weights=dev * dev, minlength=n_groups) / (n - 1))
        mean[n == 0] = np.nan
        std[n < 2] = np.nan
        data[name] = mean
        data[f"{name}:std"] = std
    return pd.DataFrame(data, index=pd.Index(groups, name="group", dtype=object))


def metric_steps_frame(model: Model, group: str, tag: str) -> pd.DataFrame:
    """Every value of metric ``(group, tag)`` per session: session, step, wall_time, value.

    Rows are sorted by session, then in read order (TensorBoard's: files in name order, records
    in file order); a session that never logged the metric has no rows.
    """
    sess = model.series_session
    rows = [
        r
        for r in range(len(model.series_run))
        if sess[r] >= 0 and model.series_group[r] == group and model.series_tag[r] == tag
    ]
    rows.sort(key=lambda r: int(sess[r]))
    starts = model.series_start[rows] if rows else np.zeros(0, np.int64)
    stops = model.series_stop[rows] if rows else np.zeros(0, np.int64)
    counts = stops - starts
    idx = np.concatenate([np.arange(a, b) for a, b in zip(starts.tolist(), stops.tolist())]) if rows else np.zeros(0, np.int64)
    codes = np.repeat(np.asarray([sess[r] for r in rows], np.int32), counts)
    return pd.DataFrame(
        {
            "session": pd.Categorical.from_codes(codes, categories=pd.Index(model.sessions, dtype=object)),
            "step": model.step[idx],
            "wall_time": model.wall[idx],
            "value": model.value[idx],
        }
    )
