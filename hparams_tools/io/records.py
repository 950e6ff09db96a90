"""TFRecord framing of TensorBoard event files: bytes in, payloads out.

Each record is ``uint64 length (LE) | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)``, with CRC-32C (Castagnoli) and TensorFlow's mask
``((c >> 15 | c << 17) + 0xA282EAD8) & 0xFFFFFFFF``.

This layer knows nothing of protobuf or pandas. It reads from a byte offset so
that a live file can be read incrementally, and it never raises on damage:

* an incomplete last record (a writer still writing, or killed mid-record) ends
  the read; :attr:`RecordBatch.end` is the record's start, so the next read
  resumes there. It is also reported as a :class:`Damage` entry, because a
  file that never grows again has lost that record.
* a record whose data fails its CRC is skipped (its length was verified, so the
  next record is known);
* a length that fails its CRC makes the reader search forward for the next
  offset where a whole record verifies (resync); the skipped span is reported;
* a file with no verifiable record at all is reported as "not an event file".
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import crc32c as _crc32c

__all__ = [
    "Damage",
    "RecordBatch",
    "masked_crc32c",
    "crc32c",
    "read_records",
    "read_file_records",
    "read_file_bytes",
    "is_event_file_name",
]

#: Plain CRC-32C (Castagnoli) of bytes; :func:`masked_crc32c` is what TFRecords store.
crc32c = _crc32c.crc32c
_crc = crc32c
_HEADER = 12  # uint64 length + uint32 masked crc of the length
_FOOTER = 4  # uint32 masked crc of the data
_unpack_q = struct.Struct("<Q").unpack_from
_unpack_i = struct.Struct("<I").unpack_from
_unpack_qi = struct.Struct("<QI").unpack_from
# A single record larger than this is treated as a corrupt length even if its CRC matched by chance
# during a resync scan (TensorBoard summaries are far smaller; a GraphDef is a few MB).
_MAX_RESYNC_LENGTH = 1 << 31
_LENGTH_CRCS: dict[int, int] = {}
_LENGTH_CRC_CACHE = 1 << 16
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Damage:
    """A part of an event file that could not be used.

    Attributes:
        path: The event file.
        offset: Byte offset of the damaged record (or of the file's start).
        reason: What was wrong and what was skipped, in one line.
    """

    path: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} at byte {self.offset}: {self.reason}"


@dataclass
class RecordBatch:
    """The records read from one buffer.

    Attributes:
        payloads: Record data, in file order.
        offsets: Absolute byte offset of each payload's record.
        end: Absolute offset where the next read should start (after the last complete
            record, or at the start of an incomplete last record).
        damage: What was skipped.
        incomplete: True when the buffer ends inside a record (the record at ``end``).
    """

    payloads: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    end: int = 0
    damage: list[Damage] = field(default_factory=list)
    incomplete: bool = False


def masked_crc32c(data: bytes | memoryview) -> int:
    """Return TensorFlow's masked CRC-32C of ``data``."""
    c = _crc(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def is_event_file_name(name: str) -> bool:
    """TensorBoard's rule for event files: ``tfevents`` in the name, not a profiler placeholder."""
    return "tfevents" in name and not name.endswith(".profile-empty")


def _record_ok_at(data: bytes, pos: int) -> int:
    """Return the record length if a whole, verified record starts at ``pos``, else -1."""
    n = len(data)
    if pos + _HEADER > n:
        return -1
    (length,) = _unpack_q(data, pos)
    if length > _MAX_RESYNC_LENGTH or pos + _HEADER + length + _FOOTER > n:
        return -1
    if masked_crc32c(data[pos : pos + 8]) != _unpack_i(data, pos + 8)[0]:
        return -1
    end = pos + _HEADER + length
    if masked_crc32c(data[pos + _HEADER : end]) != _unpack_i(data, end)[0]:
        return -1
    return length


def _resync(data: bytes, pos: int) -> int:
    """Find the next offset after ``pos`` where a whole record verifies; ``len(data)`` if none.

    Candidates are offsets whose length field has four zero high bytes (records < 4 GiB),
    found with ``bytes.find``; long zero runs are jumped over, so scanning garbage is fast.
    """
    n = len(data)
    zeros = b"\x00" * _HEADER
    p = pos + 1
    while True:
        p = data.find(b"\x00\x00\x00\x00", p + 4)
        if p < 0:
            return n
        p -= 4  # the 4 zero bytes are the high half of the length field
        if data.startswith(zeros, p):
            # An all-zero header never verifies; skip the run of zeros.
            q = p
            while q < n and data[q] == 0:
                q += 1
            p = max(p + 1, q - 8)
            continue
        if _record_ok_at(data, p) >= 0:
            return p
        p += 1


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
    batch = RecordBatch()
    payloads = batch.payloads
    offsets = batch.offsets
    append_p = payloads.append
    append_o = offsets.append
    crc = _crc
    length_crcs = _LENGTH_CRCS
    unpack_qi = _unpack_qi
    unpack_i = _unpack_i
    n = len(data)
    pos = start
    while pos < n:
        if pos + _HEADER > n:
            batch.incomplete = True
            break
        length, length_crc = unpack_qi(data, pos)
        # The length's CRC depends only on the length; most records of a logdir share a few
        # lengths, so the expected CRC is memoised per length (same check, fewer CRC calls).
        expected = length_crcs.get(length)
        if expected is None:
            c = crc(data[pos : pos + 8])
            expected = (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF
            if len(length_crcs) < _LENGTH_CRC_CACHE:
                length_crcs[length] = expected
        if expected != length_crc:
            nxt = _resync(data, pos)
            if nxt >= n and pos == 0 and base == 0 and not payloads:
                reason = "not a TensorBoard event file (no valid TFRecord found)"
            elif nxt >= n:
                reason = f"corrupt record length (CRC mismatch); skipped the remaining {n - pos} bytes"
            else:
                reason = (
                    f"corrupt record length (CRC mismatch); skipped {nxt - pos} bytes "
                    f"to the next valid record at byte {base + nxt}"
                )
            batch.damage.append(Damage(path, base + pos, reason))
            pos = nxt
            continue
        body = pos + _HEADER
        end = body + length
        if end + _FOOTER > n:
            batch.incomplete = True
            break
        payload = data[body:end]
        c = crc(payload)
        if ((((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF) == unpack_i(data, end)[0]:
            append_p(payload)
            append_o(base + pos)
        else:
            batch.damage.append(Damage(path, base + pos, f"record data CRC mismatch; skipped {length} bytes"))
        pos = end + _FOOTER
    if batch.incomplete:
        batch.damage.append(
            Damage(
                path,
                base + pos,
                f"incomplete last record ({n - pos} bytes); if the file is still being written, "
                "a later reload() reads it",
            )
        )
    batch.end = base + min(pos, n)
    return batch


def read_file_records(path: str | os.PathLike[str], offset: int = 0) -> tuple[RecordBatch, int]:
    """Read the records of an event file from byte ``offset`` to its current end.

    Args:
        path: The event file.
        offset: Absolute offset to start at (a previous :attr:`RecordBatch.end`).

    Returns:
        ``(batch, size)``: the records and the number of bytes the file had when read.
        An unreadable file gives an empty batch with one :class:`Damage` entry.
    """
    spath = os.fspath(path)
    try:
        data = read_file_bytes(spath, offset)
    except OSError as exc:
        batch = RecordBatch(end=offset)
        batch.damage.append(Damage(spath, offset, f"cannot read file: {exc.strerror or exc}"))
        return batch, offset
    return read_records(data, 0, path=spath, base=offset), offset + len(data)


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
