"""Parse many event files, in this process or in a pool of worker processes.

Parsing is CPU-bound Python (protobuf decoding, CRC checks), so threads do not
help; processes do once a logdir is big enough to repay starting them (forked
workers start in a few tens of milliseconds). Each worker returns compact
column arrays, not per-value objects, so sending results back is cheap.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Callable, Sequence

import numpy as np

from . import events
from ._batch import parse_batch
from .events import FileInfo, ValueSink

__all__ = ["Job", "ParseResult", "parse_files", "PARALLEL_MIN_BYTES"]

#: (file_index, path, offset, expected_bytes)
Job = tuple[int, str, int, int]
#: Parse in several processes only from this much work on (bytes to read, or files on a cold
#: read where sizes are not looked up). Measured with benchmarks/bench_reader.py on a shared
#: 2-CPU machine: at 10,000 Keras sessions (30,000 files) two processes split the CPU work
#: (1.1 s + 1.4 s instead of 2.2 s); at 1,000 sessions the saving is ~0.1 s and is lost as
#: soon as the CPUs are busy with anything else.
PARALLEL_MIN_BYTES = 16 << 20
PARALLEL_MIN_FILES = 6000
#: How much less than an equal share of the chunks the main process parses itself.
MAIN_SHARE_DISCOUNT = 0.1


class ParseResult:
    """Everything parsed from a list of files: file infos, (file, tag) series and value columns.

    ``series[i] = (file_index, tag, plugin, content)``; value column ``sid`` indexes ``series``.
    """

    __slots__ = ("infos", "series", "_parts")

    def __init__(self) -> None:
        self.infos: list[FileInfo] = []
        self.series: list[tuple[int, str, str | None, bytes]] = []
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


def _parse_chunk(jobs: Sequence[Job]) -> tuple[list[tuple[list[FileInfo], ValueSink]], dict[str, int]]:
    before = dict(events.stats)
    pieces = parse_batch(jobs)
    delta = {k: events.stats[k] - before[k] for k in before}
    return pieces, delta


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


def _mp_context() -> multiprocessing.context.BaseContext | None:
    # fork shares the already imported protobuf modules, so workers start fast; elsewhere
    # (macOS/Windows) we stay single-process rather than pay a spawn + re-import per worker.
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def default_workers() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def idle_workers() -> int:
    """CPUs that are idle now (CPUs minus the 1-minute load average, at least 1).

    Extra processes only pay when they get a CPU of their own: on a machine already busy with
    other jobs, two of our processes share the CPU time one would get and add the cost of
    forking and sending results back (measured: 5.6 s instead of 4.2 s at 10,000 sessions with
    a load average of ~3.5 on 2 CPUs).
    """
    cpus = default_workers()
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
) -> ParseResult:
    """Parse ``jobs`` (in order) and return their combined :class:`ParseResult`.

    Args:
        jobs: ``(file_index, path, offset, expected_bytes)`` per file.
        workers: Processes to use; ``None`` = the idle CPUs (:func:`idle_workers`) when the
            work is big enough to pay for starting them, else 1.
        progress: Called with the number of files finished after each chunk.

    Returns:
        All files' output (chunk order may vary with workers; the model sorts values).
    """
    result = ParseResult()
    ctx = _mp_context()
    if workers is None:
        # Sizes are unknown on a cold read (jobs carry 1 byte per file then): count files.
        big = sum(j[3] for j in jobs) >= PARALLEL_MIN_BYTES or len(jobs) >= PARALLEL_MIN_FILES
        workers = idle_workers() if big else 1
    workers = max(1, min(workers, len(jobs) or 1))
    if workers == 1 or ctx is None:
        step = max(1, len(jobs) // 50)
        for start in range(0, len(jobs), step):
            chunk = jobs[start : start + step]
            pieces, _ = _parse_chunk(chunk)
            for infos, sink in pieces:
                result.extend(infos, sink)
            if progress:
                progress(len(chunk))
        return result
    # workers - 1 forked processes take their share of the chunks while this process parses
    # its own share, so no core idles and only the workers' share is sent back by pickling.
    # Several chunks per process balance uneven files and keep a progress bar moving. Each file
    # lies in one chunk, so the order chunks finish in does not matter (values are later
    # sorted by run, file name and read position).
    chunks = _chunks(jobs, min(len(jobs), workers * 10))
    # This process also unpickles and merges the workers' output, so it takes a bit less.
    share = max(0.0, 1.0 / workers - MAIN_SHARE_DISCOUNT)
    mine = [c for i, c in enumerate(chunks) if int((i + 1) * share) > int(i * share)]
    theirs = [c for i, c in enumerate(chunks) if int((i + 1) * share) == int(i * share)]
    with ctx.Pool(workers - 1) as pool:
        pending = pool.imap_unordered(_parse_chunk, theirs)
        for chunk in mine:
            pieces, _ = _parse_chunk(chunk)
            for infos, sink in pieces:
                result.extend(infos, sink)
            if progress:
                progress(len(chunk))
        for pieces, delta in pending:
            n_files = 0
            for infos, sink in pieces:
                result.extend(infos, sink)
                n_files += len(infos)
            for k, v in delta.items():
                events.stats[k] += v
            if progress:
                progress(n_files)
    return result
