"""Live reading: reload() parses only appended bytes, new files and new runs, and ends up equal
to a cold read of the same directory."""

from __future__ import annotations

import os
import warnings

import pandas as pd
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2

from hparams_tools import read_experiment
from hparams_tools.errors import DamagedFileWarning
from hparams_tools.io.writer import EventWriter, frame_record, write_session


def scalar_record(tag: str, value: float, step: int) -> bytes:
    ev = event_pb2.Event(wall_time=1000.0 + step, step=step)
    v = ev.summary.value.add(tag=tag)
    v.tensor.CopyFrom(tensor_pb2.TensorProto(dtype=1, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                             float_val=[value]))
    v.metadata.CopyFrom(summary_pb2.SummaryMetadata(plugin_data={"plugin_name": "scalars"}))
    return frame_record(ev.SerializeToString())


def assert_same(a, b):
    for value in ("last", "max", "mean-last-2"):
        pd.testing.assert_frame_equal(a.table(value), b.table(value))
        pd.testing.assert_frame_equal(a.group_table(value), b.group_table(value))
    pd.testing.assert_frame_equal(a.scalars, b.scalars)
    assert a.hparam_infos == b.hparam_infos and a.metric_infos == b.metric_infos
    assert a.damage == b.damage


@pytest.fixture
def live(tmp_path):
    write_session(tmp_path / "r0", {"lr": 0.1}, group="g", status=None,
                  scalars={"validation": {"acc": [0.1, 0.2]}})
    return tmp_path


def counted(exp):
    """What ``exp.reload()`` parsed: records, bytes and files."""
    before = exp.parse_stats
    exp.reload()
    after = exp.parse_stats
    return {k: getattr(after, k) - getattr(before, k) for k in ("records", "bytes", "files")}


def test_unchanged_reload_parses_nothing(live):
    exp = read_experiment(live, workers=1)
    table = exp.table()
    delta = counted(exp)
    assert delta == {"records": 0, "bytes": 0, "files": 0}
    pd.testing.assert_frame_equal(exp.table(), table)


def test_appended_records_new_file_and_new_run(live):
    exp = read_experiment(live, workers=1)
    assert exp.metrics().loc["r0", "validation/acc"] == pytest.approx(0.2)
    (val_file,) = (live / "r0" / "validation").iterdir()
    size_before = val_file.stat().st_size
    appended = scalar_record("acc", 0.3, 2) + scalar_record("acc", 0.4, 3)
    with open(val_file, "ab") as fh:
        fh.write(appended)
    with EventWriter(live / "r0") as w:  # the session ends: a new file in the session dir
        w.add_session_end("SUCCESS", end_time=99.0)
    write_session(live / "r1", {"lr": 0.2}, group="g", scalars={"validation": {"acc": [0.5]}})  # a new run

    delta = counted(exp)
    new_files = 1 + 2  # the end-info file, r1's two files; plus the appended-to file:
    assert delta["files"] == new_files + 1
    # appended: 2 records; end-info file: file_version + end; r1: (version + start + end) + (version + 1 scalar)
    assert delta["records"] == 2 + 2 + 3 + 2
    assert delta["bytes"] < sum(f.stat().st_size for f in live.rglob("events*"))  # old bytes not re-read
    assert val_file.stat().st_size - size_before == len(appended)

    assert exp.metrics().loc["r0", "validation/acc"] == pytest.approx(0.4)
    assert exp.sessions.loc["r0", "status"] == "SUCCESS"
    assert list(exp.sessions.index) == ["r0", "r1"]
    assert exp.group_table().loc["g", "count"] == 2
    assert_same(exp, read_experiment(live, workers=1))


def test_partial_record_is_completed_by_a_later_append(live):
    (val_file,) = (live / "r0" / "validation").iterdir()
    record = scalar_record("acc", 0.9, 2)
    with open(val_file, "ab") as fh:
        fh.write(record[:10])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)
        exp = read_experiment(live, workers=1)
    assert [d.reason.split(" ")[0] for d in exp.damage] == ["incomplete"]
    with open(val_file, "ab") as fh:
        fh.write(record[10:])
    delta = counted(exp)
    assert delta["records"] == 1 and delta["bytes"] == len(record)
    assert exp.damage == []
    assert exp.metrics().loc["r0", "validation/acc"] == pytest.approx(0.9)
    assert_same(exp, read_experiment(live, workers=1))


def test_replaced_file_triggers_a_full_reread(live):
    exp = read_experiment(live, workers=1)
    (val_file,) = (live / "r0" / "validation").iterdir()
    data = val_file.read_bytes()
    val_file.write_bytes(data[: len(data) // 2])  # shrank: old values can no longer be trusted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)
        exp.reload()
        cold = read_experiment(live, workers=1)
    assert_same(exp, cold)
    os.remove(val_file)
    exp.reload()
    assert_same(exp, read_experiment(live, workers=1))
    assert "validation/acc" not in exp.metrics().columns
