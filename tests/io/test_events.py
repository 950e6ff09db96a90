"""Event decoding: simple vs tensor scalars, dtypes, first-metadata rule, other plugins, fast path."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.util import tensor_util

from hparams_tools.io._templates import ParseContext, TemplateCache
from hparams_tools.io.events import Scalar, SessionEnd, SessionStart, ValueSink, parse_file_into, read_events
from hparams_tools.io.writer import EventWriter, frame_record


def write_events(path, evs):
    with open(path, "wb") as fh:
        for ev in evs:
            fh.write(frame_record(ev.SerializeToString()))
    return path


def scalar_event(tag, step, tensor=None, simple=None, plugin=None, wall=1.0):
    ev = event_pb2.Event(wall_time=wall, step=step)
    v = ev.summary.value.add(tag=tag)
    if tensor is not None:
        v.tensor.CopyFrom(tensor)
    if simple is not None:
        v.simple_value = simple
    if plugin is not None:
        v.metadata.plugin_data.plugin_name = plugin
    return ev


def rank0(dtype, **fields):
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto(), **fields)


def test_simple_and_tensor_scalars_decode_alike(tmp_path):
    values = [0.25, -1.5, float("nan"), 3.0e10]
    for kind in ("tensor", "simple"):
        with EventWriter(tmp_path / kind) as w:
            for step, value in enumerate(values):
                w.add_scalar("loss", value, step, wall_time=10.0 + step, kind=kind)
        items, damage = read_events(w.path)
        assert damage == []
        got = [i for i in items if isinstance(i, Scalar)]
        assert [(s.tag, s.step, s.wall_time) for s in got] == [("loss", i, 10.0 + i) for i in range(4)]
        expected = [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]  # float32 on disk
        assert all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip([s.value for s in got], expected))


DTYPE_CASES = [
    rank0(types_pb2.DT_DOUBLE, tensor_content=struct.pack("<d", 0.1)),
    rank0(types_pb2.DT_DOUBLE, double_val=[2.5]),
    rank0(types_pb2.DT_FLOAT, float_val=[1.25]),
    rank0(types_pb2.DT_HALF, half_val=[np.float16(0.5).view(np.uint16).item()]),
    rank0(types_pb2.DT_HALF, tensor_content=np.float16(-2.0).tobytes()),
    rank0(types_pb2.DT_INT64, int64_val=[-7]),
    rank0(types_pb2.DT_INT32, tensor_content=struct.pack("<i", 42)),
    tensor_pb2.TensorProto(  # shape [1] is one element too
        dtype=types_pb2.DT_FLOAT,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]),
        float_val=[9.0],
    ),
]


def test_tensor_dtypes_match_tensorboards_make_ndarray(tmp_path):
    evs = [scalar_event("m", i, tensor=t, plugin="scalars" if i == 0 else None) for i, t in enumerate(DTYPE_CASES)]
    evs.append(scalar_event("m", 99, tensor=rank0(types_pb2.DT_FLOAT)))  # no value: make_ndarray fails
    items, _ = read_events(write_events(tmp_path / "events.out.tfevents.1", evs))
    got = [s.value for s in items if isinstance(s, Scalar)]
    assert got == [float(tensor_util.make_ndarray(t).item()) for t in DTYPE_CASES]


def test_metadata_on_first_value_only_and_other_plugins_ignored(tmp_path):
    f32 = lambda x: rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", x))  # noqa: E731
    evs = [
        scalar_event("acc", 0, tensor=f32(0.5), plugin="scalars"),
        scalar_event("acc", 1, tensor=f32(0.75)),  # no metadata: still a scalar of tag acc
        # a rank-0 float tensor whose first metadata says "images" (or text, histograms) is not a scalar
        scalar_event("img", 0, tensor=f32(1.0), plugin="images"),
        scalar_event("img", 1, tensor=f32(2.0), plugin="scalars"),  # later metadata is ignored
        scalar_event("txt", 0, tensor=rank0(types_pb2.DT_STRING, string_val=[b"hi"]), plugin="text"),
        scalar_event("hist", 0, tensor=tensor_pb2.TensorProto(
            dtype=types_pb2.DT_DOUBLE,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=3)]),
            double_val=[1, 2, 3]), plugin="histograms"),
        scalar_event("acc", 2, tensor=f32(1.0)),
    ]
    items, _ = read_events(write_events(tmp_path / "events.out.tfevents.1", evs))
    scalars = [(s.tag, s.step, s.value) for s in items if isinstance(s, Scalar)]
    assert scalars == [("acc", 0, 0.5), ("acc", 1, 0.75), ("acc", 2, 1.0)]


def test_hparams_infos_decode(tmp_path):
    with EventWriter(tmp_path) as w:
        w.add_session_start({"lr": 0.1, "opt": "adam", "bn": True}, group="g1", start_time=5.0)
        w.add_session_end("FAILURE", end_time=9.0)
    items, _ = read_events(w.path)
    assert items == [SessionStart({"bn": True, "lr": 0.1, "opt": "adam"}, "g1", 5.0), SessionEnd("FAILURE", 9.0)]


def _sink_of(path, context):
    sink = ValueSink()
    parse_file_into(sink, 0, str(path), 0, context)
    return sink.series, list(sink.sid), list(sink.step), list(sink.wall), [repr(v) for v in sink.value]


@pytest.mark.parametrize("kind", ["tensor", "simple"])
def test_fast_path_gives_the_protobuf_result(tmp_path, kind):
    """Cold (every record through protobuf) and warm (verified templates) parses agree exactly,
    including a simple_value tag whose first value in a file is decoded by a template."""
    values = [0.1, float("inf"), -0.0, float("nan"), 7.0]
    paths = []
    for run in ("a", "b"):
        with EventWriter(tmp_path / run) as w:
            for step, value in enumerate(values):
                w.add_scalar("m", value, step * 300, wall_time=1.5 * step, kind=kind)  # steps > 1 varint byte
        paths.append(w.path)
    context = ParseContext()
    cold = [_sink_of(p, context) for p in paths]
    warm = [_sink_of(p, context) for p in paths]  # templates learnt from the cold pass
    assert len(context.templates), "the fast path was exercised"
    assert cold == warm
    series, sid, step, wall, vals = warm[1]
    assert series[0][2] == "scalars"
    assert step == [0, 300, 600, 900, 1200]


def test_fast_path_refuses_lookalikes(tmp_path):
    """An event with a second wall_time after its summary (protobuf: the last one wins) is
    never decoded by a template, however often it repeats."""
    context = ParseContext()
    ev = scalar_event("m", 3, tensor=rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", 1.0)),
                      plugin="scalars", wall=5.0)
    tail = b"\x09" + struct.pack("<d", 99.0)
    path = tmp_path / "events.out.tfevents.1"
    with open(path, "wb") as fh:
        for _ in range(3):
            fh.write(frame_record(ev.SerializeToString() + tail))
    for _ in range(2):  # the second pass would use a template if one had been learnt
        items, _ = read_events(path, context)
        assert [(s.wall_time, s.value) for s in items if isinstance(s, Scalar)] == [(99.0, 1.0)] * 3
    assert len(context.templates) == 0


def test_tensorflow_layout_with_metadata_on_every_value(tmp_path):
    """TF2 writes the scalars metadata after the tensor on every value; the fast path handles it."""
    context = ParseContext()
    evs = [
        scalar_event("loss", s, tensor=rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", s / 8)),
                     plugin="scalars", wall=100.0 + s)
        for s in range(6)
    ]
    path = write_events(tmp_path / "events.out.tfevents.1", evs)
    cold = _sink_of(path, context)
    assert len(context.templates)
    assert _sink_of(path, context) == cold
    assert cold[4] == [repr(s / 8) for s in range(6)]


def test_fast_path_equals_protobuf_on_mixed_layouts(tmp_path, monkeypatch):
    """Random mixes of layouts (metadata on every/first/no value, simple and tensor values, other
    plugins, big and negative steps) decode identically with templates on and off."""
    import random

    rng = random.Random(7)
    f32 = lambda x: rank0(types_pb2.DT_FLOAT, tensor_content=struct.pack("<f", x))  # noqa: E731
    paths = []
    for f in range(6):
        evs = []
        for _ in range(60):
            tag = rng.choice(["loss", "acc", "img"])
            plugin = rng.choice(["scalars", None, None, "images" if tag == "img" else "scalars"])
            step = rng.choice([0, 1, 127, 128, 300, 2**40, -5])
            value = rng.choice([0.5, -1.0, float("nan"), 1e30])
            if rng.random() < 0.3:
                evs.append(scalar_event(tag, step, simple=value, plugin=plugin, wall=rng.random() * 1e9))
            else:
                evs.append(scalar_event(tag, step, tensor=f32(value), plugin=plugin, wall=rng.random() * 1e9))
        paths.append(write_events(tmp_path / f"events.out.tfevents.{f}", evs))

    def parse_all(context):
        sink = ValueSink()
        for i, path in enumerate(paths):
            parse_file_into(sink, i, str(path), 0, context)
        return sink.series, list(sink.sid), list(sink.step), list(sink.wall), [repr(v) for v in sink.value]

    reference = parse_all(ParseContext(TemplateCache(limit=0)))  # every record through protobuf
    context = ParseContext()
    assert parse_all(context) == reference  # learning templates
    assert len(context.templates)
    assert parse_all(context) == reference  # using them
