"""A deterministic fuzzing campaign against the reader's contract (issue 10).

A seeded mutator turns real event files (written by our writer, whose bytes equal TensorFlow's,
see test_writer.py) into a few thousand damaged or odd files:

* framing mutations: flipped, inserted and deleted bytes, truncation, zero runs, garbage,
  duplicated and spliced records, lengths rewritten *with a valid length CRC* (small, huge,
  from 2**31 up);
* structurally valid but odd records: Event payloads mutated and re-framed with valid CRCs
  (random bytes, truncated protobufs, random unknown fields, random HParams plugin contents,
  odd tensors, unicode tags, extreme steps).

Every outcome must be a result or a documented :class:`HParamsToolsError`, never another
exception, and at the record layer:

* every record the mutation did not touch is kept, at its (shifted) offset;
* kept records and reported damage tile the file: every byte is in exactly one of them;
* the per-file reader and the batch decoder give the same values, series and damage.

A memory bound is asserted on large zero-filled and sparse files read as a whole logdir.
"""

from __future__ import annotations

import random
import struct
import tracemalloc
import warnings

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

from hparams_tools import read_experiment
from hparams_tools.errors import HParamsToolsError
from hparams_tools.io._batch import parse_batch
from hparams_tools.io._templates import ParseContext
from hparams_tools.io.events import ValueSink, parse_file_into
from hparams_tools.io.records import read_records
from hparams_tools.io.writer import EventWriter, frame_record, write_experiment

N_CASES = 2800  # framing + payload mutations; about 30 s on one busy CPU
FULL_READ_EVERY = 8  # every 8th case is also read as a whole logdir (table and exports)


# --------------------------------------------------------------------------------------------
# corpus: real files from our writer
# --------------------------------------------------------------------------------------------
def _records(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each record of an intact file, from the framing alone."""
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, pos + 16 + length))
        pos += 16 + length
    assert pos == len(data)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    files = []
    with EventWriter(root / "a") as w:
        w.add_session_start({"lr": 0.01, "opt": "adam", "bn": True}, group="g", start_time=100.0)
        for step in range(6):
            w.add_scalar("epoch_loss", 1.0 / (step + 1), step, wall_time=100.0 + step)
            w.add_scalar("epoch_accuracy", step / 10, step * 300, wall_time=100.0 + step, kind="simple")
        w.add_session_end("SUCCESS", end_time=200.0)
    files.append(w.path.read_bytes())
    write_experiment(root / "b", ["lr", "opt"], ["epoch_loss", ("validation", "epoch_accuracy")], description="d")
    files.append(next((root / "b").glob("events*")).read_bytes())
    with EventWriter(root / "c") as w:
        for step in range(10):
            w.add_scalar("m", float(step), 2**40 + step, wall_time=5.0)
    files.append(w.path.read_bytes())
    return files


# --------------------------------------------------------------------------------------------
# the mutator: returns (mutated bytes, [(original start, original end) of touched ranges], shift)
# --------------------------------------------------------------------------------------------
def _masked(data: bytes) -> int:
    from hparams_tools.io.records import masked_crc32c

    return masked_crc32c(data)


def _odd_event(rng: random.Random) -> bytes:
    """A structurally valid Event with odd contents."""
    ev = event_pb2.Event(wall_time=rng.choice([0.0, -1.0, 1e300, float("nan"), 1.5]),
                         step=rng.choice([0, -1, 2**63 - 1, -(2**63), 127, 128]))
    for _ in range(rng.randint(0, 3)):
        v = ev.summary.value.add(tag=rng.choice(["", "m", "ü/ñ/é", "x" * 300, "_hparams_/session_start_info",
                                                 "_hparams_/session_end_info", "_hparams_/experiment"]))
        kind = rng.randint(0, 3)
        if kind == 0:
            v.simple_value = rng.choice([0.5, float("inf"), float("nan"), -0.0])
        elif kind == 1:
            v.tensor.dtype = rng.choice([0, 1, 2, 3, 7, 9, 10, 14, 19, 23, 99])
            v.tensor.tensor_content = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 2, 4, 8, 9])))
            for _ in range(rng.randint(0, 2)):
                v.tensor.tensor_shape.dim.add(size=rng.choice([0, 1, 2, -1]))
        elif kind == 2:
            v.tensor.dtype = 1
            v.tensor.float_val.extend([rng.random()] * rng.randint(0, 2))
        if rng.random() < 0.6:
            v.metadata.plugin_data.plugin_name = rng.choice(["scalars", "hparams", "images", ""])
            v.metadata.plugin_data.content = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    return ev.SerializeToString()


def mutate(rng: random.Random, data: bytes) -> tuple[bytes, list[tuple[int, int]], int, int]:
    """Return ``(mutated, touched ranges of the original, position from which bytes shift, shift)``."""
    n = len(data)
    recs = _records(data)
    kind = rng.randrange(12)
    if kind == 0:  # flip 1-3 bytes
        out = bytearray(data)
        touched = []
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(n)
            out[i] ^= rng.randrange(1, 256)
            touched.append((i, i + 1))
        return bytes(out), touched, n, 0
    if kind == 1:  # insert random bytes
        i, k = rng.randrange(n + 1), rng.randint(1, 64)
        return data[:i] + bytes(rng.randrange(256) for _ in range(k)) + data[i:], [(i, i)], i, k
    if kind == 2:  # delete a range
        i = rng.randrange(n)
        j = min(n, i + rng.randint(1, 64))
        return data[:i] + data[j:], [(i, j)], j, -(j - i)
    if kind == 3:  # truncate
        i = rng.randrange(n)
        return data[:i], [(i, n)], n, 0
    if kind == 4:  # a zero run over some bytes
        i = rng.randrange(n)
        j = min(n, i + rng.randint(1, 200))
        return data[:i] + bytes(j - i) + data[j:], [(i, j)], n, 0
    if kind == 5:  # garbage (with zero runs) inserted between records
        s, _ = rng.choice(recs)
        junk = bytes(rng.choice([0, rng.randrange(256)]) for _ in range(rng.randint(1, 500)))
        return data[:s] + junk + data[s:], [(s, s)], s, len(junk)
    if kind == 6:  # a record duplicated (intact, so it must be read twice)
        s, e = rng.choice(recs)
        return data[:e] + data[s:e] + data[e:], [], e, e - s
    if kind == 7:  # a length rewritten with a valid length CRC
        s, e = rng.choice(recs)
        length = rng.choice([0, 1, e - s - 16 + rng.choice([-5, -1, 1, 3, 100]), 2**31, 2**31 + 7, 2**40, 2**64 - 1])
        length = max(0, min(length, 2**64 - 1))
        header = struct.pack("<Q", length)
        return data[:s] + header + struct.pack("<I", _masked(header)) + data[s + 12 :], [(s, e)], n, 0
    if kind == 8:  # a payload mutated and re-framed with valid CRCs (structurally valid framing)
        s, e = rng.choice(recs)
        payload = bytearray(data[s + 12 : e - 4])
        op = rng.randrange(3)
        if op == 0 and payload:
            for _ in range(rng.randint(1, 4)):
                payload[rng.randrange(len(payload))] = rng.randrange(256)
        elif op == 1:
            payload = payload[: rng.randrange(len(payload) + 1)]
        else:
            payload += bytes([rng.choice([0x08, 0x12, 0x2A, 0x7A, 0xFA])]) + bytes(rng.randrange(256) for _ in range(8))
        framed = frame_record(bytes(payload))
        return data[:s] + framed + data[e:], [(s, e)], e, len(framed) - (e - s)
    if kind == 9:  # an odd but valid Event inserted
        s, _ = rng.choice(recs + [(n, n)])
        framed = frame_record(_odd_event(rng))
        return data[:s] + framed + data[s:], [(s, s)], s, len(framed)
    if kind == 10:  # a record from the middle of another position (splice) with garbage around
        s, e = rng.choice(recs)
        i = rng.randrange(n + 1)
        piece = b"\x01\x02" + data[s:e] + b"\x03"
        return data[:i] + piece + data[i:], [(i, i)], i, len(piece)
    # 11: HParams plugin content replaced by random bytes, re-framed (an undecodable info)
    s, e = rng.choice(recs)
    ev = event_pb2.Event.FromString(data[s + 12 : e - 4])
    for v in ev.summary.value:
        if v.metadata.plugin_data.plugin_name:
            v.metadata.plugin_data.content = bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))
    framed = frame_record(ev.SerializeToString())
    return data[:s] + framed + data[e:], [(s, e)], e, len(framed) - (e - s)


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
def check_records(original: bytes, mutated: bytes, touched, shift_from: int, shift: int) -> None:
    batch = read_records(mutated, path="f")
    # tiling: kept records and damage spans cover every byte exactly once (up to `end`; an
    # incomplete tail is a damage span too)
    spans = sorted(
        [(o, o + 16 + len(p), "record") for o, p in zip(batch.offsets, batch.payloads)]
        + [(d.offset, d.offset + d.size, d.reason) for d in batch.damage]
    )
    pos = 0
    for a, b, what in spans:
        assert a == pos, f"gap or overlap at byte {pos}: next span {a}-{b} ({what})"
        assert b > a or what != "record", what
        pos = b
    assert pos == len(mutated), f"bytes {pos}-{len(mutated)} neither read nor reported"
    # every record the mutation did not touch is kept, at its shifted offset
    kept = dict(zip(batch.offsets, batch.payloads))
    for s, e in _records(original):
        if any(a < e and s < b or (a == b and s < a < e) for a, b in touched):
            continue
        at = s if e <= shift_from else s + shift
        if e > shift_from and s < shift_from:
            continue  # the shift point lies inside this record
        assert kept.get(at) == original[s + 12 : e - 4], f"intact record at {s} (now {at}) lost"


def _view(pieces):
    """Series, values, damage and file facts of parser output ``[(infos, sink), ...]``."""
    series, values, damage, files = [], [], [], []
    for infos, sink in pieces:
        values += [
            (sink.series[int(sink.sid[k])].tag, int(sink.step[k]), repr(float(sink.wall[k])), repr(float(sink.value[k])))
            for k in range(len(sink.sid))
        ]
        series += [(e.tag, e.plugin, repr(e.content)) for e in sink.series]
        damage += [(d.offset, d.size, d.reason) for info in infos for d in info.damage]
        files += [(i.end, i.size, i.n_records) for i in infos]
    return sorted(series), values, sorted(damage), files


def check_parsers(path: str) -> None:
    sink = ValueSink()
    per_file = _view([([parse_file_into(sink, 0, path, 0, ParseContext())], sink)])
    context = ParseContext()
    for _ in range(2):  # cold, then with the templates learnt
        assert _view(parse_batch([(0, path, 0, 1)], context)) == per_file


def check_experiment(logdir) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exp = read_experiment(logdir, workers=1)
        except HParamsToolsError:
            return
        exp.table("mean-last-2")
        exp.group_table()
        exp.scalars
        from hparams_tools.io.export import render

        render(exp, "json")
        render(exp, "csv")
        for m in exp.metric_infos:
            exp.metric_steps(m.name)


@pytest.mark.parametrize("shard", range(4))
def test_mutated_files_keep_the_contract(corpus, tmp_path, shard):
    rng = random.Random(1000 + shard)
    logdir = tmp_path / "logs"
    run = logdir / "run"
    run.mkdir(parents=True)
    write_experiment(logdir / "intact", ["lr"], ["epoch_loss"])
    path = run / "events.out.tfevents.fuzz"
    for case in range(N_CASES // 4):
        original = rng.choice(corpus)
        mutated, touched, shift_from, shift = mutate(rng, original)
        if rng.random() < 0.1:  # a second mutation on top (no intact-record claim then)
            mutated = mutate(rng, mutated)[0] if len(mutated) > 40 and _frames(mutated) else mutated
            touched = [(0, len(original))]
        context = f"shard {shard} case {case}"
        try:
            check_records(original, mutated, touched, shift_from, shift)
            path.write_bytes(mutated)
            check_parsers(str(path))
            if case % FULL_READ_EVERY == 0:
                check_experiment(logdir)
        except AssertionError as exc:
            raise AssertionError(f"{context}: {exc}") from exc


def _frames(data: bytes) -> bool:
    try:
        _records(data)
        return True
    except (AssertionError, struct.error):
        return False


# --------------------------------------------------------------------------------------------
# memory bound on big files, through the whole reader
# --------------------------------------------------------------------------------------------
def _peak(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        return fn(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["zeros", "sparse"])
def test_big_damaged_files_read_with_bounded_memory(tmp_path, kind):
    """A 64 MiB all-zero event file, or a 3 GiB sparse one with a record in the middle, next to a
    normal session: the session is read, the file is reported, and peak memory (tracemalloc:
    Python and numpy allocations) stays far below the file's size."""
    from hparams_tools.io.writer import write_session

    write_session(tmp_path / "ok", {"lr": 0.1}, scalars={"": {"acc": [0.5, 0.25]}})
    big = tmp_path / "big" / "events.out.tfevents.big"
    big.parent.mkdir()
    if kind == "zeros":
        with open(big, "wb") as fh:
            for _ in range(64):
                fh.write(bytes(1 << 20))
    else:
        ev = event_pb2.Event(wall_time=1.0, step=1, summary=summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="acc", simple_value=0.5)]))
        with open(big, "wb") as fh:
            fh.seek(1 << 30)
            fh.write(frame_record(ev.SerializeToString()))
            fh.truncate(3 << 30)

    def read():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exp = read_experiment(tmp_path, workers=1)
            return exp, exp.table()

    (exp, table), peak = _peak(read)
    assert list(table.index) == ["ok"] and table.loc["ok", "acc"] == 0.25
    reasons = [d.reason for d in exp.damage if "big" in d.path]
    assert reasons and all("incomplete" not in r for r in reasons)
    assert peak < 48 << 20, f"peak {peak >> 20} MiB"
