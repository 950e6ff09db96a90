"""Every command that reads a logdir reports each damaged record as one warning line and goes on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hparams_tools.io.writer import write_session


@pytest.fixture()
def damaged_logdir(tmp_path):
    logdir = tmp_path / "logs"
    for i in range(12):
        write_session(logdir / f"run-{i}", {"lr": 10.0 ** -(1 + i % 4), "units": 8 * (1 + i % 3)},
                      scalars={"validation": {"epoch_accuracy": [0.1, 0.2 + 0.05 * (i % 5)]}})
    (logdir / "run-0" / "events.out.tfevents.0.garbage").write_bytes(b"not an event file at all" * 4)
    return logdir


@pytest.mark.parametrize("command", [["export"], ["plot", "slices"], ["analyze"]])
def test_damage_is_one_warning_line_and_the_command_succeeds(tmp_path, damaged_logdir, command):
    out = tmp_path / ("out.png" if command[0] == "plot" else "out.csv")
    args = [*command, str(damaged_logdir), "--quiet"] + (["-o", str(out)] if command[0] != "analyze" else [])
    proc = subprocess.run([sys.executable, "-m", "hparams_tools", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith(f"hparams-tools {command[0]}: warning: ")
    assert "events.out.tfevents.0.garbage" in warnings[0] and "at byte 0 (skipped)" in warnings[0]
    assert "Traceback" not in proc.stderr
