"""Workers that died for good, made known to the chief so that it re-queues their trials at once.

Without this the chief learns of a dead worker only when its silence passes
the limit (:mod:`training.oracle_ops`, 60 s or more). The rule: whoever can
know that a worker is gone for good says so.

- **A worker under the launcher** is restarted when it dies (it continues its
  trial); past ``--max-restarts`` the launcher writes a report,
  ``<logdir>/.keras_tuner/gone/<tuner id>.json``, which the chief takes once.
  The launcher marks its workers (``HPARAMS_TOOLS_SUPERVISED``), so the chief
  never pre-empts a restart.
- **A worker started by hand on the chief's machine** (no launcher to restart
  it) is gone when the process its heartbeat names no longer runs there (or
  is a zombie): :func:`local_process_gone`, asked only when the worker's pids
  are the chief's (:func:`pid_space`).
- Anything else (a hung worker, one on another machine) is left to the
  silence limit.

The other way round, a worker whose chief is gone for good stops instead of
waiting for it (keras-tuner's client would wait an hour): :func:`wait_for_chief`.

This module imports no backend: the launcher must stay free of one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from hparams_tools._files import atomic_write

from .errors import ChiefGoneError

__all__ = ["GONE", "SUPERVISED_ENV", "report_gone", "take_gone_reports", "pid_space", "local_process_gone",
           "wait_for_chief"]

GONE = "gone"
SUPERVISED_ENV = "HPARAMS_TOOLS_SUPERVISED"  # set by the launcher for the processes it restarts


def report_gone(state_dir: Path, tuner_id: str, how: str) -> None:
    """Tell the chief that worker ``tuner_id`` ended (``how``, e.g. "was killed by signal 9") and will not return.

    Args:
        state_dir: ``<logdir>/.keras_tuner``.
        tuner_id: The worker's ``KERASTUNER_TUNER_ID``.
        how: How its process ended, for the chief's line.
    """
    path = Path(state_dir) / GONE / f"{tuner_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        json.dump({"how": f"{how} and will not be restarted"}, fh)


def take_gone_reports(state_dir: Path) -> dict[str, str]:
    """The workers reported gone since the last call (tuner id -> what happened); each report is read once.

    A report being written right now (unreadable) is left for the next call.
    """
    gone = {}
    for path in sorted((Path(state_dir) / GONE).glob("*.json")):
        try:
            how = str(json.loads(path.read_text(encoding="utf-8"))["how"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        gone[path.stem] = how[:200]  # a line for the log, not a place for a novel
        path.unlink(missing_ok=True)
    return gone


def pid_space() -> str:
    """Where this process's pids mean something: the machine's boot id and the pid namespace ("" if unknown).

    A worker's heartbeat records it; the chief checks a worker's pid only when they are equal. A
    hostname would not do: cloned machines and containers share names, and a container's pids are
    not its host's.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:  # not Linux, or /proc hidden: no pid checks, the silence limit decides
        return ""


def local_process_gone(pid: int) -> bool:
    """Whether process ``pid`` of this machine has ended (also when it is a zombie nobody reaped yet).

    False when it may still run (it exists, or belongs to another user): then the silence limit decides.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    try:  # Linux: a killed child its parent has not waited for yet is state Z
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def wait_for_chief(address: tuple[str, int], *, patience: float = 30.0, poll: float = 1.0) -> None:
    """Return once the chief's oracle accepts connections; raise :class:`ChiefGoneError` after ``patience`` s.

    A worker asks this before each trial after its first (a worker started before its chief may wait
    for it as long as keras-tuner does). The chief refusing for that long means it ended the sweep
    while this worker was away (paused, hung, cut off), or died.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            with socket.create_connection(address, timeout=min(poll * 2, 5.0)):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise ChiefGoneError(f"the chief at {address[0]}:{address[1]} has not answered for {patience:.0f} s "
                                     "(the sweep ended while this worker was away, or the chief stopped); this "
                                     "worker stops. Restart the chief to resume the sweep") from None
            time.sleep(poll)
