"""TFRecord framing of TensorBoard event files: bytes in, payloads out.

Each record is ``uint64 length (LE) | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)``, with CRC-32C (Castagnoli) and TensorFlow's mask
``((c >> 15 | c << 17) + 0xA282EAD8) & 0xFFFFFFFF``.

This layer knows nothing of protobuf or pandas. It reads from a byte offset so
that a live file can be read incrementally, and it never raises on damage:

* an incomplete last record (a writer still writing, or killed mid-record) ends
  the read; :attr:`RecordBatch.end` is the record's start, so the next read
  resumes there. It is also reported as a :class:`Damage` entry, because a
  file that never grows again has lost that record. A record is only taken for
  an incomplete last record when its length is under :data:`MAX_RECORD_LENGTH`
  and no intact record follows it; otherwise its length is corrupt (reported so);
* a record whose data fails its CRC is skipped, and the next record is searched
  for from the record's start (a torn write can leave a valid length CRC with a
  wrong length: the intact record after it is kept);
* a length that fails its CRC makes the reader search forward for the next
  offset where a whole record verifies (resync); the skipped span is reported;
* a file with no verifiable record at all is reported as "not an event file".

The contract, which tests/io/test_fuzz_records.py checks on mutated files: every
intact record is kept, every skipped byte range is reported with its reason, and
memory is bounded by the read window plus the largest record, not by the file
(files are read window by window; the resync search is vectorised with numpy and
jumps over zero runs and the holes of sparse files).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Iterator

import crc32c as _crc32c
import numpy as np

__all__ = [
    "Damage",
    "RecordBatch",
    "masked_crc32c",
    "crc32c",
    "read_records",
    "read_file_records",
    "scan_file",
    "delta_table",
    "mask_crcs",
    "MAX_RECORD_LENGTH",
    "read_file_bytes",
    "is_event_file_name",
]

#: Plain CRC-32C (Castagnoli) of bytes; :func:`masked_crc32c` is what TFRecords store.
crc32c = _crc32c.crc32c
_crc = crc32c
_HEADER = 12  # uint64 length + uint32 masked crc of the length
_FOOTER = 4  # uint32 masked crc of the data
_unpack_i = struct.Struct("<I").unpack_from
_unpack_qi = struct.Struct("<QI").unpack_from
#: A record at least this long is never taken for an incomplete last record (no TensorBoard
#: summary comes near it; a GraphDef is a few MB): it is a corrupt length, reported as such.
MAX_RECORD_LENGTH = 1 << 31
_LENGTH_CRCS: dict[int, int] = {}  # memo of a pure function (length -> its masked CRC)
_LENGTH_CRC_CACHE = 1 << 16
#: Bytes read at once. Memory stays bounded by this plus the largest record, not the file size.
WINDOW = 8 << 20
#: Bytes searched at once for the next valid record (numpy temporaries are a few times this).
_RESYNC_WINDOW = 1 << 20
_MASK_DELTA = 0xA282EAD8
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Damage:
    """A part of an event file (or a directory) that could not be used.

    Attributes:
        path: The event file (or directory).
        offset: Byte offset of the damaged record (or of the file's start).
        reason: What was wrong and what was skipped, in one line.
        size: Bytes skipped from ``offset`` (records, garbage, an incomplete tail); 0 when the
            damage is not a byte range (an unreadable file or directory, an unusable HParams
            info inside a record that was read).
    """

    path: str
    offset: int
    reason: str
    size: int = 0

    def __str__(self) -> str:
        return f"{self.path} at byte {self.offset}: {self.reason}"


@dataclass
class RecordBatch:
    """The records read from one buffer (or one window of a file).

    Attributes:
        payloads: Record data, in file order.
        offsets: Absolute byte offset of each payload's record.
        end: Absolute offset where the next read should start (after the last complete
            record, or at the start of an incomplete last record).
        damage: What was skipped.
        incomplete: True when the data ends inside a record (the record at ``end``).
        size: The size the file (or buffer) had when read, set on the last batch of a read.
    """

    payloads: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    end: int = 0
    damage: list[Damage] = field(default_factory=list)
    incomplete: bool = False
    size: int = 0

    def extend(self, other: RecordBatch) -> None:
        """Append a later window's records and damage; take over its end."""
        self.payloads.extend(other.payloads)
        self.offsets.extend(other.offsets)
        self.damage.extend(other.damage)
        self.end = other.end
        self.incomplete = other.incomplete
        self.size = other.size


def masked_crc32c(data: bytes | memoryview) -> int:
    """Return TensorFlow's masked CRC-32C of ``data``."""
    c = _crc(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def is_event_file_name(name: str) -> bool:
    """TensorBoard's rule for event files: ``tfevents`` in the name, not a profiler placeholder."""
    return "tfevents" in name and not name.endswith(".profile-empty")


_DELTA_TABLES: dict[int, np.ndarray] = {}


def delta_table(d: int) -> np.ndarray:
    """``table[v]`` = CRC-32C(v + (d-1) zero bytes) xor CRC-32C(d zero bytes).

    CRC-32C is affine: for messages ``a``, ``b`` of equal length, ``crc(a) ^ crc(b)`` is the
    zero-init CRC of ``a ^ b``, the xor of one such term per differing byte, and a byte's term
    depends only on its value and its distance ``d`` from the end. (A memo of a pure function,
    safe to share.)
    """
    table = _DELTA_TABLES.get(d)
    if table is None:
        zeros = bytes(d - 1)
        z = _crc(bytes(d))
        table = _DELTA_TABLES[d] = np.array([_crc(bytes([v]) + zeros) ^ z for v in range(256)], np.uint32)
    return table


def mask_crcs(c: np.ndarray) -> np.ndarray:
    """TensorFlow's CRC mask, on an array of CRC-32C values."""
    c = c.astype(np.uint64)
    return ((((c >> np.uint64(15)) | (c << np.uint64(17))) & np.uint64(0xFFFFFFFF)) + np.uint64(_MASK_DELTA)) & np.uint64(
        0xFFFFFFFF
    )


def _length_crcs(chunk: bytes, at: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of the 8 bytes at each offset ``at`` of ``chunk`` (vectorised)."""
    u8 = np.frombuffer(chunk, np.uint8)
    acc = np.full(len(at), _crc(bytes(8)), np.uint32)
    for j in range(8):
        acc ^= delta_table(8 - j)[u8[at + j]]
    return mask_crcs(acc)


class _Source:
    """Positioned reads of a file descriptor or of bytes in memory, up to a fixed size."""

    def __init__(self, size: int, data: bytes | None = None, fd: int = -1) -> None:
        self.size = size
        self.data = data
        self.fd = fd

    def read(self, start: int, n: int) -> bytes:
        n = max(0, min(n, self.size - start))
        if self.data is not None:
            return self.data[start : start + n]
        parts = []
        while n > 0:
            chunk = os.pread(self.fd, n, start)
            if not chunk:  # the file shrank while read
                self.size = start
                break
            parts.append(chunk)
            start += len(chunk)
            n -= len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def crc_ok(self, start: int, length: int) -> bool:
        """Whether the ``length`` data bytes at ``start`` match the masked CRC stored after them."""
        c = 0
        pos, stop = start, start + length
        while pos < stop:  # in windows: a long candidate record costs no more memory than one
            chunk = self.read(pos, min(WINDOW, stop - pos))
            if not chunk:
                return False
            c = _crc(chunk, c)
            pos += len(chunk)
        stored = self.read(stop, _FOOTER)
        return len(stored) == _FOOTER and (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF == _unpack_i(stored)[0]

    def next_data(self, pos: int) -> int:
        """The next offset >= ``pos`` that is not in a hole of a sparse file (``pos`` if unknown)."""
        if self.fd < 0 or not hasattr(os, "SEEK_DATA"):
            return pos
        try:
            return os.lseek(self.fd, pos, os.SEEK_DATA)
        except OSError:  # ENXIO: only a hole up to the end; or not supported
            return self.size if pos < self.size else pos


def _resync(src: _Source, pos: int) -> int:
    """Find the next offset after ``pos`` where a whole record verifies; ``src.size`` if none.

    Vectorised: per window of bytes, the candidates are offsets whose length field has four
    zero high bytes (a record under 4 GiB), whose record fits in the file and whose length CRC
    matches (computed for all candidates at once from per-byte tables); only those have their
    data CRC checked. All-zero windows are skipped at once, and so are the holes of a sparse
    file; memory is a few windows.
    """
    size = src.size
    p = pos + 1
    while p + _HEADER + _FOOTER <= size:
        q = src.next_data(p)
        if q > p + _HEADER:  # a record may start in the hole's last bytes (zero length field)
            p = q - _HEADER
        m = min(_RESYNC_WINDOW, size - _HEADER - _FOOTER + 1 - p)  # candidate offsets in this window
        if m <= 0:
            break
        chunk = src.read(p, m + _HEADER - 1)
        if len(chunk) < m + _HEADER - 1:
            break
        u8 = np.frombuffer(chunk, np.uint8)
        if u8.any():
            u32 = np.ndarray((len(chunk) - 3,), "<u4", buffer=chunk, strides=(1,))
            u64 = np.ndarray((len(chunk) - 7,), "<u8", buffer=chunk, strides=(1,))
            # an all-zero header (length 0, CRC 0) never verifies: masked_crc32c(0) != 0
            cand = np.flatnonzero((u32[4 : 4 + m] == 0) & ((u64[:m] != 0) | (u32[8 : 8 + m] != 0)))
            if cand.size:
                length = u64[cand]
                room = np.int64(size - p - _HEADER - _FOOTER) - cand
                fits = (length.astype(np.int64) <= room) & (length < MAX_RECORD_LENGTH)
                cand, length = cand[fits], length[fits]
                if cand.size:
                    good = _length_crcs(chunk, cand) == u32[cand + 8]
                    for c, n in zip(cand[good].tolist(), length[good].tolist()):
                        if src.crc_ok(p + c + _HEADER, n):
                            return p + c
        p += m
    return size


def _scan(src: _Source, start: int, path: str, base: int, window: int) -> Iterator[RecordBatch]:
    """Split ``src`` from ``start`` into verified records, one :class:`RecordBatch` per window.

    Offsets in the batches are ``base`` + offsets in ``src``. The last batch yielded carries the
    end offset and the incomplete flag.
    """
    size = src.size
    length_crcs = _LENGTH_CRCS
    crc = _crc
    unpack_qi = _unpack_qi
    unpack_i = _unpack_i
    pos = start
    buf, buf_at = b"", start
    batch = RecordBatch()
    held = 0  # payload bytes in this batch
    found_any = False  # a verified record anywhere in this read
    while pos < size:
        if pos + _HEADER > size:
            batch.incomplete = True
            break
        if pos + _HEADER > buf_at + len(buf):
            buf, buf_at = src.read(pos, window), pos
            size = src.size
            if pos + _HEADER > buf_at + len(buf):
                batch.incomplete = True
                break
        length, length_crc = unpack_qi(buf, pos - buf_at)
        # The length's CRC depends only on the length; most records of a logdir share a few
        # lengths, so the expected CRC is memoised per length (same check, fewer CRC calls).
        expected = length_crcs.get(length)
        if expected is None:
            c = crc(buf[pos - buf_at : pos - buf_at + 8])
            expected = (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF
            if len(length_crcs) < _LENGTH_CRC_CACHE:
                length_crcs[length] = expected
        if expected != length_crc:
            nxt = _resync(src, pos)
            if nxt >= size and pos == 0 and base == 0 and not found_any:
                reason = "not a TensorBoard event file (no valid TFRecord found)"
            else:
                reason = "corrupt record length (CRC mismatch); " + _skipped(pos, nxt, size, base)
            batch.damage.append(Damage(path, base + pos, reason, nxt - pos))
            pos = nxt
            continue
        end = pos + _HEADER + length
        if end + _FOOTER > size:
            # Past the end: an incomplete last record (a writer still writing, or killed), unless
            # the length is implausible or an intact record follows (then the length is wrong).
            nxt = _resync(src, pos)
            if nxt >= size and length < MAX_RECORD_LENGTH:
                batch.incomplete = True
                break
            reason = f"record length {length} runs past the end of the file; " + _skipped(pos, nxt, size, base)
            batch.damage.append(Damage(path, base + pos, reason, nxt - pos))
            pos = nxt
            continue
        if end + _FOOTER > buf_at + len(buf):
            buf, buf_at = src.read(pos, max(window, end + _FOOTER - pos)), pos
        body = pos + _HEADER - buf_at
        payload = buf[body : body + length]
        c = crc(payload)
        if ((((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF) == unpack_i(buf, body + length)[0]:
            batch.payloads.append(payload)
            batch.offsets.append(base + pos)
            pos = end + _FOOTER
            held += length
            found_any = True
            if held >= window:
                batch.end = base + pos
                yield batch
                batch, held = RecordBatch(), 0
            continue
        # The data failed its CRC: its length may be wrong too (a valid length CRC proves little
        # about a torn write), so the next record is searched for rather than assumed at `end`.
        nxt = _resync(src, pos)
        if nxt == end + _FOOTER or nxt >= size:
            reason = f"record data CRC mismatch; skipped {length} bytes"
            if nxt >= size and end + _FOOTER < size:
                reason += f" and the remaining {size - end - _FOOTER} bytes (no valid record follows)"
        else:
            reason = "record data CRC mismatch; " + _skipped(pos, nxt, size, base)
        batch.damage.append(Damage(path, base + pos, reason, nxt - pos))
        pos = nxt
    if batch.incomplete:
        batch.damage.append(
            Damage(
                path,
                base + pos,
                f"incomplete last record ({size - pos} bytes); if the file is still being written, "
                "a later reload() reads it",
                size - pos,
            )
        )
    batch.end = base + min(pos, size)
    batch.size = base + size
    yield batch


def _skipped(pos: int, nxt: int, size: int, base: int) -> str:
    if nxt >= size:
        return f"skipped the remaining {size - pos} bytes"
    return f"skipped {nxt - pos} bytes to the next valid record at byte {base + nxt}"


def read_records(data: bytes, start: int = 0, *, path: str = "", base: int = 0) -> RecordBatch:
    """Split ``data[start:]`` into verified record payloads.

    Args:
        data: The bytes (usually a file's content from some offset).
        start: Where to start inside ``data``.
        path: File name used in :class:`Damage` entries.
        base: Absolute file offset of ``data[0]`` (offsets reported are absolute).

    Returns:
        A :class:`RecordBatch`; never raises on damaged data.
    """
    out = RecordBatch(end=base + start)
    for batch in _scan(_Source(len(data), data=data), start, path, base, max(WINDOW, len(data))):
        out.extend(batch)
    return out


def scan_file(path: str | os.PathLike[str], offset: int = 0, *, window: int = WINDOW) -> Iterator[RecordBatch]:
    """Read the records of an event file from byte ``offset`` to its current end, window by window.

    Memory is bounded by ``window`` plus the largest record (not the file size): each batch
    holds about ``window`` bytes of payloads. The last batch carries the end offset; an
    unreadable file gives one batch with one :class:`Damage` entry.

    Args:
        path: The event file.
        offset: Absolute offset to start at (a previous :attr:`RecordBatch.end`).
        window: Bytes read (and payload bytes held) at once.

    Yields:
        :class:`RecordBatch` per window; the last one carries ``end``, ``incomplete`` and ``size``.
    """
    spath = os.fspath(path)
    try:
        fd = os.open(spath, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        yield _unreadable(spath, offset, exc)
        return
    try:
        try:
            size = os.fstat(fd).st_size
        except OSError as exc:
            yield _unreadable(spath, offset, exc)
            return
        src = _Source(size, fd=fd)
        try:
            yield from _scan(src, offset, spath, 0, window)
        except OSError as exc:  # e.g. EIO, or a directory named like an event file (EISDIR)
            yield _unreadable(spath, offset, exc)
    finally:
        os.close(fd)


def _unreadable(path: str, offset: int, exc: OSError) -> RecordBatch:
    batch = RecordBatch(end=offset, size=offset)
    batch.damage.append(Damage(path, offset, f"cannot read file: {exc.strerror or exc}"))
    return batch


def read_file_records(path: str | os.PathLike[str], offset: int = 0) -> tuple[RecordBatch, int]:
    """Read the records of an event file from byte ``offset`` to its current end (all at once).

    Returns:
        ``(batch, size)``: the records and the number of bytes the file had when read.
        An unreadable file gives an empty batch with one :class:`Damage` entry.
    """
    out = RecordBatch(end=offset, size=offset)
    for batch in scan_file(path, offset):
        out.extend(batch)
    return out, out.size


def read_file_bytes(path: str, offset: int = 0, *, limit: int | None = None) -> bytes | None:
    """Return a file's bytes from ``offset`` to its current end (raises ``OSError``).

    With ``limit``, a file holding more than ``limit`` bytes from ``offset`` is not read and
    ``None`` is returned (the caller streams it instead).
    """
    # os-level reads: a sweep has tens of thousands of small files, and io.open's buffered
    # file object costs about as much as reading one of them.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        # Ask for the size fstat gives plus one byte: a small file is then read in one call into a
        # buffer of its size (a fixed 1 MB request costs an allocation and a release per file).
        want = max(os.fstat(fd).st_size - offset, 0) + 1
        if limit is not None and want > limit + 1:
            return None
        chunks = []
        while True:
            chunk = os.read(fd, want)
            chunks.append(chunk)
            # A short read of a regular file is its end (as of now; a reload reads what follows).
            if len(chunk) < want:
                break
            want = _READ_SIZE
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
