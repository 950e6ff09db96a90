"""keras-tuner chief + two workers on 127.0.0.1 (gRPC) through training.launch, into one logdir."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def start_by_hand(tmp_path, data_cache, *extra) -> tuple[dict, Path]:
    """Chief, tuner0 and tuner1 started by hand (keras-tuner's own env variables, no launcher) on 127.0.0.1."""
    space = write_space(tmp_path / "space.yaml", SPACE.replace("epochs: {value: 3}", "epochs: {value: 4}"))
    logdir = tmp_path / "logs"
    args = [sys.executable, "-m", "training.sweep", "--space", str(space), "--logdir", str(logdir),
            "--samples-per-class", "8", "--image-size", "16", "--cache-dir", str(data_cache), "--no-report", *extra]
    base = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": str(free_port())}
    base.pop(SUPERVISED_ENV, None)
    procs = {tuner: subprocess.Popen(args, env={**base, "KERASTUNER_TUNER_ID": tuner}, cwd=ROOT, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for tuner in ("chief", "tuner0", "tuner1")}
    return procs, logdir


def tuner0_mid_trial(procs: dict, logdir) -> dict:
    """tuner0's heartbeat once it has finished the first epoch of a trial."""
    beat_file = logdir / ".keras_tuner" / "heartbeats" / "tuner0.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            beat = json.loads(beat_file.read_text())
        except (OSError, ValueError):
            beat = {"beat": 0}
        if beat["beat"] >= 2 and beat["pid"] == procs["tuner0"].pid:
            return beat
        assert procs["chief"].poll() is None, procs["chief"].communicate()[0][-3000:]
        time.sleep(0.05)
    raise AssertionError("tuner0 never got into a trial")


def stop_all(procs: dict) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.kill()
        p.wait()


def assert_every_trial_once(logdir, reference) -> dict:
    trials = tuner_trials(logdir)
    assert len(trials) == 6 and {t["status"] for t in trials.values()} == {"COMPLETED"}
    tb = reference.assert_matches_tensorboard(logdir)
    assert sorted(tb["sessions"]) == sorted(f"trial-{t}" for t in trials)   # one session each, none doubled
    return trials


@pytest.mark.slow
def test_a_hand_started_worker_killed_mid_trial_is_noticed_at_once(tmp_path, data_cache, reference):
    """tuner0 is killed -9 during a trial and never reaped (a zombie) nor restarted. With a silence limit
    of an hour, only the chief's check of the process its heartbeat names can re-queue the trial."""
    procs, logdir = start_by_hand(tmp_path, data_cache, "--worker-timeout", "3600")
    try:
        beat = tuner0_mid_trial(procs, logdir)
        os.kill(procs["tuner0"].pid, signal.SIGKILL)                         # not waited for: a zombie
        chief_out = procs["chief"].communicate(timeout=600)[0]
        tuner1_out = procs["tuner1"].communicate(timeout=120)[0]
    finally:
        stop_all(procs)
    assert procs["chief"].returncode == 0 and procs["tuner1"].returncode == 0, chief_out[-3000:]
    assert re.search(rf"^tuner0 is no longer running \(process {procs['tuner0'].pid} on this machine\): trial "
                     rf"{beat['trial']} re-queued$", chief_out, re.M), chief_out[-3000:]
    assert_every_trial_once(logdir, reference)
    assert beat["trial"] in re.findall(r"^trial (\d+) \(", tuner1_out, re.M)  # the survivor ran it


@pytest.mark.slow
def test_a_worker_back_after_the_sweep_ended_stops_instead_of_waiting(tmp_path, data_cache, reference):
    """tuner0 is paused mid-trial; the chief re-queues its trial after the silence limit, tuner1 finishes the
    sweep and the chief exits. Let go, tuner0 drops its stale trial and, finding no chief, stops with one line
    (keras-tuner's client alone would wait an hour)."""
    procs, logdir = start_by_hand(tmp_path, data_cache, "--worker-timeout", "5")
    try:
        beat = tuner0_mid_trial(procs, logdir)
        os.kill(procs["tuner0"].pid, signal.SIGSTOP)
        chief_out = procs["chief"].communicate(timeout=600)[0]
        procs["tuner1"].communicate(timeout=120)
        os.kill(procs["tuner0"].pid, signal.SIGCONT)
        tuner0_out = procs["tuner0"].communicate(timeout=180)[0]
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
        stop_all(procs)
    assert procs["chief"].returncode == 0, chief_out[-3000:]
    assert re.search(rf"^tuner0 silent for \d+ s \(limit \d+ s\): trial {beat['trial']} re-queued$", chief_out, re.M)
    assert_every_trial_once(logdir, reference)
    assert procs["tuner0"].returncode == 1, tuner0_out[-3000:]
    last = tuner0_out.strip().splitlines()[-1]
    assert last.startswith("training.sweep: error: the chief at 127.0.0.1:") and "this worker stops" in last, \
        tuner0_out[-3000:]
    assert "Traceback" not in tuner0_out
