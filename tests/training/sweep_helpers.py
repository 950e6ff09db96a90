"""Helpers shared by the training tests (imported by name; conftest.py only holds fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_space(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(args, *, module="training.sweep", timeout=600, cwd=None, env=None) -> subprocess.CompletedProcess:
    """``python -m <module> <args>`` (``python <args>`` when ``module`` is None) in a subprocess (output as text)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("KERASTUNER_ORACLE_IP", None)
    prefix = ["-m", module] if module else []
    return subprocess.run([sys.executable, *prefix, *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd or ROOT)


def tuner_trials(logdir: Path) -> dict[str, dict]:
    """keras-tuner's own record of each trial (trial.json), by trial id."""
    out = {}
    for f in sorted((Path(logdir) / ".keras_tuner" / "sweep").glob("trial_*/trial.json")):
        t = json.loads(f.read_text())
        out[t["trial_id"]] = t
    return out
