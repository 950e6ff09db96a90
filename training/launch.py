"""``python -m training.launch --workers N -- <sweep args>``: a distributed sweep on this machine.

Starts keras-tuner's chief (the oracle server) and N workers, each running
``python -m training.sweep <sweep args>`` with ``KERASTUNER_TUNER_ID``
(``chief``, ``tuner0``...), ``KERASTUNER_ORACLE_IP`` (127.0.0.1) and
``KERASTUNER_ORACLE_PORT`` (a free port) set, all writing into the same
logdir. Worker output is prefixed with its id. On several machines, run the
same sweep command yourself on each with those three variables (the chief's
address) and a logdir on a shared filesystem.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from typing import IO, Sequence

__all__ = ["main", "free_port"]


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pump(stream: IO[str], prefix: str) -> None:
    for line in stream:
        sys.stdout.write(f"{prefix}{line}")
        sys.stdout.flush()


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run a chief and N workers to completion; returns the first non-zero exit status, else 0."""
    parser = argparse.ArgumentParser(
        prog="python -m training.launch",
        description="Run a keras-tuner chief/worker sweep on this machine: one chief (oracle server) and N "
                    "workers running `python -m training.sweep` with the given arguments into one logdir.",
        epilog="example: python -m training.launch --workers 2 -- --max-trials 8 --name parallel")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="number of workers (default 2)")
    parser.add_argument("--port", type=int, metavar="PORT", help="oracle port (default: a free one)")
    parser.add_argument("sweep_args", nargs=argparse.REMAINDER, help="arguments for training.sweep (after --)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        print("training.launch: error: --workers must be at least 1", file=sys.stderr)
        return 2
    sweep_args = [a for a in args.sweep_args if a != "--"] if args.sweep_args[:1] == ["--"] else args.sweep_args
    port = args.port or free_port()
    base = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port),
            "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "training.sweep", *sweep_args]
    chief = subprocess.Popen(cmd, env={**base, "KERASTUNER_TUNER_ID": "chief"}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    threads = [threading.Thread(target=_pump, args=(chief.stdout, "[chief] "), daemon=True)]
    threads[0].start()
    # The chief checks/creates the logdir and writes the experiment before it serves the oracle.
    if not _wait_for_port(port, chief, timeout=600):
        rc = chief.wait()
        threads[0].join()
        return rc or 1
    workers = []
    for i in range(args.workers):
        proc = subprocess.Popen(cmd, env={**base, "KERASTUNER_TUNER_ID": f"tuner{i}"}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        t = threading.Thread(target=_pump, args=(proc.stdout, f"[tuner{i}] "), daemon=True)
        t.start()
        workers.append(proc)
        threads.append(t)
    try:
        codes = [w.wait() for w in workers] + [chief.wait()]
    except KeyboardInterrupt:
        for proc in [*workers, chief]:
            proc.terminate()
        return 130
    for t in threads:
        t.join(timeout=5)
    return next((c for c in codes if c), 0)


if __name__ == "__main__":
    sys.exit(main())
