"""Trials in parallel on this machine: keras-tuner's chief and one worker process per slot, restarted if they die.

``python -m training.sweep`` hands off to :func:`run` when there is more than
one slot: every visible GPU times the trials that fit on it (or
``--trials-per-gpu K``), or ``--workers N`` on the CPU. The launcher starts the
chief (keras-tuner's oracle server, on the CPU) and the workers, each running
the same ``python -m training.sweep <args>`` with ``KERASTUNER_TUNER_ID``
(``chief``, ``tuner0``...), ``KERASTUNER_ORACLE_IP`` (127.0.0.1) and
``KERASTUNER_ORACLE_PORT`` set, pinned to its GPU with bounded memory
(:func:`training.devices.worker_env`), all writing into one logdir. A worker
that dies (kill -9, out of memory, a GPU error) is started again with the same
tuner id, and keras-tuner hands it the trial it was running
(:mod:`training.oracle_ops` re-queues the trials of workers that stay silent).

All output goes through one writer thread, a whole line at a time, each line
prefixed with its process (``[chief]``, ``[tuner0]``, ``[launch]``).

``python -m training.launch --workers N -- <sweep args>`` is the older spelling
of ``python -m training.sweep --workers N <sweep args>``. On several machines,
run the sweep command yourself on each with those three variables (the chief's
address) and a logdir on a shared filesystem.
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Sequence

from .devices import Gpu, cpu_threads, trial_memory_mb, trials_per_gpu, visible_gpus, worker_env
from .errors import StrategyError
from .gone import SUPERVISED_ENV, report_gone

__all__ = ["add_arguments", "check_arguments", "plan", "Plan", "run", "main", "free_port"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sweep's options for parallel trials and fault tolerance (one argument group)."""
    g = parser.add_argument_group("parallel trials (python -m training.launch)")
    g.add_argument("--workers", type=int, metavar="N", help="worker processes, each running one trial at a "
                   "time (default: every GPU times --trials-per-gpu; on the CPU 1, in this process)")
    g.add_argument("--trials-per-gpu", type=int, metavar="K", help="trials at once on each GPU (default: as many "
                   "as fit in its free memory, estimated from the model at the largest batch size)")
    g.add_argument("--data-parallel", action="store_true", help="instead: train each trial on all GPUs at once "
                   "(TensorFlow MirroredStrategy), one trial after another")
    g.add_argument("--worker-timeout", type=float, metavar="SECONDS", help="re-queue the trial of a worker silent "
                   "longer than max(SECONDS, 5 x the longest epoch seen) (default 60; 600 before the first epoch)")
    g.add_argument("--max-restarts", type=int, default=3, metavar="N", help="restart a dead local worker at "
                   "most N times (default 3); it continues its trial. Past N its trial is re-queued at once for "
                   "the other workers")


def check_arguments(args: argparse.Namespace) -> None:
    """Validate the parallel options (raises :class:`StrategyError` with one line)."""
    if args.workers is not None and args.workers < 1:
        raise StrategyError(f"--workers must be at least 1, got {args.workers}")
    if args.trials_per_gpu is not None and args.trials_per_gpu < 1:
        raise StrategyError(f"--trials-per-gpu must be at least 1, got {args.trials_per_gpu}")
    if args.worker_timeout is not None and not args.worker_timeout > 0:
        raise StrategyError(f"--worker-timeout must be a positive number of seconds, got {args.worker_timeout}")
    if args.max_restarts < 0:
        raise StrategyError(f"--max-restarts must be 0 or more, got {args.max_restarts}")
    if args.data_parallel and (args.workers or args.trials_per_gpu):
        raise StrategyError("--data-parallel trains one trial at a time on all GPUs; drop --workers/--trials-per-gpu")


@dataclass
class Plan:
    """Where the workers run: one entry per worker (its GPU, or None for the CPU)."""

    slots: list[Gpu | None]
    per_gpu: int = 0
    trial_mb: float = 0.0
    cache_dir: Path = Path("logs/.cache")
    threads: int = 1
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: how many workers on what."""
        gpus = sorted({g.index for g in self.slots if g is not None})
        if not gpus:
            return f"{len(self.slots)} workers on the CPU ({self.threads} thread(s) each)"
        free = min(g.free_mb for g in self.slots if g is not None)
        return (f"{len(self.slots)} workers on {len(gpus)} GPU(s) {gpus}, {self.per_gpu} per GPU "
                f"(a trial needs ~{self.trial_mb:.0f} MiB; {free} MiB free)")


def plan(args: argparse.Namespace, space: Any, settings: dict, *, trials: int | None) -> Plan | None:
    """How many workers and where; None to run in this process (today's single-process sweep).

    Args:
        args: The sweep's parsed arguments.
        space: The effective search space (for the memory estimate).
        settings: The sweep's settings (image size, mixed precision).
        trials: Trials the sweep will run (no more workers than that), or None when unknown.
    """
    if args.data_parallel:
        return None
    gpus = [] if args.cpu else visible_gpus()
    if gpus:
        trial_mb = trial_memory_mb(space, image_size=settings["image_size"],
                                   mixed_precision=settings["mixed_precision"])
        per_gpu = args.trials_per_gpu or trials_per_gpu(gpus, trial_mb)
        n = args.workers or len(gpus) * per_gpu
    else:
        trial_mb, per_gpu, n = 0.0, 0, args.workers or 1
    if trials:
        n = min(n, trials)
    if n <= 1:
        return None
    slots: list[Gpu | None] = [gpus[i % len(gpus)] for i in range(n)] if gpus else [None] * n
    per_gpu = -(-n // len(gpus)) if gpus else 0
    return Plan(slots=slots, per_gpu=per_gpu, trial_mb=trial_mb, cache_dir=Path(args.cache_dir),
                threads=cpu_threads(n))


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LineWriter:
    """The only writer of the launcher's stdout: whole lines, in the order they arrived, from one thread."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._write, name="launch-writer", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            self.out.write(line)
            self.out.flush()

    def say(self, prefix: str, line: str) -> None:
        """Queue one line (a newline is added when missing)."""
        self._lines.put(f"{prefix}{line if line.endswith(chr(10)) else line + chr(10)}")

    def pump(self, stream: IO[str], prefix: str) -> threading.Thread:
        """Forward every line of a child's output, prefixed, until it closes."""

        def forward() -> None:
            for line in stream:
                self.say(prefix, line)

        t = threading.Thread(target=forward, name=f"pump{prefix.strip()}", daemon=True)
        t.start()
        return t

    def close(self) -> None:
        """Write everything queued, then stop."""
        self._lines.put(None)
        self._thread.join(timeout=10)


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


def _exit_text(rc: int) -> str:
    return f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"


class _Fleet:
    """The child processes: start, watch, restart (same tuner id) and stop them."""

    def __init__(self, cmd: list[str], base: dict[str, str], writer: LineWriter) -> None:
        self.cmd, self.base, self.writer = cmd, base, writer
        self.procs: dict[str, subprocess.Popen] = {}
        self.envs: dict[str, dict[str, str]] = {}
        self.pumps: list[threading.Thread] = []

    def start(self, tuner_id: str, env: dict[str, str]) -> subprocess.Popen:
        self.envs[tuner_id] = env
        proc = subprocess.Popen(self.cmd, env={**self.base, **env, "KERASTUNER_TUNER_ID": tuner_id,
                                               SUPERVISED_ENV: "1"},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.procs[tuner_id] = proc
        self.pumps.append(self.writer.pump(proc.stdout, f"[{tuner_id}] "))
        return proc

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def drain(self) -> None:
        for t in self.pumps:
            t.join(timeout=10)


def run(work: Plan, argv: Sequence[str], *, state_dir: Path, max_restarts: int = 3, quiet: bool = False,
        out: IO[str] | None = None) -> int:
    """Run the chief and the planned workers to the end of the sweep.

    Args:
        work: The plan from :func:`plan`.
        argv: The sweep's own arguments (every process runs ``python -m training.sweep argv``).
        state_dir: The sweep's ``<logdir>/.keras_tuner`` (where a worker gone for good is reported).
        max_restarts: How often each worker is restarted after dying.
        quiet: No launcher lines except deaths and restarts.
        out: Where lines go (default stdout).

    Returns:
        The chief's exit status (0 when every trial ended), 1 when no worker is left to finish, 130 on Ctrl-C.
    """
    writer = LineWriter(out or sys.stdout)
    port = int(os.environ.get("KERASTUNER_ORACLE_PORT") or free_port())
    base = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port),
            "PYTHONUNBUFFERED": "1"}
    fleet = _Fleet([sys.executable, "-m", "training.sweep", *argv], base, writer)
    if not quiet:
        writer.say("[launch] ", f"{work.describe()}; chief on 127.0.0.1:{port}")
    try:
        return _supervise(work, fleet, writer, port, max_restarts, Path(state_dir))
    except KeyboardInterrupt:
        writer.say("[launch] ", "interrupted; rerun the same command to resume")
        return 130
    finally:
        fleet.stop_all()
        fleet.drain()
        writer.close()


def _supervise(work: Plan, fleet: _Fleet, writer: LineWriter, port: int, max_restarts: int,
               state_dir: Path) -> int:
    # The chief serves the oracle from the CPU: a GPU there would only hold memory the workers need.
    chief = fleet.start("chief", {"CUDA_VISIBLE_DEVICES": "-1", "OMP_NUM_THREADS": "1",
                                  "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"})
    # The chief checks/creates the logdir and writes the experiment before it serves the oracle.
    if not _wait_for_port(port, chief, timeout=600):
        return chief.wait() or 1
    ids = [f"tuner{i}" for i in range(len(work.slots))]
    for tuner_id, gpu in zip(ids, work.slots):
        fleet.start(tuner_id, worker_env(gpu, per_gpu=work.per_gpu, cache_dir=work.cache_dir,
                                         threads=work.threads))
    restarts = dict.fromkeys(ids, 0)
    finished: set[str] = set()   # exited 0: the oracle told them the sweep is over
    lost: set[str] = set()       # died and not restarted
    gone_since: float | None = None
    while True:
        rc = chief.poll()
        if rc is not None:
            for tuner_id in ids:  # workers end by themselves once the chief ended the sweep
                try:
                    fleet.procs[tuner_id].wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pass
            return rc
        for tuner_id in ids:
            code = fleet.procs[tuner_id].poll()
            if code is None or tuner_id in finished | lost:
                continue
            if code == 0:
                finished.add(tuner_id)
            elif restarts[tuner_id] < max_restarts:
                restarts[tuner_id] += 1
                writer.say("[launch] ", f"{tuner_id} {_exit_text(code)}; restarting it "
                           f"({restarts[tuner_id]} of {max_restarts}); it continues its trial")
                fleet.start(tuner_id, fleet.envs[tuner_id])
            else:
                lost.add(tuner_id)
                writer.say("[launch] ", f"{tuner_id} {_exit_text(code)}; not restarted (--max-restarts "
                           f"{max_restarts}): the chief re-queues its trial now")
                report_gone(state_dir, tuner_id, _exit_text(code))
        if lost and len(finished | lost) == len(ids):
            # Nobody is left to run a re-queued trial; give the chief a moment in case it is just ending.
            gone_since = gone_since or time.monotonic()
            if time.monotonic() - gone_since > 15:
                writer.say("[launch] ", "no worker left to finish the sweep; stopping. Rerun the same command to "
                           "resume it")
                return 1
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m training.launch --workers N [--port P] -- <sweep args>``: the sweep with N workers."""
    parser = argparse.ArgumentParser(
        prog="python -m training.launch",
        description="Run a keras-tuner chief/worker sweep on this machine: one chief (oracle server) and N "
                    "workers running `python -m training.sweep` with the given arguments into one logdir. Same as "
                    "`python -m training.sweep --workers N <args>`.",
        epilog="example: python -m training.launch --workers 2 -- --max-trials 8 --name parallel")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="number of workers (default 2)")
    parser.add_argument("--port", type=int, metavar="PORT", help="oracle port (default: a free one)")
    parser.add_argument("sweep_args", nargs=argparse.REMAINDER, help="arguments for training.sweep (after --)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        print("training.launch: error: --workers must be at least 1", file=sys.stderr)
        return 2
    sweep_args = args.sweep_args[1:] if args.sweep_args[:1] == ["--"] else args.sweep_args
    if args.port:
        os.environ["KERASTUNER_ORACLE_PORT"] = str(args.port)
    from .sweep import main as sweep_main

    return sweep_main([*sweep_args, "--workers", str(args.workers)])


if __name__ == "__main__":
    sys.exit(main())
