"""Verified layouts of scalar events, and the parse state the readers share: who owns what.

Most records of a sweep are one-value float32 scalar events whose bytes, apart from
``wall_time``, ``step`` and the 4 value bytes, repeat exactly (same tag, same layout, same
metadata). :func:`learn_template` verifies such a layout once with a full protobuf parse;
:class:`TemplateCache` keeps the verified layouts; both readers (the per-file one in
:mod:`~hparams_tools.io.events` and the batch one in :mod:`~hparams_tools.io._batch`) decode
later records with an identical layout by slicing.

State is owned, not global: a :class:`ParseContext` (templates + :class:`ParseStats`) belongs
to one :class:`~hparams_tools.io._logdir.LogdirState` and is passed down to every parser call,
so two experiments read in one process never share or corrupt each other's state.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

__all__ = [
    "Template",
    "MaskedTemplate",
    "TemplateCache",
    "ParseStats",
    "ParseContext",
    "learn_template",
    "read_varint",
    "encode_varint",
    "SCALARS_PLUGIN",
]

SCALARS_PLUGIN = "scalars"
#: Templates kept at most per cache (one entry per distinct layout; a sweep has a few dozen).
TEMPLATE_LIMIT = 100_000
_AR8 = np.arange(8)


class Template(NamedTuple):
    """A verified scalar-event layout: ``header + prefix + value(4) + suffix``.

    Attributes:
        tag: The summary value's tag.
        plugin: The plugin its metadata names (``"scalars"`` for a ``simple_value``), ``None``
            without metadata.
        content: The metadata's plugin content (``b""`` when none).
        suffix: The bytes after the 4 value bytes (the serialized metadata, as TensorFlow 2
            writes it after the tensor), ``b""`` when none.
    """

    tag: str
    plugin: str | None
    content: bytes
    suffix: bytes

    @property
    def suffix_len(self) -> int:
        return len(self.suffix)


class MaskedTemplate(NamedTuple):
    """A template as 8-byte words for the batch decoder's comparisons.

    ``words`` and ``masks`` cover the ``rest`` bytes after a record's header (prefix, value,
    suffix) at ``offsets`` (overlapping little-endian words); ``masks`` leave out the value.
    """

    offsets: np.ndarray
    words: np.ndarray
    masks: np.ndarray
    prefix_len: int
    template: Template


class TemplateCache:
    """The verified templates, keyed by the bytes between an event's header and its value.

    Args:
        limit: Templates kept at most (learning stops there; decoding stays exact).
    """

    def __init__(self, limit: int = TEMPLATE_LIMIT) -> None:
        self.limit = limit
        self._by_prefix: dict[bytes, Template] = {}
        # Suffix lengths of the known templates, most recently useful first (usually one or two).
        self.suffix_lengths: list[int] = []
        self._masked: dict[int, list[MaskedTemplate]] = {}
        self._masked_version = -1

    @property
    def version(self) -> int:
        """Changes whenever a template is learnt (the number of templates: they are never dropped)."""
        return len(self._by_prefix)

    @property
    def full(self) -> bool:
        return len(self._by_prefix) >= self.limit

    def __len__(self) -> int:
        return len(self._by_prefix)

    def lookup(self, prefix: bytes) -> Template | None:
        """The template whose prefix is exactly ``prefix``, or ``None``."""
        return self._by_prefix.get(prefix)

    def learn(self, prefix: bytes, template: Template) -> None:
        """Remember a template verified by :func:`learn_template` (ignored once :attr:`full`)."""
        if self.full or prefix in self._by_prefix:
            return
        self._by_prefix[prefix] = template
        if template.suffix_len not in self.suffix_lengths:
            self.suffix_lengths.insert(0, template.suffix_len)

    def promote(self, suffix_len: int) -> None:
        """Try ``suffix_len`` first next time (the last one that matched)."""
        ks = self.suffix_lengths
        if ks and ks[0] != suffix_len:
            ks.remove(suffix_len)
            ks.insert(0, suffix_len)

    def masked(self, rest: int) -> list[MaskedTemplate]:
        """The templates covering exactly ``rest`` bytes after the header, as words and masks."""
        if self._masked_version != self.version:
            by_rest: dict[int, list[MaskedTemplate]] = {}
            for prefix, t in self._by_prefix.items():
                size = len(prefix) + 4 + t.suffix_len
                if size < 8:
                    continue
                offsets = np.minimum(np.arange(0, size, 8), size - 8)
                full = np.frombuffer(prefix + b"\0\0\0\0" + t.suffix, np.uint8)
                keep = np.full(size, 0xFF, np.uint8)
                keep[len(prefix) : len(prefix) + 4] = 0
                words = full[offsets[:, None] + _AR8].view("<u8").ravel()
                masks = keep[offsets[:, None] + _AR8].view("<u8").ravel()
                by_rest.setdefault(size, []).append(MaskedTemplate(offsets, words & masks, masks, len(prefix), t))
            self._masked = by_rest
            self._masked_version = self.version
        return self._masked.get(rest, [])


@dataclass
class ParseStats:
    """Counters of the work one logdir's reads did (tests use them to prove reloads are incremental)."""

    records: int = 0
    bytes: int = 0
    files: int = 0

    def add(self, other: ParseStats) -> None:
        self.records += other.records
        self.bytes += other.bytes
        self.files += other.files


@dataclass
class ParseContext:
    """What parser calls share: the verified templates and the work counters."""

    templates: TemplateCache = field(default_factory=TemplateCache)
    stats: ParseStats = field(default_factory=ParseStats)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf varint at ``pos``; return ``(value, position after it)``.

    Returns ``(0, -1)`` for a varint that does not fit 64 bits (more than 10 bytes, or a 10th
    byte above 1) or runs past the end: the caller leaves such a record to protobuf, which
    decides whether it is an Event at all.
    """
    value = shift = 0
    n = len(buf)
    while pos < n and shift < 70:
        b = buf[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if b < 0x80:
            return (value, pos) if value < 1 << 64 else (0, -1)
        shift += 7
    return 0, -1


def encode_varint(value: int) -> bytes:
    """Encode a non-negative int as a protobuf varint."""
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def learn_template(ev: Any, payload: bytes, p: int) -> tuple[bytes, Template] | None:
    """Return ``(prefix, template)`` if ``payload`` is a one-value float32 scalar event whose
    bytes are ``header + prefix + value(4) + suffix``, else ``None``.

    Verified, not assumed: one top-level field (the summary) must span from ``p`` to the end,
    holding one value that is a rank-0 DT_FLOAT ``tensor_content`` or a ``simple_value`` whose
    4 bytes sit right before the suffix; a re-parse with other value bytes must give exactly
    those bytes, the same tag and the same metadata. Every payload with the same prefix, length
    and suffix therefore decodes to this tag and its own 4 value bytes.

    Args:
        ev: ``payload`` parsed as an ``Event``.
        payload: The record's bytes.
        p: Where the header (wall_time, step) ends.
    """
    values = ev.summary.value
    n = len(payload)
    if len(values) != 1 or p >= n or payload[p] != 0x2A:
        return None
    length, q = read_varint(payload, p + 1)
    if q < 0 or q + length != n:  # the summary must be the last and only field after the header
        return None
    v = values[0]
    kind = v.WhichOneof("value")
    if not v.tag or (kind == "tensor" and len(v.tensor.tensor_content) != 4) or kind not in ("tensor", "simple_value"):
        return None
    suffix = b""
    if v.HasField("metadata"):
        meta = v.metadata.SerializeToString()
        suffix = b"\x4a" + encode_varint(len(meta)) + meta
        if not payload.endswith(suffix):
            return None
    at = n - len(suffix) - 4
    prefix = payload[p:at]
    value_bytes = payload[at : n - len(suffix)]
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
        if suffix:
            pd = v.metadata.plugin_data
            return prefix, Template(v.tag, pd.plugin_name, pd.content, suffix)
        return prefix, Template(v.tag, None, b"", suffix)
    # simple_value
    if not prefix.endswith(b"\x15") or struct.pack("<f", v.simple_value) != value_bytes:
        return None
    if struct.pack("<f", v2[0].simple_value) != probe:
        return None
    return prefix, Template(v.tag, SCALARS_PLUGIN, b"", suffix)
