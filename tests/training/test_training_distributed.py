"""keras-tuner chief + two workers on 127.0.0.1 (gRPC) through training.launch, into one logdir."""

from __future__ import annotations

import re

import pytest

from sweep_helpers import run_cli, tuner_trials, write_space

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
