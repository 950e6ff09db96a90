"""Event protos -> plain data: scalars, HParams session start/end infos, experiment configs.

Protos come from the ``tensorboard`` package (never TensorFlow). Decoding follows
TensorBoard's loader (``data_compat`` + ``plugin_event_accumulator``):

* a tag's kind in a run is fixed by the *first* value of that tag carrying
  metadata (writers strip metadata from later values); ``simple_value`` always
  counts as plugin ``scalars`` (TensorBoard migrates it so);
* a scalar is a ``simple_value`` or a one-element numeric ``tensor``
  (``tensor_content`` or the typed ``*_val`` fields) of a ``scalars`` tag;
* HParams data is the plugin content of the first ``hparams`` metadata of the
  tags ``_hparams_/experiment``, ``_hparams_/session_start_info`` and
  ``_hparams_/session_end_info``.

The hot path, :func:`parse_file_into`, appends scalar candidates column-wise into
a :class:`ValueSink` (compact arrays, no per-value objects); the run-level
decision "is this tag a scalar" is taken later, once all of a run's files are
read, because a tag's metadata may sit in an earlier file of the run.
"""

from __future__ import annotations

import math
import os
import struct
from sys import intern
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

from ._model import Discrete, HParamInfo, Interval, MetricInfo
from ._templates import SCALARS_PLUGIN, ParseContext, TemplateCache, learn_template, read_varint
from .records import Damage, scan_file

__all__ = [
    "Scalar",
    "SessionStart",
    "SessionEnd",
    "ExperimentInfo",
    "FileInfo",
    "ValueSink",
    "SeriesEntry",
    "Undecodable",
    "decode_series_hparams",
    "event_header",
    "parse_file_into",
    "read_events",
    "decode_hparams_content",
    "EXPERIMENT_TAG",
    "SESSION_START_TAG",
    "SESSION_END_TAG",
    "SCALARS_PLUGIN",
    "HPARAMS_PLUGIN",
]

EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"
HPARAMS_PLUGIN = "hparams"
# What each HParams tag must hold (the HParamsPluginData oneof), and its name in messages.
_HPARAMS_KINDS = {
    EXPERIMENT_TAG: ("experiment", "experiment"),
    SESSION_START_TAG: ("session_start_info", "session start info"),
    SESSION_END_TAG: ("session_end_info", "session end info"),
}

_STATUS = {
    api_pb2.STATUS_UNKNOWN: "UNKNOWN",
    api_pb2.STATUS_SUCCESS: "SUCCESS",
    api_pb2.STATUS_FAILURE: "FAILURE",
    api_pb2.STATUS_RUNNING: "RUNNING",
}
_DATA_TYPE = {
    api_pb2.DATA_TYPE_UNSET: None,
    api_pb2.DATA_TYPE_FLOAT64: "float",
    api_pb2.DATA_TYPE_STRING: "string",
    api_pb2.DATA_TYPE_BOOL: "bool",
}
# dtype enum -> (struct format of one element in tensor_content, typed field of TensorProto)
_DTYPES: dict[int, tuple[str, str]] = {
    1: ("<f", "float_val"),  # DT_FLOAT
    2: ("<d", "double_val"),  # DT_DOUBLE
    3: ("<i", "int_val"),  # DT_INT32
    4: ("<B", "int_val"),  # DT_UINT8
    5: ("<h", "int_val"),  # DT_INT16
    6: ("<b", "int_val"),  # DT_INT8
    9: ("<q", "int64_val"),  # DT_INT64
    10: ("<?", "bool_val"),  # DT_BOOL
    14: ("bf16", "half_val"),  # DT_BFLOAT16 (upper 16 bits of a float32)
    17: ("<H", "int_val"),  # DT_UINT16
    19: ("<e", "half_val"),  # DT_HALF
    22: ("<I", "uint32_val"),  # DT_UINT32
    23: ("<Q", "uint64_val"),  # DT_UINT64
}
_unpack_f = struct.Struct("<f").unpack
_unpack_d_from = struct.Struct("<d").unpack_from
_unpack_f_from = struct.Struct("<f").unpack_from


@dataclass(frozen=True)
class Scalar:
    """One scalar value: ``tag`` at ``step`` (``wall_time`` in seconds since the epoch)."""

    tag: str
    step: int
    wall_time: float
    value: float


@dataclass(frozen=True)
class SessionStart:
    """An HParams session start info: hparam values, group name, start time (s; NaN if unset)."""

    hparams: dict[str, float | str | bool]
    group_name: str
    start_time: float


@dataclass(frozen=True)
class SessionEnd:
    """An HParams session end info: status (SUCCESS/FAILURE/RUNNING/UNKNOWN), end time (s; NaN if unset: proto3 writes 0)."""

    status: str
    end_time: float


@dataclass(frozen=True)
class ExperimentInfo:
    """A declared experiment (``hp.hparams_config``)."""

    description: str
    hparam_infos: tuple[HParamInfo, ...]
    metric_infos: tuple[MetricInfo, ...]
    time_created: float


@dataclass
class FileInfo:
    """Bookkeeping of one parse of one event file.

    Attributes:
        path: The file.
        end: Offset where the next read resumes.
        size: File size when read.
        n_records: Records parsed in this read.
        damage: Damaged spans found in this read.
    """

    path: str
    end: int
    size: int
    n_records: int
    damage: list[Damage] = field(default_factory=list)


class SeriesEntry(NamedTuple):
    """One (file, tag) series and the tag's first metadata *in that file*.

    Attributes:
        file: The caller's index of the file.
        tag: The tag.
        plugin: The plugin named by the tag's first metadata (``"scalars"`` for a
            ``simple_value``), ``None`` until one is seen.
        content: That metadata's plugin content; for the HParams tags already decoded (see
            :func:`decode_series_hparams`).
    """

    file: int
    tag: str
    plugin: str | None
    content: Any


@dataclass(frozen=True)
class Undecodable:
    """An HParams info that cannot be used, and why (it is reported as :class:`Damage`)."""

    reason: str


class ValueSink:
    """Column-wise store of scalar candidates of many files.

    ``series[i]`` is the i-th :class:`SeriesEntry`; ``sid/step/wall/value`` hold one entry
    per value (``sid`` indexes ``series``), in file then record order.
    """

    __slots__ = ("series", "sid", "step", "wall", "value")

    def __init__(self) -> None:
        self.series: list[SeriesEntry] = []
        # arrays while a file is parsed record by record; the batch decoder stores numpy arrays
        self.sid: array | np.ndarray = array("i")
        self.step: array | np.ndarray = array("q")
        self.wall: array | np.ndarray = array("d")
        self.value: array | np.ndarray = array("d")


def _half_bits_to_float(bits: int, bf16: bool) -> float:
    if bf16:
        return struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0]
    return struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0]


def tensor_scalar(t: Any) -> float | None:
    """Return the value of a one-element numeric ``TensorProto``, or ``None`` if it is not one.

    Mirrors ``tensor_util.make_ndarray(t).item()`` as TensorBoard's scalar reader uses it:
    ``tensor_content`` when present, else the typed value field (a tensor without any value,
    which ``make_ndarray`` cannot read, is not a scalar).
    """
    spec = _DTYPES.get(t.dtype)
    if spec is None:
        return None
    n_elem = 1
    for d in t.tensor_shape.dim:
        n_elem *= d.size
    if n_elem != 1:
        return None
    fmt, field_name = spec
    content = t.tensor_content
    if content:
        if fmt == "bf16":
            return _half_bits_to_float(struct.unpack("<H", content)[0], True) if len(content) == 2 else None
        if len(content) != struct.calcsize(fmt):
            return None
        return float(struct.unpack(fmt, content)[0])
    vals = getattr(t, field_name)
    if not vals:  # make_ndarray cannot reshape an empty value list: not a usable scalar
        return None
    v = vals[0]
    if field_name == "half_val":
        return _half_bits_to_float(v, fmt == "bf16")
    return float(v)


def summary_values(ev: Any) -> list[tuple[str, str | None, Any]]:
    """``(tag, value kind, Summary.Value)`` of each value of an event's summary (none without one)."""
    if not ev.HasField("summary"):
        return []
    return [(v.tag or v.node_name, v.WhichOneof("value"), v) for v in ev.summary.value]


def value_of(v: Any, kind: str | None) -> float | None:
    """The scalar a ``Summary.Value`` holds (``kind`` = its ``value`` oneof), or ``None``."""
    if kind == "tensor":
        t = v.tensor
        c = t.tensor_content
        if t.dtype == 1 and len(c) == 4 and not t.tensor_shape.dim:
            return _unpack_f(c)[0]
        return tensor_scalar(t)
    if kind == "simple_value":
        return v.simple_value
    return None


class FileHit(NamedTuple):
    """A template registered in one file: its series there, its suffix and the suffix's length."""

    sid: int
    suffix: bytes
    suffix_len: int


def _template_hit(
    payload: bytes,
    p: int,
    file_index: int,
    templates: TemplateCache,
    by_key: dict[bytes, FileHit],
    local: dict[str, int],
    meta_seen: set[str],
    series: list[SeriesEntry],
) -> tuple[FileHit | None, int]:
    """Find a known template for ``payload`` (any suffix length); register its tag in this file.

    Returns ``(hit, value offset)`` or ``(None, 0)``.
    """
    n = len(payload)
    for k in templates.suffix_lengths:
        at = n - 4 - k
        if at <= p:
            continue
        key = payload[p:at]
        hit = by_key.get(key)
        if hit is not None and hit.suffix_len != k:
            continue
        if hit is None:
            template = templates.lookup(key)
            if template is None or template.suffix_len != k:
                continue
            if not payload.endswith(template.suffix):  # verify before the tag is registered in this file
                continue
            tag = template.tag
            sid = local.get(tag)
            if sid is None:
                sid = local[tag] = len(series)
                series.append(SeriesEntry(file_index, tag, None, b""))
            if template.plugin is not None and tag not in meta_seen:
                meta_seen.add(tag)
                series[sid] = SeriesEntry(file_index, tag, template.plugin, template.content)
            hit = by_key[key] = FileHit(sid, template.suffix, k)
        if payload.endswith(hit.suffix):
            templates.promote(k)
            return hit, at
    return None, 0


def event_header(payload: bytes) -> tuple[int, int]:
    """``(step, end of header)`` of an event that starts ``wall_time [step]``; end -1 if not.

    A step varint that does not fit 64 bits also gives -1: protobuf decides about that record.
    """
    if len(payload) <= 16 or payload[0] != 0x09:
        return 0, -1
    if payload[9] != 0x10:
        return 0, 9
    step = payload[10]
    if step < 0x80:
        return step, 11
    step, p = read_varint(payload, 10)
    if step >= 1 << 63:  # int64 step, two's complement
        step -= 1 << 64
    return step, p


def parse_file_into(
    sink: ValueSink, file_index: int, path: str, offset: int = 0, context: ParseContext | None = None
) -> FileInfo:
    """Parse one event file from ``offset``, appending its scalar candidates to ``sink``.

    Fast path: most records of a sweep are one-value float32 scalar events whose bytes,
    apart from ``wall_time``, ``step`` and the 4 value bytes, repeat exactly (same tag, same
    layout, same metadata). Once such a layout has been verified by a full protobuf parse
    (see :func:`~hparams_tools.io._templates.learn_template`), later records with the
    identical layout are decoded by slicing; everything else goes through the protobuf
    parser. Results are identical.

    Args:
        sink: Where values and (file, tag) series go.
        file_index: Caller's index of this file (stored in ``sink.series``).
        path: The event file.
        offset: Byte offset to resume from.
        context: Templates and counters to use and update (a fresh one when ``None``).

    Returns:
        The file's :class:`FileInfo` (new end offset, damage).
    """
    context = context or ParseContext()
    templates = context.templates
    info = FileInfo(path, offset, offset, 0, [])
    series = sink.series
    first_series = len(series)
    sid_append = sink.sid.append
    step_append = sink.step.append
    wall_append = sink.wall.append
    value_append = sink.value.append
    local: dict[str, int] = {}  # tag -> series id (for this file)
    by_key: dict[bytes, FileHit] = {}  # prefix -> hit, this file
    meta_seen: set[str] = set()
    meta_offset: dict[int, int] = {}  # series id -> offset of the record its metadata came from
    from_string = event_pb2.Event.FromString
    unpack_f_from = _unpack_f_from
    value_of_ = value_of
    unpack_d = _unpack_d_from
    ks = templates.suffix_lengths
    k0 = ks[0] if ks else 0
    for batch in scan_file(path, offset):  # window by window: memory bounded by the largest record
        info.damage.extend(batch.damage)
        info.n_records += len(batch.payloads)
        info.end, info.size = batch.end, batch.size
        for i, payload in enumerate(batch.payloads):
            # -- fast path: b"\x09" wall(8) [b"\x10" varint step] summary(... value(4) suffix)
            step, p = event_header(payload)
            if p >= 0:
                n = len(payload)
                at = n - 4 - k0
                hit = by_key.get(payload[p:at]) if at > p else None
                # the entry must be for this suffix length and the suffix must match byte for byte
                if hit is None or hit.suffix_len != k0 or not payload.endswith(hit.suffix):
                    hit, at = _template_hit(payload, p, file_index, templates, by_key, local, meta_seen, series)
                    if hit is not None:
                        k0 = n - 4 - at
                if hit is not None:
                    sid_append(hit.sid)
                    step_append(step)
                    wall_append(unpack_d(payload, 1)[0])
                    value_append(unpack_f_from(payload, at)[0])
                    continue
            # -- general path
            try:
                ev = from_string(payload)
            except DecodeError:
                info.damage.append(
                    Damage(path, batch.offsets[i], "record is not an Event proto; skipped", len(payload) + 16)
                )
                continue
            step = ev.step
            wall = ev.wall_time
            for tag, kind, v in summary_values(ev):
                sid = local.get(tag)
                if sid is None:
                    tag = intern(tag)  # one string object per tag name, not one per file
                    sid = local[tag] = len(series)
                    series.append(SeriesEntry(file_index, tag, None, b""))
                if tag not in meta_seen:
                    if kind == "simple_value":
                        meta_seen.add(tag)
                        series[sid] = SeriesEntry(file_index, tag, SCALARS_PLUGIN, b"")
                    elif v.HasField("metadata"):
                        meta_seen.add(tag)
                        pd = v.metadata.plugin_data
                        series[sid] = SeriesEntry(file_index, tag, pd.plugin_name, pd.content)
                        meta_offset[sid] = batch.offsets[i]
                val = value_of_(v, kind)
                if val is None:
                    continue
                sid_append(sid)
                step_append(step)
                wall_append(wall)
                value_append(val)
            if p >= 0 and not templates.full:
                learnt = learn_template(ev, payload, p)
                if learnt is not None:
                    templates.learn(*learnt)
    # Decode HParams infos here (in the worker, when parsing in parallel) rather than later.
    decode_series_hparams(series, first_series, info.damage, lambda sid: (path, meta_offset.get(sid, offset)))
    info.damage.sort(key=lambda d: d.offset)
    stats = context.stats
    stats.records += info.n_records
    stats.bytes += info.size - offset
    stats.files += 1
    return info


def _value_to_python(value: Any) -> float | str | bool | None:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


def _hparam_info(pb: Any) -> HParamInfo:
    domain: Interval | Discrete | None = None
    which = pb.WhichOneof("domain")
    if which == "domain_discrete":
        values = tuple(v for v in (_value_to_python(x) for x in pb.domain_discrete.values) if v is not None)
        domain = Discrete(values)
    elif which == "domain_interval":
        iv = pb.domain_interval
        domain = Interval(iv.min_value, iv.max_value)
    return HParamInfo(pb.name, _DATA_TYPE.get(pb.type), pb.display_name, pb.description, domain)


def _nan_if_zero(t: float) -> float:
    return t if t else math.nan


def decode_hparams_content(
    content: bytes, tag: str | None = None
) -> SessionStart | SessionEnd | ExperimentInfo | Undecodable | None:
    """Decode an ``hparams`` plugin content (``HParamsPluginData``).

    This is the one place that decides what a usable HParams info is.

    Args:
        content: The plugin content.
        tag: The tag it was logged under; one of the three HParams tags requires its own kind
            (an end info under the start tag is :class:`Undecodable`). ``None``: any kind.

    Returns:
        The decoded info; :class:`Undecodable` (with the reason) when it cannot be decoded or is
        of the wrong kind for ``tag``; ``None`` when it holds no HParams data at all.
    """
    expected = _HPARAMS_KINDS.get(tag) if tag is not None else None
    what = expected[1] if expected else "HParams data"
    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except (DecodeError, RecursionError, ValueError) as exc:
        # invalid UTF-8, nesting deeper than protobuf's limit, garbage
        return Undecodable(f"{what} cannot be decoded ({_one_line(exc) or 'malformed protobuf'})")
    which = data.WhichOneof("data")
    if expected is not None and which is not None and which != expected[0]:
        found = next((name for field_, name in _HPARAMS_KINDS.values() if field_ == which), which)
        return Undecodable(f"a {found} logged under tag {tag!r}, which must hold a {what}")
    if which == "session_start_info":
        s = data.session_start_info
        hparams = {k: _value_to_python(v) for k, v in s.hparams.items()}
        return SessionStart(
            {k: v for k, v in sorted(hparams.items()) if v is not None},
            s.group_name,
            _nan_if_zero(s.start_time_secs),
        )
    if which == "session_end_info":
        e = data.session_end_info
        return SessionEnd(_STATUS.get(e.status, "UNKNOWN"), _nan_if_zero(e.end_time_secs))
    if which == "experiment":
        x = data.experiment
        return ExperimentInfo(
            x.description,
            tuple(_hparam_info(h) for h in x.hparam_infos),
            tuple(
                MetricInfo(m.name.group, m.name.tag, m.display_name, m.description) for m in x.metric_infos
            ),
            x.time_created_secs,
        )
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def decode_series_hparams(
    series: list[SeriesEntry], first: int, damage: list[Damage], where: Callable[[int], tuple[str, int]]
) -> None:
    """Decode the HParams infos of ``series[first:]`` in place; report unusable ones as damage.

    Args:
        series: The series of the files just parsed.
        first: The first series of those files.
        damage: Where :class:`Damage` entries go.
        where: ``where(series id)`` -> ``(path, offset)`` of the record the metadata came from.
    """
    for j in range(first, len(series)):
        entry = series[j]
        if entry.plugin != HPARAMS_PLUGIN or not isinstance(entry.content, bytes):
            continue
        decoded = decode_hparams_content(entry.content, entry.tag)
        if isinstance(decoded, Undecodable) and entry.tag in _HPARAMS_KINDS:
            path, offset = where(j)
            damage.append(Damage(path, offset, f"{decoded.reason}; ignored"))
        series[j] = entry._replace(content=decoded)


def read_events(
    path: str | os.PathLike[str], context: ParseContext | None = None
) -> tuple[list[Scalar | SessionStart | SessionEnd | ExperimentInfo], list[Damage]]:
    """Read one event file into plain objects (a convenience for inspection and tests).

    Applies the one-file part of TensorBoard's rules: a tag is a scalar when its first
    metadata in the file says ``scalars`` (or it is a ``simple_value``); HParams infos are
    taken from the first ``hparams`` metadata of their tag.

    Args:
        path: The event file.
        context: Templates and counters to use and update (a fresh one when ``None``).

    Returns:
        ``(items, damage)``: HParams infos first (experiment, session start, session end, as
        present), then the scalars in file order.
    """
    sink = ValueSink()
    info = parse_file_into(sink, 0, os.fspath(path), 0, context)
    items: list[Any] = []
    for tag in (EXPERIMENT_TAG, SESSION_START_TAG, SESSION_END_TAG):
        for entry in sink.series:
            if entry.tag == tag and entry.plugin == HPARAMS_PLUGIN and entry.content is not None:
                if not isinstance(entry.content, Undecodable):
                    items.append(entry.content)  # decoded by parse_file_into
    for k in range(len(sink.sid)):
        entry = sink.series[sink.sid[k]]
        if entry.plugin == SCALARS_PLUGIN:
            items.append(Scalar(entry.tag, sink.step[k], sink.wall[k], sink.value[k]))
    return items, info.damage
