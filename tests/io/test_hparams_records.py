"""Odd HParams records and steps, each once through the per-file reader and once through the
batch decoder: never an exception, always a Damage entry that says what was skipped.

Covers issue 10: undecodable session start infos (2), an end info under the start tag and the
reverse (9), step varints longer than 64 bits (8), and the template index returning templates of
another length (7).
"""

from __future__ import annotations


import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

from hparams_tools import read_experiment
from hparams_tools.io._templates import ParseContext, TemplateCache, Template
from hparams_tools.io.events import SESSION_END_TAG, SESSION_START_TAG
from hparams_tools.io.writer import EventWriter, frame_record, write_session


def hparams_event(tag: str, content: bytes, step: int = 0) -> bytes:
    """A serialized Event whose one value carries ``content`` as ``hparams`` plugin data."""
    value = summary_pb2.Summary.Value(tag=tag)
    value.metadata.plugin_data.plugin_name = "hparams"
    value.metadata.plugin_data.content = content
    return event_pb2.Event(wall_time=1.0, step=step, summary=summary_pb2.Summary(value=[value])).SerializeToString()


def start_content(group: str = "g", **hparams) -> bytes:
    data = plugin_data_pb2.HParamsPluginData(version=0)
    data.session_start_info.group_name = group
    for k, v in hparams.items():
        data.session_start_info.hparams[k].number_value = v
    return data.SerializeToString()


def end_content(status: int = 1) -> bytes:
    data = plugin_data_pb2.HParamsPluginData(version=0)
    data.session_end_info.status = status
    return data.SerializeToString()


def write_run(run_dir, payloads: list[bytes], scalars: int = 3) -> None:
    """One event file: the given raw payloads, then ``scalars`` float scalars of tag ``acc``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with EventWriter(run_dir) as w:
        for step in range(scalars):
            w.add_scalar("acc", 0.25 * step, step, wall_time=10.0 + step)
    with open(w.path, "ab") as fh:
        for p in payloads:
            fh.write(frame_record(p))


def _nested_list(depth: int) -> bytes:
    """A session start info whose hparam value is a list nested ``depth`` levels deep."""
    # google.protobuf.Value{list_value: ListValue{values: [Value{...}]}}: built as bytes, since
    # protobuf refuses to build (or serialise) messages deeper than its recursion limit.
    inner = b"\x08\x00"  # Value{null_value: 0}
    for _ in range(depth):
        lst = b"\x0a" + _len(inner) + inner  # ListValue.values (field 1)
        inner = b"\x32" + _len(lst) + lst  # Value.list_value (field 6)
    entry = b"\x0a\x01x" + b"\x12" + _len(inner) + inner  # map entry: key "x", value
    ssi = b"\x0a" + _len(entry) + entry  # SessionStartInfo.hparams (field 1)
    return b"\x1a" + _len(ssi) + ssi  # HParamsPluginData.session_start_info (field 3)


def _len(b: bytes) -> bytes:
    out, n = bytearray(), len(b)
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


UNDECODABLE = {
    "invalid utf-8": start_content(group="ok").replace(b"ok", b"\xff\xfe"),
    "deeply nested": _nested_list(5000),
    "garbage": b"\xff\xff\xff\xff\x0f garbage",
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_undecodable_session_start_info_is_damage(tmp_path, case, workers):
    write_session(tmp_path / "good", {"lr": 0.1}, scalars={"": {"acc": [0.5]}})
    write_run(tmp_path / "bad", [hparams_event(SESSION_START_TAG, UNDECODABLE[case])])
    with pytest.warns(Warning, match="session start info cannot be decoded"):
        exp = read_experiment(tmp_path, workers=workers)
    assert list(exp.sessions.index) == ["good"]
    (d,) = exp.damage
    assert "bad" in d.path and "session start info cannot be decoded" in d.reason and d.reason.endswith("ignored")


@pytest.mark.parametrize("batch", [False, True])
def test_end_info_under_the_start_tag_and_the_reverse(tmp_path, batch):
    # run a: a start info, then an end info logged under the start tag (the start tag's first
    # metadata is the start info: TensorBoard's rule keeps it; the misplaced one is not used)
    write_run(tmp_path / "a", [hparams_event(SESSION_START_TAG, start_content(lr=0.5)),
                               hparams_event(SESSION_END_TAG, start_content(lr=0.7))])
    # run b: only an end info under the start tag: no session, one damage entry
    write_run(tmp_path / "b", [hparams_event(SESSION_START_TAG, end_content())])
    exp = read_experiment(tmp_path, workers=1)
    if batch:  # warm: the same files again through a fresh experiment (templates learnt)
        exp = read_experiment(tmp_path, workers=1)
    assert list(exp.sessions.index) == ["a"]
    assert exp.sessions.loc["a", "status"] == "UNKNOWN" and exp.hparams.loc["a", "lr"] == 0.5
    reasons = sorted(d.reason for d in exp.damage)
    assert len(reasons) == 2
    assert "a session end info logged under tag '_hparams_/session_start_info'" in reasons[0]
    assert "a session start info logged under tag '_hparams_/session_end_info'" in reasons[1]


def _event_with_step_varint(varint: bytes, value: float) -> bytes:
    ev = event_pb2.Event(wall_time=5.0, step=3)
    ev.summary.value.add(tag="acc", simple_value=value)
    good = ev.SerializeToString()
    # replace the 1-byte step varint (field 2 = 0x10, value 3) by ``varint``
    at = good.index(b"\x10\x03")
    return good[:at] + b"\x10" + varint + good[at + 2 :]


@pytest.mark.parametrize(
    "varint",
    [
        b"\xff" * 9 + b"\x01",  # 2**64 - 1: the int64 step -1 (valid, 10 bytes)
        b"\xff" * 9 + b"\x7f",  # 10 bytes, above 64 bits
        b"\xff" * 10 + b"\x01",  # 11 bytes
        b"\x80" * 20 + b"\x00",  # 21 bytes
    ],
)
def test_step_varints_longer_than_64_bits(tmp_path, varint):
    write_session(tmp_path / "s", {"lr": 0.1}, scalars={"": {"acc": [0.5]}})
    path = next((tmp_path / "s").glob("events*"))
    payload = _event_with_step_varint(varint, 0.75)
    with open(path, "ab") as fh:
        for _ in range(3):  # repeated, so that a template would be used if one matched
            fh.write(frame_record(payload))
    try:
        reference = event_pb2.Event.FromString(payload).step
    except Exception:  # protobuf rejects it: the reader must report it, not crash
        reference = None
    for workers in (1, 2):
        exp = read_experiment(tmp_path, workers=workers)
        steps = exp.scalars["step"].tolist()
        if reference is None:
            assert steps == [0] and len(exp.damage) == 3
            assert all("not an Event proto" in d.reason for d in exp.damage)
        else:
            assert steps == [0, reference, reference, reference] and not exp.damage


def test_template_index_returns_only_templates_of_the_asked_length():
    """Regression (issue 10, item 7): rebuilding the index must not return another length's templates."""
    cache = TemplateCache()
    rng = np.random.RandomState(0)
    for i in range(30):
        prefix = bytes(rng.randint(0, 256, size=int(rng.randint(4, 40)), dtype=np.uint8))
        suffix = bytes(rng.randint(0, 256, size=int(rng.choice([0, 7, 15])), dtype=np.uint8))
        cache.learn(prefix, Template(f"t{i}", None, b"", suffix))
        for rest in range(4, 60):
            for masked in cache.masked(rest):
                assert masked.prefix_len + 4 + masked.template.suffix_len == rest


def test_reading_a_damaged_logdir_then_an_intact_one_in_one_process(tmp_path):
    """What used to raise IndexError: templates of several lengths learnt from one logdir's
    damaged files, then another logdir read with the same context."""
    context = ParseContext()
    from hparams_tools.io._batch import parse_batch

    a, b = tmp_path / "a", tmp_path / "b"
    for i, tag in enumerate(("x", "a_longer_tag_name", "mid_tag")):
        write_session(a / f"s{i}", {"lr": 0.1}, scalars={"validation": {tag: [0.1, 0.2]}, "train": {tag * 2: [1.0]}})
        write_session(b / f"s{i}", {"lr": 0.2}, scalars={"": {tag + "!": [0.3] * 5}})
    damaged = next((a / "s0" / "validation").glob("events*"))
    damaged.write_bytes(damaged.read_bytes()[:-3])
    jobs_a = [(i, str(p), 0, 1) for i, p in enumerate(sorted(a.rglob("events*")))]
    jobs_b = [(i, str(p), 0, 1) for i, p in enumerate(sorted(b.rglob("events*")))]
    parse_batch(jobs_a, context)
    pieces = parse_batch(jobs_b, context)
    assert sum(len(infos) for infos, _ in pieces) == len(jobs_b)
    assert int(read_experiment(b).metrics().notna().to_numpy().sum()) == 3  # each session its own metric


def test_start_info_with_100000_hparams(tmp_path):
    """A start info with 100,000 hparams reads (the frames are built column-wise, not one
    DataFrame insertion per column)."""
    hparams = {f"h{i:06d}": float(i) for i in range(100_000)}
    write_session(tmp_path / "s", hparams, scalars={"": {"acc": [0.5]}})
    exp = read_experiment(tmp_path)
    t = exp.table()
    assert t.shape == (1, 4 + 100_000 + 1)
    assert t.loc["s", "h099999"] == 99999.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "payload", [hparams_event(SESSION_START_TAG, end_content()), hparams_event(SESSION_START_TAG, UNDECODABLE["garbage"])],
    ids=["end info under the start tag", "garbage start info"],
)
def test_where_tensorboard_fails_the_whole_request_we_report_damage(tmp_path, payload):
    """A deliberate difference (README): TensorBoard's backend raises for the whole logdir; we
    keep every other session and report the unusable info."""
    from tensorboard_reference import tensorboard_view

    write_session(tmp_path / "good", {"lr": 0.1}, scalars={"": {"acc": [0.5]}})
    write_run(tmp_path / "bad", [payload])
    with pytest.raises(Exception, match="session_start_info|corrupt"):
        tensorboard_view(tmp_path)
    with pytest.warns(Warning):
        exp = read_experiment(tmp_path)
    assert list(exp.sessions.index) == ["good"] and len(exp.damage) == 1
