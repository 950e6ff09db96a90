"""TFRecord framing: CRC, truncation at every byte, flipped bytes at every byte, garbage, resync."""

from __future__ import annotations

import os
import random
import struct

import crc32c
from hparams_tools.io.records import masked_crc32c, read_file_records, read_records


def frame(data: bytes) -> bytes:
    """Frame a payload independently of the code under test (TFRecord spec, TF's mask)."""
    def mask(c: int) -> int:
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", mask(crc32c.crc32c(header))) + data + struct.pack("<I", mask(crc32c.crc32c(data)))


PAYLOADS = [b"first record", b"", b"x" * 40, bytes(range(7)), b"last"]


def blob() -> tuple[bytes, list[int]]:
    data = b"".join(frame(p) for p in PAYLOADS)
    starts, pos = [], 0
    for p in PAYLOADS:
        starts.append(pos)
        pos += 16 + len(p)
    return data, starts


def test_masked_crc_matches_crc32c_check_value():
    # CRC-32C("123456789") = 0xE3069283 (the standard check value); unmask ours and compare.
    m = masked_crc32c(b"123456789")
    rot = (m - 0xA282EAD8) & 0xFFFFFFFF
    assert ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF == 0xE3069283


def test_reads_every_payload_with_offsets():
    data, starts = blob()
    batch = read_records(data, path="f")
    assert batch.payloads == PAYLOADS
    assert batch.offsets == starts
    assert batch.end == len(data) and not batch.incomplete and batch.damage == []


def test_truncation_at_every_byte_keeps_complete_records_and_resumes():
    data, starts = blob()
    bounds = starts + [len(data)]
    for cut in range(len(data) + 1):
        batch = read_records(data[:cut], path="f")
        complete = [b for b in bounds[1:] if b <= cut]
        assert batch.payloads == PAYLOADS[: len(complete)], cut
        resume = max(b for b in bounds if b <= cut)
        assert batch.end == resume, cut
        assert batch.incomplete == (cut != resume), cut
        if cut == resume:
            assert batch.damage == []
        else:
            (d,) = batch.damage
            assert d.offset == resume and "incomplete" in d.reason
        # A later read from the resume offset of the complete file gets the rest, nothing twice.
        rest = read_records(data[resume:], path="f", base=resume)
        assert batch.payloads + rest.payloads == PAYLOADS


def test_flipped_byte_anywhere_loses_only_its_record():
    data, starts = blob()
    bounds = starts + [len(data)]
    for pos in range(len(data)):
        damaged = bytearray(data)
        damaged[pos] ^= 0xA5
        batch = read_records(bytes(damaged), path="f")
        victim = max(i for i, s in enumerate(starts) if s <= pos)
        expected = PAYLOADS[:victim] + PAYLOADS[victim + 1 :]
        # A flipped length that points past the end must fail its CRC, not pass for truncation.
        assert not batch.incomplete, pos
        assert batch.payloads == expected, pos
        (d,) = batch.damage
        assert d.offset == starts[victim] and "CRC" in d.reason, pos
        assert batch.end == bounds[-1]


def test_garbage_is_not_an_event_file():
    rng = random.Random(0)
    garbage = bytes(rng.randrange(256) for _ in range(5000))
    batch = read_records(garbage, path="g")
    assert batch.payloads == []
    (d,) = batch.damage
    assert d.offset == 0 and "not a TensorBoard event file" in d.reason


def test_resync_after_garbage_and_zero_runs():
    data, _ = blob()
    rng = random.Random(1)
    junk = bytes(rng.randrange(256) for _ in range(300)) + b"\x00" * 5000
    good_head = frame(b"head")
    batch = read_records(good_head + junk + data, path="f")
    assert batch.payloads == [b"head"] + PAYLOADS
    (d,) = batch.damage
    assert d.offset == len(good_head)
    assert f"next valid record at byte {len(good_head) + len(junk)}" in d.reason


def test_read_file_records_from_offset(tmp_path):
    data, starts = blob()
    path = tmp_path / "events.out.tfevents.1"
    path.write_bytes(data)
    batch, size = read_file_records(path, starts[2])
    assert size == len(data)
    assert batch.payloads == PAYLOADS[2:] and batch.offsets == starts[2:]


def test_unreadable_file_is_reported(tmp_path):
    missing = os.fspath(tmp_path / "nope")
    batch, size = read_file_records(missing)
    assert batch.payloads == [] and size == 0
    assert "cannot read" in batch.damage[0].reason


def _framed_with_length(data: bytes, length: int) -> bytes:
    """A record whose length field (with a valid length CRC) says ``length``, not ``len(data)``."""
    good = frame(data)
    header = struct.pack("<Q", length)
    return header + struct.pack("<I", masked_crc32c(header)) + good[12:]


def test_wrong_length_with_valid_crc_keeps_the_next_intact_record():
    """A torn write can leave a length whose CRC verifies but which is wrong; the intact record
    right after it is found by searching from the damaged record's start, not lost."""
    for delta in (-3, 2, 7, 40):
        bad = _framed_with_length(b"torn record payload", len(b"torn record payload") + delta)
        data = frame(b"head") + bad + frame(b"next") + frame(b"tail")
        batch = read_records(data, path="f")
        assert batch.payloads == [b"head", b"next", b"tail"], delta
        (d,) = batch.damage
        assert d.offset == 20 and "CRC mismatch" in d.reason and f"next valid record at byte {20 + len(bad)}" in d.reason


def test_lengths_from_2_to_the_31_are_corrupt_lengths_not_incomplete_records():
    for length in (2**31, 2**31 + 5, 2**40, 2**64 - 1):
        header = struct.pack("<Q", length)
        bad = header + struct.pack("<I", masked_crc32c(header)) + b"junk"
        data = frame(b"head") + bad + frame(b"next")
        batch = read_records(data, path="f")
        assert batch.payloads == [b"head", b"next"] and not batch.incomplete, length
        (d,) = batch.damage
        assert "incomplete" not in d.reason and f"record length {length} runs past the end" in d.reason
        assert batch.end == len(data)
        alone = read_records(frame(b"head") + bad, path="f")  # nothing after it: still not "incomplete"
        assert not alone.incomplete and "skipped the remaining" in alone.damage[0].reason
        assert alone.end == 20 + len(bad)


def test_a_plausible_length_past_the_end_is_an_incomplete_record_resumed_later():
    data = frame(b"head") + frame(b"x" * 100)
    batch = read_records(data[:-10], path="f")
    assert batch.incomplete and batch.end == 20 and "incomplete last record" in batch.damage[0].reason


def _peak_bytes(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_zero_filled_file_memory_is_bounded_by_the_window_not_the_file(tmp_path):
    """A 64 MiB all-zero file: one 'not an event file' entry; peak memory a fraction of the file."""
    path = tmp_path / "events.out.tfevents.zeros"
    with open(path, "wb") as fh:
        for _ in range(64):
            fh.write(bytes(1 << 20))
    (batch, size), peak = _peak_bytes(lambda: read_file_records(path))
    assert size == 64 << 20 and batch.payloads == []
    (d,) = batch.damage
    assert "not a TensorBoard event file" in d.reason
    assert peak < 24 << 20, peak


def test_sparse_multi_gib_file_keeps_its_records_with_bounded_memory(tmp_path):
    """A 3 GiB sparse file (holes read as zeros) with intact records at its start, middle and end."""
    path = tmp_path / "events.out.tfevents.sparse"
    middle, end = 1 << 30, (3 << 30) - 200
    with open(path, "wb") as fh:
        fh.write(frame(b"first"))
        fh.seek(middle)
        fh.write(frame(b"middle"))
        fh.seek(end)
        fh.write(frame(b"last"))
    (batch, size), peak = _peak_bytes(lambda: read_file_records(path))
    assert batch.payloads == [b"first", b"middle", b"last"]
    assert batch.offsets == [0, middle, end]
    assert [d.offset for d in batch.damage] == [21, middle + 22]
    assert f"next valid record at byte {middle}" in batch.damage[0].reason
    assert peak < 24 << 20, peak
