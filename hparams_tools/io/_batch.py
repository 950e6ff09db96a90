"""Parse many small event files at once: framing and CRC per record, decoding with numpy.

A sweep's logdir is tens of thousands of small files of a few dozen records each, and
most records are one-value scalar events whose bytes repeat a verified layout (see
:func:`hparams_tools.io.events._learn_template`) apart from ``wall_time``, ``step`` and
the 4 value bytes. Decoding them one by one in Python costs several times the protobuf
parse itself; here a whole batch of files is decoded with array operations instead:

1. each file is framed in one tight loop (record starts and lengths only); a file that does
   not end exactly on a record boundary (an incomplete last record, a corrupt length) is
   handed to the per-file reader (:func:`~hparams_tools.io.events.parse_file_into`), which
   reports the damage;
2. records are grouped by length and header layout; each group is compared byte for byte
   (as 8-byte words) with the known templates of that length, which gives the position of
   every field of a matching record;
3. every length CRC and every data CRC is checked: data CRCs of other records by one CRC-32C
   call each, those of a template group exactly from one row's CRC and the bytes where rows
   may differ (CRC-32C is affine; see :func:`_crc_by_delta`). A file with any mismatch is
   handed to the per-file reader;
4. matching rows are decoded by slicing columns (wall_time, step, value); the other records
   -- HParams infos, other plugins, first records of a new layout -- are parsed with
   protobuf exactly as the per-file reader does, and teach new templates.

The output is what :func:`parse_file_into` would give for each file (the same series,
the same first metadata per (file, tag), values in file then record order); a test
compares the two on random layouts.
"""

from __future__ import annotations

import struct
from array import array
from sys import intern
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2

from ._templates import ParseContext, Template, learn_template
from .events import (
    SCALARS_PLUGIN,
    FileInfo,
    SeriesEntry,
    ValueSink,
    decode_series_hparams,
    parse_file_into,
    summary_values,
    value_of,
)
from .records import Damage, crc32c, delta_table, mask_crcs, masked_crc32c, read_file_bytes

__all__ = ["parse_batch", "BATCH_MAX_FILE", "BATCH_MAX_BYTES"]


_unpack_q = struct.Struct("<Q").unpack_from
_FILE_VERSION = b"\x1a\x0dbrain.Event:2"  # field 3 (file_version) = "brain.Event:2", no summary
_FILE_VERSION_U8 = np.frombuffer(_FILE_VERSION, np.uint8)
_MAX_LEARN_TRIES = 4  # per (length, layout) group and batch
#: Files bigger than this go to the per-file reader, which streams them (bounded memory).
BATCH_MAX_FILE = 16 << 20
#: Files are decoded together in groups of at most this many bytes (plus one file).
BATCH_MAX_BYTES = 64 << 20


class _Views:
    """The batch buffer as bytes and as unaligned words starting at every byte offset."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.u8 = np.frombuffer(buf, np.uint8)
        n = len(buf)
        self.u32 = np.ndarray((max(n - 3, 0),), "<u4", buffer=buf, strides=(1,))
        self.f32 = np.ndarray((max(n - 3, 0),), "<f4", buffer=buf, strides=(1,))
        self.u64 = np.ndarray((max(n - 7, 0),), "<u8", buffer=buf, strides=(1,))
        self.f64 = np.ndarray((max(n - 7, 0),), "<f8", buffer=buf, strides=(1,))


class _Match(NamedTuple):
    """Records of one (record length, header width) group that match one template."""

    records: np.ndarray  # record ids
    varying: np.ndarray  # payload byte positions where these records may differ
    value_at: np.ndarray  # absolute offset of each record's 4 value bytes in the batch buffer
    template: Template
    steps: np.ndarray


class _Records(NamedTuple):
    """Where every record of a batch lies in the batch buffer."""

    start: np.ndarray  # offset of the record (its length field)
    length: np.ndarray  # payload length
    payload: np.ndarray  # offset of the payload (start + 12)
    file: np.ndarray  # batch file id


class _Out:
    """Series and value pieces of one batch."""

    def __init__(self, job_index: list[int], locate: Callable[[int], tuple[str, int]]) -> None:
        self.job_index = job_index  # batch file id -> caller's file index
        self.locate = locate  # record id -> (path, offset in the file)
        self.series: list[SeriesEntry] = []
        self.key: dict[tuple[int, str], int] = {}
        self.meta: dict[int, tuple[int, str, Any]] = {}  # sid -> (record, plugin, content)
        self.damage: dict[int, list[Damage]] = {}
        self.pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def sid(self, fid: int, tag: str) -> int:
        key = (fid, tag)
        sid = self.key.get(key)
        if sid is None:
            sid = self.key[key] = len(self.series)
            self.series.append(SeriesEntry(self.job_index[fid], intern(tag), None, b""))
        return sid

    def record_damage(self, fid: int, record: int, reason: str, size: int = 0) -> None:
        path, offset = self.locate(record)
        self.damage.setdefault(fid, []).append(Damage(path, offset, reason, size))

    def offer_meta(self, sid: int, record: int, plugin: str, content: Any) -> None:
        old = self.meta.get(sid)
        if old is None or record < old[0]:
            self.meta[sid] = (record, plugin, content)


class _Framed:
    """Cleanly framed files waiting to be decoded together: their bytes and record positions."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.rec_start = array("q")
        self.rec_len = array("q")
        self.fast: list[int] = []  # job positions
        self.counts: list[int] = []  # records per file
        self.bases: list[int] = []  # where each file starts in the joined buffer
        self.size = 0

    def add(self, j: int, data: bytes) -> bool:
        """Frame ``data`` (job ``j``); False, leaving nothing behind, unless it ends on a record boundary."""
        unpack_q = _unpack_q
        rec_start, rec_len = self.rec_start, self.rec_len
        base, n, pos = self.size, len(data), 0
        k0 = len(rec_start)
        while pos + 16 <= n:
            length = unpack_q(data, pos)[0]
            end = pos + 12 + length
            if end + 4 > n:
                break
            rec_start.append(base + pos)
            rec_len.append(length)
            pos = end + 4
        if pos != n:
            del rec_start[k0:], rec_len[k0:]
            return False
        self.fast.append(j)
        self.counts.append(len(rec_start) - k0)
        self.bases.append(base)
        self.parts.append(data)
        self.size += n
        return True

    def decode(self, jobs: Sequence[tuple[int, str, int, int]], slow: list[int], context: ParseContext):
        buf = b"".join(self.parts)
        self.parts = []
        return _decode(jobs, self.fast, self.counts, self.bases, buf, self.rec_start, self.rec_len, slow, context)


def parse_batch(
    jobs: Sequence[tuple[int, str, int, int]], context: ParseContext | None = None
) -> list[tuple[list[FileInfo], ValueSink]]:
    """Parse ``(file_index, path, offset, _)`` jobs; return ``(infos, sink)`` pieces.

    Files are decoded together in groups of at most :data:`BATCH_MAX_BYTES`. Files that are not
    cleanly framed, fail a CRC or are bigger than :data:`BATCH_MAX_FILE` are parsed by
    :func:`parse_file_into` (their own piece), which reports damage and streams big files, so
    memory stays bounded by a group and the largest record, not by the largest file.

    Args:
        jobs: ``(file_index, path, offset, expected_bytes)`` per file.
        context: Templates and counters to use and update (a fresh one when ``None``).
    """
    context = context or ParseContext()
    pieces: list[tuple[list[FileInfo], ValueSink]] = []
    slow: list[int] = []
    group = _Framed()
    for j, (_, path, offset, _size) in enumerate(jobs):
        try:
            data = read_file_bytes(path, offset, limit=BATCH_MAX_FILE)
        except OSError:
            data = None
        if data is None:
            slow.append(j)
            continue
        if group.fast and group.size + len(data) > BATCH_MAX_BYTES:
            pieces.append(group.decode(jobs, slow, context))
            group = _Framed()
        if not group.add(j, data):
            slow.append(j)
    if group.fast:
        pieces.append(group.decode(jobs, slow, context))
    if slow:
        sink = ValueSink()
        infos = [parse_file_into(sink, jobs[j][0], jobs[j][1], jobs[j][2], context) for j in sorted(slow)]
        pieces.append((infos, sink))
    return pieces


def _decode(
    jobs: Sequence[tuple[int, str, int, int]],
    fast: list[int],
    counts: list[int],
    bases: list[int],
    buf: bytes,
    rec_start: array,
    rec_len: array,
    slow: list[int],
    context: ParseContext,
) -> tuple[list[FileInfo], ValueSink]:
    """Decode the cleanly framed files ``fast`` (job positions) held in ``buf``.

    A file with any CRC failure is appended to ``slow`` (the caller parses it per record).
    """
    views = _Views(buf)
    start = np.frombuffer(rec_start, np.int64)
    length = np.frombuffer(rec_len, np.int64)
    recs = _Records(start, length, start + 12, np.repeat(np.arange(len(fast)), np.asarray(counts, np.int64)))
    # -- layouts first (no trust in the bytes needed: a match only says where the fields are)
    matches, others = _match_templates(views, recs, context)
    # -- CRC checks: lengths per distinct length; data of template rows by the CRC's linearity,
    #    of every other record by one CRC call each
    bad = _crc_failures(views, recs, matches, others)
    keep_file = np.ones(len(fast), bool)
    if bad.any():
        bad_files = np.unique(recs.file[bad])
        slow.extend(fast[f] for f in bad_files.tolist())
        keep_file[bad_files] = False
    all_kept = bool(keep_file.all())

    def locate(record: int) -> tuple[str, int]:
        f = int(recs.file[record])
        _, path, offset, _ = jobs[fast[f]]
        return path, offset + int(recs.start[record]) - bases[f]

    out = _Out([jobs[j][0] for j in fast], locate)
    for m in matches:
        if not all_kept:
            ok = keep_file[recs.file[m.records]]
            m = m._replace(records=m.records[ok], value_at=m.value_at[ok], steps=m.steps[ok])
        if m.records.size:
            _emit(views, recs, m, out)
    general = _general_records(views, recs, others)
    if not all_kept:
        general = general[keep_file[recs.file[general]]]
    _decode_general(buf, recs, general, out)
    # -- assemble
    series = out.series
    for sid, (_, plugin, content) in out.meta.items():
        entry = series[sid]
        series[sid] = SeriesEntry(entry.file, entry.tag, plugin, content)
    hparams_damage: list[Damage] = []
    decode_series_hparams(out.series, 0, hparams_damage, lambda sid: locate(out.meta[sid][0]))
    by_path = {jobs[fast[f]][1]: f for f in range(len(fast))}
    for d in hparams_damage:
        out.damage.setdefault(by_path[d.path], []).append(d)
    sink = _sink(out)
    infos = []
    stats = context.stats
    for f, j in enumerate(fast):
        if not keep_file[f]:
            continue
        _, path, offset, _ = jobs[j]
        size = (bases[f + 1] if f + 1 < len(bases) else len(buf)) - bases[f]
        damage = sorted(out.damage.get(f, []), key=lambda d: d.offset)
        infos.append(FileInfo(path, offset + size, offset + size, counts[f], damage))
        stats.records += counts[f]
        stats.bytes += size
        stats.files += 1
    return infos, sink


def _sink(out: _Out) -> ValueSink:
    """The batch's values in record order."""
    sink = ValueSink()
    sink.series = out.series
    if out.pieces:
        rec, sid, step, wall, value = (np.concatenate(c) for c in zip(*out.pieces))
        order = np.argsort(rec, kind="stable")
        sink.sid = np.ascontiguousarray(sid[order], np.int32)
        sink.step = np.ascontiguousarray(step[order], np.int64)
        sink.wall = np.ascontiguousarray(wall[order], np.float64)
        sink.value = np.ascontiguousarray(value[order], np.float64)
    else:
        sink.sid = np.zeros(0, np.int32)
        sink.step = np.zeros(0, np.int64)
        sink.wall = np.zeros(0, np.float64)
        sink.value = np.zeros(0, np.float64)
    return sink


def _crc_failures(views: _Views, recs: _Records, matches: list[_Match], others: np.ndarray) -> np.ndarray:
    """Per record: whether its length CRC or its data CRC fails."""
    bad = np.zeros(len(recs.start), bool)
    if not len(recs.start):
        return bad
    lengths, inv = np.unique(recs.length, return_inverse=True)
    expected = np.array([masked_crc32c(struct.pack("<Q", int(x))) for x in lengths], np.uint64)[inv]
    bad = expected != views.u32[recs.start + 8]
    stored = views.u32[recs.payload + recs.length]
    for m in matches:
        n = int(recs.length[m.records[0]])
        bad[m.records] |= mask_crcs(_crc_by_delta(views, recs.payload[m.records], n, m.varying)) != stored[m.records]
    if others.size:
        b = views.buf
        c = np.fromiter(
            (crc32c(b[s : s + n]) for s, n in zip(recs.payload[others].tolist(), recs.length[others].tolist())),
            np.uint32,
            others.size,
        )
        bad[others] |= mask_crcs(c) != stored[others]
    return bad


def _match_templates(views: _Views, recs: _Records, context: ParseContext) -> tuple[list[_Match], np.ndarray]:
    """Find the records whose layout is a verified template.

    Returns ``(matches, others)``: one :class:`_Match` per (record length, header width,
    template); ``others`` = the ids of all other records, in record order.
    """
    u8 = views.u8
    cand = np.flatnonzero(recs.length > 16)
    cand = cand[u8[recs.payload[cand]] == 0x09]
    cand_payload = recs.payload[cand]
    cand_len = recs.length[cand]
    b9 = u8[cand_payload + 9]
    # header width after wall_time: no step field (step 0) or a step varint of 1-3 bytes
    p_off = np.full(len(cand), -1, np.int64)
    step = np.zeros(len(cand), np.int64)
    nostep = b9 != 0x10
    p_off[nostep] = 9
    has = np.flatnonzero(~nostep)
    b10 = u8[cand_payload[has] + 10].astype(np.int64)
    b11 = u8[cand_payload[has] + 11].astype(np.int64)
    b12 = u8[cand_payload[has] + 12].astype(np.int64)
    w1 = b10 < 0x80
    w2 = ~w1 & (b11 < 0x80)
    w3 = ~w1 & ~w2 & (b12 < 0x80)
    p_off[has[w1]] = 11
    step[has[w1]] = b10[w1]
    p_off[has[w2]] = 12
    step[has[w2]] = (b10[w2] & 0x7F) | (b11[w2] << 7)
    p_off[has[w3]] = 13
    step[has[w3]] = (b10[w3] & 0x7F) | ((b11[w3] & 0x7F) << 7) | (b12[w3] << 14)
    ok = (p_off > 0) & (cand_len - p_off > 4)
    matched = np.zeros(len(cand), bool)
    matches: list[_Match] = []
    key = cand_len * 16 + p_off
    sel = np.flatnonzero(ok)
    if sel.size:
        order = sel[np.argsort(key[sel], kind="stable")]
        keys = key[order]
        cuts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        for grp in np.split(order, cuts):
            for rows, plen, t in _match_group(views, cand_payload, cand_len, p_off, grp, context):
                matched[rows] = True
                p = int(p_off[rows[0]])
                varying = np.r_[1:9, 10:p, p + plen : p + plen + 4] if p > 9 else np.r_[1:9, p + plen : p + plen + 4]
                matches.append(_Match(cand[rows], varying, cand_payload[rows] + p + plen, t, step[rows]))
    done = np.zeros(len(recs.start), bool)
    done[cand[matched]] = True
    return matches, np.flatnonzero(~done)


def _general_records(views: _Views, recs: _Records, others: np.ndarray) -> np.ndarray:
    """``others`` less the file_version events (no summary: nothing to parse)."""
    r = others[recs.length[others] == 9 + len(_FILE_VERSION)]
    if not r.size:
        return others
    u8 = views.u8
    at = recs.payload[r]
    same = (u8[at] == 0x09) & (u8[at[:, None] + 9 + np.arange(len(_FILE_VERSION))] == _FILE_VERSION_U8).all(1)
    drop = np.zeros(len(recs.start), bool)
    drop[r[same]] = True
    return others[~drop[others]]


def _match_group(
    views: _Views,
    cand_payload: np.ndarray,
    cand_len: np.ndarray,
    p_off: np.ndarray,
    grp: np.ndarray,
    context: ParseContext,
) -> list[tuple[np.ndarray, int, Template]]:
    """Match one (record length, header width) group against the templates of its size.

    Returns ``(rows, prefix length, template)`` per template that matched some rows.
    """
    templates = context.templates
    p = int(p_off[grp[0]])
    rest = int(cand_len[grp[0]]) - p
    rows = grp
    at = cand_payload[rows] + p
    words = None
    free = np.ones(len(rows), bool)
    found = []
    tries = 0
    tried: set[int] = set()
    while True:
        for mt in templates.masked(rest):
            if words is None or words.shape[1] != len(mt.offsets):
                words = views.u64[at[:, None] + mt.offsets]
            m = free & ((words & mt.masks) == mt.words).all(1)
            if not m.any():
                continue
            free &= ~m
            found.append((rows[m], mt.prefix_len, mt.template))
        if not free.any() or tries >= _MAX_LEARN_TRIES or templates.full:
            break
        first = int(np.flatnonzero(free)[0])
        if first in tried:
            break
        tried.add(first)
        tries += 1
        start = int(cand_payload[rows[first]])
        end = start + int(cand_len[rows[first]])
        payload = views.buf[start:end]
        if masked_crc32c(payload) != int(views.u32[end]):
            continue  # learn only from intact records (this one is caught by the CRC check)
        try:
            ev = event_pb2.Event.FromString(payload)
        except DecodeError:
            break
        learnt = learn_template(ev, payload, p)
        if learnt is None:
            break
        templates.learn(*learnt)
    return found


def _crc_by_delta(views: _Views, starts: np.ndarray, n: int, varying: np.ndarray) -> np.ndarray:
    """CRC-32C of the ``n``-byte payloads at ``starts``, which may differ only at ``varying``.

    Exact, not a shortcut: one payload's CRC is computed, and each other's follows from it and
    its bytes at the varying positions (see :func:`delta_table`); every byte elsewhere is
    equal to the reference's because the template matched it.
    """
    u8 = views.u8
    ref = int(starts[0])
    acc = np.full(len(starts), crc32c(views.buf[ref : ref + n]), np.uint32)
    for j in varying.tolist():
        acc ^= delta_table(n - j)[u8[starts + j] ^ u8[ref + j]]
    return acc


def _emit(views: _Views, recs: _Records, m: _Match, out: _Out) -> None:
    files = recs.file[m.records]
    ufiles, first, inv = np.unique(files, return_index=True, return_inverse=True)
    tag = m.template.tag
    sids = np.array([out.sid(f, tag) for f in ufiles.tolist()], np.int32)
    if m.template.plugin is not None:
        for s, r in zip(sids.tolist(), m.records[first].tolist()):
            out.offer_meta(s, r, m.template.plugin, m.template.content)
    wall = views.f64[recs.payload[m.records] + 1]
    value = views.f32[m.value_at].astype(np.float64)
    out.pieces.append((m.records, sids[inv], m.steps, wall, value))


def _decode_general(buf: bytes, recs: _Records, general: np.ndarray, out: _Out) -> None:
    """Protobuf-parse the remaining records, as :func:`parse_file_into`'s general path does."""
    if not general.size:
        return
    from_string = event_pb2.Event.FromString
    rec_ids: list[int] = []
    sids: list[int] = []
    steps: list[int] = []
    walls: list[float] = []
    values: list[float] = []
    for r, start, length, f in zip(
        general.tolist(), recs.payload[general].tolist(), recs.length[general].tolist(), recs.file[general].tolist()
    ):
        try:
            ev = from_string(buf[start : start + length])
        except DecodeError:
            out.record_damage(f, r, "record is not an Event proto; skipped", length + 16)
            continue
        step = ev.step
        wall = ev.wall_time
        for tag, kind, v in summary_values(ev):
            sid = out.sid(f, tag)
            if kind == "simple_value":
                out.offer_meta(sid, r, SCALARS_PLUGIN, b"")
            elif v.HasField("metadata"):
                pd = v.metadata.plugin_data
                out.offer_meta(sid, r, pd.plugin_name, pd.content)
            val = value_of(v, kind)
            if val is None:
                continue
            rec_ids.append(r)
            sids.append(sid)
            steps.append(step)
            walls.append(wall)
            values.append(val)
    if rec_ids:
        out.pieces.append(
            (
                np.asarray(rec_ids, np.int64),
                np.asarray(sids, np.int32),
                np.asarray(steps, np.int64),
                np.asarray(walls, np.float64),
                np.asarray(values, np.float64),
            )
        )
