"""Safe output writing: atomic replacement, device and FIFO outputs, paths confined to an output directory.

Rules (the README's "Errors" section says the same to users):

- A regular file (or a new name) is written to a temporary file in the same
  directory and moved over the target only when complete, so a failure or a
  kill never leaves it half-written. Temporary names are
  ``.<name>.<pid>.<random>.hparams-tools.tmp``; every error path removes its
  own, and the next write of the same name removes those of dead processes
  (what a ``kill -9`` leaves behind).
- A character device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is
  written directly and never replaced; a directory, block device or socket is
  refused. A symbolic link is followed: its target is replaced, the link kept.
- Every ``OSError`` (disk full, file too large, read-only file system,
  permission denied, name too long...) becomes one :class:`OutputError` line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Iterator, Sequence

from ._format import show_path
from .errors import OutputError

__all__ = ["atomic_write", "replace_together", "is_stream", "check_writable", "safe_join", "TMP_SUFFIX"]

TMP_SUFFIX = ".hparams-tools.tmp"
_NAME_KEEP = 60  # characters of the target's name kept in a temporary name (NAME_MAX is 255)


def _error(path: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EFBIG:
        reason += " (the file size limit was reached)"
    return OutputError(f"cannot write {show_path(path)}: {reason}")


def _kind(path: Path) -> str:
    """``"new"``, ``"file"``, ``"stream"`` (char device or FIFO), ``"dir"`` or ``"other"``."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the missing directory is named by the caller
        return "new"
    except OSError as exc:
        raise _error(path, exc) from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    return "dir" if stat.S_ISDIR(mode) else "other"


def is_stream(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a character device or FIFO: written in place, nothing written beside it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Refuse early (before long work) an output that :func:`atomic_write` would refuse.

    Returns:
        The path.

    Raises:
        OutputError: for a missing directory, a directory, a block device or
            socket, or a directory we may not write into.
    """
    path = Path(path)
    kind = _kind(path)
    if kind == "stream":
        return path
    if kind == "dir":
        raise OutputError(f"cannot write {show_path(path)}: it is a directory; give a file name")
    if kind == "other":
        raise OutputError(f"cannot write {show_path(path)}: it is not a regular file, character device or FIFO")
    real = Path(os.path.realpath(path))
    parent = real.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {show_path(path)}: directory {show_path(path.parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (kind == "file" and not os.access(real, os.W_OK)):
        raise OutputError(f"cannot write {show_path(path)}: permission denied")
    return path


def _tmp_prefix(name: str) -> str:
    return f".{name[:_NAME_KEEP]}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def _clean_stale(parent: Path, name: str) -> None:
    """Remove temporary files of ``name`` left by processes that died (``kill -9``) while writing it."""
    prefix = _tmp_prefix(name)
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(TMP_SUFFIX)):
            continue
        pid_text = entry[len(prefix):-len(TMP_SUFFIX)].split(".")[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(OSError):
                os.unlink(parent / entry)


def _open_tmp(real: Path, path: Path) -> tuple[int, Path]:
    """Create the temporary file beside ``real`` (the link's target when ``path`` is a symbolic link)."""
    parent = real.parent
    _clean_stale(parent, real.name)
    for _ in range(100):
        tmp = parent / f"{_tmp_prefix(real.name)}{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise _error(path, exc) from None
    raise OutputError(f"cannot write {show_path(path)}: no free temporary name in {show_path(parent)}")


class _Staged:
    """One output being written: a temporary file to rename, or a stream written in place."""

    def __init__(self, path: str | os.PathLike[str], mode: str, encoding: str | None) -> None:
        self.path = Path(path)
        check_writable(self.path)
        self.stream = _kind(self.path) == "stream"
        self.real = self.path if self.stream else Path(os.path.realpath(self.path))
        self.tmp: Path | None = None
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        if self.stream:
            try:
                # no O_CREAT, no O_TRUNC: a device or FIFO is written, never created or replaced
                fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError as exc:
                raise _error(self.path, exc) from None
        else:
            fd, self.tmp = _open_tmp(self.real, self.path)
        try:
            self.fh: IO = os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            self.discard()
            raise

    def close(self) -> None:
        """Flush and close (a full disk often shows only here); temporary files are synced to disk first."""
        try:
            self.fh.flush()
            if self.tmp is not None:
                os.fsync(self.fh.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fh.close()
            raise _error(self.path, exc) from None
        try:
            self.fh.close()
        except OSError as exc:
            raise _error(self.path, exc) from None

    def commit(self) -> None:
        """Move the temporary file over the target (nothing to do for a stream)."""
        if self.tmp is None:
            return
        try:
            # the temporary file is private (0600); give it the mode a plain open() would (or the old file's)
            os.chmod(self.tmp, _final_mode(self.real))
            os.replace(self.tmp, self.real)
        except OSError as exc:
            raise _error(self.path, exc) from None
        self.tmp = None

    def discard(self) -> None:
        """Remove the temporary file (if any); the target is untouched."""
        with contextlib.suppress(Exception):
            self.fh.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            self.tmp = None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing so that it is replaced only by complete content.

    A regular file is written to a temporary file beside it and moved over it
    on success; a character device or FIFO is written directly (never
    replaced). A failure while writing leaves any existing ``path`` untouched
    and removes the temporary file, so nothing already written is ever
    half-overwritten.

    Args:
        path: Final destination.
        mode: ``"w"`` for text or ``"wb"`` for bytes.
        encoding: Text encoding (ignored for binary mode).

    Yields:
        The open (temporary) file.

    Raises:
        OutputError: one line for every reason the output cannot be written
            (missing directory, a directory, disk full, file too large,
            read-only file system, permission denied, name too long...).
    """
    staged = _Staged(path, mode, encoding)
    try:
        try:
            yield staged.fh
        except OSError as exc:  # raised by a write inside the block: ENOSPC, EFBIG...
            raise _error(staged.path, exc) from None
        staged.close()
        staged.commit()
    finally:
        staged.discard()


def replace_together(outputs: Sequence[tuple[str | os.PathLike[str], str | bytes]]) -> None:
    """Write several files that belong together so that a kill never leaves them disagreeing.

    Every content is first written completely to a temporary file. Then the
    old versions of all but the first output are removed, and the temporary
    files are moved in place, first one first. Whatever moment a process is
    killed at, each output that exists is either the complete old version
    together with the old first output, or the new version: a later file
    (e.g. the space file a report shows) never disagrees with the first.

    Args:
        outputs: ``(path, text or bytes)`` pairs; the first is the main file.

    Raises:
        OutputError: as :func:`atomic_write`; nothing is replaced then.
    """
    staged: list[_Staged] = []
    try:
        for path, content in outputs:
            item = _Staged(path, "wb" if isinstance(content, bytes) else "w", "utf-8")
            staged.append(item)
            try:
                item.fh.write(content)
            except OSError as exc:
                raise _error(item.path, exc) from None
            item.close()
        for item in staged[1:]:
            if item.tmp is not None:
                try:
                    os.unlink(item.real)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise _error(item.path, exc) from None
        for item in staged:
            item.commit()
    finally:
        for item in staged:
            item.discard()


def _final_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join ``parts`` under ``root`` and refuse any result that escapes ``root``.

    Names coming from event files (run names, tags) are untrusted; this keeps
    every path we write inside the chosen output directory.

    Raises:
        OutputError: if the joined path resolves outside ``root``.
    """
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise OutputError(f"refusing to write outside {show_path(base)}: {'/'.join(parts)!r}")
    return target
