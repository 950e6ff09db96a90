"""The writer produces event files that TensorBoard's own (pure Python) record reader and protos accept.

References used here are independent of our code: TensorBoard's pure-Python TFRecord reader and
CRC-32C (``tensorboard.compat.tensorflow_stub.pywrap_tensorflow``), its proto classes and its
hparams ``metadata`` parsers. The TensorBoard HParams backend itself reads writer output in
``test_conformance.py``.
"""

from __future__ import annotations

import math
import re
import struct
import sys

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as tb_stub
from tensorboard.plugins.hparams import api_pb2, metadata

from hparams_tools.errors import HParamsToolsError, OutputError
from hparams_tools.io.writer import EventWriter, frame_record, masked_crc32c, write_experiment, write_session


def read_events(path) -> list[event_pb2.Event]:
    """Read every Event with TensorBoard's pure-Python, CRC-checking record reader."""
    reader = tb_stub.PyRecordReader_New(str(path).encode())
    events = []
    while True:
        try:
            reader.GetNext()
        except tb_stub.errors.OutOfRangeError:
            break
        events.append(event_pb2.Event.FromString(reader.record()))
    return events


def event_files(root):
    return sorted(p for p in root.rglob("events.out.tfevents.*"))


def test_masked_crc_matches_tensorboard_reference():
    for data in [b"", b"a", b"hello world", bytes(range(256)) * 3]:
        assert masked_crc32c(data) == tb_stub.masked_crc32c(data)


def test_frame_layout():
    data = b"payload"
    framed = frame_record(data)
    (length,) = struct.unpack("<Q", framed[:8])
    assert length == len(data)
    assert struct.unpack("<I", framed[8:12])[0] == tb_stub.masked_crc32c(framed[:8])
    assert framed[12:-4] == data
    assert struct.unpack("<I", framed[-4:])[0] == tb_stub.masked_crc32c(data)


def test_file_name_and_first_record(tmp_path):
    with EventWriter(tmp_path / "run", filename_suffix=".x") as w:
        w.add_scalar("loss", 1.0, 0)
    files = event_files(tmp_path)
    assert files == [w.path]
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\.[^.]+(\.[^.]+)*\.\d+\.\d+\.v2\.x", w.path.name)
    events = read_events(w.path)
    assert events[0].file_version == "brain.Event:2"
    assert not events[0].HasField("summary")


def test_writers_in_one_dir_get_distinct_files_sorted_in_creation_order(tmp_path):
    paths = []
    for _ in range(12):  # crosses 9 -> 10 in the counter: names must still sort in order
        with EventWriter(tmp_path) as w:
            paths.append(w.path)
    assert len(set(paths)) == 12
    assert event_files(tmp_path) == sorted(paths) and sorted(paths, key=lambda p: p.stat().st_mtime_ns) == paths


@pytest.mark.parametrize("kind", ["tensor", "tensor-first"])
def test_tensor_scalars(tmp_path, kind):
    values = [0.5, float("nan"), 2.25, float("inf")]
    with EventWriter(tmp_path) as w:
        for step, v in enumerate(values):
            w.add_scalar("epoch_loss", v, step, wall_time=100.0 + step, kind=kind)
        w.add_scalar("epoch_accuracy", 0.125, 7, kind=kind)
    events = read_events(w.path)[1:]
    assert [e.step for e in events] == [0, 1, 2, 3, 7]
    assert [e.wall_time for e in events[:4]] == [100.0, 101.0, 102.0, 103.0]
    loss = [e.summary.value[0] for e in events[:4]]
    assert loss[0].metadata.plugin_data.plugin_name == "scalars"
    if kind == "tensor":  # as TF 2 writes: metadata on every value
        assert all(v.metadata.plugin_data.plugin_name == "scalars" for v in loss)
    else:  # only the first value of the tag carries it
        assert all(not v.HasField("metadata") for v in loss[1:])
    decoded = [np.frombuffer(v.tensor.tensor_content, "<f4")[0] for v in loss]
    assert all(v.tensor.dtype == 1 and len(v.tensor.tensor_shape.dim) == 0 for v in loss)  # DT_FLOAT, rank 0
    assert decoded[0] == 0.5 and math.isnan(decoded[1]) and decoded[2] == 2.25 and math.isinf(decoded[3])
    acc = events[4].summary.value[0]
    assert acc.tag == "epoch_accuracy" and acc.metadata.plugin_data.plugin_name == "scalars"


def test_simple_scalars(tmp_path):
    with EventWriter(tmp_path) as w:
        w.add_scalar("loss", 0.75, 3, kind="simple")
    (event,) = read_events(w.path)[1:]
    value = event.summary.value[0]
    assert event.step == 3 and value.WhichOneof("value") == "simple_value" and value.simple_value == 0.75


def test_hparams_summaries_parse_with_tensorboard_metadata(tmp_path):
    from types import SimpleNamespace as NS

    hparams = [
        NS(name="lr", type="float", display_name="Learning rate", description="log-uniform",
           domain=NS(min_value=1e-4, max_value=0.1)),
        NS(name="opt", type="string", display_name="", description="", domain=NS(values=("adam", "sgd"))),
        "plain",
    ]
    metrics = [NS(group="validation", tag="epoch_accuracy", display_name="Val acc", description=""), "loss",
               ("train", "epoch_loss")]
    with EventWriter(tmp_path) as w:
        w.add_experiment(hparams, metrics, description="objective: validation/epoch_accuracy maximize",
                         time_created=5.0)
        w.add_session_start({"lr": np.float32(0.5), "opt": "adam", "bn": True, "units": 64},
                            group="g1", start_time=10.0)
        w.add_session_end("FAILURE", end_time=20.0)
    exp_ev, start_ev, end_ev = read_events(w.path)[1:]
    values = [exp_ev.summary.value[0], start_ev.summary.value[0], end_ev.summary.value[0]]
    assert [v.tag for v in values] == [metadata.EXPERIMENT_TAG, metadata.SESSION_START_INFO_TAG,
                                       metadata.SESSION_END_INFO_TAG]
    assert all(v.metadata.plugin_data.plugin_name == "hparams" for v in values)

    exp = metadata.parse_experiment_plugin_data(values[0].metadata.plugin_data.content)
    assert exp.description.startswith("objective:") and exp.time_created_secs == 5.0
    lr, opt, plain = exp.hparam_infos
    assert (lr.name, lr.type, lr.display_name) == ("lr", api_pb2.DATA_TYPE_FLOAT64, "Learning rate")
    assert (lr.domain_interval.min_value, lr.domain_interval.max_value) == (1e-4, 0.1)
    assert [v.string_value for v in opt.domain_discrete.values] == ["adam", "sgd"]
    assert plain.name == "plain" and plain.WhichOneof("domain") is None
    assert [(m.name.group, m.name.tag) for m in exp.metric_infos] == [
        ("validation", "epoch_accuracy"), ("", "loss"), ("train", "epoch_loss")]
    assert exp.metric_infos[0].display_name == "Val acc"

    start = metadata.parse_session_start_info_plugin_data(values[1].metadata.plugin_data.content)
    assert start.group_name == "g1" and start.start_time_secs == 10.0
    assert start.hparams["lr"].number_value == 0.5
    assert start.hparams["opt"].string_value == "adam"
    assert start.hparams["bn"].WhichOneof("kind") == "bool_value" and start.hparams["bn"].bool_value is True
    assert start.hparams["units"].number_value == 64
    end = metadata.parse_session_end_info_plugin_data(values[2].metadata.plugin_data.content)
    assert end.status == api_pb2.STATUS_FAILURE and end.end_time_secs == 20.0


def test_write_session_layout(tmp_path):
    run = tmp_path / "sweep" / "run-0"
    write_session(run, {"lr": 0.1}, group="g", start_time=1000.0, end_time=1100.0,
                  scalars={"": {"score": [3.0]}, "train": {"epoch_loss": [1.0, 0.5]},
                           "validation": {"epoch_loss": [1.5, 0.75], "epoch_accuracy": [0.25, 0.5]}})
    files = event_files(tmp_path)
    assert [f.parent.relative_to(run).as_posix() for f in files] == [".", "train", "validation"]
    root = read_events(files[0])[1:]
    assert [v.tag for e in root for v in e.summary.value] == [
        metadata.SESSION_START_INFO_TAG, "score", metadata.SESSION_END_INFO_TAG]
    val = read_events(files[2])[1:]
    got = [(e.step, e.summary.value[0].tag, np.frombuffer(e.summary.value[0].tensor.tensor_content, "<f4")[0])
           for e in val]
    assert got == [(0, "epoch_loss", 1.5), (0, "epoch_accuracy", 0.25), (1, "epoch_loss", 0.75),
                   (1, "epoch_accuracy", 0.5)]


def test_write_session_without_status_writes_no_end_info(tmp_path):
    write_session(tmp_path, {"a": 1}, status=None)
    (f,) = event_files(tmp_path)
    tags = [v.tag for e in read_events(f) for v in e.summary.value]
    assert tags == [metadata.SESSION_START_INFO_TAG]


def test_write_experiment_returns_path(tmp_path):
    path = write_experiment(tmp_path, ["a"], ["m"])
    assert path.parent == tmp_path and path.exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda w: w.add_scalar("x", 1.0, 0, kind="histogram"),
        lambda w: w.add_session_end("DONE"),
        lambda w: w.add_session_start({"a": [1, 2]}),
    ],
)
def test_bad_arguments_raise_our_error(tmp_path, call):
    with EventWriter(tmp_path) as w:
        with pytest.raises(HParamsToolsError):
            call(w)


def test_scalar_group_may_not_escape_run(tmp_path):
    with pytest.raises(OutputError):
        write_session(tmp_path / "run", {"a": 1}, scalars={"../evil": {"x": [1.0]}})
    assert not (tmp_path / "evil").exists() and not (tmp_path / "run").exists()


def test_unwritable_directory_is_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create event file"):
        EventWriter(blocker / "run")


def test_closed_writer_refuses(tmp_path):
    w = EventWriter(tmp_path)
    w.close()
    w.close()  # idempotent
    with pytest.raises(OutputError):
        w.add_scalar("x", 1.0, 0)


def test_writer_does_not_import_tensorflow():
    import subprocess  # other tests in this process may import TF: check in a fresh interpreter

    code = "import sys, hparams_tools.io.writer as w; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
