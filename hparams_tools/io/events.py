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
from typing import Any

from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

from ._model import Discrete, HParamInfo, Interval, MetricInfo
from .records import Damage, read_file_records

__all__ = [
    "Scalar",
    "SessionStart",
    "SessionEnd",
    "ExperimentInfo",
    "FileInfo",
    "ValueSink",
    "parse_file_into",
    "read_events",
    "decode_hparams_content",
    "EXPERIMENT_TAG",
    "SESSION_START_TAG",
    "SESSION_END_TAG",
    "SCALARS_PLUGIN",
    "HPARAMS_PLUGIN",
    "stats",
]

EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"
SCALARS_PLUGIN = "scalars"
HPARAMS_PLUGIN = "hparams"

#: Counters of the work done in this process (tests use them to prove reloads are incremental).
stats = {"records": 0, "bytes": 0, "files": 0}

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


class ValueSink:
    """Column-wise store of scalar candidates of many files.

    ``series[i] = (file_index, tag, plugin, content)``: the i-th (file, tag) series, with the
    plugin name and content of the tag's first metadata *in that file* (``None`` if none);
    for the ``hparams`` plugin the content is already decoded (:func:`decode_hparams_content`).
    ``sid/step/wall/value`` hold one entry per value, in file then record order.
    """

    __slots__ = ("series", "sid", "step", "wall", "value")

    def __init__(self) -> None:
        self.series: list[tuple[int, str, str | None, bytes]] = []
        self.sid = array("i")
        self.step = array("q")
        self.wall = array("d")
        self.value = array("d")


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


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf varint at ``pos``; return ``(value, position after it)``."""
    value = shift = 0
    n = len(buf)
    while pos < n:
        b = buf[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if b < 0x80:
            break
        shift += 7
    return value, pos


def _learn_template(ev: Any, payload: bytes, p: int) -> tuple[bytes, tuple] | None:
    """Return ``(prefix, template)`` if ``payload`` is a one-value float32 scalar event whose
    bytes are ``header + prefix + value(4) + suffix``, else ``None``.

    ``template = (tag, plugin, content, suffix, k)``: the tag, the plugin and content its
    metadata gives (``None`` when it has none; ``"scalars"`` for a ``simple_value``), the
    ``k``-byte suffix (the serialized metadata, as TensorFlow 2 writes it after the tensor).

    Verified, not assumed: one top-level field (the summary) must span from ``p`` to the end,
    holding one value that is a rank-0 DT_FLOAT ``tensor_content`` or a ``simple_value`` whose
    4 bytes sit right before the suffix; a re-parse with other value bytes must give exactly
    those bytes, the same tag and the same metadata. Every payload with the same prefix, length
    and suffix therefore decodes to this tag and its own 4 value bytes.
    """
    values = ev.summary.value
    n = len(payload)
    if len(values) != 1 or p >= n or payload[p] != 0x2A:
        return None
    length, q = _varint(payload, p + 1)
    if q + length != n:  # the summary must be the last and only field after the header
        return None
    v = values[0]
    kind = v.WhichOneof("value")
    if not v.tag or (kind == "tensor" and len(v.tensor.tensor_content) != 4) or kind not in ("tensor", "simple_value"):
        return None
    suffix = b""
    if v.HasField("metadata"):
        meta = v.metadata.SerializeToString()
        suffix = b"\x4a" + _encode_varint(len(meta)) + meta
        if not payload.endswith(suffix):
            return None
    k = len(suffix)
    at = n - k - 4
    prefix = payload[p:at]
    value_bytes = payload[at : n - k]
    probe = b"\x00\x00\x80\x3f" if value_bytes != b"\x00\x00\x80\x3f" else b"\x00\x00\x00\x40"
    try:
        v2 = event_pb2.Event.FromString(payload[:at] + probe + suffix).summary.value
    except DecodeError:
        return None
    if len(v2) != 1 or v2[0].tag != v.tag or v2[0].WhichOneof("value") != kind or v2[0].metadata != v.metadata:
        return None
    if kind == "tensor":
        t, t2 = v.tensor, v2[0].tensor
        if not prefix.endswith(b"\x22\x04") or t.dtype != 1 or len(t.tensor_shape.dim):
            return None
        if t.tensor_content != value_bytes or t2.tensor_content != probe or t2.dtype != 1 or len(t2.tensor_shape.dim):
            return None
        if k:
            pd = v.metadata.plugin_data
            return prefix, (v.tag, pd.plugin_name, pd.content, suffix, k)
        return prefix, (v.tag, None, b"", suffix, k)
    if kind == "simple_value":
        if not prefix.endswith(b"\x15") or struct.pack("<f", v.simple_value) != value_bytes:
            return None
        if struct.pack("<f", v2[0].simple_value) != probe:
            return None
        return prefix, (v.tag, SCALARS_PLUGIN, b"", suffix, k)
    return None


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


# Keys: the bytes of a scalar event between its wall_time/step header and its 4 value bytes.
# Values: a verified template (see _learn_template). Bounded: one entry per distinct layout.
_TEMPLATES: dict[bytes, tuple[str, str | None, bytes, bytes, int]] = {}
_TEMPLATE_LIMIT = 100_000
# Suffix lengths of the known templates, most recently useful first (usually one or two).
_SUFFIX_LENGTHS: list[int] = []


def _template_hit(
    payload: bytes,
    p: int,
    file_index: int,
    by_key: dict[bytes, tuple[int, bytes, int]],
    local: dict[str, int],
    meta_seen: set[str],
    series: list,
) -> tuple[tuple[int, bytes, int] | None, int]:
    """Find a known template for ``payload`` (any suffix length); register its tag in this file.

    Returns ``((series id, suffix, suffix length), value offset)`` or ``(None, 0)``.
    """
    n = len(payload)
    for k in _SUFFIX_LENGTHS:
        at = n - 4 - k
        if at <= p:
            continue
        key = payload[p:at]
        hit = by_key.get(key)
        if hit is not None and hit[2] != k:
            continue
        if hit is None:
            template = _TEMPLATES.get(key)
            if template is None or template[4] != k:
                continue
            tag, plugin, content, suffix, _ = template
            if not payload.endswith(suffix):  # verify before the tag is registered in this file
                continue
            sid = local.get(tag)
            if sid is None:
                sid = local[tag] = len(series)
                series.append((file_index, tag, None, b""))
            if plugin is not None and tag not in meta_seen:
                meta_seen.add(tag)
                series[sid] = (file_index, tag, plugin, content)
            hit = by_key[key] = (sid, suffix, k)
        if payload.endswith(hit[1]):
            if k != _SUFFIX_LENGTHS[0]:
                _SUFFIX_LENGTHS.remove(k)
                _SUFFIX_LENGTHS.insert(0, k)
            return hit, at
    return None, 0


def parse_file_into(sink: ValueSink, file_index: int, path: str, offset: int = 0) -> FileInfo:
    """Parse one event file from ``offset``, appending its scalar candidates to ``sink``.

    Fast path: most records of a sweep are one-value float32 scalar events whose bytes,
    apart from ``wall_time``, ``step`` and the 4 value bytes, repeat exactly (same tag, same
    layout, same metadata). Once such a layout has been verified by a full protobuf parse
    (see :func:`_learn_template`), later records with the identical layout are decoded by
    slicing; everything else goes through the protobuf parser. Results are identical.

    Args:
        sink: Where values and (file, tag) series go.
        file_index: Caller's index of this file (stored in ``sink.series``).
        path: The event file.
        offset: Byte offset to resume from.

    Returns:
        The file's :class:`FileInfo` (new end offset, damage).
    """
    batch, size = read_file_records(path, offset)
    info = FileInfo(path, batch.end, size, len(batch.payloads), batch.damage)
    series = sink.series
    first_series = len(series)
    sid_append = sink.sid.append
    step_append = sink.step.append
    wall_append = sink.wall.append
    value_append = sink.value.append
    local: dict[str, int] = {}  # tag -> series id (for this file)
    by_key: dict[bytes, tuple[int, bytes, int]] = {}  # prefix -> (series id, suffix, len), this file
    meta_seen: set[str] = set()
    from_string = event_pb2.Event.FromString
    unpack_f_from = _unpack_f_from
    value_of_ = value_of
    unpack_d = _unpack_d_from
    templates = _TEMPLATES
    ks = _SUFFIX_LENGTHS
    k0 = ks[0] if ks else 0
    for i, payload in enumerate(batch.payloads):
        # -- fast path: b"\x09" wall(8) [b"\x10" varint step] summary(... value(4) suffix)
        n = len(payload)
        p = -1
        if n > 16 and payload[0] == 0x09:
            if payload[9] == 0x10:
                step = payload[10]
                if step < 0x80:
                    p = 11
                else:
                    step, p = _varint(payload, 10)
                    if step >= 1 << 63:  # int64 step, two's complement
                        step -= 1 << 64
            else:
                step = 0
                p = 9
            at = n - 4 - k0
            hit = by_key.get(payload[p:at]) if at > p else None
            # the entry must be for this suffix length and the suffix must match byte for byte
            if hit is None or hit[2] != k0 or not payload.endswith(hit[1]):
                hit, at = _template_hit(payload, p, file_index, by_key, local, meta_seen, series)
                if hit is not None:
                    k0 = n - 4 - at
            if hit is not None:
                sid_append(hit[0])
                step_append(step)
                wall_append(unpack_d(payload, 1)[0])
                value_append(unpack_f_from(payload, at)[0])
                continue
        # -- general path
        try:
            ev = from_string(payload)
        except DecodeError:
            info.damage.append(Damage(path, batch.offsets[i], "record is not an Event proto; skipped"))
            continue
        step = ev.step
        wall = ev.wall_time
        for tag, kind, v in summary_values(ev):
            sid = local.get(tag)
            if sid is None:
                tag = intern(tag)  # one string object per tag name, not one per file
                sid = local[tag] = len(series)
                series.append((file_index, tag, None, b""))
            if tag not in meta_seen:
                if kind == "simple_value":
                    meta_seen.add(tag)
                    series[sid] = (file_index, tag, SCALARS_PLUGIN, b"")
                elif v.HasField("metadata"):
                    meta_seen.add(tag)
                    pd = v.metadata.plugin_data
                    series[sid] = (file_index, tag, pd.plugin_name, pd.content)
            val = value_of_(v, kind)
            if val is None:
                continue
            sid_append(sid)
            step_append(step)
            wall_append(wall)
            value_append(val)
        if p >= 0 and len(templates) < _TEMPLATE_LIMIT:
            learnt = _learn_template(ev, payload, p)
            if learnt is not None:
                prefix, template = learnt
                templates[prefix] = template
                if template[4] not in ks:
                    ks.insert(0, template[4])
    # Decode HParams infos here (in the worker, when parsing in parallel) rather than later.
    for j in range(first_series, len(series)):
        entry = series[j]
        if entry[2] == HPARAMS_PLUGIN and isinstance(entry[3], bytes):
            series[j] = (entry[0], entry[1], entry[2], decode_hparams_content(entry[3]))
    stats["records"] += info.n_records
    stats["bytes"] += size - offset
    stats["files"] += 1
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


def decode_hparams_content(content: bytes) -> SessionStart | SessionEnd | ExperimentInfo | None:
    """Decode an ``hparams`` plugin content (``HParamsPluginData``); ``None`` if unusable."""
    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except DecodeError:
        return None
    which = data.WhichOneof("data")
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


def read_events(path: str | os.PathLike[str]) -> tuple[list[Scalar | SessionStart | SessionEnd | ExperimentInfo], list[Damage]]:
    """Read one event file into plain objects (a convenience for inspection and tests).

    Applies the one-file part of TensorBoard's rules: a tag is a scalar when its first
    metadata in the file says ``scalars`` (or it is a ``simple_value``); HParams infos are
    taken from the first ``hparams`` metadata of their tag.

    Returns:
        ``(items, damage)``: HParams infos first (experiment, session start, session end, as
        present), then the scalars in file order.
    """
    sink = ValueSink()
    info = parse_file_into(sink, 0, os.fspath(path))
    items: list[Any] = []
    for tag in (EXPERIMENT_TAG, SESSION_START_TAG, SESSION_END_TAG):
        for _, stag, plugin, content in sink.series:
            if stag == tag and plugin == HPARAMS_PLUGIN and content is not None:
                items.append(content)  # decoded by parse_file_into
    for k in range(len(sink.sid)):
        _, tag, plugin, _ = sink.series[sink.sid[k]]
        if plugin == SCALARS_PLUGIN:
            items.append(Scalar(tag, sink.step[k], sink.wall[k], sink.value[k]))
    return items, info.damage
