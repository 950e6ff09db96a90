"""Where output goes wrong: full disks, size limits, devices, FIFOs, directories, odd names (real processes)."""

from __future__ import annotations

import os
import resource
import signal
import stat
import threading

import pytest

from cli_helpers import assert_one_line_error, run_cli
from hparams_tools._files import TMP_SUFFIX, atomic_write, replace_together
from hparams_tools.errors import OutputError

# (command, arguments before -o, output file name); every output is bigger than FSIZE_LIMIT
COMMANDS = [
    ("export", ["--format", "csv"], "out.csv"),
    ("plot", ["slices"], "out.png"),
    ("report", ["--no-space-file"], "out.html"),
]
FSIZE_LIMIT = 300


def _argv(command, before, logdir, out):
    if command == "plot":
        return [command, *before, logdir, "-o", out, "-q"]
    return [command, logdir, *before, "-o", out, "-q"]


def _limit_file_size():
    # without SIG_IGN the kernel kills the process with SIGXFSZ; with it, write() fails with EFBIG
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(TMP_SUFFIX) or p.name.endswith(".tmp"))


@pytest.mark.parametrize("command,before,name", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_file_too_large_is_one_line_and_keeps_the_old_file(small_logdir, tmp_path, command, before, name):
    out = tmp_path / name
    out.write_bytes(b"old content")
    proc = run_cli(*_argv(command, before, small_logdir, out), preexec_fn=_limit_file_size)
    assert_one_line_error(proc, command, "File too large", str(out))
    assert out.read_bytes() == b"old content"
    assert _leftovers(tmp_path) == []


# plot takes its format from the -o suffix, which /dev/full lacks: export and report only
@pytest.mark.parametrize("command,before,name", COMMANDS[::2], ids=["export", "report"])
def test_dev_full_is_one_line_and_stays_a_device(small_logdir, command, before, name):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    proc = run_cli(*_argv(command, before, small_logdir, "/dev/full"))
    assert_one_line_error(proc, command, "No space left on device", "/dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("command,before,name", COMMANDS[::2], ids=["export", "report"])
def test_dev_null_is_written_not_replaced(small_logdir, command, before, name):
    before = [b for b in before if b != "--no-space-file"]  # nothing may be written beside /dev/null either
    proc = run_cli(*_argv(command, before, small_logdir, "/dev/null"))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not os.path.exists("/dev/null_next_space.yaml")
    assert not [n for n in os.listdir("/dev") if n.endswith(TMP_SUFFIX)]


def test_fifo_is_written_in_place(small_logdir, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    proc = run_cli("export", small_logdir, "--format", "json", "-o", fifo, "-q")
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].startswith(b"[") and b"run-11" in received[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.parametrize("command,before,name", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_directory_output_is_refused(small_logdir, tmp_path, command, before, name):
    target = tmp_path / name
    target.mkdir()
    proc = run_cli(*_argv(command, before, small_logdir, target))
    assert_one_line_error(proc, command, "is a directory")
    assert target.is_dir() and list(target.iterdir()) == []


def test_name_too_long_is_one_line(small_logdir, tmp_path):
    out = tmp_path / ("x" * 300 + ".csv")
    assert_one_line_error(run_cli("export", small_logdir, "-o", out, "-q"), "export", "File name too long")
    assert list(tmp_path.iterdir()) == []


def test_long_name_within_the_limit_is_written(small_logdir, tmp_path):
    out = tmp_path / ("x" * 250 + ".csv")  # the temporary name must not push it past NAME_MAX
    proc = run_cli("export", small_logdir, "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("session")
    assert _leftovers(tmp_path) == []


def test_symlink_target_replaced_link_kept(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_write(link) as fh:
        fh.write("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_atomic_write_dev_full_library_raises_output_error():
    with pytest.raises(OutputError, match="No space left on device"):
        with atomic_write("/dev/full", "wb") as fh:
            fh.write(b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out.csv"
    dead = os.fork()
    if dead == 0:  # a child that exits at once: its pid is then free of any process
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f".out.csv.{dead}.abcd1234{TMP_SUFFIX}"
    stale.write_text("half")
    mine = tmp_path / f".out.csv.{os.getpid()}.abcd1234{TMP_SUFFIX}"  # a live process: left alone
    mine.write_text("busy")
    other = tmp_path / f".other.csv.{dead}.abcd1234{TMP_SUFFIX}"  # another file's: left alone
    other.write_text("other")
    with atomic_write(target) as fh:
        fh.write("new")
    assert not stale.exists() and mine.exists() and other.exists()
    assert target.read_text() == "new"


def test_replace_together_failure_replaces_nothing(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "a.yaml"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(OutputError, match="is a directory"):
        replace_together([(a, "new a"), (b, "new b"), (tmp_path, "x")])
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert _leftovers(tmp_path) == []
    replace_together([(a, "new a"), (b, b"new b")])
    assert a.read_text() == "new a" and b.read_bytes() == b"new b"
