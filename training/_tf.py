"""Importing TensorFlow without its native start-up chatter on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Any, Iterator

__all__ = ["native_stderr_captured", "import_tensorflow"]


@contextlib.contextmanager
def native_stderr_captured(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the duration; replay it if the block fails.

    TensorFlow 2.21's C++ runtime writes oneDNN notes, CUDA probes and absl's
    "log messages before InitializeLog" banner straight to fd 2 while importing
    and initialising devices, whatever ``TF_CPP_MIN_LOG_LEVEL`` says. On a CPU
    laptop that is half a dozen alarming lines before every sweep (and before
    a one-line error message). Nothing is lost when something goes wrong: the
    captured text is written back before the exception propagates.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow(verbose: bool = False) -> Any:
    """Import TensorFlow and initialise its devices, quietly unless ``verbose``; return the module."""
    with native_stderr_captured(enabled=not verbose):
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf
