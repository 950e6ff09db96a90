"""Running the CLI as a real process and checking its one-line errors (shared by tests/commands)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args, preexec_fn=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """``python -m hparams_tools ARGS`` in a subprocess (the real console entry)."""
    env = dict(os.environ, PYTHONWARNINGS="default")
    return subprocess.run([sys.executable, "-m", "hparams_tools", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, preexec_fn=preexec_fn, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess, command: str, *needles: str) -> str:
    """Exit 2, no traceback, exactly one line ``hparams-tools COMMAND: error: ...`` holding every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip("\n").splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"hparams-tools {command}: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
