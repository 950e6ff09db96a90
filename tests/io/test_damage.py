"""Damaged event files: truncation at every byte, flipped bytes, garbage and empty files.

The record boundaries are computed here from the framing (8-byte length + 4 + data + 4), so the
expected set of intact records at each cut point is independent of the reader.

Decision (shared with the reader): a truncated final record is what a live writer's file looks
like between two writes. It never raises and never loses the records before it; it is listed in
``Experiment.damage`` (a file that never grows again has lost that record) and a later
``reload()`` picks the record up once it is complete.
"""

from __future__ import annotations

import struct
import warnings

import pytest

from hparams_tools import read_experiment
from hparams_tools.errors import DamagedFileWarning, HParamsToolsError, LogdirError
from hparams_tools.io.writer import EventWriter, write_session

N_STEPS = 5


def boundaries(data: bytes) -> list[int]:
    """Start offsets of every record plus the end of the file."""
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + length + 4
    assert pos == len(data)
    return out + [pos]


def write_small_session(run_dir):
    """file_version, session start, N_STEPS scalars of tag "m", session end -- in one file."""
    with EventWriter(run_dir) as w:
        w.add_session_start({"lr": 0.5}, group="g", start_time=100.0)
        for step in range(N_STEPS):
            w.add_scalar("m", step / 4, step, wall_time=101.0 + step)
        w.add_session_end("SUCCESS", end_time=200.0)
    return w.path


def quiet_read(logdir, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exp = read_experiment(logdir, workers=1, **kwargs)
    return exp, [w for w in caught if issubclass(w.category, DamagedFileWarning)]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    path = write_small_session(root / "logs" / "run")
    return path.read_bytes(), path.name


def test_every_cut_point(pristine, tmp_path):
    data, name = pristine
    bounds = boundaries(data)
    # records: 0 file_version, 1 session start, 2..2+N_STEPS-1 scalars, last session end
    start_end = bounds[2]
    run = tmp_path / "logs" / "run"
    run.mkdir(parents=True)
    path = run / name
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        complete = sum(1 for b in bounds[1:] if b <= cut)  # records wholly inside the cut
        on_boundary = cut in bounds
        if cut < start_end:
            # no session start yet: nothing usable, but only ever our documented error
            with pytest.raises(HParamsToolsError):
                quiet_read(tmp_path / "logs")
            continue
        exp, caught = quiet_read(tmp_path / "logs")
        n_scalars = min(max(complete - 2, 0), N_STEPS)
        steps = list(exp.scalars["step"]) if len(exp.scalars) else []
        assert steps == list(range(n_scalars)), f"cut at {cut}"
        assert list(exp.scalars["value"]) == [s / 4 for s in range(n_scalars)]
        assert exp.sessions.loc["run", "status"] == ("SUCCESS" if complete == len(bounds) - 1 else "UNKNOWN")
        if on_boundary:
            assert exp.damage == [], f"cut at {cut}"
        else:
            (damage,) = exp.damage
            assert damage.path.endswith(name) and damage.offset == max(b for b in bounds if b <= cut)
            assert "incomplete" in damage.reason


def test_truncated_tail_is_read_after_reload(pristine, tmp_path):
    data, name = pristine
    bounds = boundaries(data)
    path = tmp_path / "logs" / "run" / name
    path.parent.mkdir(parents=True)
    cut = bounds[4] + 7  # inside the third scalar record
    path.write_bytes(data[:cut])
    exp, _ = quiet_read(tmp_path / "logs")
    assert list(exp.scalars["step"]) == [0, 1]
    with open(path, "ab") as fh:  # the writer finishes
        fh.write(data[cut:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DamagedFileWarning)
        exp.reload()
    assert list(exp.scalars["step"]) == list(range(N_STEPS))
    assert exp.sessions.loc["run", "status"] == "SUCCESS"
    assert exp.damage == []


@pytest.mark.parametrize("where", ["length", "length_crc", "data", "data_crc"])
def test_flipped_byte_skips_one_record_and_warns(pristine, tmp_path, where):
    data, name = pristine
    bounds = boundaries(data)
    victim = 4  # the third scalar record (step 2)
    start, end = bounds[victim], bounds[victim + 1]
    offset = {"length": start + 1, "length_crc": start + 9, "data": start + 14, "data_crc": end - 2}[where]
    damaged = bytearray(data)
    damaged[offset] ^= 0x5A
    path = tmp_path / "logs" / "run" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(damaged))
    exp, caught = quiet_read(tmp_path / "logs")
    assert list(exp.scalars["step"]) == [0, 1, 3, 4]  # every other record kept
    assert exp.sessions.loc["run", "status"] == "SUCCESS"
    (damage,) = exp.damage
    assert damage.offset == start and damage.path.endswith(name)
    assert "CRC" in damage.reason
    assert caught, "a DamagedFileWarning is emitted"
    message = str(caught[0].message)
    assert name in message and str(start) in message


def test_garbage_and_empty_files_beside_good_ones(tmp_path):
    logs = tmp_path / "logs"
    write_session(logs / "good", {"lr": 0.1}, scalars={"": {"m": [1.0, 2.0]}})
    (logs / "good" / "events.out.tfevents.0.garbage").write_bytes(bytes(range(256)) * 8)
    (logs / "good" / "events.out.tfevents.1.empty").write_bytes(b"")
    (logs / "other").mkdir()
    (logs / "other" / "events.out.tfevents.2.text").write_text("this is not an event file\n" * 20)
    exp, caught = quiet_read(logs)
    assert list(exp.sessions.index) == ["good"]
    assert list(exp.metrics().loc["good"]) == [2.0]
    damaged = sorted(d.path.rsplit("/", 1)[-1] for d in exp.damage)
    assert damaged == ["events.out.tfevents.0.garbage", "events.out.tfevents.2.text"]
    assert all(d.offset == 0 for d in exp.damage)
    assert all("not a TensorBoard event file" in d.reason for d in exp.damage)


def test_only_empty_event_file_is_an_error(tmp_path):
    (tmp_path / "events.out.tfevents.1.empty").write_bytes(b"")
    with pytest.raises(LogdirError):
        quiet_read(tmp_path)


def test_only_garbage_is_an_error(tmp_path):
    (tmp_path / "events.out.tfevents.1.bad").write_bytes(b"\x01" * 100)
    with pytest.raises(HParamsToolsError):
        quiet_read(tmp_path)


def _as_unprivileged(fn):
    """Run ``fn()`` where permissions apply: here if not root, else in a forked child that drops to
    ``nobody`` (a real process, real EACCES); return its result (repr'd strings) or raise its error."""
    import os
    import pickle

    if os.geteuid() != 0:
        return fn()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                out = ("ok", fn())
            except Exception as exc:  # sent back to the parent, which re-raises it
                out = ("error", f"{type(exc).__name__}: {exc}")
            os.write(write_fd, pickle.dumps(out))
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)  # our own child's output
    if kind == "error":
        raise AssertionError(value)
    return value


def test_unreadable_directory_is_reported_like_an_unreadable_file():
    import os
    import shutil
    import tempfile
    import warnings

    from hparams_tools.errors import DamagedFileWarning, LogdirError

    root = tempfile.mkdtemp(prefix="hpt-unreadable-")
    try:
        os.chmod(root, 0o755)
        write_session(os.path.join(root, "ok"), {"lr": 0.1}, scalars={"": {"acc": [0.5]}})
        write_session(os.path.join(root, "locked", "inner"), {"lr": 0.2}, scalars={"": {"acc": [0.6]}})
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        os.chmod(os.path.join(root, "locked"), 0)

        def read():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exp = read_experiment(root, workers=1)
            return (
                list(exp.sessions.index),
                [(d.path, d.reason) for d in exp.damage],
                [str(w.message) for w in caught if issubclass(w.category, DamagedFileWarning)],
            )

        sessions, damage, warned = _as_unprivileged(read)
        assert sessions == ["ok"]
        ((path, reason),) = damage
        assert path == os.path.join(root, "locked") and "cannot read directory" in reason and "ermission" in reason
        assert len(warned) == 1 and "locked" in warned[0]

        os.chmod(root, 0)

        def read_root():
            try:
                read_experiment(root)
            except LogdirError as exc:
                return str(exc)
            return "no error"

        message = _as_unprivileged(read_root)
        assert message.startswith(f"cannot read {root}") and "ermission" in message
    finally:
        for dirpath in (root, os.path.join(root, "locked")):
            if os.path.exists(dirpath):
                os.chmod(dirpath, 0o755)
        shutil.rmtree(root)
