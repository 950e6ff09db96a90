"""Resume after a real ``kill -9`` in the middle of a trial, and --overwrite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sweep_helpers import ROOT, run_cli, tuner_trials, write_space

SPACE = """\
method: random
max_trials: 3
seed: 1
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-3, max: 1.0e-2}
  epochs: {value: 10}
  batch_size: {value: 8}
"""


def _files(directory):
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in directory.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_resume_after_kill_reruns_only_the_interrupted_trial(tmp_path, data_cache, reference):
    space = write_space(tmp_path / "space.yaml", SPACE)
    logdir = tmp_path / "logs"
    args = ["--space", space, "--logdir", logdir, "--samples-per-class", "8", "--image-size", "16",
            "--cache-dir", data_cache, "--no-report"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "training.sweep", *map(str, args)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # wait until trial 0 is finished and trial 1 is training (its epoch scalars are being written)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if list((logdir / "trial-1" / "train").glob("events.out.tfevents.*")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_at = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert tuner_trials(logdir)["0"]["status"] == "COMPLETED"
    assert tuner_trials(logdir)["1"]["status"] == "RUNNING"
    trial0 = _files(logdir / "trial-0")

    resumed = run_cli(args)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 finished trial(s) kept" in resumed.stdout
    assert _files(logdir / "trial-0") == trial0          # the finished trial was not retrained or touched
    tb = reference.assert_matches_tensorboard(logdir)
    assert sorted(tb["sessions"]) == ["trial-0", "trial-1", "trial-2"]  # no duplicate or partial session
    assert all(s["status"] == "SUCCESS" for s in tb["sessions"].values())
    assert tb["sessions"]["trial-1"]["start_time"] > killed_at            # the interrupted trial ran again
    # exactly one session start per session directory
    from hparams_tools import read_experiment

    exp = read_experiment(logdir)
    assert len(exp.sessions) == 3 and exp.scalars.groupby(["session", "group", "tag"]).step.nunique().max() == 10
    assert {t["status"] for t in tuner_trials(logdir).values()} == {"COMPLETED"}

    # a different command on the same logdir is refused and leaves it intact
    before = _files(logdir)
    other = run_cli([*args, "--strategy", "grid"])
    assert other.returncode == 2 and "other settings (space)" in other.stderr
    assert _files(logdir) == before
    # --overwrite starts afresh
    fresh = run_cli([*args, "--overwrite", "--quiet"])
    assert fresh.returncode == 0, fresh.stderr
    assert all(f not in _files(logdir) or _files(logdir)[f] != v for f, v in trial0.items())
    assert len(read_experiment(logdir).sessions) == 3
