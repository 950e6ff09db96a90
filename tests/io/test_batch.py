"""The batch decoder (numpy over many files) gives exactly the per-file reader's output."""

from __future__ import annotations

import random
import struct

import pytest
from tensorboard.compat.proto import event_pb2, types_pb2

from hparams_tools.io import _batch
from hparams_tools.io._templates import ParseContext, TemplateCache
from hparams_tools.io.events import ValueSink, parse_file_into
from hparams_tools.io.records import read_file_records
from hparams_tools.io.writer import EventWriter, frame_record
from test_events import rank0, scalar_event, write_events


def _view(pieces):
    """Per file path: FileInfo facts, {tag: (plugin, content)}, and its values in order."""
    out = {}
    for infos, sink in pieces:
        by_index = {}
        for info in infos:
            out[info.path] = {"info": (info.end, info.size, info.n_records, list(info.damage)), "series": {}, "values": []}
        for f, tag, plugin, content in sink.series:
            by_index.setdefault(f, {})[tag] = (plugin, content)
        paths = _INDEX_TO_PATH
        for f, series in by_index.items():
            out[paths[f]]["series"] = series
        for k in range(len(sink.sid)):
            f, tag, plugin, content = sink.series[int(sink.sid[k])]
            out[paths[f]]["values"].append((tag, int(sink.step[k]), repr(float(sink.wall[k])), repr(float(sink.value[k]))))
    return out


_INDEX_TO_PATH: dict[int, str] = {}


def _per_file(jobs, context=None):
    context = context or ParseContext()
    pieces = []
    for index, path, offset, _ in jobs:
        sink = ValueSink()
        info = parse_file_into(sink, index, path, offset, context)
        pieces.append(([info], sink))
    return _view(pieces)


def _random_logdir(tmp_path, seed, n_files=12):
    rng = random.Random(seed)
    f32 = lambda x: rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", x))  # noqa: E731
    paths = []
    for f in range(n_files):
        evs = [event_pb2.Event(wall_time=1.0, file_version="brain.Event:2")]
        if rng.random() < 0.3:
            evs[0] = event_pb2.Event(wall_time=2.0, file_version="brain.Event:1")
        for _ in range(rng.randint(0, 50)):
            tag = rng.choice(["loss", "acc", "img", "accuracy_long_tag_name"])
            plugin = rng.choice(["scalars", None, None, "images" if tag == "img" else "scalars"])
            step = rng.choice([0, 1, 5, 127, 128, 300, 20000, 2**21 + 3, 2**40, -5])
            value = rng.choice([0.5, -1.0, float("nan"), 1e30, float("inf")])
            r = rng.random()
            if r < 0.25:
                evs.append(scalar_event(tag, step, simple=value, plugin=plugin, wall=rng.random() * 1e9))
            elif r < 0.3:  # two values in one event
                ev = scalar_event(tag, step, tensor=f32(value), plugin=plugin, wall=rng.random() * 1e9)
                v = ev.summary.value.add(tag="second")
                v.simple_value = 2.0
                evs.append(ev)
            elif r < 0.33:  # a double tensor (general path)
                evs.append(scalar_event(tag, step, tensor=rank0(types_pb2.DT_DOUBLE, double_val=[value]),
                                        plugin=plugin, wall=rng.random() * 1e9))
            else:
                evs.append(scalar_event(tag, step, tensor=f32(value), plugin=plugin, wall=rng.random() * 1e9))
        path = tmp_path / f"r{f}" / f"events.out.tfevents.{f}"
        path.parent.mkdir()
        write_events(path, evs)
        paths.append(path)
    # HParams infos (written by our writer) and damaged files beside the good ones
    with EventWriter(tmp_path / "hp") as w:
        w.add_session_start({"lr": 0.1, "opt": "adam"}, group="g", start_time=5.0)
        w.add_scalar("loss", 0.25, 3)
        w.add_session_end("SUCCESS", end_time=9.0)
    paths.append(w.path)
    data = bytearray(paths[0].read_bytes())
    if len(data) > 60:
        data[50] ^= 0xFF  # a flipped byte: one record lost, found by the per-file reader
    bad = tmp_path / "bad" / "events.out.tfevents.flip"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    trunc = tmp_path / "bad" / "events.out.tfevents.trunc"
    trunc.write_bytes(paths[1].read_bytes()[:-7])
    garbage = tmp_path / "bad" / "events.out.tfevents.garbage"
    garbage.write_bytes(b"not an event file at all" * 5)
    notproto = tmp_path / "bad" / "events.out.tfevents.notproto"
    notproto.write_bytes(frame_record(b"\xff\xff\xff") + frame_record(b"") + paths[2].read_bytes())
    (tmp_path / "bad" / "events.out.tfevents.empty").write_bytes(b"")
    paths += [bad, trunc, garbage, notproto, tmp_path / "bad" / "events.out.tfevents.empty"]
    return [(i, str(p), 0, 1) for i, p in enumerate(paths)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_equals_per_file_reader(tmp_path, seed, monkeypatch):
    jobs = _random_logdir(tmp_path, seed)
    _INDEX_TO_PATH.clear()
    _INDEX_TO_PATH.update({i: p for i, p, _, _ in jobs})
    reference = _per_file(jobs, ParseContext(TemplateCache(limit=0)))  # every record through protobuf
    assert _view(_batch.parse_batch(jobs, ParseContext(TemplateCache(limit=0)))) == reference  # general path only
    context = ParseContext()
    assert _view(_batch.parse_batch(jobs, context)) == reference  # learning templates
    assert len(context.templates)
    assert _view(_batch.parse_batch(jobs, context)) == reference  # using them
    # resuming after a file's first record (a reload) also agrees
    resumed = []
    for i, p, _, _ in jobs:
        offsets = read_file_records(p)[0].offsets
        resumed.append((i, p, offsets[1] if len(offsets) > 1 else 0, 1))
    assert _view(_batch.parse_batch(resumed)) == _per_file(resumed)
    assert any(v["info"][3] for v in reference.values()), "damage was exercised"


def test_every_flipped_byte_is_caught_like_the_per_file_reader(tmp_path):
    """CRCs of template rows are derived from one row's CRC (CRC-32C is affine); a flip of any
    byte of any record, in a file of templated scalars, must give the per-file reader's result."""
    with EventWriter(tmp_path / "w") as w:
        for step in range(6):
            w.add_scalar("epoch_loss", 1.0 / (step + 1), step * 100, wall_time=1e9 + step)
            w.add_scalar("epoch_accuracy", step / 10, step * 100, wall_time=1e9 + step)
    good = w.path.read_bytes()
    warm = [(0, str(w.path), 0, 1)]
    _INDEX_TO_PATH.clear()
    _INDEX_TO_PATH[0] = str(w.path)
    context = ParseContext()
    _batch.parse_batch(warm, context)  # learn the templates, so later parses use the derived CRCs
    assert len(context.templates)
    for i in range(len(good)):
        data = bytearray(good)
        data[i] ^= 0x21
        w.path.write_bytes(bytes(data))
        assert _view(_batch.parse_batch(warm, context)) == _per_file(warm, context), f"flipped byte {i}"


def test_same_prefix_other_metadata_is_not_taken_from_the_template(tmp_path, monkeypatch):
    """A learnt template is only applied after its suffix (the metadata) matched: a tag written
    with other metadata of the same size keeps its own plugin, in both readers."""
    f32 = lambda x: rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", x))  # noqa: E731
    a = write_events(tmp_path / "events.out.tfevents.a", [scalar_event("m", s, tensor=f32(s), plugin="scalars") for s in range(3)])
    b = write_events(tmp_path / "events.out.tfevents.b", [scalar_event("m", s, tensor=f32(s), plugin="scalarz") for s in range(3)])
    jobs = [(0, str(a), 0, 1), (1, str(b), 0, 1)]
    _INDEX_TO_PATH.clear()
    _INDEX_TO_PATH.update({0: str(a), 1: str(b)})
    reference = _per_file(jobs, ParseContext(TemplateCache(limit=0)))
    assert reference[str(b)]["series"] == {"m": ("scalarz", b"")}
    context = ParseContext()
    _per_file(jobs[:1], context)  # learn the "scalars" layout only
    assert _per_file(jobs, context) == reference
    assert _view(_batch.parse_batch(jobs, context)) == reference


def test_groups_of_files_decode_like_one_batch(tmp_path, monkeypatch):
    """Files are decoded in groups of at most BATCH_MAX_BYTES (memory bound); any grouping, and
    files too big for the batch decoder (streamed per record), give the per-file reader's output."""
    jobs = _random_logdir(tmp_path, 5)
    _INDEX_TO_PATH.clear()
    _INDEX_TO_PATH.update({i: p for i, p, _, _ in jobs})
    reference = _per_file(jobs)
    for limit in (1, 500, 4000):
        monkeypatch.setattr(_batch, "BATCH_MAX_BYTES", limit)
        assert _view(_batch.parse_batch(jobs, ParseContext())) == reference, limit
    monkeypatch.setattr(_batch, "BATCH_MAX_FILE", 300)
    assert _view(_batch.parse_batch(jobs, ParseContext())) == reference
