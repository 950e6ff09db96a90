"""Incremental state of a logdir: its runs, event files, read offsets and parsed values.

A *run* is a directory holding at least one event file (TensorBoard's rule);
its name is the path relative to the logdir, ``"/"``-separated, ``"."`` for the
logdir itself. Files are kept per run in name order.

:meth:`LogdirState.update` scans the tree and parses only what is new: bytes
appended to known files (from the offset where the last read stopped, which is
the start of an incomplete record if there was one), new files and new runs.
Directory listings are reused while a directory's mtime is older than the time
it was listed, by a margin (file system mtimes come from a coarse clock, so a
file created just after a listing may not move the mtime past it). A file that
shrank or vanished makes the next update a full re-read, the only way to forget
its old values exactly.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ._parallel import Job, cpu_times, parse_files
from ._templates import ParseContext
from .events import SeriesEntry
from .records import Damage, is_event_file_name

__all__ = ["LogdirState", "FileEntry"]

# A listing is trusted only for directories last modified this long before it was taken
# (mtime clock granularity and skew margin).
_RACY_NS = 2_000_000_000


@dataclass(slots=True)
class FileEntry:
    """One event file: its run, where the next read starts, and its damage so far."""

    path: str
    run: str
    end: int = 0
    size: int = 0
    records: int = 0
    damage: list[Damage] = field(default_factory=list)


class LogdirState:
    """Runs, files, (file, tag) series and value columns parsed so far from one logdir."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        #: Verified templates and work counters, kept across updates (and full re-reads).
        self.context = ParseContext()
        self._reset()

    def _reset(self) -> None:
        self.files: list[FileEntry] = []
        self.file_index: dict[str, int] = {}
        self.runs: dict[str, list[int]] = {}
        # path -> (listed at, subdirectories as (path, run), event file paths)
        self._dirs: dict[str, tuple[int, list[tuple[str, str]], list[str]]] = {}
        # plugin None until the tag's first metadata in that file has been seen (hparams
        # contents are decoded objects).
        self.series: list[SeriesEntry] = []
        self.series_index: dict[tuple[int, str], int] = {}
        self.segments: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.version = 0  # bumped whenever anything new was parsed
        self._found: list[tuple[str, str]] | None = None  # the last walk's event files
        self._found_checked: list[tuple[str, str]] | None = None  # ... as of the last update
        self._found_sizes: list[int] = []  # their sizes as parsed
        self._damage: tuple[int, list[Damage]] | None = None  # (version, damage) cache
        self._dir_damage: dict[str, Damage] = {}  # directories the last walk could not list

    # -- scanning -------------------------------------------------------------------------------
    def _list_dir(self, path: str, run: str, check: bool) -> tuple[list[tuple[str, str]], list[str]]:
        """Return ``(subdirectories as (path, run), event file paths)`` of ``path``, sorted by name.

        With ``check``, a cached listing is reused when the directory has not been modified
        since (with a margin for coarse mtime clocks) the time it was listed.
        """
        cached = self._dirs.get(path)
        if check and cached is not None:
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                self._dirs.pop(path, None)
                return [], []
            if mtime < cached[0] - _RACY_NS:
                return cached[1], cached[2]
        listed_at = time.time_ns()
        subdirs: list[str] = []
        names: list[str] = []
        try:
            with os.scandir(path) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            subdirs.append(entry.name)
                        elif is_event_file_name(entry.name) and entry.is_file():
                            names.append(entry.name)
                    except OSError:
                        continue
        except OSError as exc:
            # Reported like an unreadable file (its runs are missing, the user should know).
            self._dir_damage[path] = Damage(path, 0, f"cannot read directory: {exc.strerror or exc}; its runs are skipped")
            return [], []
        subdirs.sort()
        names.sort()
        sep = os.sep
        prefix = "" if run == "." else run + "/"
        children = [(path + sep + sub, prefix + sub) for sub in subdirs]
        files = [path + sep + name for name in names]
        self._dirs[path] = (listed_at, children, files)
        return children, files

    def _dirs_unchanged(self) -> bool:
        """Whether no directory listed so far has been modified (or removed) since its listing."""
        stat = os.stat
        try:
            for path, (listed_at, _, _) in self._dirs.items():
                if stat(path).st_mtime_ns >= listed_at - _RACY_NS:
                    return False
        except OSError:
            return False
        return True

    def _scan(self) -> list[tuple[str, str]]:
        """Walk the logdir; return ``(path, run)`` of every event file, runs in path order.

        When no directory changed since the last walk, that walk's list is returned (the same
        object), after one ``stat`` per directory.
        """
        # (a directory that could not be listed is retried on every walk: it has no listing to trust)
        if self._found is not None and not self._dir_damage and self._dirs_unchanged():
            return self._found
        check = bool(self._dirs)
        old_dir_damage, self._dir_damage = self._dir_damage, {}
        out: list[tuple[str, str]] = []
        visited: list[str] = []
        stack = [(os.fspath(self.logdir), ".")]
        while stack:
            path, run = stack.pop()
            visited.append(path)
            children, files = self._list_dir(path, run, check)
            out.extend((f, run) for f in files)
            stack.extend(reversed(children))
        dirs = self._dirs
        self._dirs = {p: dirs[p] for p in visited if p in dirs}  # forget removed directories
        self._found = out
        if self._dir_damage != old_dir_damage:
            self.version += 1
            self._found_checked = None  # report the change even if no file changed
        return out

    # -- updating -------------------------------------------------------------------------------
    def update(
        self,
        *,
        workers: int | None = None,
        progress: Callable[[int, int], Callable[[int], None] | None] | None = None,
    ) -> bool:
        """Scan and parse what is new since the last update.

        Args:
            workers: Worker processes (see :func:`~hparams_tools.io._parallel.parse_files`).
            progress: ``progress(n_files, n_bytes)`` returning a per-chunk callback, or ``None``.

        Returns:
            Whether anything new was parsed (or damage changed).
        """
        cpu_since = cpu_times()  # how idle the machine is during the scan decides the workers
        found = self._scan()
        if found is self._found_checked:
            # Same files as the last update: only their sizes can have changed.
            stat = os.stat
            try:
                if [stat(p).st_size for p, _ in found] == self._found_sizes:
                    return False
            except OSError:  # a file vanished: handled below
                pass
        first = not self.files
        jobs: list[Job] = []
        n_known = len(self.files)
        known_seen = 0
        file_index = self.file_index
        files = self.files
        stat = os.stat
        for path, run in found:
            idx = file_index.get(path)
            if idx is not None:  # a known file: only its size is checked
                known_seen += 1
                entry = files[idx]
                try:
                    size = stat(path).st_size
                except OSError:
                    size = -1
                if size == entry.size:
                    continue
                if size < entry.size:
                    return self._full_reread(workers, progress)
                jobs.append((idx, path, entry.end, size - entry.end))
                continue
            idx = len(self.files)
            self.files.append(FileEntry(path, run))
            self.file_index[path] = idx
            self.runs.setdefault(run, []).append(idx)
            jobs.append((idx, path, 0, 1 if first else _size(path)))
        if known_seen < n_known:  # a file vanished
            return self._full_reread(workers, progress)
        if not jobs:
            self._remember_sizes(found)
            return False
        for run, idxs in self.runs.items():
            idxs.sort(key=lambda i: self.files[i].path)
        callback = progress(len(jobs), sum(j[3] for j in jobs)) if progress else None
        result = parse_files(jobs, workers=workers, progress=callback, cpu_since=cpu_since, context=self.context)
        self._merge(result)
        self._remember_sizes(found)
        self.version += 1
        return True

    def _remember_sizes(self, found: list[tuple[str, str]]) -> None:
        files, file_index = self.files, self.file_index
        self._found_sizes = [files[file_index[p]].size for p, _ in found]
        self._found_checked = found

    def _full_reread(self, workers, progress) -> bool:
        self._reset()
        self.update(workers=workers, progress=progress)
        self.version += 1
        return True

    def _merge(self, result) -> None:
        """Fold a parse result into the state: offsets, damage, series and value columns."""
        for info in result.infos:
            entry = self.files[self.file_index[info.path]]
            start = entry.end
            entry.damage = [d for d in entry.damage if d.offset < start] + info.damage
            entry.end = info.end
            entry.records += info.n_records
            entry.size = info.size
        if not self.series:  # cold read: every series is new, no lookups needed
            self.series = result.series  # ids stay as they are
            self.series_index = {}
            sid, step, wall, value = result.columns()
            if len(sid):
                self.segments.append((sid, step, wall, value))
            return
        if not self.series_index:
            self.series_index = {(e.file, e.tag): i for i, e in enumerate(self.series)}
        remap = np.empty(len(result.series), dtype=np.int32)
        for i, entry in enumerate(result.series):
            key = (entry.file, entry.tag)
            gid = self.series_index.get(key)
            if gid is None:
                gid = self.series_index[key] = len(self.series)
                self.series.append(entry)
            elif self.series[gid].plugin is None and entry.plugin is not None:
                self.series[gid] = entry
            remap[i] = gid
        sid, step, wall, value = result.columns()
        if len(sid):
            self.segments.append((remap[sid], step, wall, value))

    # -- views ----------------------------------------------------------------------------------
    @property
    def damage(self) -> list[Damage]:
        """All damage found so far, by file then offset."""
        if self._damage is None or self._damage[0] != self.version:
            files = [d for e in sorted(self.files, key=lambda e: e.path) for d in e.damage]
            self._damage = (self.version, sorted(self._dir_damage.values(), key=lambda d: d.path) + files)
        return list(self._damage[1])

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All value columns ``(series id, step, wall_time, value)`` in read order."""
        if len(self.segments) > 1:
            self.segments = [tuple(np.concatenate(cols) for cols in zip(*self.segments))]
        if not self.segments:
            return (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        return self.segments[0]


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1
