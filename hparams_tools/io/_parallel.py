"""Parse many event files, in this process or in forked worker processes.

Parsing is CPU-bound Python and numpy (framing, CRC checks, protobuf decoding), so threads
do not help; processes do once a logdir is big enough to repay starting them (a fork costs
milliseconds and shares the imported modules). Each child parses a contiguous share of the
chunks and sends compact column arrays per chunk through a pipe while this process parses its
own share; the default uses a second process only when the machine has an idle CPU.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from typing import Callable, Sequence

import numpy as np

from ._batch import parse_batch
from ._templates import ParseContext, ParseStats
from .events import FileInfo, SeriesEntry, ValueSink

__all__ = ["Job", "ParseResult", "parse_files", "PARALLEL_MIN_BYTES"]

#: (file_index, path, offset, expected_bytes)
Job = tuple[int, str, int, int]
#: Parse in several processes only from this much work on (bytes to read, or files on a cold
#: read where sizes are not looked up). Measured with benchmarks/bench_reader.py on an idle
#: 2-CPU machine: at 10,000 Keras sessions (30,000 files) two processes parse in 0.67 s
#: instead of 1.04 s; at 1,000 sessions the saving is a few tens of ms and is lost as soon as
#: the CPUs are busy with anything else.
PARALLEL_MIN_BYTES = 16 << 20
PARALLEL_MIN_FILES = 6000
#: How much less than an equal share of the chunks the main process parses itself.
MAIN_SHARE_DISCOUNT = 0.05


class ParseResult:
    """Everything parsed from a list of files: file infos, (file, tag) series and value columns.

    ``series[i]`` is a :class:`~hparams_tools.io.events.SeriesEntry`; value column ``sid`` indexes it.
    """

    __slots__ = ("infos", "series", "_parts")

    def __init__(self) -> None:
        self.infos: list[FileInfo] = []
        self.series: list[SeriesEntry] = []
        self._parts: list[tuple[int, ValueSink]] = []

    def extend(self, infos: list[FileInfo], sink: ValueSink) -> None:
        """Append one chunk's output (its series ids are renumbered when the columns are built)."""
        self._parts.append((len(self.series), sink))
        self.infos.extend(infos)
        self.series.extend(sink.series)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(sid int32, step int64, wall float64, value float64)`` over all chunks.

        Consumes the chunks: each is copied into the result and released, so the peak memory is
        the result plus one chunk, not twice the result.
        """
        parts = self._parts
        total = sum(len(s.sid) for _, s in parts)
        sid = np.empty(total, np.int32)
        step = np.empty(total, np.int64)
        wall = np.empty(total, np.float64)
        value = np.empty(total, np.float64)
        pos = 0
        while parts:
            base, sink = parts.pop(0)
            n = len(sink.sid)
            sid[pos : pos + n] = np.frombuffer(sink.sid, dtype=np.int32) + np.int32(base)
            step[pos : pos + n] = np.frombuffer(sink.step, dtype=np.int64)
            wall[pos : pos + n] = np.frombuffer(sink.wall, dtype=np.float64)
            value[pos : pos + n] = np.frombuffer(sink.value, dtype=np.float64)
            pos += n
            del sink
        return sid, step, wall, value


Pieces = list[tuple[list[FileInfo], ValueSink]]


def _parse_chunk(jobs: Sequence[Job], context: ParseContext) -> tuple[Pieces, ParseStats]:
    """Parse one chunk with ``context``'s templates; return its pieces and the work it did."""
    chunk_context = ParseContext(context.templates, ParseStats())
    pieces = parse_batch(jobs, chunk_context)
    return pieces, chunk_context.stats


def _chunks(jobs: Sequence[Job], n_chunks: int) -> list[list[Job]]:
    """Split into contiguous chunks of about equal bytes (order kept for deterministic output)."""
    total = sum(max(j[3], 1) for j in jobs)
    target = total / n_chunks
    out: list[list[Job]] = [[]]
    acc = 0.0
    for job in jobs:
        if acc >= target * len(out) and len(out) < n_chunks:
            out.append([])
        out[-1].append(job)
        acc += max(job[3], 1)
    return [c for c in out if c]


def _can_fork() -> bool:
    # fork shares the already imported protobuf modules, so workers start in milliseconds;
    # elsewhere (macOS/Windows) we stay single-process rather than pay a spawn + re-import.
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def default_workers() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cpu_times() -> tuple[int, int] | None:
    """``(idle, total)`` CPU time of the whole machine so far, in clock ticks (Linux), else None."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    ticks = [int(x) for x in fields[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    return ticks[3] + ticks[4], sum(ticks[:8])


def idle_workers(since: tuple[int, int] | None = None) -> int:
    """How many processes to parse with: 1 plus the CPUs other jobs leave idle.

    With ``since`` (a :func:`cpu_times` sample taken before our own scan of the logdir), the
    idle share of the machine's CPU time since then counts: during the scan this process
    keeps one CPU busy, so on an idle 2-CPU machine half the time is idle and a second
    process pays; when another job keeps the other CPU busy nothing is idle and one process
    is used. Without a usable sample, the 1-minute load average stands in (CPUs minus load).

    Extra processes only pay when they get a CPU of their own: on a machine already busy with
    other jobs, two of our processes share the CPU time one would get and add the cost of
    forking and sending results back (measured: 5.6 s instead of 4.2 s at 10,000 sessions with
    a load average of ~3.5 on 2 CPUs).
    """
    cpus = default_workers()
    now = cpu_times() if since is not None else None
    if now is not None and now[1] - since[1] >= 20:  # at least ~0.1 s of 2 CPUs' ticks
        n_cpu = min(cpus, os.cpu_count() or cpus)
        idle_cpus = n_cpu * (now[0] - since[0]) / (now[1] - since[1])
        return max(1, min(cpus, 1 + int(idle_cpus + 0.3)))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return cpus
    return max(1, min(cpus, int(cpus - load + 0.5)))


def parse_files(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    cpu_since: tuple[int, int] | None = None,
    context: ParseContext | None = None,
) -> ParseResult:
    """Parse ``jobs`` (in order) and return their combined :class:`ParseResult`.

    Args:
        jobs: ``(file_index, path, offset, expected_bytes)`` per file.
        workers: Processes to use; ``None`` = the idle CPUs (:func:`idle_workers`) when the
            work is big enough to pay for starting them, else 1.
        progress: Called with the number of files finished after each chunk.
        cpu_since: A :func:`cpu_times` sample from before the caller's scan (see
            :func:`idle_workers`).
        context: Templates and counters to use and update (a fresh one when ``None``);
            forked workers use a copy of its templates and report their counters back.

    Returns:
        All files' output (chunk order may vary with workers; the model sorts values).
    """
    context = context or ParseContext()
    result = ParseResult()
    if workers is None:
        # Sizes are unknown on a cold read (jobs carry 1 byte per file then): count files.
        big = sum(j[3] for j in jobs) >= PARALLEL_MIN_BYTES or len(jobs) >= PARALLEL_MIN_FILES
        workers = idle_workers(cpu_since) if big else 1
    workers = max(1, min(workers, len(jobs) or 1))
    # Up to 50 chunks (a moving progress bar, balanced processes), but at least ~300 files each:
    # the batch decoder's array work per chunk pays off over many files.
    n_chunks = min(50, len(jobs) // 300)
    if workers > 1 and _can_fork():
        n_chunks = max(n_chunks, min(len(jobs), 4 * workers))  # some for every process
    chunks = _chunks(jobs, max(1, n_chunks))
    if workers == 1 or not _can_fork():
        for chunk in chunks:
            _take(result, _parse_chunk(chunk, context), context, progress)
        return result
    # workers - 1 forked children each parse a contiguous share of the chunks while this process
    # parses its own (a bit smaller: it also unpickles the children's output). Each child sends
    # every chunk's compact output through a pipe as soon as it is done; this process collects
    # what has arrived between its own chunks. Each file lies in one chunk, so the order chunks
    # arrive in does not matter (values are later sorted by run, file name and read position).
    weights = [1.0 - MAIN_SHARE_DISCOUNT] + [1.0] * (workers - 1)
    bounds = [round(len(chunks) * sum(weights[:k]) / sum(weights)) for k in range(workers + 1)]
    mine = chunks[: bounds[1]]
    children = [_Child(chunks[bounds[k] : bounds[k + 1]], context) for k in range(1, workers)]
    try:
        for chunk in mine:
            _take(result, _parse_chunk(chunk, context), context, progress)
            for child in children:
                child.collect(result, progress, block=False)
        for child in children:
            child.collect(result, progress, block=True)
    finally:
        for child in children:
            child.close()
    return result


def _take(
    result: ParseResult,
    parsed: tuple[Pieces, ParseStats],
    context: ParseContext,
    progress: Callable[[int], None] | None,
) -> None:
    pieces, stats = parsed
    context.stats.add(stats)
    n_files = 0
    for infos, sink in pieces:
        result.extend(infos, sink)
        n_files += len(infos)
    if progress:
        progress(n_files)


class _Child:
    """A forked process parsing some chunks; it sends ``(pieces, stats)`` per chunk.

    Messages are length-prefixed pickles over a pipe between this process and its own fork
    (nothing read from a logdir is ever unpickled). A thread here keeps the pipe drained, so
    the child never waits for this process. If the child fails, the chunks it did not deliver
    are parsed here.
    """

    def __init__(self, chunks: list[Sequence[Job]], context: ParseContext) -> None:
        self.chunks = chunks
        self.context = context
        self.done = 0
        self.buf = bytearray()
        self.lock = threading.Lock()
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                os.close(read_fd)
                with os.fdopen(write_fd, "wb") as out:
                    for chunk in chunks:
                        data = pickle.dumps(_parse_chunk(chunk, context), protocol=pickle.HIGHEST_PROTOCOL)
                        out.write(len(data).to_bytes(8, "little"))
                        out.write(data)
                        out.flush()
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self.fd = read_fd
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            data = os.read(self.fd, 1 << 20)
            if not data:
                return
            with self.lock:
                self.buf += data

    def collect(self, result: ParseResult, progress: Callable[[int], None] | None, *, block: bool) -> None:
        """Take the chunks that have arrived (all of them, once the child is done, with ``block``)."""
        if block:
            self.reader.join()
        while True:
            with self.lock:
                if len(self.buf) < 8:
                    break
                size = int.from_bytes(self.buf[:8], "little")
                if len(self.buf) < 8 + size:
                    break
                message = bytes(self.buf[8 : 8 + size])
                del self.buf[: 8 + size]
            self.done += 1
            _take(result, pickle.loads(message), self.context, progress)
        if block and self.done < len(self.chunks):  # the child failed: parse the rest here
            for chunk in self.chunks[self.done :]:
                _take(result, _parse_chunk(chunk, self.context), self.context, progress)
            self.done = len(self.chunks)

    def close(self) -> None:
        if self.pid > 0 and self.done < len(self.chunks):  # interrupted: its output is not wanted
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:  # pragma: no cover
                pass
        if self.pid > 0:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:  # pragma: no cover
                pass
            self.pid = 0
        self.reader.join()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
