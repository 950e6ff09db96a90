"""keras-tuner chief + two workers on 127.0.0.1 (gRPC) through training.launch, into one logdir."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from sweep_helpers import ROOT, run_cli, tuner_trials, write_space
from training.gone import SUPERVISED_ENV
from training.launch import free_port

SPACE = """\
method: random
max_trials: 6
seed: 2
parameters:
  learning_rate: {distribution: log_uniform_values, min: 1.0e-3, max: 1.0e-2}
  epochs: {value: 3}
  batch_size: {values: [8, 16]}
"""


@pytest.mark.slow
def test_chief_and_two_workers_share_one_logdir(tmp_path, data_cache, reference):
    space = write_space(tmp_path / "space.yaml", SPACE)
    logdir = tmp_path / "logs"
    proc = run_cli(["--workers", "2", "--", "--space", space, "--logdir", logdir, "--samples-per-class", "8",
                    "--image-size", "16", "--cache-dir", data_cache, "--no-report"], module="training.launch")
    assert proc.returncode == 0, proc.stdout[-3000:]
    tb = reference.assert_matches_tensorboard(logdir)
    trials = tuner_trials(logdir)
    assert len(trials) == 6 and {t["status"] for t in trials.values()} == {"COMPLETED"}
    assert sorted(tb["sessions"]) == sorted(f"trial-{t}" for t in trials)
    assert len({s["group"] for s in tb["sessions"].values()}) == 6
    assert all(s["status"] == "SUCCESS" and "validation/epoch_accuracy" in s["metrics"]
               for s in tb["sessions"].values())
    assert "objective: validation/epoch_accuracy maximize" in tb["description"]
    assert len(list(logdir.glob("events.out.tfevents.*"))) == 1  # only the chief wrote the experiment
    ran = {w: set(re.findall(rf"^\[{w}\] trial (\d+) ", proc.stdout, re.M)) for w in ("tuner0", "tuner1")}
    assert ran["tuner0"] and ran["tuner1"] and not ran["tuner0"] & ran["tuner1"]  # both worked, no trial twice
    assert ran["tuner0"] | ran["tuner1"] == set(trials)
    assert "best trials by validation/epoch_accuracy" in proc.stdout  # the chief's leaderboard
    assert re.search(r"^\[chief\] trial 6/6 \[\d\] .* ETA 0:00, best ", proc.stdout, re.M)  # and its progress


@pytest.mark.slow
def test_a_hand_started_worker_killed_mid_trial_is_noticed_at_once(tmp_path, data_cache, reference):
    """Chief and workers started by hand (keras-tuner's own env variables, no launcher to restart anyone):
    tuner0 is killed -9 during its first trial and never reaped (a zombie) nor restarted. With a silence limit
    of an hour, only the chief's check of the process its heartbeat names can re-queue the trial."""
    space = write_space(tmp_path / "space.yaml", SPACE.replace("epochs: {value: 3}", "epochs: {value: 4}"))
    logdir = tmp_path / "logs"
    args = [sys.executable, "-m", "training.sweep", "--space", str(space), "--logdir", str(logdir),
            "--samples-per-class", "8", "--image-size", "16", "--cache-dir", str(data_cache), "--no-report",
            "--worker-timeout", "3600"]
    base = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(free_port())}
    base.pop(SUPERVISED_ENV, None)
    procs = {}
    try:
        for tuner in ("chief", "tuner0", "tuner1"):
            procs[tuner] = subprocess.Popen(args, env={**base, "KERASTUNER_TUNER_ID": tuner}, cwd=ROOT, text=True,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        beat_file = logdir / ".keras_tuner" / "heartbeats" / "tuner0.json"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                beat = json.loads(beat_file.read_text())
            except (OSError, ValueError):
                beat = {"beat": 0}
            if beat["beat"] >= 2 and beat["pid"] == procs["tuner0"].pid:   # mid-trial: one epoch done
                break
            assert procs["chief"].poll() is None, procs["chief"].communicate()[0][-3000:]
            time.sleep(0.05)
        else:
            raise AssertionError("tuner0 never got into a trial")
        os.kill(procs["tuner0"].pid, signal.SIGKILL)                         # not waited for: a zombie
        chief_out = procs["chief"].communicate(timeout=600)[0]
        tuner1_out = procs["tuner1"].communicate(timeout=120)[0]
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
    assert procs["chief"].returncode == 0 and procs["tuner1"].returncode == 0, chief_out[-3000:]
    assert re.search(rf"^tuner0 is no longer running \(process {procs['tuner0'].pid} on this machine\): trial "
                     rf"{beat['trial']} re-queued$", chief_out, re.M), chief_out[-3000:]
    trials = tuner_trials(logdir)
    assert len(trials) == 6 and {t["status"] for t in trials.values()} == {"COMPLETED"}
    tb = reference.assert_matches_tensorboard(logdir)
    assert sorted(tb["sessions"]) == sorted(f"trial-{t}" for t in trials)   # one session each, none doubled
    assert beat["trial"] in re.findall(r"^trial (\d+) \(", tuner1_out, re.M)  # the survivor ran it
