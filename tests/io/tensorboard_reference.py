"""Reference helpers for the io tests: TensorBoard's own view of a logdir and ours, as plain data.

``tensorboard_view(logdir)`` asks TensorBoard's HParams backend (the same Python code that
serves ``/data/plugin/hparams/experiment`` and ``/session_groups``) in-process, over a
``MultiplexerDataProvider`` built exactly as ``tensorboard --logdir`` builds it.
``reader_view(logdir)`` builds the same structure from :func:`hparams_tools.read_experiment`.
Both return::

    {"description": str,
     "hparam_infos": {name: {"type": "float"|"string"|"bool"|None, "domain": None | ("interval", lo, hi)
                             | ("discrete", sorted values)}},
     "metrics": sorted metric names ("group/tag" or "tag"),
     "groups": {group: {"count": sessions, "metrics": {name: mean of the sessions' last values}}},
     "sessions": {session: {"group", "status", "start_time" (None when not written),
                            "end_time" (None when no end info),
                            "hparams": {name: value}, "metrics": {name: last value}}}}

Metric values that are missing or NaN are left out on both sides (TensorBoard omits a missing
metric; the reader's metrics table has NaN for both); tests that care about NaN check it directly.
TensorBoard keeps hparams per session group (taken from the group's first session), so a
session's hparams on its side are its group's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

_STATUS = {0: "UNKNOWN", 1: "SUCCESS", 2: "FAILURE", 3: "RUNNING"}
_TYPE = {0: None, 1: "string", 2: "bool", 3: "float"}


def _pb_value(value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return float(value.number_value)
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return bool(value.bool_value)
    return None


def _sorted_values(values) -> list:
    return sorted(values, key=lambda v: (type(v).__name__, v))


def tensorboard_view(logdir: str | Path) -> dict:
    """TensorBoard's HParams backend's experiment and session groups for ``logdir`` as plain data."""
    from tensorboard import context as tb_context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

    logdir = str(logdir)
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    context = backend_context.Context(
        base_plugin.TBContext(logdir=logdir, multiplexer=multiplexer, data_provider=provider)
    )
    request_context = tb_context.RequestContext()
    experiment = get_experiment.Handler(request_context, context, "", api_pb2.GetExperimentRequest()).run()
    request = api_pb2.ListSessionGroupsRequest(
        start_index=0,
        slice_size=1_000_000,
        allowed_statuses=list(_STATUS),
    )
    response = list_session_groups.Handler(request_context, context, "", request).run()
    return view_from_protos(experiment, response)


def view_from_protos(experiment, response) -> dict:
    """Plain data from an ``api_pb2.Experiment`` and an ``api_pb2.ListSessionGroupsResponse``.

    TensorBoard keys metrics by ``(group, tag)``; they are named here by the reader's documented
    naming rule (``<group>/<tag>``, or the collision names of :func:`name_metrics`), so that two
    metrics that flatten to one name stay apart on both sides.
    """
    from hparams_tools.io._model import MetricInfo, name_metrics

    assert response.total_size == len(response.session_groups)
    named = name_metrics([MetricInfo(m.name.group, m.name.tag) for m in experiment.metric_infos])
    names = {(m.group, m.tag): m.name for m in named}

    def _metric_name(name) -> str:
        return names.get((name.group, name.tag)) or (f"{name.group}/{name.tag}" if name.group else name.tag)
    infos = {}
    for info in experiment.hparam_infos:
        domain_kind = info.WhichOneof("domain")
        if domain_kind == "domain_interval":
            domain = ("interval", info.domain_interval.min_value, info.domain_interval.max_value)
        elif domain_kind == "domain_discrete":
            domain = ("discrete", _sorted_values(_pb_value(v) for v in info.domain_discrete.values))
        else:
            domain = None
        infos[info.name] = {"type": _TYPE[info.type], "domain": domain}
    sessions = {}
    groups = {}
    for group in response.session_groups:
        groups[group.name] = {
            "count": len(group.sessions),
            # TensorBoard's group value: the mean over the sessions that have the metric
            "metrics": {_metric_name(mv.name): mv.value for mv in group.metric_values if math.isfinite(mv.value)},
        }
        hparams = {k: _pb_value(v) for k, v in group.hparams.items()}
        for session in group.sessions:
            metrics = {}
            for mv in session.metric_values:
                if not math.isnan(mv.value):
                    metrics[_metric_name(mv.name)] = mv.value
            sessions[session.name] = {
                "group": group.name,
                "status": _STATUS[session.status],
                # proto3: 0 means "not written" (tensorboardX/PyTorch write no start time)
                "start_time": session.start_time_secs or None,
                "end_time": session.end_time_secs or None,
                "hparams": hparams,
                "metrics": metrics,
            }
    return {
        "description": experiment.description,
        "hparam_infos": infos,
        "metrics": sorted(m.name for m in named),
        "sessions": sessions,
        "groups": groups,
    }


def _py(value) -> Any:
    """numpy scalar -> Python scalar; NaN/None -> None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def reader_view(logdir: str | Path, experiment=None) -> dict:
    """The same structure as :func:`tensorboard_view`, from ``hparams_tools.read_experiment``."""
    from hparams_tools import read_experiment
    from hparams_tools.io.experiment import Discrete, Interval

    exp = experiment if experiment is not None else read_experiment(logdir)
    infos = {}
    for name, info in exp.hparam_infos.items():
        if isinstance(info.domain, Interval):
            domain = ("interval", info.domain.min_value, info.domain.max_value)
        elif isinstance(info.domain, Discrete):
            domain = ("discrete", _sorted_values(_py(v) for v in info.domain.values))
        else:
            domain = None
        infos[name] = {"type": info.type, "domain": domain}
    metrics_table = exp.metrics("last")
    sessions = {}
    for session, row in exp.sessions.iterrows():
        hparams = {}
        if session in exp.hparams.index:
            for name, value in exp.hparams.loc[session].items():
                value = _py(value)
                if value is not None:
                    hparams[name] = value
        metrics = {}
        if session in metrics_table.index:
            for name, value in metrics_table.loc[session].items():
                if not math.isnan(value):
                    metrics[name] = float(value)
        end = _py(row["end_time"])
        sessions[session] = {
            "group": row["group"],
            "status": row["status"],
            "start_time": _py(row["start_time"]),
            "end_time": end,
            "hparams": hparams,
            "metrics": metrics,
        }
    group_table = exp.group_table("last")
    groups = {}
    for group, row in group_table.iterrows():
        names = [c for c in group_table.columns if c != "count" and not str(c).endswith(":std")]
        groups[group] = {
            "count": int(row["count"]),
            "metrics": {name: float(row[name]) for name in names if math.isfinite(row[name])},
        }
    return {
        "description": exp.description,
        "hparam_infos": infos,
        "metrics": sorted(m.name for m in exp.metric_infos),
        "sessions": sessions,
        "groups": groups,
    }


def typed(mapping: dict) -> dict:
    """``{name: (type name, value)}``: makes ``True == 1.0`` and ``0.0 == False`` compare unequal."""
    return {k: (type(v).__name__, v) for k, v in mapping.items()}


def assert_matches_tensorboard(logdir: str | Path) -> dict:
    """Assert the reader's view of ``logdir`` equals TensorBoard's; return TensorBoard's view."""
    tb = tensorboard_view(logdir)
    ours = reader_view(logdir)
    assert tb["sessions"], f"TensorBoard found no sessions in {logdir}: the test case is broken"
    assert sorted(ours["sessions"]) == sorted(tb["sessions"])
    for name, expected in tb["sessions"].items():
        got = ours["sessions"][name]
        for key in ("group", "status", "start_time", "end_time", "metrics"):
            assert got[key] == expected[key], f"session {name!r}: {key} {got[key]!r} != TensorBoard {expected[key]!r}"
        assert typed(got["hparams"]) == typed(expected["hparams"]), (
            f"session {name!r}: hparams {got['hparams']!r} != TensorBoard {expected['hparams']!r}"
        )
    assert ours["metrics"] == tb["metrics"]
    assert sorted(ours["groups"]) == sorted(tb["groups"])
    for name, expected in tb["groups"].items():
        got = ours["groups"][name]
        assert got["count"] == expected["count"], f"group {name!r}"
        # Where a member's last value is NaN TensorBoard's mean is NaN (left out above); compare the rest.
        for metric, value in expected["metrics"].items():
            assert got["metrics"].get(metric) == pytest.approx(value, rel=1e-12), f"group {name!r} metric {metric!r}"
    assert ours["hparam_infos"] == tb["hparam_infos"]
    assert ours["description"] == tb["description"]
    return tb


def tensorboard_http_view(url: str) -> dict:
    """The same structure from a running ``tensorboard`` server's HParams HTTP API at ``url``."""
    import json
    import urllib.request

    from google.protobuf import json_format
    from tensorboard.plugins.hparams import api_pb2

    def post(route: str, body: dict, proto):
        request = urllib.request.Request(
            f"{url}/data/plugin/hparams/{route}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json_format.Parse(reply.read(), proto, ignore_unknown_fields=True)

    experiment = post("experiment", {"experimentName": ""}, api_pb2.Experiment())
    statuses = [api_pb2.Status.Name(s) for s in _STATUS]
    response = post("session_groups", {"startIndex": 0, "sliceSize": 1_000_000, "allowedStatuses": statuses},
                    api_pb2.ListSessionGroupsResponse())
    return view_from_protos(experiment, response)
